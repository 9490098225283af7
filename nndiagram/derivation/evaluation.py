"""Three readings of a derivation step: a canonical form, explicit SymPy entries, NumPy values.

- ``canonical`` expands an expression into a non-commutative polynomial: a map from words of
  matrix atoms (``W1 W0 x``, transposes pushed onto symbols) to scalar SymPy coefficients.
  Equal maps prove a step for every shape. SymPy's own ``MatMul`` folds ``A A`` into a
  ``MatPow`` it cannot expand, and leaves Hadamard products and sums alone, so the
  normalisation is done here, in the order the factors are written: ``AB`` and ``BA`` are
  different words.
- ``explicit`` substitutes matrices of symbolic entries (``W0[0,1]``) and multiplies out: exact
  for the declared shapes, including identities such as ``x^T y = y^T x`` that hold only there.
- ``numeric`` evaluates with NumPy at given values, for random checks and counterexamples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import numpy as np
import sympy

from ..activations import activation_for
from .expr import GENERIC, BinOp, Call, Neg, Node, Num, Pow, Ref, Sym, Transpose

Word = tuple[Any, ...]  # atoms, each a hashable tuple
Poly = dict[Word, sympy.Expr]


# --- canonical form ---------------------------------------------------------------------------


def canonical(node: Node) -> Poly:
    """The expanded non-commutative polynomial of ``node``; a scalar is ``{(): c}``."""
    if isinstance(node, Num):
        return _clean({(): sympy.Rational(node.value.numerator, node.value.denominator)})
    if isinstance(node, Sym):
        if node.shape is None:
            return {(): sympy.Symbol(node.name)}
        return {(("sym", node.name, False),): sympy.Integer(1)}
    if isinstance(node, Ref):
        return canonical(node.body)
    if isinstance(node, Neg):
        return _scale(canonical(node.operand), sympy.Integer(-1))
    if isinstance(node, Transpose):
        return {_transpose_word(w): c for w, c in canonical(node.operand).items()}
    if isinstance(node, Pow):
        base = canonical(node.base)
        if node.base.shape is None:
            return _clean({(): base.get((), sympy.Integer(0)) ** node.exponent})
        out = base
        for _ in range(node.exponent - 1):
            out = _product(out, base)
        return out
    if isinstance(node, BinOp):
        left, right = canonical(node.left), canonical(node.right)
        if node.op == "+":
            return _add(left, right)
        if node.op == "-":
            return _add(left, _scale(right, sympy.Integer(-1)))
        if node.op == "*":
            return _product(left, right)
        return _scale(left, 1 / right.get((), sympy.Integer(0)))
    assert isinstance(node, Call)
    return _call(node)


def _call(node: Call) -> Poly:
    args = [canonical(arg) for arg in node.args]
    if node.function == "hadamard":
        out: Poly = {}
        for w1, c1 in args[0].items():
            for w2, c2 in args[1].items():
                out = _add(out, {(_hadamard_atom(w1, w2),): c1 * c2})
        return out
    if node.function == "sum":
        total = sympy.Integer(0)
        for word, c in args[0].items():
            key = min(repr(word), repr(_transpose_word(word)))  # sum(A^T) = sum(A)
            total += c * sympy.Symbol(f"sum{key}")
        return _clean({(): total})
    if node.function == "identity":
        return args[0]
    if node.args[0].shape is None:
        return _clean({(): sympy.Function(node.function)(args[0].get((), sympy.Integer(0)))})
    return {(("fn", node.function, _frozen(args[0]), False),): sympy.Integer(1)}


def _clean(poly: Poly) -> Poly:
    out: Poly = {}
    for word, c in poly.items():
        c = sympy.expand(c)
        if c != 0:
            out[word] = c
    return out


def _add(a: Poly, b: Poly) -> Poly:
    out = dict(a)
    for word, c in b.items():
        out[word] = out.get(word, sympy.Integer(0)) + c
    return _clean(out)


def _scale(a: Poly, factor: sympy.Expr) -> Poly:
    return _clean({word: c * factor for word, c in a.items()})


def _product(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for w1, c1 in a.items():
        for w2, c2 in b.items():
            out = _add(out, {w1 + w2: c1 * c2})
    return out


def _frozen(poly: Poly) -> tuple[tuple[Word, sympy.Expr], ...]:
    return tuple(sorted(poly.items(), key=lambda item: repr(item[0]) + sympy.srepr(item[1])))


def _hadamard_atom(w1: Word, w2: Word) -> tuple[Any, ...]:
    # Hadamard products commute and associate: one sorted multiset of factor words.
    factors: list[Word] = []
    for word in (w1, w2):
        if len(word) == 1 and word[0][0] == "had":
            factors.extend(word[0][1])
        else:
            factors.append(word)
    return ("had", tuple(sorted(factors, key=repr)))


def _transpose_word(word: Word) -> Word:
    return tuple(_transpose_atom(atom) for atom in reversed(word))


def _transpose_atom(atom: tuple[Any, ...]) -> tuple[Any, ...]:
    kind = atom[0]
    if kind == "sym":
        return ("sym", atom[1], not atom[2])
    if kind == "had":
        return ("had", tuple(sorted((_transpose_word(w) for w in atom[1]), key=repr)))
    if atom[1] == "softmax":  # per column: softmax(X)^T is not softmax(X^T)
        return ("fn", atom[1], atom[2], not atom[3])
    # element-wise: f(X)^T = f(X^T)
    return ("fn", atom[1], _frozen({_transpose_word(w): c for w, c in atom[2]}), False)


def same_canonical(a: Poly, b: Poly) -> bool:
    difference = _add(a, _scale(b, sympy.Integer(-1)))
    return all(sympy.simplify(c) == 0 for c in difference.values())


# --- explicit SymPy entries and NumPy values ---------------------------------------------------


class Algebra:
    """How one backend multiplies, transposes and applies functions."""

    def __init__(
        self,
        number: Callable[[Num], Any],
        matmul: Callable[[Any, Any], Any],
        hadamard: Callable[[Any, Any], Any],
        total: Callable[[Any], Any],
        apply: Callable[[str, Any, bool], Any],
    ) -> None:
        self.number, self.matmul, self.hadamard, self.total, self.apply = (
            number,
            matmul,
            hadamard,
            total,
            apply,
        )


def evaluate(node: Node, values: Mapping[str, Any], algebra: Algebra) -> Any:
    """``node`` at ``values`` (one per symbol) in ``algebra``; scalars stay scalars."""

    def walk(n: Node) -> Any:
        if isinstance(n, Num):
            return algebra.number(n)
        if isinstance(n, Sym):
            return values[n.name]
        if isinstance(n, Ref):
            return walk(n.body)
        if isinstance(n, Neg):
            return -walk(n.operand)
        if isinstance(n, Transpose):
            value = walk(n.operand)
            return value if n.operand.shape is None else value.T
        if isinstance(n, Pow):
            value = walk(n.base)
            if n.base.shape is None:
                return value**n.exponent
            out = value
            for _ in range(n.exponent - 1):
                out = algebra.matmul(out, value)
            return out
        if isinstance(n, BinOp):
            a, b = walk(n.left), walk(n.right)
            if n.op == "+":
                return a + b
            if n.op == "-":
                return a - b
            if n.op == "/":
                return a / b
            if n.left.shape is None or n.right.shape is None:
                return a * b
            return algebra.matmul(a, b)
        assert isinstance(n, Call)
        args = [walk(arg) for arg in n.args]
        if n.function == "hadamard":
            return algebra.hadamard(args[0], args[1])
        if n.function == "sum":
            return algebra.total(args[0])
        return algebra.apply(n.function, args[0], n.args[0].shape is None)

    return walk(node)


@cache
def _sympy_function(name: str) -> sympy.Lambda:
    t = sympy.Symbol("t", real=True)
    if GENERIC.match(name):
        return sympy.Lambda(t, sympy.Function(name)(t))
    return sympy.Lambda(t, activation_for(name).sympy_expr(t))


def _sympy_apply(name: str, value: Any, scalar: bool) -> Any:
    if name == "softmax":
        exps = value.applyfunc(sympy.exp)
        columns = [exps[:, j] / sum(exps[:, j]) for j in range(exps.shape[1])]
        return sympy.Matrix.hstack(*columns)
    f = _sympy_function(name)
    return f(value) if scalar else value.applyfunc(f)


EXPLICIT = Algebra(
    number=lambda n: sympy.Rational(n.value.numerator, n.value.denominator),
    matmul=lambda a, b: a * b,
    hadamard=lambda a, b: a.multiply_elementwise(b),
    total=lambda a: sympy.Add(*a),
    apply=_sympy_apply,
)


def explicit_values(symbols: Mapping[str, tuple[int, int] | None]) -> dict[str, Any]:
    """A matrix of real symbolic entries per symbol: ``W0`` → ``[[W0[0,0], …]]``."""
    values: dict[str, Any] = {}
    for name, shape in symbols.items():
        if shape is None:
            values[name] = sympy.Symbol(name, real=True)
        else:
            values[name] = sympy.Matrix(
                *shape, lambda i, j, n=name: sympy.Symbol(f"{n}[{i},{j}]", real=True)
            )
    return values


def numpy_algebra(generic: Mapping[str, str]) -> Algebra:
    """NumPy evaluation; ``generic`` names the concrete activation each ``g`` stands for."""

    def apply(name: str, value: Any, scalar: bool) -> Any:
        concrete = generic.get(name, name)
        fn = activation_for(concrete).numpy_fn
        assert fn is not None
        out = fn(np.array(value, dtype=np.float64, ndmin=2))
        return float(out[0, 0]) if scalar else out

    return Algebra(
        number=lambda n: float(n.value),
        matmul=lambda a, b: a @ b,
        hadamard=lambda a, b: a * b,
        total=lambda a: float(np.sum(a)),
        apply=apply,
    )
