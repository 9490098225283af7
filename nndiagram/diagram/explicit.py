"""Explicit graphs (``graph:`` specs) drawn as written, with what is wrong made visible.

Edges a fully connected network would need are added dashed and red; edges that skip or go
back a layer, and edges on a cycle, are drawn thick in orange. A legend under the figure says
what the marks mean and how many problems there are. Each mark also carries an SVG ``class``
(``missing``, ``skipping``) for stylesheets and tests.
"""

from __future__ import annotations

import re

from ..model import ExplicitGraph, Network
from ..notation import Sym
from ..quoting import Html, Value, escape_html
from . import numbers, parts
from .dot import Drawing

_NAME = re.compile(r"(?P<base>[A-Za-z]+)_(?P<first>\d+)(?:_(?P<second>\d+))?\Z")


def draw(drawing: Drawing, network: Network) -> None:
    graph = network.graph
    assert graph is not None
    t = drawing.theme
    last = len(graph.layers) - 1
    where = _positions(graph) if drawing.numbers is not None else {}
    for column, names in enumerate(graph.layers):
        with drawing.subgraph(rank="same"):
            for name in names:
                _node(drawing, name, first=column == 0, last=column == last, at=where.get(name))
            parts.keep_order(drawing, list(names))
    placed = {name for names in graph.layers for name in names}
    for edge in (*graph.edges, *graph.missing):
        for name in (edge.source, edge.target):
            if name not in placed:  # e.g. on a cycle, which has no layer
                placed.add(name)
                _node(drawing, name, first=False, last=False)
    highlighted = _highlighted(graph)
    for edge in graph.edges:
        style: dict[str, Value] = {}
        if (edge.source, edge.target) in highlighted:
            style = {"color": t.skipping, "penwidth": 2.0, "class": "skipping"}
        tail, head = where.get(edge.source), where.get(edge.target)
        if tail is not None and head is not None and head[0] == tail[0] + 1:
            style = {**style, **parts.weight_style(drawing, tail[0], head[1], tail[1])}
        drawing.edge(edge.source, edge.target, **style)
    for edge in graph.missing:
        drawing.edge(
            edge.source,
            edge.target,
            style="dashed",
            color=t.missing,
            penwidth=1.2,
            **{"class": "missing"},
        )


def legend(drawing: Drawing, graph: ExplicitGraph) -> Html | None:
    """The graph's bottom label: the verdict and the key to the marks, or nothing when valid."""
    if graph.is_valid:
        return None
    t = drawing.theme
    counts = [
        (len(graph.missing), "missing edge"),
        (len(graph.skipping), "edge skipping or going back a layer"),
        (len(graph.cycles), "cycle"),
    ]
    verdict = ", ".join(f"{k} {what}{'s' if k > 1 else ''}" for k, what in counts if k)
    rows = [
        (t.text, "not a fully connected feed-forward network: " + verdict),
        (t.edge, "——  edge as written"),
    ]
    if graph.missing:
        rows.append((t.missing, "- - -  missing: a fully connected network needs it"))
    if graph.skipping or graph.cycles:
        rows.append((t.skipping, "━━  skips a layer, goes back, or closes a cycle"))
    cells = "".join(
        f'<TR><TD ALIGN="LEFT"><FONT COLOR="{color}" POINT-SIZE="{t.edge_font_size:g}">'
        f"{escape_html(text)}</FONT></TD></TR>"
        for color, text in rows
    )
    return Html(f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>')


def _highlighted(graph: ExplicitGraph) -> set[tuple[str, str]]:
    marked = {(e.source, e.target) for e in graph.skipping}
    for cycle in graph.cycles:
        marked |= set(zip(cycle, (*cycle[1:], cycle[0]), strict=True))
    return marked


def _positions(graph: ExplicitGraph) -> dict[str, tuple[int, int]]:
    """Each input's and neuron's (column, row): inputs are column 0, the neurons of layer l
    column l + 1, rows in the order drawn. ``W{l}[row of head, row of tail]`` is then the weight
    of an edge between neighbouring columns (the spec builds the layers from these columns)."""
    from ..spec.graph import neuron_columns

    return {
        name: (column, row)
        for column, names in enumerate(neuron_columns(graph))
        for row, name in enumerate(names)
    }


def _node(
    drawing: Drawing, name: str, *, first: bool, last: bool, at: tuple[int, int] | None = None
) -> None:
    t = drawing.theme
    label = drawing.text(_math_label(name), name)
    values = drawing.numbers
    sample = at is not None and values is not None and values.has_sample
    if sample and at is not None and values is not None:  # x, or z (= a: no a nodes here)
        column, row = at
        if column == 0 and values.x is not None:
            shown = f"x = {numbers.fmt(float(values.x[row]))}"
        else:
            shown = f"z = {numbers.fmt(float(values.z[column - 1][row]))}"
        small = f'<FONT POINT-SIZE="{t.edge_font_size:g}">{escape_html(shown)}</FONT>'
        rows = f"<TR><TD>{_math_label(name)}</TD></TR><TR><TD>{small}</TD></TR>"
        table = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>'
        label = drawing.text(table, f"{name}\n{shown}")
    if first:
        drawing.node(name, name, label, shape="circle", margin=0.02)
    elif last and name.startswith("output"):
        drawing.node(name, name, label, shape="plaintext")
    else:
        fill = t.activation_fill if name.startswith("a_") else t.neuron_fill
        style: dict[str, Value] = {"shape": "circle", "style": "filled", "fillcolor": fill}
        if sample and at is not None:
            style = parts.neuron_style(drawing, at[0] - 1, at[1], **style)
        drawing.node(name, name, label, **style, margin=0.02)


def _math_label(name: str) -> str:
    """``z_0_1`` → z with layer [0] and subscript 1, as the network view prints it."""
    match = _NAME.match(name)
    if match is None:
        return escape_html(name)
    base, first, second = match["base"], int(match["first"]), match["second"]
    if second is None:
        return Sym(base, (first,)).html()
    return Sym(base, (int(second),), first).html()
