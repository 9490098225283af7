"""Skip connections on the site (issue 17): the backprop fence reads a spec with skips and shows
the gradient arriving along both paths, proved entry by entry; the gallery specs exist."""

from __future__ import annotations

import pytest
from conftest import DIAGRAMS, ROOT
from pymdownx.superfences import SuperFencesException
from test_backprop_fence import _markdown

from nndiagram.site.backprop import flow_dot
from nndiagram.spec.load import load_spec


def edges(source: str) -> dict[str, list[str]]:
    """``tail -> head`` → the attribute text of each such edge, in order."""
    found: dict[str, list[str]] = {}
    for line in source.splitlines():
        if " -> " in line:
            ends, _, attributes = line.strip().partition(" [")
            found.setdefault(ends, []).append(attributes)
    return found


def test_flow_figure_sends_the_gradient_back_along_the_skip() -> None:
    source = flow_dot(load_spec(DIAGRAMS / "residual-mlp.yaml"), "bce")
    found = edges(source)
    # forward: the skips arc into the z they are added to
    assert "&#8853; added to <I>z</I><SUP>[1]</SUP>" in found["x -> z1"][0]
    assert "&#8853; added to <I>z</I><SUP>[3]</SUP>" in found["a1 -> z3"][0]
    # backward: dz[3] reaches a[1] along the skip, and da[1] is the sum of both paths
    skip = found["a1 -> z3"][1]
    assert "dir=back" in skip and "dashed" in skip
    assert "dz<SUP>[3]</SUP> along the skip, through no weight" in skip
    da1 = found["a1 -> z2"][1]
    assert "dir=back" in da1
    assert "da<SUP>[1]</SUP> = <I>W</I><SUP>[2]T</SUP> dz<SUP>[2]</SUP> + dz<SUP>[3]</SUP>" in da1
    # the input needs no gradient: the dashed edges never reach x
    assert not any("dashed" in a for ends, attrs in found.items() if "x" in ends for a in attrs)


def test_flow_figure_sends_each_stacked_output_its_block_of_w() -> None:
    source = flow_dot(load_spec(DIAGRAMS / "dense-concat.yaml"), "ce")
    found = edges(source)
    assert "label=stacked" in found["x -> z1"][0] and "label=stacked" in found["a0 -> z2"][0]
    block = "<I>W</I><SUP>[2]T</SUP><SUB>(0)</SUB> dz<SUP>[2]</SUP>"
    assert block in found["a0 -> z2"][1] and "dir=back" in found["a0 -> z2"][1]
    assert (
        "da<SUP>[0]</SUP> = <I>W</I><SUP>[1]T</SUP><SUB>(0)</SUB> dz<SUP>[1]</SUP> + " + block
        in found["a0 -> z1"][1]
    )
    assert "<I>W</I><SUP>[2]T</SUP><SUB>(1)</SUB> dz<SUP>[2]</SUP>" in found["a1 -> z2"][1]


@pytest.mark.exe
def test_flow_figure_of_a_residual_spec_renders_in_the_fence() -> None:
    body = "spec: diagrams/residual-mlp.yaml\ninclude: [flow]\n"
    out = _markdown().convert(f"```backprop\n{body}```\n")
    assert '<figure class="nnd-backprop-flow"><svg role="img"' in out
    assert "along the skip, through no weight" in out


def test_backprop_fence_derives_a_residual_spec_along_both_paths() -> None:
    body = "spec: diagrams/residual-mlp.yaml\ninclude: [equations, proofs, entries]\n"
    out = _markdown().convert(f"```backprop\n{body}```\n")
    assert r"da^{[1]} &amp;= W^{[2]T} dz^{[2]} + dz^{[3]}" in out
    assert "2-2-2-2-2-1 bce: every entry, m = 2 samples" in out
    assert out.count("✓") == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("spec: ../outside.yaml\n", "leaves the project root"),
        ("spec: diagrams/residual-mlp.yaml\nsizes: [2, 1]\n", "or spec: <file>"),
    ],
)
def test_bad_backprop_spec_fences_fail_the_build(body: str, message: str) -> None:
    with pytest.raises(SuperFencesException, match=message):
        _markdown().convert(f"```backprop\n{body}```\n")


def test_gallery_has_a_residual_and_a_concatenating_network() -> None:
    residual = load_spec(DIAGRAMS / "residual-mlp.yaml")
    dense = load_spec(DIAGRAMS / "dense-concat.yaml")
    assert any(layer.add is not None for layer in residual.layers)
    assert any(layer.concat for layer in dense.layers)
    page = (ROOT / "docs" / "tutorial" / "skip-connections.md").read_text()
    assert "spec: diagrams/residual-mlp.yaml" in page and "spec: diagrams/dense-concat.yaml" in page
    nav = (ROOT / "mkdocs.yml").read_text()
    assert nav.index("tutorial/backpropagation.md") < nav.index("tutorial/skip-connections.md")


@pytest.mark.exe
def test_skip_connections_page_renders() -> None:
    text = (ROOT / "docs" / "tutorial" / "skip-connections.md").read_text()
    backprop = text[text.index("```backprop") :]
    backprop = backprop[: backprop.index("```\n", 4) + 4]
    out = _markdown().convert(backprop)
    assert "dz^{[3]}" in out and out.count("✓") == 2
