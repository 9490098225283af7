"""The check rows of a custom activation: its formula as the user wrote it, evaluated by NumPy.

A built-in activation is the tool's own careful implementation and must match SymPy to 1e-10
everywhere on the grid. A custom formula is evaluated as written, so two things that are not
bugs must not fail its check:

- **overflow.** ``exp(z)`` has no float64 value beyond z = 709.78, and ``log(1 + exp(z))`` overflows
  there although its value is finite. The rows are measured where NumPy's g and g' are finite:
  that range is found (grid, then bisection to its edge), stated in the row, and what lies
  beyond it is a note, not a failure.
- **rounding inside the formula.** ``sqrt(z**2 + 1) - 1`` loses digits to cancellation near 0,
  ``log(1 + exp(-40))`` all of them. Errors are measured relative to ``κ |g|``, where ``κ |g|``
  is the first-order bound on the rounding error of the formula's own operations, in units of
  machine epsilon (a running error analysis over its SymPy tree). A wrong derivative or a wrong
  translation is off by O(|g|), far beyond that bound, and still fails.

Central differences are allowed their own truncation and rounding error, estimated from a
second, halved step (Richardson), so ``sin(z)`` at z = 1e4 is not failed for the differences'
error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from ..activations import Activation, sympy_symbol_z
from ..expressions import mpmath_modules, steps_as_calls
from .report import Check, status_of

FORMULA_TOL = 1e-10
FD_TOL = 1e-6
REFERENCE_DIGITS = 400
EPS = float(np.finfo(np.float64).eps)
HUGE = float(np.finfo(np.float64).max)
UNDERFLOW = float(np.finfo(np.float64).smallest_subnormal) / EPS  # in units of ε
LIMIT = 1e4  # the grid's extent, as for the built-in activations
CORE = 20.0  # compile_activation already refuses a formula not finite on [-20, 20]
_POSITIVE = [1e-3, 0.113, 0.731, 2.1, 7.3, 40.0, 800.0, 1e4]
_SEARCH = np.unique(np.concatenate([_POSITIVE, np.geomspace(CORE, LIMIT, 60)]))

Fn = Callable[[Any], Any]


def custom_rows(activation: Activation, title: str) -> list[Check]:
    """The three rows (formula, derivative, central differences) of a custom activation."""
    import sympy

    assert activation.numpy_fn is not None and activation.numpy_derivative is not None
    fn, prime_fn = activation.numpy_fn, activation.numpy_derivative
    z = sympy_symbol_z()
    expr = activation.sympy_expr(z)
    prime = sympy.diff(expr, z)
    name = activation.name

    def finite(points: Any) -> Any:
        # NumPy's g and g' are finite, and so is every intermediate of their formulas (an
        # overflowed intermediate can leave a finite but meaningless result: 1 / inf = 0).
        ok = np.isfinite(_quiet(fn, points)) & np.isfinite(_quiet(prime_fn, points))
        for form in (expr, prime):
            scale = _rounding_scale(form, z, points)
            ok &= np.isfinite(scale) | np.isnan(scale)  # nan: no bound known, no verdict
        return ok

    low, low_note = _edge(finite, -1.0)
    high, high_note = _edge(finite, 1.0)
    if low is None or high is None:
        where = low_note if low is None else high_note
        detail = f"{title}: NumPy's g or g' is not finite at {where} (inside [-{CORE:g}, {CORE:g}])"
        return [
            Check(f"activation {name}", "fail", math.inf, FORMULA_TOL, detail),
            Check(f"derivative {name}", "fail", math.inf, FORMULA_TOL, detail),
            Check(f"derivative {name} (FD)", "fail", math.inf, FD_TOL, detail),
        ]
    grid = [-v for v in reversed(_POSITIVE)] + [0.0] + _POSITIVE
    points = np.array(sorted({p for p in grid if low <= p <= high} | {low, high}))
    smooth = points[points != 0.0]
    span = f"[{low:.6g}, {high:.6g}]"
    notes = "; ".join(
        note
        for note in (
            _overflow_note(expr, z, low, low_note),
            _overflow_note(expr, z, high, high_note),
        )
        if note
    )
    notes = f"; note: {notes}" if notes else ""

    values = _reference(expr, z, points)
    error, kappa = _scaled_error(_quiet(fn, points), values, _rounding_scale(expr, z, points))
    rows = [
        Check(
            f"activation {name}",
            status_of(error <= FORMULA_TOL),
            error,
            FORMULA_TOL,
            f"{title}: NumPy vs SymPy at {points.size} points in {span}, where g and g' are "
            f"finite in float64; |Δ| / (κ |g|), κ ≤ {kappa:.2g} the formula's rounding "
            f"condition{notes}",
        )
    ]
    primes = _reference(prime, z, smooth)
    derivative = _quiet(prime_fn, smooth)
    error, kappa = _scaled_error(derivative, primes, _rounding_scale(prime, z, smooth))
    rows.append(
        Check(
            f"derivative {name}",
            status_of(error <= FORMULA_TOL),
            error,
            FORMULA_TOL,
            f"g' in NumPy vs SymPy's d/dz at {smooth.size} points in {span}; |Δ| / (κ |g'|), "
            f"κ ≤ {kappa:.2g}",
        )
    )
    rows.append(_differences_row(fn, expr, z, smooth, derivative, low, high, name))
    return rows


def _quiet(fn: Fn, points: Any) -> Any:
    with np.errstate(all="ignore"):
        return np.asarray(fn(np.array(points, dtype=np.float64)), dtype=np.float64)


def _edge(finite: Callable[[Any], Any], sign: float) -> tuple[float | None, str]:
    """The farthest point on one side (up to ``LIMIT``) before g or g' stops being finite, and
    where it stopped; ``None`` when that happens inside the core ``[-20, 20]``."""
    core = sign * np.linspace(0.0, CORE, 401)
    bad = ~finite(core)
    if bad.any():
        return None, f"z = {core[np.argmax(bad)]:g}"
    search = sign * _SEARCH
    ok = finite(search)
    if ok.all():
        return sign * LIMIT, ""
    first = int(np.argmin(ok))
    inside, outside = sign * CORE if first == 0 else float(search[first - 1]), float(search[first])
    # To the last finite float64 at the edge, 64 points at a time (each call costs a walk over
    # the formula's tree: 10 calls instead of bisection's 60, for sigmoid nested 20 deep).
    for _ in range(40):
        grid = np.linspace(inside, outside, 66)[1:-1]
        grid = grid[(grid != inside) & (grid != outside)]
        if not grid.size:
            break
        bad = np.flatnonzero(~finite(grid))
        if not bad.size:
            inside = float(grid[-1])
            continue
        first = int(bad[0])
        outside = float(grid[first])
        if first:
            inside = float(grid[first - 1])
    return float(inside), f"{outside:.6g}"


def _overflow_note(expr: Any, z: Any, edge: float, beyond: str) -> str:
    if not beyond:
        return ""
    side = ">" if edge > 0 else "<"
    value = _reference(expr, z, np.array([float(beyond)]))[0]
    what = (
        "g itself exceeds float64 there"
        if not math.isfinite(value)
        else "g itself is finite there: the formula overflows in an intermediate step"
    )
    return f"NumPy gives inf or nan for z {side} {edge:.6g} ({what})"


def _reference(expr: Any, z: Any, points: Any) -> Any:
    """``expr`` at ``points`` in 400-digit arithmetic (mpmath), rounded to float64.

    A fixed precision, not evalf's adaptive one: ``1 + erf(-7071)`` would make evalf chase
    millions of digits for a value far below the smallest float64, where 400 digits give 0.
    """
    import mpmath
    import sympy

    function = sympy.lambdify(z, steps_as_calls(expr), modules=mpmath_modules())
    with mpmath.workdps(REFERENCE_DIGITS):
        return np.array([float(function(mpmath.mpf(float(v)))) for v in points])


def _scaled_error(value: Any, reference: Any, scale: Any) -> tuple[float, float]:
    """``max |Δ| / max(|ref|, S)`` with S the rounding scale (error bound / ε), and max κ."""
    tiny = np.finfo(np.float64).tiny
    with np.errstate(all="ignore"):
        if value.shape != reference.shape or not np.isfinite(value).all():
            return math.inf, 1.0
        magnitude = np.abs(reference)
        known = np.where(np.isnan(scale), 0.0, scale)  # no bound known: held to |ref| alone
        error = np.abs(value - reference) / np.maximum(np.maximum(magnitude, known), tiny)
        kappa = np.max(np.where(magnitude > 0, known / np.maximum(magnitude, tiny), 1.0))
    return float(np.max(error)), max(1.0, float(kappa))


def _differences_row(
    fn: Fn, expr: Any, z: Any, smooth: Any, derivative: Any, low: float, high: float, name: str
) -> Check:
    h = 1e-6 * np.maximum(np.abs(smooth), 1.0)
    inside = (smooth - h >= low) & (smooth + h <= high)
    points, h, slope = smooth[inside], h[inside], derivative[inside]

    def central(step: Any) -> Any:
        return (_quiet(fn, points + step) - _quiet(fn, points - step)) / (2 * step)

    with np.errstate(all="ignore"):
        fd, half = central(h), central(h / 2)
        # Truncation ≈ (4/3)|fd(h) − fd(h/2)|; rounding ≈ 2 ε S / h, S the rounding scale of g.
        scale = np.maximum(
            _rounding_scale(expr, z, points + h), _rounding_scale(expr, z, points - h)
        )
        own = 2 * np.abs(fd - half) + 4 * EPS * np.where(np.isnan(scale), 0.0, scale) / h
        allowed = np.maximum(np.maximum(np.abs(slope), 1.0), own / FD_TOL)
        if not (np.isfinite(fd).all() and np.isfinite(slope).all()):
            error = math.inf
        else:
            error = float(np.max(np.abs(fd - slope) / allowed, initial=0.0))
    return Check(
        f"derivative {name} (FD)",
        status_of(error <= FD_TOL),
        error,
        FD_TOL,
        f"g' vs central differences of g at {points.size} points, |Δ| / max(|g'|, 1), "
        "allowing the differences' own truncation and rounding (from a halved step)",
    )


# --- running error analysis: a first-order bound on the rounding error of a formula ----------


def _rounding_scale(expr: Any, z: Any, points: Any) -> Any:
    """``S`` with |rounding error of evaluating ``expr`` in float64| ≲ ε S, at each point.

    Each operation rounds its result (ε |result|, and 2^-1074 absolute where it underflows) and
    passes its arguments' errors on through its partial derivatives. inf where an intermediate
    overflows; nan everywhere when the formula has a function this analysis does not know
    (then errors are relative to |g| alone).
    """
    points = np.asarray(points, dtype=np.float64)
    try:
        with np.errstate(all="ignore"):
            values, scale = _bound(expr, z, points, {})
    except _Unknown:
        return np.full(points.shape, np.nan)
    return np.where(np.isfinite(values) & ~np.isnan(scale), scale, np.inf)


class _Unknown(Exception):
    pass


def _bound(expr: Any, z: Any, points: Any, memo: dict[Any, Any]) -> tuple[Any, Any]:
    """(value, error / ε) of ``expr`` at ``points``; the error is inf where an intermediate
    overflowed (sticky: no bound holds above it, and inf · 0 would be nan)."""
    if expr not in memo:
        value, error = _bound_node(expr, z, points, memo)
        if expr != z and not expr.is_number:
            error = error + UNDERFLOW  # a result below the normal range is off by 2^-1074
        overflow = ~np.isfinite(value)
        for argument in expr.args:
            if argument in memo:  # a constant such as sqrt(2) is evaluated whole
                overflow |= memo[argument][2]
        # A bound that itself exceeds float64 next to a finite value is only huge, not inf.
        error = np.where(overflow, np.inf, np.nan_to_num(error, nan=HUGE, posinf=HUGE))
        memo[expr] = value, error, overflow
    value, error, _ = memo[expr]
    return value, error


def _bound_node(expr: Any, z: Any, points: Any, memo: dict[Any, Any]) -> tuple[Any, Any]:
    import sympy

    if expr == z:
        return points, np.zeros_like(points)
    if expr.is_number:
        value = float(expr)
        error = 0.0 if expr.is_Integer else abs(value)  # a decimal literal is rounded once
        return np.full_like(points, value), np.full_like(points, error)
    parts = [_bound(arg, z, points, memo) for arg in expr.args]
    if isinstance(expr, sympy.Add):
        value = sum(v for v, _ in parts)
        spread = sum(np.abs(v) for v, _ in parts)
        return value, sum(e for _, e in parts) + (len(parts) - 1) * spread
    if isinstance(expr, sympy.Mul):
        value = np.prod([v for v, _ in parts], axis=0)
        error = (len(parts) - 1) * np.abs(value)
        for i, (_, e) in enumerate(parts):
            others = np.prod([v for j, (v, _) in enumerate(parts) if j != i], axis=0)
            error = error + e * np.abs(others)
        return value, error
    if isinstance(expr, sympy.Pow) and expr.exp.is_number:
        (base, base_error), _ = parts
        r = float(expr.exp)
        value = base**r
        return value, np.abs(r * base ** (r - 1)) * base_error + np.abs(value)
    if isinstance(expr, sympy.Max | sympy.Min):
        values = np.array([v for v, _ in parts])
        errors = np.array([e for _, e in parts])
        pick = np.max if isinstance(expr, sympy.Max) else np.min
        return pick(values, axis=0), np.max(errors, axis=0)
    if isinstance(expr, sympy.Heaviside | sympy.sign):
        (argument, _), *_ = parts
        step = (
            np.heaviside(argument, 0.5) if isinstance(expr, sympy.Heaviside) else np.sign(argument)
        )
        return step, np.zeros_like(points)
    if len(parts) == 1 and type(expr) in _unary():
        ((argument, error),) = parts
        value_fn, slope_fn = _unary()[type(expr)]
        value = value_fn(argument)
        return value, np.abs(slope_fn(argument)) * error + np.abs(value)
    raise _Unknown(type(expr).__name__)


def _erf(x: Any) -> Any:
    return np.vectorize(math.erf, otypes=[float])(x)


@lru_cache(maxsize=1)
def _unary() -> dict[type, tuple[Fn, Fn]]:
    """Value and slope of each one-argument function (built on first use: SymPy is lazy)."""
    import sympy

    return {
        sympy.exp: (np.exp, np.exp),
        sympy.log: (np.log, lambda x: 1 / x),
        sympy.sin: (np.sin, np.cos),
        sympy.cos: (np.cos, np.sin),
        sympy.tanh: (np.tanh, lambda x: 1 / np.cosh(x) ** 2),
        sympy.cosh: (np.cosh, np.sinh),
        sympy.sinh: (np.sinh, np.cosh),
        sympy.erf: (_erf, lambda x: 2 / math.sqrt(math.pi) * np.exp(-(x**2))),
        sympy.Abs: (np.abs, lambda x: np.ones_like(x)),
    }
