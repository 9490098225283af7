"""Skip connections imported from ONNX (issue 17): an Add of an earlier output into a layer's
pre-activation is its add, a Concat of the previous output with earlier ones is its concat;
checked against onnxruntime and PyTorch in float64, and through `nndiagram import`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import RunCli
from test_import_onnx import export, onnxruntime_output, relative

from nndiagram.errors import NNDiagramError
from nndiagram.importers import from_onnx
from nndiagram.numeric.forward import forward
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
