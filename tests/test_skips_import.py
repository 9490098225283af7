"""Skip connections imported (issue 17) from ONNX files, PyTorch modules and Keras models: an
add of an earlier output into a layer's pre-activation is its add, a concatenation of the
previous output with earlier ones is its concat; checked against onnxruntime and PyTorch in
float64 (Keras at the float32 it computes in), and through `nndiagram import`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import RunCli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_import_onnx import export, onnxruntime_output, relative
from test_skips_numeric import Plan, skip_networks

import nndiagram
from nndiagram.errors import NNDiagramError
from nndiagram.importers import from_onnx, from_torch
from nndiagram.numeric.forward import forward, init_params
from nndiagram.spec.load import load_spec


class Residual(torch.nn.Module):
    """tanh(W1 relu(W0 x) + b1 + x), then W2 [a1; a0] + b2: an add and a concat."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.l0 = torch.nn.Linear(4, 4)
        self.l1 = torch.nn.Linear(4, 4)
        self.l2 = torch.nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a0 = torch.relu(self.l0(x))
        a1 = torch.tanh(self.l1(a0) + x)
        return self.l2(torch.cat([a1, a0], dim=1))


class AfterActivation(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l0 = torch.nn.Linear(3, 3)
        self.l1 = torch.nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l1(torch.relu(self.l0(x)) + x)


def test_a_pytorch_residual_module_imports_with_add_and_concat(tmp_path: Path) -> None:
    model = Residual().double().eval()
    path = export(model, torch.zeros(1, 4, dtype=torch.float64), tmp_path / "res.onnx")
    network, params = from_onnx(path)
    assert [(layer.add, layer.concat) for layer in network.layers] == [
        (None, ()),
        (-1, ()),
        (None, (0,)),
    ]
    assert network.layers[2].weight_shape == (2, 8)
    X = np.random.default_rng(4).normal(size=(4, 7))
    with torch.no_grad():
        expected = model(torch.from_numpy(X.T)).numpy().T
    assert relative(forward(network, params, X), expected) < 1e-12
    assert relative(forward(network, params, X), onnxruntime_output(path, X.T).T) < 1e-12


def test_import_command_writes_a_spec_with_the_skips(run_cli: RunCli, tmp_path: Path) -> None:
    model = Residual().double().eval()
    path = export(model, torch.zeros(1, 4, dtype=torch.float64), tmp_path / "res.onnx")
    result = run_cli(
        "import", str(path), "-o", str(tmp_path / "res.yaml"), "--params", str(tmp_path / "P.npz")
    )
    assert result.returncode == 0, result.stderr
    network = load_spec(tmp_path / "res.yaml")
    assert network.layers[1].add == -1 and network.layers[2].concat == (0,)
    check = run_cli("check", str(tmp_path / "res.yaml"))
    assert check.returncode == 0, check.stdout


def test_an_add_after_the_activation_is_refused_naming_the_node(tmp_path: Path) -> None:
    model = AfterActivation().double().eval()
    path = export(model, torch.zeros(1, 3, dtype=torch.float64), tmp_path / "after.onnx")
    with pytest.raises(NNDiagramError, match=r"after the activation \(relu\(f\(x\)\) \+ x\)"):
        from_onnx(path)


# --- PyTorch modules read through torch.export -----------------------------------------------


class PostResidual(torch.nn.Module):
    """The issue's block: h = relu(fc1(x)); fc2(h) + h, then a head on cat([h', x])."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.fc1 = torch.nn.Linear(3, 4)
        self.fc2 = torch.nn.Linear(4, 4)
        self.head = torch.nn.Linear(7, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc1(x))
        y = self.fc2(h) + h
        return torch.sigmoid(self.head(torch.cat([y, x], dim=1)))


class InputFirst(torch.nn.Module):
    """``x + self.f(x)`` (the skip first), then ``torch.cat([x, h])`` (the earlier one first)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(6)
        self.f = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
        self.head = torch.nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(x + self.f(x))
        return self.head(torch.cat([x, h], dim=-1))


def torch_forward(module: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(X.T)).numpy().T


def test_a_pytorch_module_with_fc2_h_plus_h_imports_as_add_and_concat() -> None:
    module = PostResidual().double().eval()
    network, params = from_torch(module)
    shape = [(lay.units, lay.add, lay.concat, lay.activation.name) for lay in network.layers]
    assert shape == [(4, None, (), "relu"), (4, 0, (), "identity"), (2, None, (-1,), "sigmoid")]
    assert np.array_equal(params["W2"], module.head.weight.detach().numpy())  # [y; x]: as is
    X = np.random.default_rng(7).normal(size=(3, 9))
    assert relative(forward(network, params, X), torch_forward(module, X)) < 1e-12


def test_x_plus_f_x_and_a_cat_with_the_earlier_output_first_import() -> None:
    module = InputFirst().double().eval()
    network, params = from_torch(module)
    shape = [(lay.units, lay.add, lay.concat, lay.activation.name) for lay in network.layers]
    assert shape == [(5, None, (), "tanh"), (3, -1, (), "relu"), (2, None, (-1,), "identity")]
    # cat([x, h]): nndiagram stacks the previous output first, so W's column blocks swap
    weight = module.head.weight.detach().numpy()
    assert np.array_equal(params["W2"], np.hstack([weight[:, 3:], weight[:, :3]]))
    X = np.random.default_rng(8).normal(size=(3, 9))
    assert relative(forward(network, params, X), torch_forward(module, X)) < 1e-12


class AddOf(torch.nn.Module):
    """An add that is not a skip into a pre-activation, by ``kind``."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.f = torch.nn.Linear(3, 3)
        self.g = torch.nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.f(x)
        if self.kind == "after":
            return torch.relu(z) + x
        if self.kind == "pre-activation":
            return self.g(torch.tanh(z)) + z
        if self.kind == "constant":
            return self.g(torch.tanh(z)) + 1.0
        if self.kind == "alpha":
            return torch.add(self.g(torch.tanh(z)), x, alpha=2.0)
        return self.g(torch.cat([torch.tanh(z), z], dim=1)[:, :3])


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("after", r"'add' \(aten\.add\.Tensor, 3 of 3\): an add after the activation"),
        ("pre-activation", r"'add' \(aten\.add\.Tensor, 4 of 4\): adds 'linear', which is neither"),
        ("constant", r"'add' \(aten\.add\.Tensor, 4 of 4\): adds a constant"),
        ("alpha", r"'add' \(aten\.add\.Tensor, 4 of 4\): an add with alpha"),
        ("cat", r"'cat' \(aten\.cat\.default, 3 of 5\): stacks 'linear', which is neither"),
    ],
)
def test_an_add_or_cat_of_other_values_is_refused_naming_the_operation(
    kind: str, message: str
) -> None:
    with pytest.raises(NNDiagramError, match=message) as caught:
        from_torch(AddOf(kind).double())
    assert "\n" not in str(caught.value)


class FromPlan(torch.nn.Module):
    """A random skip network written as a user would: Linear layers, ``+`` in either order and
    ``torch.cat`` with its pieces in a random order, activations applied to rows."""

    def __init__(self, network: Any, params: dict[str, np.ndarray], seed: int) -> None:
        super().__init__()
        self.network = network
        rng = np.random.default_rng(seed)
        self.swap = [bool(rng.integers(2)) for _ in network.layers]
        self.orders = [list(rng.permutation(len(lay.concat) + 1)) for lay in network.layers]
        self.linears = torch.nn.ModuleList()
        for layer, order in zip(network.layers, self.orders, strict=True):
            sources = layer.sources
            widths = [network.width(s) for s in sources]
            starts = [sum(widths[:i]) for i in range(len(widths))]
            columns = [c for i in order for c in range(starts[i], starts[i] + widths[i])]
            linear = torch.nn.Linear(layer.fan_in, layer.units, dtype=torch.float64)
            with torch.no_grad():  # the columns in the cat's order
                linear.weight.copy_(torch.from_numpy(params[f"W{layer.index}"][:, columns]))
                linear.bias.copy_(torch.from_numpy(params[f"b{layer.index}"]))
            self.linears.append(linear)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = {-1: x}
        for layer, linear in zip(self.network.layers, self.linears, strict=True):
            pieces = [outputs[s] for s in layer.sources]
            order = self.orders[layer.index]
            stacked = torch.cat([pieces[i] for i in order], dim=1) if len(pieces) > 1 else pieces[0]
            z = linear(stacked)
            if layer.add is not None:
                skip = outputs[layer.add]
                z = skip + z if self.swap[layer.index] else z + skip
            name = layer.activation.name
            if name == "leaky_relu":
                outputs[layer.index] = torch.nn.functional.leaky_relu(z, 0.01)
            elif name == "identity":
                outputs[layer.index] = z
            else:
                outputs[layer.index] = getattr(torch, name)(z)
        return outputs[len(self.network.layers) - 1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(skip_networks(), st.integers(0, 1000))
def test_random_skip_modules_import_and_equal_their_forward(plan: Plan, seed: int) -> None:
    network = plan.network
    params = init_params(network, seed)
    module = FromPlan(network, params, seed).eval()
    imported, got = from_torch(module)
    for layer, mine, order in zip(network.layers, imported.layers, module.orders, strict=True):
        # the cat's pieces after the previous output, in the cat's order; W's columns so too
        blocks = [0] + [i for i in order if i != 0]
        assert mine.concat == tuple(layer.sources[i] for i in blocks[1:])
        assert (mine.units, mine.add, mine.activation) == (layer.units, layer.add, layer.activation)
        widths = [network.width(s) for s in layer.sources]
        starts = [sum(widths[:i]) for i in range(len(widths))]
        columns = [c for i in blocks for c in range(starts[i], starts[i] + widths[i])]
        assert np.array_equal(got[f"W{layer.index}"], params[f"W{layer.index}"][:, columns])
        assert np.array_equal(got[f"b{layer.index}"], params[f"b{layer.index}"])
    X = np.random.default_rng(seed).normal(size=(network.inputs, 6))
    assert relative(forward(imported, got, X), torch_forward(module, X)) < 1e-12


def test_a_state_dict_of_a_residual_module_imports_with_its_spec(
    run_cli: RunCli, tmp_path: Path
) -> None:
    module = PostResidual().double().eval()
    torch.save(module.state_dict(), tmp_path / "res.pt")
    arch = tmp_path / "arch.yaml"
    arch.write_text(
        "inputs: 3\nlayers:\n  - {units: 4, activation: relu}\n"
        "  - {units: 4, activation: identity, add: 0}\n"
        "  - {units: 2, activation: sigmoid, concat: [input]}\n"
    )
    spec, P = tmp_path / "res.yaml", tmp_path / "P.npz"
    result = run_cli(
        "import", str(tmp_path / "res.pt"), "--spec", str(arch), "-o", str(spec), "--params", str(P)
    )
    assert result.returncode == 0, result.stderr
    network = load_spec(spec)
    X = np.random.default_rng(9).normal(size=(3, 5))
    with np.load(P) as data:
        params = {name: data[name] for name in data.files}
    assert relative(forward(network, params, X), torch_forward(module, X)) < 1e-12
    # the same file against a chain spec: the concat's summed fan-in is named, exit 2
    arch.write_text(
        "inputs: 3\nlayers:\n  - {units: 4, activation: relu}\n  - {units: 4, add: 0}\n"
        "  - {units: 2, activation: sigmoid}\n"
    )
    bad = run_cli(
        "import", str(tmp_path / "res.pt"), "--spec", str(arch), "-o", str(spec), "--params", str(P)
    )
    assert bad.returncode == 2
    assert "head.weight has shape (2, 7) but layer 2 of the spec needs (2, 4)" in bad.stderr
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("after", "node '/Add' (Add, node 3 of 3): an Add of an earlier output after the activ"),
        ("pre-activation", "node '/Add' (Add, node 4 of 4)"),
        ("cat", "node '/Concat' (Concat, node 3 of 9)"),
    ],
)
def test_the_import_command_refuses_a_bad_add_in_one_line(
    run_cli: RunCli, tmp_path: Path, kind: str, message: str
) -> None:
    path = export(
        AddOf(kind).double().eval(), torch.zeros(1, 3, dtype=torch.float64), tmp_path / "m.onnx"
    )
    spec, P = tmp_path / "m.yaml", tmp_path / "P.npz"
    result = run_cli("import", str(path), "-o", str(spec), "--params", str(P))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}:1:1: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and not spec.exists() and not P.exists()


# --- Keras functional models: Add and Concatenate ----------------------------------------------


def keras_residual(order: str = "chain first") -> Any:
    """Dense(relu) → Dense → Add([z, h]) → Activation(tanh) → Concatenate → Dense(sigmoid)."""
    from test_import_keras import keras

    keras.utils.set_random_seed(11)
    layers = keras.layers
    x = keras.Input((3,), dtype="float64")
    h = layers.Dense(4, activation="relu", name="fc1", dtype="float64")(x)
    z = layers.Dense(4, name="fc2", dtype="float64")(h)
    added = layers.Add(name="add", dtype="float64")([z, h] if order == "chain first" else [h, z])
    a = layers.Activation("tanh", name="act", dtype="float64")(added)
    pieces = [a, x] if order == "chain first" else [x, a]
    stacked = layers.Concatenate(name="cat", dtype="float64")(pieces)
    y = layers.Dense(2, activation="sigmoid", name="head", dtype="float64")(stacked)
    return keras.Model(x, y, name="residual")


@pytest.mark.parametrize("order", ["chain first", "skip first"])
def test_a_keras_functional_model_with_add_and_concatenate_imports(order: str) -> None:
    """Keras 3 computes float64 models in float32 (test_import_keras): its precision holds."""
    from nndiagram.importers import from_keras

    model = keras_residual(order)
    network, params = from_keras(model)
    shape = [(lay.units, lay.add, lay.concat, lay.activation.name) for lay in network.layers]
    assert shape == [(4, None, (), "relu"), (4, 0, (), "tanh"), (2, None, (-1,), "sigmoid")]
    kernel = model.get_layer("head").kernel.value.detach().numpy().T  # (units, fan_in)
    expected = kernel if order == "chain first" else np.hstack([kernel[:, 3:], kernel[:, :3]])
    assert np.array_equal(params["W2"], expected)
    X = np.random.default_rng(12).normal(size=(3, 9))
    keras_out = model(X.T, training=False).detach().numpy().T
    assert relative(forward(network, params, X), keras_out) < 1e-5
    report = nndiagram.check(network, params=params, against=model)
    assert report.passed and report.checks[-1].tolerance == 1e-5


@pytest.mark.slow  # two CLI runs that each start Keras and torch
def test_import_command_reads_a_keras_archive_with_skips(run_cli: RunCli, tmp_path: Path) -> None:
    from test_import_keras import save

    save(keras_residual("skip first"), tmp_path / "res.keras")
    spec, P = tmp_path / "res.yaml", tmp_path / "P.npz"
    result = run_cli("import", str(tmp_path / "res.keras"), "-o", str(spec), "--params", str(P))
    assert result.returncode == 0, result.stderr
    network = load_spec(spec)
    assert network.layers[1].add == 0 and network.layers[2].concat == (-1,)
    against = run_cli(
        "check", str(spec), "--params", str(P), "--against", str(tmp_path / "res.keras")
    )
    assert against.returncode == 0, against.stdout + against.stderr
    assert any(
        line.startswith("framework ") and " pass " in line for line in against.stdout.splitlines()
    )


def test_a_keras_add_after_the_activation_is_refused_in_one_line(
    run_cli: RunCli, tmp_path: Path
) -> None:
    from test_import_keras import keras, save

    x = keras.Input((3,))
    h = keras.layers.Dense(3, activation="relu", name="fc")(x)
    save(keras.Model(x, keras.layers.Add(name="sum")([x, h])), tmp_path / "after.keras")
    result = run_cli(
        "import",
        str(tmp_path / "after.keras"),
        "-o",
        str(tmp_path / "a.yaml"),
        "--params",
        str(tmp_path / "P.npz"),
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "layer 'sum' (Add, layer 3 of 3): an Add after the activation" in result.stderr
    assert not (tmp_path / "a.yaml").exists()


def test_onnx_of_x_plus_f_x_and_cat_with_the_input_first_equals_the_module(
    tmp_path: Path,
) -> None:
    module = InputFirst().double().eval()
    path = export(module, torch.zeros(1, 3, dtype=torch.float64), tmp_path / "first.onnx")
    network, params = from_onnx(path)
    _, traced_params = from_torch(module)
    assert [(lay.add, lay.concat) for lay in network.layers] == [
        (None, ()),
        (-1, ()),
        (None, (-1,)),
    ]
    for name, array in traced_params.items():  # the same columns as torch.export gives
        assert np.array_equal(params[name], array), name
    X = np.random.default_rng(13).normal(size=(3, 7))
    assert relative(forward(network, params, X), torch_forward(module, X)) < 1e-12


class Block(torch.nn.Module):
    """A residual MLP block as it is usually written: ``x + self.net(x)``, maybe then a ReLU."""

    def __init__(self, width: int, post: bool) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(width, width), torch.nn.ReLU(), torch.nn.Linear(width, width)
        )
        self.post = post

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x + self.net(x)
        return torch.relu(y) if self.post else y


class DenseNet(torch.nn.Module):
    """Every layer reads all earlier outputs, stacked with torch.cat (DenseNet-style)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(14)
        self.a = torch.nn.Linear(3, 4)
        self.b = torch.nn.Linear(7, 4)
        self.c = torch.nn.Linear(11, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = torch.relu(self.a(x))
        h2 = torch.relu(self.b(torch.cat([h1, x], 1)))
        return torch.sigmoid(self.c(torch.cat([h2, h1, x], 1)))


@pytest.mark.parametrize("post", [False, True])
def test_nested_residual_blocks_import_and_pass_check_against_the_module(post: bool) -> None:
    torch.manual_seed(15)
    module = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.Tanh(),
        Block(8, post),
        Block(8, post),
        torch.nn.Linear(8, 2),
    ).double()
    network, params = from_torch(module)
    after = "relu" if post else "identity"
    assert [(lay.add, lay.activation.name) for lay in network.layers] == [
        (None, "tanh"), (None, "relu"), (0, after), (None, "relu"), (2, after), (None, "identity")
    ]  # fmt: skip
    X = np.random.default_rng(16).normal(size=(4, 8))
    assert relative(forward(network, params, X), torch_forward(module.eval(), X)) < 1e-12
    report = nndiagram.check(network, params=params, against=module)
    assert report.passed and report.checks[-1].tolerance == 1e-12


def test_a_densenet_style_module_imports_with_every_concat() -> None:
    module = DenseNet().double().eval()
    network, params = from_torch(module)
    assert [lay.concat for lay in network.layers] == [(), (-1,), (0, -1)]
    X = np.random.default_rng(17).normal(size=(3, 8))
    assert relative(forward(network, params, X), torch_forward(module, X)) < 1e-12
