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

from ..errors import UsageError
from .cost import cost_expression
from .derivation import Derivation

Array = np.ndarray
Params = Mapping[str, Any]


def _explicit(derivation: Derivation, what: str) -> None:
    if not derivation.explicit or derivation.entries is None:
        sizes = "-".join(str(s) for s in derivation.network.sizes)
        raise UsageError(f"{what} needs explicit entries; the {sizes} network is in block form")
    if derivation.network.has_generic:
        raise UsageError(f"{what} needs concrete activations; 'generic' g is symbolic only")


def _parameter_symbols(derivation: Derivation) -> list[sympy.Symbol]:
    assert derivation.entries is not None
    symbols: list[sympy.Symbol] = []
    for w, b in zip(derivation.entries.w, derivation.entries.b, strict=True):
        symbols += list(w) + list(b)
    return symbols


def _parameter_values(derivation: Derivation, params: Params) -> list[Any]:
    values: list[Any] = []
    for layer in derivation.network.layers:
        values += list(np.asarray(params[f"W{layer.index}"], dtype=np.float64).ravel())
        values += list(np.asarray(params[f"b{layer.index}"], dtype=np.float64).ravel())
    return values


def _rows(values: list[Any], m: int) -> Array:
    return np.stack([np.broadcast_to(np.asarray(v, dtype=np.float64), (m,)) for v in values])


def output_function(derivation: Derivation) -> Callable[[Params, Array], Array]:
    """``(params, X) -> a^{[L]}`` of shape (units_last, m), from the derived ``output``."""
    _explicit(derivation, "the sympy engine")
    assert derivation.output is not None and derivation.entries is not None
    inputs = list(derivation.entries.x)
    function = sympy.lambdify(
        [inputs, _parameter_symbols(derivation)], list(derivation.output), modules="numpy"
    )

    def evaluate(params: Params, X: Array) -> Array:
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(over="ignore"):
            values = function(list(X), _parameter_values(derivation, params))
        return _rows(values, X.shape[1])

    return evaluate


def collapse_function(derivation: Derivation) -> Callable[[Params], tuple[Array, Array]]:
    """``params -> (W, B)``: the derived ``W = w^{[L]}⋯w^{[0]}`` and ``B``, as numbers."""
    _explicit(derivation, "the collapse function")
    if not derivation.collapsible:
        raise UsageError("only a linear network collapses to W x + B")
    W, B = derivation.collapse_W, derivation.collapse_B
    function = sympy.lambdify([_parameter_symbols(derivation)], [list(W), list(B)], "numpy")

    def evaluate(params: Params) -> tuple[Array, Array]:
        w, b = function(_parameter_values(derivation, params))
        return (np.asarray(w, dtype=np.float64).reshape(W.shape), np.asarray(b, dtype=np.float64))

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
        J = sympy.lambdify([list(cost.y_hat), list(cost.y)], cost.J, "numpy")
        return float(J(list(Y_hat.ravel()), list(np.asarray(Y, dtype=np.float64).ravel())))

    return evaluate
