"""The network view: every neuron a node, columns left to right, fully connected.

The columns sit on one grid of rows: each column is padded to the tallest with invisible nodes
and neighbouring columns are tied row to row by heavy invisible edges, so every column is
centred and ``dot`` puts each node exactly where :mod:`placement` expects it. Node and caption
sizes are fixed for the same reason. Edges are straight; weight labels sit on them where no
other edge passes (``placement``).

Each layer's bias is one small circle under the column that feeds the layer, whenever
``show.bias`` is on (``show: {bias: false}`` removes them). Weight labels are drawn while there
are at most ``WEIGHT_LABELS_MAX_EDGES`` of them; beyond that the drawing notes why they are
missing. A softmax layer is drawn as one block that every ``z`` of the layer enters and every
``a`` leaves, since each ``a_j`` depends on the whole ``z``. Math style adds column captions;
with ``show`` off, plain style is exactly the tutorial's ``x_0 -> z_0_0 … -> output`` figures.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import dataclass

from .. import notation
from ..model import INPUT, Layer, Network
from ..quoting import Value
from . import elide, parts, placement, skips
from .dot import Drawing
from .elide import Column

WEIGHT_LABELS_MAX_EDGES = 12  # more labelled edges than this is a wall of text
WIDE_STRETCH = 4.0  # past placement.MAX_STRETCH: the widest column gap, in row spacings
NEURON_SIZE = 36.0  # points: a neuron's circle, and the height of every row of the grid
BIAS_SIZE = 27.0  # points: the bias circle
NODESEP = 16.0  # points between rows when no label needs room
RANKSEP = 40.0  # points between columns when no label needs room


def shows_activation(network: Network, layer: Layer) -> bool:
    """An ``a`` node is drawn only when it differs from ``z``."""
    return network.show.activations and not layer.activation.is_identity


def draw(drawing: Drawing, network: Network) -> None:
    n, t = network, drawing.theme
    shown = [elide.column(size, n.max_neurons) for size in n.sizes]
    labelled = sum(
        sum(k is not None for k in a) * sum(j is not None for j in b)
        for a, b in itertools.pairwise(shown)
    )
    weights = n.show.weights and labelled <= WEIGHT_LABELS_MAX_EDGES
    if n.show.equations and "equations" in n.show.asked:
        drawing.notes.append(
            "equations are not drawn in the network view (each neuron is one circle): "
            "use the neuron view for each neuron's equation or the layers view for the "
            "vectorised ones"
        )
    if n.show.weights and not weights and "weights" in n.show.asked:
        drawing.notes.append(
            f"weight labels left out: {labelled} edges would carry one (at most "
            f"{WEIGHT_LABELS_MAX_EDGES} stay legible); use the neuron view, a smaller "
            "max_neurons, or show: {weights: false} to silence this"
        )
    biases = n.show.bias
    size = max(_neuron_size(drawing, n), parts.values_size(drawing, n))
    drawing.layout["splines"] = "line"

    columns: list[parts.Rank] = []
    caption = parts.caption(drawing, ("caption", "input"), f"input · {n.inputs}")
    input_width = parts.inputs(drawing, n, shown[0], height=size)
    keys: list[Hashable] = [("x", k) for k in shown[0]]
    if biases:
        keys.append(_bias(drawing, n, 0))
    columns.append(parts.Rank(keys, max(input_width, _caption_width(caption, drawing)), caption))
    feeding: list[tuple[Hashable, int | None]] = [(("x", k), k) for k in shown[0]]
    last = len(n.layers) - 1
    edges: list[tuple[int, list[tuple[Hashable, int | None]], Column]] = []
    out_column = {INPUT: 0}  # where each output is drawn, for skip connections
    layer_start: dict[int, int] = {}  # the column of each layer's z
    skip_list: list[skips.Skip] = []

    for layer in n.layers:
        index, units = layer.index, shown[layer.index + 1]
        activation = shows_activation(n, layer)
        if layer.concat:  # the stacked input: copies of the concatenated units, under it
            feeding = _stack_copies(
                drawing, n, layer, columns, out_column, feeding, skip_list, size
            )
        if layer.add is not None:
            added = layer.add
            skip_list.append(
                skips.Skip(
                    "add", index, added, _first_key(columns[out_column[added]]),
                    out_column[added], skips.plus(drawing, n, index), len(columns),
                    tuple(("z", index, unit) for unit in units),
                )
            )  # fmt: skip
        caption = parts.caption(drawing, ("caption", index), n.layer_caption(layer))
        for base in ("z", "a") if activation else ("z",):
            for unit in units:
                _neuron(drawing, n, base, index, unit, size)
            keys = [(base, index, unit) for unit in units]
            # The next layer's bias sits under the column that feeds that layer.
            if biases and base == ("a" if activation else "z") and index < last:
                keys.append(_bias(drawing, n, index + 1))
            elif biases and base == "z" and activation and index < last:
                keys.append(None)  # level with its a column, which holds the next bias
            if base == "z":
                layer_start[index] = len(columns)
                columns.append(
                    parts.Rank(keys, max(size, _caption_width(caption, drawing)), caption)
                )
                edges.append((index, feeding, units))
            else:
                if layer.activation.name == "softmax":
                    block = parts.softmax_block(drawing, n, index, size)
                    columns.append(parts.Rank([block], parts.SOFTMAX_WIDTH * size))
                columns.append(parts.Rank(keys, size))
        feeding = [(("a" if activation else "z", index, unit), unit) for unit in units]
        out_column[index] = len(columns) - 1

    outputs: list[Hashable] = []
    output_width = 0.0
    for _, unit in feeding:
        output_width = max(output_width, parts.output(drawing, n, unit, fixed=True))
        outputs.append(("out", unit))
    columns.append(parts.Rank(outputs, max(output_width, size)))

    rows = max(len(c.keys) for c in columns)
    paths: dict[int, list[Hashable]] = {}
    ordered: set[Hashable] = set()  # skip edges straight down a column hold its order
    if skip_list:
        columns, paths, ordered = skips.with_lanes(drawing, columns, skip_list, rows, size)
        rows = len(columns[0].keys)
    plans = _plan_labels(drawing, n, columns, edges, rows, size, input_width) if weights else {}
    per_row = last + 1
    if not skip_list:  # the gaps the labels need (if any) decide the strip's width
        nodesep = float(drawing.layout.get("nodesep") or NODESEP / 72) * 72
        ranksep = float(drawing.layout.get("ranksep") or RANKSEP / 72) * 72
        captions = drawing.labels == "math"
        per_row = layers_per_row(
            n, columns, layer_start, rows, size + nodesep, ranksep, captions=captions
        )
    folded = per_row <= last
    tied: list[int] = []
    if folded:
        band = rows
        columns, rows = _fold(drawing, n, columns, edges, layer_start, per_row, rows, size)
        # Each band's first and last rows and the caption row above it, tied across ranks.
        gap = _gap_rows(drawing)
        for start in range(band + gap, rows, band + gap):
            tied += [start - gap - 1, start - 1, start]
        if weights:  # the same spacing, planned over the folded ranks
            plans = _plan_labels(drawing, n, columns, edges, rows, size, input_width)
    ties = parts.grid(drawing, columns, rows, size, ordered, ends_only=not skip_list, tied=tied)

    def edge(tail: Hashable, head: Hashable, **attrs: Value | None) -> None:
        if (tail, head) in ties:
            ties.discard((tail, head))
            attrs["weight"] = parts.ROW_WEIGHT
        drawing.edge(tail, head, **attrs)

    for index, sources, units in edges:
        for j, unit in enumerate(units):
            for s, (source, k) in enumerate(sources):
                place: dict[str, Value] = {}
                if index in plans and unit is not None and k is not None:
                    value = parts.weight_value(drawing, index, unit, k)
                    weight = parts.weight_label(drawing, notation.weight(n, index, unit, k), value)
                    label = placement.knockout(weight, t.background)
                    place = plans[index].place(label, s, j)
                style = {
                    **parts.edge_style(drawing, k, unit),
                    **parts.weight_style(drawing, index, unit, k),
                }
                edge(source, ("z", index, unit), **place, **style)
            if biases:
                style = {
                    "color": t.muted,
                    **parts.bias_style(drawing, index, unit),
                    **parts.edge_style(drawing, unit),
                }
                edge(("b", index), ("z", index, unit), arrowsize=0.4, **style)
    for layer in n.layers:
        if not shows_activation(n, layer):
            continue
        index, units = layer.index, shown[layer.index + 1]
        for unit in units:
            style = parts.edge_style(drawing, unit)
            if layer.activation.name == "softmax":
                edge(("z", index, unit), ("softmax", index), **style)
                edge(("softmax", index), ("a", index, unit), **style)
            else:
                edge(("z", index, unit), ("a", index, unit), **style)
    for source, unit in feeding:
        edge(source, ("out", unit), **parts.edge_style(drawing, unit))
    skips.draw_edges(drawing, n, skip_list, paths, edge)
    parts.tie_rest(drawing, ties)


RANK_SLACK = 13.0  # points dot leaves between columns beyond ranksep (measured)
MARGIN = 36.0  # points of a strip's height beyond its rows (measured)
CAPTION_BAND = 38.0  # points the captions add above the first row (measured)


def layers_per_row(
    network: Network,
    columns: list[parts.Rank],
    layer_start: dict[int, int],
    rows: int,
    pitch: float,
    ranksep: float,
    *,
    captions: bool,
) -> int:
    """How many layers each row of the figure holds: all of them, or for a deep chain whose
    strip would be wider than ``ROW_ASPECT`` times its height, as many as keep the folded
    figure within it (fewest rows first). Estimated from the columns' fixed widths, the row
    ``pitch`` and the column gap before Graphviz lays anything out (the tests measure the SVG).

    >>> from nndiagram.model import Network
    >>> from nndiagram.diagram.dot import Drawing
    >>> from nndiagram.diagram.theme import theme_for
    >>> def per_row(depth):
    ...     d = Drawing(theme_for("light"), "math")
    ...     draw(d, Network.from_sizes([2] + [3] * (depth - 1) + [1], "tanh"))
    ...     return d.source().count("_carried [label")
    >>> [per_row(depth) for depth in (3, 6, 8, 12)]  # neurons carried: 3 for each fold
    [0, 3, 3, 3]
    """
    top = MARGIN + (CAPTION_BAND if captions else 0.0)
    gap_rows = 2 if captions else 1

    def width(first: int, end: int) -> float:
        gap = ranksep + RANK_SLACK
        return sum(columns[c].width + gap for c in range(first, end)) - gap

    def height(count: int) -> float:
        return count * rows * pitch + (count - 1) * gap_rows * pitch + top

    return parts.layers_per_row(len(network.layers), layer_start, len(columns), width, height)


def _gap_rows(drawing: Drawing) -> int:
    """Rows between two bands of a folded figure: one empty row, and the captions' row when
    the style has captions (math)."""
    return 2 if drawing.labels == "math" else 1


def _fold(
    drawing: Drawing,
    network: Network,
    columns: list[parts.Rank],
    edges: list[tuple[int, list[tuple[Hashable, int | None]], Column]],
    layer_start: dict[int, int],
    per_row: int,
    rows: int,
    size: float,
) -> tuple[list[parts.Rank], int]:
    """Fold the strip into rows of ``per_row`` layers, one under the other. A row after the
    first starts with the previous row's last column again (dashed: the same neurons, carried
    over, with the bias of the layer they feed), under a caption saying so; the edges of that
    layer leave the copies. The rows share the columns' ranks: rank ``p`` holds every row's
    ``p``-th column, each centred in its own band of ``rows`` rows, with an empty row and the
    next row's captions (math style) between bands. Returns the ranks and their number of rows."""
    depth = len(network.layers)
    segments: list[list[parts.Rank]] = []
    captions: list[list[Hashable | None]] = []
    for first in range(0, depth, per_row):
        end = layer_start[first + per_row] if first + per_row < depth else len(columns)
        own = columns[layer_start[first] if first else 0 : end]
        if not first:
            segments.append(own)
            captions.append([rank.caption for rank in own])
            continue
        feeding = columns[layer_start[first] - 1]
        carried = [key for key in feeding.keys if key != ("b", first)]
        bias = [key for key in feeding.keys if key == ("b", first)]
        feeding.keys = carried
        copies: list[Hashable | None] = [_carried(drawing, network, key, size) for key in carried]
        note = parts.caption(
            drawing,
            ("caption", "carried", first),
            f"from the row above · layer {network.naming.index(first - 1)}",
            height=size,
        )
        copy = parts.Rank([*copies, *bias], max(size, _caption_width(note, drawing)))
        segments.append([copy, *own])
        captions.append([note, *(rank.caption for rank in own)])
        for e, (index, sources, units) in enumerate(edges):
            if index == first:
                moved: list[tuple[Hashable, int | None]] = [
                    (("carried", key), k) for key, k in sources
                ]
                edges[e] = (index, moved, units)
    merged = parts.stack_rows(segments, captions, rows, _gap_rows(drawing))
    return merged, len(merged[0].keys)


def _carried(drawing: Drawing, network: Network, key: Hashable, size: float) -> Hashable:
    """A neuron of the previous row drawn again where the next row starts: the same label,
    fill and values as the original, with a dashed outline."""
    assert isinstance(key, tuple)
    base, layer, unit = key
    return _neuron(drawing, network, base, layer, unit, size, carried=True)


def _first_key(rank: parts.Rank) -> Hashable:
    return next(key for key in rank.keys if isinstance(key, tuple) and key[0] in ("x", "z", "a"))


def _stack_copies(
    drawing: Drawing,
    network: Network,
    layer: Layer,
    columns: list[parts.Rank],
    out_column: dict[int, int],
    feeding: list[tuple[Hashable, int | None]],
    skip_list: list[skips.Skip],
    size: float,
) -> list[tuple[Hashable, int | None]]:
    """Draw the concatenated outputs' units again under the previous output (before its
    bias), and return the layer's whole input column, in ``W``'s column order."""
    column = columns[out_column[layer.index - 1]]
    at = len(column.keys)
    if column.keys and column.keys[-1] == ("b", layer.index):
        at -= 1
    offset = network.width(layer.index - 1)
    stacked = list(feeding)
    for source in layer.concat:
        copies = []
        for k in elide.column(network.width(source), network.max_neurons):
            key = skips.ghost(drawing, network, layer.index, source, k, size)
            copies.append(key)
            stacked.append((key, None if k is None else offset + k))
        column.keys[at:at] = copies
        column.keys[0:0] = [None] * len(copies)  # the column's own units stay centred
        at += 2 * len(copies)
        offset += network.width(source)
        source_rank = columns[out_column[source]]
        own = ("x",) if source == INPUT else ("z", "a")
        last_unit = [k for k in source_rank.keys if isinstance(k, tuple) and k[0] in own][-1]
        skip_list.append(
            skips.Skip(
                "concat", layer.index, source, last_unit, out_column[source], copies[-1],
                out_column[layer.index - 1],
            )
        )  # fmt: skip
    return stacked


def _caption_width(caption: Hashable | None, drawing: Drawing) -> float:
    return drawing.widths.get(caption, 0.0) if caption is not None else 0.0


def _neuron_size(drawing: Drawing, network: Network) -> float:
    """The circle every neuron gets: the tutorial's ``z^{[0]}_0`` fits the default; plain
    names (``a_11_7``) may need more."""
    last = len(network.layers) - 1
    widest = max(
        parts.text_width(drawing, notation.network_node(network, "a", last, network.sizes[-1] - 1)),
        parts.text_width(drawing, notation.network_node(network, "z", last, network.sizes[-1] - 1)),
    )
    return max(NEURON_SIZE, round(widest + 10))


def _neuron(
    drawing: Drawing,
    network: Network,
    base: str,
    layer: int,
    unit: int | None,
    size: float,
    *,
    carried: bool = False,
) -> Hashable:
    """A neuron's circle; ``carried``: its copy at the start of a folded figure's next row
    (key ``("carried", key)``, dashed). Returns the key."""
    key: Hashable = (base, layer, unit)
    suffix = "_carried" if carried else ""
    if carried:
        key = ("carried", key)
    if unit is None:
        parts.dots(drawing, key, f"{base}_{layer}_dots{suffix}")
        return key
    sym = (notation.pre_activation if base == "z" else notation.activation)(network, layer, unit)
    fill = drawing.theme.neuron_fill if base == "z" else drawing.theme.activation_fill
    name = notation.network_node(network, base, layer, unit)
    both = base == "z" and not shows_activation(network, network.layers[layer])
    values = parts.neuron_values(drawing, base, layer, unit, both)
    style = parts.neuron_style(
        drawing,
        layer,
        unit,
        shape="circle",
        style="filled",
        fillcolor=fill,
        fixedsize=True,
        width=round(size / 72, 3),
        **(skips.receives(network, layer) if base == "z" else {}),
    )
    if carried:  # dashed, whatever fill a sample gives it
        style["style"] = "filled,dashed"
    # plain: the tutorial's node names
    drawing.node(key, name + suffix, parts.with_values(drawing, sym, values, name), **style)
    return key


def _bias(drawing: Drawing, network: Network, layer: int) -> Hashable:
    """Layer ``layer``'s bias as one small circle; returns its key for the column order."""
    t = drawing.theme
    key = ("b", layer)
    sym = notation.vector(network, "b", layer)
    font_size = t.edge_font_size - (1 if drawing.labels == "math" else 2)
    size = max(BIAS_SIZE, parts.text_width(drawing, sym.plain(), font_size) + 4)
    if drawing.labels == "math":  # b with a superscript: about half its plain width
        size = BIAS_SIZE
    drawing.node(
        key,
        f"bias_{layer}",
        parts.sym_label(drawing, sym),
        shape="circle",
        fixedsize=True,
        width=round(size / 72, 3),
        fontsize=font_size,
        color=t.muted,
        fontcolor=t.muted,
    )
    return key


@dataclass(frozen=True)
class _Plan:
    """Where one layer's weight labels go (see ``placement``)."""

    layer: placement.Layer
    fraction: float
    gap: float
    tail_radius: float
    head_radius: float

    def place(self, label: Value, source: int, target: int) -> dict[str, Value]:
        return placement.on_edge(
            label,
            self.layer.sources[source],
            self.layer.targets[target],
            fraction=self.fraction,
            gap=self.gap,
            tail_radius=self.tail_radius,
            head_radius=self.head_radius,
        )


def _plan_labels(
    drawing: Drawing,
    network: Network,
    columns: list[parts.Rank],
    edges: list[tuple[int, list[tuple[Hashable, int | None]], Column]],
    rows: int,
    size: float,
    input_width: float,
) -> dict[int, _Plan]:
    """Row spacing and column gap for labelled weights: rows move apart until every layer's
    labels fit within ``placement.MAX_STRETCH`` row spacings of gap between the columns. Sets
    dot's ``nodesep`` and ``ranksep`` and returns each layer's plan."""
    n = network
    math_style = drawing.labels == "math"
    widest = max(
        placement.width_of(
            notation.weight(n, layer.index, layer.units - 1, layer.fan_in - 1).plain(),
            math_style=math_style,
        )
        for layer in n.layers
    )
    if drawing.numbers is not None:  # `= value` after the symbol, or the value alone
        longest = parts.longest_weight_text(drawing, n)
        widest = widest * (not drawing.values_only) + placement.width_of(longest, math_style=False)
    rank_of = {key: c for c, column in enumerate(columns) for key in column.keys}
    row_of = parts.rows_of(columns, rows)
    slots = max(min(len(sources) + 1, len(units)) + 1 for _, sources, units in edges)
    base = slots * (placement.LABEL_HEIGHT + 2 * placement.LABEL_GAP)
    options = []
    for stretch in placement.STRETCHES:
        spacing = max(stretch * base, size + NODESEP)
        layers: dict[int, placement.Layer] = {}
        for index, sources, units in edges:
            source_keys = [key for key, _ in sources]
            if n.show.bias:
                source_keys.append(("b", index))
            target_keys = [("z", index, unit) for unit in units]
            layers[index] = placement.Layer(
                tuple(row_of[k] * spacing for k in source_keys),
                tuple(row_of[k] * spacing for k in target_keys),
                frozenset(
                    (s, j)
                    for s, (_, k) in enumerate(sources)
                    for j, unit in enumerate(units)
                    if k is not None and unit is not None
                ),
                widest,
                input_width / 2 if index == 0 else size / 2,
                size / 2,
            )
        best = {index: layer.best() for index, layer in layers.items()}
        # Column centres are ranksep plus half of each column's width apart.
        ranksep = RANKSEP
        for index, sources, _ in edges:
            c = rank_of[sources[0][0]]
            half_widths = (columns[c].width + columns[c + 1].width) / 2
            ranksep = max(ranksep, best[index][1] - half_widths)
        options.append((spacing, ranksep, layers, best))
    chosen = placement.choose(options, rows)
    if not placement.fits(chosen, placement.MAX_STRETCH):
        # The smallest-area fallback can be a strip (real numbers on an elided 3-7-13-1 net:
        # 18:1). Rows further apart first; labels that need more than that are left out.
        loose = next((o for o in options if placement.fits(o, WIDE_STRETCH)), None)
        if loose is None:
            note = (
                "weight labels left out: they would need columns far wider than the figure "
                "is tall; "
                + (
                    "the edges' colour and width carry the weights"
                    if drawing.numbers is not None
                    else "use the neuron view or a smaller max_neurons"
                )
            )
            if note not in drawing.notes:
                drawing.notes.append(note)
            return {}
        chosen = loose
    spacing, ranksep, layers, best = chosen
    drawing.layout["nodesep"] = round((spacing - size) / 72, 3)
    drawing.layout["ranksep"] = round(ranksep / 72, 3)
    plans = {}
    for index, sources, _ in edges:
        c = rank_of[sources[0][0]]
        gap = ranksep + (columns[c].width + columns[c + 1].width) / 2
        tail = input_width / 2 if index == 0 else size / 2
        plans[index] = _Plan(layers[index], best[index][0], gap, tail, size / 2)
    return plans
