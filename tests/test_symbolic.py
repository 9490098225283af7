"""The SymPy derivation: matrices, composition, collapse proof, counterexamples, printing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sympy

from nndiagram.model import Network
from nndiagram.numeric.forward import forward, init_params, param_shapes
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
    exact = activation in ("relu", "leaky_relu")
    assert example.difference.is_Rational == exact
    assert example.method.startswith("exact rational" if exact else "certified evalf")
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
        return derivation.output[example.unit].xreplace({**subs, **point})

    gap = f(x1) + f(x2) - 2 * f((x1 + x2) / 2)
    assert abs(sympy.N(gap - example.difference, 50)) < 1e-40
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


def _equations(network: Network) -> dict[str, str]:
    return {eq.name: eq.latex for eq in derive(network).equations}


def test_single_neuron_reads_like_the_tutorial() -> None:
    latex = _equations(Network.from_sizes([2, 1]))
    assert latex["w[0]"] == r"w = \begin{bmatrix} w_0 & w_1 \end{bmatrix}"
    assert latex["b[0]"] == r"b = \begin{bmatrix} b_0 \end{bmatrix}"
    assert latex["z[0]"] == "z = w x + b"
    assert latex["z"] == "z = w_0 x_0 + w_1 x_1 + b"
    assert not any("^{[" in text for text in latex.values())


def test_nested_composition_with_activations() -> None:
    latex = _equations(Network.from_sizes([2, 2, 1], "generic"))
    assert latex["a[1]"] == r"a^{[1]} = g^{[1]}(z^{[1]})"
    assert latex["composition"] == (
        r"a^{[1]} = g^{[1]}\left(w^{[1]} g^{[0]}\left(w^{[0]} x + b^{[0]}\right) + b^{[1]}\right)"
    )
    assert latex["z[1]"] == r"z^{[1]} = w^{[1]} a^{[0]} + b^{[1]}"


def test_collapse_steps_in_the_tutorials_words() -> None:
    latex = _equations(Network.from_sizes([2, 2, 1]))
    assert latex["distribute"] == (
        r"z^{[1]} = w^{[1]} \left(w^{[0]} x + b^{[0]}\right) + b^{[1]}"
        r" = w^{[1]} w^{[0]} x + w^{[1]} b^{[0]} + b^{[1]}"
    )
    assert (
        latex["associate"]
        == r"z^{[1]} = \left(w^{[1]} w^{[0]}\right) x + w^{[1]} b^{[0]} + b^{[1]}"
    )
    assert latex["W="] == r"W = w^{[1]} w^{[0]}"
    assert latex["collapsed"] == (
        r"z^{[1]} = W x + \left(w^{[1]} b^{[0]} + b^{[1]}\right) = W x + B"
    )
    assert latex["B="] == r"B = w^{[1]} b^{[0]} + b^{[1]}"
    assert latex["W"] == (
        r"W = \begin{bmatrix} w^{[1]}_{00} w^{[0]}_{00} + w^{[1]}_{01} w^{[0]}_{10} & "
        r"w^{[1]}_{00} w^{[0]}_{01} + w^{[1]}_{01} w^{[0]}_{11} \end{bmatrix}"
    )


def test_large_explicit_matrices_are_elided() -> None:
    latex = _equations(Network.from_sizes([16, 16, 8]))
    assert latex["x"].startswith(r"x = \begin{bmatrix} x_0 \\ x_1 \\")
    assert latex["x"].endswith(r"x_5 \\ \vdots \\ x_{15} \end{bmatrix}")
    w = latex["w[0]"]
    assert r"w_{0,5} & \cdots & w_{0,15} \\" in w  # one matrix, one spelling
    assert r"\vdots & \ddots & \vdots \\ w_{15,0}" in w
    assert r"w_{15,15} \end{bmatrix}" in w
    assert "W" not in latex  # W, B entry by entry only for small networks


def test_block_form_shows_shapes_and_elided_neurons() -> None:
    derivation = derive(Network.from_sizes([784, 128, 64, 10], ["relu", "relu", "softmax"]))
    assert not derivation.explicit and derivation.output is None
    latex = {eq.name: eq.latex for eq in derivation.equations}
    assert latex["x"] == r"x \in \mathbb{R}^{784}"
    assert latex["w[0]"] == r"w^{[0]} \in \mathbb{R}^{128 \times 784}"
    assert latex["b[2]"] == r"b^{[2]} \in \mathbb{R}^{10}"
    assert latex["z0_127"] == (
        r"z^{[0]}_{127} = w^{[0]}_{127,0} x_0 + w^{[0]}_{127,1} x_1 + \dots"
        r" + w^{[0]}_{127,783} x_{783} + b^{[0]}_{127}"
    )
    assert "z0_2" not in latex  # neurons 0, 1, ⋮, 127
    assert latex["g[2]"] == r"g^{[2]}_j(z) = \frac{e^{z_j}}{\sum_{k} e^{z_k}}"
    assert derivation.counterexample is not None and derivation.proof_holds


def test_affine_custom_activation_collapses_with_c_and_d_folded_in() -> None:
    from nndiagram.model import ActivationChoice, Layer

    network = Network(
        inputs=2,
        layers=(Layer(0, 2, 2, ActivationChoice("custom", expression="2*z + 1")), Layer(1, 1, 2)),
    )
    derivation = derive(network)
    assert derivation.collapsible and derivation.proof_holds
    assert derivation.counterexample is None
    names = [eq.name for eq in derivation.equations]
    assert "affine[0]" in names and "nonlinear" not in names and "undecided" not in names
    # W = w1 (2 w0), B = w1 (2 b0 + 1) + b1, entry by entry
    w0, w1 = derivation.entries.w
    b0, b1 = derivation.entries.b
    assert derivation.collapse_W == (w1 * 2 * w0).applyfunc(sympy.expand)
    ones = sympy.ones(2, 1)
    assert derivation.collapse_B == (w1 * (2 * b0 + ones) + b1).applyfunc(sympy.expand)


def test_repr_latex_for_jupyter() -> None:
    derivation = derive(Network.from_sizes([2, 2, 1]))
    shown = derivation._repr_latex_()
    assert shown.count("$$") == 2 * len(derivation.equations)
    assert (
        r"$$w^{[0]} = \begin{bmatrix} w_{00} & w_{01} \\ w_{10} & w_{11} \end{bmatrix}$$" in shown
    )


def test_sympy_engine_refuses_block_form_and_generic() -> None:
    from nndiagram.errors import UsageError

    with pytest.raises(UsageError, match="block form"):
        output_function(derive(Network.from_sizes([64, 64, 64])))
    with pytest.raises(UsageError, match="generic"):
        output_function(derive(Network.from_sizes([2, 2], "generic")))


def test_softmax_output_matches_numpy() -> None:
    network = Network.from_sizes([3, 4, 3], ["leaky_relu", "softmax"])
    params = init_params(network, seed=2)
    X = np.random.default_rng(4).normal(size=(3, 6))
    Y = output_function(derive(network))(params, X)
    np.testing.assert_allclose(Y, forward(network, params, X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(Y.sum(axis=0), 1.0, rtol=1e-12)


def test_entry_proof_rejects_a_wrong_collapse(monkeypatch: pytest.MonkeyPatch) -> None:
    from nndiagram.symbolic import collapse

    right = collapse.collapse_symengine
    network = Network.from_sizes([3, 3, 2])
    assert collapse.prove_entries(network)

    def without_last_bias(ws: list[object], bs: list[object]) -> tuple[object, object]:
        W, B = right(ws, bs)
        return W, B - bs[-1]  # type: ignore[operator]

    monkeypatch.setattr(collapse, "collapse_symengine", without_last_bias)
    assert not collapse.prove_entries(network)


def test_block_proof_rejects_a_wrong_collapse(monkeypatch: pytest.MonkeyPatch) -> None:
    from nndiagram.symbolic import collapse
    from nndiagram.symbolic.entries import block_symbols
    from nndiagram.symbolic.printing import Names

    # Square layers, so the wrong order w0 w1 w2 still conforms: only non-commutativity rejects it.
    network = Network.from_sizes([4, 4, 4, 4])
    blocks = block_symbols(network, Names())
    assert collapse.prove_blocks(network, blocks)
    right = collapse.collapse_terms

    def reversed_product(b: Any) -> list[Any]:
        terms = right(b)
        return [sympy.MatMul(*b.w, b.x), *terms[1:]]

    monkeypatch.setattr(collapse, "collapse_terms", reversed_product)
    assert not collapse.prove_blocks(network, blocks)
    monkeypatch.setattr(collapse, "collapse_terms", lambda b: right(b)[:-1])
    assert not collapse.prove_blocks(network, blocks)


def test_input_names_that_clash_with_weights_are_refused() -> None:
    from nndiagram.errors import SpecError
    from nndiagram.model import Naming

    network = Network.from_sizes([2, 1], naming=Naming(input_names=("w_0", "x_1")))
    with pytest.raises(SpecError, match="w_0 clash"):
        derive(network)
