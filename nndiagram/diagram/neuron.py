"""The neuron view: each neuron drawn as the tutorial's single-neuron figure.

A ``z`` box (box3d) with its bias as a small circle above it on the same rank (a flat edge,
where the tutorial used an invisible node), one labelled edge per weight, and the neuron's
equation on its output edge. With an activation the chain reads ``z → a → output``, the last edge
carrying ``a = g(z)``. In a deeper network a hidden neuron without an ``a`` node ends in a
small junction point, so its equation still has an edge of its own.

Like the network view, the ranks share one grid of rows (each neuron two rows: its bias and its
box) so that the weight labels can be placed on their own edges (``placement``). Weight labels
are drawn while a layer has at most ``WEIGHT_LABELS_MAX_EDGES`` of them; beyond that the
drawing notes why they are missing. A softmax neuron's equation names the whole ``z``.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from .. import notation
from ..model import INPUT, Layer, Network
from ..quoting import Html, Value
from . import elide, parts, placement, skips
from .dot import Drawing, Label
from .network import MARGIN, RANK_SLACK, shows_activation

WEIGHT_LABELS_MAX_EDGES = 16  # per layer; the tutorial's two-neuron figure labels 4
BOX_WIDTH = 72.0  # points: the tutorial's box3d, width=1 height=0.7
BOX_HEIGHT = 50.4
BIAS_SIZE = 21.6  # points: the tutorial's bias circle, width=0.3
NODESEP = 18.0  # points between rows without bias circles
# With them: a bias circle's edge to its box may be as short as ``nodesep`` (dot pulls the
# flat edge tight), and must hold its label clear of the circle and of the arrowhead.
BIAS_GAP = placement.LABEL_HEIGHT + placement.ARROW_LENGTH + 7.0
RANKSEP = 40.0
CIRCLE = 36.0  # points: inputs and activation circles


def draw(drawing: Drawing, network: Network) -> None:
    n, t = network, drawing.theme
    shown = [elide.column(size, n.max_neurons) for size in n.sizes]
    drawing.layout["splines"] = "line"
    per_unit = 2 if n.show.bias else 1  # rows: the bias circle above the box

    ranks: list[parts.Rank] = []
    input_width = parts.inputs(drawing, n, shown[0], height=CIRCLE)
    # Inputs on the boxes' rows: neighbouring sources and targets equally far apart.
    x_rows: list[Hashable | None] = []
    for k in shown[0]:
        x_rows += [None] * (per_unit - 1) + [("x", k)]
    # As many inputs as the widest layer has units, or fewer: each on a box's row (x_0 level
    # with z_0). More: on every row, centred (the tutorial's lone neuron has x_0 and x_1 on
    # either side of its box).
    widest = max(len(units) for units in shown[1:])
    ranks.append(
        parts.Rank(x_rows if len(shown[0]) <= widest else x_rows[per_unit - 1 :], input_width)
    )
    feeding: list[tuple[Hashable, int | None]] = [(("x", k), k) for k in shown[0]]
    last = len(n.layers) - 1
    out_rank = {INPUT: 0}  # the rank holding each output, where its skips start
    skip_list: list[skips.Skip] = []
    layers: list[_LayerEdges] = []
    layer_start: dict[int, int] = {}  # the rank of each layer's boxes
    labelled_layers: set[int] = set()
    for layer in n.layers:
        index, units = layer.index, shown[layer.index + 1]
        if layer.concat:  # the stacked input: copies of the concatenated units, under it
            feeding = _stack_copies(
                drawing, n, layer, ranks, out_rank, feeding, skip_list, per_unit
            )
        count = sum(k is not None for _, k in feeding) * sum(u is not None for u in units)
        if n.show.weights and count <= WEIGHT_LABELS_MAX_EDGES:
            labelled_layers.add(index)
        elif n.show.weights and "weights" in n.show.asked:
            drawing.notes.append(
                f"weight labels of layer {n.naming.index(index)} left out: {count} edges "
                f"would carry one (at most {WEIGHT_LABELS_MAX_EDGES} per layer stay legible); "
                "use a smaller max_neurons, the network view, or show: {weights: false}"
            )
        z_rank: list[Hashable | None] = []
        for unit in units:
            z_rank += _declare(drawing, n, index, unit, per_unit)
        if layer.add is not None:  # a lane over the skipped ranks to a ⊕ before this one
            start = ranks[out_rank[layer.add]]
            first = next(
                k for k in start.keys if isinstance(k, tuple) and k[0] in ("x", "junction")
            )
            plus = skips.plus(drawing, n, index)
            skip_list.append(
                # The ⊕ sits over the rank that feeds the box: straight above the box would
                # put its edge through the bias circle; its arrow ends at the box's corner,
                # clear of the bias's arrow.
                skips.Skip(
                    "add", index, layer.add, first, out_rank[layer.add], plus, len(ranks) - 1,
                    port="nw" if n.show.bias else None,
                )
            )  # fmt: skip
        layer_start[index] = len(ranks)
        ranks.append(parts.Rank(z_rank, BOX_WIDTH))
        layers.append(_LayerEdges(index, feeding, units))
        # The ranks after the box: a (if drawn), then the junction or the output. A softmax
        # is one block that every z enters and every a leaves (each a_j depends on all of z),
        # after a point that ends each neuron's equation edge.
        steps = ["a"] if shows_activation(n, layer) else []
        if _is_softmax(n, layer):
            steps = ["zout", "softmax", "a"]
        steps.append("out" if index == last else "junction")
        for step in steps:
            keys: list[Hashable | None] = []
            if step == "softmax":  # level with the middle of the layer's boxes
                keys = [None] * (per_unit * len(units))
                keys[(per_unit - 1) + per_unit * (len(units) - 1) // 2] = parts.softmax_block(
                    drawing, n, index, CIRCLE
                )
                ranks.append(parts.Rank(keys, parts.SOFTMAX_WIDTH * CIRCLE))
                continue
            for unit in units:
                key = _after(drawing, n, step, index, unit)
                keys += [None] * (per_unit - 1) + [key]
            width = CIRCLE if step == "a" else 4.0
            if step == "out":
                width = max(parts.text_width(drawing, "output_00"), CIRCLE)
            ranks.append(parts.Rank(keys, width))
        feeding = [(("junction", index, unit), unit) for unit in units]
        out_rank[index] = len(ranks) - 1

    rows = _units_on_rows(ranks, per_unit)
    paths: dict[int, list[Hashable]] = {}
    ordered: set[Hashable] = set()  # skip edges straight down a rank hold its order
    if skip_list:
        ranks, paths, ordered = skips.with_lanes(drawing, ranks, skip_list, rows, BOX_HEIGHT)
        rows = len(ranks[0].keys)
    if not skip_list and len(n.layers) >= parts.WRAP_FROM:  # a deep chain folds into rows
        row = _row_height(n, False)
        _plan_labels(drawing, n, ranks, layers, rows, labelled_layers, input_width, row)  # gaps
        per_row = _layers_per_row(drawing, n, ranks, layers, layer_start, rows, row)
        if per_row < len(n.layers):
            ranks, rows = _fold(drawing, n, ranks, layers, layer_start, per_row, rows, per_unit)
    flat = {("bias", i, u) for i, units in enumerate(shown[1:]) for u in units} | ordered
    # Padding as tall as what its row holds elsewhere (bias circles on the bias rows): the
    # ranks of boxes are then packed at the pitch the label plan assumes, and nothing else.
    heights = None
    if per_unit == 2 and not skip_list:
        heights = [BOX_HEIGHT if r % 2 else BIAS_SIZE for r in range(rows)]
    ties = parts.grid(drawing, ranks, rows, BOX_HEIGHT, ordered_by_edges=flat, row_heights=heights)
    row = _row_height(n, bool(skip_list))
    plans = _plan_labels(drawing, n, ranks, layers, rows, labelled_layers, input_width, row)

    # The bias label halfway between the circle and the arrowhead, on the shortest bias edge
    # the layout allows (``nodesep``).
    gap = float(drawing.layout["nodesep"] or 0) * 72
    bias_distance = round(max(gap - placement.ARROW_LENGTH, 0) / 2 / 10, 2)

    row_of = parts.rows_of(ranks, rows)
    rank_of = {key: r for r, rank in enumerate(ranks) for key in rank.keys if key is not None}
    pitch = row + gap  # points between neighbouring rows' centres
    ranksep = float(drawing.layout["ranksep"] or 0) * 72

    def port(tail: Hashable, head: Hashable) -> dict[str, Value]:
        """A weight edge steep enough to enter its box through the top (or bottom) would cross
        the bias label above the box: it ends at the box's corner instead. (Not in a layer
        whose weights are labelled: their places are planned for edges to the centre.)"""
        if not n.show.bias or not isinstance(head, tuple) or head[-1] is None:
            return {}  # no bias label, or the head is a ⋮
        if head[1] in plans:
            return {}
        c = rank_of[tail]
        across = ranksep + (ranks[c].width + ranks[c + 1].width) / 2
        rise = (row_of[head] - row_of[tail]) * pitch
        if abs(rise) * BOX_WIDTH <= across * BOX_HEIGHT:
            return {}
        return {"headport": "nw" if rise > 0 else "sw"}

    def edge(tail: Hashable, head: Hashable, **attrs: Value | None) -> None:
        if (tail, head) in ties:
            ties.discard((tail, head))
            attrs["weight"] = parts.ROW_WEIGHT
        drawing.edge(tail, head, **attrs)

    for edges in layers:
        index = edges.index
        for j, unit in enumerate(edges.units):
            for s, (source, k) in enumerate(edges.sources):
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
                edge(
                    source, ("z", index, unit), **place, **style, **port(source, ("z", index, unit))
                )
            if unit is not None and n.show.bias:
                bias = parts.weight_label(
                    drawing, notation.bias(n, index, unit), parts.bias_value(drawing, index, unit)
                )
                edge(
                    ("bias", index, unit),
                    ("z", index, unit),
                    taillabel=placement.knockout(bias, t.background),
                    labelangle=0,
                    labeldistance=bias_distance,
                    **{"color": t.muted, **parts.bias_style(drawing, index, unit)},
                )
        _outputs(drawing, n, edges, final=index == last, edge=edge)
    skips.draw_edges(drawing, n, skip_list, paths, edge)
    parts.tie_rest(drawing, ties)


def _layers_per_row(
    drawing: Drawing,
    network: Network,
    ranks: list[parts.Rank],
    layers: list[_LayerEdges],
    layer_start: dict[int, int],
    rows: int,
    row: float,
) -> int:
    """How many layers each row of the figure holds (``parts.layers_per_row``), estimated from
    the ranks' fixed widths, the ranks each equation edge spans (``minlen``) and the row pitch
    the label plan chose (``nodesep``, ``ranksep`` already set)."""
    n = network
    ranksep = float(drawing.layout.get("ranksep") or RANKSEP / 72) * 72
    pitch = row + float(drawing.layout.get("nodesep") or 0) * 72
    spans = [1] * len(ranks)  # ranks between rank c and c + 1, by the edges' minlen
    last = len(n.layers) - 1
    for edges in layers:
        segments = _chains(drawing, n, edges, final=edges.index == last)
        end = layer_start[edges.index + 1] if edges.index < last else len(ranks)
        starts = [layer_start[edges.index], end - 2]
        for c, (chain, tail, head) in zip(starts, segments, strict=False):
            spans[c] = _minlen(drawing, chain, tail, head, ranksep)
    gap_rows = _gap_rows(drawing, rows, 2 if n.show.bias else 1)

    def width(first: int, end: int) -> float:
        total = sum(ranks[c].width for c in range(first, end))
        return total + sum(spans[c] * ranksep + RANK_SLACK for c in range(first, end - 1))

    def height(count: int) -> float:
        return count * rows * pitch + (count - 1) * gap_rows * pitch + MARGIN

    return parts.layers_per_row(len(n.layers), layer_start, len(ranks), width, height)


def _gap_rows(drawing: Drawing, band: int, per_unit: int) -> int:
    """Grid rows between two bands of a folded figure: an empty row and the captions' row,
    and one more where it keeps bias rows and box rows alternating across bands."""
    return 2 + (band % 2 if per_unit == 2 else 0)


def _fold(
    drawing: Drawing,
    network: Network,
    ranks: list[parts.Rank],
    layers: list[_LayerEdges],
    layer_start: dict[int, int],
    per_row: int,
    rows: int,
    per_unit: int,
) -> tuple[list[parts.Rank], int]:
    """Fold the strip into rows of ``per_row`` layers, as the network view does: a row after
    the first starts with the outputs of the previous row's last layer drawn again (dashed
    circles), under a caption saying so (math style); the next layer's edges leave them.
    Returns the ranks and their number of grid rows."""
    depth = len(network.layers)
    segments: list[list[parts.Rank]] = []
    captions: list[list[Hashable | None]] = []
    for first in range(0, depth, per_row):
        end = layer_start[first + per_row] if first + per_row < depth else len(ranks)
        own = ranks[layer_start[first] if first else 0 : end]
        if not first:
            segments.append(own)
            captions.append([None] * len(own))
            continue
        feeding = ranks[layer_start[first] - 1]
        moved = {key: _carried(drawing, network, key) for key in feeding.keys if key is not None}
        copy = parts.Rank([moved.get(key) if key is not None else None for key in feeding.keys], 0)
        note = parts.caption(
            drawing,
            ("caption", "carried", first),
            f"from the row above · layer {network.naming.index(first - 1)}",
            height=BIAS_SIZE,
        )
        copy.width = max(CIRCLE, drawing.widths.get(note, 0.0) if note is not None else 0.0)
        segments.append([copy, *own])
        captions.append([note, *([None] * len(own))])
        edges = layers[first]
        layers[first] = _LayerEdges(
            first, [(moved[key], k) for key, k in edges.sources], edges.units
        )
    merged = parts.stack_rows(segments, captions, rows, _gap_rows(drawing, rows, per_unit))
    return merged, len(merged[0].keys)


def _carried(drawing: Drawing, network: Network, key: Hashable) -> Hashable:
    """A neuron's output (its junction) drawn again where the next row starts: a dashed
    circle with its ``a`` (or ``z``, when the layer has no activation) and the sample's
    values."""
    assert isinstance(key, tuple)
    _, layer, unit = key
    carried = ("carried", key)
    base = "a" if shows_activation(network, network.layers[layer]) else "z"
    if unit is None:
        parts.dots(drawing, carried, f"{base}_{layer}_dots_carried")
        return carried
    sym = (notation.pre_activation if base == "z" else notation.activation)(network, layer, unit)
    name = notation.network_node(network, base, layer, unit)
    values = parts.neuron_values(drawing, base, layer, unit, base == "z")
    style = parts.neuron_style(
        drawing,
        layer,
        unit,
        shape="circle",
        style="filled,dashed",
        fillcolor=drawing.theme.activation_fill if base == "a" else drawing.theme.neuron_fill,
        fixedsize=True,
        width=round(max(CIRCLE, parts.values_size(drawing, network)) / 72, 3),
    )
    style["style"] = "filled,dashed"
    drawing.node(carried, f"{name}_carried", parts.with_values(drawing, sym, values, name), **style)
    return carried


def _row_height(network: Network, skips: bool) -> float:
    """The mean height of a grid row: bias rows and box rows alternate (their padding as tall
    as what they hold), or every row is a box's."""
    if network.show.bias and not skips:
        return (BOX_HEIGHT + BIAS_SIZE) / 2
    return BOX_HEIGHT


def _is_softmax(network: Network, layer: Layer) -> bool:
    return shows_activation(network, layer) and layer.activation.name == "softmax"


def _units_on_rows(ranks: list[parts.Rank], per_unit: int) -> int:
    """Centre every rank in the grid a whole unit at a time, so that each bias circle lies on
    a bias row and each box, ``a`` or junction on a box row in every rank (centring row
    by row put a 2-unit rank of a 16-row grid half a unit off, its bias on a box row: the row
    ties then squeezed the bias circle onto its box). Returns the number of rows."""
    rows = max(len(rank.keys) for rank in ranks)
    for c, rank in enumerate(ranks):
        units = -(-len(rank.keys) // per_unit)
        top = per_unit * ((rows // per_unit - units) // 2)
        if c == 0 and len(rank.keys) % per_unit:  # inputs on every row: centred row by row
            top = (rows - len(rank.keys)) // 2
        rank.keys[0:0] = [None] * top
        rank.keys.extend([None] * (rows - len(rank.keys)))
    return rows


def _stack_copies(
    drawing: Drawing,
    network: Network,
    layer: Layer,
    ranks: list[parts.Rank],
    out_rank: dict[int, int],
    feeding: list[tuple[Hashable, int | None]],
    skip_list: list[skips.Skip],
    per_unit: int,
) -> list[tuple[Hashable, int | None]]:
    """The concatenated outputs' units drawn again under the rank that feeds the layer (as in
    the network view); returns the layer's whole input, in ``W``'s column order."""
    rank = ranks[out_rank[layer.index - 1]]
    offset = network.width(layer.index - 1)
    stacked = list(feeding)
    for source in layer.concat:
        copies: list[Hashable] = []
        rows: list[Hashable | None] = []
        for k in elide.column(network.width(source), network.max_neurons):
            key = skips.ghost(drawing, network, layer.index, source, k, CIRCLE)
            copies.append(key)
            rows += [None] * (per_unit - 1) + [key]
            stacked.append((key, None if k is None else offset + k))
        rank.keys.extend(rows)
        rank.keys[0:0] = [None] * len(rows)  # the rank's own units stay centred
        rank.width = max(rank.width, CIRCLE)
        offset += network.width(source)
        own = ("x",) if source == INPUT else ("junction",)
        start_rank = ranks[out_rank[source]]
        start = [k for k in start_rank.keys if isinstance(k, tuple) and k[0] in own][-1]
        skip_list.append(
            skips.Skip(
                "concat", layer.index, source, start, out_rank[source], copies[-1],
                out_rank[layer.index - 1],
            )
        )  # fmt: skip
    return stacked


@dataclass(frozen=True)
class _LayerEdges:
    index: int
    sources: list[tuple[Hashable, int | None]]
    units: elide.Column


def _names(network: Network, layer: int, unit: int) -> dict[str, str]:
    """Node names: the tutorial's ``z``/``bias`` or ``z0``/``bias_0`` for one layer, else the
    network names ``z_0_1``/``bias_0_1``."""
    nm = network.naming
    if len(network.layers) == 1:
        z = notation.pre_activation(network, layer, unit).plain()
        suffix = "" if network.n_outputs == 1 else f"_{nm.index(unit)}"
        a = notation.activation(network, layer, unit).plain()
        return {"z": z, "bias": f"bias{suffix}", "a": a, "junction": f"{z}_out"}
    z = nm.neuron(layer, unit)
    suffix = z.removeprefix("z")
    return {
        "z": z,
        "bias": f"bias{suffix}",
        "a": nm.activation(layer, unit),
        "junction": f"out{suffix}",
    }


def _declare(
    drawing: Drawing, network: Network, layer: int, unit: int | None, per_unit: int
) -> list[Hashable | None]:
    """The z box and its bias circle; returns their rows, top to bottom."""
    n, t = network, drawing.theme
    if unit is None:
        parts.dots(drawing, ("z", layer, None), f"z_{layer}_dots")
        return [None] * (per_unit - 1) + [("z", layer, None)]
    names = _names(n, layer, unit)
    z_key = ("z", layer, unit)
    both = not shows_activation(n, n.layers[layer])
    drawing.node(
        z_key,
        names["z"],
        parts.with_values(
            drawing,
            notation.pre_activation(n, layer, unit),
            parts.neuron_values(drawing, "z", layer, unit, both),
        ),
        **parts.neuron_style(
            drawing,
            layer,
            unit,
            shape="box3d",
            width=round(BOX_WIDTH / 72, 3),
            height=round(BOX_HEIGHT / 72, 3),
            fixedsize=True,
            style="filled",
            fillcolor=t.neuron_fill,
            **skips.receives(n, layer),
        ),
    )
    if not n.show.bias:
        return [z_key]
    bias_key = ("bias", layer, unit)
    # "1": the bias is the weight of a constant input, as in the tutorial's figure.
    drawing.node(
        bias_key,
        names["bias"],
        "1",
        shape="circle",
        width=round(BIAS_SIZE / 72, 3),
        fixedsize=True,
        color=t.muted,
        fontcolor=t.muted,
        fontsize=t.edge_font_size,
    )
    return [bias_key, z_key]


def _after(
    drawing: Drawing, network: Network, step: str, layer: int, unit: int | None
) -> Hashable | None:
    """The node after the box: the ``a`` circle, the output text, or a junction point."""
    n, t = network, drawing.theme
    if step == "out":
        parts.output(drawing, n, unit)
        return ("out", unit)
    if unit is None:
        key = (step, layer, None)
        parts.dots(drawing, key, f"{step}_{layer}_dots")
        return key
    names = _names(n, layer, unit)
    if step == "a":
        drawing.node(
            ("a", layer, unit),
            names["a"],
            parts.with_values(
                drawing,
                notation.activation(n, layer, unit),
                parts.neuron_values(drawing, "a", layer, unit, False),
            ),
            **parts.neuron_style(
                drawing,
                layer,
                unit,
                shape="circle",
                style="filled",
                fillcolor=t.activation_fill,
                fixedsize=True,
                width=round(max(CIRCLE, parts.values_size(drawing, n)) / 72, 3),
            ),
        )
        return ("a", layer, unit)
    junction = (step, layer, unit)  # "junction", or "zout" before a softmax block
    name = names["junction"] if step == "junction" else f"{names['z']}_end"
    drawing.node(junction, name, "", shape="point", width=0.05, color=t.edge)
    return junction


def _outputs(
    drawing: Drawing, network: Network, edges: _LayerEdges, *, final: bool, edge: object
) -> None:
    """Each neuron's equation above its output edge; ``a = g(z)`` after an ``a`` node. The
    equations are head/tail labels too (a plain label would make ``dot`` reserve room for it
    across the rows and break the grid), so the edge is lengthened (``minlen``) to hold them."""
    assert callable(edge)
    ranksep = float(drawing.layout.get("ranksep") or RANKSEP / 72) * 72
    segments = _chains(drawing, network, edges, final=final, edge=edge)
    for chain, tail_radius, head_radius in segments:
        minlen = _minlen(drawing, chain, tail_radius, head_radius, ranksep)
        visible = minlen * ranksep
        for tail, head, label in chain:
            is_end = head[0] in ("out", "junction")
            style: dict[str, Value | None] = {
                **parts.edge_style(drawing, None if tail[-1] is None else 0),
                "arrowhead": "none" if (is_end and not final) or head[0] == "zout" else None,
                "minlen": minlen if minlen > 1 else None,
            }
            if label is not None:
                style.update(placement.above(label, visible))
            edge(tail, head, **style)


_Key = tuple[str, int, int | None] | tuple[str, int | None]
_Chain = list[tuple[_Key, _Key, Label | None]]


def _minlen(
    drawing: Drawing, chain: _Chain, tail_radius: float, head_radius: float, ranksep: float
) -> int:
    """How many ranks an equation edge spans so that its label fits between its ends."""
    widest = max((_label_width(drawing, label) for _, _, label in chain), default=0.0)
    length = widest + 2 * placement.NODE_GAP + tail_radius + head_radius
    return max(1, math.ceil((length - tail_radius - head_radius) / ranksep))


def _chains(
    drawing: Drawing,
    network: Network,
    edges: _LayerEdges,
    *,
    final: bool,
    edge: Callable[..., None] | None = None,
) -> list[tuple[_Chain, float, float]]:
    """A layer's equation edges (``z → a`` or ``z → end``, then ``a → end``) with the radii of
    their ends; draws the softmax block's edges through ``edge`` when given."""
    n = network
    index = edges.index
    layer = n.layers[index]
    activation = shows_activation(n, layer)
    softmax = _is_softmax(n, layer)
    end_radius = 2.0
    if final:
        end_radius = parts.text_width(drawing, "output_00") / 2
    first: _Chain = []  # z -> a (or -> end, or -> softmax)
    second: _Chain = []  # a -> end
    for unit in edges.units:
        end: _Key = ("out", unit) if final else ("junction", index, unit)
        a_key: _Key = ("zout", index, unit) if softmax else ("a", index, unit)
        if softmax and edge is not None:  # through the block: z_j's point into it, into a_j
            edge(("zout", index, unit), ("softmax", index), **parts.edge_style(drawing, unit))
            edge(("softmax", index), ("a", index, unit), **parts.edge_style(drawing, unit))
        if unit is None:
            source_dots: _Key = ("z", index, None)
            if activation:
                first.append((source_dots, a_key, None))
                source_dots = ("a", index, None)
            (second if activation else first).append((source_dots, end, None))
            continue
        equation = notation.neuron_equation(
            n,
            index,
            unit,
            with_bias=n.show.bias,
            max_terms=elide.terms(layer.fan_in, n.max_neurons),
        )
        label = drawing.text(equation.html(), equation.plain()) if n.show.equations else None
        if activation:
            first.append((("z", index, unit), a_key, label))
            g = notation.activation_equation(n, index, unit)
            shown = drawing.text(g.html(), g.plain()) if n.show.equations else None
            second.append((("a", index, unit), end, shown))
        else:
            first.append((("z", index, unit), end, label))
    first_head = 2.0 if softmax else CIRCLE / 2 if activation else end_radius
    segments = [(first, BOX_WIDTH / 2, first_head)]
    if activation:
        segments.append((second, CIRCLE / 2, end_radius))
    return segments


def _label_width(drawing: Drawing, label: Label | None) -> float:
    """A generous width (points) of an equation label from its text without markup."""
    if label is None:
        return 0.0
    text = re.sub(r"<[^>]*>", "", str(label)) if isinstance(label, Html) else str(label)
    return parts.text_width(drawing, html.unescape(text), drawing.theme.edge_font_size)


@dataclass(frozen=True)
class _Plan:
    layer: placement.Layer
    fraction: float
    gap: float

    def place(self, label: Value, source: int, target: int) -> dict[str, Value]:
        return placement.on_edge(
            label,
            self.layer.sources[source],
            self.layer.targets[target],
            fraction=self.fraction,
            gap=self.gap,
            tail_radius=self.layer.tail_radius,
            head_radius=self.layer.head_radius,
        )


def _plan_labels(
    drawing: Drawing,
    network: Network,
    ranks: list[parts.Rank],
    layers: list[_LayerEdges],
    rows: int,
    labelled_layers: set[int],
    input_width: float,
    row: float,
) -> dict[int, _Plan]:
    """Row spacing and rank gap for the labelled layers (as the network view does); sets
    dot's ``nodesep`` and ``ranksep``. ``row``: the mean height of a grid row."""
    n = network
    math_style = drawing.labels == "math"
    row_of = parts.rows_of(ranks, rows)
    rank_of = {key: c for c, rank in enumerate(ranks) for key in rank.keys if key is not None}
    widest = max(
        (
            placement.width_of(
                notation.weight(n, i, n.layers[i].units - 1, n.layers[i].fan_in - 1).plain(),
                math_style=math_style,
            )
            for i in labelled_layers
        ),
        default=0.0,
    )
    if drawing.numbers is not None and labelled_layers:  # `= value` after the symbol
        longest = parts.longest_weight_text(drawing, n)
        widest = widest * (not drawing.values_only) + placement.width_of(longest, math_style=False)
    options = []
    for stretch in placement.STRETCHES:
        spacing = (row + (BIAS_GAP if n.show.bias else NODESEP)) * stretch
        built: dict[int, placement.Layer] = {}
        for edges in layers:
            if edges.index not in labelled_layers:
                continue
            sources = [key for key, _ in edges.sources]
            built[edges.index] = placement.Layer(
                tuple(row_of[key] * spacing for key in sources),
                tuple(row_of[("z", edges.index, unit)] * spacing for unit in edges.units),
                frozenset(
                    (s, j)
                    for s, (_, k) in enumerate(edges.sources)
                    for j, unit in enumerate(edges.units)
                    if k is not None and unit is not None
                ),
                widest,
                input_width / 2 if edges.index == 0 else 2.0,
                BOX_WIDTH / 2,
                tail_side=True,
            )
        best = {index: layer.best() for index, layer in built.items()}
        ranksep = RANKSEP
        for edges in layers:
            if edges.index in best:
                c = rank_of[edges.sources[0][0]]
                half = (ranks[c].width + ranks[c + 1].width) / 2
                ranksep = max(ranksep, best[edges.index][1] - half)
        options.append((spacing, ranksep, built, best))
    spacing, ranksep, built, best = placement.choose(options, rows)
    drawing.layout["nodesep"] = round((spacing - row) / 72, 3)
    drawing.layout["ranksep"] = round(ranksep / 72, 3)
    plans = {}
    for edges in layers:
        if edges.index in best:
            c = rank_of[edges.sources[0][0]]
            gap = ranksep + (ranks[c].width + ranks[c + 1].width) / 2
            plans[edges.index] = _Plan(built[edges.index], best[edges.index][0], gap)
    return plans
