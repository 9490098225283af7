"""Where a weight label goes: on its own edge, where no other edge passes through it.

Between two columns of a fully connected layer every source has an edge to every target. Drawn
straight (``splines=line``), edge ``s → j`` crosses the vertical line at the fraction ``f`` of
the gap at height ``(1 - f)·y_s + f·y_j``. With equally spaced columns and ``f = 1/(n+1)``
(``n`` targets) these heights are ``S·(s·n + j)/(n+1)``: every edge has a slot of its own,
``S/(n+1)`` from the next, source by source; near the heads, ``f = 1 - 1/(m+1)`` does the same
for ``m`` sources. A label centred in its slot sits on its edge and away from every other.

:func:`plan` predicts where ``dot`` will put the nodes (columns centred, ``nodesep`` apart),
tries such fractions, and returns the one that needs the shortest gap between the columns for
no edge to cross another edge's label box, with that gap. Graphviz then places each label as a
``taillabel`` (or ``headlabel``) at ``labeldistance`` along its straight edge with
``labelangle=0`` (:func:`on_edge`). The label is drawn on a patch of the figure's background
(:func:`knockout`), so its edge visibly runs into it from both sides, as in a printed figure.

The tests render a corpus through ``dot`` and check the result (``tests/layout_check.py``):
the prediction only has to be good enough for that check to pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..quoting import Html, Value, escape_html

LABEL_HEIGHT = 16.0  # points: a 10 pt label with a superscript and a subscript, on its patch
LABEL_GAP = 3.0  # points of clear space an edge keeps from a label box it does not own
NODE_GAP = 6.0  # points between a label and the nodes at the ends of its edge
CHAR_WIDTH = 6.0  # points per character of a 10 pt label (a safe average)
SCRIPT_WIDTH = 4.4  # points per character of its sub- and superscripts
ARROW_LENGTH = 7.0  # points: an arrowhead of arrowsize 0.6
MAX_STRETCH = 2.5  # the column gap may grow to this many node spacings before they grow


def stack(heights: Sequence[float], nodesep: float) -> list[float]:
    """Centre heights (points, downwards) of a column of nodes ``nodesep`` apart, centred on 0.

    >>> stack([36, 36, 36], 10)
    [-46.0, 0.0, 46.0]
    """
    total = sum(heights) + nodesep * (len(heights) - 1)
    out, top = [], -total / 2
    for h in heights:
        out.append(top + h / 2)
        top += h + nodesep
    return out


@dataclass(frozen=True)
class Layer:
    """One layer's edges as the layout is expected to place them (centre heights, points).

    ``labelled`` lists the (source, target) positions whose edge carries a label; other edges
    (bias, elided ``⋮``) must only stay out of the labels' way.
    """

    sources: tuple[float, ...]
    targets: tuple[float, ...]
    labelled: frozenset[tuple[int, int]]
    width: float  # of the widest label, points
    tail_radius: float  # points from a source's centre to its outline, across the gap
    head_radius: float
    tail_side: bool = False  # only fractions up to 1/2: the heads' outlines are not round

    def _needed_gap(self, fraction: float, bound: float = math.inf) -> float:
        """The shortest column gap at which labels at ``fraction`` are clear of other edges:
        across a label box (``width/2`` either side of its centre) an edge of rise ``r`` moves
        by ``r/R · width/2``; it must stay ``height/2 + gap`` from the box's centre line, and
        its distance from it at the centre does not depend on ``R``."""
        # The label clears its own source and the target's arrowhead.
        clear = self.width / 2 + NODE_GAP
        need = max(
            (self.tail_radius + clear) / fraction,
            (self.head_radius + ARROW_LENGTH + clear) / (1 - fraction),
        )
        ends = [(ys, yt) for ys in self.sources for yt in self.targets]
        for s, j in self.labelled:
            ys, yt = self.sources[s], self.targets[j]
            centre = ys + fraction * (yt - ys)
            for other_s, other_t in ends:
                if (other_s, other_t) == (ys, yt):
                    continue
                apart = abs(other_s + fraction * (other_t - other_s) - centre)
                room = apart - LABEL_HEIGHT / 2 - LABEL_GAP
                if room <= 0:
                    return math.inf
                need = max(need, abs(other_t - other_s) * (self.width / 2) / room)
            if need >= bound:  # already worse than a fraction tried before
                return math.inf
        return need

    def fractions(self) -> list[float]:
        m, n = len(self.sources), len(self.targets)
        tried = [1 / (n + 1), 1 - 1 / (m + 1), 0.5, 1 / 3, 2 / 3, 0.25, 0.75]
        return [f for f in tried if f <= 0.5] if self.tail_side else tried

    def best(self) -> tuple[float, float]:
        """(fraction, needed gap) with the shortest gap; ties keep the earlier fraction."""
        best_need, best_fraction = math.inf, 0.5
        for fraction in self.fractions():
            need = self._needed_gap(fraction, best_need)
            if need < best_need:
                best_need, best_fraction = need, fraction
        return best_fraction, best_need


STRETCHES = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)  # row spacings tried, as multiples of the least

Option = TypeVar("Option", bound=tuple[Any, ...])


def choose(options: list[Option], rows: int) -> Option:
    """Of ``(spacing, ranksep, layers, best)`` options for growing row spacings, the first
    whose every layer's labels fit within ``MAX_STRETCH`` spacings of column gap; when none
    does, the one with the smallest area (rows times spacing, times the widest gap).

    >>> choose([(10, 0, None, {0: (0.5, 40.0)}), (20, 0, None, {0: (0.5, 30.0)})], 3)[0]
    20
    """
    for option in options:
        if fits(option, MAX_STRETCH):
            return option

    def area(option: Option) -> float:
        widest = max((need for _, need in option[3].values()), default=0.0)
        return rows * option[0] * widest

    return min(options, key=area)


def fits(option: tuple[Any, ...], stretch: float) -> bool:
    """Every layer's labels of ``(spacing, ranksep, layers, best)`` fit within ``stretch``
    row spacings of column gap."""
    return all(need <= stretch * option[0] for _, need in option[3].values())


def on_edge(
    label: Value,
    tail: float,
    head: float,
    *,
    fraction: float,
    gap: float,
    tail_radius: float,
    head_radius: float,
) -> dict[str, Value]:
    """DOT attributes that put ``label`` at ``fraction`` of the way along the straight edge
    from height ``tail`` to height ``head``, ``gap`` points to the right. Graphviz measures
    ``labeldistance`` (in tens of points) from where the edge leaves the node's outline."""
    length = math.hypot(gap, head - tail)
    at_tail = fraction <= 0.5
    from_tail = fraction * length - tail_radius
    distance = from_tail if at_tail else (1 - fraction) * length - head_radius
    key = "taillabel" if at_tail else "headlabel"
    return {key: label, "labelangle": 0, "labeldistance": round(max(distance, 6.0) / 10, 2)}


def above(label: Value, length: float, rise: float = 10.0) -> dict[str, Value]:
    """DOT attributes that put ``label`` above the middle of a horizontal edge of visible
    ``length`` points (a tail label turned ``rise`` points up from the line).

    >>> above("z = w x + b", 100.0)
    {'taillabel': 'z = w x + b', 'labelangle': 11.31, 'labeldistance': 5.1}
    """
    half = length / 2
    return {
        "taillabel": label,
        "labelangle": round(math.degrees(math.atan2(rise, half)), 2),
        "labeldistance": round(math.hypot(half, rise) / 10, 2),
    }


def knockout(label: Value, background: str) -> Html:
    """``label`` on a patch of the figure's background: the edge line stops at the label.

    >>> knockout("w_0", "#ffffff")  # doctest: +NORMALIZE_WHITESPACE
    '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"
      BGCOLOR="#ffffff"><TR><TD>w_0</TD></TR></TABLE>'
    """
    body = label if isinstance(label, Html) else escape_html(str(label))
    return Html(
        '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" '
        f'BGCOLOR="{background}"><TR><TD>{body}</TD></TR></TABLE>'
    )


def width_of(plain: str, *, math_style: bool) -> float:
    """A label's width in points from its plain spelling ``w^[0]_1,2`` (a safe over-estimate):
    in math style the scripts are set smaller.

    >>> width_of("w^[0]_1,2", math_style=True)
    34.4
    """
    if not math_style:
        return CHAR_WIDTH * len(plain) + 2
    base = plain.split("^")[0].split("_")[0]
    scripts = plain[len(base) :].replace("^", "").replace("_", "")
    return round(CHAR_WIDTH * len(base) + SCRIPT_WIDTH * len(scripts) + 2, 1)
