"""Skip connections in the network view (issue 17): lanes above and below the grid.

An ``add`` skip runs from the top of its source column up into a lane above every column,
across the columns it skips, to a ⊕ in that lane over the layer's ``z`` column, and down into
the column: ``z^{[l]} = w^{[l]} a^{[l-1]} + b^{[l]} + a^{[k]}``. A ``concat`` shows the
stacked input itself: the concatenated output's units are drawn again (dashed circles, the
source's own names) under the previous output, where the layer's weights leave from them like
from any input; a dashed skip edge runs from the source column down into a lane under the grid
and back up into the lowest copy (the nearest: the edge never runs along the stack). Each skip
has its own lane, so skips never cross the neurons, the captions or each other; waypoints are
invisible points that the edge passes through unclipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import dataclass

from .. import notation
from ..model import Network
from ..quoting import Value
from . import parts
from .dot import Drawing


@dataclass(frozen=True)
class Skip:
    """One skip edge: from the ``source`` column's node ``start`` to ``end`` (the ⊕, or the
    lowest copy of the concatenated units) in column ``target``."""

    kind: str  # "add" or "concat"
    layer: int
    source: int  # -1: the input
    start: Hashable
    start_column: int
    end: Hashable
    target: int


def ghost(
    drawing: Drawing, network: Network, layer: int, source: int, unit: int | None, size: float
) -> Hashable:
    """A copy of a concatenated unit under the previous output: dashed, with its own name."""
    key = ("ghost", layer, source, unit)
    if unit is None:
        parts.dots(drawing, key, f"concat_{layer}_{source}_dots")
        return key
    sym = notation.source_output(network, source, unit)
    drawing.node(
        key,
        f"concat_{network.naming.index(layer)}_{sym.plain()}",
        parts.sym_label(drawing, sym),
        shape="circle",
        style="dashed",
        fixedsize=True,
        width=round(size / 72, 3),
        color=drawing.theme.muted,
        **{"class": "skip concat copy"},
    )
    return key


def plus(drawing: Drawing, network: Network, layer: int) -> Hashable:
    """The ⊕ of an ``add`` skip, in its lane over the layer's ``z`` column."""
    key = ("plus", layer)
    drawing.node(
        key,
        f"add_{network.naming.index(layer)}",
        "+",
        shape="circle",
        fixedsize=True,
        width=0.3,
        fontname=drawing.theme.font,
        fontsize=drawing.theme.edge_font_size + 2,
        **{"class": "skip add"},
    )
    return key


def with_lanes(
    drawing: Drawing, ranks: list[parts.Rank], skips: list[Skip], rows: int, size: float
) -> tuple[list[parts.Rank], dict[int, list[Hashable]]]:
    """The ranks centred in ``rows`` rows with one lane row per skip (adds above, concats
    below), holding the skip's waypoints in the columns it passes and its ⊕; returns them and
    each skip's path of waypoints (by position in ``skips``)."""
    above = [s for s in skips if s.kind == "add"]
    below = [s for s in skips if s.kind == "concat"]
    paths: dict[int, list[Hashable]] = {i: [] for i in range(len(skips))}
    bodies = []
    for rank in ranks:
        pad = rows - len(rank.keys)
        bodies.append([None] * (pad // 2) + list(rank.keys) + [None] * (pad - pad // 2))
    # Rows empty in every rank (the room a centred column of stacked copies leaves above the
    # others) would only push the figure apart: dropped, the same count from every rank.
    empty = min(next((i for i, key in enumerate(b) if key is not None), len(b)) for b in bodies)
    bodies = [b[empty:] for b in bodies]
    out = []
    for c, (rank, body) in enumerate(zip(ranks, bodies, strict=True)):
        lanes: list[list[Hashable | None]] = [[], []]
        for side, group in ((0, above), (1, below)):
            for skip in group:
                i = skips.index(skip)
                key: Hashable | None = None
                if skip.kind == "add" and c == skip.target:
                    key = skip.end
                elif skip.start_column <= c < skip.target and (
                    skip.kind == "add" or c > skip.start_column
                ):  # an add rises straight from its source; a concat leaves it diagonally
                    key = ("lane", i, c)
                    drawing.invisible(key, f"skip_{i}_{c}", height=round(size / 72, 3))
                    paths[i].append(key)
                lanes[side].append(key)
        out.append(parts.Rank([*lanes[0], *body, *lanes[1]], rank.width, rank.caption))
    return out, paths


def draw_edges(
    drawing: Drawing,
    network: Network,
    skips: list[Skip],
    paths: dict[int, list[Hashable]],
    edge: object,
) -> None:
    """Each skip as one dashed path through its waypoints; an add's ⊕ then enters ``z``."""
    assert callable(edge)
    t = drawing.theme
    for i, skip in enumerate(skips):
        chain = [skip.start, *paths[i], skip.end]
        sym = notation.source_vector(network, skip.source)
        for position, (tail, head) in enumerate(itertools.pairwise(chain)):
            attrs: dict[str, Value | None] = {
                "style": "dashed",
                "color": t.text,
                "class": f"skip {skip.kind}",
                "arrowhead": "normal" if head == skip.end else "none",
                "arrowsize": 0.6,
            }
            if tail != skip.start:
                attrs["tailclip"] = "false"
            if head != skip.end:
                attrs["headclip"] = "false"
            if position == min(1, len(chain) - 2):  # the symbol on the lane, or the one edge
                attrs["label"] = parts.sym_label(drawing, sym)
            edge(tail, head, **attrs)
        if skip.kind == "add":
            edge(
                skip.end,
                ("z", skip.layer, 0),
                arrowsize=0.6,
                color=t.text,
                **{"class": "skip add"},
            )
