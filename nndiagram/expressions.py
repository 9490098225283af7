"""Custom activations: an expression in ``z`` from the spec, parsed by a whitelist over ``ast``.

User text is never evaluated: ``ast.parse`` only builds a syntax tree, every node of which must
be a number, the name ``z``, ``+ - * / **``, unary minus, or a call of one of ``FUNCTIONS``.
The SymPy expression is built from that tree node by node (no ``sympify``/``eval``), and the
NumPy functions are ``lambdify`` of the SymPy tree built here. Work is bounded: expression
length, nesting depth, node count, literal sizes and exponents (small literal numbers only,
so ``9**9**9**9`` is refused before anything is computed).
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import SpecError

MAX_LENGTH = 500
MAX_DEPTH = 20
MAX_NODES = 100
MAX_ARGUMENTS = 8  # of max/min
MAX_LITERAL = 1e9
MAX_EXPONENT = 16  # |literal exponent|, and the product of nested exponents
# The analysis (derivative, finiteness, LaTeX, NumPy forms) is bounded by the derivative's size
# (sigmoid nested 20 deep, the deepest allowed, has 2,901 parts; about a second) and, in the
# main thread, by a budget of CPU seconds shared by all custom activations of a spec: a refusal
# in one line, never a hang.
MAX_ANALYSIS_NODES = 5_000
ANALYSIS_BUDGET_S = 5.0
AFFINE_BUDGET_S = 2.0  # SymPy deciding whether an activation not proven curved is affine
MAX_PRINTED_DERIVATIVE = 120  # nodes of g' printed as such (else it is written d/dz of g)
LATEX_BUDGET_S = 1.0  # a safety net behind that rule (see _derivative_latex)
Array = np.ndarray
# Where a custom activation must be finite, with its derivative: 0, both signs, a wide range.
PROBES = np.arange(-200, 201) / 10.0

# name -> (smallest, largest) number of arguments
FUNCTIONS: dict[str, tuple[int, int]] = {
    "abs": (1, 1),
    "cos": (1, 1),
    "erf": (1, 1),
    "exp": (1, 1),
    "log": (1, 1),
    "max": (2, MAX_ARGUMENTS),
    "min": (2, MAX_ARGUMENTS),
    "sigmoid": (1, 1),
    "sin": (1, 1),
    "sqrt": (1, 1),
    "tanh": (1, 1),
}
_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}
_FORBIDDEN_OPERATORS: dict[type[ast.operator], str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}
_CONSTRUCTS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "a conditional expression",
    ast.NamedExpr: "an assignment (:=)",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Starred: "unpacking (*)",
    ast.JoinedStr: "a string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}


@dataclass(frozen=True)
class CompiledActivation:
    """One checked expression in every form ``activations.py`` needs."""

    source: str
    latex: str
    derivative_latex: str
    sympy_expr: Callable[[Any], Any]  # z (a SymPy symbol or expression) -> expression
    numpy_fn: Callable[[Array], Array]
    numpy_derivative: Callable[[Array], Array]


def compile_activation(text: str) -> CompiledActivation:
    """Check and compile ``text`` (e.g. ``max(0.01*z, z)``); any problem is a ``SpecError``."""
    if not isinstance(text, str):
        raise SpecError(f"a custom activation is a text expression in z, not {type(text).__name__}")
    return _compile(text)


class _OutOfTime(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise ``_OutOfTime`` after ``seconds`` of this process's CPU time (a work budget: the
    same expression is refused, or not, whatever else the machine is doing). Main thread only:
    elsewhere the size budgets alone apply. A limit already set by the caller is restored,
    less the time spent."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum: int, frame: object) -> None:
        raise _OutOfTime

    start = time.process_time()
    previous = signal.signal(signal.SIGPROF, alarm)
    outer, _ = signal.setitimer(signal.ITIMER_PROF, seconds)
    if outer:
        signal.setitimer(signal.ITIMER_PROF, min(seconds, outer))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        if outer:
            spent = time.process_time() - start
            signal.setitimer(signal.ITIMER_PROF, max(outer - spent, 1e-3))


@contextlib.contextmanager
def analysis_budget(seconds: float | None = None) -> Iterator[None]:
    """One clock for analysing every custom activation of a spec (``spec.load`` wraps its
    validation in it): a spec of many slow expressions is refused in one line, not waited on."""
    seconds = ANALYSIS_BUDGET_S if seconds is None else seconds
    try:
        with _time_limit(seconds):
            yield
    except _OutOfTime:
        raise SpecError(
            f"analysing the custom activations takes more than {seconds:g} s; "
            "write them more simply"
        ) from None


@lru_cache(maxsize=256)
def _compile(text: str) -> CompiledActivation:
    try:
        with _time_limit(ANALYSIS_BUDGET_S):
            return _analyse(text)
    except _OutOfTime:
        raise SpecError(
            f"the expression {text!r} takes too long to analyse (a spec's custom activations "
            f"have {ANALYSIS_BUDGET_S:g} s together); write it more simply"
        ) from None


def _analyse(text: str) -> CompiledActivation:
    import sympy

    tree = parse_expression(text)
    source = text.strip()
    z = sympy.Symbol("z", real=True)
    expr = _Builder(z, source).build(tree)
    derivative = sympy.diff(expr, z)
    for size, _ in enumerate(sympy.preorder_traversal(derivative), start=1):
        if size > MAX_ANALYSIS_NODES:
            raise SpecError(
                f"the derivative of {text!r} has more than {MAX_ANALYSIS_NODES:,} parts; "
                "write the expression more simply"
            )
    for form, what in ((expr, "expression"), (derivative, "derivative")):
        if form.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise SpecError(f"the {what} of {text!r} is undefined (division by zero?)")
        if form.has(sympy.I):
            raise SpecError(f"the {what} of {text!r} has complex values")
    if not expr.has(z):
        raise SpecError(f"the expression {text!r} does not depend on z")

    def sympy_expr(argument: Any) -> Any:
        # A symbol takes the place of the real z in the expression built once (the same tree:
        # building on a symbol without assumptions makes SymPy ask about each nested level
        # again, 4 times slower per level); anything else is built for itself.
        if isinstance(argument, sympy.Symbol):
            with sympy.evaluate(False):
                return expr.xreplace({z: argument})
        return _Builder(argument, source).build(tree)

    numpy_fn, numpy_derivative = _vectorised(z, expr), _vectorised(z, derivative)
    # An activation maps every real z to a real number, and backpropagation needs its slope:
    # refuse log(z), sqrt(z), z/abs(z)... here, not as nan deep inside a numeric check.
    for fn, what in ((numpy_fn, "is"), (numpy_derivative, "has a derivative that is")):
        values = fn(PROBES)
        if not np.all(np.isfinite(values)):
            where = PROBES[~np.isfinite(values)][0]
            raise SpecError(
                f"the expression {text!r} {what} not a finite number for every real z "
                f"(z = {where:g}; checked for z in [-20, 20])"
            )
    # Between the probes: a division by something that reaches 0 (1/(z - 0.05)), a log or a
    # root of something that reaches 0 or less, anywhere on the real line.
    problem = domain_problem(tree)
    if problem is not None:
        raise SpecError(f"the expression {text!r} is not defined for every real z: {problem}")
    # Printed with a z that has no assumptions: the same LaTeX, but SymPy's printer then does
    # not try to decide whether each exp(-…) exponent is constant (seconds for a sigmoid nested
    # five deep, minutes for ten).
    # (Swapped without evaluation: the same tree, not Max/Min rebuilt pair by pair.)
    with sympy.evaluate(False):
        plain_expr, plain_derivative = (
            f.xreplace({z: sympy.Symbol("z")}) for f in (expr, derivative)
        )
    # The numbers as written (0.01, not 1/100); everything else is computed exactly. Built on
    # the real z too: SymPy applying tanh to tanh(…) of a z without assumptions asks about
    # each level again (4 times slower per level: minutes for 10 levels).
    written = _Builder(z, source, written=True).build(tree)
    with sympy.evaluate(False):
        written = written.xreplace({z: sympy.Symbol("z")})
    return CompiledActivation(
        source=text,
        latex=sympy.latex(written if written.has(sympy.Float) else plain_expr),
        derivative_latex=_derivative_latex(plain_expr, plain_derivative),
        sympy_expr=sympy_expr,
        numpy_fn=numpy_fn,
        numpy_derivative=numpy_derivative,
    )


def _derivative_latex(expr: Any, derivative: Any) -> str:
    """The derivative's LaTeX, or, past ``MAX_PRINTED_DERIVATIVE`` nodes, the derivative written
    as d/dz of the expression (as true, and printed at once). SymPy's printer asks whether each
    exponent is constant, which costs seconds on the steps of sigmoid(max(…, 0)) nested 5 deep
    (224 nodes, 1.3 s; 94 nodes, 0.2 s); a derivative that long is unreadable anyway. The rule
    is by size so the LaTeX is the same on every machine; the CPU limit behind it only keeps an
    unforeseen slow print inside the analysis budget."""
    import sympy

    written_out = sympy.latex(sympy.Derivative(expr, *expr.free_symbols))
    if _at_least(derivative, MAX_PRINTED_DERIVATIVE + 1):
        return str(written_out)
    try:
        with time_limit(LATEX_BUDGET_S):
            return str(sympy.latex(derivative))
    except TimeoutError:
        return str(written_out)


def _at_least(expr: Any, count: int) -> bool:
    """``expr`` has ``count`` or more nodes (its tree walked no further than that)."""
    import sympy

    return any(True for i, _ in enumerate(sympy.preorder_traversal(expr)) if i + 1 >= count)


def parse_expression(text: str) -> ast.expr:
    """The syntax tree of ``text``, after every whitelist and size check."""
    if len(text) > MAX_LENGTH:
        raise SpecError(f"the expression is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise SpecError("the expression is empty")
    stripped = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    shift = None if "\n" in lead else len(lead)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as error:
        on_first_line = error.offset and error.lineno == 1 and shift is not None
        column = error.offset + shift if on_first_line else None  # type: ignore[operator]
        where = f" at character {column}" if column else ""
        raise SpecError(f"invalid expression{where}: {error.msg}", column=column) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as error:
        raise SpecError(f"invalid expression: {error}") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise SpecError(f"the expression is too complex ({nodes} parts, at most {MAX_NODES})")
    _Checker(stripped, shift).check(tree.body, depth=0, power=1)
    return tree.body


class _Checker:
    def __init__(self, text: str, shift: int | None) -> None:
        self.text = text  # stripped
        self.shift = shift  # characters stripped before it on its first line (None: a line)

    def fail(self, node: ast.AST, message: str) -> SpecError:
        """The error, with the 1-based character of ``node`` when it is on the first line."""
        offset = getattr(node, "col_offset", None)
        if offset is None or getattr(node, "lineno", 1) != 1 or self.shift is None:
            return SpecError(message)
        # ast counts UTF-8 bytes; people count characters.
        line = self.text.split("\n", 1)[0]
        column = len(line.encode()[:offset].decode(errors="ignore")) + 1 + self.shift
        return SpecError(f"{message} at character {column}", column=column)

    def check(self, node: ast.AST, *, depth: int, power: float) -> None:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"the expression is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.Name):
            if node.id != "z":
                known = ", ".join(FUNCTIONS)
                hint = " (call it with parentheses)" if node.id in FUNCTIONS else ""
                raise self.fail(
                    node,
                    f"unknown name {node.id!r}{hint}: the variable is z, the functions are {known}",
                )
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise self.fail(node, "only unary minus and plus are allowed")
            self.check(node.operand, depth=depth + 1, power=power)
        elif isinstance(node, ast.BinOp):
            self.binary(node, depth=depth, power=power)
        elif isinstance(node, ast.Call):
            self.call(node, depth=depth, power=power)
        else:
            construct = _CONSTRUCTS.get(type(node), type(node).__name__)
            raise self.fail(node, f"{construct} is not allowed in an activation expression")

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            what = "a string" if isinstance(value, str | bytes) else repr(value)
            raise self.fail(node, f"{what} is not allowed in an activation expression")
        # abs() first: a 400-digit int compares with a float exactly, but cannot become one.
        if abs(value) > MAX_LITERAL or not math.isfinite(value):
            what = f"the number {value:g}" if isinstance(value, float) else "an integer"
            raise self.fail(node, f"{what} is too large (at most {MAX_LITERAL:g})")

    def binary(self, node: ast.BinOp, *, depth: int, power: float) -> None:
        if type(node.op) in _FORBIDDEN_OPERATORS:
            symbol = _FORBIDDEN_OPERATORS[type(node.op)]
            raise self.fail(node, f"the operator {symbol} is not allowed (use + - * / **)")
        if isinstance(node.op, ast.Pow):
            exponent = _literal_number(node.right)
            if exponent is None:
                raise self.fail(node.right, "an exponent must be a literal number such as 2 or 0.5")
            power *= max(abs(exponent), 1)
            if abs(exponent) > MAX_EXPONENT or power > MAX_EXPONENT:
                raise self.fail(node.right, f"exponents may be at most {MAX_EXPONENT} in size")
            self.check(node.left, depth=depth + 1, power=power)
            return
        self.check(node.left, depth=depth + 1, power=power)
        self.check(node.right, depth=depth + 1, power=power)

    def call(self, node: ast.Call, *, depth: int, power: float) -> None:
        if not isinstance(node.func, ast.Name):
            construct = _CONSTRUCTS.get(type(node.func), "this call")
            raise self.fail(node, f"{construct} is not allowed: call a function by its name")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.fail(
                node, f"unknown function {name!r} (must be one of: {', '.join(FUNCTIONS)})"
            )
        if node.keywords:
            raise self.fail(node, f"{name}() takes no keyword arguments")
        for argument in node.args:
            self.check(argument, depth=depth + 1, power=power)
        smallest, largest = FUNCTIONS[name]
        if not smallest <= len(node.args) <= largest:
            count = str(smallest) if smallest == largest else f"{smallest} to {largest}"
            raise self.fail(node, f"{name}() takes {count} argument(s), got {len(node.args)}")


def _literal_number(node: ast.AST) -> float | None:
    """``2``, ``-1``, ``0.5`` (a possibly negated int/float literal), else None."""
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign *= -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = float(node.value)  # type: ignore[arg-type]
        return sign * value if math.isfinite(value) else None
    return None


def _written_digits(text: str, node: ast.AST, value: float) -> str:
    """A number literal's digits as written in ``text`` (``1.5001``, never the nearest float's
    repr), or ``repr(value)`` when the text is not at hand."""
    if text and getattr(node, "lineno", 0) == 1 and getattr(node, "end_lineno", 0) == 1:
        raw = text.split("\n", 1)[0].encode()
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        return raw[start:end].decode(errors="replace").replace("_", "")
    return repr(value)


class _Builder:
    """SymPy expression of a checked tree, with ``z`` standing for the given argument.

    Numbers are exact rationals of the digits as written (``0.1`` is 1/10, ``1.5001`` is
    15001/10000, never the nearest float), so every symbolic result is about the expression
    itself; ``written`` builds them as decimals instead, for printing.
    """

    def __init__(self, z: Any, text: str = "", written: bool = False) -> None:
        self.z, self.text, self.written = z, text, written

    def number(self, node: ast.AST, value: float) -> Any:
        import sympy

        digits = _written_digits(self.text, node, value)
        try:
            exact = sympy.Rational(digits)
        except (TypeError, ValueError):
            exact = sympy.Rational(repr(value))
        return sympy.Float(digits, max(15, len(digits))) if self.written else exact

    def exponent(self, node: ast.AST) -> Any:
        """A literal exponent exactly as written: 1.5001 is 15001/10000, never 3/2."""
        import sympy

        sign = 1
        while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            sign *= -1 if isinstance(node.op, ast.USub) else 1
            node = node.operand
        assert isinstance(node, ast.Constant)
        if isinstance(node.value, int):
            return sign * sympy.Integer(node.value)
        value = self.number(node, float(node.value))  # type: ignore[arg-type]
        return sign * value

    def build(self, node: ast.AST) -> Any:
        import sympy

        if isinstance(node, ast.Constant):
            if isinstance(node.value, int):
                return sympy.Integer(node.value)
            return self.number(node, float(node.value))  # type: ignore[arg-type]
        if isinstance(node, ast.Name):
            return self.z
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left = self.build(node.left)
            if isinstance(node.op, ast.Pow):
                exponent = _literal_number(node.right)
                assert exponent is not None
                return left ** self.exponent(node.right)
            right = self.build(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            return left / right
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [self.build(argument) for argument in node.args]
        return _SYMPY_FUNCTIONS[node.func.id](*args)


def _sympy_sigmoid(x: Any) -> Any:
    import sympy

    return 1 / (1 + sympy.exp(-x))


def _sympy_function(name: str) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        import sympy

        return getattr(sympy, name)(*args)

    return apply


_SYMPY_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _sympy_function("Abs"),
    "cos": _sympy_function("cos"),
    "erf": _sympy_function("erf"),
    "exp": _sympy_function("exp"),
    "log": _sympy_function("log"),
    "max": _sympy_function("Max"),
    "min": _sympy_function("Min"),
    "sigmoid": _sympy_sigmoid,
    "sin": _sympy_function("sin"),
    "sqrt": _sympy_function("sqrt"),
    "tanh": _sympy_function("tanh"),
}


def _heaviside(values: Array) -> Array:
    """SymPy's Heaviside(x) with its default H(0) = 1/2: where two pieces of a max tie (z and
    abs(z) for z > 0) their two half steps add up to the right slope."""
    return np.heaviside(values, 0.5)


def _mpmath_heaviside(value: Any) -> Any:
    import mpmath

    return mpmath.mpf(1) if value > 0 else mpmath.mpf(0.5) if value == 0 else mpmath.mpf(0)


def steps_as_calls(expr: Any) -> Any:
    """``expr`` with each ``Heaviside`` step (the derivative of max, min, abs) as a call of
    ``nndiagram_step``, which ``lambdify_modules``/``mpmath_modules`` define with H(0) = 1/2.

    SymPy's printers rewrite each Heaviside into a Piecewise and simplify its conditions: 19 s
    for max(z, sin z, cos z, tanh z), 5 s for max(z, 2*z, …, 8*z); a plain call prints at once.
    """
    import sympy

    if not expr.has(sympy.Heaviside):
        return expr
    step = sympy.Function("nndiagram_step")
    return expr.replace(sympy.Heaviside, lambda x, *h0: step(x))


def lambdify_modules() -> list[Any]:
    """``lambdify`` modules under which every whitelisted function works on arrays: NumPy has
    no ``erf``, and ``math.erf`` takes scalars only; ``nndiagram_step`` (``steps_as_calls``)."""
    erf = np.vectorize(math.erf, otypes=[float])
    return [{"erf": erf, "nndiagram_step": _heaviside}, "numpy"]


def mpmath_modules() -> list[Any]:
    """``lambdify`` modules for mpmath numbers, ``nndiagram_step`` included."""
    return [{"nndiagram_step": _mpmath_heaviside}, "mpmath"]


def _vectorised(z: Any, expr: Any) -> Callable[[Array], Array]:
    """NumPy function of ``expr``: element-wise, same shape as its argument, float.

    Out-of-domain inputs (``log`` of a negative number) give nan/inf like NumPy itself, without
    a warning: the numeric checks report such values, a warning would only be noise.
    """
    import sympy

    fn = sympy.lambdify(z, steps_as_calls(expr), modules=lambdify_modules())

    def evaluate(values: Array) -> Array:
        values = np.asarray(values, dtype=float)
        with np.errstate(all="ignore"):
            result = np.asarray(fn(values), dtype=float)
        return np.broadcast_to(result, values.shape).copy()

    return evaluate


# --- bounds over the syntax tree: where the expression is defined, and whether it is curved ---
#
# Both walk the checked syntax tree once per evaluation (at most MAX_NODES nodes), so their
# cost grows with the expression's size, never with what SymPy would make of it.


class _Undecided(Exception):
    """Interval arithmetic cannot answer (an operation outside its domain, or a value beyond
    what it represents): the caller falls back or says nothing."""


_FLOAT_POINTS: contextvars.ContextVar[bool] = contextvars.ContextVar("float_points", default=False)


@dataclass
class _Range:
    """Enclosures ``lo <= value <= hi`` over an array of z intervals, rounded outwards, with
    signs proven from the structure: ``exp(z)`` is positive even where float64 rounds it to 0."""

    lo: Array
    hi: Array
    pos: Array  # value > 0 everywhere in the interval
    neg: Array  # value < 0
    nonneg: Array  # value >= 0
    nonpos: Array  # value <= 0

    @classmethod
    def make(
        cls,
        lo: Array,
        hi: Array,
        pos: Any = False,
        neg: Any = False,
        nonneg: Any = False,
        nonpos: Any = False,
        *,
        slack: int = 1,
    ) -> _Range:
        if _FLOAT_POINTS.get():  # NumPy's own values, not enclosures
            slack = 0
        lo = np.where(np.isnan(lo), -np.inf, lo)
        hi = np.where(np.isnan(hi), np.inf, hi)
        for _ in range(slack):  # correctly rounded: one ulp; libm functions: two
            lo, hi = np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)
        shape = lo.shape
        pos = np.broadcast_to(pos, shape) | (lo > 0)
        neg = np.broadcast_to(neg, shape) | (hi < 0)
        nonneg = np.broadcast_to(nonneg, shape) | pos | (lo >= 0)
        nonpos = np.broadcast_to(nonpos, shape) | neg | (hi <= 0)
        return cls(lo, hi, pos, neg, nonneg, nonpos)

    def negated(self) -> _Range:
        return _Range(-self.hi, -self.lo, self.neg, self.pos, self.nonpos, self.nonneg)

    @property
    def nonzero(self) -> Array:
        return self.pos | self.neg


def _product(x: _Range, y: _Range) -> _Range:
    with np.errstate(all="ignore"):
        corners = np.array([x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi])
    unknown = np.isnan(corners).any(axis=0)  # 0 * inf: no bound
    lo = np.where(unknown, -np.inf, np.nanmin(np.where(np.isnan(corners), 0, corners), axis=0))
    hi = np.where(unknown, np.inf, np.nanmax(np.where(np.isnan(corners), 0, corners), axis=0))
    return _Range.make(
        lo,
        hi,
        (x.pos & y.pos) | (x.neg & y.neg),
        (x.pos & y.neg) | (x.neg & y.pos),
        (x.nonneg & y.nonneg) | (x.nonpos & y.nonpos),
        (x.nonneg & y.nonpos) | (x.nonpos & y.nonneg),
    )


def _sum(x: _Range, y: _Range) -> _Range:
    with np.errstate(all="ignore"):
        return _Range.make(
            x.lo + y.lo,
            x.hi + y.hi,
            (x.pos & y.nonneg) | (x.nonneg & y.pos),
            (x.neg & y.nonpos) | (x.nonpos & y.neg),
            x.nonneg & y.nonneg,
            x.nonpos & y.nonpos,
        )


def _reciprocal(x: _Range) -> _Range:
    """1/x where x is nonzero (elsewhere: no bound)."""
    with np.errstate(all="ignore"):
        lo, hi = 1 / x.hi, 1 / x.lo
    lo = np.where(x.nonzero, lo, -np.inf)
    hi = np.where(x.nonzero, hi, np.inf)
    return _Range.make(lo, hi, x.pos, x.neg)


def _monotone(fn: Callable[[Array], Array], x: _Range, **signs: Any) -> _Range:
    with np.errstate(all="ignore"):
        return _Range.make(fn(x.lo), fn(x.hi), slack=2, **signs)


def _power(x: _Range, r: float) -> _Range:
    with np.errstate(all="ignore"):
        if r == int(r) and abs(r) <= MAX_EXPONENT:
            n = int(r)
            if n < 0:
                return _reciprocal(_power(x, -n))
            if n == 0:
                one = np.ones_like(x.lo)
                return _Range.make(one, one, slack=0)
            a, b = x.lo**n, x.hi**n
            if n % 2:
                return _Range.make(a, b, x.pos, x.neg, x.nonneg, x.nonpos)
            straddles = (x.lo < 0) & (x.hi > 0)
            lo = np.where(straddles, 0.0, np.minimum(a, b))
            return _Range.make(lo, np.maximum(a, b), x.nonzero, False, True)
        base_lo = np.maximum(x.lo, 0.0)  # outside its domain the caller refuses anyway
        if r > 0:
            return _Range.make(base_lo**r, x.hi**r, x.pos, False, True, slack=2)
        return _Range.make(x.hi**r, base_lo**r, x.pos, False, True, slack=2)


def _sine(x: _Range, shift: float) -> _Range:
    """sin(x + shift) (cos is shift π/2): the ends, and ±1 where a peak may lie inside."""
    with np.errstate(all="ignore"):
        a, b = x.lo + shift, x.hi + shift
        ends = np.array([np.sin(a), np.sin(b)])
        wide = ~np.isfinite(a) | ~np.isfinite(b) | (b - a >= 6.0) | (np.abs(a) > 1e15)
        # peaks at π/2 + 2kπ, troughs at -π/2 + 2kπ; a margin makes "maybe inside" generous
        margin = 1e-9 * (1 + np.abs(a) + np.abs(b))
        peak = np.floor((b + margin - np.pi / 2) / (2 * np.pi)) >= np.ceil(
            (a - margin - np.pi / 2) / (2 * np.pi)
        )
        trough = np.floor((b + margin + np.pi / 2) / (2 * np.pi)) >= np.ceil(
            (a - margin + np.pi / 2) / (2 * np.pi)
        )
    lo = np.where(wide | trough, -1.0, np.min(ends, axis=0))
    hi = np.where(wide | peak, 1.0, np.max(ends, axis=0))
    return _Range.make(np.maximum(lo, -1.0), np.minimum(hi, 1.0), slack=2)


def _erf_array(values: Array) -> Array:
    return np.vectorize(math.erf, otypes=[float])(values)


def _sigmoid_array(values: Array) -> Array:
    with np.errstate(all="ignore"):
        return np.where(
            values >= 0, 1 / (1 + np.exp(-values)), np.exp(values) / (1 + np.exp(values))
        )


@dataclass
class _Requirement:
    """An operation defined only for part of the real line: ``what`` ``node`` must be."""

    node: ast.AST
    what: str  # "nonzero", "positive", "nonnegative"
    operation: str  # "divides by", "takes the logarithm of", ...


class _RangeWalker:
    """The tree's value over intervals of z, noting for each operation with a restricted domain
    (division, log, sqrt, negative and fractional powers) where that domain is not proven.

    The domain rules are those of the derivative too: 1/x and log x need x ≠ 0 and x > 0;
    sqrt x and x**r for r < 1 need x > 0 (their slope is infinite at 0); x**r for r > 1
    needs x ≥ 0.
    """

    def __init__(self, requirements: list[_Requirement] | None = None) -> None:
        self.requirements = requirements
        self.unsafe: dict[int, Array] = {}
        self.arguments: dict[int, _Range] = {}

    def require(self, index: int, x: _Range, what: str) -> None:
        ok = {"nonzero": x.nonzero, "positive": x.pos, "nonnegative": x.nonneg}[what]
        self.unsafe[index] = self.unsafe.get(index, False) | ~ok
        self.arguments[index] = x

    def walk(self, node: ast.AST, z: _Range) -> _Range:
        if isinstance(node, ast.Constant):
            value = float(node.value)  # type: ignore[arg-type]
            exact = isinstance(node.value, int) and abs(node.value) < 2**53
            v = np.full_like(z.lo, value)
            return _Range.make(
                v, v, value > 0, value < 0, value >= 0, value <= 0, slack=0 if exact else 1
            )
        if isinstance(node, ast.Name):
            return z
        if isinstance(node, ast.UnaryOp):
            x = self.walk(node.operand, z)
            return x.negated() if isinstance(node.op, ast.USub) else x
        if isinstance(node, ast.BinOp):
            x = self.walk(node.left, z)
            if isinstance(node.op, ast.Pow):
                r = _literal_number(node.right)
                assert r is not None
                if r < 0 and r == int(r):
                    self.note(node, x, "nonzero", "divides by {}")
                elif r != int(r):
                    self.note(
                        node,
                        x,
                        "nonnegative" if r > 1 else "positive",
                        f"raises {{}} to the power {r:g}",
                    )
                return _power(x, r)
            y = self.walk(node.right, z)
            if isinstance(node.op, ast.Add):
                return _sum(x, y)
            if isinstance(node.op, ast.Sub):
                return _sum(x, y.negated())
            if isinstance(node.op, ast.Mult):
                return _product(x, y)
            self.note(node, y, "nonzero", "divides by {}")
            return _product(x, _reciprocal(y))
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [self.walk(argument, z) for argument in node.args]
        name = node.func.id
        if name in ("max", "min"):
            top = name == "max"
            pick = np.max if top else np.min
            anyall = (np.any, np.all) if top else (np.all, np.any)
            return _Range.make(
                pick([a.lo for a in args], axis=0),
                pick([a.hi for a in args], axis=0),
                anyall[0]([a.pos for a in args], axis=0),
                anyall[1]([a.neg for a in args], axis=0),
                anyall[0]([a.nonneg for a in args], axis=0),
                anyall[1]([a.nonpos for a in args], axis=0),
                slack=0,
            )
        (x,) = args
        if name == "abs":
            straddles = (x.lo < 0) & (x.hi > 0)
            a, b = np.abs(x.lo), np.abs(x.hi)
            lo = np.where(straddles, 0.0, np.minimum(a, b))
            return _Range.make(lo, np.maximum(a, b), x.nonzero, False, True, slack=0)
        if name == "exp":
            return _monotone(np.exp, x, pos=True)
        if name == "sigmoid":
            return _monotone(_sigmoid_array, x, pos=True)
        if name in ("tanh", "erf"):  # odd, increasing: the sign of the argument
            fn = np.tanh if name == "tanh" else _erf_array
            return _monotone(fn, x, pos=x.pos, neg=x.neg, nonneg=x.nonneg, nonpos=x.nonpos)
        if name == "log":
            self.note(node, x, "positive", "takes the logarithm of {}")
            return _monotone(np.log, _Range.make(np.maximum(x.lo, 0.0), x.hi, slack=0))
        if name == "sqrt":
            self.note(node, x, "positive", "takes the square root of {}")
            return _monotone(
                np.sqrt, _Range.make(np.maximum(x.lo, 0.0), x.hi, slack=0), nonneg=True, pos=x.pos
            )
        if name == "sin":
            return _sine(x, 0.0)
        assert name == "cos"
        return _sine(x, np.pi / 2)

    def note(self, node: ast.AST, x: _Range, what: str, operation: str) -> None:
        if self.requirements is None:
            return
        index = next((i for i, r in enumerate(self.requirements) if r.node is node), None)
        if index is None:
            self.requirements.append(_Requirement(node, what, operation))
            index = len(self.requirements) - 1
        self.require(index, x, what)


DOMAIN_ROUNDS = 110  # bisections of an undecided interval (a decade to one float: about 60)
DOMAIN_WIDTH = 2048  # intervals carried from one round to the next
DOMAIN_SAMPLES = 65  # points per interval left undecided when the rounds are used up
DOMAIN_CONFIRM = 8  # suspected failures confirmed exactly


def _cover() -> tuple[Array, Array]:
    """The real line in float64 as intervals: 0, then decades out to the largest float."""
    decades = 10.0 ** np.arange(-12, 309)
    edges = np.concatenate([-decades[::-1], [0.0], decades])
    edges = np.concatenate([[-np.finfo(float).max], edges, [np.finfo(float).max]])
    edges = np.unique(edges)
    return edges[:-1], edges[1:]


def _violation(values: Array, what: str) -> Array:
    """Sample points (rows: intervals) where a requirement visibly fails: a value that breaks
    it, or a sign change between neighbours (a root in between: the parts are continuous)."""
    finite = np.isfinite(values)
    if what == "positive":
        bad = finite & (values <= 0)
    elif what == "nonnegative":
        bad = finite & (values < 0)
    else:
        bad = finite & (values == 0)
    both = finite[:, 1:] & finite[:, :-1]
    change = both & (np.sign(values[:, 1:]) * np.sign(values[:, :-1]) < 0)
    if what != "nonnegative":
        bad[:, 1:] |= change
    return bad


def domain_problem(tree: ast.expr) -> str | None:
    """Why the expression is not defined for every real z, or None.

    Every operation with a restricted domain must be proven safe on the whole real line (as far
    as float64 goes) by interval arithmetic, bisecting where the enclosure is too loose. An
    interval still undecided at the width of a few floats holds a point where the operation
    fails (``1/(z-0.05)``, ``1/(z-0.05)**2``); one still undecided when the rounds run out (the
    enclosure of a wide interval can be loose) is sampled instead, and refused only when a
    sample shows the failure or a sign change. Parts that overflow float64 are not judged:
    there NumPy has no value to give anyway.
    """
    requirements: list[_Requirement] = []
    _RangeWalker(requirements).walk(tree, _Range.make(np.zeros(1), np.zeros(1), slack=0))
    if not requirements:
        return None
    with np.errstate(all="ignore"):
        return _search(tree, requirements)


def _search(tree: ast.expr, requirements: list[_Requirement]) -> str | None:
    lo, hi = _cover()
    for _ in range(DOMAIN_ROUNDS):
        walker = _RangeWalker(requirements)
        walker.walk(tree, _Range.make(lo, hi, slack=0))
        middle = np.where(np.isfinite(lo + hi), lo / 2 + hi / 2, 0.0)
        points = _RangeWalker(requirements)
        points.walk(tree, _Range.make(middle, middle, slack=0))
        open_ = np.zeros(lo.shape, dtype=bool)
        for index, unsafe in walker.unsafe.items():
            at_middle = points.arguments[index]
            representable = np.isfinite(at_middle.lo) & np.isfinite(at_middle.hi)
            open_ |= np.broadcast_to(unsafe, lo.shape) & representable
        if not open_.any():
            return None
        lo, hi, middle = lo[open_], hi[open_], middle[open_]
        tight = (middle <= lo) | (middle >= hi) | (_step(lo, 2) >= hi)
        if tight.any():
            # a few floats wide: a failure, if there is one, shows at the floats around it
            grid = np.stack(
                [_step(lo[tight], k) for k in range(-4, 1)]
                + [_step(hi[tight], k) for k in range(0, 5)],
                axis=1,
            )
            found = _visible_failure(tree, requirements, grid)
            if found is not None:
                return found
            lo, hi, middle = lo[~tight], hi[~tight], middle[~tight]
            if not lo.size:
                return None
        order = np.argsort(np.abs(middle), kind="stable")[: DOMAIN_WIDTH // 2]
        lo, hi, middle = lo[order], hi[order], middle[order]
        # split at the geometric mean where the interval spans decades, else in the middle
        geometric = (lo > 0) & (hi > 4 * lo)
        cut = np.where(geometric, np.sqrt(lo) * np.sqrt(hi), middle)
        geometric = (hi < 0) & (lo < 4 * hi)
        cut = np.where(geometric, -np.sqrt(-lo) * np.sqrt(-hi), cut)
        lo, hi = np.concatenate([lo, cut]), np.concatenate([cut, hi])
    # Rounds used up on intervals the enclosure cannot decide: look at samples of them.
    samples = np.linspace(0.0, 1.0, DOMAIN_SAMPLES)
    with np.errstate(all="ignore"):
        grid = lo[:, None] + (hi - lo)[:, None] * samples[None, :]
    return _visible_failure(tree, requirements, np.where(np.isfinite(grid), grid, 0.0))


def _step(values: Array, k: int) -> Array:
    """``values`` moved ``k`` floats up (down for negative ``k``)."""
    for _ in range(abs(k)):
        values = np.nextafter(values, np.inf if k > 0 else -np.inf)
    return values


def _visible_failure(tree: ast.expr, requirements: list[_Requirement], grid: Array) -> str | None:
    """A requirement failing at or between points of ``grid`` (rows of increasing z), in words.

    Candidates come from NumPy's float64 values (a value that breaks the requirement, or a sign
    change between neighbours); each is confirmed in exact interval arithmetic at the floats
    themselves (mpmath), so ``exp(z) - exp(z - 1)``, which underflows to 0 far left, is not
    refused for float64's rounding.
    """
    grid = np.clip(grid, -np.finfo(float).max, np.finfo(float).max)
    walker = _RangeWalker(requirements)
    flat = grid.ravel()
    token = _FLOAT_POINTS.set(True)
    try:
        walker.walk(tree, _Range.make(flat, flat, slack=0))
    finally:
        _FLOAT_POINTS.reset(token)
    candidates: list[tuple[float, int, float, float]] = []
    for index, argument in walker.arguments.items():
        values = argument.lo.reshape(grid.shape)
        what = requirements[index].what
        finite = np.isfinite(values)
        bad = finite & (
            (values <= 0)
            if what == "positive"
            else (values < 0)
            if what == "nonnegative"
            else (values == 0)
        )
        for row, col in zip(*np.nonzero(bad), strict=True):
            z = float(grid[row, col])
            candidates.append((abs(z), index, z, z))
        if what != "nonnegative":
            both = finite[:, 1:] & finite[:, :-1]
            change = both & (np.sign(values[:, 1:]) * np.sign(values[:, :-1]) < 0)
            for row, col in zip(*np.nonzero(change), strict=True):
                z1, z2 = float(grid[row, col]), float(grid[row, col + 1])
                candidates.append((min(abs(z1), abs(z2)), index, z1, z2))
    for _, index, z1, z2 in sorted(candidates)[:DOMAIN_CONFIRM]:
        what = requirements[index].what
        signs = [_exact_sign(tree, requirements[index].node, z) for z in (z1, z2)]
        for z, sign in zip((z1, z2), signs, strict=True):
            if sign == 0 and what != "nonnegative":
                return _describe(requirements[index], f"which is 0 at z = {z:.6g}")
            if sign == -1 and what != "nonzero":
                return _describe(requirements[index], f"which is negative at z = {z:.6g}")
        if None not in signs and signs[0] != signs[1]:
            where = f"{z1:.6g}" if f"{z1:.6g}" == f"{z2:.6g}" else f"{z1:.6g} and {z2:.6g}"
            return _describe(requirements[index], f"which is 0 at z = {where}")
        if None in signs and what != "nonnegative":
            z = z1 if signs[0] is None else z2
            rounds = "0" if what == "nonzero" else "0 or less"
            return _describe(
                requirements[index], f"which float64 rounds to {rounds} at z = {z:.6g}"
            )
    return None


def _exact_sign(tree: ast.expr, node: ast.AST, z: float) -> int | None:
    """The sign of the restricted operation's argument at the float ``z``, in mpmath interval
    arithmetic with the expression's numbers as float64 has them: 1, -1, 0, or None when the
    enclosure holds 0 and more."""
    found: dict[str, Any] = {}
    with contextlib.suppress(_Undecided):
        _interval_value(tree, float(z), constants="float", watch=(node, found))
    return interval_sign(found["argument"]) if "argument" in found else None


def interval_sign(value: Any) -> int | None:
    """The sign of an mpmath interval: 1, -1 or 0 when certain, None when it straddles 0."""
    if value.a > 0:
        return 1
    if value.b < 0:
        return -1
    if value.a == 0 and value.b == 0:
        return 0
    return None


def _describe(requirement: _Requirement, where: str) -> str:
    node = requirement.node
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        part = ast.unparse(node.right)
    elif isinstance(node, ast.BinOp):
        part = ast.unparse(node.left)
    else:
        assert isinstance(node, ast.Call)
        part = ast.unparse(node.args[0])
    return f"it {requirement.operation.format(part)}, {where}"


INTERVAL_BITS = 320
# Binary exponents up to this are fine (exp(-1e308) is about 2**-1.4e308); exp of a number
# beyond it would need a number with that many digits in its exponent.
_HUGE_MAGNITUDE = 2**1100


def _interval_value(
    tree: ast.expr,
    z: float,
    constants: str = "exact",
    source: str = "",
    watch: tuple[ast.AST, dict[str, Any]] | None = None,
) -> Any:
    """The expression at ``z`` in mpmath interval arithmetic (``INTERVAL_BITS`` bits): an
    enclosure of the exact value, numbers as written (``constants="exact"``, 0.1 is 1/10) or as
    float64 holds them (``"float"``). ``watch``: (a restricted operation, a dict) receives the
    enclosure of that operation's argument. ``_Undecided`` when an operation leaves its domain
    or a value grows beyond any use."""
    import mpmath

    iv = mpmath.iv
    precise = mpmath.mp

    def number(node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, int):
            return iv.mpf(value)
        if constants == "float":
            return iv.mpf(float(value))  # type: ignore[arg-type]
        return iv.mpf(_written_digits(source, node, float(value)))  # type: ignore[arg-type]

    def check(value: Any) -> Any:
        for end in (value.a, value.b):
            if not mpmath.isfinite(end) or (
                end != 0 and abs(mpmath.mpf(end)).exp > _HUGE_MAGNITUDE
            ):
                raise _Undecided
        return value

    def monotone(fn: Callable[[Any], Any], x: Any) -> Any:
        with precise.workprec(iv.prec + 40):
            ends = [fn(mpmath.mpf(end)) for end in (x.a, x.b)]
        slack = mpmath.mpf(2) ** -(iv.prec - 8)
        return iv.mpf([ends[0] - abs(ends[0]) * slack, ends[1] + abs(ends[1]) * slack])

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return number(node)
        if isinstance(node, ast.Name):
            return iv.mpf(z)
        if isinstance(node, ast.UnaryOp):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            x = walk(node.left)
            if isinstance(node.op, ast.Pow):
                note(node, x)
                r = _literal_number(node.right)
                assert r is not None
                if r == int(r):
                    if r < 0 and x.a <= 0 <= x.b:
                        raise _Undecided
                    return check(x ** int(r))
                if x.a <= 0:
                    raise _Undecided
                exponent = iv.mpf(r) if constants == "float" else number_of(node.right)
                return check(iv.exp(exponent * iv.log(x)))
            y = walk(node.right)
            if isinstance(node.op, ast.Div):
                note(node, y)
                if y.a <= 0 <= y.b:
                    raise _Undecided
                return check(x / y)
            return check(
                x + y
                if isinstance(node.op, ast.Add)
                else x - y
                if isinstance(node.op, ast.Sub)
                else x * y
            )
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [walk(argument) for argument in node.args]
        name = node.func.id
        if name in ("max", "min"):
            pick = max if name == "max" else min
            return iv.mpf([pick(a.a for a in args), pick(a.b for a in args)])
        (x,) = args
        if name in ("log", "sqrt"):
            note(node, x)
            if x.a <= 0:
                raise _Undecided
            return check(iv.log(x) if name == "log" else iv.sqrt(x))
        if name == "abs":
            if x.a >= 0:
                return x
            if x.b <= 0:
                return -x
            return iv.mpf([0, max(-x.a, x.b)])
        if abs(mpmath.mpf(x.a)) > _HUGE_MAGNITUDE or abs(mpmath.mpf(x.b)) > _HUGE_MAGNITUDE:
            raise _Undecided  # exp of it, or sin of it to any use: beyond reach
        if name == "exp":
            return check(iv.exp(x))
        if name == "sigmoid":
            return check(1 / (1 + iv.exp(-x)))
        if name == "tanh":
            return check(1 - 2 / (iv.exp(2 * x) + 1))
        if name == "erf":
            return monotone(precise.erf, x)
        return check(iv.sin(x) if name == "sin" else iv.cos(x))

    def number_of(node: ast.AST) -> Any:
        sign = 1
        while isinstance(node, ast.UnaryOp):
            sign *= -1 if isinstance(node.op, ast.USub) else 1
            node = node.operand
        assert isinstance(node, ast.Constant)
        return sign * number(node)

    def note(node: ast.AST, argument: Any) -> None:
        if watch is not None and watch[0] is node:
            watch[1]["argument"] = argument

    previous = iv.prec
    # z itself exactly, and INTERVAL_BITS beyond its units (-1e308 - 1 needs 1,100 bits)
    iv.prec = INTERVAL_BITS + max(0, math.frexp(z)[1])
    try:
        return walk(tree)
    except (ZeroDivisionError, ValueError, ArithmeticError, OverflowError) as error:
        raise _Undecided from error
    finally:
        iv.prec = previous


# Pairs (a, b): g(a) + g(b) - 2 g((a + b)/2) is 0 for every pair when g is affine.
CURVATURE_PROBES = ((-3.0, 1.0), (-1.0, 2.0), (0.5, 4.0), (-7.0, -2.0), (10.0, 20.0))


def proven_curved(text: str) -> bool:
    """Whether ``text`` is certainly not affine: a second difference at one of the probes is
    proven nonzero in interval arithmetic (numbers as written). Linear in the size of the
    expression: ``sigmoid`` nested 20 deep, whose second differences are about 1e-13, is
    decided in milliseconds where SymPy's ``simplify`` did not finish."""
    tree = parse_expression(text)
    source = text.strip()
    for a, b in CURVATURE_PROBES:
        try:
            ga, gb, gm = (_interval_value(tree, x, "exact", source) for x in (a, b, (a + b) / 2))
        except _Undecided:
            continue
        difference = ga + gb - 2 * gm
        if difference.a > 0 or difference.b < 0:
            return True
    return False


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[bool]:
    """Stop the block after ``seconds`` of CPU time: raises ``TimeoutError`` (main thread only;
    elsewhere the block runs unbounded)."""
    try:
        with _time_limit(seconds):
            yield True
    except _OutOfTime:
        raise TimeoutError from None
