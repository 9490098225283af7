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
# main thread, by a clock shared by all custom activations of a spec: a refusal in one line,
# never a hang.
MAX_ANALYSIS_NODES = 5_000
# Functions inside functions: mish, z*tanh(log(1 + exp(z))), is 3; each level of sigmoid
# nesting made `check` (SymPy evaluating the derivative exactly) about 1.7 times slower: 2 s
# of CPU at 6, 20 s at 10.
MAX_CALL_DEPTH = 6
ANALYSIS_BUDGET_S = 5.0
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
    """Raise ``_OutOfTime`` after ``seconds`` (main thread only: elsewhere the size budgets
    alone apply). An alarm already set by the caller is restored, less the time spent."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum: int, frame: object) -> None:
        raise _OutOfTime

    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, alarm)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    if outer:
        signal.setitimer(signal.ITIMER_REAL, min(seconds, outer))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


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
    # Printed with a z that has no assumptions: the same LaTeX, but SymPy's printer then does
    # not try to decide whether each exp(-…) exponent is constant (seconds for a sigmoid nested
    # five deep, minutes for ten).
    # (Swapped without evaluation: the same tree, not Max/Min rebuilt pair by pair.)
    with sympy.evaluate(False):
        plain_expr, plain_derivative = (
            f.xreplace({z: sympy.Symbol("z")}) for f in (expr, derivative)
        )
    # The numbers as written (0.01, not 1/100); everything else is computed exactly.
    written = _Builder(sympy.Symbol("z"), source, written=True).build(tree)
    return CompiledActivation(
        source=text,
        latex=sympy.latex(written if written.has(sympy.Float) else plain_expr),
        derivative_latex=sympy.latex(plain_derivative),
        sympy_expr=sympy_expr,
        numpy_fn=numpy_fn,
        numpy_derivative=numpy_derivative,
    )


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
    calls = _call_depth(tree.body)
    if calls > MAX_CALL_DEPTH:
        raise SpecError(
            f"functions are nested {calls} deep, at most {MAX_CALL_DEPTH} "
            "(each level multiplies the work of deriving and checking the activation)"
        )
    return tree.body


def _call_depth(node: ast.AST) -> int:
    """How deep function calls are nested: ``sigmoid(z*sigmoid(z))`` is 2."""
    inner = max((_call_depth(child) for child in ast.iter_child_nodes(node)), default=0)
    return inner + isinstance(node, ast.Call)


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

        digits = repr(value)
        if self.text and getattr(node, "lineno", 0) == 1 and getattr(node, "end_lineno", 0) == 1:
            raw = self.text.split("\n", 1)[0].encode()
            start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
            segment = raw[start:end].decode(errors="replace")
            digits = segment.replace("_", "")
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


def lambdify_modules() -> list[Any]:
    """``lambdify`` modules under which every whitelisted function works on arrays: NumPy has
    no ``erf``, and ``math.erf`` takes scalars only."""
    return [{"erf": np.vectorize(math.erf, otypes=[float])}, "numpy"]


def _vectorised(z: Any, expr: Any) -> Callable[[Array], Array]:
    """NumPy function of ``expr``: element-wise, same shape as its argument, float.

    Out-of-domain inputs (``log`` of a negative number) give nan/inf like NumPy itself, without
    a warning: the numeric checks report such values, a warning would only be noise.
    """
    import sympy

    erf = np.vectorize(math.erf, otypes=[float])
    # The derivative of max/min/abs holds Heaviside steps; SymPy's NumPy printer rewrites each
    # into a Piecewise and simplifies its conditions (19 s for max(z, sin z, cos z, tanh z)).
    # A step function of our own prints as a plain call.
    step = sympy.Function("nndiagram_step")
    expr = expr.replace(sympy.Heaviside, lambda x, *h0: step(x))
    fn = sympy.lambdify(z, expr, modules=[{"erf": erf, "nndiagram_step": _heaviside}, "numpy"])

    def evaluate(values: Array) -> Array:
        values = np.asarray(values, dtype=float)
        with np.errstate(all="ignore"):
            result = np.asarray(fn(values), dtype=float)
        return np.broadcast_to(result, values.shape).copy()

    return evaluate
