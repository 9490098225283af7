"""`nndiagram evaluate` end to end through the console script, with real .npz/.npy files."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import CONSOLE_SCRIPT, DIAGRAMS, ROOT, RunCli

from nndiagram.numeric.forward import init_params
from nndiagram.spec.load import load_spec

HAND_PARAMS = {"W0": [[1.0, 2.0], [0.0, 1.0]], "b0": [1.0, -1.0], "W1": [[3.0, -1.0]], "b1": [2.0]}


def write_inputs(tmp_path: Path, params: dict[str, object], X: object) -> tuple[str, str]:
    np.savez(tmp_path / "P.npz", **params)  # type: ignore[arg-type]
    np.save(tmp_path / "X.npy", np.asarray(X))
    return str(tmp_path / "P.npz"), str(tmp_path / "X.npy")


def test_evaluate_writes_y_npy_with_hand_values(run_cli: RunCli, tmp_path: Path) -> None:
    P, X = write_inputs(tmp_path, HAND_PARAMS, [[1.0, 0.0], [2.0, -1.0]])
    out = tmp_path / "Y.npy"
    result = run_cli(
        "evaluate", "diagrams/multilayer.yaml", "--params", P, "--input", X, "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    # column 1: z0 = [6, 1], y = 18 - 1 + 2; column 2: z0 = [-1, -2], y = -3 + 2 + 2
    np.testing.assert_array_equal(np.load(out), [[19.0, 1.0]])


def test_dash_writes_npy_bytes_to_stdout(tmp_path: Path) -> None:
    P, X = write_inputs(tmp_path, HAND_PARAMS, [[1.0], [2.0]])
    spec = str(DIAGRAMS / "multilayer.yaml")
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "evaluate", spec, "--params", P, "--input", X, "-o", "-"],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        check=True,
    )
    np.testing.assert_array_equal(np.load(io.BytesIO(result.stdout)), [[19.0]])


@pytest.mark.parametrize("engine", ["numpy", "collapsed"])
def test_engines_agree_on_deep_linear(run_cli: RunCli, tmp_path: Path, engine: str) -> None:
    network = load_spec(DIAGRAMS / "deep-linear.yaml")
    params = init_params(network, seed=11)
    X = np.random.default_rng(0).normal(size=(network.n_inputs, 20))
    P, Xpath = write_inputs(tmp_path, params, X)
    out = tmp_path / f"{engine}.npy"
    result = run_cli(
        "evaluate", "diagrams/deep-linear.yaml", "--params", P, "--input", Xpath,
        "-o", str(out), "--engine", engine,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    W = params["W2"] @ params["W1"] @ params["W0"]
    B = params["W2"] @ (params["W1"] @ params["b0"] + params["b1"]) + params["b2"]
    np.testing.assert_allclose(np.load(out), W @ X + B[:, None], rtol=1e-12, atol=1e-12)


def test_collapsed_on_a_nonlinear_network_is_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    network = load_spec(DIAGRAMS / "xor.yaml")
    P, X = write_inputs(tmp_path, init_params(network), np.zeros((2, 4)))
    result = run_cli(
        "evaluate", "diagrams/xor.yaml", "--params", P, "--input", X, "--engine", "collapsed"
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "diagrams/xor.yaml:1:1: error: engine 'collapsed' needs a network whose activations are all"
    )
    assert "layer 0 (sigmoid)" in result.stderr


def test_shape_mismatch_is_one_line_naming_array_and_shapes(
    run_cli: RunCli, tmp_path: Path
) -> None:
    params = {**HAND_PARAMS, "W1": np.ones((3, 2))}
    P, X = write_inputs(tmp_path, params, [[1.0], [2.0]])
    result = run_cli("evaluate", "diagrams/multilayer.yaml", "--params", P, "--input", X)
    assert result.returncode == 2
    assert result.stderr == f"{P}:1:1: error: W1 has shape (3, 2) but layer 1 needs (1, 2)\n"


def test_input_with_wrong_rows_is_named(run_cli: RunCli, tmp_path: Path) -> None:
    P, X = write_inputs(tmp_path, HAND_PARAMS, np.zeros((3, 5)))
    result = run_cli("evaluate", "diagrams/multilayer.yaml", "--params", P, "--input", X)
    assert result.returncode == 2
    assert f"{X}:1:1: error: X has shape (3, 5) but the network has 2 input(s)" in result.stderr


def test_missing_parameter_array_is_named(run_cli: RunCli, tmp_path: Path) -> None:
    params = {k: v for k, v in HAND_PARAMS.items() if k != "b0"}
    P, X = write_inputs(tmp_path, params, [[1.0], [2.0]])
    result = run_cli("evaluate", "diagrams/multilayer.yaml", "--params", P, "--input", X)
    assert result.returncode == 2
    assert "missing parameter array(s): b0 (2,)" in result.stderr


def test_failed_run_leaves_the_old_output(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "Y.npy"
    out.write_bytes(b"previous result")
    P, X = write_inputs(tmp_path, HAND_PARAMS, np.zeros((3, 1)))
    result = run_cli(
        "evaluate", "diagrams/multilayer.yaml", "--params", P, "--input", X, "-o", str(out)
    )
    assert result.returncode == 2
    assert out.read_bytes() == b"previous result"


def test_generic_activation_cannot_be_evaluated(run_cli: RunCli, tmp_path: Path) -> None:
    P, X = write_inputs(tmp_path, {"W0": [[1.0, 1.0]], "b0": [0.0]}, [[1.0], [2.0]])
    result = run_cli("evaluate", "diagrams/neuron-activation.yaml", "--params", P, "--input", X)
    assert result.returncode == 2
    assert "layer 0 uses the generic activation g" in result.stderr


def test_not_fully_connected_graph_is_exit_1(run_cli: RunCli, tmp_path: Path) -> None:
    P, X = write_inputs(tmp_path, HAND_PARAMS, [[1.0], [2.0]])
    result = run_cli("evaluate", "diagrams/not-fully-connected.yaml", "--params", P, "--input", X)
    assert result.returncode == 1
    assert "missing edge x_0 -> z_0_1" in result.stderr


def test_messages_number_layers_as_the_spec_does(run_cli: RunCli, tmp_path: Path) -> None:
    """Under ``numbering: 1`` the figures caption the first layer "layer 1" and print g^{[1]};
    the refusals said "layer 0 uses the generic activation g[1]" and "W1 … but layer 1 needs"
    (W1 is the second layer, "layer 2")."""
    spec = tmp_path / "one.yaml"
    spec.write_text("inputs: 2\nnumbering: 1\nlayers:\n  - {units: 2, activation: generic}\n")
    P, X = write_inputs(tmp_path, {"W0": np.ones((2, 2)), "b0": np.zeros(2)}, np.ones((2, 3)))
    generic = run_cli("evaluate", str(spec), "--params", P, "--input", X)
    assert generic.returncode == 2 and generic.stderr.count("\n") == 1
    assert "layer 1 uses the generic activation g[1]" in generic.stderr
    spec.write_text(
        "inputs: 2\nnumbering: 1\nlayers:\n  - {units: 2, activation: relu}\n"
        "  - {units: 1, activation: {custom: 'z/(1+abs(z))'}}\n"
    )
    params = {"W0": np.ones((2, 2)), "b0": np.zeros(2), "W1": np.ones((1, 2)), "b1": [0.0]}
    P, X = write_inputs(tmp_path, params, np.ones((2, 3)))
    collapsed = run_cli("evaluate", str(spec), "--params", P, "--input", X, "--engine", "collapsed")
    assert collapsed.returncode == 2 and collapsed.stderr.count("\n") == 1
    assert "layer 1 (ReLU), layer 2 (custom: z/(1+abs(z))) are not" in collapsed.stderr
    P, X = write_inputs(tmp_path, {**params, "W1": np.ones((2, 2))}, np.ones((2, 3)))
    shape = run_cli("evaluate", str(spec), "--params", P, "--input", X)
    assert shape.returncode == 2
    assert shape.stderr == f"{P}:1:1: error: W1 has shape (2, 2) but layer 2 needs (1, 2)\n"
    spec.write_text(
        "inputs: 2\nnumbering: 1\nlayers:\n  - {units: 2, activation: {custom: '2*z + 1'}}\n"
    )
    check = run_cli("check", str(spec))
    assert check.returncode == 0, check.stderr
    assert "layer 1: g(z) = 2*z + 1 folded into W, B" in check.stdout
