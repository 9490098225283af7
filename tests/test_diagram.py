"""Diagram views, elision, themes, determinism, inline SVG, Jupyter and the dot backend."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DIAGRAMS, REFERENCE, RunCli

from nndiagram.diagram import (
    build_dot,
    choose_view,
    draw,
    gv,
    render,
    render_svg_inline,
)
from nndiagram.diagram.backend import run_dot
from nndiagram.errors import ExecutableNotFound, GraphvizError, UsageError
from nndiagram.model import Edge, ExplicitGraph, Naming, Network, Show
from nndiagram.spec.load import load_spec

SPECS = sorted(DIAGRAMS.glob("*.yaml"))
MNIST = Network.from_sizes([784, 128, 64, 10], ["relu", "relu", "softmax"])


def _unsized(source: str) -> str:
    """The DOT without the point sizes that shrink sub- and superscripts."""
    return re.sub(r'<FONT POINT-SIZE="[0-9.]+">|</FONT>', "", source)


def _edge(source: str, ends: str) -> str:
    """The one statement of edge ``ends`` (``"x_0 -> z"``)."""
    (line,) = [line for line in source.splitlines() if line.strip().startswith(ends + " [")]
    return line


def _edges(source: str) -> list[str]:
    return [line for line in source.splitlines() if "->" in line and "invis" not in line]


# --- choosing the view ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "view"),
    [
        ([2, 1], "neuron"),
        ([2, 2], "neuron"),
        ([2, 3], "network"),
        ([5, 1], "network"),
        ([2, 2, 1], "network"),
        ([784, 128, 64, 10], "network"),  # elided: 5 drawn per column
        ([4] * 8, "layers"),  # seven layers: too deep to draw neuron by neuron
    ],
)
def test_auto_view(sizes: list[int], view: str) -> None:
    assert choose_view(Network.from_sizes(sizes)) == view


def test_auto_view_falls_back_to_layers_when_the_elided_drawing_is_too_big() -> None:
    wide = Network.from_sizes([30, 30, 30, 30], max_neurons=30)  # 2,700 drawn edges
    assert choose_view(wide) == "layers"


def test_spec_view_and_override() -> None:
    net = replace(Network.from_sizes([2, 2, 1]), view="layers")
    assert choose_view(net) == "layers"
    assert choose_view(net, "neuron") == "neuron"
    with pytest.raises(UsageError, match="must be one of"):
        choose_view(net, "sideways")


# --- what each view draws ---------------------------------------------------------------------


def test_neuron_view_of_one_neuron_is_the_tutorial_figure_in_math_style() -> None:
    source = _unsized(build_dot(Network.from_sizes([2, 1]), labels="math"))
    assert 'z [label=<<I>z</I>>, shape="box3d"' in source
    assert "<TD><I>b</I></TD>" in _edge(source, "bias -> z")
    assert "<TD><I>w</I><SUB>0</SUB></TD>" in _edge(source, "x_0 -> z")
    assert "<I>z</I> = <I>w</I><SUB>0</SUB> <I>x</I><SUB>0</SUB> + " in source


def test_scripts_are_shrunk_for_svg() -> None:
    source = build_dot(Network.from_sizes([2, 1]), labels="math")
    assert 'x_0 [label=<<I>x</I><SUB><FONT POINT-SIZE="8.6">0</FONT></SUB>>' in source
    assert '<I>w</I><SUB><FONT POINT-SIZE="7.2">0</FONT></SUB>' in _edge(source, "x_0 -> z")
    # cairo (PNG, PDF) shrinks them itself
    assert "POINT-SIZE" not in build_dot(Network.from_sizes([2, 1]), labels="math", fmt="png")


@pytest.mark.exe
def test_svg_keeps_the_spaces_around_operators() -> None:
    svg = render(Network.from_sizes([2, 1]), "svg", labels="math").decode("utf-8")
    assert ">&#160;=&#160;</text>" in svg and "> = </text>" not in svg


def test_neuron_view_with_a_concrete_activation_prints_its_formula() -> None:
    source = build_dot(Network.from_sizes([2, 1], "relu"), view="neuron", labels="plain")
    assert 'label="a = max(0, z)"' in _edge(source, "a -> output")


def test_neuron_view_elides_a_wide_equation() -> None:
    source = build_dot(Network.from_sizes([784, 1]), view="neuron", labels="plain")
    assert "z = w_0 x_0 + w_1 x_1 + w_2 x_2 + … + w_783 x_783 + b" in source
    assert "w_783" in source and "w_500" not in source


def test_show_switches_remove_bias_weights_and_equations() -> None:
    net = replace(
        Network.from_sizes([2, 1]),
        show=Show(bias=False, weights=False, activations=True, equations=False),
    )
    source = build_dot(net, view="neuron", labels="plain")
    assert "bias" not in source and not any("label" in line for line in _edges(source))


def test_neuron_view_labels_weights_only_while_legible() -> None:
    small = draw(Network.from_sizes([2, 2]), view="neuron", labels="plain")
    assert "<TD>w_1,1</TD>" in _edge(small.source(), "x_1 -> z1") and small.notes == []
    asked = Show(asked=frozenset({"weights"}))
    wide = draw(Network.from_sizes([8, 4], show=asked), view="neuron", labels="plain")
    assert "<TD>w_" not in wide.source() and 'label="z0 = w_0,0 x_0' in wide.source()
    assert wide.notes[0].startswith("weight labels of layer 0 left out: 32 edges")


def test_network_view_labels_weights_only_while_legible() -> None:
    small = draw(Network.from_sizes([2, 2, 1]), view="network", labels="plain")
    (edge,) = [line for line in small.source().splitlines() if "x_0 -> z_0_0" in line]
    # on its own straight edge, on a patch of the page's colour
    assert "<TD>w^[0&#93;_0,0</TD>" in edge and "labelangle=0" in edge and "#ffffff" in edge
    assert 'splines="line"' in small.source() and small.notes == []
    asked = Show(asked=frozenset({"weights"}))
    big = draw(Network.from_sizes([4, 4, 4], show=asked), view="network", labels="plain")
    assert "w^[0]" not in big.source()
    assert big.notes and big.notes[0].startswith("weight labels left out: 32 edges")


def test_network_view_draws_activation_nodes_only_for_nonlinear_layers() -> None:
    source = build_dot(Network.from_sizes([2, 2, 1], ["relu", "identity"]), view="network")
    assert "a_0_0" in source and "a_1_0" not in source
    assert "a_0_0 -> z_1_0" in source and "z_1_0 -> output" in source


def test_math_captions_name_each_layer() -> None:
    source = build_dot(MNIST, view="network", labels="math")
    for caption in (
        "input · 784",
        "layer 0 · hidden · 128 · ReLU",
        "layer 2 · output · 10 · softmax",
    ):
        assert caption in source
    # the caption's number is the superscript's, under either numbering
    one = build_dot(replace(MNIST, naming=Naming(base=1)), view="layers", labels="plain")
    assert "layer 1 · hidden · 128 · ReLU" in one and "W^[1]" in one and "W^[0]" not in one
    assert "caption" not in build_dot(MNIST, view="network", labels="plain")


def test_large_layers_are_elided_with_dashed_edges_to_the_dots() -> None:
    source = build_dot(MNIST, view="network", labels="plain")
    assert "x_783" in source and "x_3 " not in source and "x_dots" in source
    assert "z_0_127" in source and "z_0_dots" in source
    dashed = [e for e in _edges(source) if "dots" in e]
    assert dashed and all('style="dashed"' in e for e in dashed)
    assert all("dashed" not in e for e in _edges(source) if "dots" not in e)


def test_drawing_cost_does_not_depend_on_layer_size() -> None:
    million = draw(Network.from_sizes([10**6, 10**6, 10]), view="network")
    ten = draw(Network.from_sizes([10, 10, 10]), view="network")
    assert (million.nodes, million.edges) == (ten.nodes, ten.edges)
    neuron = draw(Network.from_sizes([10**6, 1]), view="neuron")
    assert neuron.edges < 10


def test_layers_view_shows_shapes_and_equations() -> None:
    source = _unsized(build_dot(MNIST, view="layers", labels="math"))
    assert "ℝ<SUP>128×784</SUP>" in source
    assert (
        "<I>z</I><SUP>[0]</SUP> = <I>W</I><SUP>[0]</SUP><I>x</I> + <I>b</I><SUP>[0]</SUP>" in source
    )
    assert "softmax(<I>z</I><SUP>[2]</SUP>)" in source
    plain = build_dot(MNIST, view="layers", labels="plain")
    assert "W^[1] ∈ ℝ^64×128" in plain and "a^[1] = ReLU(z^[1])" in plain
    generic = build_dot(Network.from_sizes([2, 2, 1], "generic"), view="layers", labels="plain")
    assert "a^[0] = g^[0](z^[0])" in generic


def test_explicit_graph_highlights_skipping_edges_and_cycles() -> None:
    edges = (Edge("x_0", "z_0_0"), Edge("z_0_0", "z_1_0"), Edge("x_0", "z_1_0", line=3))
    graph = ExplicitGraph(
        edges=edges,
        layers=(("x_0",), ("z_0_0",), ("z_1_0",)),
        skipping=(Edge("x_0", "z_1_0", line=3),),
    )
    net = Network(inputs=1, layers=Network.from_sizes([1, 1]).layers, graph=graph)
    source = build_dot(net, labels="plain")
    assert re.search(r'x_0 -> z_1_0 \[color="#d9730d", penwidth=2.0, class="skipping"\]', source)
    assert "1 edge skipping or going back a layer" in source
    cyclic = replace(graph, skipping=(), cycles=(("z_0_0", "z_1_0"),))
    assert "1 cycle" in build_dot(replace(net, graph=cyclic))


def test_valid_explicit_graph_has_no_legend() -> None:
    graph = ExplicitGraph(edges=(Edge("x_0", "z_0_0"),), layers=(("x_0",), ("z_0_0",)))
    net = Network(inputs=1, layers=Network.from_sizes([1, 1]).layers, graph=graph)
    assert "fully connected" not in build_dot(net)


# --- themes and determinism -------------------------------------------------------------------


def test_themes_are_transparent_and_differ_in_colour() -> None:
    net = Network.from_sizes([2, 2, 1])
    light, dark = build_dot(net, theme="light"), build_dot(net, theme="dark")
    assert 'bgcolor="transparent"' in light and 'bgcolor="transparent"' in dark
    assert "#262626" in light and "#e6e6e6" in dark and "#262626" not in dark
    with pytest.raises(UsageError, match="dark, light"):
        build_dot(net, theme="sepia")


def test_dot_is_deterministic() -> None:
    for spec in SPECS:
        network = load_spec(spec)
        assert build_dot(network) == build_dot(load_spec(spec))


@pytest.mark.exe
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_rendering_is_byte_identical_across_runs(fmt: str) -> None:
    network = load_spec(DIAGRAMS / "xor.yaml")
    first = render(network, fmt)
    assert render(network, fmt) == first
    assert b"graphviz version" not in first
    if fmt == "pdf":  # runs a second apart would differ in a real date
        assert b"/CreationDate (D:19700101000000" in first


# --- every spec, every format -----------------------------------------------------------------

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


@pytest.mark.exe
@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_spec_renders_to_svg_png_and_pdf(spec: Path) -> None:
    network = load_spec(spec)
    for fmt, magic in MAGIC.items():
        out = render(network, fmt)
        assert out.startswith(magic), fmt
    for theme in ("light", "dark"):
        ET.fromstring(render(network, "svg", theme=theme))  # well-formed XML


@pytest.mark.exe
def test_inline_svg_is_embeddable_and_ids_do_not_clash() -> None:
    a = render_svg_inline(load_spec(DIAGRAMS / "xor.yaml"), theme="light")
    b = render_svg_inline(load_spec(DIAGRAMS / "xor.yaml"), theme="dark")
    for svg in (a, b):
        assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
        assert 'role="img" aria-label="XOR"' in svg and "<title>XOR</title>" in svg
        ET.fromstring(svg)
    ids_a = set(re.findall(r'id="([^"]+)"', a))
    ids_b = set(re.findall(r'id="([^"]+)"', b))
    assert ids_a and ids_b and not ids_a & ids_b
    page = f"<div>{a}{b}</div>"
    assert len(re.findall(r'id="([^"]+)"', page)) == len(ids_a) + len(ids_b)


# --- the tutorial's own cells, Jupyter --------------------------------------------------------


def test_gv_wraps_like_fastbook() -> None:
    import nndiagram

    assert nndiagram.gv is gv
    assert gv("a -> b").source == 'digraph G{ rankdir="LR" a -> b}'


@pytest.mark.exe
def test_every_tutorial_cell_runs_through_gv() -> None:
    cells = re.findall(r"gv\('''(.*?)'''\)", REFERENCE.read_text(encoding="utf-8"), flags=re.S)
    assert len(cells) == 10
    for cell in cells:
        bundle = gv(cell)._repr_mimebundle_()
        assert set(bundle) == {"image/svg+xml"}
        ET.fromstring(bundle["image/svg+xml"])


@pytest.mark.exe
def test_network_shows_itself_as_svg_in_jupyter() -> None:
    network = load_spec(DIAGRAMS / "multilayer.yaml")
    bundle = network._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml"}
    assert "z_1_0" in bundle["image/svg+xml"]
    assert network._repr_mimebundle_(exclude=["image/svg+xml"]) == {}


def test_network_equations_as_latex_on_request() -> None:
    pytest.importorskip("nndiagram.symbolic")
    bundle = Network.from_sizes([2, 1])._repr_mimebundle_(include=["text/latex"])
    assert set(bundle) == {"text/latex"}
    latex = bundle["text/latex"]
    assert r"\[" in latex and "w_0" in latex
    assert not any(line.startswith("%") for line in latex.splitlines())


# --- the backend ------------------------------------------------------------------------------


def test_missing_dot_raises_with_an_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExecutableNotFound, match="apt-get install graphviz"):
        render(Network.from_sizes([2, 1]), "svg")


@pytest.mark.exe
def test_graphviz_failure_shows_its_stderr() -> None:
    with pytest.raises(GraphvizError, match=r"syntax error"):
        run_dot("digraph { a -> }", "svg")


@pytest.mark.exe
def test_dot_is_stopped_after_the_time_limit() -> None:
    with pytest.raises(GraphvizError, match="longer than"):
        run_dot("digraph { a -> b }", "svg", timeout=0.000001)


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="svg, png, pdf, dot"):
        render(Network.from_sizes([2, 1]), "gif")


@pytest.mark.parametrize("labels", ["math", "plain"])
def test_layers_view_gives_each_layers_parameter_count_and_the_total(labels: str) -> None:
    network = Network.from_sizes([784, 128, 64, 10], ["relu", "relu", "softmax"])
    assert network.parameter_count == 109_386
    source = build_dot(network, view="layers", labels=labels)
    for count in ("128·784 + 128 = 100,480", "64·128 + 64 = 8,256", "10·64 + 10 = 650"):
        assert f"{count} parameters" in source
    assert re.search(r'label=<?"?109,386 parameters in total', source)


def test_a_deep_networks_parameter_lines_stay_short() -> None:
    from nndiagram.symbolic import derive

    network = Network.from_sizes([3] * 40, "identity")
    lines = derive(network).to_text().split("\n\n")[1].splitlines()
    assert lines[0] == "Parameters" and lines[3] == "  ⋮" and len(lines) == 6
    assert lines[-1] == f"  total {39 * 12:,}"


def test_named_inputs_are_upright_text_in_diagrams_and_equations(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """A spec's input names are words, not products of italic letters: never <I> in a figure
    (even a one-letter name), \\text{…} in LaTeX."""
    spec = tmp_path / "house.yaml"
    spec.write_text("inputs: [area, t, floor_m2]\nlayers:\n  - units: 1\n")
    source = build_dot(load_spec(spec), view="neuron", labels="math")
    assert "<I>t</I>" not in source and "<I>area</I>" not in source
    assert "<I>w</I><SUB>" in source  # symbols stay italic
    done = run_cli("equations", str(spec))
    assert done.returncode == 0, done.stderr
    assert r"\text{area}" in done.stdout and r"\text{floor\_m2}" in done.stdout
    assert r"\text{t}" in done.stdout and " area " not in done.stdout


def test_layers_view_prints_a_leaky_slope_as_written_never_in_e_notation() -> None:
    from nndiagram.spec import load_spec_text

    for alpha in ("0.00001", "0.123456789"):
        net = load_spec_text(
            "inputs: 2\nlayers:\n"
            f"  - {{units: 2, activation: {{leaky_relu: {{alpha: {alpha}}}}}}}\n"
            "  - {units: 1}\n"
        )
        dot = render(net, "dot", view="layers").decode()
        assert f"LeakyReLU({alpha})" in dot
        assert "e-0" not in dot
