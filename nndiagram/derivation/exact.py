"""Exact values of a derivation step: rationals, or certified intervals where exp is involved.

``exact_value(node, point, functions, precision)`` evaluates a step at one point with nothing
rounded: entries are ``Fraction`` s while every function keeps rationals rational (``+ - * /``,
powers, ``relu``, ``leaky_relu``, ``abs``, ``max``, ``min``, ``ones``), and otherwise mpmath
intervals (``mpmath.iv``) of ``precision`` bits, which enclose the true value: two intervals
that do not overlap prove two values different. A division by zero raises ``Undefined``.

``differ(a, b)`` is True only when the two values are certainly different, and ``text(v)``
spells a value exactly (``-199999999``, ``1/3``) or by its enclosure's midpoint (``≈ 0.5``).
The unspecified ``g``, ``g0``, … are given concrete functions from ``FAMILY``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from mpmath import iv

from ..expressions import interval_sign
from .expr import BinOp, Call, Neg, Node, Num, Ones, Pow, Ref, Sym, Transpose

LEAKY_ALPHA = Fraction(1, 100)  # leaky_relu in a derivation: the tutorial's max(0.01z, z)
PRECISION_LIMIT = 1600  # bits: the finest interval arithmetic tried
LONG = 40  # digits: longer exact numbers are shown by their ends and their length


class Undefined(Exception):
    """A division by zero (or an interval that contains a pole) at this point."""


class NeedsIntervals(Exception):
    """A rational evaluation met exp: evaluate again with intervals."""


@dataclass(frozen=True)
class Concrete:
    """A function a generic ``g`` stands for in a counterexample."""

    name: str  # as printed: "relu", or "t**2 + 1"
    rational: bool  # maps rationals to rationals

    def describe(self, g: str) -> str:
        return f"{g} = {self.name}" if self.name.isidentifier() else f"{g}(t) = {self.name}"


# Distinct functions for the generic g's: concrete activations and a few polynomials (exact).
FAMILY: tuple[Concrete, ...] = (
    Concrete("identity", True),
    Concrete("relu", True),
    Concrete("t**2", True),
    Concrete("leaky_relu", True),
    Concrete("t**3 + 1", True),
    Concrete("2*t + 1", True),
    Concrete("t**2 - t + 2", True),
    Concrete("t**3 - 2*t", True),
    Concrete("sigmoid", False),
    Concrete("tanh", False),
)
_POLYNOMIALS: dict[str, Callable[[Any], Any]] = {
    "t**2": lambda t: t * t,
    "t**3 + 1": lambda t: t * t * t + 1,
    "2*t + 1": lambda t: 2 * t + 1,
    "t**2 - t + 2": lambda t: t * t - t + 2,
    "t**3 - 2*t": lambda t: t * t * t - 2 * t,
}


def family(index: int) -> Concrete:
    """The ``index``-th distinct function: ``FAMILY``, then ``t**2 + k*t`` for k = 3, 4, …"""
    if index < len(FAMILY):
        return FAMILY[index]
    return Concrete(f"t**2 + {index - len(FAMILY) + 3}*t", True)


def polynomial(name: str) -> Callable[[Any], Any]:
    if name in _POLYNOMIALS:
        return _POLYNOMIALS[name]
    k = int(name.split("+ ")[1].split("*")[0])
    return lambda t: t * t + k * t


# --- scalars ----------------------------------------------------------------------------------


def _interval(value: Any) -> Any:
    if isinstance(value, Fraction):
        return iv.mpf(value.numerator) / value.denominator
    if isinstance(value, int):
        return iv.mpf(value)
    return value


def _finite(value: Any) -> Any:
    if isinstance(value, Fraction | int):
        return value
    if mpmath.isinf(mpmath.mpf(value.a)) or mpmath.isinf(mpmath.mpf(value.b)):
        raise Undefined
    if mpmath.isnan(mpmath.mpf(value.a)) or mpmath.isnan(mpmath.mpf(value.b)):
        raise Undefined
    return value


def _sign(value: Any) -> int | None:
    """+1, -1 or 0 when certain, None when an interval straddles 0."""
    if isinstance(value, Fraction | int):
        return (value > 0) - (value < 0)
    return interval_sign(value)


def _relu(v: Any) -> Any:
    sign = _sign(v)
    if sign is not None:
        return v if sign > 0 else Fraction(0) if isinstance(v, Fraction | int) else iv.mpf(0)
    return iv.mpf([0, v.b])


def _leaky(v: Any) -> Any:
    # max(αz, z) = z − (1 − α) min(z, 0) = z - (1 - α)(z - relu(z))
    return (
        v - (1 - LEAKY_ALPHA) * (v - _relu(v))
        if isinstance(v, Fraction | int)
        else (v - _interval(1 - LEAKY_ALPHA) * (v - _relu(v)))
    )


def _abs(v: Any) -> Any:
    return abs(v)


def _max(a: Any, b: Any) -> Any:
    if isinstance(a, Fraction | int) and isinstance(b, Fraction | int):
        return max(a, b)
    a, b = _interval(a), _interval(b)
    return b + _relu(a - b)


def _min(a: Any, b: Any) -> Any:
    if isinstance(a, Fraction | int) and isinstance(b, Fraction | int):
        return min(a, b)
    a, b = _interval(a), _interval(b)
    return a - _relu(a - b)


def _exp(v: Any) -> Any:
    return _finite(iv.exp(_interval(v)))


def _sigmoid(v: Any) -> Any:
    v = _interval(v)
    if v.a >= 0:
        return 1 / (1 + iv.exp(-v))
    e = iv.exp(v)  # no overflow for large negative v
    return e / (1 + e)


def _tanh(v: Any) -> Any:
    v = _interval(v)
    if v.a >= 0:
        e = iv.exp(-2 * v)
        return (1 - e) / (1 + e)
    if v.b <= 0:
        e = iv.exp(2 * v)
        return (e - 1) / (e + 1)
    e = iv.exp(-2 * v)
    return (1 - e) / (1 + e)


_RATIONAL = {"identity": lambda v: v, "relu": _relu, "leaky_relu": _leaky, "abs": _abs}
_INTERVAL = {"sigmoid": _sigmoid, "tanh": _tanh, "exp": _exp}


# --- matrices ---------------------------------------------------------------------------------


def _map(fn: Callable[[Any], Any], value: Any) -> Any:
    if not isinstance(value, np.ndarray):
        return fn(value)
    out = np.empty(value.shape, dtype=object)
    for index in np.ndindex(value.shape):
        out[index] = fn(value[index])
    return out


def _map2(fn: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        return fn(a, b)
    shape = a.shape if isinstance(a, np.ndarray) else b.shape
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        out[index] = fn(
            a[index] if isinstance(a, np.ndarray) else a,
            b[index] if isinstance(b, np.ndarray) else b,
        )
    return out


def exact_value(
    node: Node,
    point: Mapping[str, Any],
    functions: Mapping[str, Concrete],
    precision: int | None,
) -> Any:
    """``node`` at ``point`` (Fractions; object arrays for matrices), exactly.

    ``precision`` None: rationals only, ``NeedsIntervals`` at the first exp. Otherwise every
    value is an mpmath interval of that many bits. ``functions`` gives each generic g its
    concrete function.
    """
    intervals = precision is not None
    saved = iv.prec
    if intervals:
        iv.prec = precision
    try:
        values = dict(point)
        if intervals:
            values = {k: _map(_interval, v) for k, v in point.items()}
        return _walk(node, values, functions, intervals)
    except ZeroDivisionError:
        raise Undefined from None
    finally:
        iv.prec = saved


def _apply(name: str, value: Any, functions: Mapping[str, Concrete], intervals: bool) -> Any:
    concrete = functions.get(name)
    if concrete is not None:
        name = concrete.name
        if not concrete.name.isidentifier():
            return _map(polynomial(name), value)
    if name in _RATIONAL:
        return _map(_RATIONAL[name], value)
    if not intervals:
        raise NeedsIntervals
    if name == "softmax":
        out = np.empty(value.shape, dtype=object)
        for j in range(value.shape[1]):
            column = [_exp(v) for v in value[:, j]]
            total = sum(column[1:], column[0])
            for i, e in enumerate(column):
                out[i, j] = _finite(e / total)
        return out
    return _map(_INTERVAL[name], value)


def _walk(
    n: Node, values: Mapping[str, Any], functions: Mapping[str, Concrete], intervals: bool
) -> Any:
    def walk(m: Node) -> Any:
        return _walk(m, values, functions, intervals)

    if isinstance(n, Num):
        return _interval(n.value) if intervals else n.value
    if isinstance(n, Sym):
        return values[n.name]
    if isinstance(n, Ref):
        return walk(n.body)
    if isinstance(n, Ones):
        assert n.shape is not None
        out = np.empty(n.shape, dtype=object)
        out[...] = iv.mpf(1) if intervals else Fraction(1)
        return out
    if isinstance(n, Neg):
        return -walk(n.operand)
    if isinstance(n, Transpose):
        value = walk(n.operand)
        return value.T if isinstance(value, np.ndarray) else value
    if isinstance(n, Pow):
        value = walk(n.base)
        if not isinstance(value, np.ndarray):
            if intervals and n.exponent < 0:
                if _sign(value) is None:
                    raise Undefined
                return _finite(1 / value ** (-n.exponent))
            return value**n.exponent
        out = value
        for _ in range(n.exponent - 1):
            out = out @ value
        return out
    if isinstance(n, BinOp):
        a, b = walk(n.left), walk(n.right)
        # mpmath's intervals refuse NumPy arrays: a scalar meets a matrix as a full array.
        if isinstance(b, np.ndarray) and not isinstance(a, np.ndarray):
            a = np.full(b.shape, a, dtype=object)
        elif isinstance(a, np.ndarray) and not isinstance(b, np.ndarray) and n.op in "+-":
            b = np.full(a.shape, b, dtype=object)
        if n.op == "+":
            return a + b
        if n.op == "-":
            return a - b
        if n.op == "/":
            if intervals and _sign(b) in (None, 0):
                raise Undefined
            return a / b
        if n.left.shape is not None and n.right.shape is not None:
            return a @ b
        return a * b
    assert isinstance(n, Call)
    args = [walk(arg) for arg in n.args]
    if n.function == "hadamard":
        return args[0] * args[1]
    if n.function == "sum":
        value = args[0]
        flat = list(value.flat) if isinstance(value, np.ndarray) else [value]
        return sum(flat[1:], flat[0])
    if n.function in ("max", "min"):
        return _map2(_max if n.function == "max" else _min, args[0], args[1])
    return _apply(n.function, args[0], functions, intervals)


# --- comparing and printing -------------------------------------------------------------------


def _entries(value: Any) -> list[Any]:
    return list(value.flat) if isinstance(value, np.ndarray) else [value]


def differ(a: Any, b: Any) -> bool:
    """True only when ``a`` and ``b`` are certainly different (some entry)."""
    for x, y in zip(_entries(a), _entries(b), strict=True):
        if isinstance(x, Fraction | int) and isinstance(y, Fraction | int):
            if x != y:
                return True
            continue
        x, y = _interval(x), _interval(y)
        if x.b < y.a or y.b < x.a:
            return True
    return False


def undecided(a: Any, b: Any) -> bool:
    """True when some pair of entries overlaps without being the same exact number."""
    for x, y in zip(_entries(a), _entries(b), strict=True):
        if isinstance(x, Fraction | int) and isinstance(y, Fraction | int):
            continue
        return True
    return False


def _digits(n: int) -> str:
    text = str(n)
    body = text.lstrip("-")
    if len(body) <= LONG:
        return text
    return f"{text[: len(text) - len(body)]}{body[:12]}…{body[-6:]} ({len(body):,} digits)"


def scalar_text(value: Any) -> str:
    if isinstance(value, int):
        return _digits(value)
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return _digits(value.numerator)
        return f"{_digits(value.numerator)}/{_digits(value.denominator)}"
    mid = (mpmath.mpf(value.a) + mpmath.mpf(value.b)) / 2
    return "≈ " + mpmath.nstr(mid, 12, min_fixed=-4, max_fixed=12)


def to_float(value: Any) -> Any:
    """Nearest float64 (entries of a matrix as a 2-D array)."""

    def one(v: Any) -> float:
        if isinstance(v, Fraction | int):
            return float(v)
        return float((mpmath.mpf(v.a) + mpmath.mpf(v.b)) / 2)

    if isinstance(value, np.ndarray):
        return np.vectorize(one, otypes=[float])(value) if value.size else value.astype(float)
    return one(value)


def difference_text(a: Any, b: Any) -> str | None:
    """How far apart two values certainly are: the exact difference when the numbers are too
    long to read (``1``), for intervals the largest certified gap (``3.72e-44``)."""
    if not undecided(a, b):
        pairs = list(zip(_entries(a), _entries(b), strict=True))
        if all(len(str(x)) <= LONG and len(str(y)) <= LONG for x, y in pairs):
            return None
        d = max((abs(Fraction(y) - Fraction(x)) for x, y in pairs), default=Fraction(0))
        return scalar_text(d)
    saved = iv.prec
    iv.prec = max(PRECISION_LIMIT, saved)
    try:
        with mpmath.workprec(iv.prec):
            gaps = []
            for x, y in zip(_entries(a), _entries(b), strict=True):
                x, y = _interval(x), _interval(y)
                if x.b < y.a:
                    gaps.append(mpmath.mpf((y.a - x.b).a))
                elif y.b < x.a:
                    gaps.append(mpmath.mpf((x.a - y.b).a))
            return mpmath.nstr(max(gaps), 3) if gaps else None
    finally:
        iv.prec = saved
