"""Printing derived SymPy objects in the tutorial's style: LaTeX for pages, Unicode for terminals.

SymPy does the printing; two small printer subclasses add what the tutorial needs: terms kept in
the order they were built (``w x + b``, not SymPy's sorted ``b + w x``), every symbol spelled by
``notation`` (``Names``), ``g^{[0]}(…)`` for a layer's activation applied to a vector, and a
single-line Unicode form for text. Matrices are printed by ``matrix_latex``/``matrix_text`` from
already-printed entries, so large ones can be elided as textbooks do (⋯ ⋮ ⋱).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from ..notation import Sym


@dataclass
class Names:
    """SymPy symbol name (``Sym.key``) → printed forms; functions too (``g0`` → ``g^{[0]}``)."""

    latex: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)

    def add(self, sym: Sym, key: str | None = None) -> str:
        name = key or sym.key
        self.latex[name] = sym.latex()
        self.text[name] = sym.text()
        return name


class _Latex(LatexPrinter):
    def __init__(self, names: Names) -> None:
        super().__init__({"order": "none"})
        self._names = names

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        return self._names.latex.get(expr.name) or str(super()._print_Symbol(expr, style))

    def _print_MatrixSymbol(self, expr: Any) -> str:
        return self._names.latex.get(expr.name) or str(super()._print_MatrixSymbol(expr))

    def _print_Function(self, expr: Any, exp: Any = None) -> str:
        name = self._names.latex.get(type(expr).__name__)
        if name is None:
            return str(super()._print_Function(expr, exp))
        args = ", ".join(self._print(a) for a in expr.args)
        return rf"{name}\left({args}\right)"

    def _print_ElementwiseApplyFunction(self, expr: Any) -> str:
        name = self._names.latex[type(expr.function.expr).__name__]
        return rf"{name}\left({self._print(expr.expr)}\right)"


class _Text(StrPrinter):
    def __init__(self, names: Names) -> None:
        super().__init__({"order": "none"})
        self._names = names

    def _print_Symbol(self, expr: Any) -> str:
        return self._names.text.get(expr.name, expr.name)

    _print_MatrixSymbol = _print_Symbol

    def _print_Function(self, expr: Any) -> str:
        name = self._names.text.get(type(expr).__name__, type(expr).__name__)
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    # As a custom activation writes them (abs, max, min), not SymPy's Abs(z), Max(0, z).
    def _print_Abs(self, expr: Any) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Max(self, expr: Any) -> str:
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr: Any) -> str:
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_ElementwiseApplyFunction(self, expr: Any) -> str:
        name = self._names.text[type(expr.function.expr).__name__]
        return f"{name}({self._print(expr.expr)})"

    def _print_BlockMatrix(self, expr: Any) -> str:
        """``[a⁽¹⁾; a⁽⁰⁾]`` on one line, as the text form writes a stacked input (SymPy's
        own form is a multi-line ``Matrix([...])``)."""
        blocks = expr.blocks
        rows = [
            ", ".join(self._print(blocks[i, j]) for j in range(blocks.cols))
            for i in range(blocks.rows)
        ]
        return "[" + "; ".join(rows) + "]"


def latex(expr: Any, names: Names) -> str:
    # A matrix prints one entry at a time and most entries are named symbols: look them up
    # rather than build a printer for each (the same string ``_print_Symbol`` returns).
    if isinstance(expr, sympy.Symbol) and expr.name in names.latex:
        return names.latex[expr.name]
    return str(_Latex(names).doprint(expr))


def text(expr: Any, names: Names) -> str:
    if isinstance(expr, sympy.Symbol) and expr.name in names.text:
        out = names.text[expr.name]
    else:
        out = str(_Text(names).doprint(expr))
    return out.replace("**", "^").replace("*", "·")


def elided(n: int, limit: int) -> list[int | None]:
    """Positions shown of ``n``: all, or the first ``limit - 2``, a gap (None) and the last."""
    if n <= limit:
        return list(range(n))
    return [*range(max(limit - 2, 1)), None, n - 1]


def matrix_latex(
    rows: int, cols: int, entry: Callable[[int, int], str], limit: int = 1_000_000
) -> str:
    r"""``\begin{bmatrix} a & b \\ c & d \end{bmatrix}``, elided beyond ``limit`` rows/columns."""
    lines = []
    for i in elided(rows, limit):
        cells = []
        for j in elided(cols, limit):
            if i is None:
                cells.append(r"\ddots" if j is None else r"\vdots")
            else:
                cells.append(r"\cdots" if j is None else entry(i, j))
        lines.append(" & ".join(cells))
    return r"\begin{bmatrix} " + r" \\ ".join(lines) + r" \end{bmatrix}"


def matrix_text(
    rows: int, cols: int, entry: Callable[[int, int], str], limit: int = 1_000_000
) -> str:
    """``[w₀₀, w₀₁; w₁₀, w₁₁]`` on one line, elided like ``matrix_latex``."""
    lines = []
    for i in elided(rows, limit):
        cells = []
        for j in elided(cols, limit):
            if i is None:
                cells.append("⋱" if j is None else "⋮")
            else:
                cells.append("⋯" if j is None else entry(i, j))
        lines.append(", ".join(cells))
    return "[" + "; ".join(lines) + "]"


def matrix_of(entries: Any, names: Names, limit: int = 1_000_000) -> tuple[str, str]:
    """A SymPy matrix of expressions as (LaTeX, text), each entry printed by the printers."""
    rows, cols = entries.shape

    def entry_latex(i: int, j: int) -> str:
        return latex(entries[i, j], names)

    def entry_text(i: int, j: int) -> str:
        return text(entries[i, j], names)

    return (
        matrix_latex(rows, cols, entry_latex, limit),
        matrix_text(rows, cols, entry_text, limit),
    )


@dataclass(frozen=True)
class Equation:
    """One printed line of the derivation: its LaTeX, its text and the SymPy object behind it."""

    name: str  # a stable id: "w[0]", "z[1]_0", "collapse", …
    section: str
    latex: str
    text: str
    source: Any = field(repr=False)  # a SymPy object, or None for lines said in words

    @property
    def srepr(self) -> str:
        # Only the JSON output needs it; ``srepr`` of a 32×32 matrix costs more than its LaTeX.
        return srepr(self.source)

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "section": self.section,
            "latex": self.latex,
            "text": self.text,
            "srepr": self.srepr,
        }


def srepr(obj: Any) -> str:
    return str(sympy.srepr(obj))


def equation(section: str, name: str, lhs: Any, rhs: Any, names: Names) -> Equation:
    """``lhs = rhs`` for two SymPy objects, printed by the tutorial's printers."""
    return Equation(
        name,
        section,
        f"{latex(lhs, names)} = {latex(rhs, names)}",
        f"{text(lhs, names)} = {text(rhs, names)}",
        sympy.Eq(lhs, rhs, evaluate=False),
    )


def chain(
    section: str, name: str, parts: Sequence[Any], names: Names, obj: Any | None = None
) -> Equation:
    """``p0 = p1 = p2 …``: parts are SymPy objects or (latex, text) pairs already printed."""

    def pr(part: Any, how: str) -> str:
        if isinstance(part, tuple):
            return str(part[0] if how == "latex" else part[1])
        return latex(part, names) if how == "latex" else text(part, names)

    return Equation(
        name,
        section,
        " = ".join(pr(p, "latex") for p in parts),
        " = ".join(pr(p, "text") for p in parts),
        obj if obj is not None else sympy.Eq(parts[0], parts[-1], evaluate=False),
    )


__all__ = [
    "Equation",
    "Names",
    "chain",
    "elided",
    "equation",
    "latex",
    "matrix_latex",
    "matrix_of",
    "matrix_text",
    "srepr",
    "text",
]
