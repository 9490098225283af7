"""The activation registry: each activation once, as SymPy, NumPy, LaTeX and derivative.

Every other module looks activations up here (``activation_for``); an unknown name is a
``SpecError`` listing the allowed ones. ``generic`` is the tutorial's unspecified ``g``: it has
a SymPy form (an undefined function) but no NumPy one, so numeric checks substitute each
concrete activation in turn (``CONCRETE``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .errors import SpecError
from .model import ActivationChoice, decimal_text

if TYPE_CHECKING:
    import numpy as np
    import sympy

    Array = np.ndarray
else:

    class _NumPy:
        """NumPy, imported on first use: ``nndiagram equations`` never evaluates numerically
        and saves the tenth of a second ``import numpy`` costs."""

        def __getattr__(self, name: str) -> Any:
            import numpy

            return getattr(numpy, name)

    np = _NumPy()

NAMES: tuple[str, ...] = (
    "custom",
    "generic",
    "identity",
    "leaky_relu",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
)
# The activations a 'generic' g is replaced by when it has to be evaluated.
CONCRETE: tuple[str, ...] = ("identity", "sigmoid", "tanh", "relu", "leaky_relu")
DEFAULT_LEAKY_ALPHA = 0.01  # the tutorial's max(0.01z, z)


@dataclass(frozen=True)
class Activation:
    """One activation function in every form the tool needs.

    ``sympy_expr(z)`` returns the formula in the SymPy symbol ``z``; ``numpy_fn`` evaluates it
    element-wise (softmax: over axis 0, the units); ``numpy_derivative`` is the element-wise
    derivative (``None`` for softmax, whose derivative is a Jacobian, and for ``generic``).
    ``latex`` is the formula as a textbook prints it, right-hand side of ``g(z) =``.
    ``numpy_inplace`` computes ``numpy_fn`` overwriting its (float array) argument and returns
    it: the evaluator uses it to save one copy of each layer's activations (``None``: use
    ``numpy_fn``).
    """

    name: str
    title: str
    latex: str
    sympy_expr: Callable[[Any], Any]
    numpy_fn: Callable[[Array], Array] | None
    numpy_derivative: Callable[[Array], Array] | None
    derivative_latex: str
    elementwise: bool = True
    numpy_inplace: Callable[[Array], Array] | None = None
    derivative_text: str | None = None  # the plain-text derivative, where SymPy's would differ
    text: str | None = None  # the plain-text formula, where SymPy's (Max, Piecewise) would differ

    def sympy_derivative(self, z: Any) -> Any:
        import sympy

        return sympy.diff(self.sympy_expr(z), z)


def _sigmoid(z: Array) -> Array:
    return _sigmoid_inplace(np.array(z, dtype=np.result_type(z, np.float32)))


def _sigmoid_prime(z: Array) -> Array:
    # σ(z)σ(−z) = σ(z)(1 − σ(z)) without the cancellation in 1 − σ(z): accurate in both tails.
    return _sigmoid(z) * _sigmoid(-z)


def _sigmoid_inplace(z: Array) -> Array:
    # 1 / (1 + e^-z) keeps relative accuracy in both tails. For z < -709, e^-z overflows to
    # inf and 1 / (1 + inf) = 0 is the right limit: that overflow is expected, not reported.
    # (Four cheap passes; exp(-logaddexp(0, -z)) is as exact but several times slower.)
    with np.errstate(over="ignore", under="ignore"):
        np.negative(z, out=z)
        np.exp(z, out=z)
    z += 1.0
    return np.reciprocal(z, out=z)


def _tanh_prime(z: Array) -> Array:
    # sech²z = 4e^{−2|z|} / (1 + e^{−2|z|})² = 1 − tanh²z, without the cancellation for large |z|.
    e = np.exp(-2.0 * np.abs(z))
    return 4.0 * e / (1.0 + e) ** 2


def _relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def _relu_inplace(z: Array) -> Array:
    return np.maximum(z, 0.0, out=z)


def _relu_prime(z: Array) -> Array:
    return (z > 0).astype(z.dtype)


def softmax(z: Array) -> Array:
    """Softmax over the units (axis 0) of a column batch, shifted so exp never overflows."""
    shifted = z - np.max(z, axis=0, keepdims=True)
    e = np.exp(shifted)
    out: Array = e / np.sum(e, axis=0, keepdims=True)
    return out


def _softmax_inplace(z: Array) -> Array:
    z -= np.max(z, axis=0, keepdims=True)
    np.exp(z, out=z)
    z /= np.sum(z, axis=0, keepdims=True)
    return z


def _identity_prime(z: Array) -> Array:
    return np.ones_like(z)


def _sympy_sigmoid(z: Any) -> Any:
    import sympy

    return 1 / (1 + sympy.exp(-z))


def _sympy_tanh(z: Any) -> Any:
    import sympy

    return sympy.tanh(z)


def _sympy_relu(z: Any) -> Any:
    import sympy

    return sympy.Max(0, z)


def _sympy_generic(z: Any) -> Any:
    import sympy

    return sympy.Function("g")(z)


def _sympy_softmax(z: Any) -> Any:
    # Element form for one unit of a one-unit layer; symbolic.py builds the vector form.
    import sympy

    return sympy.exp(z) / sympy.exp(z)


_BUILTIN: dict[str, Activation] = {
    "identity": Activation(
        name="identity",
        title="Identity (linear)",
        latex="z",
        sympy_expr=lambda z: z,
        numpy_fn=lambda z: z,
        numpy_derivative=_identity_prime,
        derivative_latex="1",
        numpy_inplace=lambda z: z,
    ),
    "sigmoid": Activation(
        name="sigmoid",
        title="Sigmoid",
        latex=r"\frac{1}{1 + e^{-z}}",
        sympy_expr=_sympy_sigmoid,
        numpy_fn=_sigmoid,
        numpy_derivative=_sigmoid_prime,
        derivative_latex=r"g(z)\,(1 - g(z))",
        numpy_inplace=_sigmoid_inplace,
    ),
    "tanh": Activation(
        name="tanh",
        title="Tanh",
        latex=r"\frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}",
        sympy_expr=_sympy_tanh,
        numpy_fn=lambda z: np.tanh(z),
        numpy_derivative=_tanh_prime,
        derivative_latex=r"1 - g(z)^{2}",
        numpy_inplace=lambda z: np.tanh(z, out=z),
    ),
    "relu": Activation(
        name="relu",
        title="ReLU",
        latex=r"\max(0, z)",
        sympy_expr=_sympy_relu,
        numpy_fn=_relu,
        numpy_derivative=_relu_prime,
        # One convention everywhere (NumPy, LaTeX, text): ReLU'(0) = 0.
        derivative_latex=r"\begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}",
        numpy_inplace=_relu_inplace,
        derivative_text="1 for z > 0, 0 for z ≤ 0",
        text="max(0, z)",
    ),
    "softmax": Activation(
        name="softmax",
        title="Softmax",
        latex=r"\frac{e^{z_j}}{\sum_{k} e^{z_k}}",
        sympy_expr=_sympy_softmax,
        numpy_fn=softmax,
        numpy_derivative=None,
        derivative_latex=r"g_j(z)\,(\delta_{jk} - g_k(z))",
        elementwise=False,
        numpy_inplace=_softmax_inplace,
    ),
    "generic": Activation(
        name="generic",
        title="Generic g",
        latex=r"g(z)",
        sympy_expr=_sympy_generic,
        numpy_fn=None,
        numpy_derivative=None,
        derivative_latex=r"g'(z)",
    ),
}


@lru_cache(maxsize=64)
def _leaky_relu(alpha: float) -> Activation:
    def fn(z: Array) -> Array:
        return np.where(z > 0, z, alpha * z)

    def prime(z: Array) -> Array:
        return np.where(z > 0, 1.0, alpha).astype(z.dtype)

    def inplace(z: Array) -> Array:
        return np.multiply(z, alpha, out=z, where=z < 0)

    def expr(z: Any) -> Any:
        import sympy

        # Piecewise rather than Max(αz, z): it is also right for α > 1.
        a = sympy.Rational(str(alpha))
        return sympy.Piecewise((z, z > 0), (a * z, True))

    shown = decimal_text(alpha)  # as written: never 1e-05, never 0.123457
    return Activation(
        name="leaky_relu",
        title=f"Leaky ReLU (α = {shown})",
        latex="z"
        if alpha == 1
        else rf"\max({shown}z, z)"
        if alpha < 1
        else rf"\begin{{cases}} z & z > 0 \\ {shown}z & z \le 0 \end{{cases}}",
        sympy_expr=expr,
        numpy_fn=fn,
        numpy_derivative=prime,
        derivative_latex=rf"\begin{{cases}} 1 & z > 0 \\ {shown} & z \le 0 \end{{cases}}",
        numpy_inplace=inplace,
        derivative_text=f"1 for z > 0, {shown} for z ≤ 0",
        text="z"
        if alpha == 1
        else f"max({shown}·z, z)"
        if alpha < 1
        else f"z for z > 0, {shown}·z for z ≤ 0",
    )


@lru_cache(maxsize=256)
def _custom(expression: str) -> Activation:
    from .expressions import compile_activation

    compiled = compile_activation(expression)
    return Activation(
        name="custom",
        title=f"Custom: {expression}",
        latex=compiled.latex,
        sympy_expr=compiled.sympy_expr,
        numpy_fn=compiled.numpy_fn,
        numpy_derivative=compiled.numpy_derivative,
        derivative_latex=compiled.derivative_latex,
    )


def activation_for(choice: ActivationChoice | str) -> Activation:
    """The registry entry for a spec's choice (or a bare name)."""
    if isinstance(choice, str):
        choice = ActivationChoice(
            choice, alpha=DEFAULT_LEAKY_ALPHA if choice == "leaky_relu" else None
        )
    if choice.name == "leaky_relu":
        return _leaky_relu(DEFAULT_LEAKY_ALPHA if choice.alpha is None else choice.alpha)
    if choice.name == "custom":
        if choice.expression is None:
            raise SpecError("custom activation needs an expression in z")
        return _custom(choice.expression)
    try:
        return _BUILTIN[choice.name]
    except KeyError:
        raise SpecError(
            f"unknown activation {choice.name!r} (must be one of: {', '.join(NAMES)})"
        ) from None


def sympy_symbol_z() -> sympy.Symbol:
    import sympy

    return sympy.Symbol("z", real=True)


# --- affine activations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Affine:
    """``g(z) = c z + d`` for every real z, proven; ``c`` and ``d`` are exact SymPy numbers.

    ``c = 0`` is a constant activation (a one-unit softmax, ``sigmoid(z) + sigmoid(-z)``).
    ``proof`` says how it was shown.
    """

    c: Any
    d: Any
    proof: str

    @property
    def is_identity(self) -> bool:
        return bool(self.c == 1 and self.d == 0)

    @property
    def is_constant(self) -> bool:
        return bool(self.c == 0)

    def text(self) -> str:
        import sympy

        return sympy.sstr(sympy.Symbol("z") * self.c + self.d)

    def latex(self) -> str:
        import sympy

        return sympy.latex(sympy.Symbol("z") * self.c + self.d)


def affine_form(choice: ActivationChoice, units: int = 2) -> Affine | None:
    """``g(z) = c z + d`` when ``choice`` is affine for every real z (decided symbolically, so
    ``2*z + 1``, ``sin(z)**2 + cos(z)**2``, ``max(z, z)`` and leaky ReLU with α = 1 are found);
    None when it is not, or when that is not proven. ``units``: a softmax of one unit is the
    constant 1."""
    import sympy

    if choice.name == "identity":
        return Affine(sympy.Integer(1), sympy.Integer(0), "the identity")
    if choice.name == "softmax":
        if units == 1:
            return Affine(sympy.Integer(0), sympy.Integer(1), "a softmax of one unit is e^z/e^z")
        return None
    if choice.name == "leaky_relu":
        alpha = choice.alpha if choice.alpha is not None else DEFAULT_LEAKY_ALPHA
        if sympy.Rational(repr(float(alpha))) == 1:
            return Affine(sympy.Integer(1), sympy.Integer(0), "leaky ReLU with α = 1 is z")
        return None
    if choice.name == "custom" and choice.expression is not None:
        return _custom_affine(choice.expression)
    return None


# A second difference this large (relative) at some probe: clearly not affine, skip SymPy.
_AFFINE_PROBES = ((-3.0, 1.0), (-1.0, 2.0), (0.5, 4.0), (-7.0, -2.0), (10.0, 30.0))


@lru_cache(maxsize=256)
def _custom_affine(expression: str) -> Affine | None:
    import sympy

    from .expressions import AFFINE_BUDGET_S, proven_curved, time_limit

    activation = _custom(expression)
    assert activation.numpy_fn is not None
    for a, b in _AFFINE_PROBES:
        values = activation.numpy_fn(np.array([a, b, (a + b) / 2]))
        defect = abs(values[0] + values[1] - 2 * values[2])
        if np.isfinite(defect) and defect > 1e-6 * max(1.0, *np.abs(values)):
            return None  # certainly curved somewhere: no symbolic work
    if proven_curved(expression):
        return None  # curved too, by less than float64 sees (sigmoid nested 20 deep)
    z = sympy.Symbol("z", real=True)
    g = activation.sympy_expr(z)
    try:
        # Not proven curved, not yet proven affine: SymPy decides, within a budget (past it,
        # the activation counts as not proven affine: the network is not collapsed).
        with time_limit(AFFINE_BUDGET_S):
            d = sympy.nsimplify(sympy.simplify(g.subs(z, 0)), rational=False)
            c = sympy.simplify(g.subs(z, 1) - d)
            if c.free_symbols or d.free_symbols or not (c.is_real and d.is_real):
                return None
            if not _vanishes(g - (c * z + d), z):
                return None
    except (TypeError, ValueError, ZeroDivisionError, TimeoutError):
        return None
    kind = "constant" if c == 0 else "affine"
    return Affine(c, d, f"{kind}: g(z) − ({sympy.sstr(c * z + d)}) simplifies to 0 on every piece")


def _vanishes(expr: Any, z: Any) -> bool:
    """Is ``expr`` 0 for every real z? Max, Min, Abs are split into their pieces first."""
    import sympy

    if expr.has(sympy.Max, sympy.Min, sympy.Abs, sympy.Heaviside, sympy.sign):
        expr = sympy.piecewise_fold(expr.rewrite(sympy.Piecewise))
    pieces = expr.args if isinstance(expr, sympy.Piecewise) else ((expr, sympy.true),)
    remaining: Any = sympy.S.Reals  # a Piecewise takes the first piece whose condition holds
    for piece, condition in pieces:
        region = _region(condition, remaining)
        if region is not None:
            remaining = remaining - region
            if region.is_empty or isinstance(region, sympy.FiniteSet):
                continue  # no z, or single points: the pieces around them decide (continuity)
        if sympy.expand(piece) == 0:
            continue
        if sympy.simplify(piece) != 0:
            return False
    return True


def _region(condition: Any, remaining: Any) -> Any:
    """The z where this piece applies (None when SymPy cannot say)."""
    import sympy

    try:
        where = sympy.S.Reals if condition is sympy.true else condition.as_set()
        return where.intersect(remaining)
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return None


def network_affine(network: Any) -> tuple[Affine, ...] | None:
    """Each layer's ``g(z) = c z + d`` when every activation is affine, else None: then, and
    only then, the network collapses to one ``W x + B``."""
    forms = []
    for layer in network.layers:
        form = affine_form(layer.activation, layer.units)
        if form is None:
            return None
        forms.append(form)
    return tuple(forms)
