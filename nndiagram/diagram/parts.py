"""Pieces the neuron and network views share: input nodes, ⋮ nodes, output nodes."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass

from .. import notation
from ..model import Network
from ..notation import Sym
from ..quoting import Value, escape_html
from . import numbers
from .dot import Drawing, Label
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


def text_width(drawing: Drawing, text: str, size: float | None = None) -> float:
    """A generous estimate of ``text``'s width in points in the node font (DejaVu averages
    about 0.6 em a character), for sizes fixed before Graphviz measures."""
    points = size or drawing.theme.font_size
    return round(0.62 * points * len(text), 1)


def inputs(drawing: Drawing, network: Network, shown: Column, height: float | None = None) -> float:
    """The input column; returns the width of its nodes in points. With ``height`` (the
    network view's grid) every node gets that height and named inputs an ellipse as wide as
    the longest name, so all sizes are known before the layout. With a sample drawn, each
    input shows its value ``x = …`` under its name."""
    names = network.naming.input_names
    sample = drawing.numbers.x if drawing.numbers is not None else None
    width = height or 0.0
    if height is not None and names:
        longest = max((names[k] for k in shown if k is not None), key=len)
        width = max(height, text_width(drawing, longest) + 14)
    for k in shown:
        if k is None:
            dots(drawing, ("x", None), "x_dots")
            continue
        name = network.naming.input(k)
        label: Label
        values = [] if sample is None else [f"x = {numbers.fmt(float(sample[k]))}"]
        if names:  # the spec's own names: user text, shown literally, never italic
            label = drawing.user_text(name)
            if values:
                label = drawing.text(
                    f"{label}<BR/>{escape_html(values[0])}", f"{name}\n{values[0]}"
                )
        else:
            label = with_values(drawing, notation.layer_input(network, 0, k), values)
        if height is None:
            drawing.node(("x", k), name, label, shape="circle", margin=0.02)
        else:
            size = {"width": round(width / 72, 3), "height": round(height / 72, 3)}
            shape = "ellipse" if names else "circle"
            drawing.node(("x", k), name, label, shape=shape, fixedsize=True, **size)
    return width


def output(drawing: Drawing, network: Network, unit: int | None, fixed: bool = False) -> float:
    """The tutorial's ``output`` / ``output_k`` end of an edge: text, not a neuron. With
    ``fixed`` its width is set (and returned, in points) before the layout."""
    units = network.n_outputs
    if unit is None:
        dots(drawing, ("out", None), "output_dots")
        return 0.0
    name = network.naming.output(unit, units)
    sym = Sym("output") if units == 1 else Sym("output", (network.naming.index(unit),))
    width = text_width(drawing, name) + 4
    size = {"fixedsize": True, "width": round(width / 72, 3)} if fixed else {}
    drawing.node(("out", unit), name, sym_label(drawing, sym), shape="plaintext", **size)
    return width


def caption(
    drawing: Drawing, key: Hashable, text: str, height: float | None = None
) -> Hashable | None:
    """A column's caption as a text node on top of its rank (math style only: plain style
    reproduces the tutorial's figures, which have none). Returns the keys drawn.

    A cluster label would be the obvious way, but Graphviz does not keep the order of nodes
    inside a cluster's rank, and the column would be shuffled.
    """
    if drawing.labels != "math":
        return None
    t = drawing.theme
    width = text_width(drawing, text, t.edge_font_size)
    drawing.node(
        key,
        f"caption_{len(drawing.captions)}",
        drawing.user_text(text),
        shape="plaintext",
        fontname=t.font,
        fontsize=t.edge_font_size,
        fontcolor=t.muted,
        fixedsize=True,
        width=round(width / 72, 3),
        height=0.3 if height is None else round(height / 72, 3),
    )
    drawing.captions.append(key)
    drawing.widths[key] = width
    return key


SOFTMAX_WIDTH = 1.8  # the softmax block's width, in multiples of its height


def softmax_block(drawing: Drawing, network: Network, layer: int, height: float) -> Hashable:
    """The layer-wide softmax, one rounded block ``height`` points tall (the network and neuron
    views draw it alike): every z enters it and every a leaves it."""
    t = drawing.theme
    key = ("softmax", layer)
    drawing.node(
        key,
        f"softmax_{network.naming.index(layer)}",
        "softmax",
        shape="box",
        style="rounded,filled",
        fillcolor=t.activation_fill,
        fontname=t.font,
        fontsize=t.edge_font_size,
        fixedsize=True,
        width=round(SOFTMAX_WIDTH * height / 72, 3),
        height=round(height / 72, 3),
    )
    return key


def keep_order(
    drawing: Drawing, keys: list[Hashable], skip: Collection[Hashable] = frozenset()
) -> None:
    """Invisible edges inside a rank hold its nodes top to bottom in the given order, so the
    layout never shuffles x_0 below x_3 to save a crossing (``skip``: nodes whose own edge to
    the next one does that)."""
    for upper, lower in itertools.pairwise(keys):
        if upper not in skip:
            drawing.edge(upper, lower, style="invis")


# --- real numbers (``--params``, ``--input``) --------------------------------------------------


def with_values(drawing: Drawing, sym: Sym, values: list[str], plain: str | None = None) -> Label:
    """A node's symbol with its values on lines below it (``z = …``, ``a = …``); ``plain`` is
    the plain style's text for the symbol when it is not ``sym.plain()``."""
    plain = sym.plain() if plain is None else plain
    if not values:
        return drawing.text(sym.html(), plain)
    # Rows of a table, not <BR/>: a line break sits on the subscript of the line above.
    small = f'<FONT POINT-SIZE="{drawing.theme.edge_font_size:g}">'
    rows = [sym.html(), *(f"{small}{escape_html(v)}</FONT>" for v in values)]
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    math = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{cells}</TABLE>'
    return drawing.text(math, "\n".join([plain, *values]))


def weight_label(drawing: Drawing, sym: Sym, value: float | None) -> Label:
    """An edge's label: the symbol, the value (``--labels values``) or ``symbol = value``."""
    if value is None:
        return sym_label(drawing, sym)
    if drawing.values_only:
        return numbers.fmt(value)
    shown = f" = {numbers.fmt(value)}"
    return drawing.text(sym.html() + str(escape_html(shown)), sym.plain() + shown)


def weight_style(drawing: Drawing, layer: int, unit: int | None, k: int | None) -> dict[str, str]:
    """Colour and width of a drawn weight edge by its value; nothing without parameters (or
    for an edge to or from a ⋮, which stands for many weights)."""
    if drawing.numbers is None or unit is None or k is None:
        return {}
    return numbers.weight_style(drawing.theme, drawing.numbers, layer, unit, k)


def bias_style(drawing: Drawing, layer: int, unit: int | None) -> dict[str, str]:
    if drawing.numbers is None or unit is None:
        return {}
    return numbers.bias_style(drawing.theme, drawing.numbers, layer, unit)


def weight_value(drawing: Drawing, layer: int, unit: int, k: int) -> float | None:
    return None if drawing.numbers is None else drawing.numbers.weight(layer, unit, k)


def bias_value(drawing: Drawing, layer: int, unit: int) -> float | None:
    return None if drawing.numbers is None else drawing.numbers.bias(layer, unit)


def neuron_values(drawing: Drawing, base: str, layer: int, unit: int, both: bool) -> list[str]:
    """``z = …`` (and ``a = …`` when no separate ``a`` node shows it) for a drawn neuron."""
    n = drawing.numbers
    if n is None or not n.has_sample:
        return []
    z, a = float(n.z[layer][unit]), float(n.a[layer][unit])
    if base == "a":
        return [f"a = {numbers.fmt(a)}"]
    if both and z != a:
        return [f"z = {numbers.fmt(z)}", f"a = {numbers.fmt(a)}"]
    return [f"z = {numbers.fmt(z)}"]


def neuron_style(drawing: Drawing, layer: int, unit: int, **attrs: Value) -> dict[str, Value]:
    """A neuron node's attributes, its fill replaced by its activation's when a sample is drawn
    (the keys keep their order, so symbolic figures' DOT is unchanged)."""
    n = drawing.numbers
    if n is None or not n.has_sample:
        return attrs
    return {**attrs, **numbers.neuron_fill(n, layer, unit)}


def values_size(drawing: Drawing, network: Network) -> float:
    """The circle a neuron needs for its symbol and value lines (0 without a sample)."""
    n = drawing.numbers
    if n is None or not n.has_sample:
        return 0.0
    texts = [f"x = {numbers.fmt(float(v))}" for v in n.x] if n.x is not None else []
    for layer in network.layers:
        texts += [f"z = {numbers.fmt(float(v))}" for v in n.z[layer.index]]
        texts += [f"a = {numbers.fmt(float(v))}" for v in n.a[layer.index]]
    longest = max(len(text) for text in texts)
    lines = 3  # the symbol, z and a
    return max(text_width(drawing, "0" * longest, drawing.theme.edge_font_size) + 12, 14.0 * lines)


def longest_weight_text(drawing: Drawing, network: Network) -> str:
    """The longest ``= value`` (or bare value) a weight label will print, for its width."""
    n = drawing.numbers
    assert n is not None
    texts = []
    for layer in network.layers:
        W = n.params[f"W{layer.index}"]
        entries = W.ravel() if W.size <= 1000 else (W.min(), W.max())  # few are labelled
        texts += [numbers.fmt(float(v)) for v in entries]
    longest = max(texts, key=len)
    return longest if drawing.values_only else f" = {longest}"


ROW_WEIGHT = 50  # of the invisible edges that tie the ranks row to row


@dataclass
class Rank:
    """One column of a grid drawing: its caption (if any) and its rows top to bottom, ``None``
    for an empty row."""

    keys: list[Hashable | None]
    width: float  # points: the widest node, as fixed by the view
    caption: Hashable | None = None


def rows_of(ranks: list[Rank], rows: int) -> dict[Hashable, int]:
    """The grid row of every key, each rank centred in ``rows`` rows."""
    return {
        key: (rows - len(rank.keys)) // 2 + r
        for rank in ranks
        for r, key in enumerate(rank.keys)
        if key is not None
    }


def grid(
    drawing: Drawing,
    ranks: list[Rank],
    rows: int,
    height: float,
    ordered_by_edges: Collection[Hashable] = frozenset(),
    ends_only: bool = False,
    tied: Collection[int] = (),
    row_heights: Sequence[float] | None = None,
) -> set[tuple[Hashable, Hashable]]:
    """Each rank ``rows`` rows of ``height`` points (centred, padded with invisible nodes), the
    captions on one line above. Returns the pairs that tie the rows across neighbouring ranks:
    a drawn edge between such a pair should get ``weight=ROW_WEIGHT`` and the others an
    invisible edge (:func:`tie_rest`); a second edge between the same two nodes would make
    Graphviz bend both. Nodes in ``ordered_by_edges`` are held above the next row by a
    drawn edge of the view, so no invisible one is added."""
    columns: list[list[Hashable]] = []
    for c, rank in enumerate(ranks):
        pad = rows - len(rank.keys)
        keys = [None] * (pad // 2) + rank.keys + [None] * (pad - pad // 2)
        order: list[Hashable] = [
            key if key is not None else ("pad", c, r) for r, key in enumerate(keys)
        ]
        with drawing.subgraph(rank="same"):
            for r, key in enumerate(keys):
                if key is None:
                    tall = height if row_heights is None else row_heights[r]
                    drawing.invisible(("pad", c, r), f"pad_{c}_{r}", height=round(tall / 72, 3))
            above = [rank.caption] if rank.caption is not None else []
            drawing.mention([*above, *(key for key in keys if key is not None)])
            keep_order(drawing, [*above, *order], skip=ordered_by_edges)
        columns.append(order)
    captions = [r.caption for r in ranks if r.caption is not None]
    for left, right in itertools.pairwise(captions):
        drawing.edge(left, right, style="invis", weight=100)
    # With ``ends_only`` (every node exactly ``height`` tall), tying the top and bottom rows
    # is enough: a rank whose ends line up with its neighbour's is that rank exactly, and
    # Graphviz has fewer edges to lay out.
    # ``tied``: more rows to tie as well (a folded figure's band edges and caption rows).
    ends = {0, rows - 1, *tied} if ends_only else set(range(rows))
    pairs = itertools.pairwise(columns)
    return {
        pair
        for left, right in pairs
        for r, pair in enumerate(zip(left, right, strict=True))
        if r in ends
    }


def tie_rest(drawing: Drawing, ties: set[tuple[Hashable, Hashable]]) -> None:
    """The row ties no drawn edge carried, as invisible edges."""
    for tail, head in sorted(ties, key=str):
        drawing.edge(tail, head, style="invis", weight=ROW_WEIGHT)


ROW_ASPECT = 3.0  # a folded figure is at most about this many times as wide as it is tall
WRAP_FROM = 4  # layers: shallower networks stay on one row


def layers_per_row(
    depth: int,
    layer_start: dict[int, int],
    n_ranks: int,
    span: Callable[[int, int], float],
    height: Callable[[int], float],
) -> int:
    """How many layers each row of a folded figure holds (the network and neuron views): all
    of them, or for a deep chain whose strip would be wider than ``ROW_ASPECT`` times its
    height, as many as keep the folded figure within it (fewest rows first). ``layer_start``:
    the rank where each layer begins; ``span(first, end)``: the estimated width in points of
    ranks ``first`` to ``end`` (exclusive); ``height(rows)``: the figure's height with that many
    rows of layers. A row after the first starts with the rank before its first layer again."""
    if depth < WRAP_FROM:
        return depth
    ends = [layer_start[i] for i in range(depth)] + [n_ranks]
    for count in range(1, depth + 1):
        per_row = -(-depth // count)
        starts = list(range(0, depth, per_row))
        widest = max(
            span(0 if s == 0 else ends[s] - 1, ends[min(s + per_row, depth)]) for s in starts
        )
        if widest <= ROW_ASPECT * height(len(starts)):
            return per_row
    return 1


def stack_rows(
    segments: list[list[Rank]],
    captions: list[list[Hashable | None]],
    band: int,
    gap: int,
) -> list[Rank]:
    """The rows of a folded figure on shared ranks: rank ``p`` holds every segment's ``p``-th
    rank, each centred in its own band of ``band`` grid rows, with ``gap`` rows between bands
    (the last of them holding the next segment's captions). The first segment's captions stay
    the ranks' own."""
    merged: list[Rank] = []
    for p in range(max(len(segment) for segment in segments)):
        keys: list[Hashable | None] = []
        width = 0.0
        for s, segment in enumerate(segments):
            rank = segment[p] if p < len(segment) else None
            if s:
                keys += [None] * (gap - 1) + [captions[s][p] if rank is not None else None]
            if rank is None:
                keys += [None] * band
                continue
            width = max(width, rank.width)
            top = (band - len(rank.keys)) // 2
            keys += [None] * top + list(rank.keys) + [None] * (band - top - len(rank.keys))
        first_caption = captions[0][p] if p < len(segments[0]) else None
        merged.append(Rank(keys, width, first_caption))
    return merged
