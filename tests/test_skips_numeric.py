"""Skip connections in numbers (issue 17): the evaluator, the backward pass and the collapsed
engine against PyTorch modules doing the same in float64 (forward 1e-12, gradients 1e-9
relative), on hand-written specs, through the real CLI, and on random networks with random
skips."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import RunCli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndiagram.model import INPUT, ActivationChoice, Layer, Network
from nndiagram.numeric.backward import gradients
from nndiagram.numeric.forward import collapse_params, forward, init_params
from nndiagram.spec.load import load_spec_text

FORWARD_TOL = 1e-12
GRADIENT_TOL = 1e-9

TORCH_ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "softmax": lambda z: torch.softmax(z, dim=0),
}


class Skips(torch.nn.Module):
    """The network as a PyTorch module: ``nn.Linear`` per layer, ``torch.cat`` and ``+``."""

    def __init__(self, network: Network, params: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.network = network
        self.linears = torch.nn.ModuleList()
        for layer in network.layers:
            linear = torch.nn.Linear(layer.fan_in, layer.units, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(params[f"W{layer.index}"]))
                linear.bias.copy_(torch.from_numpy(params[f"b{layer.index}"]))
            self.linears.append(linear)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # rows are samples here
        outputs = {INPUT: x}
        a = x
        for layer, linear in zip(self.network.layers, self.linears, strict=True):
            stacked = torch.cat([a, *(outputs[s] for s in layer.concat)], dim=1)
            z = linear(stacked)
            if layer.add is not None:
                z = z + outputs[layer.add]
            a = TORCH_ACTIVATIONS[layer.activation.name](z.T).T
            outputs[layer.index] = a
        return a


def torch_loss(loss: str, a: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m = a.shape[0]
    if loss == "mse":
        return ((a - y) ** 2).sum() / m
    if loss == "bce":
        return -(y * torch.log(a) + (1 - y) * torch.log(1 - a)).sum() / m
    return -(y * torch.log(a)).sum() / m


def relative(value: np.ndarray, reference: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(reference))), 1e-300)
    return float(np.max(np.abs(value - reference))) / scale


def agree_with_torch(network: Network, seed: int, loss: str) -> None:
    params = init_params(network, seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(network.inputs, 5))
    out = network.layers[-1].units
    if loss == "ce":
        Y = np.eye(out)[:, rng.integers(0, out, size=5)]
    elif loss == "bce":
        Y = rng.integers(0, 2, size=(out, 5)).astype(float)
    else:
        Y = rng.normal(size=(out, 5))
    module = Skips(network, params)
    a = module(torch.from_numpy(X.T.copy()))
    assert relative(forward(network, params, X), a.detach().numpy().T) <= FORWARD_TOL
    torch_loss(loss, a, torch.from_numpy(Y.T.copy())).backward()
    ours = gradients(network, params, X, Y, loss)
    for layer, linear in zip(network.layers, module.linears, strict=True):
        assert linear.weight.grad is not None and linear.bias.grad is not None
        dW, db = ours[f"dW{layer.index}"], ours[f"db{layer.index}"]
        assert relative(dW, linear.weight.grad.numpy()) <= GRADIENT_TOL, layer.index
        assert relative(db, linear.bias.grad.numpy()) <= GRADIENT_TOL, layer.index


RESIDUAL = """
inputs: 3
layers:
  - units: 3
    activation: relu
    name: h
  - units: 3
    activation: tanh
    add: input
  - units: 3
    activation: sigmoid
    add: h
    concat: [input]
  - units: 2
    activation: softmax
    concat: [h, 1]
"""


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_hand_written_residual_and_concat_net_equals_pytorch(loss: str) -> None:
    agree_with_torch(load_spec_text(RESIDUAL), 3, loss)


def test_gradient_reaches_a_layer_along_the_skip_alone() -> None:
    # Layer 1's W is zero, so the only path from the loss to layer 0 is the skip (add: 0):
    # dz[0] = dz[1] exactly, and dW0 = dz[1] x^T / m.
    network = load_spec_text("inputs: 2\nlayers:\n  - units: 2\n  - units: 2\n    add: 0\n")
    params = {"W0": np.eye(2), "b0": np.zeros(2), "W1": np.zeros((2, 2)), "b1": np.zeros(2)}
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    Y = np.zeros((2, 2))
    grads = gradients(network, params, X, Y, "mse")
    dz = 2 * X  # a1 = a0 = x, ∂L/∂a = 2 (a - y)
    np.testing.assert_allclose(grads["dW0"], dz @ X.T / 2, rtol=1e-15)
    np.testing.assert_allclose(grads["db1"], dz.sum(axis=1) / 2, rtol=1e-15)


def test_linear_network_with_skips_collapses_to_one_affine_map() -> None:
    text = "inputs: 3\nlayers:\n  - units: 3\n  - units: 4\n    add: null\n    concat: [input]\n"
    text += "  - units: 4\n    add: 1\n  - units: 2\n    concat: [0, input]\n"
    network = load_spec_text(text)
    params = init_params(network, 5)
    X = np.random.default_rng(2).normal(size=(3, 7))
    W, B = collapse_params(network, params)
    assert W.shape == (2, 3) and B.shape == (2,)
    np.testing.assert_allclose(W @ X + B[:, None], forward(network, params, X), rtol=1e-12)


def test_identity_residual_adds_the_identity_to_w() -> None:
    network = load_spec_text("inputs: 2\nlayers:\n  - units: 2\n    add: input\n")
    params = {"W0": np.array([[1.0, 2.0], [3.0, 4.0]]), "b0": np.array([0.5, -0.5])}
    W, B = collapse_params(network, params)
    np.testing.assert_array_equal(W, [[2.0, 2.0], [3.0, 5.0]])
    np.testing.assert_array_equal(B, [0.5, -0.5])


def test_evaluate_and_gradients_commands_take_a_skip_spec(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "residual.yaml"
    spec.write_text(RESIDUAL + "loss: ce\n")
    network = load_spec_text(RESIDUAL)
    params = init_params(network, 4)
    X = np.random.default_rng(1).normal(size=(3, 6))
    Y = np.eye(2)[:, [0, 1, 1, 0, 1, 0]]
    np.savez(tmp_path / "P.npz", **params)  # type: ignore[arg-type]
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    result = run_cli(
        "evaluate", str(spec), "--params", str(tmp_path / "P.npz"),
        "--input", str(tmp_path / "X.npy"), "-o", str(tmp_path / "out.npy"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), forward(network, params, X))
    result = run_cli(
        "gradients", str(spec), "--params", str(tmp_path / "P.npz"),
        "--input", str(tmp_path / "X.npy"), "--target", str(tmp_path / "Y.npy"),
        "-o", str(tmp_path / "G.npz"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with np.load(tmp_path / "G.npz") as saved:
        assert saved["dW3"].shape == (2, 9)  # [a2; a0; a1]
        np.testing.assert_allclose(saved["dW3"], gradients(network, params, X, Y, "ce")["dW3"])


def test_a_w_of_the_chain_shape_is_refused_naming_the_summed_fan_in(
    run_cli: RunCli, tmp_path: Path
) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text("inputs: 2\nlayers:\n  - units: 3\n  - units: 1\n    concat: [input]\n")
    np.savez(tmp_path / "P.npz", W0=np.ones((3, 2)), b0=np.ones(3), W1=np.ones((1, 3)), b1=[1.0])
    np.save(tmp_path / "X.npy", np.ones((2, 1)))
    result = run_cli(
        "evaluate", str(spec), "--params", str(tmp_path / "P.npz"),
        "--input", str(tmp_path / "X.npy"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "W1 has shape (1, 3) but layer 1 needs (1, 5)" in result.stderr
    assert result.stderr.count("\n") == 1


# --- random networks with random skips -------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    network: Network
    loss: str


ACTIVATIONS = ["identity", "relu", "tanh", "sigmoid", "leaky_relu"]


@st.composite
def skip_networks(draw: st.DrawFn) -> Plan:
    inputs = draw(st.integers(1, 4))
    widths = [inputs]
    layers: list[Layer] = []
    count = draw(st.integers(1, 4))
    for index in range(count):
        earlier = list(range(-1, index - 1))  # every source but the previous output
        concat: tuple[int, ...] = ()
        if earlier:
            concat = tuple(draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2)))
        add = draw(st.sampled_from([None, *range(-1, index)]))
        units = widths[add + 1] if add is not None else draw(st.integers(1, 4))
        last = index == count - 1
        name = draw(st.sampled_from(["sigmoid", "identity"] if last else ACTIVATIONS))
        choice = ActivationChoice(name, alpha=0.01 if name == "leaky_relu" else None)
        fan_in = widths[-1] + sum(widths[s + 1] for s in concat)
        layers.append(Layer(index, units, fan_in, choice, None, add, concat))
        widths.append(units)
    loss = "bce" if layers[-1].activation.name == "sigmoid" else "mse"
    return Plan(Network(inputs=inputs, layers=tuple(layers)), loss)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(skip_networks(), st.integers(0, 1000))
def test_random_skip_networks_equal_pytorch(plan: Plan, seed: int) -> None:
    agree_with_torch(plan.network, seed, plan.loss)


@settings(max_examples=40, deadline=None)
@given(skip_networks(), st.integers(0, 1000))
def test_random_linear_skip_networks_collapse(plan: Plan, seed: int) -> None:
    layers = tuple(
        Layer(lay.index, lay.units, lay.fan_in, ActivationChoice(), None, lay.add, lay.concat)
        for lay in plan.network.layers
    )
    network = Network(inputs=plan.network.inputs, layers=layers)
    params = init_params(network, seed)
    X = np.random.default_rng(seed).normal(size=(network.inputs, 4))
    W, B = collapse_params(network, params)
    np.testing.assert_allclose(
        W @ X + B[:, None], forward(network, params, X), rtol=1e-11, atol=1e-12
    )
