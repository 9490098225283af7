"""The network view: every neuron a node, columns left to right, fully connected.

Weight labels and one bias circle per layer are drawn (as ``show`` asks) only while the
drawing is small enough for them to stay legible; math style adds column captions. With
``show`` off, plain style is exactly the tutorial's ``x_0 -> z_0_0 … -> output`` figures.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable

from .. import notation
from ..model import Layer, Network
from . import elide, parts
from .dot import Drawing

WEIGHT_LABELS_MAX_EDGES = 12  # more labelled edges than this is a wall of text
BIAS_MAX_EDGES = 24  # bias edges double the edge count; beyond this they are clutter


def shows_activation(network: Network, layer: Layer) -> bool:
    """An ``a`` node is drawn only when it differs from ``z``."""
    return network.show.activations and not layer.activation.is_identity


def draw(drawing: Drawing, network: Network) -> None:
    n, t = network, drawing.theme
    columns = [elide.column(size, n.max_neurons) for size in n.sizes]
    drawn = elide.drawn_edges(n.sizes, n.max_neurons)
    weights = n.show.weights and drawn <= WEIGHT_LABELS_MAX_EDGES
    biases = n.show.bias and drawn <= BIAS_MAX_EDGES
    if not weights:
        # Straight lines read as a textbook's fully connected layers; with labels, dot's
        # curves are kept, since they pass through each label's place.
        drawing.layout["splines"] = "line"

    last = len(n.layers) - 1
    with drawing.subgraph(rank="same"):
        top = parts.caption(drawing, ("caption", "input"), f"input · {n.inputs}")
        parts.inputs(drawing, n, columns[0])
        bottom = _bias(drawing, n, 0) if biases else []
        parts.keep_order(drawing, [*top, *(("x", k) for k in columns[0]), *bottom])
    feeding: list[tuple[Hashable, int | None]] = [(("x", k), k) for k in columns[0]]

    for layer in n.layers:
        index, shown = layer.index, columns[layer.index + 1]
        activation = shows_activation(n, layer)
        for base in ("z", "a") if activation else ("z",):
            with drawing.subgraph(rank="same"):
                top = []
                if base == "z":
                    top = parts.caption(drawing, ("caption", index), n.layer_caption(layer))
                for unit in shown:
                    _neuron(drawing, n, base, index, unit)
                # The next layer's bias sits under the column that feeds that layer.
                feeds_next = base == ("a" if activation else "z") and index < last
                bottom = _bias(drawing, n, index + 1) if biases and feeds_next else []
                keys = [*top, *((base, index, unit) for unit in shown), *bottom]
                parts.keep_order(drawing, keys)
        for unit in shown:
            for source, k in feeding:
                label = None
                if weights and unit is not None and k is not None:
                    label = parts.sym_label(drawing, notation.weight(n, index, unit, k))
                drawing.edge(
                    source, ("z", index, unit), label=label, **parts.edge_style(drawing, k, unit)
                )
        if biases:
            for unit in shown:
                style = parts.edge_style(drawing, unit)
                drawing.edge(
                    ("b", index), ("z", index, unit), arrowsize=0.4, **{"color": t.muted, **style}
                )
        if activation:
            for unit in shown:
                drawing.edge(
                    ("z", index, unit), ("a", index, unit), **parts.edge_style(drawing, unit)
                )
        feeding = [(("a" if activation else "z", index, unit), unit) for unit in shown]

    for source, unit in feeding:
        parts.output(drawing, n, unit)
        drawing.edge(source, ("out", unit), **parts.edge_style(drawing, unit))
    # Heavy invisible edges pull the captions onto one line above the columns.
    for left, right in itertools.pairwise(drawing.captions):
        drawing.edge(left, right, style="invis", weight=100)


def _neuron(drawing: Drawing, network: Network, base: str, layer: int, unit: int | None) -> None:
    if unit is None:
        parts.dots(drawing, (base, layer, None), f"{base}_{layer}_dots")
        return
    sym = (notation.pre_activation if base == "z" else notation.activation)(network, layer, unit)
    fill = drawing.theme.neuron_fill if base == "z" else drawing.theme.activation_fill
    name = notation.network_node(network, base, layer, unit)
    drawing.node(
        (base, layer, unit),
        name,
        drawing.text(sym.html(), name),  # plain: the tutorial labels neurons by node name
        shape="circle",
        style="filled",
        fillcolor=fill,
        margin=0.02,
    )


def _bias(drawing: Drawing, network: Network, layer: int) -> list[Hashable]:
    """Layer ``layer``'s bias as one small circle; returns its key for the column order."""
    t = drawing.theme
    drawing.node(
        ("b", layer),
        f"bias_{layer}",
        parts.sym_label(drawing, notation.vector(network, "b", layer)),
        shape="circle",
        width=0.42,
        fixedsize=True,
        fontsize=t.edge_font_size - 1,
        color=t.muted,
        fontcolor=t.muted,
    )
    return [("b", layer)]
