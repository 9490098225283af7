"""The tutorial's notation, spelled once for diagrams and equations alike.

A :class:`Sym` is one symbol (``w`` with subscripts ``0,1`` in layer ``[1]``) that can print
itself four ways: ``plain`` (the tutorial's DOT labels, ``w_0,1``), ``html`` (Graphviz HTML-like
labels with real subscripts, ``w^[1]`` over ``01``), ``latex`` (``w^{[1]}_{01}``) and ``text``
(Unicode for terminals, ``w⁽¹⁾₀₁``).

One index rule for every typeset form (figures in math style, LaTeX, terminal text, the site's
tooltips): a weight's two indices are run together, ``w_{01}``, as the tutorial writes its
matrices, unless the weight's matrix has a row or column numbered 10 or more; then every entry
of that matrix separates them with a comma, ``w_{10,3}`` and ``w_{3,5}`` alike, so one matrix
and one equation never mix the two spellings. ``plain`` labels are ASCII without subscripts and
keep the tutorial's ``w_0,1`` (the design contract).
``neuron_equation`` gives the entry-wise equation of one neuron; the diagram prints it on the
neuron's output edge and ``symbolic.py`` prints the same terms, so the two cannot drift.

Conventions taken from the tutorial:
- a network of one layer with one unit is "a neuron": ``z = w_0 x_0 + w_1 x_1 + b`` (single
  weight index, bare ``b`` and ``z``), while its matrices read ``w = [w_0  w_1]``, ``b = [b_0]``;
- any other layer indexes weights ``w_{jk}`` (j = neuron row, k = input column);
- entries carry the layer superscript only when the network has more than one layer;
- the input of layer l is ``x`` for the first layer, else the previous layer's ``a`` — or its
  ``z`` when that layer is linear, as the tutorial writes ``z^{[1]} = w^{[1]} z^{[0]} + b^{[1]}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Network

_SUBSCRIPT_DIGITS = str.maketrans("0123456789,[]-", "₀₁₂₃₄₅₆₇₈₉‚₍₎₋")
_SUPERSCRIPT_DIGITS = str.maketrans("0123456789[]-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻")


@dataclass(frozen=True)
class Sym:
    """One symbol: ``base`` with display subscripts and an optional layer superscript."""

    base: str
    sub: tuple[int, ...] = ()
    layer: int | None = None  # display number of the layer, printed as ^{[l]}
    name: bool = False  # a spec's own input name (``area``): upright text, never a product
    comma: bool = False  # indices always comma-separated (the matrix has an index of 10 or more)

    @property
    def key(self) -> str:
        """A unique ASCII identifier, used as the SymPy symbol name: ``w1_0_1``."""
        layer = "" if self.layer is None else str(self.layer)
        return "_".join([self.base + layer, *(str(s) for s in self.sub)])

    def plain(self) -> str:
        """The tutorial's text labels: ``w_0,1``, ``x_0``, ``b``."""
        sub = ",".join(str(s) for s in self.sub)
        sup = "" if self.layer is None else f"^[{self.layer}]"
        if self.base == "z" and self.layer is None and len(self.sub) == 1:
            return f"z{sub}"  # the tutorial's layer figure names its neurons z0, z1
        return f"{self.base}{sup}" + (f"_{sub}" if sub else "")

    def html(self) -> str:
        """Graphviz HTML-like label text with real sub/superscripts (already escaped); a
        one-letter name is italic, as printed mathematics sets variables."""
        from .quoting import escape_html  # the one place that escapes for Graphviz

        out = str(escape_html(self.base))
        if len(self.base) == 1 and self.base.isalpha() and not self.name:
            out = f"<I>{out}</I>"
        if self.layer is not None:
            out += f"<SUP>[{self.layer}]</SUP>"
        if self.sub:
            out += "<SUB>" + _compact(self.sub, self.comma) + "</SUB>"
        return out

    def latex(self) -> str:
        """``w^{[1]}_{01}``; a spec's input name is ``\\text{area}``, not a·r·e·a."""
        # Input names are a letter and letters, digits or _ (the spec checks): only _ needs
        # escaping in text mode.
        escaped = self.base.replace("_", "\\_")
        out = "\\text{" + escaped + "}" if self.name else self.base
        if self.layer is not None:
            out += f"^{{[{self.layer}]}}"
        if self.sub:
            out += "_" + _brace(_compact(self.sub, self.comma))
        return out

    def text(self) -> str:
        out = self.base
        if self.layer is not None:
            out += f"[{self.layer}]".translate(_SUPERSCRIPT_DIGITS)
        if self.sub:
            out += _compact(self.sub, self.comma).translate(_SUBSCRIPT_DIGITS)
        return out


def _compact(sub: tuple[int, ...], comma: bool = False) -> str:
    """``w_{01}`` as the tutorial writes it; a comma when asked (``Sym.comma``) or when an
    index has two digits (which ``weight`` already asks for, matrix by matrix).

    >>> _compact((0, 1)), _compact((0, 1), comma=True), _compact((10, 3))
    ('01', '0,1', '10,3')
    """
    return ("," if comma or any(s >= 10 for s in sub) else "").join(str(s) for s in sub)


def needs_comma(network: Network, layer: int) -> bool:
    """Whether the entries of ``w^{[layer]}`` separate their indices: a row or column of the
    matrix is numbered 10 or more in the network's numbering (see the module's index rule)."""
    spec = network.layers[layer]
    return network.naming.index(max(spec.units, spec.fan_in) - 1) >= 10


def _brace(text: str) -> str:
    return text if len(text) == 1 else f"{{{text}}}"


def is_single_neuron(network: Network) -> bool:
    """The tutorial's first figure: one layer with one unit."""
    return len(network.layers) == 1 and network.layers[0].units == 1


def _layer_mark(network: Network, layer: int) -> int | None:
    return network.naming.index(layer) if len(network.layers) > 1 else None


def weight(network: Network, layer: int, unit: int, k: int) -> Sym:
    """Entry (unit, k) of ``w^{[layer]}``; positions are 0-based, display follows the naming."""
    n = network.naming
    if is_single_neuron(network):
        return Sym("w", (n.index(k),))
    comma = needs_comma(network, layer)
    return Sym("w", (n.index(unit), n.index(k)), _layer_mark(network, layer), comma=comma)


def bias(network: Network, layer: int, unit: int, *, in_matrix: bool = False) -> Sym:
    """Entry ``unit`` of ``b^{[layer]}``; a lone neuron's bias is a bare ``b`` in equations."""
    n = network.naming
    if is_single_neuron(network) and not in_matrix:
        return Sym("b")
    return Sym("b", (n.index(unit),), _layer_mark(network, layer))


def pre_activation(network: Network, layer: int, unit: int) -> Sym:
    n = network.naming
    if is_single_neuron(network):
        return Sym("z")
    return Sym("z", (n.index(unit),), _layer_mark(network, layer))


def activation(network: Network, layer: int, unit: int) -> Sym:
    n = network.naming
    if is_single_neuron(network):
        return Sym("a")
    return Sym("a", (n.index(unit),), _layer_mark(network, layer))


def layer_input_base(network: Network, layer: int) -> str:
    """What feeds layer ``layer``: ``x``, or the previous layer's ``a`` (``z`` if linear)."""
    if layer == 0:
        return "x"
    return "z" if network.layers[layer - 1].activation.is_identity else "a"


def layer_input(network: Network, layer: int, k: int) -> Sym:
    """Input ``k`` of layer ``layer``: ``x_k``, or ``a^{[l-1]}_k`` / ``z^{[l-1]}_k``.

    A concatenating layer's inputs go on into the outputs it stacks under the previous one
    (``concat``), in order: ``k`` past the previous width is a unit of those."""
    sources = network.layers[layer].sources
    for source in sources:
        width = network.width(source)
        if k < width or source == sources[-1]:
            return source_output(network, source, k)
        k -= width
    raise AssertionError("unreachable: a layer has at least one source")


def source_base(network: Network, source: int) -> str:
    """How an output is written: ``x`` for the input, else ``a`` (``z`` for a linear layer)."""
    if source < 0:
        return "x"
    return "z" if network.layers[source].activation.is_identity else "a"


def source_output(network: Network, source: int, unit: int) -> Sym:
    """Unit ``unit`` of an output: ``x_k`` (or the input's name), ``a^{[l]}_k`` or ``z^{[l]}_k``."""
    if source < 0:
        if network.naming.input_names:
            return Sym(network.naming.input_names[unit], name=True)
        return Sym("x", (network.naming.index(unit),))
    if source_base(network, source) == "z":
        return pre_activation(network, source, unit)
    return activation(network, source, unit)


def source_vector(network: Network, source: int) -> Sym:
    """A whole output: ``x``, ``a^{[l]}`` or ``z^{[l]}``."""
    if source < 0:
        return Sym("x")
    return vector(network, source_base(network, source), source)


@dataclass(frozen=True)
class NeuronEquation:
    """``lhs = Σ_k weight_k · input_k + bias`` for one neuron, printable in every style.

    ``elided`` means the terms skip the middle inputs: the last term follows a ``…``.
    """

    lhs: Sym
    terms: tuple[tuple[Sym, Sym], ...]  # (weight, input) pairs in input order
    bias: Sym | None
    elided: bool = False
    added: Sym | None = None  # a skip connection's ``add``: that output's unit, after the bias

    def _join(self, render: str, times: str = " ") -> str:
        def r(s: Sym) -> str:
            return str(getattr(s, render)())

        parts = [f"{r(w)}{times}{r(x)}" for w, x in self.terms]
        if self.elided:
            parts.insert(len(parts) - 1, "\\dots" if render == "latex" else "…")
        if self.bias is not None:
            parts.append(r(self.bias))
        if self.added is not None:
            parts.append(r(self.added))
        return f"{r(self.lhs)} = " + " + ".join(parts)

    def plain(self) -> str:
        """``z = w_0 x_0 + w_1 x_1 + b`` — the tutorial's edge label."""
        return self._join("plain")

    def html(self) -> str:
        return self._join("html")

    def latex(self) -> str:
        return self._join("latex", " ")

    def text(self) -> str:
        return self._join("text", "·")


def neuron_equation(
    network: Network,
    layer: int,
    unit: int,
    *,
    with_bias: bool = True,
    max_terms: int | None = None,
) -> NeuronEquation:
    """The entry-wise equation of neuron ``unit`` in layer ``layer`` (0-based positions).

    With ``max_terms``, a wider fan-in keeps its first ``max_terms - 1`` terms and its last
    one (``elided``), so the cost follows what is printed, not the layer's width.
    """
    fan_in = network.layers[layer].fan_in
    elided = max_terms is not None and fan_in > max(max_terms, 2)
    shown = [*range(max(max_terms or 2, 2) - 1), fan_in - 1] if elided else range(fan_in)
    terms = tuple((weight(network, layer, unit, k), layer_input(network, layer, k)) for k in shown)
    b = bias(network, layer, unit) if with_bias else None
    add = network.layers[layer].add
    added = None if add is None else source_output(network, add, unit)
    return NeuronEquation(pre_activation(network, layer, unit), terms, b, elided, added)


def vector(network: Network, base: str, layer: int) -> Sym:
    """A whole layer's matrix or vector: ``W^{[0]}``, ``b^{[0]}``, ``z^{[1]}``, ``a^{[1]}``."""
    return Sym(base, (), _layer_mark(network, layer))


def network_node(network: Network, base: str, layer: int, unit: int) -> str:
    """Node name of a neuron in the network view: ``z_0_1``, ``a_1_0`` (``Naming``); a
    one-layer network drops the layer, as the tutorial's three-neuron figure writes ``z_2``."""
    n = network.naming
    if len(network.layers) == 1:
        return f"{base}_{n.index(unit)}"
    return n.neuron(layer, unit) if base == "z" else n.activation(layer, unit)


# The element-wise formula of each activation, right-hand side of ``a = …`` with ``{z}`` the
# pre-activation; ``generic`` is the tutorial's ``g``.
_FORMULAS_PLAIN = {
    "identity": "{z}",
    "sigmoid": "σ({z})",
    "tanh": "tanh({z})",
    "relu": "max(0, {z})",
}


@dataclass(frozen=True)
class ActivationEquation:
    """``a = g(z)`` for one neuron, or the activation's own formula: ``a = max(0, z)``."""

    lhs: Sym
    z: Sym
    g: Sym  # the generic function name, with the layer mark: g^{[0]}
    z_vector: Sym  # for softmax, which reads the whole layer
    name: str
    alpha: float | None = None
    expression: str | None = None

    def _rhs(self, render: str) -> str:
        def r(s: Sym) -> str:
            return str(getattr(s, render)())

        z = r(self.z)
        if self.name == "generic":
            return f"{r(self.g)}({z})"
        if self.name == "leaky_relu":
            from .model import decimal_text

            return f"max({decimal_text(self.alpha or 0.0)}{z}, {z})"
        if self.name == "softmax":
            unit = ",".join(str(s) for s in self.lhs.sub)
            sub = f"<SUB>{unit}</SUB>" if render == "html" else f"_{unit}"
            return f"softmax({r(self.z_vector)})" + (sub if unit else "")
        if self.name == "custom" and self.expression is not None:
            # The expression was validated by the spec parser; only the name z is replaced.
            import re

            if render == "html":
                from .quoting import escape_html

                text = str(escape_html(self.expression))
            else:
                text = self.expression
            return re.sub(r"\bz\b", lambda _: z, text)
        return _FORMULAS_PLAIN[self.name].format(z=z)

    def plain(self) -> str:
        return f"{self.lhs.plain()} = {self._rhs('plain')}"

    def html(self) -> str:
        return f"{self.lhs.html()} = {self._rhs('html')}"

    def text(self) -> str:
        return f"{self.lhs.text()} = {self._rhs('text')}"


def activation_equation(network: Network, layer: int, unit: int) -> ActivationEquation:
    """``a = g(z)`` for neuron ``unit`` of layer ``layer``, in the layer's activation."""
    choice = network.layers[layer].activation
    return ActivationEquation(
        lhs=activation(network, layer, unit),
        z=pre_activation(network, layer, unit),
        g=vector(network, "g", layer),
        z_vector=vector(network, "z", layer),
        name=choice.name,
        alpha=choice.alpha,
        expression=choice.expression,
    )


# --- long equations ---------------------------------------------------------------------------

LONG_EQUATION = 140  # characters of TeX: a longer equation breaks into aligned lines
LINE_LENGTH = 90  # characters of TeX per line of a broken equation
TEXT_WIDTH = 100  # characters per line of ``equations --format text``


_BREAKS = (" + ", " - ", " \\quad ")


def _shortest(rhs: str, at: int) -> int:
    """A line of a broken equation ends before a ``+`` or ``-`` once it holds ``LINE_LENGTH``
    characters, before a note (``\\quad \\text{…}``) once it holds half as many."""
    return LINE_LENGTH // 2 if rhs.startswith(" \\quad ", at) else LINE_LENGTH


def broken_latex(body: str) -> str:
    """A long equation as ``aligned`` lines, broken before a ``+``, ``-`` or ``\\quad`` (the
    space before a note) outside braces.
    ``\\left( … \\right)`` become ``\\bigl( … \\bigr)``, which need not close on the same
    line, so a sum inside ``g(…)`` can break too. The site and ``nndiagram equations`` both
    break equations this way.

    >>> broken_latex("z = " + " + ".join(f"w_{{{i}}} x_{{{i}}}" for i in range(20)))[:60]
    '\\\\begin{aligned} z &= w_{0} x_{0} + w_{1} x_{1} + w_{2} x_{2}'
    >>> broken_latex("a = b")
    'a = b'
    """
    if len(body) <= LONG_EQUATION or " = " not in body or "\\begin{" in body:
        return body
    lhs, rhs = body.split(" = ", 1)
    rhs = rhs.replace("\\left(", "\\bigl(").replace("\\right)", "\\bigr)")
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(rhs):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and rhs.startswith(_BREAKS, i) and i - start > _shortest(rhs, i):
            pieces.append(rhs[start:i])
            start = i + 1
    pieces.append(rhs[start:])
    if len(pieces) == 1 or "\\left" in rhs or "\\right" in rhs:
        return body
    lines = [f"{lhs} &= {pieces[0]}", *(f"&\\quad {piece}" for piece in pieces[1:])]
    return "\\begin{aligned} " + " \\\\ ".join(lines) + " \\end{aligned}"


def latex_document_lines(document: str) -> str:
    """``Derivation.to_latex()`` for a file or a terminal: every display equation longer than
    ``LONG_EQUATION`` becomes ``aligned`` lines (``broken_latex``), one per line of text.

    >>> long = r"\\[ z = " + " + ".join(f"w_{{{i}}} x_{{{i}}}" for i in range(30)) + r" \\]"
    >>> print(latex_document_lines("% Layer\\n" + long).splitlines()[1][:40])
    \\[ \\begin{aligned} z &= w_{0} x_{0} + w_
    >>> max(len(line) for line in latex_document_lines(long).splitlines()) < 130
    True
    """
    out = []
    for line in document.splitlines():
        if line.startswith("\\[") and line.endswith("\\]"):
            body = line[2:-2].strip()
            aligned = broken_latex(body)
            if aligned != body:
                line = "\\[ " + aligned.replace(" \\\\ ", " \\\\\n    ") + " \\]"
        out.append(line)
    return "\n".join(out) + ("\n" if document.endswith("\n") else "")


def text_document_lines(document: str, width: int = TEXT_WIDTH) -> str:
    """``Derivation.to_text()`` for a terminal: a line wider than ``width`` characters breaks
    before a ``+`` or ``−`` (or a note in parentheses), its continuation lines indented under
    the right-hand side.

    >>> line = "  z₀ = " + " + ".join(f"w₀{i}·x{i}" for i in range(30))
    >>> for row in text_document_lines(line, 60).splitlines()[:2]:
    ...     print(row)
      z₀ = w₀0·x0 + w₀1·x1 + w₀2·x2 + w₀3·x3 + w₀4·x4 + w₀5·x5
           + w₀6·x6 + w₀7·x7 + w₀8·x8 + w₀9·x9 + w₀10·x10
    """
    out = []
    for line in document.splitlines():
        if len(line) <= width or " = " not in line:
            out.append(line)
            continue
        lhs, rhs = line.split(" = ", 1)
        pad = " " * (len(lhs) + 3)
        pieces, start = [], 0
        for i in range(len(rhs)):
            if rhs.startswith((" + ", " - ", " − "), i) or rhs.startswith("  (", i):
                pieces.append(rhs[start:i])  # before a sign, or a note set off by two spaces
                start = i + 1 if rhs[i + 1] != " " else i + 2
        pieces.append(rhs[start:])
        rows, current = [], f"{lhs} = {pieces[0]}"
        for piece in pieces[1:]:
            if len(current) + 1 + len(piece) > width and current.strip():
                rows.append(current)
                current = pad + piece
            else:
                current += " " + piece
        rows.append(current)
        out.extend(rows)
    return "\n".join(out) + ("\n" if document.endswith("\n") else "")
