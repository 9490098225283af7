"""The three engines agree: NumPy vs the lambdified SymPy output on random networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import DIAGRAMS, RunCli

from nndiagram.activations import CONCRETE
from nndiagram.errors import UsageError
from nndiagram.model import Network
from nndiagram.numeric.forward import init_params
from nndiagram.verify.engines import evaluate


@pytest.mark.parametrize("name", [*CONCRETE, "softmax"])
def test_sympy_engine_matches_numpy_for_every_activation(name: str) -> None:
    rng = np.random.default_rng(sum(map(ord, name)))  # fixed per activation
    sizes = [int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(2, 4))]
    last = "softmax" if name == "softmax" else "sigmoid"
    net = Network.from_sizes(sizes, [name if name != "softmax" else "tanh", last])
    params = init_params(net, seed=int(rng.integers(1000)))
    X = rng.normal(scale=2.0, size=(sizes[0], 25))
    np.testing.assert_allclose(
        evaluate(net, params, X, engine="sympy"), evaluate(net, params, X), rtol=1e-12, atol=1e-15
    )


def test_sympy_engine_on_a_mixed_deeper_network() -> None:
    net = Network.from_sizes([3, 4, 3, 2], ["relu", "leaky_relu", "identity"])
    params = init_params(net, seed=9)
    X = np.random.default_rng(4).normal(size=(3, 40))
    np.testing.assert_allclose(
        evaluate(net, params, X, engine="sympy"), evaluate(net, params, X), rtol=1e-12, atol=1e-15
    )


def test_sympy_engine_refuses_generic() -> None:
    net = Network.from_sizes([2, 1], "generic")
    with pytest.raises(UsageError, match="generic"):
        evaluate(net, init_params(net), np.ones((2, 1)), engine="sympy")


def test_sympy_engine_through_the_cli(run_cli: RunCli, tmp_path: Path) -> None:
    from nndiagram.spec.load import load_spec

    network = load_spec(DIAGRAMS / "xor.yaml")
    params = init_params(network, seed=2)
    X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    np.savez(tmp_path / "P.npz", **params)
    np.save(tmp_path / "X.npy", X)
    outputs = {}
    for engine in ("numpy", "sympy"):
        out = tmp_path / f"{engine}.npy"
        result = run_cli(
            "evaluate", "diagrams/xor.yaml", "--params", str(tmp_path / "P.npz"),
            "--input", str(tmp_path / "X.npy"), "-o", str(out), "--engine", engine,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs[engine] = np.load(out)
    assert outputs["numpy"].shape == (1, 4)
    np.testing.assert_allclose(outputs["sympy"], outputs["numpy"], rtol=1e-12)
