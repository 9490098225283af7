"""Is a step equal to the one before it? Proven, false with an exact counterexample, or open.

``decide`` gives the verdict of one step, in this order:

1. **Canonical form** (``evaluation.canonical``): both sides expanded into non-commutative
   polynomials of the matrix symbols with exact coefficients; equal forms prove the step for
   matrices of every shape.
2. **Exact search** (``exact.py``): both sides at points chosen to cross signs and zeros and to
   reach large and small magnitudes, in rational arithmetic, or in certified interval arithmetic
   where exp is involved. A point where they certainly differ is the counterexample; nothing
   rounded is ever reported as a difference.
3. **Entries, by cases**: every entry of every symbol its own real symbol, both sides computed
   entry by entry with exact rationals; ``relu``, ``leaky_relu``, ``abs``, ``max``, ``min`` are
   split into their pieces over the sign regions of their arguments (each region checked on its
   own; the pieces agree on the borders, so the regions' closures cover everything), and
   ``sigmoid``, ``tanh``, ``softmax`` are written with exponentials whose products are combined
   (``e^a e^b = e^{a+b}``). Every entry's difference must cancel to exactly 0 in every region.

Anything else is **not proven**: the step is never marked as holding, and the numeric evidence
(``numeric_evidence``) is reported for what it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from .evaluation import canonical, evaluate, same_canonical
from .exact import (
    LEAKY_ALPHA,
    Concrete,
    NeedsIntervals,
    Undefined,
    differ,
    exact_value,
    family,
    undecided,
)
from .expr import (
    GENERIC,
    BinOp,
    Call,
    Neg,
    Node,
    Num,
    Ones,
    Pow,
    Ref,
    Shape,
    Sym,
    Transpose,
)

SEARCH_TRIALS = 32
INTERVAL_TRIALS = 16
PRECISIONS = (96, 400, 1600)  # bits; a closer call is not claimed
ESCALATE = 4  # interval trials tried at the higher precisions
MAX_EXACT_FLOPS = 2_000_000  # exact multiply-adds of one evaluation (Python numbers)
MAX_EXPLICIT_ENTRIES = 120  # entries of all symbols together, for the entry-wise proof
MAX_BRANCHES = 256  # sign regions of the case analysis
NUMERIC_TRIALS = 48
NUMERIC_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Found:
    """Exact values at which the two sides certainly differ."""

    point: dict[str, Any]  # symbol -> Fraction or object array of Fractions
    functions: dict[str, Concrete]  # generic g -> its concrete function
    before: Any  # exact (Fraction) or interval values
    after: Any
    method: str


@dataclass(frozen=True)
class Evidence:
    """Float64 agreement at random points: what it is worth is stated, it decides nothing."""

    trials: int
    finite: int
    agree: int
    worst: float  # largest relative difference among the finite trials

    def text(self) -> str:
        if self.finite == 0:
            return f"no numeric evidence: all {self.trials} float64 trials were not finite"
        skipped = self.trials - self.finite
        note = f"; {skipped} not finite, no evidence" if skipped else ""
        return (
            f"float64 agrees at {self.agree} of {self.finite} random points "
            f"(largest relative difference {self.worst:.1e}{note})"
        )


# --- points -----------------------------------------------------------------------------------


def _entry(kind: str, rng: np.random.Generator) -> Fraction:
    if kind == "small":  # a reader can check these by hand; 0 is among them
        return Fraction(int(rng.integers(-3, 4)))
    if kind == "rational":
        return Fraction(int(rng.integers(-12, 13)), int(rng.integers(1, 6)))
    sign = 1 if rng.random() < 0.5 else -1  # large and small magnitudes
    return sign * Fraction(int(rng.integers(1, 10))) * Fraction(10) ** int(rng.integers(-6, 10))


KINDS = ("small", "small", "rational", "large", "mixed")


def draw_point(
    symbols: Mapping[str, Shape], names: list[str], rng: np.random.Generator, trial: int
) -> dict[str, Any]:
    kind = KINDS[trial % len(KINDS)]
    point: dict[str, Any] = {}
    for name in names:
        shape = symbols[name]
        cells = np.empty(shape or (1, 1), dtype=object)
        for index in np.ndindex(cells.shape):
            chosen = KINDS[int(rng.integers(0, 4))] if kind == "mixed" else kind
            cells[index] = _entry(chosen, rng)
        point[name] = cells[0, 0] if shape is None else cells
    return point


def assignments(generics: list[str]) -> list[dict[str, Concrete]]:
    """Each g a different function; shifted so every function meets every g."""
    if not generics:
        return [{}]
    size = max(10, len(generics))
    return [
        {g: family((i + shift) % size) for i, g in enumerate(generics)} for shift in range(size)
    ]


# --- 2. exact search ---------------------------------------------------------------------------


def search(
    before: Node,
    after: Node,
    symbols: Mapping[str, Shape],
    names: list[str],
    generics: list[str],
    rng: np.random.Generator,
    flops: int,
    expired: Any,
) -> Found | None:
    """A point where ``before`` and ``after`` certainly differ, or None."""
    if flops > 20 * MAX_EXACT_FLOPS:
        return None
    trials = SEARCH_TRIALS if flops <= MAX_EXACT_FLOPS // 10 else 3
    options = assignments(generics)
    interval_trials = 0
    for trial in range(trials * max(1, min(len(options), 3))):
        if expired():
            return None
        functions = options[trial % len(options)]
        point = draw_point(symbols, names, rng, trial)
        try:
            a = exact_value(before, point, functions, None)
            b = exact_value(after, point, functions, None)
            if differ(a, b):
                return Found(point, functions, a, b, "exact rational arithmetic")
            continue
        except NeedsIntervals:
            pass
        except Undefined:
            continue
        interval_trials += 1
        if interval_trials > INTERVAL_TRIALS:
            continue
        precisions = PRECISIONS if interval_trials <= ESCALATE else PRECISIONS[:1]
        for bits in precisions:
            try:
                a = exact_value(before, point, functions, bits)
                b = exact_value(after, point, functions, bits)
            except Undefined:
                break
            if differ(a, b):
                return Found(point, functions, a, b, f"certified {bits}-bit interval arithmetic")
            if not undecided(a, b):
                break
    return None


# --- 3. entries, by cases ----------------------------------------------------------------------


class _Split(Exception):
    def __init__(self, key: sympy.Expr) -> None:
        self.key = key


class _Unprovable(Exception):
    """Something the entry-wise proof does not handle (a generic g of a matrix argument)."""


def _canon(p: sympy.Expr) -> sympy.Expr:
    p = sympy.sympify(p, strict=True)
    if p.is_Rational:
        return p
    return sympy.cancel(p)


class _Entries:
    """Both sides entry by entry, with the sign decisions of one region."""

    def __init__(self, symbols: Mapping[str, Shape], decisions: Mapping[sympy.Expr, int]) -> None:
        self.decisions = decisions
        self.values: dict[str, Any] = {}
        for name, shape in symbols.items():
            if shape is None:
                self.values[name] = sympy.Symbol(name, real=True)
            else:
                self.values[name] = sympy.Matrix(
                    *shape, lambda i, j, n=name: sympy.Symbol(f"{n}[{i},{j}]", real=True)
                )
        self.exps: dict[sympy.Expr, sympy.Symbol] = {}

    # sign regions
    def sign(self, p: sympy.Expr) -> int:
        p = _canon(p)
        if p.is_Rational:
            return 1 if p > 0 else (-1 if p < 0 else 0)
        key, factor = _normalised(p)
        if key not in self.decisions:
            raise _Split(key)
        return self.decisions[key] * (1 if factor > 0 else -1)

    def relu(self, p: sympy.Expr) -> sympy.Expr:
        return p if self.sign(p) > 0 else sympy.Integer(0)

    def exp(self, p: sympy.Expr) -> sympy.Expr:
        out = sympy.Integer(1)
        for term in sympy.Add.make_args(sympy.expand(_canon(p))):
            coeff, rest = term.as_coeff_Mul()
            if not coeff.is_Rational:
                coeff, rest = sympy.Integer(1), term
            base = self.exps.get(rest)
            if base is None:
                base = sympy.Symbol(f"exp{len(self.exps)}", positive=True)
                self.exps[rest] = base
            out *= base**coeff
        return out

    def apply(self, name: str, p: sympy.Expr) -> sympy.Expr:
        if name == "identity":
            return p
        if name == "relu":
            return self.relu(p)
        if name == "leaky_relu":
            return p if self.sign(p) > 0 else sympy.Rational(LEAKY_ALPHA) * p
        if name == "abs":
            return p if self.sign(p) >= 0 else -p
        if name == "exp":
            return self.exp(p)
        if name == "sigmoid":
            return 1 / (1 + self.exp(-p))
        if name == "tanh":
            e = self.exp(-2 * p)
            return (1 - e) / (1 + e)
        if GENERIC.match(name):
            return sympy.Function(name)(_canon(p))
        raise _Unprovable(name)

    def walk(self, n: Node) -> Any:
        if isinstance(n, Num):
            return sympy.Rational(n.value.numerator, n.value.denominator)
        if isinstance(n, Sym):
            return self.values[n.name]
        if isinstance(n, Ref):
            return self.walk(n.body)
        if isinstance(n, Ones):
            assert n.shape is not None
            return sympy.ones(*n.shape)
        if isinstance(n, Neg):
            return -self.walk(n.operand)
        if isinstance(n, Transpose):
            value = self.walk(n.operand)
            return value.T if isinstance(value, sympy.MatrixBase) else value
        if isinstance(n, Pow):
            value = self.walk(n.base)
            if not isinstance(value, sympy.MatrixBase):
                return value**n.exponent
            out = value
            for _ in range(n.exponent - 1):
                out = out * value
            return out
        if isinstance(n, BinOp):
            a, b = self.walk(n.left), self.walk(n.right)
            if n.op in "+-":
                a, b = _broadcast(a, b)
                return a + b if n.op == "+" else a - b
            if n.op == "/":
                return a / b
            return a * b
        assert isinstance(n, Call)
        args = [self.walk(arg) for arg in n.args]
        if n.function == "hadamard":
            return args[0].multiply_elementwise(args[1])
        if n.function == "sum":
            value = args[0]
            return sympy.Add(*value) if isinstance(value, sympy.MatrixBase) else value
        if n.function in ("max", "min"):
            a, b = _broadcast(args[0], args[1])

            def pick(x: Any, y: Any) -> Any:
                first = self.sign(x - y) > 0
                return (x if first else y) if n.function == "max" else (y if first else x)

            if isinstance(a, sympy.MatrixBase):
                return sympy.Matrix(a.rows, a.cols, [pick(x, y) for x, y in zip(a, b, strict=True)])
            return pick(a, b)
        if n.function == "softmax":
            value = args[0]
            out = sympy.zeros(*value.shape)
            for j in range(value.cols):
                exps = [self.exp(v) for v in value[:, j]]
                total = sympy.Add(*exps)
                for i, e in enumerate(exps):
                    out[i, j] = e / total
            return out
        value = args[0]
        if isinstance(value, sympy.MatrixBase):
            return value.applyfunc(lambda p: self.apply(n.function, p))
        return self.apply(n.function, value)

    def is_zero(self, d: sympy.Expr) -> bool:
        if (
            sympy.sympify(d, strict=True) == 0
        ):  # SymPy sorts sums and merges powers: often zero as built
            return True
        # e^{r/q} for several q: one base per r, raised to whole powers.
        denominators: dict[sympy.Symbol, int] = {}
        for power in d.atoms(sympy.Pow):
            if power.base in self.exps.values() and power.exp.is_Rational:
                q = int(power.exp.q)
                denominators[power.base] = math.lcm(denominators.get(power.base, 1), q)
        replace = {
            base: sympy.Symbol(f"{base.name}_root{q}", positive=True) ** q
            for base, q in denominators.items()
            if q > 1
        }
        d = (
            sympy.sympify(d, strict=True).xreplace(replace)
            if replace
            else sympy.sympify(d, strict=True)
        )
        return bool(sympy.cancel(sympy.powsimp(d)) == 0)


def _broadcast(a: Any, b: Any) -> tuple[Any, Any]:
    """A scalar against a matrix is that scalar in every entry (a 1x1 matrix is its entry)."""
    am, bm = isinstance(a, sympy.MatrixBase), isinstance(b, sympy.MatrixBase)
    if am and not bm:
        return a, b * sympy.ones(*a.shape)
    if bm and not am:
        return a * sympy.ones(*b.shape), b
    return a, b


def _normalised(p: sympy.Expr) -> tuple[sympy.Expr, sympy.Rational]:
    """``p = factor * key`` with a canonical ``key`` (content 1, positive leading term)."""
    num, den = sympy.fraction(p)
    if den.is_Rational:
        try:
            poly = sympy.Poly(num)
        except sympy.PolynomialError:
            return p, sympy.Integer(1)
        content, primitive = poly.primitive()
        lead = primitive.LC()
        sign = 1 if lead > 0 else -1
        return (sign * primitive).as_expr(), sign * content / den
    negated = _canon(-p)
    if sympy.default_sort_key(negated) < sympy.default_sort_key(p):
        return negated, sympy.Integer(-1)
    return p, sympy.Integer(1)


def prove_entries(
    before: Node, after: Node, symbols: Mapping[str, Shape], expired: Any
) -> int | None:
    """The number of sign regions in which every entry of the difference is exactly 0, or None
    when some region's difference is not shown to vanish (or the regions are too many)."""
    stack: list[dict[sympy.Expr, int]] = [{}]
    regions = 0
    while stack:
        if expired():
            return None
        decisions = stack.pop()
        entries = _Entries(symbols, decisions)
        try:
            a, b = entries.walk(before), entries.walk(after)
        except _Split as split:
            if regions + len(stack) + 2 > MAX_BRANCHES:
                return None
            stack += [{**decisions, split.key: -1}, {**decisions, split.key: 1}]
            continue
        except (_Unprovable, ZeroDivisionError):
            return None
        a, b = _broadcast(a, b)
        differences = list(a - b) if isinstance(a, sympy.MatrixBase) else [a - b]
        if not all(entries.is_zero(d) for d in differences):
            return None
        regions += 1
    return regions


# --- the verdict --------------------------------------------------------------------------------


def zero_denominator(node: Node) -> bool:
    """Does ``node`` divide by something that is 0 for every value (``A/(x - x)``)?"""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, BinOp) and n.op == "/" and not canonical(n.right):
            return True
        if isinstance(n, Pow) and n.exponent < 0 and n.base.shape is None and not canonical(n.base):
            return True
        stack += [v for v in vars(n).values() if isinstance(v, Node)]
        stack += [a for a in getattr(n, "args", ()) if isinstance(a, Node)]
    return False


def prove_canonical(before: Node, after: Node) -> bool:
    return same_canonical(canonical(before), canonical(after))


def numeric_evidence(
    before: Node,
    after: Node,
    symbols: Mapping[str, Shape],
    names: list[str],
    generics: list[str],
    rng: np.random.Generator,
) -> Evidence:
    """Float64 at points that cross signs and zeros and reach large magnitudes."""
    options = assignments(generics)
    finite = agree = 0
    worst = 0.0
    for trial in range(NUMERIC_TRIALS):
        functions = options[trial % len(options)]
        point = draw_point(symbols, names, rng, trial)
        values = {
            k: (np.asarray(v, dtype=np.float64) if isinstance(v, np.ndarray) else float(v))
            for k, v in point.items()
        }
        generic = {g: f.name for g, f in functions.items()}
        with np.errstate(all="ignore"):
            try:
                a = np.asarray(evaluate(before, values, generic), dtype=np.float64)
                b = np.asarray(evaluate(after, values, generic), dtype=np.float64)
            except (OverflowError, ZeroDivisionError, ValueError):
                continue
        if a.size != b.size or not (np.isfinite(a).all() and np.isfinite(b).all()):
            continue
        a, b = a.ravel(), b.ravel()
        finite += 1
        scale = max(1.0, float(np.max(np.abs(a))), float(np.max(np.abs(b))))
        error = float(np.max(np.abs(a - b))) / scale
        worst = max(worst, error)
        agree += error <= NUMERIC_TOLERANCE
    return Evidence(NUMERIC_TRIALS, finite, agree, worst)
