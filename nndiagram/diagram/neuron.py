"""The neuron view: each neuron drawn as the tutorial's single-neuron figure.

A ``z`` box (box3d) with its bias as a small circle on the same rank (a flat edge, where the
tutorial used an invisible node), one labelled edge per weight, and the neuron's equation
on its output edge. With an activation the chain reads ``z → a → output``, the last edge
carrying ``a = g(z)``. In a deeper network a hidden neuron without an ``a`` node ends in a
small junction point, so its equation still has an edge of its own.
"""

from __future__ import annotations

from collections.abc import Hashable

from .. import notation
from ..model import Network
from . import elide, parts
from .dot import Drawing
from .network import shows_activation

WEIGHT_LABELS_MAX_EDGES = 16  # per layer; the tutorial's two-neuron figure labels 4


def draw(drawing: Drawing, network: Network) -> None:
    n = network
    columns = [elide.column(size, n.max_neurons) for size in n.sizes]
    with drawing.subgraph(rank="same"):
        parts.inputs(drawing, n, columns[0])
        parts.keep_order(drawing, [("x", k) for k in columns[0]])
    feeding: list[tuple[Hashable, int | None]] = [(("x", k), k) for k in columns[0]]
    last = len(n.layers) - 1
    for layer in n.layers:
        index, shown = layer.index, columns[layer.index + 1]
        # One rank for the layer's boxes and bias circles; invisible edges keep them in order
        # top to bottom (a flat edge puts its tail above its head).
        with drawing.subgraph(rank="same"):
            previous: Hashable | None = None
            for unit in shown:
                top = _declare(drawing, n, index, unit)
                if previous is not None:
                    drawing.edge(previous, top, style="invis")
                previous = ("z", index, unit)
        outputs: list[tuple[Hashable, int | None]] = []
        for unit in shown:
            if unit is None:
                for source, _ in feeding:
                    drawing.edge(source, ("z", index, None), **parts.edge_style(drawing, None))
                outputs.append((("z", index, None), None))
            else:
                out = _connect(drawing, n, index, unit, feeding, final=index == last)
                outputs.append((out, unit))
        feeding = outputs
    for source, unit in feeding:
        if unit is None:
            parts.output(drawing, n, None)
            drawing.edge(source, ("out", None), **parts.edge_style(drawing, None))


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


def _declare(drawing: Drawing, network: Network, layer: int, unit: int | None) -> Hashable:
    """The z box and its bias circle; returns the key of the topmost of the two."""
    n, t = network, drawing.theme
    if unit is None:
        parts.dots(drawing, ("z", layer, None), f"z_{layer}_dots")
        return ("z", layer, None)
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
            width=1,
            height=0.7,
            style="filled",
            fillcolor=t.neuron_fill,
        ),
    )
    if not n.show.bias:
        return z_key
    bias_key = ("bias", layer, unit)
    drawing.node(
        bias_key,
        names["bias"],
        drawing.text("1", names["bias"]),
        shape="circle",
        width=0.3,
        color=t.muted,
        fontcolor=t.muted,
        fontsize=t.edge_font_size,
    )
    drawing.edge(
        bias_key,
        z_key,
        label=parts.weight_label(
            drawing, notation.bias(n, layer, unit), parts.bias_value(drawing, layer, unit)
        ),
        **{"color": t.muted, **parts.bias_style(drawing, layer, unit)},
    )
    return bias_key


def _connect(
    drawing: Drawing,
    network: Network,
    layer: int,
    unit: int,
    feeding: list[tuple[Hashable, int | None]],
    *,
    final: bool,
) -> Hashable:
    """Weights in, the equation out; returns the key of the node the value leaves from."""
    n, t = network, drawing.theme
    names = _names(n, layer, unit)
    z_key = ("z", layer, unit)
    legible = len(feeding) * n.layers[layer].units <= WEIGHT_LABELS_MAX_EDGES
    for tail, k in feeding:
        weight = None
        if n.show.weights and legible and k is not None:
            value = parts.weight_value(drawing, layer, unit, k)
            weight = parts.weight_label(drawing, notation.weight(n, layer, unit, k), value)
        style = {**parts.edge_style(drawing, k), **parts.weight_style(drawing, layer, unit, k)}
        drawing.edge(tail, z_key, label=weight, **style)

    equation = notation.neuron_equation(
        n,
        layer,
        unit,
        with_bias=n.show.bias,
        max_terms=elide.terms(n.layers[layer].fan_in, n.max_neurons),
    )
    label = drawing.text(equation.html(), equation.plain()) if n.show.equations else None
    source: Hashable = z_key
    if shows_activation(n, n.layers[layer]):
        a_key = ("a", layer, unit)
        drawing.node(
            a_key,
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
                margin=0.02,
            ),
        )
        drawing.edge(z_key, a_key, label=label)
        g = notation.activation_equation(n, layer, unit)
        source, label = a_key, drawing.text(g.html(), g.plain()) if n.show.equations else None
    if final:
        parts.output(drawing, n, unit)
        drawing.edge(source, ("out", unit), label=label)
        return ("out", unit)
    junction = ("junction", layer, unit)
    drawing.node(junction, names["junction"], "", shape="point", width=0.05, color=t.edge)
    drawing.edge(source, junction, label=label, arrowhead="none")
    return junction
