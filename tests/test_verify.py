"""`verify.check`: every spec in diagrams/ passes, and deliberately broken pieces are caught."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import DIAGRAMS

from nndiagram import activations
from nndiagram.activations import CONCRETE
from nndiagram.model import Network
from nndiagram.spec.load import load_spec
from nndiagram.verify import checks as verify
from nndiagram.verify.checks import Check, check

VALID_SPECS = sorted(p.stem for p in DIAGRAMS.glob("*.yaml") if p.stem != "not-fully-connected")


@pytest.fixture(autouse=True)
def fresh_derivations() -> Iterator[None]:
    # A monkeypatched symbolic piece must not leak through the derivation cache.
    verify._derive.cache_clear()
    yield
    verify._derive.cache_clear()


def statuses(report: verify.Report) -> dict[str, str]:
    return {
        row.name + (f" [{row.instance}]" if row.instance else ""): row.status
        for row in report.checks
    }


@pytest.mark.parametrize("name", VALID_SPECS)
def test_every_diagram_passes_every_check(name: str) -> None:
    report = check(load_spec(DIAGRAMS / f"{name}.yaml"))
    failed = [row for row in report.checks if row.status == "fail"]
    assert report.passed, failed
    for row in report.checks:
        if row.error is not None and row.tolerance is not None:
            assert row.error <= row.tolerance, row


def test_tutorial_network_runs_every_kind_of_check() -> None:
    found = statuses(check(load_spec(DIAGRAMS / "xor.yaml")))
    for name in ("forward", "collapse", "activation sigmoid", "derivative sigmoid", "cost"):
        assert found[name] == "pass"
    assert found["connectivity"] == "skip"


def test_linear_network_reports_collapse_and_its_proof() -> None:
    found = statuses(check(load_spec(DIAGRAMS / "deep-linear.yaml")))
    assert found["collapse"] == found["collapse proof"] == found["collapse W, B"] == "pass"


def test_generic_g_is_checked_with_every_concrete_activation() -> None:
    report = check(load_spec(DIAGRAMS / "multilayer-activation.yaml"))
    instances = {row.instance for row in report.checks if row.instance}
    assert instances == {f"g = {name}" for name in CONCRETE}
    found = statuses(report)
    for name in CONCRETE:
        assert found[f"forward [g = {name}]"] == "pass"
        assert found[f"collapse [g = {name}]"] == "pass"
        assert found[f"activation {name} [g = {name}]"] == "pass"


def test_block_form_is_skipped_with_a_reason_and_still_checked_numerically() -> None:
    report = check(load_spec(DIAGRAMS / "mnist-mlp.yaml"))
    rows = {row.name: row for row in report.checks}
    assert rows["forward"].status == "skip"
    assert "block form" in rows["forward"].detail
    assert rows["collapse"].status == "pass"  # the counterexample, re-run at 784-128-64-10
    assert rows["cost"].status == "pass"


def test_a_wide_linear_stack_is_checked_in_block_form() -> None:
    report = check(Network.from_sizes([100, 40, 30]))
    found = statuses(report)
    assert found["forward"] == "skip"
    assert found["collapse"] == found["collapse proof"] == "pass"
    assert report.passed


def test_reports_are_deterministic() -> None:
    network = load_spec(DIAGRAMS / "xor.yaml")
    first = json.dumps(check(network, seed=5).to_json(), sort_keys=True)
    verify._derive.cache_clear()
    assert first == json.dumps(check(network, seed=5).to_json(), sort_keys=True)
    assert json.loads(first)["seed"] == 5


# --- deliberately broken inputs are caught -----------------------------------------------------


def break_activation(monkeypatch: pytest.MonkeyPatch, name: str, **changes: object) -> None:
    broken = dataclasses.replace(activations._BUILTIN[name], **changes)  # type: ignore[arg-type]
    monkeypatch.setitem(activations._BUILTIN, name, broken)


def test_wrong_derivative_in_the_registry_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    break_activation(monkeypatch, "sigmoid", numpy_derivative=activations._sigmoid)
    report = check(load_spec(DIAGRAMS / "xor.yaml"))
    assert not report.passed
    found = statuses(report)
    assert found["derivative sigmoid"] == "fail"
    assert found["forward"] == "pass"


def test_wrong_evaluator_activation_fails_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    # The in-place form is what the evaluator runs: a slip there must show up in `forward`.
    break_activation(monkeypatch, "tanh", numpy_inplace=lambda z: np.tanh(0.5 * z, out=z))
    report = check(Network.from_sizes([2, 3, 1], ["tanh", "identity"]))
    found = statuses(report)
    assert found["forward"] == "fail"
    assert found["activation tanh"] == "fail"


def test_a_failed_collapse_proof_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from nndiagram.symbolic import derivation

    monkeypatch.setattr(derivation, "prove_entries", lambda network: False)
    report = check(load_spec(DIAGRAMS / "multilayer.yaml"))
    assert statuses(report)["collapse proof"] == "fail"
    assert not report.passed


def test_a_wrong_counterexample_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from nndiagram.symbolic import derivation

    real = derivation.find_counterexample

    def off_by_a_bit(network: Network) -> object:
        example = real(network)
        assert example is not None
        return dataclasses.replace(example, difference=example.difference * 1.01)

    monkeypatch.setattr(derivation, "find_counterexample", off_by_a_bit)
    found = statuses(check(load_spec(DIAGRAMS / "xor.yaml")))
    assert found["collapse"] == "fail"


def test_new_checks_can_be_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def gradient_check(network: Network, rng: np.random.Generator) -> list[Check]:
        seen.append(network.layers[0].activation.name)
        return [Check("gradient", "pass", 0.0, 1e-6, "stand-in for backprop's rows")]

    monkeypatch.setattr(verify, "CHECKS", [*verify.CHECKS, gradient_check])
    report = check(load_spec(DIAGRAMS / "neuron-activation.yaml"))
    assert seen == list(CONCRETE)
    assert sum(row.name == "gradient" for row in report.checks) == len(CONCRETE)


def test_public_api_from_the_package() -> None:
    import nndiagram

    network = nndiagram.Network.from_sizes([2, 2, 1], ["tanh", "sigmoid"], loss="bce")
    report = nndiagram.check(network, seed=1)
    assert report.passed
    assert {row.name for row in report.checks} >= {"forward", "collapse", "cost"}
    params = {"W0": [[1, 0], [0, 1]], "b0": [0, 0], "W1": [[0, 0]], "b1": [0]}
    np.testing.assert_array_equal(nndiagram.evaluate(network, params, [[1], [2]]), [[0.5]])


def test_a_stage_that_refuses_the_network_is_a_failed_row(monkeypatch: pytest.MonkeyPatch) -> None:
    from nndiagram.errors import UsageError

    def refuses(network: Network, rng: np.random.Generator) -> list[Check]:
        raise UsageError("cannot do this one")

    monkeypatch.setattr(verify, "CHECKS", [refuses, *verify.CHECKS])
    report = check(load_spec(DIAGRAMS / "neuron.yaml"))
    assert not report.passed
    row = next(row for row in report.checks if row.name == "refuses")
    assert (row.status, row.detail) == ("fail", "cannot do this one")
    assert statuses(report)["forward"] == "pass"  # the other checks still ran


def test_docstring_example_runs() -> None:
    import doctest

    result = doctest.testmod(verify, raise_on_error=False, verbose=False)
    assert result.attempted >= 1
    assert result.failed == 0
