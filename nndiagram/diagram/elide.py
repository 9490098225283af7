"""Which units of a column are drawn: all of a small layer; of a large one the first units, a
``⋮`` and the last unit, as textbooks write ``x_0, x_1, x_2, …, x_n``. Everything here is
O(max_neurons), never O(units)."""

from __future__ import annotations

import itertools

DOTS = None  # the position of the ⋮ node in a column
HEAD = 3  # units drawn before the ⋮: enough to show the pattern, few enough to stay legible

Column = tuple[int | None, ...]
# What the network and neuron views may draw: Graphviz lays out 10,000 edges or 600 neurons in
# about a second; max_neurons: 1000 on a 1000-1000-1000 network asked for 2,000,000 edges
# (15-19 s and 1.5 GB before Graphviz's time limit), 1,000 two-unit layers for 2,002 neurons.
MAX_DRAWN_UNITS = 600
MAX_DRAWN_EDGES = 10_000


def column(units: int, max_neurons: int) -> Column:
    """Unit positions to draw, ``None`` standing for the ⋮ node.

    >>> column(3, 8)
    (0, 1, 2)
    >>> column(128, 8)
    (0, 1, 2, None, 127)
    >>> column(10**6, 3)
    (0, None, 999999)
    """
    if units <= max_neurons:
        return tuple(range(units))
    return (*range(head(max_neurons)), DOTS, units - 1)


def head(max_neurons: int) -> int:
    """How many units an elided column draws before its ⋮."""
    return max(min(HEAD, max_neurons - 2), 1)


def terms(fan_in: int, max_neurons: int) -> int | None:
    """How many terms a neuron's equation keeps: those of the inputs drawn (``None``: all)."""
    return None if fan_in <= max_neurons else head(max_neurons) + 1


def drawn_edges(sizes: tuple[int, ...], max_neurons: int) -> int:
    """How many weight edges the network view draws for these column sizes."""
    shown = [len(column(n, max_neurons)) for n in sizes]
    return sum(a * b for a, b in itertools.pairwise(shown))


def drawn_units(sizes: tuple[int, ...], max_neurons: int) -> int:
    """How many neurons (and inputs) the network view draws for these column sizes."""
    return sum(len(column(n, max_neurons)) for n in sizes)
