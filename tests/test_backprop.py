"""The NumPy backward pass against central finite differences of the NumPy cost, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from nndiagram.errors import UsageError
from nndiagram.model import ActivationChoice, Layer, Network
from nndiagram.numeric.backward import gradients
from nndiagram.numeric.forward import init_params, network_cost
from nndiagram.verify.gradients import finite_differences, relative_gradient_error

HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"]
# Every output activation with every loss defined on its range (bce and ce need ŷ in (0, 1)).
OUTPUT_PAIRS = [
    ("identity", "mse"),
    ("sigmoid", "mse"),
    ("tanh", "mse"),
    ("relu", "mse"),
    ("leaky_relu", "mse"),
    ("softmax", "mse"),
    ("sigmoid", "bce"),
    ("sigmoid", "ce"),
    ("softmax", "ce"),
    ("softmax", "bce"),
]


def targets(loss: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if loss == "mse":
        return rng.normal(size=shape)
    if loss == "bce":
        return rng.uniform(size=shape)
    return np.eye(shape[0])[:, rng.integers(shape[0], size=shape[1])]


def fd_error(network: Network, loss: str, seed: int, m: int = 5) -> float:
    rng = np.random.default_rng(seed)
    params = init_params(network, seed=seed)
    X = rng.normal(size=(network.n_inputs, m))
    Y = targets(loss, (network.n_outputs, m), rng)
    backprop = gradients(network, params, X, Y, loss)
    assert {k: v.shape for k, v in backprop.items()} == {
        f"d{k}": v.shape for k, v in params.items()
    }
    return relative_gradient_error(backprop, finite_differences(network, params, X, Y, loss))


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "loss"), OUTPUT_PAIRS)
def test_every_activation_and_loss_pair_matches_finite_differences(
    hidden: str, output: str, loss: str
) -> None:
    network = Network.from_sizes([3, 4, 2], [hidden, output])
    assert fd_error(network, loss, seed=len(hidden) * 7 + len(output)) < 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_random_networks_up_to_three_hidden_layers(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    hidden_layers = 1 + seed % 3
    sizes = [int(n) for n in rng.integers(1, 6, size=hidden_layers + 1)]
    output, loss = OUTPUT_PAIRS[int(rng.integers(len(OUTPUT_PAIRS)))]
    units = int(rng.integers(2, 4)) if output == "softmax" else int(rng.integers(1, 4))
    activations = [HIDDEN[int(i)] for i in rng.integers(len(HIDDEN), size=hidden_layers)]
    network = Network.from_sizes([*sizes, units], [*activations, output])
    assert fd_error(network, loss, seed=seed, m=int(rng.integers(1, 7))) < 1e-6


def test_custom_activation_uses_its_derivative() -> None:
    custom = ActivationChoice("custom", expression="z**3/3 + z")
    layers = (Layer(0, 3, 2, custom), Layer(1, 1, 3, ActivationChoice("sigmoid")))
    assert fd_error(Network(inputs=2, layers=layers), "bce", seed=3) < 1e-6


def test_hand_computed_gradient() -> None:
    # ŷ = 2x: J = ((2-1)² + (4-1)²)/2, dJ/dW = (2·1·1 + 2·3·2)/2 = 7, dJ/db = (2·1 + 2·3)/2 = 4.
    net = Network.from_sizes([1, 1])
    g = gradients(net, {"W0": [[2.0]], "b0": [0.0]}, [[1.0, 2.0]], [[1.0, 1.0]], "mse")
    np.testing.assert_array_equal(g["dW0"], [[7.0]])
    np.testing.assert_array_equal(g["db0"], [4.0])


def test_batch_gradient_is_the_mean_of_per_sample_gradients() -> None:
    net = Network.from_sizes([3, 4, 2], ["tanh", "softmax"])
    rng = np.random.default_rng(5)
    params = init_params(net, seed=5)
    X, Y = rng.normal(size=(3, 6)), targets("ce", (2, 6), rng)
    batch = gradients(net, params, X, Y, "ce")
    singles = [gradients(net, params, X[:, [i]], Y[:, [i]], "ce") for i in range(6)]
    for name, value in batch.items():
        np.testing.assert_allclose(value, np.mean([s[name] for s in singles], axis=0), atol=1e-15)


def test_softmax_ce_with_targets_that_do_not_sum_to_one() -> None:
    # dz = a Σ_k y_k − y in general; a − y only for one-hot or probability targets.
    net = Network.from_sizes([2, 3], "softmax")
    rng = np.random.default_rng(8)
    params = init_params(net, seed=8)
    X, Y = rng.normal(size=(2, 4)), rng.uniform(size=(3, 4))
    backprop = gradients(net, params, X, Y, "ce")
    error = relative_gradient_error(backprop, finite_differences(net, params, X, Y, "ce"))
    assert error < 1e-6


@pytest.mark.parametrize(("output", "loss"), [("sigmoid", "bce"), ("softmax", "ce")])
def test_saturated_outputs_stay_finite(output: str, loss: str) -> None:
    # Logits of ±800: a = 0 or 1 exactly in float64; the simplified dz never divides by a(1-a).
    net = Network.from_sizes([1, 2], output)
    params = {"W0": [[800.0], [-800.0]], "b0": [0.0, 0.0]}
    X = np.array([[1.0, -1.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    g = gradients(net, params, X, Y, loss)
    assert all(np.isfinite(v).all() for v in g.values())
    assert np.isfinite(network_cost(net, params, X, Y, loss))
    # Both samples are confidently wrong: dz = a - y = ±[1, -1], so dW = mean(dz x) = [1, -1].
    np.testing.assert_array_equal(g["dW0"], [[1.0], [-1.0]])
    np.testing.assert_array_equal(g["db0"], [0.0, 0.0])


def test_float32_gradients_keep_their_dtype() -> None:
    net = Network.from_sizes([3, 2, 1], ["relu", "sigmoid"])
    params = init_params(net, seed=1)
    X = np.random.default_rng(1).normal(size=(3, 4))
    g32 = gradients(net, params, X, np.ones((1, 4)), "bce", dtype=np.float32)
    g64 = gradients(net, params, X, np.ones((1, 4)), "bce")
    for name in g64:
        assert g32[name].dtype == np.float32
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-4, atol=1e-6)


def test_loss_comes_from_the_argument_or_the_spec() -> None:
    params = {"W0": [[1.0]], "b0": [0.0]}
    with pytest.raises(UsageError, match="no loss to differentiate"):
        gradients(Network.from_sizes([1, 1]), params, [[1.0]], [[0.0]])
    with_loss = Network.from_sizes([1, 1], "sigmoid", loss="bce")
    from_spec = gradients(with_loss, params, [[1.0]], [[0.0]])
    explicit = gradients(with_loss, params, [[1.0]], [[0.0]], "mse")
    assert from_spec["dW0"][0, 0] == pytest.approx(1 / (1 + np.exp(-1)))  # a - y
    assert explicit["dW0"][0, 0] != from_spec["dW0"][0, 0]


def test_target_shape_errors_name_both_shapes() -> None:
    net = Network.from_sizes([2, 3], "softmax")
    params = init_params(net)
    with pytest.raises(UsageError, match=r"Y has shape \(3, 5\) but the output has shape \(3, 4\)"):
        gradients(net, params, np.zeros((2, 4)), np.zeros((3, 5)), "ce")
    with pytest.raises(UsageError, match=r"W0 has shape \(2, 2\) but layer 0 needs \(3, 2\)"):
        gradients(net, {"W0": np.zeros((2, 2)), "b0": np.zeros(3)}, np.zeros((2, 4)), None, "ce")


def test_generic_activation_has_no_numeric_gradient() -> None:
    net = Network.from_sizes([2, 1], "generic")
    with pytest.raises(UsageError, match="generic activation"):
        gradients(net, init_params(net), np.zeros((2, 1)), np.zeros((1, 1)), "mse")
