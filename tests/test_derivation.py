"""The derivation checker: true steps pass, each kind of wrong step is caught with a real
counterexample, shapes that do not conform are errors naming both shapes."""

from __future__ import annotations

import numpy as np
import pytest

from nndiagram.derivation.checker import check, parse_derivation
from nndiagram.derivation.exact import differ, exact_value
from nndiagram.derivation.proof import assignments
from nndiagram.errors import SpecError

SYMBOLS = """\
symbols:
  A: [2, 2]
  B: [2, 2]
  C: [2, 3]
  W0: [2, 2]
  W1: [1, 2]
  x: [2, 1]
  y: [2, 1]
  b0: [2, 1]
  b1: [1, 1]
  s: []
  t: []
"""


def derivation(*steps: str):
    body = "".join(f"  - {step!r}\n" for step in steps)
    return parse_derivation(SYMBOLS + "steps:\n" + body, "test.yaml")


TRUE_STEPS = [
    ("W1*(W0*x + b0) + b1", "W1*W0*x + W1*b0 + b1", "matrix algebra"),
    ("(A*B)*C", "A*(B*C)", "matrix algebra"),
    ("A @ B", "A*B", "matrix algebra"),
    ("(A*B).T", "B.T*A.T", "matrix algebra"),
    ("(A + B).T.T", "B + A", "matrix algebra"),
    ("(A + B)**2", "A*A + A*B + B*A + B**2", "matrix algebra"),
    ("2*(A*B)", "A*(2*B)", "matrix algebra"),
    ("(A + B)/s", "A/s + B/s", "matrix algebra"),
    ("s*(t*x)", "t*s*x", "matrix algebra"),
    ("hadamard(A, B + A)", "hadamard(B, A) + hadamard(A, A)", "matrix algebra"),
    ("hadamard(A, B).T", "hadamard(B.T, A.T)", "matrix algebra"),
    ("sum(A.T)", "sum(A)", "matrix algebra"),
    ("sum(A + B)", "sum(B) + sum(A)", "matrix algebra"),
    ("g0(W0*x + b0)", "g0(b0 + W0*x)", "matrix algebra"),
    ("relu(W0*x).T", "relu(x.T*W0.T)", "matrix algebra"),
    ("x.T*y", "y.T*x", "entry by entry"),  # true only because the result is 1x1
    ("sum(hadamard(x, y))", "sum(x.T*y)", "entry by entry"),
    ("sigmoid(-s)", "1 - sigmoid(s)", "entry by entry"),
    ("-(A - B)", "B - A", "matrix algebra"),
    ("relu(s)*relu(s)", "relu(s)*s", "sign regions"),
    ("leaky_relu(x)", "relu(x) - 0.01*relu(-x)", "sign regions"),
    ("relu(x) + relu(-x)", "abs(x)", "sign regions"),
    ("max(A, B)", "B + relu(A - B)", "sign regions"),
    ("1 - sigmoid(x)", "sigmoid(-x)", "entry by entry"),  # a scalar minus a matrix
    ("sum(hadamard(x, x))", "x.T*x", "entry by entry"),  # a 1x1 matrix is its entry
    ("ones(1, 2)*x", "sum(x)", "entry by entry"),
    ("hadamard(ones(2, 2), A)", "A", "matrix algebra"),
    ("(100000000*s + 1)**2 - (100000000*s)**2", "200000000*s + 1", "matrix algebra"),
]


@pytest.mark.parametrize(("before", "after", "proof"), TRUE_STEPS)
def test_true_steps_hold_and_are_proven(before: str, after: str, proof: str) -> None:
    result = check(derivation(before, after))[1]
    assert result.status == "proven", result.proof
    assert proof in result.proof
    assert result.counterexample is None


WRONG_STEPS = [
    pytest.param("A*B", "B*A", id="commuted product"),
    pytest.param("W1*(W0*x + b0) + b1", "W1*W0*x + b1", id="dropped term"),
    pytest.param("(A*B).T", "A.T*B.T", id="wrong transpose"),
    pytest.param("W0*x", "W0.T*x", id="transpose added"),
    pytest.param("(1/s)*sum(A)", "sum(A)", id="wrong factor 1/m"),
    pytest.param("2*(A + B)", "2*A + B", id="factor on one term only"),
    pytest.param("(A + B)**2", "A**2 + 2*A*B + B**2", id="commutative binomial"),
    pytest.param("relu(W0*(x + y))", "relu(W0*x) + relu(W0*y)", id="activation is not linear"),
    pytest.param("g0(W0*x + b0)", "g0(W0*x) + g0(b0)", id="generic g is not linear"),
    pytest.param("hadamard(A, B)", "A*B", id="hadamard is not the product"),
]


@pytest.mark.parametrize(("before", "after"), WRONG_STEPS)
def test_wrong_steps_are_caught_with_a_counterexample(before: str, after: str) -> None:
    d = derivation(before, after)
    result = check(d)[1]
    assert not result.holds
    ce = result.counterexample
    assert ce is not None
    assert result.status == "false"
    # The counterexample is real: both sides again, exactly, at its values.
    functions = next(
        f
        for f in assignments(sorted(ce.generic))
        if {g: x.describe(g) for g, x in f.items()} == ce.generic
    )
    precision = None if ce.method.startswith("exact") else 1600
    lhs = exact_value(d.steps[0].expression, ce.values, functions, precision)
    rhs = exact_value(d.steps[1].expression, ce.values, functions, precision)
    assert differ(lhs, rhs)


def test_counterexamples_use_small_integers_a_reader_can_check() -> None:
    ce = check(derivation("A*B", "B*A"))[1].counterexample
    assert ce is not None
    for value in ce.values.values():
        array = np.asarray(value, dtype=object)
        assert all(v.denominator == 1 and abs(v) <= 3 for v in array.flat)


def test_every_step_is_checked_against_the_one_before() -> None:
    results = check(derivation("A*(B + A)", "A*B + A*A", "B*A + A*A", "A*B + A**2"))
    assert [r.holds for r in results] == [True, True, False, False]


def test_generic_counterexample_names_the_concrete_activation() -> None:
    ce = check(derivation("g0(W0*x + b0)", "g0(W0*x) + g0(b0)"))[1].counterexample
    assert ce is not None
    assert ce.generic["g0"].startswith("g0")  # "g0 = relu" or "g0(t) = t**2"


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ("W0*x + b1", "W0*x", "cannot add 2x1 and 1x1"),
        ("x*W0", "W0*x", "cannot multiply 2x1 by 2x2: 1 ≠ 2"),
        ("W0*x", "W1*x + b1", "step 2 has shape 1x1 but step 1 has 2x1"),
        ("hadamard(x, W0)", "x", "hadamard needs two matrices of one shape: 2x1 and 2x2"),
        ("C**2", "C", "cannot raise a 2x3 matrix to a power"),
        ("A/x", "A", "cannot divide by a 2x1 matrix"),
        ("A + x", "A", "cannot add 2x2 and 2x1"),
    ],
)
def test_shapes_that_do_not_conform_are_errors_naming_both(
    before: str, after: str, message: str
) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        derivation(before, after)
    assert caught.value.exit_code == 2
    assert caught.value.path == "test.yaml" and caught.value.line is not None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("A.shape", r"unknown attribute \.shape"),
        ("A[0]", "Subscript is not allowed"),
        ("lambda: A", "Lambda is not allowed"),
        ("'A'", "is not a number"),
        ("A ^ 2", r"use \*\* for powers"),
        ("A^T", r"write A.T for the transpose"),
        ("A ** s", "powers must be integers"),
        ("A ** 0", "matrix powers must be positive"),
        ("relu(A, B)", "relu takes 1 argument"),
        ("relu(x=A)", "only plain calls"),
        ("Z + A", "undeclared symbol 'Z'"),
        ("A +", "cannot parse"),
        ("True", "is not a number"),
    ],
)
def test_only_the_whitelisted_language_is_accepted(expression: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        derivation("A", expression)


def test_errors_point_at_the_line_and_column_of_the_step() -> None:
    text = "symbols: {A: [2, 3], x: [2, 1]}\nsteps:\n  - x\n  - A + A*x\n"
    with pytest.raises(SpecError) as caught:
        parse_derivation(text, "d.yaml")
    assert str(caught.value).startswith("d.yaml:4:9: error: cannot multiply 2x3 by 2x1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps: [x, x]\nextra: 1\n", "unknown key"),
        ("symbols: {x: [2]}\nsteps: [x, x]\n", r"shape \[2\] must be \[rows, cols\]"),
        ("symbols: {x: [0, 1]}\nsteps: [x, x]\n", "positive integers"),
        ("symbols: {sum: [1, 1]}\nsteps: [x, x]\n", "cannot name a symbol"),
        ("symbols: {g1: [1, 1]}\nsteps: [x, x]\n", "cannot name a symbol"),
        ("symbols: {x: [1, 1]}\nsteps: [x]\n", "at least two"),
        ("symbols: {x: [1, 1]}\nsteps: [x, {why: no}]\n", "a step is an expression"),
        ("symbols: {x: [1, 1], x: [1, 1]}\nsteps: [x, x]\n", "duplicate key .x."),
        ("symbols: {x: [1, 1]}\ndefinitions: {x: 2}\nsteps: [x, x]\n", "declared twice"),
        ("symbols: [x]\nsteps: [x, x]\n", "symbols must map"),
        ("- x\n", "a derivation is a mapping"),
        ("symbols: {x: [1, 1]\n", "not valid YAML"),
    ],
)
def test_malformed_files_are_spec_errors(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_derivation(text, "d.yaml")


def test_definitions_are_substituted_and_may_build_on_each_other() -> None:
    text = (
        SYMBOLS
        + "definitions:\n  z0: W0*x + b0\n  z1: W1*z0 + b1\nsteps: [z1, W1*W0*x + W1*b0 + b1]\n"
    )
    assert all(r.holds for r in check(parse_derivation(text)))
    wrong = text.replace("W1*b0 + b1]", "b1]")
    assert not check(parse_derivation(wrong))[1].holds


def test_checking_is_deterministic() -> None:
    d = derivation("A*B", "B*A")
    first, second = check(d)[1].counterexample, check(d)[1].counterexample
    assert first is not None and second is not None
    assert {k: np.asarray(v).tolist() for k, v in first.values.items()} == {
        k: np.asarray(v).tolist() for k, v in second.values.items()
    }


def test_an_oversized_fence_text_is_refused_before_parsing() -> None:
    from pymdownx.superfences import SuperFencesException

    from nndiagram.derivation.checker import MAX_BYTES, derivation_fence_format

    huge = "symbols: {x: []}\nsteps:\n" + "  - x\n" * (MAX_BYTES // 6 + 1)
    with pytest.raises(SuperFencesException, match="longer than"):
        derivation_fence_format(huge, "derivation", "derivation", {}, None)


def test_names_are_compared_as_the_expressions_read_them() -> None:
    """Python's parser folds identifiers with NFKC: a fullwidth ａ in a step is a. A declared
    ａ is that symbol; ａ and a declared together are one name, an error (issue 19)."""
    derivation = parse_derivation("symbols:\n  ａ: [2, 1]\nsteps:\n  - ａ + ａ\n  - 2*a\n", "d")
    assert set(derivation.symbols) == {"a"}
    with pytest.raises(SpecError, match="same name as 'a' once Unicode-normalised"):
        parse_derivation("symbols:\n  a: []\n  ａ: []\nsteps: [a, a]\n", "d")


def test_definitions_are_measured_written_out() -> None:
    doubling = "".join(f"  d{i + 1}: d{i} + d{i}\n" for i in range(40))
    text = f"symbols:\n  x: []\ndefinitions:\n  d0: x\n{doubling}steps: [d40, d40]\n"
    with pytest.raises(SpecError, match="'d13' stands for more than 20,000 parts"):
        parse_derivation(text, "d")
