"""The derived expressions as NumPy functions (``lambdify``): an evaluation path independent of
``numeric.py``, used by ``--engine sympy`` and by ``verify``.

Parameters come as ``P.npz`` arrays (``W0`` of shape (units, fan_in), ``b0`` of shape (units,)),
inputs as columns ``X`` of shape (n_inputs, m).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy

from .. import notation
from ..errors import UsageError
from ..expressions import lambdify_modules
from ..model import INPUT
from .collapse import collapse_symengine
from .cost import cost_expression
from .derivation import Derivation
from .entries import activate
from .skips import _maps_symengine as skip_maps

Array = np.ndarray
Params = Mapping[str, Any]


def _explicit(derivation: Derivation, what: str) -> None:
    if not derivation.explicit or derivation.entries is None:
        sizes = "-".join(str(s) for s in derivation.network.sizes)
        from .derivation import EXPLICIT_MAX_PATHS, EXPLICIT_MAX_WIDTH

        raise UsageError(
            f"{what} needs explicit entries, which stop at layers of {EXPLICIT_MAX_WIDTH} units "
            f"and a product of sizes of {EXPLICIT_MAX_PATHS:,}; the {sizes} network is in "
            "block form: use --engine numpy (the default; `nndiagram check` compares the two "
            "on networks small enough)"
        )
    if derivation.network.has_generic:
        raise UsageError(f"{what} needs concrete activations; 'generic' g is symbolic only")


def _parameter_values(derivation: Derivation, params: Params) -> list[Any]:
    values: list[Any] = []
    for layer in derivation.network.layers:
        values += list(np.asarray(params[f"W{layer.index}"], dtype=np.float64).ravel())
        values += list(np.asarray(params[f"b{layer.index}"], dtype=np.float64).ravel())
    return values


def _rows(values: list[Any], m: int) -> Array:
    return np.stack([np.broadcast_to(np.asarray(v, dtype=np.float64), (m,)) for v in values])


def _layer_functions(derivation: Derivation, index: int) -> tuple[Any, Any]:
    """Layer ``index``'s derived equations, lambdified: ``z_j = Σ_k w_jk a_k + b_j`` in its own
    symbols, and ``a = g(z)`` in fresh ``z`` symbols (so SymPy never applies ``g`` to a long sum,
    where ``tanh``'s simplifications alone took seconds for a 32-wide layer)."""
    assert derivation.entries is not None
    network, entries = derivation.network, derivation.entries
    layer = network.layers[index]
    inputs = [
        sympy.Symbol(notation.layer_input(network, index, k).key) for k in range(layer.fan_in)
    ]
    w, b = entries.w[index], entries.b[index]
    # An ``add`` skip's output enters as its own arguments (it may also be among the inputs).
    added = [sympy.Dummy(f"added_{j}") for j in range(layer.units if layer.add is not None else 0)]
    z = [
        sympy.Add(*(w[j, k] * inputs[k] for k in range(layer.fan_in)), b[j], *added[j : j + 1])
        for j in range(layer.units)
    ]
    linear = sympy.lambdify([inputs, list(w) + list(b), added], z, modules="numpy")
    units = [
        sympy.Symbol(notation.pre_activation(network, index, j).key) for j in range(layer.units)
    ]
    if layer.activation.name == "softmax" and layer.units > 1:
        # Shifted by the largest z, as NumPy's softmax is: e^{1000} would overflow to nan.
        top = sympy.Max(*units)
        exps = [sympy.exp(u - top) for u in units]
        a: Any = [e / sympy.Add(*exps) for e in exps]
    else:
        a = list(activate(network, index, sympy.ImmutableMatrix(units), derivation.names))
    return linear, sympy.lambdify([units], a, modules=lambdify_modules())


def output_function(derivation: Derivation) -> Callable[[Params, Array], Array]:
    """``(params, X) -> a^{[L]}`` of shape (units_last, m).

    Each layer's derived equations are lambdified on their own and composed: the same values as
    lambdifying the nested ``output``, without building an expression that grows with the
    product of the layer widths (32-32-16: a fraction of a second instead of 10+ s).
    """
    _explicit(derivation, "the sympy engine")
    layers = [_layer_functions(derivation, i.index) for i in derivation.network.layers]

    def evaluate(params: Params, X: Array) -> Array:
        a = np.asarray(X, dtype=np.float64)
        m = a.shape[1]
        outputs = {INPUT: a}
        with np.errstate(over="ignore"):
            for layer, (linear, activation) in zip(derivation.network.layers, layers, strict=True):
                W = np.asarray(params[f"W{layer.index}"], dtype=np.float64)
                b = np.asarray(params[f"b{layer.index}"], dtype=np.float64)
                stacked = [row for source in layer.sources for row in outputs[source]]
                added = [] if layer.add is None else list(outputs[layer.add])
                z = _rows(linear(stacked, [*W.ravel(), *b.ravel()], added), m)
                a = _rows(activation(list(z)), m)
                outputs[layer.index] = a
        return a

    return evaluate


def collapse_function(derivation: Derivation) -> Callable[[Params], tuple[Array, Array]]:
    """``params -> (W, B)``: the derived ``W = w^{[L]}⋯w^{[0]}`` and ``B``, as numbers.

    symengine multiplies the derivation's symbol matrices and compiles the entries
    (``Lambdify``); SymPy's ``lambdify`` of the same 16 000 monomials (32-32-16) takes seconds.
    """
    import symengine as se

    _explicit(derivation, "the collapse function")
    if not derivation.collapsible:
        raise UsageError("only a network of affine activations collapses to W x + B")
    assert derivation.entries is not None

    def matrix(m: sympy.MatrixBase) -> Any:
        return se.Matrix(m.rows, m.cols, [se.Symbol(s.name) for s in m])

    ws = [matrix(w) for w in derivation.entries.w]
    bs = [matrix(b) for b in derivation.entries.b]
    args = [s for pair in zip(ws, bs, strict=True) for m in pair for s in m]
    if derivation.network.has_skips:
        W, B = skip_maps(derivation.network, ws, bs, derivation.affine)
    else:
        if derivation.affine is not None:  # each g(z) = c z + d folded in: c w, c b + d
            forms = derivation.affine
            ws = [w if f.c == 1 else w * se.sympify(f.c) for w, f in zip(ws, forms, strict=True)]
            bs = [
                b
                if f.c == 1 and f.d == 0
                else b * se.sympify(f.c) + se.ones(b.rows, 1) * se.sympify(f.d)
                for b, f in zip(bs, forms, strict=True)
            ]
        W, B = collapse_symengine(ws, bs)
    function = se.Lambdify(args, [*W.expand(), *B.expand()], backend="lambda")
    shape = (W.rows, W.cols)

    def evaluate(params: Params) -> tuple[Array, Array]:
        values = np.asarray(function(_parameter_values(derivation, params)), dtype=np.float64)
        return values[: W.rows * W.cols].reshape(shape), values[W.rows * W.cols :]

    return evaluate


def cost_function(
    derivation: Derivation, loss: str | None = None
) -> Callable[[Params, Array, Array], float]:
    """``(params, X, Y) -> J``: the symbolic cost of the network's output over the m samples."""
    _explicit(derivation, "the cost function")
    output = output_function(derivation)

    def evaluate(params: Params, X: Array, Y: Array) -> float:
        Y_hat = output(params, X)
        m = Y_hat.shape[1]
        cost = cost_expression(derivation.network, m, loss)
        J = sympy.lambdify([list(cost.y_hat), list(cost.y)], cost.J, lambdify_modules())
        return float(J(list(Y_hat.ravel()), list(np.asarray(Y, dtype=np.float64).ravel())))

    return evaluate
