"""Two readings of a derivation step: a canonical form, and NumPy values.

- ``canonical`` expands an expression into a non-commutative polynomial: a map from words of
  matrix atoms (``W1 W0 x``, transposes pushed onto symbols) to scalar SymPy coefficients with
  exact rational numbers. Equal maps prove a step for every shape. SymPy's own ``MatMul`` folds
  ``A A`` into a ``MatPow`` it cannot expand, and leaves Hadamard products and sums alone, so
  the normalisation is done here, in the order the factors are written: ``AB`` and ``BA`` are
  different words. A scalar added to a matrix is that scalar times ``ones(n, m)``.
- ``evaluate`` computes a step with NumPy at given values: numeric evidence, never a verdict
  (``proof.py`` decides; ``exact.py`` evaluates exactly).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy

from ..activations import activation_for
from .expr import BinOp, Call, Neg, Node, Num, Ones, Pow, Ref, Sym, Transpose

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
    if isinstance(node, Ones):
        assert node.shape is not None
        return {(("ones", *node.shape),): sympy.Integer(1)}
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
        if node.op in "+-":
            left, right = _broadcast(left, node.left, right, node.right)
            if node.op == "+":
                return _add(left, right)
            return _add(left, _scale(right, sympy.Integer(-1)))
        if node.op == "*":
            return _product(left, right)
        return _scale(left, 1 / right.get((), sympy.Integer(0)))
    assert isinstance(node, Call)
    return _call(node)


def _broadcast(left: Poly, lnode: Node, right: Poly, rnode: Node) -> tuple[Poly, Poly]:
    """A scalar against a matrix: the scalar times the matrix of ones of that shape."""
    if lnode.shape is None and rnode.shape is not None:
        return _product(left, {(("ones", *rnode.shape),): sympy.Integer(1)}), right
    if rnode.shape is None and lnode.shape is not None:
        return left, _product(right, {(("ones", *lnode.shape),): sympy.Integer(1)})
    return left, right


def _call(node: Call) -> Poly:
    args = [canonical(arg) for arg in node.args]
    if node.function == "hadamard":
        out: Poly = {}
        for w1, c1 in args[0].items():
            for w2, c2 in args[1].items():
                out = _add(out, {_hadamard_word(w1, w2): c1 * c2})
        return out
    if node.function == "sum":
        total = sympy.Integer(0)
        for word, c in args[0].items():
            if len(word) == 1 and word[0][0] == "ones":
                total += c * word[0][1] * word[0][2]
                continue
            key = min(repr(word), repr(_transpose_word(word)))  # sum(A^T) = sum(A)
            total += c * sympy.Symbol(f"sum{key}")
        return _clean({(): total})
    if node.function == "identity":
        return args[0]
    if len(node.args) == 2:  # max, min
        a, b = _broadcast(args[0], node.args[0], args[1], node.args[1])
        if node.shape is None:
            scalar = sympy.Function(node.function)
            return _clean({(): scalar(a.get((), sympy.Integer(0)), b.get((), sympy.Integer(0)))})
        return {(("fn2", node.function, _frozen(a), _frozen(b)),): sympy.Integer(1)}
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


def _join(w1: Word, w2: Word) -> tuple[Word, int]:
    """``w1 w2`` with ``ones(n, k) ones(k, m) = k ones(n, m)`` where the two meet."""
    if w1 and w2 and w1[-1][0] == "ones" and w2[0][0] == "ones":
        (_, n, k), (_, _, m) = w1[-1], w2[0]
        return (*w1[:-1], ("ones", n, m), *w2[1:]), k
    return w1 + w2, 1


def _product(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for w1, c1 in a.items():
        for w2, c2 in b.items():
            word, factor = _join(w1, w2)
            out = _add(out, {word: c1 * c2 * factor})
    return out


def _frozen(poly: Poly) -> tuple[tuple[Word, sympy.Expr], ...]:
    return tuple(sorted(poly.items(), key=lambda item: repr(item[0]) + sympy.srepr(item[1])))


def _hadamard_word(w1: Word, w2: Word) -> Word:
    # Hadamard products commute and associate: one sorted multiset of factor words; a matrix
    # of ones is the unit of the product.
    factors: list[Word] = []
    for word in (w1, w2):
        if len(word) == 1 and word[0][0] == "had":
            factors.extend(word[0][1])
        else:
            factors.append(word)
    kept = [w for w in factors if not (len(w) == 1 and w[0][0] == "ones")]
    if not kept:
        return factors[0]
    if len(kept) == 1:
        return kept[0]
    return (("had", tuple(sorted(kept, key=repr))),)


def _transpose_word(word: Word) -> Word:
    return tuple(_transpose_atom(atom) for atom in reversed(word))


def _transpose_atom(atom: tuple[Any, ...]) -> tuple[Any, ...]:
    kind = atom[0]
    if kind == "sym":
        return ("sym", atom[1], not atom[2])
    if kind == "ones":
        return ("ones", atom[2], atom[1])
    if kind == "had":
        return ("had", tuple(sorted((_transpose_word(w) for w in atom[1]), key=repr)))
    if kind == "fn2":  # element-wise max/min: f(A, B)^T = f(A^T, B^T)
        a, b = ({_transpose_word(w): c for w, c in side} for side in atom[2:])
        return ("fn2", atom[1], _frozen(a), _frozen(b))
    if atom[1] == "softmax":  # per column: softmax(X)^T is not softmax(X^T)
        return ("fn", atom[1], atom[2], not atom[3])
    # element-wise: f(X)^T = f(X^T)
    return ("fn", atom[1], _frozen({_transpose_word(w): c for w, c in atom[2]}), False)


def same_canonical(a: Poly, b: Poly) -> bool:
    """Equal forms: every coefficient of the difference cancels to exactly 0."""
    difference = _add(a, _scale(b, sympy.Integer(-1)))
    return all(sympy.cancel(c) == 0 for c in difference.values())


# --- NumPy values ------------------------------------------------------------------------------


def evaluate(node: Node, values: Mapping[str, Any], generic: Mapping[str, str]) -> Any:
    """``node`` in float64 at ``values``; ``generic`` names the function each ``g`` stands for
    (an activation, or a polynomial in ``t`` from ``exact.FAMILY``). Scalars stay scalars."""

    def walk(n: Node) -> Any:
        if isinstance(n, Num):
            return float(n.value)
        if isinstance(n, Sym):
            return values[n.name]
        if isinstance(n, Ones):
            assert n.shape is not None
            return np.ones(n.shape)
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
                out = out @ value
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
            return a @ b
        assert isinstance(n, Call)
        args = [walk(arg) for arg in n.args]
        if n.function == "hadamard":
            return args[0] * args[1]
        if n.function == "sum":
            return float(np.sum(args[0]))
        if n.function in ("max", "min"):
            return (np.maximum if n.function == "max" else np.minimum)(args[0], args[1])
        return _apply(generic.get(n.function, n.function), args[0], n.args[0].shape is None)

    return walk(node)


def numpy_function(name: str) -> Callable[[Any], Any]:
    """An activation by name, ``abs``, ``exp``, or a polynomial in ``t`` of ``exact.FAMILY``."""
    if name == "abs":
        return np.abs
    if name == "exp":
        return np.exp
    if not name.isidentifier():
        from .exact import polynomial

        return polynomial(name)
    fn = activation_for(name).numpy_fn
    assert fn is not None
    return fn


def _apply(name: str, value: Any, scalar: bool) -> Any:
    out = numpy_function(name)(np.array(value, dtype=np.float64, ndmin=2))
    return float(np.asarray(out)[0, 0]) if scalar else out
