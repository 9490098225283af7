"""PyTorch in: live modules read through torch.export (hand-chained forwards too), state_dict
and safetensors files matched to a spec, and the framework row against the module itself."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file

import nndiagram
from nndiagram.errors import NNDiagramError
from nndiagram.importers import from_torch, import_files, import_model
from nndiagram.numeric.forward import forward
from nndiagram.spec import load_spec, load_spec_text


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def torch_output(module: torch.nn.Module, X: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    batch = torch.from_numpy(np.ascontiguousarray(X.T.reshape(X.shape[1], *shape)))
    with torch.no_grad():
        return module.eval()(batch.to(next(module.parameters()).dtype)).double().numpy().T


class HandChained(torch.nn.Module):
    """forward chains F.linear, x @ W.T + b and the activations by hand: no nn.Sequential."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 5)
        self.w2 = torch.nn.Parameter(torch.randn(4, 5))
        self.b2 = torch.nn.Parameter(torch.randn(4))
        self.fc3 = torch.nn.Linear(4, 3, bias=False)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.fc1(x), 0.02)
        x = self.drop(torch.tanh(x @ self.w2.T + self.b2))
        return torch.softmax(self.fc3(x), dim=-1)


def test_hand_chained_float64_module_matches_to_1e_12() -> None:
    torch.manual_seed(0)
    module = HandChained().double().train()  # training mode: read as inference, then restored
    network, params = from_torch(module)
    assert module.training
    assert network.sizes == (6, 5, 4, 3)
    assert network.title == "HandChained"
    names = [(layer.activation.name, layer.activation.alpha) for layer in network.layers]
    assert names == [("leaky_relu", 0.02), ("tanh", None), ("softmax", None)]
    assert np.array_equal(params["b2"], np.zeros(3))  # fc3 has no bias
    X = np.random.default_rng(1).normal(size=(6, 11))
    assert relative(forward(network, params, X), torch_output(module, X, (6,))) < 1e-12
    report = nndiagram.check(network, params=params, against=module)
    row = report.checks[-1]
    assert row.name == "framework" and row.status == "pass" and row.tolerance == 1e-12
    assert "symbolic a^[L]" in row.detail  # small enough for the entry-level equations too
    assert report.passed


def mnist(dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 64),
        torch.nn.Sigmoid(),
        torch.nn.Identity(),
        torch.nn.Linear(64, 10),
    ).to(dtype)


def test_mnist_sized_float32_module_with_an_image_input() -> None:
    module = mnist()
    network, params = from_torch(module, torch.zeros(3, 28, 28))
    assert network.sizes == (784, 128, 64, 10)
    X = np.random.default_rng(2).uniform(size=(784, 20)).astype(np.float32).astype(np.float64)
    assert relative(forward(network, params, X), torch_output(module, X, (28, 28))) < 1e-5
    wrong = {**params, "b2": params["b2"] + 0.1}
    report = nndiagram.check(network, params=wrong, against=module)
    assert not report.passed and report.checks[-1].status == "fail"


def test_unsupported_modules_are_named() -> None:
    conv = torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with pytest.raises(NNDiagramError, match=r"aten\.conv1d"):
        from_torch(conv, torch.zeros(2, 1, 6))
    norm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 1))
    with pytest.raises(NNDiagramError, match=r"layer_norm.*not supported"):
        from_torch(norm)


def architecture(tmp_path: Path, sizes: str = "3-4-2") -> Path:
    fan_in, hidden, out = (int(s) for s in sizes.split("-"))
    path = tmp_path / "arch.yaml"
    path.write_text(
        f"title: From weights\ninputs: {fan_in}\nlayers:\n"
        f"  - {{units: {hidden}, activation: relu}}\n  - {{units: {out}, activation: sigmoid}}\n"
    )
    return path


def small() -> torch.nn.Module:
    torch.manual_seed(3)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.Sigmoid()
    ).double()


def test_state_dict_and_safetensors_match_the_spec(tmp_path: Path) -> None:
    module = small()
    torch.save(module.state_dict(), tmp_path / "small.pt")
    save_file(module.state_dict(), tmp_path / "small.safetensors")
    X = np.random.default_rng(4).normal(size=(3, 5))
    expected = torch_output(module, X, (3,))
    arch = architecture(tmp_path)
    for name in ("small.pt", "small.safetensors"):
        spec, params = tmp_path / f"{name}.yaml", tmp_path / f"{name}.npz"
        imported = import_files(str(tmp_path / name), str(spec), str(params), str(arch))
        assert load_spec(spec).sizes == (3, 4, 2)
        with np.load(params) as arrays:
            assert relative(forward(imported.network, dict(arrays), X), expected) < 1e-12


def test_safetensors_layers_go_in_natural_name_order_and_bfloat16_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    layers = {f"layer{i}": rng.normal(size=(2, 2)) for i in (1, 2, 10)}
    tensors = {f"{k}.weight": v for k, v in layers.items()}
    save_numpy(tensors, tmp_path / "deep.safetensors")
    arch = tmp_path / "deep.yaml"
    arch.write_text("inputs: 2\nlayers: [{units: 2}, {units: 2}, {units: 2}]\n")
    imported = import_model(tmp_path / "deep.safetensors", arch)
    for index, name in enumerate(("layer1", "layer2", "layer10")):
        assert np.array_equal(imported.params[f"W{index}"], layers[name])
    values = torch.tensor([[0.1, -3.0, 7.5], [1e-3, 2.0, -0.25]], dtype=torch.bfloat16)
    save_file({"fc.weight": values}, tmp_path / "bf16.safetensors")
    arch.write_text("inputs: 3\nlayers: [{units: 2}]\n")
    imported = import_model(tmp_path / "bf16.safetensors", arch)
    assert np.array_equal(imported.params["W0"], values.to(torch.float64).numpy())


def refusal(model: Path, spec: Path | None) -> str:
    with pytest.raises(NNDiagramError) as caught:
        import_model(model, spec)
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)
    assert str(model) in str(caught.value)
    return str(caught.value)


class Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, ...]]:
        import os

        return (os.system, (f"touch {self.marker}",))


def test_weights_files_that_do_not_fit_are_named(tmp_path: Path) -> None:
    arch = architecture(tmp_path)
    module = small()
    state = module.state_dict()
    cases = {
        "extra": {**state, "4.weight": torch.zeros(1, 2, dtype=torch.float64)},
        "missing": {k: v for k, v in state.items() if not k.startswith("2.")},
        "shape": {**state, "2.weight": torch.zeros(2, 5, dtype=torch.float64)},
        "transposed": {**state, "0.weight": state["0.weight"].T.contiguous()},
        "int": {**state, "0.weight": torch.ones(4, 3, dtype=torch.int8)},
        "nan": {**state, "2.bias": torch.tensor([0.0, float("nan")], dtype=torch.float64)},
        "batchnorm": {
            **state,
            "1.running_mean": torch.zeros(4),
            "1.num_batches_tracked": torch.tensor(1),
        },
    }
    expected = {
        "extra": "more weight matrices than the spec has layers (2): 4.weight (1, 2) is extra",
        "missing": "the spec has 2 layers but the file has 1 weight matrices",
        "shape": "2.weight has shape (2, 5) but layer 1 of the spec needs (2, 4)",
        "transposed": "stored transposed",
        "int": "tensor '0.weight' has dtype int8",
        "nan": "tensor '2.bias' has 1 non-finite value(s)",
        "batchnorm": "are not one dense layer",
    }
    for name, tensors in cases.items():
        path = tmp_path / f"{name}.pt"
        torch.save(tensors, path)
        assert expected[name] in refusal(path, arch), name
        if name not in ("int", "batchnorm"):  # safetensors says the same
            save_file(
                {k: v.contiguous() for k, v in tensors.items()}, tmp_path / f"{name}.safetensors"
            )
            assert expected[name] in refusal(tmp_path / f"{name}.safetensors", arch), name
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"0.weight": Payload(tmp_path / "ran")}, protocol=2))
    assert "weights_only=True and nothing in it ran" in refusal(evil, arch)
    assert not (tmp_path / "ran").exists()
    torch.save([1, 2, 3], tmp_path / "list.pt")
    assert "holds a list, not a state_dict" in refusal(tmp_path / "list.pt", arch)


def test_safetensors_headers_are_checked_before_the_data(tmp_path: Path) -> None:
    arch = architecture(tmp_path)
    header = b'{"w": {"dtype": "F64", "shape": [4, 3], "data_offsets": [0, 4096]}}'
    bad = tmp_path / "lies.safetensors"
    bad.write_bytes(len(header).to_bytes(8, "little") + header + bytes(96))
    assert "lies outside the data or has the wrong size" in refusal(bad, arch)
    bad.write_bytes((10**12).to_bytes(8, "little") + b"{}")
    assert "header length exceeds the file" in refusal(bad, arch)
    big = b'{"w": {"dtype": "F32", "shape": [20000, 10000], "data_offsets": [0, 800000000]}}'
    bad.write_bytes(len(big).to_bytes(8, "little") + big)
    assert "lies outside the data" in refusal(bad, arch)
    with open(bad, "r+b") as handle:  # now the data is there (a sparse file: no disk used)
        handle.truncate(8 + len(big) + 800_000_000)
    assert "200,000,000 numbers; nndiagram imports models up to 100,000,000" in refusal(bad, arch)


def test_imported_spec_from_a_module_reads_back() -> None:
    from nndiagram.importers.common import spec_text

    network, _ = from_torch(HandChained().double())
    again = load_spec_text(spec_text(network), "again.yaml")
    assert again.sizes == network.sizes
    assert [layer.activation for layer in again.layers] == [
        layer.activation for layer in network.layers
    ]
