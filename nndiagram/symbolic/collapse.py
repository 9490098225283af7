"""Proofs: a linear stack collapses to ``W x + B``; a nonlinear one does not (a counterexample).

Entry level (``prove_entries``): symengine multiplies the symbolic matrices twice — once layer by
layer, ``w^{[L]}(⋯(w^{[0]} x + b^{[0]})⋯) + b^{[L]}``, once as ``W x + B`` with
``W = w^{[L]}⋯w^{[0]}`` and ``B = Σ_l (w^{[L]}⋯w^{[l+1]}) b^{[l]}`` — and expands the difference;
the identity holds when every entry expands to 0. symengine is about 100× faster than SymPy's
``expand`` here (32-32-16: a tenth of a second against seconds; ``benchmarks/bench_symbolic.py``);
SymPy stays the printer.

Block level (``prove_blocks``): the same identity with ``MatrixSymbol`` s, which holds at any size:
SymPy distributes the ``MatMul`` over the ``MatAdd`` s and the canonical difference must be the
``ZeroMatrix``. Beyond ``DEEP_LAYERS`` layers that expansion grows quadratically, so the proof is
by induction on the layers (``prove_by_induction``): one small block identity per layer shape.

Counterexample (``find_counterexample``): an affine ``f`` maps the midpoint of two inputs to the
midpoint of their outputs, ``f(x¹) + f(x²) = 2 f((x¹ + x²)/2)``. Weights ``w^{[l]}_{00} = 1``, every
other weight and every bias 0 send ``x_0`` alone down a chain of each layer's first neuron, so
output 0 is ``h(x_0) = g^{[L]}(⋯g^{[0]}(x_0))``; a few rational pairs are tried until the
identity fails. Only that scalar chain is evaluated, so the width of the layers costs nothing;
its depth is bounded (``EXACT_MAX_DEPTH`` nested non-rational activations), beyond which no
counterexample is claimed and ``too_deep`` says why. Evaluation is exact SymPy arithmetic
(Rationals; ``exp`` stays symbolic). The difference is then certified nonzero: exactly when it
is a Rational (ReLU, leaky ReLU), otherwise by ``evalf(60, strict=True)`` — SymPy's evalf
tracks the error of every operation and, with ``strict``, raises instead of returning a value it
cannot guarantee, so a magnitude above 10⁻⁴⁰ at 60 correct digits fixes the sign.
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
# Activations that map rationals to rationals: exact at any depth.
RATIONAL = frozenset({"identity", "relu", "leaky_relu", "generic"})
# Nested exact formulas beyond this are not searched: SymPy's exact values and their certified
# evaluation grow about fourfold every two sigmoid layers (8: half a second, 12: ten seconds).
EXACT_MAX_DEPTH = 8
DEEP_LAYERS = 6  # deeper stacks: proved by induction, printed with ⋯
SHOWN_OPS = 24  # longer exact values are shown by their certified decimals


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
    """SymPy: ``w^{[L]}(⋯) + b^{[L]}`` expanded is ``W x + B`` for matrix symbols of any size.

    Deeper than ``DEEP_LAYERS``, the expansion grows quadratically: proved by induction instead.
    """
    if len(network.layers) > DEEP_LAYERS:
        return prove_by_induction(blocks)
    layered: Any = blocks.x
    for i in range(len(network.layers)):
        layered = blocks.w[i] * layered + blocks.b[i]
    collapsed = sympy.MatAdd(*collapse_terms(blocks))
    difference = (sympy.expand(layered) - collapsed).doit()
    return bool(difference == sympy.ZeroMatrix(*difference.shape))


def prove_by_induction(blocks: BlockSymbols) -> bool:
    """``a^{[l]} = W^{[l]} x + B^{[l]}`` for every ``l``, with ``W^{[0]} = w^{[0]}``,
    ``B^{[0]} = b^{[0]}`` (the base case, true as written) and the step
    ``w^{[l]}(W^{[l-1]} x + B^{[l-1]}) + b^{[l]} = (w^{[l]} W^{[l-1]}) x + (w^{[l]} B^{[l-1]} +
    b^{[l]})``, expanded by SymPy with fresh symbols for ``W^{[l-1]}``, ``B^{[l-1]}``. The step
    depends on the layer only through its shapes, so each shape is proved once.
    """
    x = blocks.x
    proved: dict[tuple[Any, ...], bool] = {}
    for w, b in zip(blocks.w[1:], blocks.b[1:], strict=True):
        shape = (*w.shape, *x.shape)
        if shape not in proved:
            W = sympy.MatrixSymbol("W_previous", w.shape[1], x.shape[0])
            B = sympy.MatrixSymbol("B_previous", w.shape[1], 1)
            layered = w * (W * x + B) + b
            collapsed = sympy.MatMul(w, W) * x + (w * B + b)
            difference = (sympy.expand(layered) - collapsed).doit()
            proved[shape] = bool(difference == sympy.ZeroMatrix(*difference.shape))
        if not proved[shape]:
            return False
    return True


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

    ``params`` uses ``P.npz`` names and shapes: ``W{l}`` a sparse SymPy matrix, ``b{l}`` a sparse
    1-D SymPy array of shape (units,) (``arrays()`` gives the ``.npz`` arrays); ``inputs`` holds
    x¹ and x² (sparse columns: only ``x_0`` is non-zero); ``outputs`` the output ``unit`` at x¹,
    x² and (x¹+x²)/2; ``difference`` is ``f(x¹) + f(x²) − 2 f((x¹+x²)/2)`` there, proved
    nonzero by ``method``. ``substituted`` names the concrete activation a generic ``g^{[l]}``
    was given. Everything is sparse so a 10⁶-wide layer costs nothing here.
    """

    params: dict[str, Any]
    inputs: tuple[sympy.ImmutableSparseMatrix, sympy.ImmutableSparseMatrix]
    outputs: tuple[Any, Any, Any]
    unit: int
    difference: Any
    value: str
    method: str
    substituted: dict[int, str] = field(default_factory=dict)

    def arrays(self) -> dict[str, Any]:
        """``params`` as float64 arrays in the ``P.npz`` shapes (``b{l}`` of shape (units,))."""
        return {name: dense(value) for name, value in self.params.items()}

    def input_arrays(self) -> tuple[Any, Any]:
        """x¹ and x² as float64 columns."""
        return dense(self.inputs[0]), dense(self.inputs[1])


def nonzero(value: Any) -> list[tuple[tuple[int, ...], Any]]:
    """The non-zero entries of a sparse SymPy matrix or 1-D array, without touching the zeros."""
    if isinstance(value, sympy.MatrixBase):
        return [((i, j), v) for i, j, v in value.row_list()]
    items = getattr(value, "_sparse_array", None)
    if items is None:  # a dense array
        return [((i,), v) for i, v in enumerate(value) if v != 0]
    return [((int(k),), v) for k, v in sorted(items.items()) if v != 0]


def dense(value: Any) -> Any:
    """A sparse SymPy matrix or array as a float64 NumPy array of the same shape."""
    import numpy as np

    out = np.zeros(tuple(int(s) for s in value.shape), dtype=np.float64)
    for index, v in nonzero(value):
        out[index] = float(v)
    return out


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


def _unit_zero(layer_units: int, choice: ActivationChoice, z: Any) -> Any:
    """Unit 0 of a layer whose ``z`` is ``(z, 0, …, 0)``; softmax is the one that reads the rest."""
    if choice.name == "softmax":
        e = sympy.exp(z)
        return e / (e + (layer_units - 1))
    return activation_for(choice).sympy_expr(z)


def exact_depth(network: Network) -> int:
    """Nested non-rational functions along the chain: one per ``exp``/``tanh``/… a layer's
    activation applies (identity, ReLU and leaky ReLU keep rationals rational and count 0)."""
    depth = 0
    for layer in network.layers:
        if layer.activation.name in RATIONAL:
            continue
        if layer.activation.name == "custom":
            expr = activation_for(layer.activation).sympy_expr(sympy.Symbol("z"))
            depth += max(1, len(expr.atoms(sympy.Function)))
        else:
            depth += 1
    return depth


def too_deep(network: Network) -> str | None:
    """Why the exact search is not attempted (each such layer nests one more exact formula)."""
    depth = exact_depth(network)
    if depth <= EXACT_MAX_DEPTH:
        return None
    return (
        f"{depth} nested non-rational activations: the exact search stops at "
        f"{EXACT_MAX_DEPTH}, so no counterexample is claimed"
    )


def find_counterexample(network: Network) -> Counterexample | None:
    """Exact parameters and inputs where ``f(x¹) + f(x²) ≠ 2 f((x¹+x²)/2)``; None if none found.

    Only unit 0 of each layer sees the input (``w^{[l]}_{00} = 1``, all else 0), so output 0 is
    the scalar chain ``h(t)``: the cost is independent of the layers' widths. A network deeper
    than ``EXACT_MAX_DEPTH`` non-rational layers is not searched (see ``too_deep``).
    """
    if too_deep(network) is not None:
        return None
    substituted = {i.index: "relu" for i in network.layers if i.activation.name == "generic"}
    choices = [
        ActivationChoice("relu") if i.index in substituted else i.activation for i in network.layers
    ]
    params: dict[str, Any] = {}
    for layer in network.layers:
        params[f"W{layer.index}"] = sympy.ImmutableSparseMatrix(
            layer.units, layer.fan_in, {(0, 0): sympy.Integer(1)}
        )
        params[f"b{layer.index}"] = sympy.ImmutableSparseNDimArray({}, (layer.units,))

    def h(t: Any) -> Any:
        for layer, choice in zip(network.layers, choices, strict=True):
            t = _unit_zero(layer.units, choice, t)
        return t

    return midpoint_counterexample(h, network.inputs, params, substituted)


def midpoint_counterexample(
    h: Any, n_inputs: int, params: Any, substituted: Any
) -> Counterexample | None:
    """A certified ``h(t1) + h(t2) - 2 h((t1 + t2) / 2) != 0`` along the first input, where
    ``h`` is the network's first output as a function of that input; None if no candidate
    pair certifies one."""
    for t1, t2 in CANDIDATES:
        points = [sympy.Rational(t1), sympy.Rational(t2), sympy.Rational(t1 + t2, 2)]
        ys = [h(p) for p in points]
        difference = ys[0] + ys[1] - 2 * ys[2]
        certified = _certify(difference)
        if certified is None:
            continue
        inputs = [sympy.ImmutableSparseMatrix(n_inputs, 1, {(0, 0): p}) for p in points]
        return Counterexample(
            params=params,
            inputs=(inputs[0], inputs[1]),
            outputs=(ys[0], ys[1], ys[2]),
            unit=0,
            difference=difference,
            value=certified[0],
            method=certified[1],
            substituted=substituted,
        )
    return None


def _weights_one(network: Network) -> list[Any]:
    """``w^{[0]}_{00}, w^{[1]}_{00}, …``: all of them, or the first two, ``…`` and the last."""
    layers = [i.index for i in network.layers]
    if len(layers) > 4:
        layers = [layers[0], layers[1], -1, layers[-1]]
    return [None if i < 0 else notation.weight(network, i, 0, 0) for i in layers]


def _value(value: Any, decimals: str) -> tuple[str, str]:
    """``= exact`` as (LaTeX, text), or ``≈ decimals`` when the exact formula is long."""
    if value.is_Rational or sympy.count_ops(value) <= SHOWN_OPS:
        exact = (f"= {sympy.latex(value)}", f"= {sympy.sstr(value)}")
        if value.is_Rational:
            return exact
        return rf"{exact[0]} \approx {decimals}", f"{exact[1]} ≈ {decimals}"
    return rf"\approx {decimals}", f"≈ {decimals}"


def describe_counterexample(network: Network, example: Counterexample) -> list[tuple[str, str]]:
    """The counterexample as a few short lines, each (LaTeX, text): the parameters, ``f``, its
    values at the three points, and the defect of affinity with how it was proved nonzero."""
    weights = _weights_one(network)
    weights_latex = " = ".join(r"\dots" if w is None else w.latex() for w in weights)
    weights_text = " = ".join("…" if w is None else w.text() for w in weights)
    x0 = notation.layer_input(network, 0, 0)
    last = len(network.layers) - 1
    linear = network.layers[last].activation.is_identity
    output = (notation.pre_activation if linear else notation.activation)(
        network, last, example.unit
    )
    t1, t2 = example.inputs[0][0, 0], example.inputs[1][0, 0]
    points = (t1, t2, (t1 + t2) / 2)
    others = network.inputs > 1  # a network of one input has no other input to set to 0
    t = "u" if x0.text() == "t" else "t"  # an input named t: not 'at t = t'
    lines = [
        (
            rf"{weights_latex} = 1, \quad \text{{every other weight and every bias}} = 0",
            f"{weights_text} = 1, every other weight and every bias = 0",
        ),
        (
            rf"f({t}) = {output.latex()} \quad \text{{at }} {x0.latex()} = {t}"
            + (r"\text{, every other input } 0" if others else ""),
            f"f({t}) = {output.text()} at {x0.text()} = {t}"
            + (", every other input 0" if others else ""),
        ),
    ]
    for point, value in zip(points, example.outputs, strict=True):
        shown = _value(value, str(sympy.N(value, 20)))
        lines.append((f"f({sympy.latex(point)}) {shown[0]}", f"f({point}) {shown[1]}"))
    shown = _value(example.difference, example.value)
    mid = points[2]
    how = (
        "exact"
        if example.difference.is_Rational
        else f"nonzero: {CERTIFY_DIGITS} digits certified by SymPy's strict evalf"
    )
    lines.append(
        (
            rf"f({t1}) + f({t2}) - 2\,f({sympy.latex(mid)}) {shown[0]} \neq 0"
            rf" \quad \text{{({how})}}",
            f"f({t1}) + f({t2}) − 2·f({mid}) {shown[1]} ≠ 0  ({how})",
        )
    )
    return lines
