"""Skip connections on the site (issue 17): the backprop fence reads a spec with skips and shows
the gradient arriving along both paths, proved entry by entry; the gallery specs exist."""

from __future__ import annotations

import pytest
from conftest import DIAGRAMS, ROOT
from pymdownx.superfences import SuperFencesException
from test_backprop_fence import _markdown

from nndiagram.spec.load import load_spec


def test_backprop_fence_derives_a_residual_spec_along_both_paths() -> None:
    body = "spec: diagrams/residual-mlp.yaml\ninclude: [equations, proofs, entries]\n"
    out = _markdown().convert(f"```backprop\n{body}```\n")
    assert r"da^{[1]} &amp;= W^{[2]T} dz^{[2]} + dz^{[3]}" in out
    assert "2-2-2-2-2-1 bce: every entry, m = 2 samples" in out
    assert out.count("✓") == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("spec: diagrams/residual-mlp.yaml\ninclude: [flow]\n", "leave flow out"),
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
