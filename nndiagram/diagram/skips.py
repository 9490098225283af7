"""Skip connections in the network and neuron views (issue 17): lanes over and under the grid.

An ``add`` skip runs from the top of its source column straight up into a lane above every
column, across the columns it skips, to a ⊕ in that lane over the layer's ``z`` column, and
down into the column: ``z^{[l]} = w^{[l]} a^{[l-1]} + b^{[l]} + a^{[k]}``. The sum is
element-wise, so every unit of that ``z`` wears a double outline (:func:`receives`), not only
the one the ⊕'s arrow meets. (A cluster frame around the column read better, but dot does not
keep the order of nodes inside a cluster: the units came out shuffled.) A ``concat`` shows the
stacked input itself: the concatenated output's units are drawn again (dashed circles, the
source's own names) under the previous output, where the layer's weights leave from them like
from any input; a dashed skip edge drops from the source under the columns it skips, into the
shallowest row clear of them (level with its copy when they leave room), and runs level into
the lowest copy (the nearest: the edge never runs along the stack). Each skip has its own
row, so skips never cross the neurons or the captions (two concat lanes may cross where one
must pass under the other's source and above its copy); waypoints are invisible points that
the edge passes through unclipped.
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
from .placement import knockout


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
    into: tuple[Hashable, ...] = ()  # an add's z nodes, top down, when its ⊕ is over them
    port: str | None = None  # where the ⊕'s arrow enters the first z (None: its centre)


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
) -> tuple[list[parts.Rank], dict[int, list[Hashable]], set[Hashable]]:
    """The ranks centred in ``rows`` rows with one lane row per add above them, holding the
    skip's waypoints in the columns it passes and its ⊕; each concat's waypoints go under the
    columns it skips, level with the copy it ends at when those columns leave room (the
    shallowest row clear of them and of earlier lanes; rows are added at the bottom when none
    is). Returns the ranks, each skip's path of waypoints (by position in ``skips``) and the
    nodes whose drawn skip edge to the node right under them holds the rank's order (the
    grid must not add an invisible edge there: a second edge between two nodes bends both)."""
    above = [s for s in skips if s.kind == "add"]
    paths: dict[int, list[Hashable]] = {i: [] for i in range(len(skips))}
    bodies = []
    for rank in ranks:
        pad = rows - len(rank.keys)
        bodies.append([None] * (pad // 2) + list(rank.keys) + [None] * (pad - pad // 2))
    # Rows empty in every rank (the room a centred column of stacked copies leaves above the
    # others) would only push the figure apart: dropped, the same count from every rank.
    empty = min(next((i for i, key in enumerate(b) if key is not None), len(b)) for b in bodies)
    bodies = [b[empty:] for b in bodies]
    for i, skip in enumerate(skips):
        if skip.kind != "concat":
            continue
        between = range(skip.start_column + 1, skip.target)
        row = bodies[skip.target].index(skip.end)
        for c in between:  # under everything the skip passes, earlier lanes included
            used = [r for r, held in enumerate(bodies[c]) if held is not None]
            row = max(row, 1 + max(used, default=-1))
        if row >= len(bodies[0]):
            for body in bodies:
                body.extend([None] * (row + 1 - len(body)))
        for c in between:
            waypoint = ("lane", i, c)
            drawing.invisible(waypoint, f"skip_{i}_{c}", height=round(size / 72, 3))
            bodies[c][row] = waypoint
            paths[i].append(waypoint)
    out = []
    for c, (rank, body) in enumerate(zip(ranks, bodies, strict=True)):
        lanes: list[Hashable | None] = []
        for skip in above:
            i = skips.index(skip)
            key: Hashable | None = None
            if c == skip.target:
                key = skip.end
            elif skip.start_column <= c < skip.target:  # an add rises straight from its source
                key = ("lane", i, c)
                drawing.invisible(key, f"skip_{i}_{c}", height=round(size / 72, 3))
                paths[i].append(key)
            lanes.append(key)
        out.append(parts.Rank([*lanes, *body], rank.width, rank.caption))
    # The lane over an add's source and the ⊕ over z: drawn edges straight down.
    # (No lane when the add's source stands in the column right before z: the neuron view of an
    # add from the layer just below.)
    downward = {(paths[i][0], s.start) for s in above if paths[i := skips.index(s)]}
    downward |= {(s.end, s.into[0]) for s in above if s.into}
    ordered = {
        upper
        for rank in out
        for upper, lower in itertools.pairwise(rank.keys)
        if (upper, lower) in downward
    }
    return out, paths, ordered


def draw_edges(
    drawing: Drawing,
    network: Network,
    skips: list[Skip],
    paths: dict[int, list[Hashable]],
    edge: object,
) -> None:
    """Each skip as one dashed path through its waypoints; an add's ⊕ then enters ``z``
    straight from above (every unit of that ``z`` wears the double ring of :func:`receives`)."""
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
            # The symbol on the lane, as an xlabel on a patch of the background (the lane runs
            # into it from both sides): a plain label would make dot put a rank of label nodes
            # between the columns and push the rows apart. A concat straight into
            # the next column has none: its copies already carry the source's names.
            # An add with no lane labels its one edge, unless another add rises from the
            # same source along the same line (the label would sit on both).
            alone = sum(s.kind == "add" and s.start == skip.start for s in skips) == 1
            if position == 1 or (skip.kind == "add" and len(chain) == 2 and alone):
                attrs["xlabel"] = knockout(parts.sym_label(drawing, sym), t.background)
            if skip.kind == "add" and position == 0:
                # Up from the source in its own column: written top down, as the rank's order
                # runs, so that Graphviz draws it as one straight line; undirected into the
                # lane, or with the arrow at its tail when it rises straight into the ⊕ (the
                # neuron view of an add from the layer right below: no lane).
                tail, head = head, tail
                if tail == skip.end:
                    attrs.update(dir="back", arrowtail="normal", arrowhead=None, headclip=None)
                else:
                    attrs.update(dir="none", tailclip="false", headclip=None)
            edge(tail, head, **attrs)
        if skip.kind == "add":
            into = skip.into[0] if skip.into else ("z", skip.layer, 0)
            attrs = {"arrowsize": 0.6, "color": t.text, "headport": skip.port}
            edge(skip.end, into, **attrs, **{"class": "skip add"})


def receives(network: Network, layer: int) -> dict[str, Value]:
    """A ``z`` node of a layer with an ``add``: a double ring, the mark that every unit gets
    its own entry of the added vector (``z_j + a_j``), not only the one the ⊕'s arrow meets."""
    return {"peripheries": 2} if network.layers[layer].add is not None else {}
