"""The SymPy derivation: matrices, composition, collapse proof, counterexamples, printing."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from nndiagram.model import Network
from nndiagram.numeric import forward, init_params, param_shapes
from nndiagram.symbolic import collapse_function, derive, output_function


@pytest.mark.parametrize(
    "sizes", [[2, 1], [2, 2, 1], [3, 4, 4, 2], [2, 3, 3, 3, 1], [5, 8, 3], [1, 1, 1, 1, 1, 1]]
)
def test_linear_stack_collapse_is_proved_in_entries(sizes: list[int]) -> None:
    derivation = derive(Network.from_sizes(sizes))
    assert derivation.explicit and derivation.collapsible and derivation.proof_holds
    W, B = derivation.collapse_W, derivation.collapse_B
    assert W.shape == (sizes[-1], sizes[0]) and B.shape == (sizes[-1], 1)
    # W x + B equals the layer-by-layer output, expanded by SymPy here (independent of symengine).
    difference = (derivation.output - (W * derivation.input_symbols + B)).expand()
    assert difference == sympy.zeros(sizes[-1], 1)


@pytest.mark.parametrize("sizes", [[784, 128, 64, 10], [40, 40], [33, 5, 5, 5, 2]])
def test_linear_stack_collapse_is_proved_in_blocks(sizes: list[int]) -> None:
    derivation = derive(Network.from_sizes(sizes))
    assert not derivation.explicit and derivation.proof_holds
    assert derivation.collapse_W.shape == (sizes[-1], sizes[0])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("sizes", [[2, 1], [2, 2, 1], [3, 4, 2]])
def test_nonlinear_network_has_an_exact_counterexample(activation: str, sizes: list[int]) -> None:
    network = Network.from_sizes(sizes, activation)
    derivation = derive(network)
    example = derivation.counterexample
    assert not derivation.collapsible and derivation.proof_holds and example is not None
    assert all(v.is_Rational for m in example.params.values() for v in m)
    arrays = example.arrays()
    assert {k: v.shape for k, v in arrays.items()} == param_shapes(network)
    assert all(v.is_Rational for x in example.inputs for v in x)
    # Re-evaluate with the derived output itself: f(x1) + f(x2) - 2 f(midpoint) is not zero.
    subs: dict[sympy.Symbol, sympy.Expr] = {}
    for layer in network.layers:
        i = layer.index
        subs.update(zip(derivation.weight_symbols[i], example.params[f"W{i}"], strict=True))
        subs.update(zip(derivation.bias_symbols[i], example.params[f"b{i}"], strict=True))
    x1, x2 = example.inputs

    def f(x: sympy.MatrixBase) -> sympy.Expr:
        point = dict(zip(derivation.input_symbols, x, strict=True))
        return derivation.output[example.unit].subs({**subs, **point})

    gap = f(x1) + f(x2) - 2 * f((x1 + x2) / 2)
    assert sympy.simplify(gap - example.difference) == 0
    assert abs(float(gap)) > 1e-6


def test_output_function_matches_numpy_forward() -> None:
    network = Network.from_sizes([3, 4, 2], ["tanh", "sigmoid"])
    params = init_params(network, seed=3)
    X = np.random.default_rng(1).normal(size=(3, 7))
    Y = output_function(derive(network))(params, X)
    assert Y.shape == (2, 7)
    np.testing.assert_allclose(Y, forward(network, params, X), rtol=1e-12, atol=1e-12)


def test_collapse_function_gives_the_product_chain() -> None:
    network = Network.from_sizes([3, 4, 2])
    params = init_params(network, seed=5)
    W, B = collapse_function(derive(network))(params)
    np.testing.assert_allclose(W, params["W1"] @ params["W0"], rtol=1e-12)
    np.testing.assert_allclose(B, params["W1"] @ params["b0"] + params["b1"], rtol=1e-12)
