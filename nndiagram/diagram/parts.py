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


def text_width(drawing: Drawing, text: str, size: float | None = None) -> float:
    """A generous estimate of ``text``'s width in points in the node font (DejaVu averages
    about 0.6 em a character), for sizes fixed before Graphviz measures."""
    points = size or drawing.theme.font_size
    return round(0.62 * points * len(text), 1)


def inputs(drawing: Drawing, network: Network, shown: Column, height: float | None = None) -> float:
    """The input column; returns the width of its nodes in points. With ``height`` (the
    network view's grid) every node gets that height and named inputs an ellipse as wide as
    the longest name, so all sizes are known before the layout."""
    names = network.naming.input_names
    width = height or 0.0
    if height is not None and names:
        longest = max((names[k] for k in shown if k is not None), key=len)
        width = max(height, text_width(drawing, longest) + 14)
    for k in shown:
        if k is None:
            dots(drawing, ("x", None), "x_dots")
            continue
        name = network.naming.input(k)
        if names:  # the spec's own names: user text, shown literally, never italic
            label = drawing.user_text(name)
        else:
            label = sym_label(drawing, notation.layer_input(network, 0, k))
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


def caption(drawing: Drawing, key: Hashable, text: str) -> Hashable | None:
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
        height=0.3,
    )
    drawing.captions.append(key)
    drawing.widths[key] = width
    return key


def keep_order(drawing: Drawing, keys: list[Hashable]) -> None:
    """Invisible edges inside a rank hold its nodes top to bottom in the given order, so the
    layout never shuffles x_0 below x_3 to save a crossing."""
    for upper, lower in itertools.pairwise(keys):
        drawing.edge(upper, lower, style="invis")
