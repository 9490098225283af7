"""The NumPy evaluator against values worked out by hand, plus its error messages and stability."""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import numpy as np
import pytest

from nndiagram.activations import CONCRETE, activation_for
from nndiagram.errors import SpecError, UsageError
from nndiagram.model import Network
from nndiagram.numeric.forward import (
    check_params,
    collapse_params,
    cost,
    cost_from_logits,
    forward,
    forward_pass,
    init_params,
    load_input,
    load_params,
    network_cost,
)
from nndiagram.verify.engines import evaluate

# The tutorial's figures, as layer sizes.
NEURON = Network.from_sizes([2, 1])
LAYER = Network.from_sizes([2, 2])
LAYER_3 = Network.from_sizes([2, 3])
MULTILAYER = Network.from_sizes([2, 2, 1])


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# --- hand-computed values --------------------------------------------------------------------


def test_one_neuron_is_w0_x0_plus_w1_x1_plus_b() -> None:
    params = {"W0": [[2, 3]], "b0": [1]}
    X = [[1, 0, -1], [1, 2, 0]]  # three samples as columns
    np.testing.assert_array_equal(evaluate(NEURON, params, X), [[6, 7, -1]])


def test_two_neurons_compute_one_row_each() -> None:
    params = {"W0": [[1, 2], [3, 4]], "b0": [0, 1]}
    X = [[1, -1], [1, 2]]
    # z_0 = x_0 + 2 x_1, z_1 = 3 x_0 + 4 x_1 + 1
    np.testing.assert_array_equal(evaluate(LAYER, params, X), [[3, 3], [8, 6]])


def test_three_neurons_two_inputs() -> None:
    params = {"W0": [[1, 0], [0, 1], [1, 1]], "b0": [0, 0, -1]}
    np.testing.assert_array_equal(evaluate(LAYER_3, params, [[2], [5]]), [[2], [5], [6]])


def test_linear_multilayer_matches_w1_w0_x_plus_w1_b0_plus_b1() -> None:
    params = {"W0": [[1, 2], [0, 1]], "b0": [1, -1], "W1": [[3, -1]], "b1": [2]}
    # z0 = [1*1 + 2*2 + 1, 0*1 + 1*2 - 1] = [6, 1]; z1 = 3*6 - 1 + 2 = 19
    np.testing.assert_array_equal(evaluate(MULTILAYER, params, [[1], [2]]), [[19]])


def test_relu_hidden_layer_cuts_negative_units() -> None:
    net = Network.from_sizes([2, 2, 1], ["relu", "identity"])
    params = {"W0": [[1, -1], [-1, 1]], "b0": [0, 0], "W1": [[1, 1]], "b1": [0]}
    # |x_0 - x_1| as relu(x0 - x1) + relu(x1 - x0)
    X = [[3, 1, 2], [1, 4, 2]]
    np.testing.assert_array_equal(evaluate(net, params, X), [[2, 3, 0]])


def test_sigmoid_output_of_the_tutorial_2_2_1() -> None:
    net = Network.from_sizes([2, 2, 1], ["tanh", "sigmoid"])
    params = {"W0": [[1, 0], [0, 1]], "b0": [0, 0], "W1": [[1, 1]], "b1": [0.5]}
    X = np.array([[0.5], [-0.25]])
    expected = sigmoid(math.tanh(0.5) + math.tanh(-0.25) + 0.5)
    assert evaluate(net, params, X)[0, 0] == pytest.approx(expected, rel=1e-15)


def test_softmax_output_sums_to_one_per_column() -> None:
    net = Network.from_sizes([2, 3], "softmax")
    params = {"W0": [[1, 0], [0, 1], [0, 0]], "b0": [0, 0, 0]}
    Y = evaluate(net, params, [[0, 1], [0, 1]])
    e = math.e
    np.testing.assert_allclose(Y[:, 0], [1 / 3] * 3, rtol=1e-15)
    np.testing.assert_allclose(Y[:, 1], [e / (2 * e + 1), e / (2 * e + 1), 1 / (2 * e + 1)])


def test_leaky_relu_uses_the_tutorials_slope() -> None:
    net = Network.from_sizes([1, 1], "leaky_relu")
    Y = evaluate(net, {"W0": [[1]], "b0": [0]}, [[-2, 0, 3]])
    np.testing.assert_allclose(Y, [[-0.02, 0, 3]], rtol=1e-15)


def test_docstring_example_runs() -> None:
    from nndiagram.verify import engines

    result = doctest.testmod(engines, raise_on_error=False, verbose=False)
    assert result.attempted >= 1
    assert result.failed == 0


# --- engines, dtypes, caches -----------------------------------------------------------------


@pytest.mark.parametrize("sizes", [[2, 1], [2, 2, 1], [3, 5, 4, 2], [7, 3, 6, 2, 4]])
def test_collapsed_equals_numpy_for_linear_stacks(sizes: list[int]) -> None:
    net = Network.from_sizes(sizes)
    params = init_params(net, seed=len(sizes))
    X = np.random.default_rng(1).normal(size=(sizes[0], 50))
    np.testing.assert_allclose(
        evaluate(net, params, X, engine="collapsed"),
        evaluate(net, params, X),
        rtol=1e-12,
        atol=1e-12,
    )


def test_collapse_params_are_the_product_chain() -> None:
    params = {"W0": [[1, 2], [0, 1]], "b0": [1, -1], "W1": [[3, -1]], "b1": [2]}
    W, B = collapse_params(MULTILAYER, params)
    np.testing.assert_array_equal(W, [[3, 5]])  # W1 W0
    np.testing.assert_array_equal(B, [6])  # W1 b0 + b1 = 3 + 1 + 2


def test_collapsed_refuses_a_nonlinear_network() -> None:
    net = Network.from_sizes([2, 2, 1], ["relu", "identity"])
    with pytest.raises(UsageError, match=r"all affine .*layer 0 \(ReLU\) is not:"):
        evaluate(net, init_params(net), np.ones((2, 3)), engine="collapsed")


def test_unknown_engine_lists_the_engines() -> None:
    with pytest.raises(UsageError, match="numpy, sympy, collapsed"):
        evaluate(NEURON, init_params(NEURON), np.ones((2, 1)), engine="torch")


@pytest.mark.parametrize("name", [*CONCRETE, "softmax"])
def test_float32_path_agrees_with_float64(name: str) -> None:
    net = Network.from_sizes([4, 8, 3], [name, name])
    params = init_params(net, seed=3)
    X = np.random.default_rng(0).normal(size=(4, 100))
    y32 = evaluate(net, params, X, dtype=np.float32)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, evaluate(net, params, X), rtol=1e-5, atol=1e-6)


def test_forward_pass_caches_every_layer_and_ends_at_forward() -> None:
    net = Network.from_sizes([3, 4, 4, 2], ["sigmoid", "identity", "softmax"])
    params = init_params(net, seed=5)
    X = np.random.default_rng(2).normal(size=(3, 9))
    caches = forward_pass(net, params, X)
    assert [Z.shape for Z, _ in caches] == [(4, 9), (4, 9), (2, 9)]
    Z0, A0 = caches[0]
    np.testing.assert_allclose(A0, 1 / (1 + np.exp(-Z0)), rtol=1e-14)
    assert caches[1][1] is caches[1][0]  # identity: A is Z, no copy
    np.testing.assert_allclose(caches[-1][1], forward(net, params, X), rtol=1e-15)


def test_forward_never_writes_to_x_or_params() -> None:
    net = Network.from_sizes([2, 3, 2], ["relu", "sigmoid"])
    params = init_params(net)
    saved = {k: v.copy() for k, v in params.items()}
    X = np.random.default_rng(0).normal(size=(2, 5))
    X_saved = X.copy()
    forward(net, params, X)
    np.testing.assert_array_equal(X, X_saved)
    for name, value in saved.items():
        np.testing.assert_array_equal(params[name], value)


def test_one_dimensional_x_is_one_column() -> None:
    params = {"W0": [[2, 3]], "b0": [1]}
    np.testing.assert_array_equal(evaluate(NEURON, params, [1, 1]), [[6]])


def test_generic_activation_cannot_be_evaluated() -> None:
    net = Network.from_sizes([2, 2, 1], ["generic", "identity"])
    with pytest.raises(UsageError, match=r"layer 0 uses the generic activation g\[0\]"):
        evaluate(net, init_params(net), np.ones((2, 1)))


def test_init_params_is_seeded_and_shaped() -> None:
    net = Network.from_sizes([3, 4, 2])
    a, b = init_params(net, seed=7), init_params(net, seed=7)
    assert list(a) == ["W0", "b0", "W1", "b1"]
    assert {k: v.shape for k, v in a.items()} == {
        "W0": (4, 3),
        "b0": (4,),
        "W1": (2, 4),
        "b1": (2,),
    }
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(init_params(net, seed=8)["W0"], a["W0"])
    limit = math.sqrt(6 / (3 + 4))
    assert np.abs(a["W0"]).max() <= limit
    f32 = init_params(net, seed=7, dtype=np.float32)
    np.testing.assert_array_equal(f32["W1"], a["W1"].astype(np.float32))


# --- parameter and input errors --------------------------------------------------------------


def test_wrong_weight_shape_names_array_and_both_shapes() -> None:
    params = init_params(MULTILAYER)
    params["W1"] = np.ones((3, 2))
    with pytest.raises(UsageError) as info:
        check_params(MULTILAYER, params)
    assert str(info.value) == "W1 has shape (3, 2) but layer 1 needs (1, 2)"


def test_bias_as_column_is_a_shape_error() -> None:
    params = init_params(MULTILAYER)
    params["b0"] = np.zeros((2, 1))
    with pytest.raises(UsageError, match=r"b0 has shape \(2, 1\) but layer 0 needs \(2,\)"):
        check_params(MULTILAYER, params)


def test_missing_and_extra_arrays_are_named() -> None:
    params = init_params(MULTILAYER)
    del params["b1"]
    with pytest.raises(UsageError, match=r"missing parameter array\(s\): b1 \(1,\)"):
        check_params(MULTILAYER, params)
    params = {**init_params(MULTILAYER), "W2": np.ones((1, 1))}
    with pytest.raises(UsageError, match=r"unexpected parameter array.*W2.*takes W0, b0, W1, b1"):
        check_params(MULTILAYER, params)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_parameters_are_refused(bad: float) -> None:
    params = init_params(MULTILAYER)
    params["W0"][1, 0] = bad
    with pytest.raises(UsageError, match=r"W0 has 1 non-finite value"):
        check_params(MULTILAYER, params)


def test_complex_parameters_are_refused() -> None:
    params = {**init_params(NEURON), "b0": np.array([1 + 2j])}
    with pytest.raises(UsageError, match="b0 has dtype complex128"):
        check_params(NEURON, params)


def test_x_with_wrong_row_count_names_both_shapes() -> None:
    with pytest.raises(UsageError, match=r"X has shape \(3, 4\) but the network has 2 input"):
        evaluate(MULTILAYER, init_params(MULTILAYER), np.ones((3, 4)))


def test_params_file_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "P.npz"
    params = init_params(MULTILAYER, seed=4)
    np.savez(path, **params)
    loaded = load_params(path, MULTILAYER)
    for name in params:
        np.testing.assert_array_equal(loaded[name], params[name])

    np.savez(path, **{**params, "W0": np.ones((2, 3))})
    with pytest.raises(SpecError) as info:
        load_params(path, MULTILAYER)
    assert str(info.value) == f"{path}:1:1: error: W0 has shape (2, 3) but layer 0 needs (2, 2)"

    npy = tmp_path / "W.npy"
    np.save(npy, np.ones((2, 2)))
    with pytest.raises(SpecError, match=r"expected a \.npz archive of W0, b0, W1, b1"):
        load_params(npy, MULTILAYER)
    with pytest.raises(SpecError, match="no such file"):
        load_params(tmp_path / "absent.npz", MULTILAYER)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not numpy at all")
    with pytest.raises(SpecError, match="not a NumPy"):
        load_params(garbage, MULTILAYER)


def test_pickled_object_arrays_are_never_loaded(tmp_path: Path) -> None:
    path = tmp_path / "P.npz"
    objects = np.empty(2, dtype=object)
    objects[:] = [1, 2]
    np.savez(path, **{**init_params(MULTILAYER), "b0": objects})
    with pytest.raises(SpecError, match=r"b0: holds Python objects .* pickled data is never read"):
        load_params(path, MULTILAYER)


def test_input_file_checks(tmp_path: Path) -> None:
    path = tmp_path / "X.npy"
    np.save(path, np.arange(6.0).reshape(2, 3))
    assert load_input(path, MULTILAYER).shape == (2, 3)
    np.save(path, np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(SpecError, match="X has 1 non-finite"):
        load_input(path, MULTILAYER)
    np.savez(tmp_path / "X.npz", X=np.ones((2, 2)))
    with pytest.raises(SpecError, match=r"expected a \.npy array"):
        load_input(tmp_path / "X.npz", MULTILAYER)


# --- stability -------------------------------------------------------------------------------


def loud() -> np.errstate:
    """Overflow, division by zero and invalid values raise; underflow to 0 is the right answer."""
    return np.errstate(over="raise", divide="raise", invalid="raise")


EXTREMES = np.array([-1e4, -800.0, -40.0, -1e-8, 0.0, 1e-8, 40.0, 800.0, 1e4])


@pytest.mark.parametrize("name", [*CONCRETE, "softmax"])
def test_activations_are_silent_and_finite_at_extremes(name: str) -> None:
    activation = activation_for(name)
    assert activation.numpy_fn is not None and activation.numpy_inplace is not None
    Z = np.stack([EXTREMES, -EXTREMES])  # (2, 9): softmax runs over the 2 units
    with loud():
        A = activation.numpy_fn(Z.copy())
        in_place = Z.copy()
        returned = activation.numpy_inplace(in_place)
    assert np.isfinite(A).all()
    assert returned is in_place
    np.testing.assert_array_equal(in_place, A)


def test_sigmoid_and_softmax_limits_at_1e4() -> None:
    net = Network.from_sizes([1, 1], "sigmoid")
    with loud():
        Y = evaluate(net, {"W0": [[1]], "b0": [0]}, [[-1e4, -40, 1e4]])
    assert Y[0, 0] == 0.0 and Y[0, 2] == 1.0
    assert Y[0, 1] == pytest.approx(math.exp(-40), rel=1e-12)  # tail keeps relative accuracy
    soft = Network.from_sizes([2, 2], "softmax")
    with loud():
        S = evaluate(soft, {"W0": [[1, 0], [0, 1]], "b0": [0, 0]}, [[1e4], [-1e4]])
    np.testing.assert_array_equal(S, [[1.0], [0.0]])


# --- losses ----------------------------------------------------------------------------------


def test_mse_is_summed_over_units_and_averaged_over_samples() -> None:
    Y_hat = np.array([[1.0, 2.0], [0.0, 0.0]])
    Y = np.array([[0.0, 0.0], [1.0, 1.0]])
    # sample 1: 1 + 1, sample 2: 4 + 1 -> J = 7 / 2
    assert cost("mse", Y_hat, Y) == 3.5


def test_bce_and_ce_by_hand() -> None:
    Y_hat = np.array([[0.8, 0.4]])
    Y = np.array([[1.0, 0.0]])
    assert cost("bce", Y_hat, Y) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    P = np.array([[0.7, 0.2], [0.3, 0.8]])
    T = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert cost("ce", P, T) == pytest.approx(-(math.log(0.7) + math.log(0.8)) / 2)


def test_cost_takes_the_loss_from_the_network() -> None:
    net = Network.from_sizes([1, 1], "sigmoid", loss="mse")
    assert cost(net, [[0.5]], [[0.0]]) == 0.25
    with pytest.raises(UsageError, match="no loss"):
        cost(Network.from_sizes([1, 1]), [[0.5]], [[0.0]])


def test_losses_are_finite_at_exactly_zero_and_one() -> None:
    with loud():
        assert cost("bce", [[0.0, 1.0]], [[0.0, 1.0]]) == 0.0  # 0 log 0 counts as 0
        wrong = cost("bce", [[0.0, 1.0]], [[1.0, 0.0]])
        assert math.isfinite(wrong) and wrong > 700
        assert math.isfinite(cost("ce", [[0.0], [1.0]], [[1.0], [0.0]]))


def test_from_logits_matches_and_survives_the_tails() -> None:
    Z = np.array([[-3.0, 0.5, 2.0]])
    Y = np.array([[0.0, 1.0, 1.0]])
    sig = 1 / (1 + np.exp(-Z))
    assert cost_from_logits("bce", "sigmoid", Z, Y) == pytest.approx(cost("bce", sig, Y))
    with loud():
        far = cost_from_logits("bce", "sigmoid", [[1e4, -1e4]], [[0.0, 1.0]])
    assert far == pytest.approx(1e4, rel=1e-12)  # log(1 + e^{1e4}) - 0 on average
    Zs = np.array([[2.0, -1.0], [0.0, 1e4], [-1.0, -1e4]])
    Ys = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    with loud():
        ce = cost_from_logits("ce", "softmax", Zs, Ys)
    lse0 = math.log(math.exp(2) + 1 + math.exp(-1))
    assert ce == pytest.approx(((lse0 - 2.0) + 2e4) / 2, rel=1e-12)


def test_network_cost_uses_the_spec_loss() -> None:
    net = Network.from_sizes([2, 3], "softmax", loss="ce")
    params = init_params(net, seed=1)
    X = np.random.default_rng(0).normal(size=(2, 6))
    Y = np.eye(3)[:, [0, 1, 2, 0, 1, 2]]
    assert network_cost(net, params, X, Y) == pytest.approx(
        cost("ce", forward(net, params, X), Y), rel=1e-12
    )


def test_target_shape_mismatch_is_named() -> None:
    with pytest.raises(UsageError, match=r"Y has shape \(1, 3\) but the output has shape \(2, 3\)"):
        cost("mse", np.zeros((2, 3)), np.zeros((1, 3)))


def test_sigmoid_and_tanh_derivatives_keep_relative_accuracy_in_the_tails() -> None:
    z = np.array([-40.0, -7.3, 0.0, 7.3, 40.0, 1e4])
    sig = activation_for("sigmoid").numpy_derivative
    tanh = activation_for("tanh").numpy_derivative
    assert sig is not None and tanh is not None
    exact_sig = [math.exp(-abs(v)) / (1 + math.exp(-abs(v))) ** 2 for v in z[:-1]]
    exact_tanh = [1 / math.cosh(v) ** 2 for v in z[:-1]]
    with loud():
        np.testing.assert_allclose(sig(z)[:-1], exact_sig, rtol=1e-13)
        np.testing.assert_allclose(tanh(z)[:-1], exact_tanh, rtol=1e-13)
        assert sig(z)[-1] == 0.0 and tanh(z)[-1] == 0.0


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu"])
def test_forward_holds_at_most_one_extra_copy_of_the_largest_activation(activation: str) -> None:
    import tracemalloc

    net = Network.from_sizes([50, 200, 100, 10], [activation, activation, "softmax"])
    params = init_params(net)
    X = np.random.default_rng(0).normal(size=(50, 2000))
    largest = 200 * 2000 * 8
    tracemalloc.start()
    try:
        Y = forward(net, params, X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Y.shape == (10, 2000)
    # Layer 0's Z (activated in place) plus layer 1's Z is 1.5x the largest; a copy per
    # activation would make it 2.5x.
    assert peak <= 2 * largest


def test_an_oversized_parameter_is_refused_before_it_is_decompressed(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "P.npz"
    np.savez_compressed(path, **{**init_params(MULTILAYER), "W0": np.zeros((2000, 2000))})
    assert path.stat().st_size < 1_000_000  # 32 MB of zeros, compressed
    tracemalloc.start()
    try:
        with pytest.raises(SpecError, match=r"W0 has shape \(2000, 2000\) but layer 0 needs"):
            load_params(path, MULTILAYER)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
