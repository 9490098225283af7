"""The labelled corpus (tests/derivations/corpus.yaml): no false derivation passes, every true
one is proven or honestly "not proven" (never refuted), and the proven share is reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, RunCli

from nndiagram.derivation.checker import check, parse_derivation, passes

CORPUS = yaml.safe_load((ROOT / "tests" / "derivations" / "corpus.yaml").read_text())
CASES: list[dict[str, Any]] = CORPUS["cases"]


def _text(case: dict[str, Any]) -> str:
    used = {name: shape for name, shape in CORPUS["symbols"].items()}
    return yaml.safe_dump({"symbols": used, "steps": case["steps"]}, sort_keys=False)


def test_the_corpus_is_large_and_balanced() -> None:
    true = sum(case["holds"] for case in CASES)
    assert len(CASES) >= 80 and true >= 30 and len(CASES) - true >= 30


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{'T' if c['holds'] else 'F'}:{c['steps'][1]}" for c in CASES]
)
def test_each_verdict_is_sound(case: dict[str, Any]) -> None:
    results = check(parse_derivation(_text(case), "corpus.yaml"))
    step = results[1]
    if case["holds"]:
        assert step.status in ("proven", "not proven"), step.proof
    else:
        # Never passes, not even with --accept-numeric; refuted with an exact counterexample.
        assert not passes(results, accept_numeric=True)
        assert step.status == "false", step.proof


def test_the_proven_share_of_the_true_derivations(capsys: pytest.CaptureFixture[str]) -> None:
    true = [case for case in CASES if case["holds"]]
    proven = [
        case
        for case in true
        if check(parse_derivation(_text(case), "corpus.yaml"))[1].status == "proven"
    ]
    with capsys.disabled():
        print(f"\ncorpus: {len(proven)} of {len(true)} true derivations proven")
    assert len(proven) / len(true) >= 0.9


@pytest.mark.parametrize(
    ("steps", "code", "expected"),
    [
        (["relu(x*x - 4)", "0"], 1, "counterexample (exact rational arithmetic)"),
        (["sigmoid(100*x)", "relu(x)/x"], 1, "-bit interval arithmetic"),
        (["A/(x - x)", "B/(x - x)"], 1, "0 for every value"),
        (["(100000000*x + 1)**2 - (100000000*x)**2", "200000000*x + 1"], 0, "✓"),
    ],
)
def test_the_review_examples_through_the_command(
    steps: list[str], code: int, expected: str, run_cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(_text({"steps": steps}))
    done = run_cli("check-derivation", str(path))
    assert done.returncode == code, done.stdout + done.stderr
    assert expected in done.stdout and not done.stderr


def test_the_exact_counterexample_is_not_float_rounding(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("symbols: {x: []}\nsteps: ['(100000000*x + 1)**2 - (100000000*x)**2', 'x']\n")
    done = run_cli("check-derivation", str(path), "--format", "json")
    ce = json.loads(done.stdout)["steps"][1]["counterexample"]
    x = ce["values"]["x"]
    assert ce["previous_step"] == 200000000 * x + 1 and ce["this_step"] == x


def test_a_step_not_proven_fails_unless_numeric_evidence_is_accepted(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("symbols: {x: [], y: []}\nsteps: ['abs(x*y)', 'abs(x)*abs(y)']\n")
    done = run_cli("check-derivation", str(path))
    assert done.returncode == 1
    assert " 2 ? abs(x)*abs(y)   [not proven: " in done.stdout
    assert "float64 agrees at 48 of 48 random points" in done.stdout and "✓" not in done.stdout
    accepted = run_cli("check-derivation", str(path), "--accept-numeric")
    assert accepted.returncode == 0
    assert " 2 ≈ abs(x)*abs(y)" in accepted.stdout and "accepted numerically" in accepted.stdout
    assert "NOT proven" in accepted.stdout.splitlines()[0]
    report = json.loads(run_cli("check-derivation", str(path), "--format", "json").stdout)
    assert report["steps"][1]["status"] == "not proven" and report["holds"] is False


def test_a_false_step_fails_even_with_accept_numeric(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("symbols: {x: []}\nsteps: [x, 'x + 0.0000000001']\n")
    done = run_cli("check-derivation", str(path), "--accept-numeric")
    assert done.returncode == 1 and "✗" in done.stdout
    assert "step 2 gives 20000000001/10000000000" in done.stdout or "/10000000000" in done.stdout
