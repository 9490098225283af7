"""Issue 12: affine activations collapse (proven), exact constants, one source of truth for the
cost, stable and complete engines, LaTeX that reads right. Through the CLI where it is a command."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy
from conftest import RunCli
from hypothesis import given, settings
from hypothesis import strategies as st

from nndiagram.activations import activation_for, affine_form
from nndiagram.derivation.checker import parse_derivation
from nndiagram.derivation.expr import Num
from nndiagram.model import ActivationChoice, Layer, Network
from nndiagram.numeric.forward import init_params, network_cost
from nndiagram.symbolic import derive
from nndiagram.verify.engines import evaluate

AFFINE = [
    ("2*z", 2, 0),
    ("2*z + 1", 2, 1),
    ("-z", -1, 0),
    ("sin(z)**2 + cos(z)**2", 0, 1),
    ("(z + 0.1)**2 - z**2 - 0.2*z + z", 1, Fraction(1, 100)),
    ("sigmoid(z) + sigmoid(-z)", 0, 1),
    ("max(0.5*z, z) + min(0.5*z, z)", Fraction(3, 2), 0),
]


def _spec(tmp_path: Path, layers: str, loss: str = "") -> Path:
    path = tmp_path / "net.yaml"
    path.write_text(f"inputs: 2\nlayers:\n{layers}{loss}")
    return path


@pytest.mark.parametrize(("expression", "c", "d"), AFFINE)
def test_affine_in_disguise_is_found_exactly(expression: str, c: object, d: object) -> None:
    form = affine_form(ActivationChoice("custom", expression=expression))
    assert form is not None
    assert form.c == sympy.Rational(str(c)) and form.d == sympy.Rational(str(d))


def test_leaky_relu_alpha_one_and_a_one_unit_softmax_are_affine() -> None:
    assert affine_form(ActivationChoice("leaky_relu", alpha=1.0)) is not None
    assert affine_form(ActivationChoice("leaky_relu", alpha=0.5)) is None
    constant = affine_form(ActivationChoice("softmax"), units=1)
    assert constant is not None and constant.is_constant and constant.d == 1
    assert affine_form(ActivationChoice("softmax"), units=2) is None


def test_affine_network_collapses_and_check_passes(run_cli: RunCli, tmp_path: Path) -> None:
    layers = (
        '  - {units: 3, activation: {custom: "(z + 0.1)**2 - z**2 - 0.2*z + z"}}\n'
        "  - {units: 2, activation: {leaky_relu: {alpha: 1}}}\n"
        '  - {units: 1, activation: {custom: "2*z + 1"}}\n'
    )
    path = _spec(tmp_path, layers)
    equations = json.loads(run_cli("equations", str(path), "--format", "json").stdout)
    assert equations["collapsible"] is True and equations["proof_holds"] is True
    assert [f["d"] for f in equations["affine"]] == ["1/100", "0", "1"]
    done = run_cli("check", str(path))
    assert done.returncode == 0, done.stdout
    assert "layer 0: g(z) = z + 1/100 folded into W, B" in done.stdout
    # the collapsed engine is W x + B with c, d folded in: equal to layer by layer
    network = derive_network(path)
    params = init_params(network, seed=3)
    X = np.random.default_rng(0).normal(size=(2, 5))
    np.testing.assert_allclose(
        evaluate(network, params, X, engine="collapsed"),
        evaluate(network, params, X, engine="numpy"),
        rtol=1e-12,
    )


def derive_network(path: Path) -> Network:
    from nndiagram.spec import load_spec

    return load_spec(str(path))


def test_a_constant_activation_is_named_as_constant(run_cli: RunCli, tmp_path: Path) -> None:
    layers = "  - {units: 2, activation: tanh}\n  - {units: 1, activation: softmax}\n"
    done = run_cli("check", str(_spec(tmp_path, layers)), "--format", "json")
    assert done.returncode == 0, done.stdout  # gradients of a constant are exactly 0 too
    rows = {row["name"]: row for row in json.loads(done.stdout)["reports"][0]["checks"]}
    assert rows["collapse"]["status"] == "pass"
    assert "layer 1's activation is the constant 1" in rows["collapse"]["detail"]


def test_leaky_output_alpha_is_the_layers_own_in_the_cost(run_cli: RunCli, tmp_path: Path) -> None:
    layers = (
        "  - {units: 2, activation: tanh}\n  - {units: 1, activation: {leaky_relu: {alpha: 0.5}}}\n"
    )
    path = _spec(tmp_path, layers, "loss: mse\n")
    done = run_cli("check", str(path))
    assert done.returncode == 0, done.stdout
    network = derive_network(path)
    params = init_params(network, seed=1)
    X = np.array([[-3.0, 2.0], [1.0, -4.0]])
    Y = np.zeros((1, 2))
    Z = params["W1"] @ np.tanh(params["W0"] @ X + params["b0"][:, None]) + params["b1"][:, None]
    expected = float(np.mean(np.sum((np.where(Z > 0, Z, 0.5 * Z) - Y) ** 2, axis=0)))
    assert network_cost(network, params, X, Y) == pytest.approx(expected, rel=1e-12)


def test_a_custom_output_layer_has_a_cost() -> None:
    network = Network(
        inputs=2,
        layers=(Layer(0, 1, 2, ActivationChoice("custom", expression="z**2 + 1")),),
        loss="mse",
    )
    params = {"W0": np.array([[1.0, 2.0]]), "b0": np.array([0.5])}
    X, Y = np.array([[1.0], [1.0]]), np.array([[0.0]])
    assert network_cost(network, params, X, Y) == pytest.approx((3.5**2 + 1) ** 2)


def test_bce_on_an_unbounded_output_is_refused_in_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    path = _spec(tmp_path, "  - {units: 1, activation: relu}\n", "loss: bce\n")
    np.savez(tmp_path / "P.npz", W0=np.ones((1, 2)), b0=np.zeros(1))
    np.save(tmp_path / "X.npy", np.ones((2, 3)))
    np.save(tmp_path / "Y.npy", np.ones((1, 3)))
    done = run_cli(
        "gradients", str(path), "--params", str(tmp_path / "P.npz"), "--input",
        str(tmp_path / "X.npy"), "--target", str(tmp_path / "Y.npy"), "-o", str(tmp_path / "G.npz"),
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "loss bce needs outputs in (0, 1)" in done.stderr and "sigmoid" in done.stderr
    assert done.stderr.startswith(f"{path}:1:1: error: loss bce")  # the contract names the file
    assert not (tmp_path / "G.npz").exists()
    trained = run_cli(
        "train", str(path), "--data", str(tmp_path / "X.npy"), "--targets",
        str(tmp_path / "Y.npy"), "-o", str(tmp_path / "T.npz"), "--loss", "ce",
    )  # fmt: skip
    assert trained.returncode == 2 and trained.stderr.count("\n") == 1
    assert trained.stderr.startswith(f"{path}:1:1: error: loss ce needs outputs in (0, 1)")
    assert not (tmp_path / "T.npz").exists()
    checked = run_cli("check", str(path))
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert "loss bce needs outputs in (0, 1)" in checked.stdout


def test_sympy_engine_is_stable_for_softmax_at_large_z() -> None:
    network = Network.from_sizes([2, 3], "softmax")
    params = {"W0": np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]), "b0": np.zeros(3)}
    X = np.array([[1e3, -1e3, 5.0], [-1e3, 1e3, 7.0]])
    numpy_out = evaluate(network, params, X, engine="numpy")
    sympy_out = evaluate(network, params, X, engine="sympy")
    assert np.isfinite(sympy_out).all()
    np.testing.assert_allclose(sympy_out, numpy_out, rtol=1e-12, atol=1e-300)


def test_erf_works_in_the_sympy_engine() -> None:
    gelu = ActivationChoice("custom", expression="0.5*z*(1+erf(z/sqrt(2)))")
    network = Network(inputs=2, layers=(Layer(0, 2, 2, gelu), Layer(1, 1, 2)))
    params = init_params(network, seed=0)
    X = np.random.default_rng(1).normal(size=(2, 4))
    np.testing.assert_allclose(
        evaluate(network, params, X, engine="sympy"),
        evaluate(network, params, X, engine="numpy"),
        rtol=1e-12,
    )


def test_decimal_exponents_are_exact_not_rounded() -> None:
    z = sympy.Symbol("z", real=True)
    expr = activation_for(ActivationChoice("custom", expression="abs(z)**1.5001")).sympy_expr(z)
    assert expr == sympy.Abs(z) ** sympy.Rational(15001, 10000)
    fn = activation_for(ActivationChoice("custom", expression="abs(z)**1.5001")).numpy_fn
    assert fn is not None and fn(np.array([3.0]))[0] == pytest.approx(3.0**1.5001, rel=1e-15)


@pytest.mark.parametrize(
    ("alpha", "latex"),
    [(0.00001, r"\max(0.00001z, z)"), (0.123456789, r"\max(0.123456789z, z)")],
)
def test_leaky_alpha_latex_is_as_written(alpha: float, latex: str) -> None:
    assert activation_for(ActivationChoice("leaky_relu", alpha=alpha)).latex == latex


def test_relu_derivative_at_zero_is_one_convention(run_cli: RunCli, tmp_path: Path) -> None:
    path = _spec(tmp_path, "  - {units: 1, activation: relu}\n")
    text = run_cli("equations", str(path), "--format", "text").stdout
    assert "g′(z) = 1 for z > 0, 0 for z ≤ 0" in text and "Heaviside" not in text
    relu = activation_for("relu")
    assert relu.numpy_derivative is not None and relu.numpy_derivative(np.array([0.0]))[0] == 0
    assert r"0 & z \le 0" in relu.derivative_latex


def test_hadamard_inside_a_product_keeps_its_parentheses() -> None:
    d = parse_derivation(
        "symbols: {A: [2, 2], B: [2, 2], C: [2, 2]}\nsteps: ['C*hadamard(A, B)', C]\n"
    )
    assert d.latex(d.steps[0].expression) == r"C \left(A \odot B\right)"


def test_derivation_latex_never_uses_e_notation() -> None:
    d = parse_derivation("symbols: {x: []}\nsteps: [1e-5*x, 0.00001*x]\n")
    assert [d.latex(s.expression) for s in d.steps] == ["10^{-5} x", "0.00001 x"]


# --- properties --------------------------------------------------------------------------------

SMALL = st.integers(-9, 9).filter(lambda n: n != 0)
DISGUISES = [
    "{a}*z + {b} + sin(z)**2 + cos(z)**2 - 1",
    "max({a}*z + {b}, {a}*z + {b})",
    "(z + {b})**2 - z**2 - {b2}*z + {a}*z - {bb}",
    "{a}*z + {b} + abs(z) - abs(-z)",
    "{a}*(z + 1) + {b} - {a}",
]


@settings(max_examples=25, deadline=None)
@given(a=SMALL, b=st.integers(-9, 9), disguise=st.sampled_from(DISGUISES))
def test_random_affine_activations_in_disguise_collapse(a: int, b: int, disguise: str) -> None:
    expression = disguise.format(a=a, b=b, b2=2 * b, bb=b * b)
    form = affine_form(ActivationChoice("custom", expression=expression))
    assert form is not None, expression
    assert form.c == a and form.d == (0 if "**2 - z**2" in disguise else b)
    network = Network(
        inputs=2,
        layers=(
            Layer(0, 2, 2, ActivationChoice("custom", expression=expression)),
            Layer(1, 1, 2),
        ),
    )
    derivation = derive(network)
    assert derivation.collapsible and derivation.proof_holds


NONLINEAR = [
    "z**2 + {a}*z",
    "max({a}*z, 0)",
    "abs(z) + {a}*z",
    "tanh({a}*z)",
    "sigmoid(z) + {a}*z",
]


@settings(max_examples=20, deadline=None)
@given(a=SMALL, template=st.sampled_from(NONLINEAR))
def test_random_nonlinear_activations_get_an_exact_counterexample(a: int, template: str) -> None:
    expression = template.format(a=a)
    network = Network(
        inputs=2,
        layers=(Layer(0, 2, 2, ActivationChoice("custom", expression=expression)), Layer(1, 1, 2)),
    )
    derivation = derive(network)
    assert not derivation.collapsible
    example = derivation.counterexample
    assert example is not None, expression
    # Recomputed exactly: output 0 is h(t) = g(t) (w00 = 1, all else 0) at t1, t2, the midpoint.
    z = sympy.Symbol("z", real=True)
    g = activation_for(network.layers[0].activation).sympy_expr(z)
    t1, t2 = example.inputs[0][0, 0], example.inputs[1][0, 0]
    defect = g.subs(z, t1) + g.subs(z, t2) - 2 * g.subs(z, (t1 + t2) / 2)
    assert sympy.simplify(defect - example.difference) == 0
    assert sympy.N(defect, 50) != 0


DECIMAL = st.builds(
    lambda whole, digits, zeros: f"{whole}.{'0' * zeros}{digits}",
    st.integers(0, 999),
    st.integers(1, 10**12),
    st.integers(0, 12),
)


@settings(max_examples=40, deadline=None)
@given(text=DECIMAL)
def test_random_decimals_round_trip_exactly(text: str) -> None:
    d = parse_derivation(f"symbols: {{x: []}}\nsteps: ['{text}*x', x]\n")
    number = d.steps[0].expression.left  # type: ignore[attr-defined]
    assert isinstance(number, Num) and number.value == Fraction(text)
    assert d.latex(d.steps[0].expression) == f"{text} x"
    z = sympy.Symbol("z", real=True)
    expr = activation_for(ActivationChoice("custom", expression=f"{text}*z")).sympy_expr(z)
    assert expr == sympy.Rational(text) * z


def test_check_passes_on_a_fractional_power_of_abs(run_cli: RunCli, tmp_path: Path) -> None:
    """abs(z)**1.5001: the exponent is exact, and the entry-level gradients differentiate
    |t| as a real function (SymPy's Derivative(re(t)) crashed check with a traceback)."""
    layers = '  - {units: 2, activation: {custom: "abs(z)**1.5001"}}\n  - {units: 1}\n'
    done = run_cli("check", str(_spec(tmp_path, layers, "loss: mse\n")))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
