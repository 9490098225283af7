"""The ```` ```backprop ```` fence: a network's backpropagation equations, with SymPy's proofs.

The body names a network by its sizes, activations and loss (YAML)::

    ```backprop
    sizes: [2, 2, 1]
    activations: [generic, sigmoid]
    loss: bce
    ```

It renders the matrix-form equations (``gradients_symbolic.equations_latex``), each layer's
``g'``, the proof of the output layer's ``dz`` and the proof that the entry-level gradients
equal the matrix form for this network. A proof that does not hold fails the build, like a
false derivation step. With ``diagram`` in ``include`` it also draws the network, linked to
the equations like an ```` ```nndiagram ```` figure: pointing at a neuron marks its ``dz``, and
the step control walks the forward pass, then back through each layer's ``dz``, ``dW``,
``db`` (``interactive.mark_backward``). Register it with pymdownx.superfences as
``backprop_fence_format``.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError
from ..model import INPUT, LOSSES, SIMPLIFIED, Network
from ..symbolic.gradient_entries import (
    MAX_EXPLICIT_PARAMS,
    EntryGradient,
    explicit_gradients,
    prove_matrix_form,
    sum_form_gradients,
)
from ..symbolic.gradients import (
    Proof,
    derivative_notes,
    equations_latex,
    prove_output_gradient,
)

KEYS = {"sizes", "activations", "loss", "include", "spec"}
PARTS = ("flow", "diagram", "equations", "proofs", "entries")
DEFAULT_PARTS = ("flow", "equations", "proofs", "entries")
BACKWARD = "#d84315"  # the site's accent: reads on light and dark backgrounds


def _fail(message: str) -> Exception:
    from pymdownx.superfences import SuperFencesException

    return SuperFencesException(f"backprop fence: {message}")


def parse_body(source: str, root: Path | None = None) -> tuple[Network, str, tuple[str, ...]]:
    """The fence's network: ``sizes`` (+ ``activations``), or a ``spec:`` file relative to the
    project ``root`` (any spec, skip connections included; its ``loss`` unless given)."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        raise _fail(f"not valid YAML: {error}") from None
    if not isinstance(data, dict) or set(data) - KEYS or ("sizes" in data) == ("spec" in data):
        raise _fail("write sizes: [...], activations: [...] and loss: mse|bce|ce, or spec: <file>")
    if "spec" in data:
        from ..spec.load import load_spec
        from .request import resolve_spec_path

        try:
            spec = str(data["spec"])
            network = load_spec(resolve_spec_path(spec, root or Path.cwd()))
        except SpecError as error:
            raise _fail(str(error)) from None
        loss = data.get("loss", network.loss)
    else:
        loss = data.get("loss")
        try:
            network = Network.from_sizes(data["sizes"], data.get("activations", "identity"))
        except SpecError as error:  # checked as a spec is; the fence names its own place
            raise _fail(f"{error.key}: {error.message}" if error.key else error.message) from None
    if loss not in LOSSES:
        raise _fail(f"loss must be one of: {', '.join(LOSSES)}")
    include = data.get("include", list(DEFAULT_PARTS))
    if not isinstance(include, list) or not set(include) <= set(PARTS):
        raise _fail(f"include must list some of: {', '.join(PARTS)}")
    return network, str(loss), tuple(include)


def flow_dot(network: Network, loss: str) -> str:
    """The layers left to right (forward, solid) and the gradients flowing back (dashed).

    With skips (issue 17) an added or stacked output has a second forward edge into the
    reading layer's ``z`` (⊕ for ``add``, "stacked" for ``concat``), and the gradient comes
    back along it: ``+ dz^{[l]}`` through no weight for an ``add``, ``+ W^{[l]T}_{(k)} dz^{[l]}``
    through the columns that multiply it for a ``concat`` — the terms of ``da^{[k]}`` in
    ``gradients.py``'s skip equations. The input needs no gradient: no edge goes back to x."""
    import graphviz

    from ..notation import Sym

    def sym(base: str, layer: int | None = None, transpose: bool = False) -> str:
        text = Sym(base, (), None if layer is None else network.naming.index(layer)).html()
        return text.replace("]</SUP>", "]T</SUP>") if transpose else text

    def html_label(*pieces: str) -> str:
        return "<" + "".join(pieces) + ">"  # graphviz passes <…> through as an HTML label

    def node(source: int) -> str:
        return "x" if source == INPUT else f"a{source}"

    def weights_T(l: int, source: int) -> str:  # noqa: E741
        """``W^{[l]T}``, or its block ``W^{[l]T}_{(k)}`` when layer l stacks its input."""
        if not network.layers[l].concat:
            return sym("W", l, transpose=True)
        tag = "x" if source == INPUT else str(network.naming.index(source))
        return sym("W", l, transpose=True) + f"<SUB>({tag})</SUB>"

    dot = graphviz.Digraph("backprop", graph_attr={"rankdir": "LR", "bgcolor": "transparent"})
    dot.attr("node", shape="circle", fontname="Helvetica", fontsize="12", color="black")
    dot.attr("edge", fontname="Helvetica", fontsize="10", color="black", fontcolor="black")
    back = {"color": BACKWARD, "fontcolor": BACKWARD, "style": "dashed"}
    skips = network.has_skips
    over = {"tailport": "ne", "headport": "nw"}  # a skip arcs over the layers it jumps

    def gradient(source: str, target: str, label: str, **extra: str) -> None:
        """A dashed gradient edge from ``source`` back to ``target``. With skips it is laid
        out as a forward edge drawn backwards (``dir=back``), so dot routes it beside the
        forward edge it follows instead of across the figure."""
        if skips:
            dot.edge(target, source, label=label, dir="back", **back, **extra)
        else:
            dot.edge(source, target, label=label, constraint="false", **back, **extra)

    # da^{[k]}: what every layer reading a^{[k]} sends back, the next layer's term first
    terms: dict[int, list[str]] = {}
    for layer in network.layers:
        for source in layer.sources:
            terms.setdefault(source, []).append(
                f"{weights_T(layer.index, source)} {sym('dz', layer.index)}"
            )
        if layer.add is not None:
            terms.setdefault(layer.add, []).append(sym("dz", layer.index))

    previous = "x"
    dot.node("x", "x")
    for layer in network.layers:
        l = layer.index  # noqa: E741 (the tutorial's layer index)
        z, a, W = f"z{l}", f"a{l}", f"W{l}"
        dot.node(W, html_label(sym("W", l), ", ", sym("b", l)), shape="box")
        dot.node(z, html_label(sym("z", l)))
        dot.node(a, html_label(sym("a", l)))
        dot.edge(previous, z)
        for source in layer.concat:
            dot.edge(node(source), z, label="stacked", **over)
        if layer.add is not None:
            dot.edge(node(layer.add), z, label=html_label("&#8853; added to ", sym("z", l)), **over)
        dot.edge(W, z)
        dot.edge(z, a, label=html_label(sym("g", l)))
        gradient(z, W, html_label(sym("dW", l), ", ", sym("db", l)))
        if l > 0:
            gradient(z, previous, html_label(sym("da", l - 1), " = ", " + ".join(terms[l - 1])))
            prime = html_label("&#8857; ", sym("g", l - 1), "′(", sym("z", l - 1), ")")
            gradient(previous, f"z{l - 1}", prime)
        for source in layer.concat:  # the stacked output's share of the gradient
            if source != INPUT:
                term = html_label(weights_T(l, source), " ", sym("dz", l))
                gradient(z, node(source), term, **over)
        if layer.add is not None and layer.add != INPUT:  # along the skip, through no weight
            term = html_label(sym("dz", l), " along the skip, through no weight")
            gradient(z, node(layer.add), term, **over)
        previous = a
    last = network.layers[-1].index
    dot.node("L", html_label("L(", sym("a", last), ", y)"), shape="box")
    dot.edge(previous, "L")
    gradient("L", f"z{last}", html_label(sym("dz", last)))
    return dot.source


def flow_svg(network: Network, loss: str) -> str:
    from ..diagram.backend import run_dot
    from ..diagram.svg import embeddable, tidy

    source = flow_dot(network, loss)
    svg = tidy(run_dot(source, "svg"), "svg").decode("utf-8")
    # Black strokes and text follow the page's text colour, in light and dark themes alike.
    svg = svg.replace('"black"', '"currentColor"')
    title = "Backpropagation: gradients flow from the loss back through each layer"
    return embeddable(svg.encode("utf-8"), source, title)


def _math(latex: str, display: bool = False) -> str:
    body = html.escape(latex, quote=False)
    if display:
        return f'<div class="arithmatex">\\[{body}\\]</div>'
    return f'<span class="arithmatex">\\({body}\\)</span>'


def proofs(network: Network, loss: str, include: tuple[str, ...] = PARTS) -> list[Proof]:
    """The output-layer proof for the network's last activation, then the entry-level one."""
    last = network.layers[-1]
    name = last.activation.name
    out: list[Proof] = []
    output_form = (name, loss) in SIMPLIFIED or (loss == "mse" and name != "softmax")
    if "proofs" in include and output_form:
        out.append(
            prove_output_gradient(
                name, loss, max(last.units, 2 if name == "softmax" else 1), last.activation
            )
        )
    count = sum(layer.units * (layer.fan_in + 1) for layer in network.layers)
    if "entries" in include and count <= MAX_EXPLICIT_PARAMS:
        out.append(prove_matrix_form(explicit_gradients(network, loss)))
    return out


@dataclass(frozen=True)
class ProofJob:
    """The SymPy work of one fence (its proofs and, for one layer, the sum forms), as plain
    data: the plugin runs it in its worker pool beside the diagrams, before any page renders
    (a cold build no longer proves one fence after another), and the fence reads it back from
    the cache. ``key`` covers the fence's text and the spec file it reads (None: a fence the
    page will refuse; nothing to run)."""

    source: str
    root: str

    @property
    def key(self) -> str | None:
        from .cache import cache_key
        from .request import resolve_spec_path

        try:
            data = yaml.safe_load(self.source)
            spec = b""
            if isinstance(data, dict) and "spec" in data:
                spec = resolve_spec_path(str(data["spec"]), Path(self.root)).read_bytes()
        except (yaml.YAMLError, SpecError, OSError):
            return None
        text = self.source.strip().encode("utf-8")  # page and plugin: same key
        return cache_key(text + b"\0" + spec, {"backprop": "proofs"})

    def compute(self) -> dict[str, Any]:
        from ..errors import NNDiagramError

        try:
            network, loss, include = parse_body(self.source, Path(self.root))
            sums = []
            if "entries" in include and len(network.layers) == 1 and not network.has_skips:
                sums = [asdict(g) for g in sum_form_gradients(network, loss)]
            found = [asdict(p) for p in proofs(network, loss, include)]
        except NNDiagramError:
            raise
        except Exception as error:  # the page reports it (the pool and prerender skip these)
            raise NNDiagramError(f"{type(error).__name__}: {error}") from error
        return {"proofs": found, "sums": sums}


def proof_data(source: str, root: Path, md: Any) -> dict[str, Any]:
    """A fence's proofs: from the cache when the plugin ran them ahead, else computed here."""
    from .fence import cache_for

    job, cache = ProofJob(source, str(root)), cache_for(md, root)
    key = job.key
    data = cache.get(key) if key is not None else None
    if data is None:
        data = job.compute()
        if key is not None:
            cache.put(key, data)
    return data


def linked_diagram(
    network: Network, css_class: str, source: str, latex: str
) -> tuple[str, str, str]:
    """The network's figure, linked to the backward equations ``latex`` (marked here): the
    block's opening tag (an ``.nndiagram`` block the explorer finds), the figure with the link
    data, and the marked LaTeX. Ids are prefixed with a digest of the fence's text."""
    from ..diagram import render_svg_inline
    from ..quoting import inert_tex, inert_tex_html
    from .html import diagram_html
    from .interactive import data_element, link_data, mark_backward

    svgs = {
        f"svg_{theme}": render_svg_inline(network, theme=theme, links=True)
        for theme in ("light", "dark")
    }
    links = link_data(network, [svgs["svg_light"]])
    prefix = "nndbp" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:8]
    data = {"tips": links["tips"], "back": int(bool(latex)), "base": network.naming.base}
    # Spec text in the figure (its title) is made inert like a fence's (html.bundle_html).
    figure = inert_tex_html(diagram_html(svgs, prefix, "auto")) + data_element(data)
    opening = (
        f'<div class="{html.escape(css_class or "backprop")} nnd-backprop nndiagram" '
        f'data-nndiagram="{html.escape(network.name)}">'
    )
    # Marked after it is made inert: the only \class in it is nndiagram's own.
    return opening, figure, mark_backward(inert_tex(latex), links["context"]) if latex else ""


def backprop_fence_format(
    source: str, language: str, css_class: str, options: dict[str, Any], md: Any, **kwargs: Any
) -> str:
    from .fence import project_root
    from .request import page_context

    root = project_root(md, page_context(md))
    network, loss, include = parse_body(source, root)
    data = proof_data(source, root, md)
    rows = []
    for proof in (Proof(**fields) for fields in data["proofs"]):
        if not proof.holds:
            raise _fail(f"SymPy does not confirm {proof.name}: {proof.detail}")
        rows.append(
            f'<li class="nnd-proof"><span class="nnd-proof-mark">✓</span> '
            f"{_math(proof.statement)} — {html.escape(proof.name)}: {html.escape(proof.detail)}, "
            "proven by SymPy</li>"
        )
    entries = ""
    if "entries" in include and len(network.layers) == 1 and not network.has_skips:
        gradients = [EntryGradient(**fields) for fields in data["sums"]]
        wrong = [g.lhs for g in gradients if not g.holds]
        if wrong:
            raise _fail(f"SymPy does not confirm the sum form of {', '.join(wrong)}")
        if gradients:
            rows_latex = r" \\ ".join(f"{g.lhs} &= {g.rhs}" for g in gradients)
            entries = _math(rf"\begin{{aligned}} {rows_latex} \end{{aligned}}", display=True)
            cost = _math(r"J = \frac{1}{m}\sum_{i=1}^{m} L")
            rows.append(
                '<li class="nnd-proof"><span class="nnd-proof-mark">✓</span> each entry: '
                f"SymPy differentiates {cost} by it, for any number of samples m, and the "
                "summand is exactly the one shown</li>"
            )
    notes = ", ".join(_math(note) for note in derivative_notes(network, loss))
    equations = "equations" in include
    latex = equations_latex(network, loss) if equations else ""
    opening = f'<div class="{html.escape(css_class or "backprop")} nnd-backprop">'
    figure = ""
    if "diagram" in include:
        opening, figure, latex = linked_diagram(network, css_class, source, latex)
    parts = [
        opening,
        f'<figure class="nnd-backprop-flow">{flow_svg(network, loss)}</figure>'
        if "flow" in include
        else "",
        figure,
        f'<div class="nndiagram-equations">{_math(latex, display=True)}</div>' if equations else "",
        f'<p class="nnd-backprop-derivatives">with {notes}</p>' if notes and equations else "",
        entries,
        f'<ul class="nnd-backprop-proofs">{"".join(rows)}</ul>' if rows else "",
        "</div>",
    ]
    return "\n".join(part for part in parts if part)
