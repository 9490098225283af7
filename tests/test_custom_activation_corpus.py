"""Custom activations as users write them (issue 14): every correct formula passes its check
rows, with no warning; a wrong derivative or a wrong evaluator fails them.

A custom activation's derivative comes from SymPy, so a "wrong derivative" cannot be written
in a spec: it is a broken registry entry (a bug in ``expressions``/``activations``), put in
place the way ``test_verify_activations`` breaks the built-ins.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import RunCli

from nndiagram import activations
from nndiagram.expressions import compile_activation
from nndiagram.model import ActivationChoice, Layer, Network
from nndiagram.verify.checks import Check, check_activations

CORRECT = {
    "softplus": "log(1 + exp(z))",
    "stable softplus": "max(z, 0) + log(1 + exp(-abs(z)))",
    "softplus of -z": "log(1 + exp(-z))",
    "swish / SiLU": "z*sigmoid(z)",
    "SiLU as a quotient": "z/(1 + exp(-z))",
    "swish, beta 1.5": "z*sigmoid(1.5*z)",
    "GELU": "0.5*z*(1 + erf(z/sqrt(2)))",
    "GELU, tanh approximation": "0.5*z*(1 + tanh(0.7978845608*(z + 0.044715*z**3)))",
    "GELU, sigmoid approximation": "z*sigmoid(1.702*z)",
    "mish": "z*tanh(log(1 + exp(z)))",
    "ELU with max/min": "max(z, 0) + min(0, exp(z) - 1)",
    "ELU, alpha 0.5": "max(z, 0) + min(0, 0.5*(exp(z) - 1))",
    "SELU": "1.0507*(max(z, 0) + min(0, 1.67326*(exp(z) - 1)))",
    "CELU": "max(0, z) + min(0, 2*(exp(z/2) - 1))",
    "sin": "sin(z)",
    "cos": "cos(z)",
    "snake": "z + sin(z)**2",
    "exp": "exp(z)",
    "expm1, naive": "exp(z) - 1",
    "sqrt(z**2+1)-1": "sqrt(z**2 + 1) - 1",
    "bent identity": "(sqrt(z**2 + 1) - 1)/2 + z",
    "softsign": "z/(1 + abs(z))",
    "ISRU": "z/sqrt(1 + z**2)",
    "gaussian": "exp(-z**2)",
    "tanh": "tanh(z)",
    "sigmoid": "sigmoid(z)",
    "sigmoid slope": "sigmoid(z)*(1 - sigmoid(z))",
    "leaky ReLU": "max(0.01*z, z)",
    "hard tanh": "min(max(z, -1), 1)",
    "hard sigmoid": "min(max(0.2*z + 0.5, 0), 1)",
    "hard swish": "z*min(max(z + 3, 0), 6)/6",
    "ReLU6": "min(max(z, 0), 6)",
    "cubic": "z**3 - z",
    "abs": "abs(z)",
    "erf": "erf(z)",
    "z erf z": "z*erf(z)",
    "Cauchy": "1/(1 + z**2)",
    "log(1+z^2)": "log(1 + z**2)",
    "tanh times sigmoid": "tanh(z)*sigmoid(z)",
    "squared ReLU": "max(z, 0)**2",
    "Morlet-like": "cos(z)*exp(-z**2/2)",
}


def rows_for(expression: str) -> dict[str, Check]:
    choice = ActivationChoice("custom", expression=expression)
    network = Network(inputs=2, layers=(Layer(0, 2, 2, choice),))
    return {row.name: row for row in check_activations(network, np.random.default_rng(0))}


@pytest.mark.parametrize("expression", list(CORRECT.values()), ids=list(CORRECT))
def test_a_correct_custom_activation_passes(expression: str) -> None:
    # pyproject's filterwarnings=error: a RuntimeWarning anywhere in the check fails this.
    rows = rows_for(expression)
    assert list(rows) == ["activation custom", "derivative custom", "derivative custom (FD)"]
    for row in rows.values():
        assert row.status == "pass", row
        assert row.error is not None and row.error <= row.tolerance  # type: ignore[operator]
    # The row says where it was measured.
    assert re.search(
        r"in \[-?[\d.e+]+, -?[\d.e+]+\], where g and g' are finite",
        rows["activation custom"].detail,
    )


def test_the_range_is_found_and_overflow_is_a_note() -> None:
    rows = rows_for("log(1 + exp(z))")
    detail = rows["activation custom"].detail
    assert "in [-10000, 709.783]" in detail
    assert "note: NumPy gives inf or nan for z > 709.783" in detail
    assert "g itself is finite there" in detail
    assert "g itself exceeds float64 there" in rows_for("exp(z)")["activation custom"].detail
    full = rows_for("sin(z)")["activation custom"].detail
    assert "in [-10000, 10000]" in full and "note" not in full


# (expression, a wrong derivative a bug could produce)
WRONG_DERIVATIVES = {
    "softplus with sigma' for sigma": ("log(1 + exp(z))", "sigmoid(z)*(1 - sigmoid(z))"),
    "swish missing z sigma'": ("z*sigmoid(z)", "sigmoid(z)"),
    "GELU missing the gaussian term": (
        "0.5*z*(1 + erf(z/sqrt(2)))",
        "0.5*(1 + erf(z/sqrt(2)))",
    ),
    "mish missing the chain rule": ("z*tanh(log(1 + exp(z)))", "tanh(log(1 + exp(z)))"),
    "ELU as exp everywhere": ("max(z, 0) + min(0, exp(z) - 1)", "exp(z)"),
    "sin with the wrong sign": ("sin(z)", "-cos(z)"),
    "sin slightly shifted": ("sin(z)", "cos(z + 0.001)"),
    "exp off by 1e-4": ("exp(z)", "1.0001*exp(z)"),
    "sqrt(z**2+1)-1 with an offset": ("sqrt(z**2 + 1) - 1", "z/sqrt(z**2 + 1) + 0.001"),
    "cubic missing the -1": ("z**3 - z", "3*z**2"),
    "softsign as the quotient rule gone wrong": ("z/(1 + abs(z))", "1/(1 + abs(z))"),
    "gaussian missing the 2": ("exp(-z**2)", "-z*exp(-z**2)"),
}


def with_broken_entry(monkeypatch: pytest.MonkeyPatch, expression: str, **forms: Any) -> None:
    """Make ``activation_for`` return the entry of ``expression`` with some of its NumPy
    forms replaced by the NumPy function of other formulas (or by a given function)."""
    original = activations._custom(expression)
    changes = {
        name: compile_activation(form).numpy_fn if isinstance(form, str) else form
        for name, form in forms.items()
    }
    broken = dataclasses.replace(original, **changes)  # type: ignore[arg-type]
    monkeypatch.setattr(
        activations, "_custom", lambda text: broken if text == expression else original
    )


@pytest.mark.parametrize(
    ("expression", "derivative"), list(WRONG_DERIVATIVES.values()), ids=list(WRONG_DERIVATIVES)
)
def test_a_wrong_derivative_fails(
    monkeypatch: pytest.MonkeyPatch, expression: str, derivative: str
) -> None:
    with_broken_entry(monkeypatch, expression, numpy_derivative=derivative)
    rows = rows_for(expression)
    assert rows["activation custom"].status == "pass"
    assert rows["derivative custom"].status == "fail", rows["derivative custom"]
    assert rows["derivative custom (FD)"].status == "fail", rows["derivative custom (FD)"]


WRONG_EVALUATORS = {
    "softplus evaluated as z": ("log(1 + exp(z))", "log(exp(z) + 0.000001)"),
    "GELU with tanh for erf": ("0.5*z*(1 + erf(z/sqrt(2)))", "0.5*z*(1 + tanh(z/sqrt(2)))"),
    "ELU with max for min": ("max(z, 0) + min(0, exp(z) - 1)", "max(z, 0) + max(0, exp(z) - 1)"),
    "sin as cos": ("sin(z)", "cos(z)"),
}


@pytest.mark.parametrize(
    ("expression", "evaluated"), list(WRONG_EVALUATORS.values()), ids=list(WRONG_EVALUATORS)
)
def test_a_wrong_evaluator_fails(
    monkeypatch: pytest.MonkeyPatch, expression: str, evaluated: str
) -> None:
    with_broken_entry(monkeypatch, expression, numpy_fn=evaluated)
    assert rows_for(expression)["activation custom"].status == "fail"


def test_a_derivative_that_is_not_finite_in_the_core_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    with_broken_entry(monkeypatch, "sin(z)", numpy_derivative=np.log)
    rows = rows_for("sin(z)")
    assert {row.status for row in rows.values()} == {"fail"}
    assert "not finite at z = -" in rows["derivative custom"].detail


@pytest.mark.parametrize(
    "expression",
    ["log(1 + exp(z))", "z*sigmoid(z)", "exp(z)", "sin(z)", "0.5*z*(1 + erf(z/sqrt(2)))"],
)
def test_check_command_passes_a_custom_activation_without_a_warning(
    run_cli: RunCli, tmp_path: Path, expression: str
) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(
        f'inputs: 2\nlayers:\n  - units: 2\n    activation: {{custom: "{expression}"}}\n'
        "  - units: 1\n    activation: sigmoid\nloss: bce\n"
    )
    result = run_cli("check", str(spec), "--format", "json")
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    import json

    rows = json.loads(result.stdout)["reports"][0]["checks"]
    mine = [row for row in rows if row["name"].endswith(("custom", "custom (FD)"))]
    assert [row["status"] for row in mine] == ["pass", "pass", "pass"], mine
