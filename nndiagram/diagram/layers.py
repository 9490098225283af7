"""The layers view: the vectorised picture, one node per layer with its shapes and equations.

``x ∈ ℝ²`` → [``W^[0] ∈ ℝ^{2×2}``, ``b^[0] ∈ ℝ²``, ``z^[0] = W^[0]x + b^[0]``,
``a^[0] = g^[0](z^[0])``, its parameter count] → … → output, with the network's total under
the figure. Its size depends only on the number of layers.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable

from .. import notation
from ..model import INPUT, Layer, Network, decimal_text
from ..notation import Sym
from ..quoting import Html, escape_html
from .dot import Drawing, Label
from .numbers import fmt
from .placement import knockout

_FUNCTION_NAMES = {"relu": "ReLU", "sigmoid": "σ", "tanh": "tanh", "softmax": "softmax"}


def draw(drawing: Drawing, network: Network) -> None:
    n, t = network, drawing.theme
    x = Sym("x")
    # With skips the chain is one group: dot keeps it on a straight line and the skip edges
    # (weight 0) curve under it, to a ⊕ under the layer they skip or to the stacked input.
    chain = "chain" if n.has_skips else None
    drawing.node(
        "x",
        "x",
        _line(drawing, [(x, ""), (None, " ∈ "), *_space(n.inputs)]),
        shape="plaintext",
        group=chain,
    )
    per_row = row_length(n)
    previous: Hashable = "x"
    for layer in n.layers:
        key = ("layer", layer.index)
        wraps = layer.index > 0 and layer.index % per_row == 0
        drawing.node(
            key,
            f"layer_{n.naming.index(layer.index)}",
            _box(drawing, n, layer),
            shape="box",
            style="rounded,filled",
            fillcolor=t.neuron_fill,
            margin="0.12,0.06",
            group=chain,
        )
        if layer.concat:
            _concatenation(drawing, n, layer, previous, key)
        else:
            text = _line(drawing, [(_input(n, layer.index), "")])
            if wraps:
                # A row's first layer: the edge comes back from the bottom of the row above's
                # last layer to this one's top, straight through the gap between the rows,
                # its label on it (a plain label would drag the line through a label node).
                drawing.edge(
                    previous,
                    key,
                    taillabel=knockout(text, t.background),
                    labelangle=0,
                    labeldistance=8,
                    constraint=False,
                    tailport="s",
                    headport="n",
                )
            else:
                drawing.edge(previous, key, label=text)
        if layer.add is not None:
            _addition(drawing, n, layer, key)
        previous = key
    drawing.node("out", "output", "output", shape="plaintext", group=chain)
    last = n.layers[-1]
    drawing.edge(previous, "out", label=_line(drawing, [(_value(n, last), "")]))
    if per_row < len(n.layers):
        _rows(drawing, n, per_row)
    drawing.label = drawing.user_text(f"{_count(n.parameter_count)} in total")


ROW_ASPECT = 3.0  # a wrapped figure is at most this many times as wide as it is tall
WRAP_FROM = 3  # layers: shallower networks stay on one row
COLUMN_WIDTH = 185.0  # points a layer box and its edge take across (measured on the specs)
ROW_HEIGHT = 150.0  # points a row of boxes takes down


def row_length(network: Network) -> int:
    """Layers per row: all of them, or for a deep chain the most that keep the figure within
    ``ROW_ASPECT``: 3 layers fold into rows of 2, 8 into rows of 3, 12 into rows of 5.

    >>> from nndiagram.model import Network
    >>> [row_length(Network.from_sizes([2] * (d + 1))) for d in (2, 3, 4, 8, 12)]
    [2, 2, 2, 3, 5]
    """
    depth = len(network.layers)
    chain = all(layer.add is None and not layer.concat for layer in network.layers)
    if depth < WRAP_FROM or not chain:
        return depth
    for per_row in range(depth, 0, -1):
        rows = -(-depth // per_row)
        if (per_row + 2) * COLUMN_WIDTH <= ROW_ASPECT * rows * ROW_HEIGHT:
            return per_row
    return 1


def _rows(drawing: Drawing, network: Network, per_row: int) -> None:
    """Fold the chain into rows: every row starts in the column after ``x`` (an invisible
    edge from it), and each column keeps its rows top to bottom."""
    depth = len(network.layers)
    drawing.layout["splines"] = "line"
    drawing.layout["nodesep"] = 0.6  # the gap between rows holds the returning edge's label
    for start in range(per_row, depth, per_row):
        drawing.edge("x", ("layer", start), style="invis", weight=0)
    for column in range(per_row):
        keys: list[Hashable] = [("layer", i) for i in range(column, depth, per_row)]
        with drawing.subgraph(rank="same"):
            drawing.mention(keys)
            for upper, lower in itertools.pairwise(keys):
                drawing.edge(upper, lower, style="invis")


def _source_node(source: int) -> Hashable:
    return "x" if source == INPUT else ("layer", source)


def _concatenation(
    drawing: Drawing, network: Network, layer: Layer, previous: Hashable, key: Hashable
) -> None:
    """The stacked input as one node of stacked cells, ``[a^[1]; x]``, that the previous layer
    and every concatenated output enter (a skip edge, dashed, curving around the layers it
    skips) and that feeds the layer."""
    t = drawing.theme
    stack = ("concat", layer.index)
    symbols = [notation.source_vector(network, source) for source in layer.sources]
    if drawing.labels == "math":
        cells = "".join(
            f'<TR><TD PORT="s{i}">{_line(drawing, [(sym, "")])}</TD></TR>'
            for i, sym in enumerate(symbols)
        )
        label: Label = Html(
            f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">{cells}</TABLE>'
        )
    else:
        label = "\n".join(sym.plain() for sym in symbols)
    drawing.node(
        stack,
        f"concat_{network.naming.index(layer.index)}",
        label,
        shape="plaintext" if drawing.labels == "math" else "box",
        fontsize=t.edge_font_size,
        group="chain",
    )
    math = drawing.labels == "math"
    drawing.edge(
        previous,
        stack,
        label=_line(drawing, [(symbols[0], "")]),
        headport="s0:w" if math else None,
    )
    # The skip edges carry no symbol: the cell each one enters names it (three labels on
    # three curves leaving x together crowded onto each other).
    for position, source in enumerate(layer.concat):
        drawing.edge(
            _source_node(source),
            stack,
            style="dashed",
            headport=f"s{position + 1}:w" if math else None,
            weight=0,
            **{"class": "skip concat"},
        )
    widths = " + ".join(str(network.width(s)) for s in layer.sources)
    drawing.edge(stack, key, label=_line(drawing, [(None, f"stacked: {widths}")]))


def _addition(drawing: Drawing, network: Network, layer: Layer, key: Hashable) -> None:
    """``+ a^[k]``: the skip edge (dashed, around the layers it skips) into a ⊕ that enters
    the layer, whose ``z`` row says where the sum goes."""
    assert layer.add is not None
    t = drawing.theme
    plus = ("add", layer.index)
    drawing.node(
        plus,
        f"add_{network.naming.index(layer.index)}",
        "+",
        shape="circle",
        fixedsize=True,
        width=0.3,
        fontsize=t.edge_font_size + 2,
        fontname=t.font,
    )
    # No symbol on the skip edge: the block's z row names what it adds (``+ a^[0]``), and a
    # label on a curve that crosses another skip's curve can land on the crossing.
    drawing.edge(
        _source_node(layer.add),
        plus,
        style="dashed",
        weight=0,
        **{"class": "skip add"},
    )
    drawing.edge(plus, key, arrowsize=0.6)  # the ⊕ right before its block


def _count(parameters: int) -> str:
    return f"{parameters:,} parameter{'' if parameters == 1 else 's'}"


def _input(network: Network, layer: int) -> Sym:
    if layer == 0:
        return Sym("x")
    return notation.vector(network, notation.layer_input_base(network, layer), layer - 1)


def _stacked(network: Network, layer: Layer) -> list[Piece]:
    """``a^[1]``, or the stacked ``[a^[1]; x]`` a concatenating layer multiplies."""
    if not layer.concat:
        return [(_input(network, layer.index), "")]
    out: list[Piece] = [(None, "[")]
    for position, source in enumerate(layer.sources):
        if position:
            out.append((None, "; "))
        out.append((notation.source_vector(network, source), ""))
    return [*out, (None, "]")]


def _value(network: Network, layer: Layer) -> Sym:
    base = "z" if layer.activation.is_identity else "a"
    return notation.vector(network, base, layer.index)


def _space(*dims: int) -> list[tuple[Sym | None, str]]:
    """``ℝ^{2×3}``: real numbers with the shape as superscript."""
    return [(None, "ℝ"), (None, "^" + "×".join(str(d) for d in dims))]


Piece = tuple[Sym | None, str]


def _line(drawing: Drawing, pieces: list[Piece]) -> Label:
    """Join symbols and literal text; a literal starting with ``^`` is a superscript."""
    math = drawing.labels == "math"
    out = []
    for sym, text in pieces:
        if sym is not None:
            out.append(sym.html() if math else sym.plain())
        elif text.startswith("^"):
            sup = text[1:]
            out.append(f"<SUP>{escape_html(sup)}</SUP>" if math else f"^{sup}")
        else:
            out.append(str(escape_html(text)) if math else text)
    return Html("".join(out)) if math else "".join(out)


def _box(drawing: Drawing, network: Network, layer: Layer) -> Label:
    n, i = network, layer.index
    w, b, z = (notation.vector(n, base, i) for base in ("W", "b", "z"))
    rows = [
        [(w, ""), (None, " ∈ "), *_space(layer.units, layer.fan_in)],
        [(b, ""), (None, " ∈ "), *_space(layer.units)],
        [(z, ""), (None, " = "), (w, ""), *_stacked(n, layer), (None, " + "), (b, "")]
        + (
            [] if layer.add is None else [(None, " + "), (notation.source_vector(n, layer.add), "")]
        ),
    ]
    choice = layer.activation
    if not choice.is_identity:
        g: Sym | None = notation.vector(n, "g", i)
        name = _FUNCTION_NAMES.get(choice.name)
        if choice.name == "leaky_relu":
            name = f"LeakyReLU({decimal_text(choice.alpha or 0.0)})"
        function: list[Piece] = [(g, "")] if name is None else [(None, name)]
        rows.append(
            [
                (notation.vector(n, "a", i), ""),
                (None, " = "),
                *function,
                (None, "("),
                (z, ""),
                (None, ")"),
            ]
        )
    caption = n.layer_caption(layer)
    count = f"{layer.units}·{layer.fan_in} + {layer.units} = {_count(layer.parameter_count)}"
    notes = [count, *_number_rows(drawing, layer)]
    if drawing.labels != "math":
        return "\n".join([caption, *(str(_line(drawing, r)) for r in rows), *notes])
    t = drawing.theme
    muted = f'<FONT FACE="{t.font}" POINT-SIZE="{t.edge_font_size:g}" COLOR="{t.muted}">'
    cells = [
        f"<TR><TD>{muted}{escape_html(caption)}</FONT></TD></TR>",
        *(f"<TR><TD>{_line(drawing, r)}</TD></TR>" for r in rows),
        *(f"<TR><TD>{muted}{escape_html(note)}</FONT></TD></TR>" for note in notes),
    ]
    return Html('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1">' + "".join(cells) + "</TABLE>")


def _number_rows(drawing: Drawing, layer: Layer) -> list[str]:
    """With real numbers, a layer's matrices as their size and spread rather than entries:
    ``‖W‖`` (Frobenius norm) and the range of ``W``, of ``b`` and of the sample's ``a``."""
    values = drawing.numbers
    if values is None:
        return []
    import numpy as np  # only figures with numbers pay for it

    W, b = values.params[f"W{layer.index}"], values.params[f"b{layer.index}"]
    rows = [
        f"‖W‖ = {fmt(float(np.linalg.norm(W)))}, W ∈ [{fmt(W.min())}, {fmt(W.max())}]",
        f"b ∈ [{fmt(b.min())}, {fmt(b.max())}]",
    ]
    if values.has_sample:
        a = values.a[layer.index]
        rows.append(f"a ∈ [{fmt(a.min())}, {fmt(a.max())}] for sample {values.sample}")
    return rows
