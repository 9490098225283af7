"""Proofs: a linear stack collapses to ``W x + B``; a nonlinear one does not (a counterexample).

Entry level (``prove_entries``): symengine multiplies the symbolic matrices twice — once layer by
layer, ``w^{[L]}(⋯(w^{[0]} x + b^{[0]})⋯) + b^{[L]}``, once as ``W x + B`` with
``W = w^{[L]}⋯w^{[0]}`` and ``B = Σ_l (w^{[L]}⋯w^{[l+1]}) b^{[l]}`` — and expands the difference;
the identity holds when every entry expands to 0. symengine is about 100× faster than SymPy's
``expand`` here (32-32-16: a tenth of a second against seconds; ``benchmarks/bench_symbolic.py``);
SymPy stays the printer.

Block level (``prove_blocks``): the same identity with ``MatrixSymbol`` s, which holds at any size:
SymPy distributes the ``MatMul`` over the ``MatAdd`` s and the canonical difference must be the
``ZeroMatrix``.

Counterexample (``find_counterexample``): an affine ``f`` maps the midpoint of two inputs to the
midpoint of their outputs, ``f(x¹) + f(x²) = 2 f((x¹ + x²)/2)``. Weights ``w^{[l]}_{00} = 1``, every
other weight and every bias 0 send ``x_0`` alone down a chain of each layer's first neuron, so
output 0 is ``h(x_0) = g^{[L]}(⋯g^{[0]}(x_0))``; a few rational pairs are tried until the
identity fails. Evaluation is exact SymPy arithmetic (Rationals; ``exp`` stays symbolic). The
difference is then certified nonzero: exactly when it is a Rational (ReLU, leaky ReLU), otherwise
by ``evalf(60, strict=True)`` — SymPy's evalf tracks the error of every operation and, with
``strict``, raises instead of returning a value it cannot guarantee, so a magnitude above
10⁻⁴⁰ at 60 correct digits fixes the sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy

from .. import notation
from ..activations import activation_for
from ..model import ActivationChoice, Network
from .entries import BlockSymbols

# Pairs (t¹, t²) for x_0; the first is enough for ReLU-like kinks at 0, the second for smooth ones.
CANDIDATES: tuple[tuple[int, int], ...] = ((-1, 1), (0, 2), (-2, 1), (1, 3), (-3, -1))
CERTIFY_DIGITS = 60
CERTIFY_FLOOR = sympy.Rational(1, 10**40)


def collapse_symengine(ws: Sequence[Any], bs: Sequence[Any]) -> tuple[Any, Any]:
    """``W = w^{[L]}⋯w^{[0]}`` and ``B = Σ_l (w^{[L]}⋯w^{[l+1]}) b^{[l]}`` as symengine matrices."""
    import symengine as se

    W = ws[0]
    for w in ws[1:]:
        W = w * W
    B = se.zeros(ws[-1].rows, 1)
    for i, b in enumerate(bs):
        product = b
        for w in ws[i + 1 :]:
            product = w * product
        B = B + product
    return W, B


def prove_entries(network: Network) -> bool:
    """symengine: the layer-by-layer output minus ``W x + B`` expands to zero in every entry."""
    import symengine as se

    def matrix(base: str, rows: int, cols: int) -> Any:
        names = [se.Symbol(f"{base}_{i}_{j}") for i in range(rows) for j in range(cols)]
        return se.Matrix(rows, cols, names)

    x = matrix("x", network.inputs, 1)
    ws = [matrix(f"w{i.index}", i.units, i.fan_in) for i in network.layers]
    bs = [matrix(f"b{i.index}", i.units, 1) for i in network.layers]
    layered = x
    for w, b in zip(ws, bs, strict=True):
        layered = w * layered + b
    W, B = collapse_symengine(ws, bs)
    difference = (layered - (W * x + B)).expand()
    return all(entry == 0 for entry in difference)


def prove_blocks(network: Network, blocks: BlockSymbols) -> bool:
    """SymPy: ``w^{[L]}(⋯) + b^{[L]}`` expanded is ``W x + B`` for matrix symbols of any size."""
    layered: Any = blocks.x
    for i in range(len(network.layers)):
        layered = blocks.w[i] * layered + blocks.b[i]
    collapsed = sympy.MatAdd(*collapse_terms(blocks))
    difference = (sympy.expand(layered) - collapsed).doit()
    return bool(difference == sympy.ZeroMatrix(*difference.shape))


def collapse_terms(blocks: BlockSymbols) -> list[Any]:
    """``[w^{[L]}⋯w^{[0]} x, w^{[L]}⋯w^{[1]} b^{[0]}, …, b^{[L]}]`` in the tutorial's order."""
    terms: list[Any] = [sympy.MatMul(*reversed(blocks.w), blocks.x)]
    for i, b in enumerate(blocks.b):
        later = list(reversed(blocks.w[i + 1 :]))
        terms.append(sympy.MatMul(*later, b) if later else b)
    return terms


@dataclass(frozen=True)
class Counterexample:
    """Exact parameters and two inputs where the network's output is not affine.

    ``params`` uses ``P.npz`` names and shapes: ``W{l}`` a (sparse) SymPy matrix, ``b{l}`` a 1-D
    SymPy ``Array`` of shape (units,), so ``np.asarray(v, dtype=float)`` gives the ``.npz`` arrays;
    ``inputs`` holds x¹ and x² (columns); ``outputs`` f(x¹), f(x²), f((x¹+x²)/2);
    ``difference`` is ``f(x¹) + f(x²) − 2 f((x¹+x²)/2)`` at output ``unit``, proved nonzero by
    ``method``. ``substituted`` names the concrete activation a generic ``g^{[l]}`` was given.
    """

    params: dict[str, Any]
    inputs: tuple[sympy.ImmutableMatrix, sympy.ImmutableMatrix]
    outputs: tuple[sympy.ImmutableMatrix, sympy.ImmutableMatrix, sympy.ImmutableMatrix]
    unit: int
    difference: Any
    value: str
    method: str
    substituted: dict[int, str] = field(default_factory=dict)

    def arrays(self) -> dict[str, Any]:
        """``params`` as float64 arrays in the ``P.npz`` shapes (``b{l}`` of shape (units,))."""
        import numpy as np

        return {name: np.asarray(v.tolist(), dtype=np.float64) for name, v in self.params.items()}


def _sparse_forward(
    network: Network, params: dict[str, Any], x: Sequence[Any], choices: list[Any]
) -> list[Any]:
    """The exact forward pass, touching only non-zero weights (a 784-wide layer stays cheap)."""
    a = list(x)
    for layer in network.layers:
        W, b = params[f"W{layer.index}"], params[f"b{layer.index}"]
        z = list(b)
        for j, k, v in W.row_list():
            z[j] += v * a[k]
        choice = choices[layer.index]
        if choice.name == "softmax":
            exps = [sympy.exp(v) for v in z]
            a = [e / sympy.Add(*exps) for e in exps]
        else:
            formula = activation_for(choice).sympy_expr
            a = [formula(v) for v in z]
    return a


def _certify(difference: Any) -> tuple[str, str] | None:
    """``(value, method)`` when ``difference`` is provably nonzero, else None."""
    if difference.is_Rational:
        return (str(difference), "exact rational arithmetic") if difference != 0 else None
    try:
        value = sympy.N(difference, CERTIFY_DIGITS, strict=True)
    except (sympy.core.evalf.PrecisionExhausted, ValueError, TypeError):
        return None
    if not value.is_Number or abs(value) < CERTIFY_FLOOR:
        return None
    return (
        str(sympy.N(difference, 20)),
        f"certified evalf ({CERTIFY_DIGITS} digits, strict; |difference| > 1e-40)",
    )


def find_counterexample(network: Network) -> Counterexample | None:
    """Exact parameters and inputs where ``f(x¹) + f(x²) ≠ 2 f((x¹+x²)/2)``; None if none found."""
    substituted = {i.index: "relu" for i in network.layers if i.activation.name == "generic"}
    choices = [
        ActivationChoice("relu") if i.index in substituted else i.activation for i in network.layers
    ]
    params: dict[str, Any] = {}
    for layer in network.layers:
        params[f"W{layer.index}"] = sympy.ImmutableSparseMatrix(
            layer.units, layer.fan_in, {(0, 0): sympy.Integer(1)}
        )
        params[f"b{layer.index}"] = sympy.ImmutableDenseNDimArray([0] * layer.units)
    n = network.inputs
    for t1, t2 in CANDIDATES:
        points = [sympy.Rational(t1), sympy.Rational(t2), sympy.Rational(t1 + t2, 2)]
        columns = [[p, *([sympy.Integer(0)] * (n - 1))] for p in points]
        ys = [_sparse_forward(network, params, c, choices) for c in columns]
        for unit in range(network.n_outputs):
            difference = ys[0][unit] + ys[1][unit] - 2 * ys[2][unit]
            certified = _certify(difference)
            if certified is None:
                continue
            inputs = tuple(sympy.ImmutableMatrix(c) for c in columns)
            outputs = tuple(sympy.ImmutableMatrix(y) for y in ys)
            return Counterexample(
                params=params,
                inputs=(inputs[0], inputs[1]),
                outputs=(outputs[0], outputs[1], outputs[2]),
                unit=unit,
                difference=difference,
                value=certified[0],
                method=certified[1],
                substituted=substituted,
            )
    return None


def describe_counterexample(network: Network, example: Counterexample) -> tuple[str, str]:
    """The counterexample as one LaTeX line and one text line."""
    n = network.naming
    firsts = [notation.weight(network, i.index, 0, 0) for i in network.layers]
    weights_latex = ", ".join(w.latex() for w in firsts)
    weights_text = ", ".join(w.text() for w in firsts)
    x0 = notation.layer_input(network, 0, 0)
    t1, t2 = example.inputs[0][0, 0], example.inputs[1][0, 0]
    mid = (t1 + t2) / 2
    f = notation.Sym("f", (n.index(example.unit),)) if network.n_outputs > 1 else notation.Sym("f")
    exact = sympy.latex(example.difference)
    value = "" if example.difference.is_Rational else rf" \approx {example.value}"
    latex = (
        rf"\text{{with }} {weights_latex} = 1 \text{{, every other weight and bias }} 0"
        rf"\text{{, and }} f(t) \text{{ the output at }} {x0.latex()} = t"
        rf"\text{{, the other inputs }} 0:\quad "
        rf"{f.latex()}({t1}) + {f.latex()}({t2}) - 2\,{f.latex()}({sympy.latex(mid)})"
        rf" = {exact}{value} \neq 0"
    )
    value_text = "" if example.difference.is_Rational else f" ≈ {example.value}"
    text = (
        f"with {weights_text} = 1, every other weight and bias 0, and f(t) the output at "
        f"{x0.text()} = t, the other inputs 0: {f.text()}({t1}) + {f.text()}({t2}) − "
        f"2·{f.text()}({mid}) = {sympy.sstr(example.difference)}{value_text} ≠ 0"
    )
    return latex, text
