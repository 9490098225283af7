"""`nndiagram check` through the console script: exit codes, text table, JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import DIAGRAMS, RunCli

ALL = sorted(str(p.relative_to(DIAGRAMS.parent)) for p in DIAGRAMS.glob("*.yaml"))
VALID = [p for p in ALL if "not-fully-connected" not in p]


def test_all_valid_diagrams_pass_with_exit_0(run_cli: RunCli) -> None:
    result = run_cli("check", *VALID)
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = [line for line in result.stdout.splitlines() if line.startswith("diagrams/")]
    assert verdicts == [f"{path}: all checks pass" for path in VALID]
    assert "\033[" not in result.stdout  # NO_COLOR and not a terminal: plain text


def test_not_fully_connected_fails_connectivity_with_exit_1(run_cli: RunCli) -> None:
    result = run_cli("check", "diagrams/not-fully-connected.yaml", "diagrams/neuron.yaml")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "diagrams/not-fully-connected.yaml: CHECKS FAILED" in lines
    assert "diagrams/neuron.yaml: all checks pass" in lines
    connectivity = next(line for line in lines if line.startswith("connectivity  fail"))
    assert (
        "missing edge x_0 -> z_0_1 (x_0 is on line 7, z_0_1 on line 8); "
        "missing edge x_1 -> z_0_0 (x_1 is on line 8, z_0_0 on line 7)" in connectivity
    )


def test_json_report_is_sorted_deterministic_and_complete(run_cli: RunCli) -> None:
    args = ("check", "--format", "json", "--seed", "3", "diagrams/xor.yaml", "diagrams/layer.yaml")
    first, second = run_cli(*args), run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    document = json.loads(first.stdout)
    assert first.stdout == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert document["passed"] is True
    xor, layer = document["reports"]
    assert (xor["spec"], layer["spec"], xor["seed"]) == (
        "diagrams/xor.yaml",
        "diagrams/layer.yaml",
        3,
    )
    names = [row["name"] for row in xor["checks"]]
    assert names[:3] == ["connectivity", "forward", "collapse"]
    cost = next(row for row in xor["checks"] if row["name"] == "cost")
    assert cost["status"] == "pass"
    assert 0 <= cost["error"] <= cost["tolerance"] == 1e-9
    assert set(cost) == {"name", "instance", "status", "error", "tolerance", "detail"}


def test_unreadable_spec_is_exit_2_in_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: 2\nlayers:\n  - units: 0\n")
    result = run_cli("check", str(bad))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"{bad}:")
    assert result.stdout == ""


def test_a_negative_seed_is_one_line_not_a_traceback(run_cli: RunCli, tmp_path: Path) -> None:
    """``--seed -3`` reached NumPy's SeedSequence and ended in a ValueError traceback, in
    ``check`` and ``train`` alike (and ``nd.check(net, seed=-1)``)."""
    import numpy as np
    import pytest

    import nndiagram as nd
    from nndiagram.errors import UsageError

    checked = run_cli("check", "diagrams/xor.yaml", "--seed", "-3")
    assert checked.returncode == 2
    assert checked.stderr == "--seed must be a whole number, 0 or more (got -3)\n"
    np.save(tmp_path / "X.npy", np.array([[0.0, 1.0], [1.0, 0.0]]))
    np.save(tmp_path / "Y.npy", np.array([[1.0, 0.0]]))
    trained = run_cli(
        "train", "diagrams/xor.yaml", "--data", str(tmp_path / "X.npy"), "--targets",
        str(tmp_path / "Y.npy"), "-o", str(tmp_path / "P.npz"), "--seed", "-1",
    )  # fmt: skip
    assert trained.returncode == 2
    assert trained.stderr == "--seed must be a whole number, 0 or more (got -1)\n"
    assert not (tmp_path / "P.npz").exists()
    with pytest.raises(UsageError, match="--seed must be a whole number"):
        nd.check(nd.load_spec(DIAGRAMS / "xor.yaml"), seed=-1)
