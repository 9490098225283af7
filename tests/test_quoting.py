"""Quoting: the doctests are the rules; hostile names and labels go through the real ``dot``
and come out as literal text."""

from __future__ import annotations

import doctest
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from nndiagram import quoting
from nndiagram.diagram import elide, render, render_svg_inline
from nndiagram.model import ActivationChoice, ExplicitGraph, Naming, Network
from nndiagram.model import Edge as GraphEdge

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = [
    '"]; evil [label="x',
    "<b>bold</b>",
    "a & b",
    "&amp; &#60;",
    "back\\slash",
    "ends with \\",
    "\\N \\G \\n",
    'quote "inside"',
    "} -> node { graph",
    "]]> <!-- -->",
    "θ₁ ψ ℝ ⋮ 中",
    "node",
    "1.5",
    'a\\"b',
]


@pytest.mark.parametrize("module", [quoting, elide], ids=lambda m: m.__name__)
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def _texts(svg: bytes) -> str:
    """All text the SVG shows, lines joined by spaces."""
    root = ET.fromstring(svg)
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def _network(names: tuple[str, ...]) -> Network:
    sizes = [len(names), 2]
    # max_neurons: every input drawn (a spec allows 2 at the least)
    return Network.from_sizes(
        sizes, naming=Naming(input_names=names), max_neurons=max(len(names), 2)
    )


@pytest.mark.exe
@pytest.mark.parametrize("labels", ["math", "plain"])
@pytest.mark.parametrize("view", ["network", "neuron"])
def test_hostile_input_names_render_literally(view: str, labels: str) -> None:
    network = _network(tuple(HOSTILE))
    shown = _texts(render(network, "svg", view=view, labels=labels))
    for name in HOSTILE:
        assert name in shown, name


@pytest.mark.exe
@pytest.mark.parametrize("labels", ["math", "plain"])
def test_newlines_become_line_breaks_not_dot_syntax(labels: str) -> None:
    network = _network(("two\nlines", "x"))
    svg = render(network, "svg", view="network", labels=labels)
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert "two" in texts and "lines" in texts


@pytest.mark.exe
def test_hostile_explicit_graph_names_render_literally() -> None:
    names = ('"a"', "<b>", "c\\")
    edges = (GraphEdge(names[0], names[1]), GraphEdge(names[1], names[2]))
    graph = ExplicitGraph(edges=edges, layers=((names[0],), (names[1],), (names[2],)))
    network = Network(inputs=1, layers=_network(("x",)).layers, graph=graph)
    for labels in ("math", "plain"):
        shown = _texts(render(network, "svg", labels=labels))
        assert all(name in shown for name in names)


def test_ids_of_different_names_never_collide() -> None:
    names = [*HOSTILE, "x_0", "X_0", "_x", "~x", "Node", "a b", "a_20_b"]
    ids = {quoting.dot_id(n) for n in names}
    assert len(ids) == len(names)


@pytest.mark.exe
def test_a_user_input_called_output_stays_its_own_node() -> None:
    network = Network.from_sizes([2, 1], naming=Naming(input_names=("output", "bias")))
    svg = render(network, "svg", view="neuron", labels="plain")
    titles = [t.text for t in ET.fromstring(svg).iter(f"{SVG}title")]
    nodes = [t for t in titles if t and "->" not in t and t != "G"]
    assert len(nodes) == len(set(nodes)) == 5  # two inputs, z, bias, output: nothing merged


@pytest.mark.exe
@pytest.mark.parametrize("labels", ["math", "plain"])
@pytest.mark.parametrize("view", ["network", "neuron", "layers"])
def test_hostile_captions_and_formulas_render_literally(view: str, labels: str) -> None:
    expression = 'max(z, 0) <b>"]; & \\N'
    layer = Network.from_sizes([2, 1]).layers[0]
    custom = replace(layer, activation=ActivationChoice("custom", expression=expression))
    network = Network(inputs=2, layers=(custom,))
    shown = "".join(_texts(render(network, "svg", view=view, labels=labels)).split())
    if view == "neuron":  # the formula, on the a -> output edge
        assert "".join(f"a = {expression}".split()) in shown
    elif view == "layers" or labels == "math":  # the caption (plain network view has none)
        assert "".join(f"custom: {expression}".split()) in shown


@pytest.mark.exe
def test_hostile_title_in_inline_svg() -> None:
    title = '</title><script>alert("x")</script> & \\'
    svg = render_svg_inline(replace(Network.from_sizes([2, 1]), title=title))
    root = ET.fromstring(svg)
    assert root.get("aria-label") == title
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}title").text == title  # type: ignore[union-attr]
    assert "<script>" not in svg
