"""Skip connections in figures (issue 17): the network view routes each skip through a lane of
its own (an add into a ⊕ over the layer's z column, a concat to dashed copies of the stacked
units under the previous output), the layers view draws ⊕ and the stacked input, the neuron
view draws both the same way (its ⊕ over the rank feeding the box); all pass the layout
checker in math and plain labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RunCli
from layout_check import check
from test_diagram_golden import parse, shown_text

from nndiagram.diagram import build_dot, choose_view, render
from nndiagram.spec.load import load_spec_text

SPEC = """
inputs: 2
layers:
  - units: 2
    activation: tanh
    name: h
  - units: 2
    activation: relu
  - units: 2
    activation: relu
    add: h
  - units: 1
    concat: [input]
"""


def _classes(dot_text: str) -> list[tuple[str, str, str]]:
    dot = parse(dot_text)
    return [(t, h, a.get("class", "")) for t, h, a in dot.edges if "skip" in a.get("class", "")]


def test_network_view_routes_an_add_through_a_lane_into_a_plus_over_z() -> None:
    text = build_dot(load_spec_text(SPEC), view="network")
    dot = parse(text)
    assert dot.nodes["add_2"]["label"] == "+"
    adds = [(t, h) for t, h, c in _classes(text) if c == "skip add"]
    # a^[0]_0 rises into its lane, crosses the columns of layers 1 and 2 to the ⊕, then z^[2]_0
    assert adds[0][0] == "a_0_0" and adds[-1] == ("add_2", "z_2_0")
    lanes = [h for t, h in adds if h.startswith("skip_")]
    assert len(lanes) >= 3 and all(dot.nodes[h]["style"] == "invis" for h in lanes)


def test_network_view_draws_the_stacked_input_as_copies_of_the_concatenated_units() -> None:
    text = build_dot(load_spec_text(SPEC), view="network")
    dot = parse(text)
    copies = [n for n in dot.nodes if n.startswith("concat_3_")]
    assert copies == ["concat_3_x_0", "concat_3_x_1"]
    assert all(dot.nodes[n]["style"] == "dashed" for n in copies)
    # W^[3] reads the copies like any input: one edge from each to z^[3]_0
    assert ("concat_3_x_0", "z_3_0") in {(t, h) for t, h, _ in dot.edges}
    concat = [(t, h) for t, h, c in _classes(text) if c == "skip concat"]
    # the skip ends at the nearest copy, the bottom one: it never runs along the stack
    assert concat[0][0] == "x_1" and concat[-1][1] == "concat_3_x_1"


def test_layers_view_draws_plus_and_the_stacked_input() -> None:
    text = build_dot(load_spec_text(SPEC), view="layers", labels="plain")
    dot = parse(text)
    assert dot.nodes["add_2"]["label"] == "+"
    assert dot.nodes["concat_3"]["label"] == r"a^[2]\nx"  # DOT's line break
    assert "z^[2] = W^[2]a^[1] + b^[2] + a^[0]" in dot.nodes["layer_2"]["label"]
    assert "z^[3] = W^[3][a^[2]; x] + b^[3]" in dot.nodes["layer_3"]["label"]
    assert ("x", "concat_3", "skip concat") in _classes(text)


@pytest.mark.exe
@pytest.mark.parametrize("labels", ["math", "plain"])
@pytest.mark.parametrize("view", ["network", "layers"])
def test_skip_figures_pass_the_layout_checker(view: str, labels: str) -> None:
    report = check(render(load_spec_text(SPEC), "svg", view=view, labels=labels))
    assert report.problems == [] and report.crossed_labels == []


ADD_ONLY = "inputs: 1\nlayers:\n  - units: 1\n  - units: 1\n    add: input\n"


def test_neuron_view_draws_an_add_through_a_lane_and_the_term_in_the_equation() -> None:
    network = load_spec_text(ADD_ONLY)
    text = build_dot(network, view="neuron")
    adds = [(t, h) for t, h, c in _classes(text) if c == "skip add"]
    assert adds[0][0] == "x_0" and adds[-1] == ("add_1", "z_1_0")
    dot = parse(text)
    equation = next(a["taillabel"] for t, h, a in dot.edges if (t, h) == ("z_1_0", "output"))
    assert equation.endswith('+ <I>x</I><SUB><FONT POINT-SIZE="7.2">0</FONT></SUB>>')
    assert check(render(network, "svg", view="neuron")).problems == []


def test_auto_picks_the_neuron_view_for_one_small_layer_with_skips_too() -> None:
    network = load_spec_text("inputs: 1\nlayers:\n  - units: 1\n    add: input\n")
    assert choose_view(network) == "neuron"


@pytest.mark.exe
@pytest.mark.parametrize("labels", ["math", "plain"])
def test_neuron_view_draws_the_stacked_input_as_copies(
    run_cli: RunCli, tmp_path: Path, labels: str
) -> None:
    network = load_spec_text(SPEC)
    dot = parse(build_dot(network, view="neuron", labels=labels))
    assert [n for n in dot.nodes if n.startswith("concat_3_")] == ["concat_3_x_0", "concat_3_x_1"]
    assert ("concat_3_x_1", "z_3_0") in {(t, h) for t, h, _ in dot.edges}
    assert check(render(network, "svg", view="neuron", labels=labels)).problems == []
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    result = run_cli("render", str(spec), "--view", "neuron", "-o", str(tmp_path / "s.svg"))
    assert result.returncode == 0, result.stderr


@pytest.mark.exe
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_skip_figure_with_real_numbers_is_laid_out_cleanly(theme: str) -> None:
    import numpy as np

    from nndiagram.notebook import figure_numbers
    from nndiagram.numeric.forward import init_params

    network = load_spec_text(SPEC)
    X = np.random.default_rng(0).normal(size=(2, 3))
    numbers = figure_numbers(network, init_params(network, 2), X, sample=1)
    svg = render(network, "svg", view="network", theme=theme, numbers=numbers)
    assert check(svg).problems == []
    # A copy of a concatenated unit carries its column of W: W1[0, 1] for x_0 under z^[0]_0.
    small = load_spec_text("inputs: 1\nlayers:\n  - units: 1\n  - units: 1\n    concat: [input]\n")
    params = {"W0": [[0.5]], "b0": [0.0], "W1": [[0.25, -0.75]], "b1": [0.0]}
    text = build_dot(small, view="network", labels="values", numbers=figure_numbers(small, params))
    labels = {(t, h): shown_text(a.get("taillabel", "")) for t, h, a in parse(text).edges}
    assert labels[("z_0_0", "z_1_0")] == "0.25" and labels[("concat_1_x_0", "z_1_0")] == "−0.75"
