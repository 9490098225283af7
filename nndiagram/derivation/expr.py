"""The expression language of derivations: a whitelist over Python's ``ast``, shapes, LaTeX.

``parse_expression`` reads one step (``W1*(W0*x + b0) + b1``) into a small tree of frozen
nodes, checking every shape on the way; nothing is ever evaluated from the text. Accepted:
numbers, declared symbols and definitions, ``+ - * / @``, integer powers, parentheses, ``A.T``,
``hadamard(A, B)``, ``sum(A)`` and activation names applied element-wise (``softmax`` per
column; ``g``, ``g0``, ``g1``, … are the tutorial's unspecified activations). ``*`` and ``@``
are both the matrix product: a scalar times a matrix scales it, two matrices must conform.

The tree keeps the writer's parentheses so ``to_latex`` prints the step as it was written.
"""

from __future__ import annotations

import ast
import contextlib
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

from ..errors import SpecError

Shape = tuple[int, int] | None  # None: a scalar

# Bounds on one step, so that no file can make checking it slow: the tutorial's longest step
# has 40 characters, depth 6 and powers of 2.
MAX_CHARS = 2_000
MAX_DEPTH = 50
MAX_POWER = 64
MAX_NUMBER = 10**12

ELEMENTWISE = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "abs", "exp")
BINARY = ("max", "min")  # element-wise, of two matrices of one shape (or a scalar)
COLUMNWISE = ("softmax",)
GENERIC = re.compile(r"g[0-9]*\Z")  # g, g0, g1, …: an unspecified activation
RESERVED = frozenset({"hadamard", "sum", "ones", "T", *ELEMENTWISE, *BINARY, *COLUMNWISE})
MAX_ONES = 10_000  # rows or columns of ones(n, m), like a declared shape

_FUNCTION_LATEX = {
    "identity": r"\operatorname{id}",
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\operatorname{ReLU}",
    "leaky_relu": r"\operatorname{LeakyReLU}",
    "softmax": r"\operatorname{softmax}",
    "exp": r"\exp",
    "max": r"\max",
    "min": r"\min",
}


@dataclass(frozen=True)
class Node:
    shape: Shape
    parens: bool  # the writer put this sub-expression in parentheses


@dataclass(frozen=True)
class Num(Node):
    value: Fraction  # exactly as written: 0.1 is 1/10
    written: str = ""  # the text, for LaTeX (a decimal stays a decimal)


@dataclass(frozen=True)
class Ones(Node):
    """``ones(n, m)``: the n×m matrix of ones (its shape says n and m)."""


@dataclass(frozen=True)
class Sym(Node):
    name: str


@dataclass(frozen=True)
class Ref(Node):
    """A defined name; evaluators read ``body`` in its place, LaTeX prints the name."""

    name: str
    body: Node


@dataclass(frozen=True)
class BinOp(Node):
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Pow(Node):
    base: Node
    exponent: int


@dataclass(frozen=True)
class Transpose(Node):
    operand: Node


@dataclass(frozen=True)
class Call(Node):
    function: str  # hadamard | sum | an activation name | a generic g
    args: tuple[Node, ...]


def shape_text(shape: Shape) -> str:
    return "scalar" if shape is None else f"{shape[0]}x{shape[1]}"


def is_function_name(name: str) -> bool:
    return (
        name in ELEMENTWISE
        or name in BINARY
        or name in COLUMNWISE
        or GENERIC.match(name) is not None
    )


def same_shape(a: Shape, b: Shape) -> bool:
    """Shapes a step may be compared across: equal, or a scalar and a 1×1 matrix."""
    return a == b or {a, b} == {None, (1, 1)}


@contextlib.contextmanager
def deep_recursion() -> Iterator[None]:
    """A flat sum of a thousand terms is a tree a thousand levels deep: the walkers recurse."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, 12_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


@dataclass(frozen=True)
class Scope:
    """What a step may name: symbols with shapes, and definitions already parsed."""

    symbols: Mapping[str, Shape]
    definitions: Mapping[str, Node]


def parse_expression(
    text: str,
    scope: Scope,
    *,
    path: str = "<derivation>",
    line: int | None = None,
    column: int = 1,
) -> Node:
    """Parse one expression; a ``SpecError`` at the offending column for anything else.

    ``line`` and ``column`` say where the text starts in its file, for error messages.
    """
    source = text.strip()
    if len(source) > MAX_CHARS:
        message = f"an expression is at most {MAX_CHARS:,} characters, got {len(source):,}"
        raise SpecError(message, path=path, line=line, column=column)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        at = column + (error.offset or 1) - 1
        message = f"cannot parse {source!r}: {error.msg}"
        raise SpecError(message, path=path, line=line, column=at) from None
    except (RecursionError, MemoryError, ValueError) as error:
        message = f"cannot parse {source[:40]!r}: {error or 'nested too deeply'}"
        raise SpecError(message, path=path, line=line, column=column) from None
    if _depth(tree.body) > MAX_DEPTH:
        message = f"the expression is nested deeper than {MAX_DEPTH} levels"
        raise SpecError(message, path=path, line=line, column=column)
    with deep_recursion():
        return _Builder(source, scope, path, line, column).build(tree.body, parent=None)


def _chain(node: ast.AST) -> type | None:
    """The family of a binary operator whose chains are one level: a + b - c, a * b @ c."""
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Add | ast.Sub):
            return ast.Add
        if isinstance(node.op, ast.Mult | ast.MatMult):
            return ast.Mult
    return None


def _depth(tree: ast.AST) -> int:
    """Nesting depth of ``tree``, without recursion (the builder recurses only below it).

    The depth counts nesting, not length: the left operand of ``a + b + c`` continues the same
    sum, so a flat sum of many terms is one level.
    """
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        family = _chain(node)
        for child in ast.iter_child_nodes(node):
            same = family is not None and isinstance(node, ast.BinOp) and child is node.left
            stack.append((child, depth if same and _chain(child) is family else depth + 1))
    return deepest


class _Builder:
    def __init__(self, text: str, scope: Scope, path: str, line: int | None, column: int) -> None:
        self.text, self.scope, self.path, self.line, self.column = text, scope, path, line, column

    def fail(self, node: ast.AST, message: str) -> SpecError:
        column = self.column + getattr(node, "col_offset", 0)
        message = f"{message} in {self.text!r}"
        return SpecError(message, path=self.path, line=self.line, column=column)

    def wrapped(self, node: ast.expr, parent: ast.AST | None) -> bool:
        # ast drops parentheses; a node sits in its own pair when '(' and ')' enclose it
        # directly and the pair is not a call's argument list.
        if isinstance(parent, ast.Call) or node.end_col_offset is None:
            return False
        before = self.text[: node.col_offset].rstrip()
        after = self.text[node.end_col_offset :].lstrip()
        return before.endswith("(") and after.startswith(")")

    def build(self, node: ast.expr, parent: ast.AST | None) -> Node:
        parens = self.wrapped(node, parent)
        if isinstance(node, ast.Constant):
            return self.number(node, parens)
        if isinstance(node, ast.Name):
            return self.name(node, parens)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.build(node.operand, node)
            if isinstance(node.op, ast.UAdd):
                return operand
            return Neg(operand.shape, parens, operand)
        if isinstance(node, ast.BinOp):
            return self.binop(node, parens)
        if isinstance(node, ast.Attribute):
            if node.attr != "T":
                raise self.fail(node, f"unknown attribute .{node.attr} (only .T, the transpose)")
            operand = self.build(node.value, node)
            shape = None if operand.shape is None else (operand.shape[1], operand.shape[0])
            return Transpose(shape, parens, operand)
        if isinstance(node, ast.Call):
            return self.call(node, parens)
        raise self.fail(node, f"{type(node).__name__} is not allowed in a derivation")

    def number(self, node: ast.Constant, parens: bool) -> Node:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(node, f"{value!r} is not a number")
        if not abs(value) <= MAX_NUMBER:  # also catches inf and nan
            raise self.fail(node, f"numbers are at most {MAX_NUMBER:.0e} in size")
        written = self.source_of(node)
        if isinstance(value, int):
            return Num(None, parens, Fraction(value), str(value))
        # The digits as written, not the nearest float: 0.1 is 1/10, 1e-10 is 1/10^10.
        try:
            exact = Fraction(written.replace("_", ""))
        except (ValueError, ZeroDivisionError):
            exact = Fraction(str(value))
        return Num(None, parens, exact, written)

    def source_of(self, node: ast.expr) -> str:
        # ast's offsets count UTF-8 bytes
        raw = self.text.encode()
        return raw[node.col_offset : node.end_col_offset].decode(errors="replace")

    def name(self, node: ast.Name, parens: bool) -> Node:
        if node.id in self.scope.definitions:
            body = self.scope.definitions[node.id]
            return Ref(body.shape, parens, node.id, body)
        if node.id in self.scope.symbols:
            return Sym(self.scope.symbols[node.id], parens, node.id)
        declared = ", ".join([*self.scope.symbols, *self.scope.definitions]) or "none"
        raise self.fail(node, f"undeclared symbol {node.id!r} (declared: {declared})")

    def binop(self, node: ast.BinOp, parens: bool) -> Node:
        if isinstance(node.op, ast.Pow):
            return self.power(node, parens)
        ops: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.MatMult: "*"}
        ops[ast.Div] = "/"
        op = ops.get(type(node.op))
        if op is None:
            hint = ""
            if isinstance(node.op, ast.BitXor):
                transpose = isinstance(node.right, ast.Name) and node.right.id == "T"
                hint = " (write A.T for the transpose)" if transpose else " (use ** for powers)"
            raise self.fail(node, f"operator {type(node.op).__name__} is not allowed{hint}")
        left, right = self.build(node.left, node), self.build(node.right, node)
        a, b = left.shape, right.shape
        if op in "+-":
            # A scalar is added to every entry (1 - sigmoid(z)); a 1x1 matrix is its entry.
            if a != b and a is not None and b is not None and not same_shape(a, b):
                raise self.fail(node, f"cannot add {shape_text(a)} and {shape_text(b)}")
            shape = b if a is None else a
        elif op == "/":
            if b is not None:
                raise self.fail(node, f"cannot divide by a {shape_text(b)} matrix (only scalars)")
            shape = a
        elif a is None or b is None:
            shape = b if a is None else a
        elif a[1] != b[0]:
            raise self.fail(
                node, f"cannot multiply {shape_text(a)} by {shape_text(b)}: {a[1]} ≠ {b[0]}"
            )
        else:
            shape = (a[0], b[1])
        return BinOp(shape, parens, op, left, right)

    def power(self, node: ast.BinOp, parens: bool) -> Node:
        base = self.build(node.left, node)
        exponent = node.right
        sign = 1
        if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub):
            sign, exponent = -1, exponent.operand
        if not (isinstance(exponent, ast.Constant) and type(exponent.value) is int):
            raise self.fail(node, "powers must be integers")
        n = sign * exponent.value
        if abs(n) > MAX_POWER:
            raise self.fail(node, f"powers are at most {MAX_POWER} in size, got {n}")
        if base.shape is not None:
            if base.shape[0] != base.shape[1]:
                raise self.fail(node, f"cannot raise a {shape_text(base.shape)} matrix to a power")
            if n < 1:
                raise self.fail(node, "matrix powers must be positive integers")
        return Pow(base.shape, parens, base, n)

    def call(self, node: ast.Call, parens: bool) -> Node:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise self.fail(node, "only plain calls like hadamard(A, B) are allowed")
        name = node.func.id
        arity = 2 if name in ("hadamard", "ones", *BINARY) else 1
        if name not in ("hadamard", "sum", "ones") and not is_function_name(name):
            known = ", ".join(
                ["hadamard", "sum", "ones", *ELEMENTWISE, *BINARY, *COLUMNWISE, "g, g0, g1, …"]
            )
            raise self.fail(node, f"unknown function {name!r} (allowed: {known})")
        if name == "ones":
            return self.ones(node, parens)
        args = tuple(self.build(arg, node) for arg in node.args)
        if len(args) != arity:
            raise self.fail(node, f"{name} takes {arity} argument(s), got {len(args)}")
        if name == "hadamard":
            a, b = args[0].shape, args[1].shape
            if a is None or b is None or a != b:
                raise self.fail(
                    node,
                    f"hadamard needs two matrices of one shape: {shape_text(a)} and "
                    f"{shape_text(b)}",
                )
            return Call(a, parens, name, args)
        if name in BINARY:
            a, b = args[0].shape, args[1].shape
            if a is not None and b is not None and a != b:
                raise self.fail(
                    node, f"{name} needs matrices of one shape: {shape_text(a)} and {shape_text(b)}"
                )
            return Call(b if a is None else a, parens, name, args)
        if name == "softmax" and args[0].shape is None:
            raise self.fail(node, "softmax needs a matrix (it normalises each column)")
        return Call(None if name == "sum" else args[0].shape, parens, name, args)

    def ones(self, node: ast.Call, parens: bool) -> Node:
        sizes = [
            arg.value
            for arg in node.args
            if isinstance(arg, ast.Constant) and type(arg.value) is int
        ]
        if len(node.args) != 2 or len(sizes) != 2 or not all(1 <= n <= MAX_ONES for n in sizes):
            raise self.fail(
                node, f"ones takes two whole numbers from 1 to {MAX_ONES:,}: ones(rows, columns)"
            )
        return Ones((sizes[0], sizes[1]), parens)


# --- LaTeX, keeping the writer's parentheses --------------------------------------------------

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def number_latex(value: Fraction, written: str = "") -> str:
    r"""A number as written when it is a plain decimal (``0.01``); otherwise exact, never in
    ``e`` notation: ``1e-10`` is ``10^{-10}``, ``2.5e-7`` is ``2.5 \cdot 10^{-7}``."""
    text = written.replace("_", "")
    if text and all(c.isdigit() or c == "." for c in text) and text.count(".") <= 1:
        return text if not text.startswith(".") else "0" + text
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and mantissa and all(c.isdigit() or c == "." for c in mantissa):
        power = f"10^{{{int(exponent)}}}"
        return power if float(mantissa) == 1 else rf"{mantissa} \cdot {power}"
    if value.denominator == 1:
        return str(value.numerator)
    return rf"\frac{{{value.numerator}}}{{{value.denominator}}}"


def symbol_latex(name: str) -> str:
    """``W0`` → ``W^{[0]}`` (the tutorial's layer superscript), ``y_hat`` → ``\\hat{y}``."""
    match = re.fullmatch(r"([A-Za-z]+?)(_?hat)?(?:_?([0-9]+))?", name)
    if match is None:
        base, _, sub = name.partition("_")
        return f"{base}_{{{sub}}}" if sub else name
    base, hat, layer = match.groups()
    greek = {"alpha", "beta", "gamma", "delta", "lambda", "mu", "sigma", "theta", "eta"}
    out = f"\\{base}" if base in greek else base
    if len(base) > 1 and base not in greek and base[0] == "d":
        out = f"d{base[1:]}"  # dW, dz: a gradient
    if hat:
        out = f"\\hat{{{out}}}"
    return out + (f"^{{[{layer}]}}" if layer else "")


def to_latex(node: Node, names: Callable[[str], str] = symbol_latex) -> str:
    return _latex(node, names, 0)


def _latex(node: Node, names: Callable[[str], str], context: float) -> str:
    text, precedence = _latex_bare(node, names)
    if node.parens or precedence < context:
        return rf"\left({text}\right)"
    return text


def _latex_bare(node: Node, names: Callable[[str], str]) -> tuple[str, float]:
    if isinstance(node, Num):
        return number_latex(node.value, node.written), 4
    if isinstance(node, Ones):
        assert node.shape is not None
        return rf"\mathbf{{1}}_{{{node.shape[0]} \times {node.shape[1]}}}", 4
    if isinstance(node, Sym | Ref):
        return names(node.name), 4
    if isinstance(node, Neg):
        return "-" + _latex(node.operand, names, 2), 1
    if isinstance(node, Pow):
        return f"{_latex(node.base, names, 4)}^{{{node.exponent}}}", 3
    if isinstance(node, Transpose):
        return f"{_latex(node.operand, names, 4)}^{{T}}", 3
    if isinstance(node, Call):
        args = ", ".join(_latex(arg, names, 0) for arg in node.args)
        if node.function == "hadamard":
            # Below the matrix product: C*hadamard(A, B) prints C (A ⊙ B), not C A ⊙ B.
            left, right = (_latex(arg, names, 3) for arg in node.args)
            return rf"{left} \odot {right}", 1.5
        if node.function == "abs":
            return rf"\left|{args}\right|", 4
        if node.function == "sum":
            return rf"\operatorname{{sum}}\left({args}\right)", 4
        name = _FUNCTION_LATEX.get(node.function) or symbol_latex(node.function)
        return rf"{name}\left({args}\right)", 4
    assert isinstance(node, BinOp)
    precedence = _PRECEDENCE[node.op]
    if node.op == "/":
        return rf"\frac{{{_latex(node.left, names, 0)}}}{{{_latex(node.right, names, 0)}}}", 3
    left = _latex(node.left, names, precedence)
    right = _latex(node.right, names, precedence + (node.op == "-"))
    if node.op == "*":
        numbers = isinstance(node.left, Num) and isinstance(node.right, Num)
        return (rf"{left} \cdot {right}" if numbers else f"{left} {right}"), precedence
    return f"{left} {node.op} {right}", precedence
