"""expressions.py: custom activations through an ast whitelist, into SymPy and NumPy."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import sympy

from nndiagram.activations import activation_for
from nndiagram.errors import SpecError
from nndiagram.expressions import compile_activation
from nndiagram.model import ActivationChoice

Z = np.array([[-3.0, -0.5, 0.0], [0.25, 1.0, 4.0]])  # a (units, samples) batch
_erf = np.vectorize(math.erf)

REFERENCES = {
    "max(0.01*z, z)": lambda z: np.where(z > 0, z, 0.01 * z),
    "0.5*z*(1 + erf(z/sqrt(2)))": lambda z: 0.5 * z * (1 + _erf(z / np.sqrt(2))),
    "log(1 + exp(z))": lambda z: np.log1p(np.exp(z)),
    "z*sigmoid(z)": lambda z: z / (1 + np.exp(-z)),
    "min(max(z, -1), 1)": lambda z: np.clip(z, -1, 1),
    "z**2 - 2*z + 1": lambda z: (z - 1) ** 2,
    "abs(z)/2 + -z": lambda z: np.abs(z) / 2 - z,
    "tanh(z) + sin(z)*cos(z)": lambda z: np.tanh(z) + np.sin(z) * np.cos(z),
    "(z**2 + 1)**0.5": lambda z: np.sqrt(z**2 + 1),
    "z / 4 + +z": lambda z: z / 4 + z,
    "max(z, 0, -z, 0.5*z)": lambda z: np.abs(z),
}


@pytest.mark.parametrize("text", sorted(REFERENCES))
def test_numpy_function_matches_a_reference(text: str) -> None:
    compiled = compile_activation(text)
    result = compiled.numpy_fn(Z)
    assert result.shape == Z.shape and result.dtype == np.float64
    np.testing.assert_allclose(result, REFERENCES[text](Z), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("text", sorted(REFERENCES))
def test_derivative_matches_central_differences(text: str) -> None:
    compiled = compile_activation(text)
    z = np.array([-2.3, -0.7, 0.4, 1.9])  # away from kinks
    h = 1e-6
    numeric = (compiled.numpy_fn(z + h) - compiled.numpy_fn(z - h)) / (2 * h)
    np.testing.assert_allclose(compiled.numpy_derivative(z), numeric, rtol=1e-6, atol=1e-6)


def test_sympy_expression_matches_numpy_and_takes_any_symbol() -> None:
    compiled = compile_activation("max(0.01*z, z) + exp(-z**2)")
    z = sympy.Symbol("z", real=True)
    expr = compiled.sympy_expr(z)
    for value in (-2.0, 0.5, 3.0):
        assert float(expr.subs(z, value)) == pytest.approx(
            float(compiled.numpy_fn(np.array([value]))[0]), rel=1e-12
        )
    w = sympy.Symbol("w")
    assert compiled.sympy_expr(w).free_symbols == {w}


def test_latex_forms() -> None:
    leaky = compile_activation("max(0.01*z, z)")
    assert leaky.latex == r"\max\left(0.01 z, z\right)"
    square = compile_activation("z**2")
    assert (square.latex, square.derivative_latex) == ("z^{2}", "2 z")
    assert compile_activation("sigmoid(z)").latex == r"\frac{1}{1 + e^{- z}}"


def test_constant_derivative_keeps_the_shape() -> None:
    compiled = compile_activation("3*z")
    assert compiled.numpy_derivative(Z).shape == Z.shape
    np.testing.assert_array_equal(compiled.numpy_derivative(Z), np.full(Z.shape, 3.0))


def test_overflow_far_out_is_inf_without_warnings() -> None:
    compiled = compile_activation("exp(z)**2")
    result = compiled.numpy_fn(np.array([-1000.0, 0.0, 1000.0]))
    assert result.tolist() == [0.0, 1.0, np.inf]


def test_registry_uses_the_compiled_expression() -> None:
    activation = activation_for(ActivationChoice("custom", expression="max(0.01*z, z)"))
    assert activation.numpy_fn is not None
    np.testing.assert_allclose(activation.numpy_fn(np.array([-1.0, 2.0])), [-0.01, 2.0])
    assert activation.latex == r"\max\left(0.01 z, z\right)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('ls')", "attribute access is not allowed"),
        ("z.__class__", "attribute access is not allowed"),
        ("z.__class__.__bases__[0].__subclasses__()", "attribute access is not allowed"),
        ("(lambda: 1)()", "lambda is not allowed"),
        ("lambda z: z", "lambda is not allowed"),
        ("[z for z in (1,)]", "a comprehension is not allowed"),
        ("sum(z for z in ())", "unknown function 'sum'"),
        ("max(*z)", "unpacking (*) is not allowed"),
        ("'z'", "a string is not allowed"),
        ("b'z'", "a string is not allowed"),
        ("f'{z}'", "a string is not allowed"),
        ("z[0]", "indexing is not allowed"),
        ("exp(z, base=2)", "exp() takes no keyword arguments"),
        ("max(z)", "max() takes 2 to 8 argument(s), got 1"),
        ("exp(z, z)", "exp() takes 1 argument(s), got 2"),
        ("x + 1", "unknown name 'x'"),
        ("exp", "unknown name 'exp' (call it with parentheses)"),
        ("z if z > 0 else 0", "a conditional expression is not allowed"),
        ("z > 0", "a comparison is not allowed"),
        ("z and 1", "and/or is not allowed"),
        ("(y := z)", "an assignment (:=) is not allowed"),
        ("z // 2", "the operator // is not allowed"),
        ("z % 2", "the operator % is not allowed"),
        ("z @ z", "the operator @ is not allowed"),
        ("~z", "only unary minus and plus are allowed"),
        ("not z", "only unary minus and plus are allowed"),
        ("(z, z)", "a tuple is not allowed"),
        ("{z: 1}", "a dict is not allowed"),
        ("True * z", "True is not allowed"),
        ("None", "None is not allowed"),
        ("1j * z", "1j is not allowed"),
        ("9**9**9**9", "an exponent must be a literal number"),
        ("z**z", "an exponent must be a literal number"),
        ("z**17", "exponents may be at most 16"),
        ("((z**4)**4)**2", "exponents may be at most 16"),
        ("1e10 * z", "the number 1e+10 is too large"),
        ("1e999 * z", "the number inf is too large"),
        ("z * " + "9" * 400, "an integer is too large"),
        ("max(z,", "invalid expression at character"),
        ("z +", "invalid expression"),
        ("", "the expression is empty"),
        ("   ", "the expression is empty"),
        ("z" + "+z" * 300, "longer than 500 characters"),
        ("-" * 60 + "z", "too complex"),
        ("exp(" * 21 + "z" + ")" * 21, "nested deeper than 20 levels"),
        ("2 + 3", "does not depend on z"),
        ("z/0", "undefined (division by zero?)"),
        ("log(0*z)", "undefined"),
        ("sqrt(-1) * z", "complex values"),
        ("log(z)", "not a finite number for every real z (z = -20;"),
        ("sqrt(z)", "not a finite number for every real z (z = -20;"),
        ("z/abs(z)", "not a finite number for every real z (z = 0;"),
        ("abs(z)**0.5", "has a derivative that is not a finite number for every real z (z = 0;"),
        ("exp(exp(z))", "not a finite number for every real z (z = 6.6;"),
        ("z\0", "invalid expression"),
    ],
)
def test_rejected_expressions(text: str, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        compile_activation(text)
    assert message in info.value.message
    assert time.perf_counter() - start < 1.0


def test_non_text_is_refused() -> None:
    with pytest.raises(SpecError, match="a text expression in z, not int"):
        compile_activation(3)  # type: ignore[arg-type]


# --- the analysis budget (issue 19) -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "sigmoid(sigmoid(sigmoid(sigmoid(sigmoid(sigmoid(z))))))",
        "max(z, sin(z), cos(z), tanh(z))",
        "max(z, 2*z, 3*z, 4*z, 5*z, 6*z, 7*z, 8*z)",
        "max(z, sin(z), cos(z), tanh(z), exp(-z*z), sigmoid(z), erf(z), abs(z))",
    ],
)
def test_slow_to_analyse_expressions_are_quick_now(text: str) -> None:
    """Nested sigmoids took 17 s (SymPy's LaTeX printer deciding whether each exponent is
    constant); a max of four functions 19 s (its NumPy printer simplifying Heaviside steps).
    The derivative must still be right: central differences away from the kinks."""
    start = time.process_time()
    compiled = compile_activation(text)
    assert time.process_time() - start < 3.0
    z = np.array([-2.3, -0.7, 0.45, 1.9, 3.3])
    h = 1e-6
    numeric = (compiled.numpy_fn(z + h) - compiled.numpy_fn(z - h)) / (2 * h)
    assert np.allclose(compiled.numpy_derivative(z), numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("text", ["sigmoid(sigmoid(sigmoid(z)))", "z*tanh(log(1 + exp(z)))"])
def test_latex_is_what_sympy_prints_for_the_real_z(text: str) -> None:
    """The LaTeX is printed from a z without assumptions (fast); it must be the same text."""
    from nndiagram.expressions import _Builder, parse_expression

    z = sympy.Symbol("z", real=True)
    expr = _Builder(z).build(parse_expression(text))
    compiled = compile_activation(text)
    assert compiled.latex == sympy.latex(expr)
    assert compiled.derivative_latex == sympy.latex(sympy.diff(expr, z))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "sin", "erf", "abs"])
def test_functions_nested_twenty_deep_are_analysed_quickly(name: str) -> None:
    """Depth 20 is allowed (issue 19): built on the real z once, the analysis grows with the
    size of the expression (tanh nested 10 deep took minutes on a z without assumptions)."""
    import nndiagram.activations as activations
    from nndiagram.activations import affine_form

    text = f"{name}(" * 20 + "z" + ")" * 20
    start = time.process_time()
    compiled = compile_activation(text)
    # sigmoid nested 20 deep is nearly constant (second differences ~1e-13): proven curved in
    # interval arithmetic, not left to SymPy's simplify, which did not finish.
    activations._custom_affine.cache_clear()
    assert affine_form(ActivationChoice("custom", expression=text)) is None
    assert compiled.sympy_expr(sympy.Symbol("x")).has(sympy.Symbol("x"))
    assert time.process_time() - start < 4.0
    z = np.array([-2.3, -0.7, 0.45, 1.9])
    h = 1e-5
    numeric = (compiled.numpy_fn(z + h) - compiled.numpy_fn(z - h)) / (2 * h)
    assert np.allclose(compiled.numpy_derivative(z), numeric, rtol=1e-4, atol=1e-12)


def test_a_symbol_argument_gives_the_same_tree_as_building_on_it() -> None:
    text = "max(0.01*z, z) + tanh(z)*exp(-z*z) + abs(z)**3"
    compiled = compile_activation(text)
    from nndiagram.expressions import _Builder, parse_expression

    for symbol in (sympy.Symbol("x"), sympy.Symbol("y", real=True)):
        built = _Builder(symbol, text).build(parse_expression(text))
        swapped = compiled.sympy_expr(symbol)
        assert swapped.free_symbols == {symbol}
        for value in (-1.3, 0.0, 0.7, 2.0):  # the same function of a real argument
            assert float(swapped.subs(symbol, value)) == pytest.approx(
                float(built.subs(symbol, value)), rel=1e-14
            )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1/(z-0.05)", "it divides by z - 0.05, which is 0 at z = 0.05"),
        ("1/(z - 0.05)**2", "it divides by (z - 0.05) ** 2, which is 0 at z = 0.05"),
        ("(z - 0.05)**-2", "it divides by z - 0.05, which is 0 at z = 0.05"),
        ("1/(z*z*z + z + 1)", "which is 0 at z = -0.682328"),
        ("z/(z - 0.05 + 1e-17)", "it divides by z - 0.05 + 1e-17, which is 0 at z = 0.05"),
        ("log((z - 0.05)**2)", "it takes the logarithm of (z - 0.05) ** 2, which is 0 at"),
        ("sqrt(abs(z - 0.33))", "takes the square root of abs(z - 0.33), which is 0 at z = 0.33"),
        ("abs(z - 0.37)**1.5 / (z - 1e6)", "it divides by z - 1000000.0, which is 0 at z = 1e+06"),
        ("1/tanh(z - 3.05)", "it divides by tanh(z - 3.05), which is 0 at z = 3.05"),
    ],
)
def test_a_pole_between_the_probes_is_refused(text: str, message: str) -> None:
    """Issue 19: 1/(z-0.05) passed the 0.1 grid and gave inf. Every division, log, root and
    fractional power is proven defined on the real line in interval arithmetic."""
    start = time.process_time()
    with pytest.raises(SpecError, match="is not defined for every real z") as info:
        compile_activation(text)
    assert message in info.value.message
    assert "\n" not in info.value.message
    assert time.process_time() - start < 2.0


@pytest.mark.parametrize(
    "text",
    [
        "1/(z*z + 1)",
        "z/(1 + abs(z))",
        "1/(2 + sin(z))",
        "1/(z*z - 2*z + 1.0001)",
        "log(1 + exp(z))",
        "sqrt(z*z + 1)",
        "1/exp(z) + z",
        "log(sigmoid(z))",
        "(z*z)**1.5",
        "1/max(abs(z), 0.1)",
        "z/(1 + exp(-z)) + 1/(tanh(z)**2 + 0.5)",
    ],
)
def test_divisions_that_never_reach_zero_stay_legal(text: str) -> None:
    compiled = compile_activation(text)
    values = compiled.numpy_fn(np.linspace(-30, 30, 6001))
    assert np.isfinite(values).all()


def test_the_derivative_size_budget_refuses_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import nndiagram.expressions as expressions

    monkeypatch.setattr(expressions, "MAX_ANALYSIS_NODES", 10)
    with pytest.raises(SpecError, match=r"has more than 10 parts; write the expression more"):
        compile_activation("sigmoid(z)*sin(z) + 0.125")


def test_the_analysis_clock_refuses_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import nndiagram.expressions as expressions

    monkeypatch.setattr(expressions, "ANALYSIS_BUDGET_S", 1e-4)
    with pytest.raises(SpecError, match="takes too long to analyse") as info:
        compile_activation("sigmoid(sigmoid(z))*cos(z) + 0.375")
    assert "\n" not in str(info.value)


def test_a_spec_shares_one_analysis_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many expressions, each quick: the spec's clock still bounds them together."""
    import nndiagram.expressions as expressions
    from nndiagram.spec import load_spec_text

    monkeypatch.setattr(expressions, "ANALYSIS_BUDGET_S", 0.05)
    layers = "".join(
        f"  - units: 1\n    activation: {{custom: 'sigmoid(z)*{i + 2}.125 + sin(z)'}}\n"
        for i in range(30)
    )
    with pytest.raises(SpecError, match="analys") as info:
        load_spec_text(f"inputs: 1\nlayers:\n{layers}")
    assert "\n" not in str(info.value)


def test_a_derivative_too_slow_to_print_is_written_as_d_dz() -> None:
    """sigmoid(max(…, 0)) nested 10 deep: SymPy's LaTeX printer spent minutes ordering the
    terms of its derivative's steps, and the analysis budget refused a legal activation."""
    text = "z"
    for _ in range(10):
        text = f"sigmoid(max({text}, 0))"
    start = time.process_time()
    compiled = compile_activation(text)
    assert time.process_time() - start < 4.0
    assert compiled.derivative_latex.startswith(r"\frac{d}{d z} \frac{1}{1 + e^{- ")
    assert compiled.derivative_latex.endswith(compiled.latex[-40:])
    z = np.array([-1.3, 0.4, 2.2])
    h = 1e-3  # g' is ~1e-7 against g ~0.66: a wide step keeps rounding out of the differences
    numeric = (compiled.numpy_fn(z + h) - compiled.numpy_fn(z - h)) / (2 * h)
    assert np.allclose(compiled.numpy_derivative(z), numeric, rtol=1e-3, atol=1e-15)


def test_whether_a_derivative_is_written_out_depends_on_its_size_not_the_clock() -> None:
    """The same spec gives the same LaTeX on every machine: sigmoid nested 3 deep prints its
    derivative (under MAX_PRINTED_DERIVATIVE nodes); nested 4 deep it is d/dz of g, however
    fast the printer would have been."""
    three, four = "sigmoid(sigmoid(sigmoid(z)))", "sigmoid(sigmoid(sigmoid(sigmoid(z))))"
    assert not compile_activation(three).derivative_latex.startswith(r"\frac{d}{d z}")
    assert compile_activation(four).derivative_latex.startswith(r"\frac{d}{d z}")
