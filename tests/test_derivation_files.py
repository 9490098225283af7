"""The tutorial's derivations as files, ``nndiagram check-derivation``, LaTeX and the fence."""

from __future__ import annotations

import json
from pathlib import Path

import markdown
import pytest
from conftest import ROOT, RunCli
from pymdownx.superfences import SuperFencesException

from nndiagram.derivation.checker import (
    check,
    derivation_fence_format,
    derivation_fence_validator,
    parse_derivation,
)
from nndiagram.derivation.expr import Scope, parse_expression, to_latex

DERIVATIONS = ROOT / "tests" / "derivations"
PASSING = ["collapse.yaml", "composition.yaml"]


@pytest.mark.parametrize("name", PASSING)
def test_the_tutorials_derivations_hold(name: str, run_cli: RunCli) -> None:
    done = run_cli("check-derivation", str(DERIVATIONS / name))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every step is proven" in done.stdout
    assert "✗" not in done.stdout and done.stdout.count("✓") >= 4


def test_the_collapse_chain_is_proven_for_any_shapes() -> None:
    text = (DERIVATIONS / "collapse.yaml").read_text()
    results = check(parse_derivation(text))
    assert all("matrix algebra, any shapes" in r.proof for r in results[1:])


def test_the_cost_without_one_over_m_is_caught(run_cli: RunCli) -> None:
    path = DERIVATIONS / "cost-without-mean.yaml"
    done = run_cli("check-derivation", str(path))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].endswith("step 2 does not hold")
    failure = next(line for line in lines if "counterexample" in line)
    assert failure.startswith(f"{path}:10: step 2 ≠ step 1")
    # The two forms differ by exactly the factor m = 4 at the counterexample.
    report = json.loads(run_cli("check-derivation", str(path), "--format", "json").stdout)
    ce = report["steps"][1]["counterexample"]
    losses = ce["values"]["L"][0]
    assert ce["previous_step"] == pytest.approx(sum(losses) / 4)
    assert ce["this_step"] == pytest.approx(sum(losses))
    assert report["holds"] is False and report["first_failure"] == 2


def test_json_report_lists_every_step(run_cli: RunCli) -> None:
    done = run_cli("check-derivation", str(DERIVATIONS / "collapse.yaml"), "--format", "json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["holds"] is True
    assert [s["step"] for s in report["steps"]] == [1, 2, 3, 4, 5]
    assert report["steps"][3]["latex"] == (
        r"\left(w^{[1]} w^{[0]}\right) x + \left(w^{[1]} b^{[0]} + b^{[1]}\right)"
    )


def test_cli_errors_are_one_line_with_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("symbols: {A: [2, 3], x: [2, 1]}\nsteps:\n  - A*x\n  - A\n")
    done = run_cli("check-derivation", str(bad))
    assert done.returncode == 2
    assert done.stderr.strip() == f"{bad}:3:5: error: cannot multiply 2x3 by 2x1: 3 ≠ 2 in 'A*x'"
    missing = run_cli("check-derivation", str(tmp_path / "missing.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_cli_output_is_deterministic(run_cli: RunCli) -> None:
    path = str(DERIVATIONS / "cost-without-mean.yaml")
    assert run_cli("check-derivation", path).stdout == run_cli("check-derivation", path).stdout


@pytest.mark.parametrize(
    ("source", "latex"),
    [
        ("W1*(W0*x + b0) + b1", r"W^{[1]} \left(W^{[0]} x + b^{[0]}\right) + b^{[1]}"),
        ("(W1*W0)*x", r"\left(W^{[1]} W^{[0]}\right) x"),
        ("W1*W0*x", r"W^{[1]} W^{[0]} x"),
        ("(W0*x).T", r"\left(W^{[0]} x\right)^{T}"),
        ("A - (A - A)", r"A - \left(A - A\right)"),
        ("hadamard(A, A + A)", r"A \odot \left(A + A\right)"),
        ("1/2*sum(A)", r"\frac{1}{2} \operatorname{sum}\left(A\right)"),
        ("g1(W1*x)", r"g^{[1]}\left(W^{[1]} x\right)"),
        ("sigmoid(A)**2", r"\sigma\left(A\right)^{2}"),
        ("dW0 + y_hat", r"dW^{[0]} + \hat{y}"),
        ("0.5*A", "0.5 A"),
    ],
)
def test_latex_keeps_the_writers_parentheses(source: str, latex: str) -> None:
    scope = Scope(
        {
            "A": (2, 2),
            "W0": (2, 2),
            "W1": (2, 2),
            "x": (2, 2),
            "b0": (2, 2),
            "b1": (2, 2),
            "dW0": (2, 2),
            "y_hat": (2, 2),
        },
        {},
    )
    assert to_latex(parse_expression(source, scope)) == latex


# --- the fence --------------------------------------------------------------------------------


def _markdown() -> markdown.Markdown:
    fence = {
        "name": "derivation",
        "class": "derivation",
        "format": derivation_fence_format,
        "validator": derivation_fence_validator,
    }
    return markdown.Markdown(
        extensions=["pymdownx.superfences", "pymdownx.arithmatex"],
        extension_configs={
            "pymdownx.arithmatex": {"generic": True},
            "pymdownx.superfences": {"custom_fences": [fence]},
        },
    )


def _fence(name: str, header: str = "") -> str:
    text = (DERIVATIONS / name).read_text()
    return f"```derivation{header}\n{text}```\n"


def test_fence_shows_each_step_with_a_tick() -> None:
    out = _markdown().convert(_fence("collapse.yaml"))
    assert out.count('class="nnd-step nnd-step-holds"') == 4
    assert out.count("✓") == 4 and "✗" not in out
    assert r"\(= \left(w^{[1]} w^{[0]}\right) x + \left(w^{[1]} b^{[0]} + b^{[1]}\right)\)" in out
    assert r"where <span class=" in out and r"B = w^{[1]} b^{[0]} + b^{[1]}" in out
    assert "associativity" in out


def test_fence_marked_expect_fail_shows_the_counterexample_escaped() -> None:
    out = _markdown().convert(_fence("cost-without-mean.yaml", ' expect="fail"'))
    assert 'data-holds="false"' in out and "✗" in out
    assert "Counterexample: at" in out
    assert r"\begin{bmatrix}" in out and " &amp; " in out  # '&' escaped inside HTML
    assert '<td class="nnd-step-why"></td>' in out


def test_fence_with_a_false_step_fails_the_build() -> None:
    with pytest.raises(
        SuperFencesException,
        match=r"step 2 \(sum\(L\), line 10 of the fence\) does not hold: at L = ",
    ):
        _markdown().convert(_fence("cost-without-mean.yaml"))


def test_fence_marked_fail_that_holds_fails_the_build() -> None:
    with pytest.raises(SuperFencesException, match="every step holds"):
        _markdown().convert(_fence("collapse.yaml", ' expect="fail"'))


@pytest.mark.parametrize("header", [' expect="maybe"', ' title="x"'])
def test_fence_rejects_unknown_options(header: str) -> None:
    with pytest.raises(SuperFencesException, match="unknown option"):
        _markdown().convert(_fence("collapse.yaml", header))


def test_fence_with_bad_input_fails_the_build() -> None:
    with pytest.raises(SuperFencesException, match="undeclared symbol 'y'"):
        _markdown().convert("```derivation\nsymbols: {x: [1, 1]}\nsteps: [x, y]\n```\n")
