"""`nndiagram gradients` end to end through the console script, with real .npz/.npy files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import DIAGRAMS, RunCli

from nndiagram.numeric.backward import gradients
from nndiagram.numeric.forward import init_params
from nndiagram.spec.load import load_spec
from nndiagram.verify.gradients import finite_differences, relative_gradient_error

XOR = str(DIAGRAMS / "xor.yaml")  # 2-2-1, sigmoid, loss: bce
MULTILAYER = str(DIAGRAMS / "multilayer.yaml")  # 2-2-1, linear, no loss


def write_problem(tmp_path: Path, spec: str, Y: np.ndarray | None = None) -> list[str]:
    network = load_spec(spec)
    params = init_params(network, seed=4)
    np.savez(tmp_path / "P.npz", **params)
    X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", np.array([[0.0, 1.0, 1.0, 0.0]]) if Y is None else Y)
    return ["--params", str(tmp_path / "P.npz"), "--input", str(tmp_path / "X.npy"),
            "--target", str(tmp_path / "Y.npy")]  # fmt: skip


def test_gradients_writes_g_npz_matching_finite_differences(
    run_cli: RunCli, tmp_path: Path
) -> None:
    out = tmp_path / "G.npz"
    done = run_cli("gradients", XOR, *write_problem(tmp_path, XOR), "-o", str(out))
    assert done.returncode == 0, done.stderr
    with np.load(out) as archive:
        written = {name: archive[name] for name in archive.files}
    assert sorted(written) == ["dW0", "dW1", "db0", "db1"]
    network = load_spec(XOR)
    params = dict(np.load(tmp_path / "P.npz"))
    assert {k: v.shape for k, v in written.items()} == {f"d{k}": v.shape for k, v in params.items()}
    X, Y = np.load(tmp_path / "X.npy"), np.load(tmp_path / "Y.npy")
    reference = finite_differences(network, params, X, Y, "bce")
    assert relative_gradient_error(written, reference) < 1e-6


def test_loss_option_overrides_the_spec(run_cli: RunCli, tmp_path: Path) -> None:
    args = write_problem(tmp_path, XOR)
    run_cli("gradients", XOR, *args, "-o", str(tmp_path / "bce.npz"))
    run_cli("gradients", XOR, *args, "--loss", "mse", "-o", str(tmp_path / "mse.npz"))
    network = load_spec(XOR)
    params = dict(np.load(tmp_path / "P.npz"))
    X, Y = np.load(tmp_path / "X.npy"), np.load(tmp_path / "Y.npy")
    with np.load(tmp_path / "mse.npz") as mse, np.load(tmp_path / "bce.npz") as bce:
        expected = gradients(network, params, X, Y, "mse")
        np.testing.assert_allclose(mse["dW0"], expected["dW0"], rtol=1e-12)
        assert not np.allclose(mse["dW0"], bce["dW0"])


def test_without_a_loss_anywhere_is_a_usage_error(run_cli: RunCli, tmp_path: Path) -> None:
    done = run_cli("gradients", MULTILAYER, *write_problem(tmp_path, MULTILAYER), "-o", "G.npz")
    assert done.returncode == 2
    assert done.stderr.startswith(f"{MULTILAYER}:1:1: error: no loss to differentiate: pass --loss")
    assert len(done.stderr.strip().splitlines()) == 1


def test_target_shape_error_names_the_array_and_both_shapes(
    run_cli: RunCli, tmp_path: Path
) -> None:
    args = write_problem(tmp_path, XOR, Y=np.zeros((2, 4)))
    done = run_cli("gradients", XOR, *args, "-o", str(tmp_path / "G.npz"))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"{tmp_path / 'Y.npy'}:1:1: error: Y has shape (2, 4) but the output has shape (1, 4)"
    )


def test_parameter_shape_error_names_the_array(run_cli: RunCli, tmp_path: Path) -> None:
    args = write_problem(tmp_path, XOR)
    np.savez(tmp_path / "P.npz", W0=np.zeros((2, 3)), b0=np.zeros(2), W1=np.zeros((1, 2)),
             b1=np.zeros(1))  # fmt: skip
    done = run_cli("gradients", XOR, *args, "-o", str(tmp_path / "G.npz"))
    assert done.returncode == 2
    assert "W0 has shape (2, 3) but layer 0 needs (2, 2)" in done.stderr


def test_output_is_deterministic_and_a_failed_run_keeps_the_old_file(
    run_cli: RunCli, tmp_path: Path
) -> None:
    args = write_problem(tmp_path, XOR)
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    run_cli("gradients", XOR, *args, "-o", str(first))
    run_cli("gradients", XOR, *args, "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
    np.save(tmp_path / "Y.npy", np.zeros((3, 4)))
    failed = run_cli("gradients", XOR, *args, "-o", str(first))
    assert failed.returncode == 2
    assert first.read_bytes() == second.read_bytes()


def test_a_target_file_claiming_a_huge_shape_is_refused_without_reading_it(
    run_cli: RunCli, tmp_path: Path
) -> None:
    args = write_problem(tmp_path, XOR)
    header = {"descr": "<f8", "fortran_order": False, "shape": (1, 10**9)}
    with open(tmp_path / "Y.npy", "wb") as handle:  # an 8 GB array's header, and no data
        np.lib.format.write_array_header_1_0(handle, header)
    done = run_cli("gradients", XOR, *args, "-o", str(tmp_path / "G.npz"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"{tmp_path / 'Y.npy'}:1:1: error:")
    assert len(done.stderr.strip().splitlines()) == 1
