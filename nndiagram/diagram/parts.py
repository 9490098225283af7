"""Pieces the neuron and network views share: input nodes, ⋮ nodes, output nodes."""

from __future__ import annotations

import itertools
from collections.abc import Hashable

from .. import notation
from ..model import Network
from ..notation import Sym
from .dot import Drawing
from .elide import Column


def sym_label(drawing: Drawing, sym: Sym) -> str:
    return drawing.text(sym.html(), sym.plain())


def dots(drawing: Drawing, key: Hashable, name: str) -> None:
    """The ⋮ that stands for the units a large column does not draw."""
    t = drawing.theme
    drawing.node(key, name, "⋮", shape="plaintext", fontsize=18, fontcolor=t.muted, width=0.3)


def edge_style(drawing: Drawing, *ends: int | None) -> dict[str, str | None]:
    """Edges touching a ⋮ node are dashed and muted: they stand for many edges."""
    if None in ends:
        return {"style": "dashed", "color": drawing.theme.muted}
    return {}


def inputs(drawing: Drawing, network: Network, shown: Column) -> None:
    for k in shown:
        if k is None:
            dots(drawing, ("x", None), "x_dots")
            continue
        name = network.naming.input(k)
        if network.naming.input_names:  # the spec's own names: user text, shown literally
            label = drawing.user_text(name)
        else:
            label = sym_label(drawing, notation.layer_input(network, 0, k))
        drawing.node(("x", k), name, label, shape="circle", margin=0.02)


def output(drawing: Drawing, network: Network, unit: int | None) -> None:
    """The tutorial's ``output`` / ``output_k`` end of an edge: text, not a neuron."""
    units = network.n_outputs
    if unit is None:
        dots(drawing, ("out", None), "output_dots")
        return
    name = network.naming.output(unit, units)
    sym = Sym("output") if units == 1 else Sym("output", (network.naming.index(unit),))
    drawing.node(("out", unit), name, sym_label(drawing, sym), shape="plaintext")


def caption(drawing: Drawing, key: Hashable, text: str) -> list[Hashable]:
    """A column's caption as a text node on top of its rank (math style only: plain style
    reproduces the tutorial's figures, which have none). Returns the keys drawn.

    A cluster label would be the obvious way, but Graphviz does not keep the order of nodes
    inside a cluster's rank, and the column would be shuffled.
    """
    if drawing.labels != "math":
        return []
    t = drawing.theme
    drawing.node(
        key,
        f"caption_{len(drawing.captions)}",
        drawing.user_text(text),
        shape="plaintext",
        fontname=t.font,
        fontsize=t.edge_font_size,
        fontcolor=t.muted,
        height=0.3,
    )
    drawing.captions.append(key)
    return [key]


def keep_order(drawing: Drawing, keys: list[Hashable]) -> None:
    """Invisible edges inside a rank hold its nodes top to bottom in the given order, so the
    layout never shuffles x_0 below x_3 to save a crossing."""
    for upper, lower in itertools.pairwise(keys):
        drawing.edge(upper, lower, style="invis")
