"""The figure and the equations as one (issue 18), without a browser: the ids and classes in the
SVG, the ``\\class`` marks in the equations (only nndiagram's, never a spec's), the script and
CSS once per page, ``nndiagram.explore`` for Jupyter (in Chromium: test_browser_explore.py)."""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
from conftest import DIAGRAMS, ROOT

import nndiagram
from nndiagram.diagram import render_svg_inline
from nndiagram.diagram.dot import link_key
from nndiagram.errors import UsageError
from nndiagram.site import fence, interactive
from nndiagram.site.html import bundle_html
from nndiagram.site.render import RenderJob, compute_bundle

XOR = DIAGRAMS / "xor.yaml"
CLASS = re.compile(r"\\class\{([^}]*)\}")
LINK_NAME = re.compile(r"nnd-[a-z]+(-[0-9]+)+")


def convert(text: str) -> str:
    extension = fence.NNDiagramExtension(root=str(ROOT), cache=False)
    return markdown.Markdown(extensions=[extension]).convert(text)


def test_link_keys_are_positions() -> None:
    assert link_key(("z", 1, 0)) == "z-1-0"
    assert link_key((("a", 0, 2), ("z", 1, 0))) == "w-1-0-2"
    assert link_key((("x", 1), ("z", 0, 2))) == "w-0-2-1"
    assert link_key((("b", 1), ("z", 1, 0))) == "b-1-0"
    assert link_key((("z", 0, 1), ("a", 0, 1))) == "g-0-1"
    assert link_key(("b", 1)) == "bias-1"
    for nothing in (("z", 0, None), ("out", 0), (("x", None), ("z", 0, 1)), ("caption", 0)):
        assert link_key(nothing) is None


def test_svg_links_every_neuron_bias_activation_and_edge() -> None:
    svg = render_svg_inline(nndiagram.load_spec(XOR), links=True)
    links = set(re.findall(r"nnd&#45;link nnd&#45;([a-z&#0-9;]+)\"", svg))
    links = {link.replace("&#45;", "-") for link in links}
    weights = {f"w-0-{j}-{k}" for j in (0, 1) for k in (0, 1)} | {"w-1-0-0", "w-1-0-1"}
    neurons = {"z-0-0", "z-0-1", "a-0-0", "a-0-1", "z-1-0", "a-1-0", "x-0", "x-1"}
    others = {"bias-0", "bias-1", "b-0-0", "b-0-1", "b-1-0", "g-0-0", "g-0-1", "g-1-0"}
    assert links == weights | neurons | others
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert len(ids) == len(set(ids))
    # Off by default: files and the golden DOT do not change.
    assert "nnd&#45;link" not in render_svg_inline(nndiagram.load_spec(XOR))


def test_equations_mark_entries_rows_and_terms() -> None:
    network = nndiagram.load_spec(XOR)
    marked = interactive.mark_latex(
        nndiagram.derive(network).to_latex(), interactive.context(network)
    )
    assert r"\class{nnd-w-0-1-0}{w_{10}}" in marked  # the matrix entry, row 1, column 0
    assert r"\class{nnd-w-1-0-1}{w^{[1]}_{01}} \class{nnd-a-0-1}{a^{[0]}_1}" in marked
    assert r"\class{nnd-z-1-0}{z^{[1]}_0} = " in marked
    assert r"\class{nnd-bv-0}{b^{[0]}} = \begin{bmatrix} \class{nnd-b-0-0}{b_0}" in marked
    assert r"\class{nnd-g-1}{g^{[1]}}" in marked
    assert r"\text{every other weight and every bias}" in marked  # text is never marked
    assert all(LINK_NAME.fullmatch(name) for name in CLASS.findall(marked))


def test_one_based_naming() -> None:
    import dataclasses

    from nndiagram.model import Naming, Network

    network = dataclasses.replace(Network.from_sizes([2, 2, 1], "relu"), naming=Naming(1))
    marked = interactive.mark_latex(
        nndiagram.derive(network).to_latex(), interactive.context(network)
    )
    assert r"\class{nnd-w-0-0-0}{w^{[1]}_{11}}" in marked
    assert r"\class{nnd-z-1-0}{z^{[2]}_1}" in marked


def test_lone_neuron_bare_symbols() -> None:
    network = nndiagram.load_spec(DIAGRAMS / "neuron.yaml")
    marked = interactive.mark_latex(
        nndiagram.derive(network).to_latex(), interactive.context(network)
    )
    assert r"\class{nnd-z-0-0}{z} = \class{nnd-w-0-0-0}{w_0} \class{nnd-x-0}{x_0}" in marked


HOSTILE = r"""
```nndiagram
title: 'T \class{nnd-w-0-0-0}{x} \cssId{evil}{y}'
description: 'Look $\class{nnd-z-0-0}{z}$ and $\cssId{nnd-x}{q}$ and $\style{color:red}{r}$'
inputs: 2
layers:
  - units: 2
  - units: 1
include: [diagram, equations, source]
```
"""


def test_user_text_never_reaches_a_class_or_id_macro() -> None:
    out = convert(HOSTILE)
    equations = re.search(r'<div class="nndiagram-equations">(.*?)</div></div>', out, re.S)
    assert equations is not None
    # Text MathJax could read (attributes such as aria-label are never typeset).
    outside = re.sub(r"<[^>]*>", "", out.replace(equations.group(0), ""))
    assert "\\class" not in outside and "\\cssId" not in outside and "\\style" not in outside
    names = CLASS.findall(equations.group(1))
    assert names and all(LINK_NAME.fullmatch(name) for name in names)
    assert "\\cssId" not in equations.group(1)


def test_the_same_network_twice_on_a_page_has_unique_ids() -> None:
    page = f"```nndiagram\nspec: {XOR.relative_to(ROOT)}\n```\n\n" * 2
    out = convert(page)
    ids = re.findall(r'\bid="([^"]+)"', out)
    assert len(ids) > 50 and len(ids) == len(set(ids))
    # Two notebook explorers of one network, shown in one page, too.
    network = nndiagram.load_spec(XOR)
    both = nndiagram.explore(network)._repr_html_() + nndiagram.explore(network)._repr_html_()
    ids = re.findall(r'\bid="([^"]+)"', both)
    assert len(ids) == len(set(ids))


def test_script_and_css_come_once_per_page_and_not_with_the_plugin() -> None:
    page = f"```nndiagram\nspec: {XOR.relative_to(ROOT)}\n```\n\n" * 2
    out = convert(page)
    assert out.count("<script>") == 1 and "window.nndiagramExplore" in out
    assert out.count(interactive.style()) == 1
    settings = fence.FenceSettings(root=ROOT, use_cache=False, explore_added=True)
    fence.configure(settings)
    try:
        md = markdown.Markdown(
            extensions=["pymdownx.superfences"],
            extension_configs={
                "pymdownx.superfences": {"custom_fences": fence.custom_fences()[:1]}
            },
        )
        assert "nndiagramExplore" not in md.convert(page)
    finally:
        fence.configure(None)


def test_assets_are_small_and_local() -> None:
    script, style = interactive.script(), interactive.style()
    assert len(script.encode()) + len(style.encode()) <= 15 * 1024
    for text in (script, style):
        assert "http:" not in text and "https:" not in text and "import(" not in text


def test_tooltips_follow_what_is_drawn() -> None:
    bundle = compute_bundle(RenderJob(XOR.read_text(), str(XOR)))
    tips = bundle["links"]["tips"]
    assert tips["z-0-1"] == "z⁽⁰⁾₁ = w⁽⁰⁾₁₀·x₀ + w⁽⁰⁾₁₁·x₁ + b⁽⁰⁾₁".replace("⁽", "[").replace(
        "⁾", "]"
    ) or tips["z-0-1"].startswith("z")
    assert "weight from" in tips["w-1-0-1"]
    html = bundle_html(bundle, include=["diagram", "equations"], prefix="p")
    data = re.search(r'data-links="([^"]*)"', html)
    assert data is not None and "&lt;" not in data.group(1)


def test_jupyter_html_holds_figure_equations_script(tmp_path: Path) -> None:
    html = nndiagram.explore(nndiagram.load_spec(XOR))._repr_html_()
    assert "nndiagramExplore" in html and 'class="nndiagram-equations"' in html
    assert "nnd&#45;link" in html and r"\class{nnd-w-0-0-0}" in html


def test_tooltips_carry_the_numbers_the_figure_draws(tmp_path: Path) -> None:
    import html as html_module
    import json

    from test_site_fence import _xor_project
    from test_site_fence import convert as convert_in

    project = _xor_project(tmp_path)  # W0 = [[6, 6], [-4, -4]], b0 = [-3, 6]; sample 2 = (1, 0)
    body = "spec: diagrams/xor.yaml\nparams: docs/P.npz\ninput: docs/X.npy\nsample: 2\n"
    out = convert_in(f"```nndiagram\n{body}include: [diagram, equations]\n```\n", root=project)
    data = re.search(r'data-links="([^"]*)"', out)
    assert data is not None
    tips = json.loads(html_module.unescape(data.group(1)))["tips"]
    assert tips["w-0-1-0"].endswith("value: -4")
    assert tips["b-0-0"].endswith("value: -3")
    assert tips["x-0"].endswith("sample 2: 1") and tips["x-1"].endswith("sample 2: 0")
    assert tips["z-0-0"].endswith("sample 2: 3")  # 6·1 + 6·0 − 3
    symbolic = convert(f"```nndiagram\nspec: {XOR.relative_to(ROOT)}\n```\n")
    assert "value:" not in symbolic


def test_a_notebook_showing_one_network_twice_has_unique_ids() -> None:
    network = nndiagram.load_spec(XOR)
    first = network._repr_mimebundle_()["image/svg+xml"]
    second = network._repr_mimebundle_()["image/svg+xml"]
    ids = [re.findall(r'\bid="([^"]+)"', svg) for svg in (first, second)]
    assert ids[0] and len(ids[0]) == len(set(ids[0])) and not set(ids[0]) & set(ids[1])


# --- the backward pass: the backprop fence with its figure -------------------------------------

BACKPROP = "```backprop\nsizes: [2, 2, 1]\nactivations: [tanh, identity]\nloss: mse\n{extra}```\n"


def test_backward_equations_mark_each_layers_gradients() -> None:
    from nndiagram.symbolic.gradients import equations_latex

    network = nndiagram.Network.from_sizes([2, 2, 1], ["tanh", "identity"])
    marked = interactive.mark_backward(
        equations_latex(network, "mse"), interactive.context(network)
    )
    for layer in (0, 1):
        assert rf"\class{{nnd-dz-{layer}}}{{dz^{{[{layer}]}}}} &=" in marked
        assert rf"\class{{nnd-dw-{layer}}}{{dW^{{[{layer}]}}}} &=" in marked
        assert rf"\class{{nnd-db-{layer}}}{{db^{{[{layer}]}}}} &=" in marked
    assert r"\class{nnd-da-1}{da^{[1]}} &= 2" in marked  # mse: da^[L] is written out
    assert r"\class{nnd-zv-0}{z^{[0]}}" in marked  # the forward symbols they use, as usual
    assert all(LINK_NAME.fullmatch(name) for name in CLASS.findall(marked))
    # A layer the network does not have is left alone.
    assert interactive.mark_backward("dz^{[7]} = 0", interactive.context(network)) == (
        "dz^{[7]} = 0"
    )


def test_backprop_fence_draws_the_network_linked_to_its_gradients() -> None:
    out = convert(BACKPROP.format(extra="include: [diagram, equations]\n"))
    block = re.search(r'<div class="([^"]*)" data-nndiagram="network">', out)
    assert block is not None and "nndiagram" in block.group(1).split()
    data = re.search(r'data-links="([^"]*)"', out)
    assert data is not None and "&quot;back&quot;:1" in data.group(1)
    assert "nnd&#45;link nnd&#45;w&#45;1&#45;0&#45;1" in out  # the figure's edges link
    assert r"\class{nnd-dw-1}{dW^{[1]}}" in out and "nndiagram-equations" in out
    assert out.count("<script>") == 1 and "window.nndiagramExplore" in out
    # With an nndiagram fence before it, the page still gets the script once; ids stay unique.
    both = convert(
        f"```nndiagram\nspec: {XOR.relative_to(ROOT)}\n```\n\n"
        + BACKPROP.format(extra="include: [diagram, equations]\n")
        + "\n"
        + BACKPROP.format(extra="include: [diagram]\n")
    )
    assert both.count("<script>") == 1
    ids = re.findall(r'\bid="([^"]+)"', both)
    assert len(ids) == len(set(ids))
    # The same fence twice on a page (its HTML comes from the cache the second time): still
    # unique ids.
    twice = BACKPROP.format(extra="include: [diagram]\n") + "\n"
    extension = fence.NNDiagramExtension(root=str(ROOT))
    page = markdown.Markdown(extensions=[extension]).convert(twice * 2)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) > 20 and len(ids) == len(set(ids))
    # Without the figure (the default) nothing changes: no script, no link data.
    plain = convert(BACKPROP.format(extra=""))
    assert "<script>" not in plain and "data-links" not in plain and "nndiagram-svg" not in plain


def test_backprop_fence_figure_keeps_spec_text_as_text(tmp_path: Path) -> None:
    spec = tmp_path / 'x" onmouseover="alert(1).yaml'
    spec.write_text(
        "title: '<img src=x onerror=alert(1)> \\class{evil}{x}'\n"
        "inputs: 2\nlayers:\n  - units: 2\n    activation: tanh\n  - units: 1\n"
        "    activation: sigmoid\nloss: bce\n"
    )
    extension = fence.NNDiagramExtension(root=str(tmp_path), cache=False)
    out = markdown.Markdown(extensions=[extension]).convert(
        f"```backprop\nspec: '{spec.name}'\ninclude: [diagram, equations]\n```\n"
    )
    assert 'onmouseover="' not in out and "<img" not in out and "data-nndiagram=" in out
    text = re.sub(r"<[^>]*>", "", out)  # what MathJax could read (attributes never are)
    assert all(LINK_NAME.fullmatch(name) for name in CLASS.findall(text))
    assert "evil" not in " ".join(CLASS.findall(text))


def test_the_index_rule_reaches_marks_and_tooltips() -> None:
    """Issue 13: a matrix numbered past 9 writes every entry with a comma (w_{0,5}); the
    explorer reads that spelling back to the same edge, and its tooltip spells it too."""
    from nndiagram.symbolic import derive

    network = nndiagram.Network.from_sizes([12, 2, 1])
    marked = interactive.mark_latex(derive(network).to_latex(), interactive.context(network))
    assert r"\class{nnd-w-0-0-5}{w_{0,5}}" in marked
    assert r"\class{nnd-w-1-0-1}{w_{01}}" in marked  # the 1x2 matrix keeps w_{01}
    assert interactive._tip(network, "w-0-0-5").startswith("w⁽⁰⁾₀‚₅: weight from x₅")


def test_jupyter_explorer_with_a_loss_shows_the_backward_pass() -> None:
    xor = nndiagram.load_spec(XOR)
    html = nndiagram.explore(xor, loss="bce")._repr_html_()
    assert "Backward pass" in html and r"\class{nnd-dw-0}{dW^{[0]}}" in html
    data = re.search(r'data-links="([^"]*)"', html)
    assert data is not None and "&quot;back&quot;:1" in data.group(1)
    assert all(LINK_NAME.fullmatch(name) for name in CLASS.findall(html))
    forward = nndiagram.explore(xor)._repr_html_()  # without a loss: as before
    assert "Backward pass" not in forward and "&quot;back&quot;" not in forward
    with pytest.raises(UsageError, match="loss must be one of: mse, bce, ce"):
        nndiagram.explore(xor, loss="hinge")


def test_a_unit_numbered_ten_or_more_links_its_own_neuron() -> None:
    """z^{[0]}_{10} is neuron 10 (one index), not row 1 column 0: its equation's left side, its
    bias entry and its weights all mark unit 10 (a new user found z_{10} unlinked)."""
    from nndiagram.symbolic import derive

    network = nndiagram.Network.from_sizes([2, 11, 1])
    marked = interactive.mark_latex(derive(network).to_latex(), interactive.context(network))
    assert r"\class{nnd-z-0-10}{z^{[0]}_{10}} = " in marked
    assert r"\class{nnd-b-0-10}{b_{10}}" in marked
    assert r"\class{nnd-w-0-10-1}{w_{10,1}}" in marked
    assert r"\class{nnd-w-1-0-10}{w_{0,10}}" in marked
