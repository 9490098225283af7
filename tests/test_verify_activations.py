"""The activation checks, the connectivity check and the report format (no SymPy derivation)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import DIAGRAMS

from nndiagram import activations
from nndiagram.model import ActivationChoice, Layer, Network
from nndiagram.spec.load import load_spec
from nndiagram.verify import checks as verify
from nndiagram.verify.checks import Check, Report, check_activations, check_connectivity


def rows_for(choice: ActivationChoice, units: int = 2) -> list[Check]:
    network = Network(inputs=2, layers=(Layer(0, units, 2, choice),))
    return check_activations(network, np.random.default_rng(0))


CHOICES = [
    ActivationChoice("identity"),
    ActivationChoice("sigmoid"),
    ActivationChoice("tanh"),
    ActivationChoice("relu"),
    ActivationChoice("leaky_relu", alpha=0.01),
    ActivationChoice("leaky_relu", alpha=0.2),
    ActivationChoice("softmax"),
    ActivationChoice("custom", expression="max(0.01*z, z)"),
    ActivationChoice("custom", expression="z**3 - z"),
]


@pytest.mark.parametrize("choice", CHOICES, ids=lambda c: c.describe())
def test_every_activation_passes_formula_and_derivative_checks(choice: ActivationChoice) -> None:
    rows = rows_for(choice)
    kinds = ["activation", "derivative", "derivative"]
    assert [row.name.split()[0] for row in rows] == kinds[: 2 if choice.name == "softmax" else 3]
    for row in rows:
        assert row.status == "pass", row
        assert row.error is not None and row.tolerance is not None
        assert row.error <= row.tolerance


def test_generic_activation_has_no_numeric_rows() -> None:
    assert rows_for(ActivationChoice("generic")) == []


def wrong(monkeypatch: pytest.MonkeyPatch, name: str, **changes: object) -> None:
    """Put a broken entry into the registry, as a bug in activations.py would."""
    broken = dataclasses.replace(activations._BUILTIN[name], **changes)  # type: ignore[arg-type]
    monkeypatch.setitem(activations._BUILTIN, name, broken)


def test_a_wrong_derivative_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # The classic slip: σ'(z) written as σ(z) instead of σ(z)(1 − σ(z)).
    wrong(monkeypatch, "sigmoid", numpy_derivative=activations._sigmoid)
    rows = {row.name: row for row in rows_for(ActivationChoice("sigmoid"))}
    assert rows["activation sigmoid"].status == "pass"
    assert rows["derivative sigmoid"].status == "fail"
    assert rows["derivative sigmoid (FD)"].status == "fail"


def test_a_derivative_wrong_only_in_the_tails_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 − tanh² is right to 1e-16 absolutely but loses every digit for |z| ≳ 20.
    wrong(monkeypatch, "tanh", numpy_derivative=lambda z: 1.0 - np.tanh(z) ** 2)
    rows = {row.name: row for row in rows_for(ActivationChoice("tanh"))}
    assert rows["derivative tanh"].status == "fail"
    assert rows["derivative tanh (FD)"].status == "pass"  # differences cannot see it


def test_an_overflowing_formula_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def naive(z: np.ndarray) -> np.ndarray:
        return np.exp(z) / (1 + np.exp(z))  # inf / inf = nan at z = 800

    wrong(monkeypatch, "sigmoid", numpy_fn=naive, numpy_inplace=None)
    rows = {row.name: row for row in rows_for(ActivationChoice("sigmoid"))}
    assert rows["activation sigmoid"].status == "fail"
    assert rows["activation sigmoid"].error == float("inf")


def test_a_wrong_in_place_version_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong(monkeypatch, "relu", numpy_inplace=lambda z: np.abs(z, out=z))
    rows = {row.name: row for row in rows_for(ActivationChoice("relu"))}
    assert rows["activation relu"].status == "fail"


def test_a_wrong_softmax_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong(
        monkeypatch, "softmax", numpy_fn=lambda z: np.exp(z) / np.exp(z).sum(), numpy_inplace=None
    )
    rows = {row.name: row for row in rows_for(ActivationChoice("softmax"), units=3)}
    assert rows["activation softmax"].status == "fail"


def test_connectivity_lists_the_missing_edges() -> None:
    network = load_spec(DIAGRAMS / "not-fully-connected.yaml")
    (row,) = check_connectivity(network, np.random.default_rng(0))
    assert (row.status, row.error) == ("fail", None)
    assert row.detail.startswith("2 problem(s): ")
    assert "missing edge x_0 -> z_0_1" in row.detail
    assert "missing edge x_1 -> z_0_0" in row.detail


def test_connectivity_of_layers_is_skipped_and_a_full_graph_passes(tmp_path: Path) -> None:
    (row,) = check_connectivity(Network.from_sizes([2, 1]), np.random.default_rng(0))
    assert row.status == "skip"
    spec = tmp_path / "full.yaml"
    spec.write_text("graph: |\n  x_0 -> z_0_0\n  x_1 -> z_0_0\n  z_0_0 -> output\n")
    (row,) = check_connectivity(load_spec(spec), np.random.default_rng(0))
    assert row.status == "pass"


def test_an_invalid_graph_fails_and_skips_the_numeric_checks() -> None:
    report = verify.check(load_spec(DIAGRAMS / "not-fully-connected.yaml"))
    assert report.passed is False
    statuses = {row.name: row.status for row in report.checks}
    assert statuses.pop("connectivity") == "fail"
    assert set(statuses.values()) == {"skip"}


def test_generic_instances_replace_every_g() -> None:
    network = Network.from_sizes([2, 2, 1], ["generic", "softmax"])
    found = verify.instances(network)
    assert [label for label, _ in found] == [f"g = {n}" for n in activations.CONCRETE]
    for label, concrete in found:
        assert label is not None
        assert concrete.layers[0].activation.name == label.removeprefix("g = ")
        assert concrete.layers[1].activation.name == "softmax"
    assert verify.instances(Network.from_sizes([2, 1])) == [(None, Network.from_sizes([2, 1]))]


def test_relative_error_is_normwise_and_inf_on_nan_or_shape() -> None:
    assert verify.relative_error([1.0, 2.0], [1.0, 4.0]) == 0.5
    assert verify.relative_error([0.0], [0.0]) == 0.0
    assert verify.relative_error([np.nan], [1.0]) == float("inf")
    assert verify.relative_error([1.0, 2.0], [[1.0, 2.0]]) == float("inf")


REPORT = Report(
    "diagrams/x.yaml",
    (
        Check("forward", "pass", 1.23456e-16, 1e-9, "symbolic vs NumPy"),
        Check("cost", "skip", detail="the spec has no loss"),
        Check("connectivity", "fail", detail="missing edge x_0 -> z_0_1", instance="g = relu"),
    ),
    seed=3,
)


def test_report_json_is_stable_and_rounded() -> None:
    document = REPORT.to_json()
    assert document["passed"] is False
    assert document["counts"] == {"pass": 1, "fail": 1, "skip": 1}
    assert document["checks"][0] == {
        "name": "forward",
        "instance": None,
        "status": "pass",
        "error": 1.23e-16,
        "tolerance": 1e-9,
        "detail": "symbolic vs NumPy",
    }
    text = json.dumps(document, sort_keys=True)
    assert text == json.dumps(REPORT.to_json(), sort_keys=True)


def test_report_text_is_a_plain_table_unless_colored() -> None:
    text = REPORT.to_text()
    lines = text.splitlines()
    assert lines[0] == "diagrams/x.yaml: CHECKS FAILED"
    assert lines[1].split() == ["check", "status", "rel.", "error", "tolerance", "detail"]
    assert lines[2].split()[:4] == ["forward", "pass", "1.23e-16", "1e-09"]
    assert "connectivity [g = relu]" in lines[4]
    assert "\033[" not in text
    assert "\033[31mfail" in REPORT.to_text(color=True)
