"""`nndiagram train` and ``numeric.train``: gradient descent with the project's backward pass."""

from __future__ import annotations

import itertools
import os
import pty
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import CONSOLE_SCRIPT, DIAGRAMS, ROOT, RunCli

from nndiagram.errors import UsageError
from nndiagram.model import Network
from nndiagram.numeric.backward import gradients
from nndiagram.numeric.forward import init_params, network_cost
from nndiagram.numeric.train import train, training_targets
from nndiagram.spec import load_spec
from nndiagram.verify.gradients import finite_differences, relative_gradient_error

XOR = str(DIAGRAMS / "xor.yaml")  # 2-2-1, sigmoid, loss: bce
XOR_X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
XOR_Y = np.array([[0.0, 1.0, 1.0, 0.0]])
# The documented XOR run (docs/guide/cli.md and the "Learning XOR" page).
XOR_RUN = ("--steps", "2000", "--lr", "2", "--seed", "1")


def xor_files(tmp_path: Path, Y: np.ndarray = XOR_Y, X: np.ndarray = XOR_X) -> list[str]:
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    return ["--data", str(tmp_path / "X.npy"), "--targets", str(tmp_path / "Y.npy")]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- the library ---------------------------------------------------------------------------


def test_cost_decreases_step_after_step_on_xor() -> None:
    run = train(load_spec(XOR), XOR_X, XOR_Y, steps=300, lr=0.5, seed=1)
    costs = [cost for _, cost in run.history]
    assert [step for step, _ in run.history] == list(range(301))
    assert all(later < earlier for earlier, later in itertools.pairwise(costs))
    assert costs[-1] == pytest.approx(network_cost(load_spec(XOR), run.params, XOR_X, XOR_Y))


def test_each_update_is_minus_lr_times_the_finite_difference_gradient() -> None:
    network = Network.from_sizes([3, 4, 2], ["tanh", "softmax"], loss="ce")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3, 6))
    Y = np.eye(2)[:, rng.integers(2, size=6)]
    start = init_params(network, seed=2)
    run = train(network, X, Y, steps=1, lr=0.1, init=start)
    reference = finite_differences(network, start, X, Y, "ce")
    used = {f"d{name}": (start[name] - run.params[name]) / 0.1 for name in start}
    assert relative_gradient_error(used, reference) < 1e-6
    assert run.initial_cost == pytest.approx(network_cost(network, start, X, Y), rel=1e-12)


def test_momentum_adds_the_previous_step() -> None:
    network = Network.from_sizes([2, 1], "identity", loss="mse")
    start = {"W0": np.array([[0.5, -0.5]]), "b0": np.array([0.1])}
    X, Y = XOR_X, XOR_Y
    run = train(network, X, Y, steps=2, lr=0.1, momentum=0.9, init=start)
    g0 = gradients(network, start, X, Y)
    after_one = {k: start[k] - 0.1 * g0[f"d{k}"] for k in start}
    g1 = gradients(network, after_one, X, Y)
    for k in start:
        expected = after_one[k] + 0.9 * (-0.1 * g0[f"d{k}"]) - 0.1 * g1[f"d{k}"]
        np.testing.assert_allclose(run.params[k], expected, rtol=1e-12)


def test_mini_batches_are_seeded_and_cover_the_data() -> None:
    network = Network.from_sizes([2, 2, 1], "sigmoid", loss="bce")
    X = np.tile(XOR_X, 3)
    Y = np.tile(XOR_Y, 3)
    one = train(network, X, Y, steps=40, lr=1.0, seed=3, batch=4)
    two = train(network, X, Y, steps=40, lr=1.0, seed=3, batch=4)
    other = train(network, X, Y, steps=40, lr=1.0, seed=4, batch=4)
    assert one.history == two.history
    assert one.batch == 4
    assert not np.array_equal(one.params["W0"], other.params["W0"])


def test_class_indices_train_like_one_hot_columns() -> None:
    network = Network.from_sizes([2, 3], "softmax", loss="ce")
    labels = np.array([0, 2, 1, 2])
    one_hot = np.eye(3)[:, labels]
    a = train(network, XOR_X, labels, steps=5, lr=0.5)
    b = train(network, XOR_X, one_hot, steps=5, lr=0.5)
    assert a.history == b.history


@pytest.mark.parametrize(
    ("loss", "activation", "Y", "message"),
    [
        ("bce", "sigmoid", [[0.0, 1.0, 2.0, 0.0]], "Y[0, 2] = 2 is outside [0, 1]: bce targets"),
        ("ce", "softmax", [[1, 0, 0.5, 0], [0, 1, 0.5, 1]], "Y column 2 is not one-hot: ce targets "
         "are one-hot columns of shape (2, 4) or class indices of shape (4,) in 0..1"),
        ("ce", "softmax", [0, 1, 2, 0],
         "Y[2] = 2 is not a class index: ce class indices are in 0..1"),
        ("ce", "softmax", [0, 1, 0.5, 0], "Y[2] = 0.5 is not a class index"),
        ("mse", "identity", [[0.0, np.nan], [1, 1]], "Y has a non-finite value at index (0, 1)"),
    ],
)  # fmt: skip
def test_targets_that_do_not_fit_the_loss_say_what_is_accepted(
    loss: str, activation: str, Y: list, message: str
) -> None:
    shape = np.asarray(Y).shape
    units = shape[0] if len(shape) == 2 else 2
    network = Network.from_sizes([2, units], activation, loss=loss)
    with pytest.raises(UsageError, match=re.escape(message)):
        training_targets(network, Y, shape[-1], loss)


# --- the command -----------------------------------------------------------------------------


def test_xor_reaches_a_cost_under_0_05_from_the_documented_seed(
    run_cli: RunCli, tmp_path: Path
) -> None:
    out, history = tmp_path / "P.npz", tmp_path / "H.csv"
    done = run_cli("train", XOR, *xor_files(tmp_path), *XOR_RUN, "-o", str(out),
                   "--history", str(history))  # fmt: skip
    assert done.returncode == 0, done.stderr
    with np.load(out) as archive:
        params = {name: archive[name] for name in archive.files}
    assert sorted(params) == ["W0", "W1", "b0", "b1"]
    final = network_cost(load_spec(XOR), params, XOR_X, XOR_Y)
    assert final < 0.05
    rows = history.read_text().splitlines()
    assert rows[0] == "step,cost" and len(rows) == 2002
    assert rows[-1] == f"2000,{final!r}"
    # One summary line, no progress bar, when stdout is not a terminal.
    assert done.stdout.count("\n") == 1
    assert "2000 steps" in done.stdout and f"{final:.4g}" in done.stdout


def test_same_seed_same_bytes(run_cli: RunCli, tmp_path: Path) -> None:
    files = xor_files(tmp_path)
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.npz"
        history = tmp_path / f"{name}.csv"
        done = run_cli("train", XOR, *files, "--steps", "50", "--seed", "7", "-o", str(out),
                       "--history", str(history))  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append((out.read_bytes(), history.read_bytes()))
    assert outputs[0] == outputs[1]
    other = tmp_path / "c.npz"
    run_cli("train", XOR, *files, "--steps", "50", "--seed", "8", "-o", str(other))
    assert other.read_bytes() != outputs[0][0]


def test_init_file_is_the_starting_point(run_cli: RunCli, tmp_path: Path) -> None:
    network = load_spec(XOR)
    start = init_params(network, seed=11)
    np.savez(tmp_path / "P0.npz", **start)
    out = tmp_path / "P.npz"
    done = run_cli("train", XOR, *xor_files(tmp_path), "--init", str(tmp_path / "P0.npz"),
                   "--steps", "1", "--lr", "0.5", "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    g = gradients(network, start, XOR_X, XOR_Y)
    with np.load(out) as learned:
        for name, value in start.items():
            np.testing.assert_allclose(learned[name], value - 0.5 * g[f"d{name}"], rtol=1e-12)


def test_progress_bar_with_the_cost_in_a_terminal(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    with subprocess.Popen(
        [str(CONSOLE_SCRIPT), "train", XOR, *xor_files(tmp_path), "--steps", "200",
         "-o", str(tmp_path / "P.npz")],
        cwd=ROOT, stdin=follower, stdout=follower, stderr=follower, env=env,
    ) as process:  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
    os.close(leader)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "cost" in shown and "200/200" in shown
    assert "━" in shown  # the bar itself


def run_refused(run_cli: RunCli, tmp_path: Path, *args: str) -> str:
    """Run ``train`` expecting exit 2 with one line and no change in the folder."""
    before = snapshot(tmp_path)
    done = run_cli("train", XOR, *args, "-o", str(tmp_path / "P.npz"),
                   "--history", str(tmp_path / "H.csv"))  # fmt: skip
    assert done.returncode == 2, done.stdout
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(tmp_path) == before
    return done.stderr.strip()


def test_diverging_run_names_the_step_and_writes_nothing(run_cli: RunCli, tmp_path: Path) -> None:
    network = Network.from_sizes([2, 1], "identity", loss="mse")
    spec = tmp_path / "linear.yaml"
    spec.write_text("inputs: 2\nlayers:\n  - units: 1\nloss: mse\n")
    files = xor_files(tmp_path, X=XOR_X * 100)
    (tmp_path / "P.npz").write_bytes(b"old")
    before = snapshot(tmp_path)
    done = run_cli("train", str(spec), *files, "--lr", "10", "--steps", "500",
                   "-o", str(tmp_path / "P.npz"), "--history", str(tmp_path / "H.csv"))  # fmt: skip
    assert done.returncode == 2
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith(f"{spec}:1:1: error: training diverged at step ")
    assert "smaller learning rate than --lr 10" in line
    assert snapshot(tmp_path) == before
    assert network.n_outputs == 1


def test_bce_targets_outside_0_1(run_cli: RunCli, tmp_path: Path) -> None:
    line = run_refused(run_cli, tmp_path, *xor_files(tmp_path, Y=np.array([[0.0, 1, 3, 0]])))
    assert line == (
        f"{tmp_path / 'Y.npy'}:1:1: error: Y[0, 2] = 3 is outside [0, 1]: bce targets are "
        "probabilities, 0 or 1 for a label"
    )


def test_x_with_the_wrong_number_of_inputs(run_cli: RunCli, tmp_path: Path) -> None:
    line = run_refused(run_cli, tmp_path, *xor_files(tmp_path, X=np.zeros((3, 4))))
    assert line.startswith(f"{tmp_path / 'X.npy'}:1:1: error: X has shape (3, 4) but the network "
                           "has 2 input(s)")  # fmt: skip


def test_targets_for_another_number_of_samples(run_cli: RunCli, tmp_path: Path) -> None:
    line = run_refused(run_cli, tmp_path, *xor_files(tmp_path, Y=np.zeros((1, 3))))
    assert line.endswith("Y has shape (1, 3) but the output has shape (1, 4)")


def test_init_file_with_a_wrong_array_names_it(run_cli: RunCli, tmp_path: Path) -> None:
    np.savez(tmp_path / "P0.npz", W0=np.zeros((2, 3)), b0=np.zeros(2), W1=np.zeros((1, 2)),
             b1=np.zeros(1))  # fmt: skip
    line = run_refused(run_cli, tmp_path, *xor_files(tmp_path), "--init",
                       str(tmp_path / "P0.npz"))  # fmt: skip
    assert line.endswith("W0 has shape (2, 3) but layer 0 needs (2, 2)")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--lr", "0"], "--lr must be a positive number (got 0)"),
        (["--steps", "0"], "--steps must be at least 1 (got 0)"),
        (["--batch", "0"], "--batch must be at least 1 (got 0)"),
        (["--momentum", "1"], "--momentum must be in [0, 1) (got 1)"),
    ],
)
def test_options_that_cannot_train(
    run_cli: RunCli, tmp_path: Path, option: list[str], message: str
) -> None:
    assert run_refused(run_cli, tmp_path, *xor_files(tmp_path), *option).endswith(message)


def test_output_that_is_a_folder_is_refused_before_training(
    run_cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    files = xor_files(tmp_path)
    before = snapshot(tmp_path)
    done = run_cli("train", XOR, *files, "-o", str(tmp_path / "out"),
                   "--history", str(tmp_path / "H.csv"))  # fmt: skip
    assert done.returncode == 2
    assert "is a directory" in done.stderr
    assert snapshot(tmp_path) == before


def test_generic_activation_cannot_be_trained(run_cli: RunCli, tmp_path: Path) -> None:
    spec = str(DIAGRAMS / "multilayer-activation.yaml")  # 2-2-1 with the tutorial's generic g
    files = xor_files(tmp_path)
    before = snapshot(tmp_path)
    done = run_cli("train", spec, *files, "--loss", "bce", "-o", str(tmp_path / "P.npz"))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"{spec}:1:1: error: layer 0 uses the generic activation g[0], which has no numeric "
        "form; choose a concrete activation to evaluate it"
    )
    assert snapshot(tmp_path) == before


def test_training_without_a_loss_names_the_spec(run_cli: RunCli, tmp_path: Path) -> None:
    spec = str(DIAGRAMS / "multilayer.yaml")  # 2-2-1, linear, no loss
    np.save(tmp_path / "X.npy", np.ones((2, 3)))
    np.save(tmp_path / "Y.npy", np.ones((1, 3)))
    done = run_cli("train", spec, "--data", str(tmp_path / "X.npy"), "--targets",
                   str(tmp_path / "Y.npy"), "-o", str(tmp_path / "P.npz"))  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        f"{spec}:1:1: error: no loss to differentiate: pass --loss mse|bce|ce or set 'loss' "
        "in the spec\n"
    )
    assert not (tmp_path / "P.npz").exists()
