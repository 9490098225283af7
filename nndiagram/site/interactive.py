"""The figure and its equations as one: what links them, and the script that makes it live.

The diagram, drawn with ``links=True``, gives every neuron, bias node, activation and edge an
``id`` and a class such as ``nnd-w-1-0-2`` (layer 1, row 0, column 2 of ``w^{[1]}``; 0-based
positions, see ``diagram.dot.link_key``). Here the typeset equations get the same classes:
:func:`mark_latex` wraps each symbol nndiagram printed (``w^{[1]}_{02}``, the entries of the
``\\begin{bmatrix}`` of ``w^{[1]}``, ``z^{[1]}``, ``g^{[1]}`` …) in ``\\class{nnd-…}{…}``.

Safety: the class names are made of letters nndiagram chooses and integers, never of spec
text; the LaTeX is marked *after* :func:`quoting.inert_tex` has made user text inert, so the
only ``\\class`` on a page is this module's. The plugin's MathJax keeps its ``html`` package
off and accepts ``\\class`` only for ``nnd-…`` names (``assets.MATHJAX_CONFIG_JS``).

The script and stylesheet (``static/explore.js``, ``static/explore.css``) are plain, framework
free and progressive: without them the figure and the equations are what they were.
"""

from __future__ import annotations

import functools
import html
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model import Network

SCRIPT_FILE = "nndiagram-explore.js"
STYLE_FILE = "nndiagram-explore.css"
_STATIC = ("explore.js", "explore.css")

# A class in the SVG as Graphviz writes it: "node nnd&#45;link nnd&#45;z&#45;0&#45;1".
_SVG_LINK = re.compile(r"nnd(?:-|&#45;)link nnd(?:-|&#45;)([a-z]+(?:(?:-|&#45;)\d+)+)")


@functools.cache
def script() -> str:
    """The explorer's JavaScript (plain ES5+, no framework, no network)."""
    return resources.files(__package__).joinpath("static", _STATIC[0]).read_text("utf-8")


@functools.cache
def style() -> str:
    """The explorer's CSS: highlight by outline and weight as well as colour; both palettes."""
    return resources.files(__package__).joinpath("static", _STATIC[1]).read_text("utf-8")


def inline_assets() -> str:
    """Script and style inline, for a page no plugin adds them to (the script runs once even
    when a page carries it twice)."""
    return f"<style>{style()}</style><script>{script()}</script>"


# --- what the figure links to ---------------------------------------------------------------


def context(network: Network) -> dict[str, Any]:
    """What :func:`mark_latex` needs to read nndiagram's own symbols back into positions."""
    return {
        "base": network.naming.base,
        "sizes": list(network.sizes),
        "single": len(network.layers) == 1 and network.layers[0].units == 1,
        "named_inputs": bool(network.naming.input_names),
    }


def link_data(network: Network, svgs: list[str], numbers: Any = None) -> dict[str, Any]:
    """The tooltip text of every linked element drawn in ``svgs`` (elided parts are not drawn,
    so a 784-input network costs what its figure shows) and the marking context. ``numbers``
    (``diagram.numbers.Numbers``: the weights the figure draws, maybe one sample's values) adds
    each element's value to its tooltip."""
    keys: set[str] = set()
    for svg in svgs:
        keys.update(m.replace("&#45;", "-") for m in _SVG_LINK.findall(svg))
    tips = {}
    for key in sorted(keys):
        tip = _tip(network, key)
        if tip is not None:
            value = _value(numbers, key) if numbers is not None else None
            tips[key] = tip if value is None else f"{tip}\n{value}"
    return {"tips": tips, "context": context(network)}


def _value(numbers: Any, key: str) -> str | None:
    """The number the figure carries for ``key``: a weight or bias, or the sample's value."""
    kind, *rest = key.split("-")
    n = [int(p) for p in rest]
    try:
        if kind == "w":
            return f"value: {numbers.weight(n[0], n[1], n[2]):.4g}"
        if kind == "b":
            return f"value: {numbers.bias(n[0], n[1]):.4g}"
        if not numbers.has_sample:
            return None
        where = f"sample {numbers.sample}" if numbers.sample is not None else "the sample"
        if kind == "x":
            return f"{where}: {float(numbers.x[n[0]]):.4g}"
        if kind == "z":
            return f"{where}: {float(numbers.z[n[0]][n[1]]):.4g}"
        if kind in ("a", "g"):
            return f"{where}: {float(numbers.a[n[0]][n[1]]):.4g}"
    except (IndexError, KeyError):
        return None
    return None


def _tip(network: Network, key: str) -> str | None:
    from .. import notation

    kind, *numbers = key.split("-")
    n = [int(p) for p in numbers]
    try:
        if kind == "x":
            return f"{notation.layer_input(network, 0, n[0]).text()}: input {n[0]}"
        if kind == "bias":
            layer = n[0]
            return f"{notation.vector(network, 'b', layer).text()}: the biases of layer {layer}"
        layer, unit = n[0], n[1]
        width = network.layers[layer].fan_in
        equation = notation.neuron_equation(network, layer, unit, max_terms=min(width, 4)).text()
        if kind == "z":
            return equation
        if kind == "w":
            w = notation.weight(network, layer, unit, n[2]).text()
            source = notation.layer_input(network, layer, n[2]).text()
            z = notation.pre_activation(network, layer, unit).text()
            return f"{w}: weight from {source} to {z}\n{equation}"
        if kind == "b":
            return f"{notation.bias(network, layer, unit).text()}: bias of {equation}"
        if kind in ("a", "g"):
            return notation.activation_equation(network, layer, unit).text()
    except IndexError:
        return None
    return None


def data_element(data: dict[str, Any]) -> str:
    """The link data as JSON in an attribute of an empty hidden element (not a ``<script>``:
    Material's instant navigation runs every script of a new page, whatever its type)."""
    text = json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return f'<div class="nnd-links" hidden data-links="{html.escape(text, quote=True)}"></div>'


# --- the equations --------------------------------------------------------------------------

# One symbol as nndiagram prints it: base, optional layer mark, optional subscript. Not after
# a letter or backslash (\beta, \log), not followed by more of a name, a script or a prime.
_SYMBOL = re.compile(
    r"(?<![A-Za-z\\])(?P<base>[wbzaxg])(?:\^\{\[(?P<layer>\d+)\]\})?"
    r"(?:_(?P<sub>\d|\{\d+(?:,\d+)*\}))?(?![A-Za-z0-9_^'{])"
)
_MATRIX = re.compile(
    r"^(?P<head>[wbx](?:\^\{\[\d+\]\})?) = \\begin\{bmatrix\} (?P<body>.*) \\end\{bmatrix\}$"
)
_TEXT = re.compile(r"(\\text\{[^{}]*\})")


def _indices(sub: str | None, pair: bool) -> list[int]:
    """The positions a subscript spells: ``{01}`` is (0, 1) for a weight's row and column (the
    comma appears once an index has two digits), but ``{10}`` of ``z``, ``b``, ``a`` is 10."""
    if sub is None:
        return []
    if sub.startswith("{"):
        sub = sub[1:-1]
        if "," in sub:
            return [int(p) for p in sub.split(",")]
        return [int(c) for c in sub] if pair else [int(sub)]
    return [int(sub)]


def _class_of(match: re.Match[str], ctx: dict[str, Any]) -> str | None:
    """The link class of one printed symbol; None when it names no part of this network."""
    base, sizes, offset = match["base"], ctx["sizes"], ctx["base"]
    layers = len(sizes) - 1
    if match["layer"] is not None:
        layer = int(match["layer"]) - offset
        if layers == 1:
            return None
    else:
        layer = 0 if layers == 1 or base == "x" else -1
    if not 0 <= layer < layers:
        return None
    pair = base == "w" and not ctx["single"]
    positions = [i - offset for i in _indices(match["sub"], pair)]
    if any(p < 0 for p in positions):
        return None
    units, fan_in = sizes[layer + 1], sizes[layer]
    if base == "x":
        if ctx["named_inputs"] or len(positions) != 1 or positions[0] >= sizes[0]:
            return None
        return f"x-{positions[0]}"
    if base == "g":
        return f"g-{layer}" if not positions else None
    if not positions:
        return f"{base}v-{layer}"
    if base == "w":
        if ctx["single"] and len(positions) == 1:
            positions = [0, *positions]
        if len(positions) != 2 or positions[0] >= units or positions[1] >= fan_in:
            return None
        return f"w-{layer}-{positions[0]}-{positions[1]}"
    if len(positions) != 1 or positions[0] >= units:
        return None
    return f"{base}-{layer}-{positions[0]}"


def _single_symbol(match: re.Match[str], ctx: dict[str, Any]) -> str | None:
    """A lone neuron's bare ``z``, ``a``, ``b`` name its only unit."""
    if ctx["single"] and match["layer"] is None and match["sub"] is None and match["base"] in "zab":
        return f"{match['base']}-0-0"
    return _class_of(match, ctx)


def _wrap(text: str, css: str | None) -> str:
    return text if css is None else f"\\class{{nnd-{css}}}{{{text}}}"


def _mark_terms(text: str, ctx: dict[str, Any]) -> str:
    pieces = _TEXT.split(text)
    for index in range(0, len(pieces), 2):  # never inside \text{…}
        pieces[index] = _SYMBOL.sub(
            lambda m: _wrap(m.group(0), _single_symbol(m, ctx)), pieces[index]
        )
    return "".join(pieces)


_ENTRY = re.compile(r"(?P<base>[wbx])(?:_(?P<sub>\d|\{\d+(?:,\d+)*\}))?")


def _mark_matrix(match: re.Match[str], ctx: dict[str, Any]) -> str | None:
    """``w^{[1]} = \\begin{bmatrix} w_{00} & … \\end{bmatrix}``: each entry its link, read
    from its own subscript (an elided matrix skips rows), the layer from the head."""
    head = _SYMBOL.fullmatch(match["head"])
    vector = _class_of(head, ctx) if head is not None else None
    if head is None or (vector is None and head["base"] != "x"):
        return None
    layer = int(vector.split("-")[1]) if vector is not None else 0
    offset, marked = ctx["base"], []
    for row in match["body"].split(" \\\\ "):
        cells = []
        for cell in row.split(" & "):
            entry = _ENTRY.fullmatch(cell.strip())
            css = None
            if entry is not None and entry["base"] == head["base"]:
                pair = head["base"] == "w" and not ctx["single"]
                at = [i - offset for i in _indices(entry["sub"], pair)]
                if head["base"] == "w" and ctx["single"] and len(at) == 1:
                    at = [0, *at]
                sizes = ctx["sizes"]
                if head["base"] == "w" and len(at) == 2 and 0 <= at[0] < sizes[layer + 1]:
                    css = f"w-{layer}-{at[0]}-{at[1]}" if 0 <= at[1] < sizes[layer] else None
                elif head["base"] == "b" and len(at) == 1 and 0 <= at[0] < sizes[layer + 1]:
                    css = f"b-{layer}-{at[0]}"
                elif head["base"] == "x" and len(at) == 1 and not ctx["named_inputs"]:
                    css = f"x-{at[0]}" if 0 <= at[0] < sizes[0] else None
            cells.append(_wrap(cell, css))
        marked.append(" & ".join(cells))
    return (
        f"{_wrap(match['head'], vector)} = \\begin{{bmatrix}} "
        + " \\\\ ".join(marked)
        + " \\end{bmatrix}"
    )


def mark_latex(latex: str, ctx: dict[str, Any]) -> str:
    """``Derivation.to_latex()`` (already through ``inert_tex``) with nndiagram's symbols in
    ``\\class{nnd-…}``. Comments pass unchanged; a matrix's entries get their row and column.
    Only the first matrix of each name is read as that layer's (later ones are other math)."""
    out: list[str] = []
    for line in latex.splitlines():
        stripped = line.strip()
        if not (stripped.startswith("\\[") and stripped.endswith("\\]")):
            out.append(line)
            continue
        body = stripped[2:-2].strip()
        matrix = _MATRIX.match(body)
        marked = _mark_matrix(matrix, ctx) if matrix else None
        out.append(f"\\[ {marked if marked is not None else _mark_terms(body, ctx)} \\]")
    return "\n".join(out)


_GRADIENT = re.compile(r"(?<![A-Za-z\\])d(?P<base>[zWba])\^\{\[(?P<layer>\d+)\]\}")


def mark_backward(latex: str, ctx: dict[str, Any]) -> str:
    """The backward equations (``gradients.equations_latex``, one ``aligned`` block) with
    ``dz^{[l]}``, ``dW^{[l]}``, ``db^{[l]}``, ``da^{[l]}`` in ``\\class{nnd-dz-l}`` …
    (``dw``: class names are lower case) and the forward symbols they use marked as in
    :func:`mark_latex`: the explorer's steps continue backwards through them."""
    layers = len(ctx["sizes"]) - 1

    def gradient(match: re.Match[str]) -> str:
        layer = int(match["layer"]) - ctx["base"]
        css = f"d{match['base'].lower()}-{layer}" if 0 <= layer < layers else None
        return _wrap(match.group(0), css)

    return _GRADIENT.sub(gradient, _mark_terms(latex, ctx))


# --- Jupyter --------------------------------------------------------------------------------

# JupyterLab marks a dark theme on <body>; without it (or outside Jupyter) the light figure shows.
_JUPYTER_PALETTE = (
    ".nndiagram-dark{display:none}"
    'body[data-jp-theme-light="false"] .nndiagram-light{display:none}'
    'body[data-jp-theme-light="false"] .nndiagram-dark{display:block}'
    ".nndiagram-svg svg{max-width:100%;height:auto}"
)
_shown = 0  # explorers made in this process: each gets its own ids


class Explorer:
    """A network's figure and its derivation together, linked (``nndiagram.explore``): in a
    notebook, pointing at a neuron or an edge shows its equation and marks its symbols in the
    typeset equations, and the step control walks the forward pass. The HTML carries its own
    script and CSS; the notebook's MathJax typesets the equations. With a ``loss`` (``mse``,
    ``bce``, ``ce``) it shows the backward pass too, and the steps go on backwards through each
    layer's ``dz``, ``dW``, ``db``."""

    def __init__(self, network: Network, view: str | None = None, loss: str | None = None) -> None:
        global _shown
        from ..errors import UsageError
        from ..model import LOSSES

        if loss is not None and loss not in LOSSES:
            raise UsageError(f"loss must be one of: {', '.join(LOSSES)} (not {loss!r})")
        _shown += 1
        self.network = network
        self.view = view
        self.loss = loss
        self.prefix = f"nndx{_shown}"

    def bundle(self) -> dict[str, Any]:
        from ..diagram import render_svg_inline
        from ..symbolic import derive

        n = self.network
        svgs = {
            theme: render_svg_inline(n, view=self.view, theme=theme, links=True)
            for theme in ("light", "dark")
        }
        links = link_data(n, [svgs["light"]])
        backward = None
        if self.loss is not None:
            from ..quoting import inert_tex
            from ..symbolic.gradients import equations_latex

            backward = mark_backward(inert_tex(equations_latex(n, self.loss)), links["context"])
        return {
            "name": n.name,
            "title": n.title,
            "description": n.description,
            "svg_light": svgs["light"],
            "svg_dark": svgs["dark"],
            "equations": derive(n).to_latex(),
            "links": links,
            "backward": backward,
        }

    def _repr_html_(self) -> str:
        from .html import bundle_html

        body = bundle_html(self.bundle(), include=("diagram", "equations"), prefix=self.prefix)
        return f"<style>{_JUPYTER_PALETTE}</style>{inline_assets()}{body}"

    def __repr__(self) -> str:
        return f"Explorer({self.network.name!r})"


def explore(network: Network, view: str | None = None, loss: str | None = None) -> Explorer:
    """``nndiagram.explore(net)``: the figure and the equations as one, for a notebook cell;
    ``loss="bce"`` (or ``mse``, ``ce``) adds the backward pass and its steps."""
    return Explorer(network, view, loss)
