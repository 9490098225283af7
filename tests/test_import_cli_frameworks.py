"""`nndiagram import` of a Keras archive and of a safetensors file through the console script,
then `check --against` the Keras model: the whole path a user takes, framework start-up included."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import RunCli

from nndiagram.spec import load_spec


@pytest.mark.slow
def test_keras_archive_imports_and_checks_against_itself(run_cli: RunCli, tmp_path: Path) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)],
        name="small_keras_net",
    )
    with warnings.catch_warnings():  # Keras' own __array__ deprecation on the torch backend
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(tmp_path / "net.keras")
    spec, params = tmp_path / "net.yaml", tmp_path / "net.npz"
    done = run_cli("import", "net.keras", "-o", str(spec), "--params", str(params), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert load_spec(spec).title == "small_keras_net"
    check = run_cli(
        "check", str(spec), "--params", str(params), "--against", "net.keras", cwd=tmp_path
    )
    assert check.returncode == 0, check.stdout + check.stderr
    row = next(line for line in check.stdout.splitlines() if line.startswith("framework"))
    assert row.split()[1] == "pass" and "Keras" in row


def test_safetensors_with_an_architecture_spec(run_cli: RunCli, tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    tensors = {
        "hidden.weight": rng.normal(size=(4, 3)),
        "hidden.bias": rng.normal(size=4),
        "out.weight": rng.normal(size=(1, 4)),
    }
    save_file(tensors, tmp_path / "w.safetensors")
    arch = tmp_path / "arch.yaml"
    arch.write_text(
        "title: Mine\ninputs: 3\nlayers:\n  - {units: 4, activation: relu}\n  - {units: 1}\n"
    )
    spec, params = tmp_path / "net.yaml", tmp_path / "net.npz"
    args = (
        "import",
        "w.safetensors",
        "--spec",
        str(arch),
        "-o",
        str(spec),
        "--params",
        str(params),
    )
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert load_spec(spec).title == "Mine"
    with np.load(params) as arrays:
        assert np.array_equal(arrays["W0"], tensors["hidden.weight"])
        assert np.array_equal(arrays["b1"], np.zeros(1))
    arch.write_text("inputs: 3\nlayers:\n  - {units: 5}\n  - {units: 1}\n")
    (spec.unlink(), params.unlink())
    refused = run_cli(*args, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        "w.safetensors:1:1: error: hidden.weight has shape (4, 3) but layer 0 of the spec needs "
        "(5, 3)\n"
    )
    assert not spec.exists() and not params.exists()
    arch.write_text("inputs: 3\nnumbering: 1\nlayers:\n  - {units: 5}\n  - {units: 1}\n")
    numbered = run_cli(*args, cwd=tmp_path)  # the layer as the spec's figures number it
    assert numbered.returncode == 2
    assert "hidden.weight has shape (4, 3) but layer 1 of the spec needs (5, 3)" in numbered.stderr
