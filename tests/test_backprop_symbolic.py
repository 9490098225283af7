"""SymPy: the simplified output gradients proven by the chain rule, entry-level gradients proven
equal to the matrix form, the equations' LaTeX, and the lambdified gradients vs NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from nndiagram.model import Network
from nndiagram.numeric.backward import gradients
from nndiagram.symbolic.gradient_entries import (
    ExplicitGradients,
    explicit_gradients,
    gradient_function,
    is_zero,
    matrix_form,
    prove_matrix_form,
    sum_form_gradients,
)
from nndiagram.symbolic.gradients import (
    backprop_equations,
    chain_rule_dz,
    equations_latex,
    prove_output_gradient,
)
from nndiagram.verify.checks import check
from nndiagram.verify.gradients import check_gradients, random_problem, relative_gradient_error


@pytest.mark.parametrize("units", [1, 2, 3])
def test_sigmoid_bce_output_gradient_is_a_minus_y(units: int) -> None:
    proof = prove_output_gradient("sigmoid", "bce", units)
    assert proof.holds and proof.statement == r"dz^{[L]} = a^{[L]} - y"


@pytest.mark.parametrize("units", [2, 3, 4])
def test_softmax_ce_output_gradient_is_a_minus_y_for_targets_summing_to_one(units: int) -> None:
    proof = prove_output_gradient("softmax", "ce", units)
    assert proof.holds and r"\sum_k y_k = 1" in proof.statement


def test_softmax_ce_without_the_constraint_is_not_a_minus_y() -> None:
    dz, _, y, a = chain_rule_dz("softmax", "ce", 2)
    assert sympy.simplify(dz[0] - (a[0] - y[0])) != 0
    assert sympy.simplify(dz[0] - (a[0] * (y[0] + y[1]) - y[0])) == 0


@pytest.mark.parametrize("activation", ["generic", "identity", "sigmoid", "tanh", "relu"])
def test_mse_output_gradient_keeps_the_factor_two(activation: str) -> None:
    proof = prove_output_gradient(activation, "mse", 2)
    assert proof.holds and proof.statement.startswith(r"dz^{[L]} = 2\,(a^{[L]} - y)")


def test_mse_through_sigmoid_is_not_a_minus_y() -> None:
    # The shortcut belongs to bce: with mse the chain rule keeps 2 and g'(z).
    dz, _, y, a = chain_rule_dz("sigmoid", "mse", 1)
    assert sympy.simplify(dz[0] - (a[0] - y[0])) != 0


FAST_NETWORKS = [
    ([2, 2, 1], ["generic", "generic"], "mse"),
    ([2, 2, 1], ["generic", "sigmoid"], "bce"),
    ([2, 2, 2], ["generic", "softmax"], "ce"),
    ([2, 2, 1], ["generic", "identity"], "mse"),
    ([2, 2, 1], ["relu", "tanh"], "mse"),
    ([2, 2, 2, 1], ["generic", "generic", "sigmoid"], "bce"),
]


@pytest.mark.parametrize(("sizes", "activations", "loss"), FAST_NETWORKS)
def test_entry_level_gradients_equal_the_matrix_form(
    sizes: list[int], activations: list[str], loss: str
) -> None:
    proof = prove_matrix_form(explicit_gradients(Network.from_sizes(sizes, activations), loss))
    assert proof.holds, proof.detail


@pytest.mark.slow
def test_entry_level_gradients_through_softmax_with_mse() -> None:
    network = Network.from_sizes([2, 2, 2], ["generic", "softmax"])
    assert prove_matrix_form(explicit_gradients(network, "mse")).holds


@pytest.fixture(scope="module")
def small_bce() -> ExplicitGradients:
    return explicit_gradients(Network.from_sizes([2, 1, 1], ["generic", "sigmoid"]), "bce")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda g: {**g, "dW0": g["dW0"] * 2}, id="factor"),
        pytest.param(lambda g: {**g, "db1": g["db1"] * 0}, id="dropped term"),
        pytest.param(lambda g: {**g, "dW0": g["dW0"][:, ::-1]}, id="swapped entries"),
    ],
)
def test_a_wrong_matrix_form_is_not_proven(tamper, small_bce) -> None:  # type: ignore[no-untyped-def]
    explicit = small_bce
    proof = prove_matrix_form(explicit, tamper(matrix_form(explicit)))
    assert not proof.holds and "differs at" in proof.detail


def test_lambdified_entry_gradients_match_numpy() -> None:
    network = Network.from_sizes([2, 3, 1], ["leaky_relu", "sigmoid"])
    params, X, Y = random_problem(network, "bce", np.random.default_rng(2), m=3)
    symbolic = gradient_function(explicit_gradients(network, "bce", m=3))(params, X, Y)
    assert relative_gradient_error(gradients(network, params, X, Y, "bce"), symbolic) < 1e-12


GOLDEN_221_BCE = (
    r"\begin{aligned} dz^{[1]} &= a^{[1]} - y \\ "
    r"dW^{[1]} &= \frac{1}{m} dz^{[1]} a^{[0]T} \\ "
    r"db^{[1]} &= \frac{1}{m} dz^{[1]} \mathbf{1} \\ "
    r"dz^{[0]} &= \left(W^{[1]T} dz^{[1]}\right) \odot g'^{[0]}(z^{[0]}) \\ "
    r"dW^{[0]} &= \frac{1}{m} dz^{[0]} x^{T} \\ "
    r"db^{[0]} &= \frac{1}{m} dz^{[0]} \mathbf{1} \end{aligned}"
)


def test_matrix_form_equations_in_latex() -> None:
    network = Network.from_sizes([2, 2, 1], ["relu", "sigmoid"])
    assert equations_latex(network, "bce") == GOLDEN_221_BCE


def test_mse_equations_show_the_factor_two_and_g_prime() -> None:
    rows = backprop_equations(Network.from_sizes([2, 2, 1], ["tanh", "tanh"]), "mse")
    assert (rows[0].lhs, rows[0].rhs) == ("da^{[1]}", r"2 \left(a^{[1]} - y\right)")
    assert (rows[1].lhs, rows[1].rhs) == ("dz^{[1]}", r"da^{[1]} \odot g'^{[1]}(z^{[1]})")


def test_softmax_hidden_layer_uses_the_jacobian() -> None:
    rows = backprop_equations(Network.from_sizes([3, 4, 2], ["softmax", "softmax"]), "ce")
    by_lhs = {row.lhs: row.rhs for row in rows}
    assert by_lhs["da^{[0]}"] == r"W^{[1]T} dz^{[1]}"
    expected = (
        r"a^{[0]} \odot \left(da^{[0]} - \mathbf{1} \left(a^{[0]} \odot da^{[0]}\right)\right)"
    )
    assert by_lhs["dz^{[0]}"] == expected


def test_one_based_numbering_follows_the_spec() -> None:
    from nndiagram.model import Naming

    network = Network.from_sizes([2, 1], "sigmoid", naming=Naming(base=1))
    rows = backprop_equations(network, "bce")
    assert rows[0].lhs == "dz^{[1]}" and rows[1].rhs == r"\frac{1}{m} dz^{[1]} x^{T}"


def test_check_reports_gradient_rows_for_every_instance() -> None:
    network = Network.from_sizes([2, 2, 1], ["generic", "sigmoid"], loss="bce")
    rows = [r for r in check(network).checks if r.name.startswith("gradients")]
    assert len(rows) == 2 * 5  # finite differences + symbolic, for each concrete g
    assert all(r.status == "pass" for r in rows)
    assert max(r.error for r in rows if r.error is not None) < 1e-6


def test_check_gradients_on_a_large_network_samples_entries() -> None:
    network = Network.from_sizes([50, 30, 10], ["relu", "softmax"], loss="ce")
    fd, symbolic = check_gradients(network, np.random.default_rng(0))
    # 24 sampled entries of W0 (30x50), b0 (30) and W1 (10x30), and all 10 of b1.
    assert fd.status == "pass" and "central differences on 82 entries" in fd.detail
    assert symbolic.status == "skip"


def test_check_skips_a_cross_entropy_on_an_unbounded_output() -> None:
    network = Network.from_sizes([2, 2, 1], ["tanh", "identity"], loss="bce")
    (row,) = check_gradients(network, np.random.default_rng(0))
    assert row.status == "skip" and "bce needs outputs in (0, 1)" in row.detail


@pytest.mark.parametrize(
    ("sizes", "activation", "loss", "last"),
    [
        ([2, 1], "sigmoid", "bce", r"\left(a^{(i)} - y^{(i)}\right)"),
        ([2, 1], "generic", "mse", r"2 \left(a^{(i)} - y^{(i)}\right) g'(z^{(i)})"),
        ([1, 2], "softmax", "ce", r"\left(a_{1}^{(i)} - y_{1}^{(i)}\right)"),
    ],
)
def test_one_layer_gradients_as_sums_over_the_samples(
    sizes: list[int], activation: str, loss: str, last: str
) -> None:
    rows = sum_form_gradients(Network.from_sizes(sizes, activation), loss)
    assert len(rows) == sizes[1] * (sizes[0] + 1) and all(r.holds for r in rows)
    assert rows[-1].rhs == rf"\frac{{1}}{{m}} \sum_{{i=1}}^{{m}} {last}"
    assert rows[0].rhs.endswith("x_{0}^{(i)}")


def test_a_summand_missing_its_input_is_not_confirmed() -> None:
    i = sympy.Symbol("i")
    x, y = sympy.IndexedBase("x"), sympy.IndexedBase("y")
    w, b = sympy.symbols("w b")
    a = 1 / (1 + sympy.exp(-(w * x[0, i] + b)))
    summand = sympy.diff(-(y[0, i] * sympy.log(a) + (1 - y[0, i]) * sympy.log(1 - a)), w)
    assert is_zero(summand - (a - y[0, i]) * x[0, i])
    assert not is_zero(summand - (a - y[0, i]))


LEAKY = {"leaky_relu": {"alpha": 0.2}}
ABS = {"custom": "abs(z)"}


@pytest.mark.parametrize(
    ("sizes", "activations", "loss", "layers"),
    [
        ([2, 2, 2, 1], [LEAKY] * 3, "mse", "layers 0, 1, 2"),
        ([1, 1, 1, 1, 1], [LEAKY] * 4, "mse", "layers 0, 1, 2, 3"),
        ([2, 2, 1], [ABS, "sigmoid"], "bce", "layer 0"),
        ([1, 2, 1], [ABS, {"custom": "abs(z) + z"}], "mse", "layers 0, 1"),
    ],
)
def test_activations_by_cases_are_proven_for_any_g(
    sizes: list[int], activations: list[object], loss: str, layers: str
) -> None:
    """3+ leaky ReLU layers and abs(z) were not confirmed (nested Piecewise, opaque sign(z)):
    their layers are now proven as an undefined g, on both routes."""
    proof = prove_matrix_form(explicit_gradients(Network.from_sizes(sizes, activations), loss))
    assert proof.holds, proof.detail
    assert proof.detail == f"every entry, m = 2 samples, with any differentiable g in {layers}"


def test_a_smooth_network_is_proven_as_written() -> None:
    """Only a derivative by cases becomes g: sigmoid and tanh layers keep their formulas."""
    explicit = explicit_gradients(Network.from_sizes([2, 2, 1], ["tanh", "sigmoid"]), "bce")
    assert prove_matrix_form(explicit).detail == "every entry, m = 2 samples"
    assert explicit_gradients(explicit.network, "bce", opaque=True).opaque == ()


def _without_derivative_of(layer: str) -> object:
    """Tamper: the factor g'(z) of one layer left out of every entry."""

    def drop(e: sympy.Expr) -> sympy.Expr:
        return e.replace(
            lambda s: isinstance(s, sympy.Subs) and f"{layer}(" in str(s.expr),
            lambda s: sympy.Integer(1),
        )

    return lambda form: {k: v.applyfunc(drop) for k, v in form.items()}


@pytest.fixture(scope="module")
def leaky_three() -> ExplicitGradients:
    network = Network.from_sizes([1, 2, 1, 1], [LEAKY] * 3)
    return explicit_gradients(network, "mse", opaque=True)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda g: {**g, "dW0": g["dW0"] * 2}, id="factor"),
        pytest.param(lambda g: {**g, "dW1": g["dW1"][:, ::-1]}, id="swapped entries"),
        pytest.param(_without_derivative_of("g0"), id="first layer's g' left out"),
        pytest.param(_without_derivative_of("g1"), id="middle layer's g' left out"),
        pytest.param(
            lambda g: {k: v.subs(sympy.Symbol("W2_0_0", real=True), 1) for k, v in g.items()},
            id="a weight left out",
        ),
    ],
)
def test_a_wrong_matrix_form_with_any_g_is_not_proven(tamper, leaky_three) -> None:  # type: ignore[no-untyped-def]
    right = matrix_form(leaky_three)
    assert prove_matrix_form(leaky_three, right).holds
    proof = prove_matrix_form(leaky_three, tamper(right))
    assert not proof.holds and "differs at" in proof.detail


def test_the_sum_form_of_abs_is_proven() -> None:
    """One abs(z) layer: 'SymPy does not confirm the sum form' (sign(z) stayed opaque)."""
    for loss in ("mse", "bce"):
        rows = sum_form_gradients(Network.from_sizes([2, 1], [ABS]), loss)
        assert len(rows) == 3 and all(r.holds for r in rows), loss
