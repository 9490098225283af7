"""Skip connections in figures (issue 17): the network view routes each skip through a lane of
its own (an add into a ⊕ over the layer's z column, a concat to dashed copies of the stacked
units under the previous output), the layers view draws ⊕ and the stacked input, the neuron
view draws both the same way (its ⊕ over the rank feeding the box); all pass the layout
checker in math and plain labels."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest
from conftest import RunCli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
    # a^[0]_0 rises into its lane (the segment written top down, undirected, as the column's
    # order runs), crosses the columns of layers 1 and 2 to the ⊕, then enters z^[2]
    assert adds[0][1] == "a_0_0" and adds[-1] == ("add_2", "z_2_0")
    assert next(a for t, h, a in dot.edges if (t, h) == adds[0])["dir"] == "none"
    lanes = [t for t, h in adds if t.startswith("skip_")]
    assert len(lanes) >= 3 and all(dot.nodes[t]["style"] == "invis" for t in lanes)
    # the sum is element-wise: every unit of z^[2] wears the double ring, no other neuron
    rings = {n for n, a in dot.nodes.items() if a.get("peripheries") == "2"}
    assert rings == {"z_2_0", "z_2_1"}


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
    assert adds[0][1] == "x_0" and adds[-1] == ("add_1", "z_1_0")
    dot = parse(text)
    # the ⊕'s arrow ends at the box's corner, clear of the bias's arrow; the box is doubled
    assert next(a for t, h, a in dot.edges if (t, h) == adds[-1])["headport"] == "nw"
    assert dot.nodes["z_1_0"]["peripheries"] == "2" and "peripheries" not in dot.nodes["z_0_0"]
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


# --- the figures as pictures: geometry of the SVG that dot writes ------------------------------

SKIP_CORPUS = {
    # 4-4-4-3: an add two layers back and a concat of the input into a softmax layer
    "mix": """
inputs: 4
layers:
  - {units: 4, activation: relu, name: h1}
  - {units: 4, activation: relu}
  - {units: 4, activation: relu, add: h1}
  - {units: 3, activation: softmax, concat: [input]}
""",
    # an add of the layer right below (the neuron view has no lane column for it) and a concat
    "adjacent": """
inputs: 4
layers:
  - {units: 4, activation: relu, name: h1}
  - {units: 4, activation: relu, add: h1}
  - {units: 3, activation: identity, concat: [input]}
""",
    # a residual chain: an add every two layers
    "chain": "inputs: 3\nlayers:\n"
    + "".join(
        f"  - {{units: 3, activation: relu{', add: ' + str(i - 2) if i % 2 == 0 and i else ''}}}\n"
        for i in range(7)
    ),
    # 10-wide layers drawn 3 at a time
    "elided": """
inputs: 10
max_neurons: 3
layers:
  - {units: 10, activation: relu, name: h1}
  - {units: 10, activation: relu}
  - {units: 10, activation: relu, add: h1}
  - {units: 10, activation: relu, concat: [input]}
  - {units: 2}
""",
    # three concats of the input (one into two copies' worth of stack) and a long add
    "stacked": """
inputs: 3
layers:
  - {units: 3, activation: relu, name: h0}
  - {units: 3, activation: relu, concat: [input]}
  - {units: 3, activation: relu, concat: [input, h0]}
  - {units: 3, activation: relu, add: h0}
  - {units: 1, concat: [input]}
""",
    # named inputs, numbering from 1, both kinds of skip from different sources
    "named": """
inputs: [age, income, score]
numbering: 1
layers:
  - {units: 3, activation: tanh, name: first}
  - {units: 3, activation: tanh, add: input}
  - {units: 2, activation: sigmoid, concat: [first]}
""",
}


def _skip_paths(svg: str, kind: str = "edge") -> dict[str, tuple[str, list[tuple[float, float]]]]:
    """Each skip edge's kind (add, concat) and line by its title (``tail->head``); with
    ``kind="node"`` every node drawn as a path (its class, its outline's points)."""
    import re
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    out = {}
    for group in ET.fromstring(svg).iter(f"{ns}g"):
        classes = (group.get("class") or "").split()
        if kind not in classes[:1] or (kind == "edge" and "skip" not in classes):
            continue
        if group.find(f"{ns}path") is None:
            continue
        title = "".join(group.find(f"{ns}title").itertext())  # type: ignore[union-attr]
        d = group.find(f"{ns}path").get("d")  # type: ignore[union-attr]
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d or "")]
        out[title] = (classes[-1], list(zip(numbers[0::2], numbers[1::2], strict=True)))
    return out


def _lane_start(paths: dict[str, tuple[str, list[tuple[float, float]]]], waypoint: str) -> str:
    """The first waypoint of the lane that ``waypoint`` (``skip_i_c``) belongs to."""
    lane = waypoint.rsplit("_", 1)[0] + "_"
    return min(
        (t.split("->")[1] for t in paths if t.split("->")[1].startswith(lane)),
        key=lambda w: int(w.rsplit("_", 1)[1]),
    )


def _centres(svg: str) -> dict[str, tuple[float, float]]:
    from layout_check import parse_svg

    centres = {}
    for item in parse_svg(svg):
        if item.kind == "node" and item.shapes:
            shape = item.shapes[0]
            if shape.ellipse is not None:
                centres[item.title] = shape.ellipse[:2]
            else:
                xs = [p[0] for p in shape.polygon]
                ys = [p[1] for p in shape.polygon]
                centres[item.title] = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    # a rounded box (the layers view's blocks) is a path, not a polygon
    for title, (_, points) in _skip_paths(svg, "node").items():
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        centres.setdefault(title, ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
    return centres


@pytest.mark.exe
@pytest.mark.parametrize("view", ["network", "neuron"])
@pytest.mark.parametrize("name", sorted(SKIP_CORPUS))
def test_skip_lanes_run_straight_and_concat_lanes_stay_level_with_their_copy(
    name: str, view: str
) -> None:
    """An add leaves its source straight up (no kink, no bend from a second edge between the
    same nodes), its lane is level; a concat lane runs under the layers it skips, level with
    the copy it ends at, never dipping to the bottom of the tallest column (a V)."""
    network = load_spec_text(SKIP_CORPUS[name])
    svg = render(network, "svg", view=view)
    paths, centres = _skip_paths(svg), _centres(svg)
    assert paths
    lanes = ("skip_", "add_")  # waypoints and ⊕ (the copies' names may be quoted codes)
    pitch = min(  # between neighbouring rows of one column
        abs(a[1] - b[1])
        for a, b in itertools.combinations(centres.values(), 2)
        if abs(a[0] - b[0]) < 1.0 and abs(a[1] - b[1]) > 1.0
    )
    for title, (kind, points) in paths.items():
        tail, head = title.split("->")
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if kind == "add" and tail.startswith("skip_") and not head.startswith(lanes):
            # an add's first segment, written from its lane down to the source: vertical
            assert max(xs) - min(xs) < 0.5, title
            assert ys[0] < ys[-1] and ys == sorted(ys), title  # monotonic: no kink
        elif kind == "add" and tail.startswith("add_") and view == "network":
            assert max(xs) - min(xs) < 0.5, title  # the ⊕ straight over z
        elif kind == "concat" and tail.startswith("skip_") and not head.startswith(lanes):
            # The last stretch of a concat lane: it runs in the shallowest row under the
            # columns it passes, level with its copy when they leave room; never lower than
            # one row under the lowest node between its ends (the old lane ran under the
            # tallest column of the whole figure and rose in a V).
            source = next(t for t in paths if t.endswith("->" + _lane_start(paths, tail)))
            x0, x1 = paths[source][1][0][0], points[-1][0]
            between = [y for n, (x, y) in centres.items() if x0 + 1 < x < x1 - 1]
            copy_y = centres[head][1]
            # (SVG y grows downwards; a bias circle's row may sit a few points off the pitch)
            assert ys[0] <= max([copy_y, *between]) + 1.25 * pitch, title
            if ys[0] > copy_y + 1.0:  # not level: because a node in between is that low
                assert max(between) + 1.25 * pitch > ys[0], title
    # units keep their order down every column (nothing shuffled by the skips)
    for node, (_, y) in centres.items():
        parts = node.split("_")
        if len(parts) == 3 and parts[0] in ("z", "a") and parts[2].isdigit():
            below = f"{parts[0]}_{parts[1]}_{int(parts[2]) + 1}"
            assert below not in centres or centres[below][1] > y, (node, below)


@pytest.mark.exe
@pytest.mark.parametrize("labels", ["math", "plain"])
@pytest.mark.parametrize("view", ["network", "neuron", "layers"])
@pytest.mark.parametrize("name", sorted(SKIP_CORPUS))
def test_skip_corpus_passes_the_layout_checker(name: str, view: str, labels: str) -> None:
    """The checker sees the skip edges, their labels, the ⊕ and the copies too (their SVG
    class is ``edge skip add`` / ``node skip concat copy``); no skip edge crosses a label."""
    report = check(render(load_spec_text(SKIP_CORPUS[name]), "svg", view=view, labels=labels))
    assert report.problems == []
    skip_titles = ("skip_", "add_", "concat_")
    crossed = [
        (a, b)
        for a, b in report.crossed_labels
        if any(t in a.split("->")[0] or t in b.split("->")[0] for t in skip_titles)
        and view != "neuron"
    ]
    assert crossed == []


@pytest.mark.exe
@pytest.mark.parametrize("name", sorted(set(SKIP_CORPUS) - {"adjacent"}))  # skips no block
def test_layers_view_keeps_the_chain_straight_and_curves_the_skips_around_it(name: str) -> None:
    """The blocks sit on one line (the skipped block is not lifted to make room for the ⊕);
    every ⊕ lies off that line, the skip curving over or under the blocks it skips."""
    centres = _centres(render(load_spec_text(SKIP_CORPUS[name]), "svg", view="layers"))
    ordered = sorted(
        (int(t.split("_")[1]), y) for t, (_, y) in centres.items() if t.startswith("layer_")
    )
    blocks = [y for _, y in ordered]
    plus = [y for title, (_, y) in centres.items() if title.startswith("add_")]
    # No block lifted off the line between its neighbours (the ⊕ used to push the skipped
    # block some 60 pt up). After a stacked input the line may step down a little: the edge
    # in enters the stack's first cell, the edge out leaves its middle.
    for before, block, after in zip(blocks, blocks[1:], blocks[2:], strict=False):
        assert not (block < min(before, after) - 12 or block > max(before, after) + 12)
    assert all(abs(y - blocks[0]) > 30 for y in plus)  # off the line, over or under it


@pytest.mark.exe
def test_legend_names_the_skip_marks(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    for view, words in (
        ("network", ["double outline", "dashed circles"]),
        ("layers", ["dashed edge: a skip"]),
    ):
        out = tmp_path / f"{view}.dot"
        result = run_cli("render", str(spec), "--view", view, "--legend", "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert all(word in out.read_text() for word in words), view


@st.composite
def _skip_specs(draw: st.DrawFn) -> str:
    """Random 2-6 layer networks, widths 1-6, each layer maybe adding an earlier output (the
    previous one included; its width set to match) and maybe concatenating some; elided or not,
    named inputs or not, numbering 0 or 1, bias and weight labels on or off."""
    depth = draw(st.integers(2, 6))
    inputs = draw(st.integers(1, 6))
    widths = [inputs]
    lines = []
    for i in range(depth):
        earlier = ["input", *map(str, range(i - 1))]  # outputs before the previous one
        units = draw(st.integers(1, 6))
        extra = ""
        if draw(st.booleans()):  # the previous output too: z = W a + b + a
            source = draw(st.sampled_from(["input", *map(str, range(i))]))
            units = widths[0 if source == "input" else int(source) + 1]
            extra += f", add: {source}"
        if i and draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=2, unique=True))
            extra += f", concat: [{', '.join(chosen)}]"
        activation = draw(st.sampled_from(["relu", "tanh", "identity", "sigmoid"]))
        lines.append(f"  - {{units: {units}, activation: {activation}{extra}}}")
        widths.append(units)
    names = [f"in{k}" for k in range(inputs)]
    head = f"inputs: [{', '.join(names)}]" if draw(st.booleans()) else f"inputs: {inputs}"
    base = draw(st.sampled_from([0, 1]))
    if base:  # layer numbers as the figures print them
        lines = [
            re.sub(r"(add: |concat: \[|, )(\d+)", lambda m: m[1] + str(int(m[2]) + 1), line)
            for line in lines
        ]
    show = f"show: {{bias: {draw(st.booleans())}, weights: {draw(st.booleans())}}}".lower()
    elide = f"max_neurons: {draw(st.sampled_from([3, 8]))}"
    return "\n".join([head, f"numbering: {base}", elide, show, "layers:", *lines]) + "\n"


@pytest.mark.exe
@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("NNDIAGRAM_LAYOUT_EXAMPLES", "20")),
    deadline=None,
    derandomize=True,  # the same examples on every run
    suppress_health_check=[HealthCheck.too_slow],
)
@given(spec=_skip_specs(), view=st.sampled_from(["network", "neuron", "layers"]))
def test_generated_skip_networks_are_laid_out_cleanly(spec: str, view: str) -> None:
    network = load_spec_text(spec)
    svg = render(network, "svg", view=view)
    report = check(svg)
    assert report.problems == [], spec
    skip_titles = ("skip_", "add_")
    crossed = [
        (a, b) for a, b in report.crossed_labels if b.startswith(skip_titles) and view != "neuron"
    ]
    assert crossed == [], spec


def test_neuron_view_add_from_the_layer_right_below_rises_into_the_plus_with_its_arrow() -> None:
    """No lane: the dashed edge rises straight from the junction into the ⊕ above it, written
    top down (straight) with the arrow at the ⊕ end, and names the added vector."""
    dot = parse(build_dot(load_spec_text(SKIP_CORPUS["adjacent"]), view="neuron"))
    rise = next(a for t, h, a in dot.edges if (t, h) == ("add_1", "out_0_0"))
    assert rise["dir"] == "back" and rise["arrowtail"] == "normal"
    assert "[0]" in rise["xlabel"]
