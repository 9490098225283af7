"""Figures with real numbers: `render --params [--input [--sample]]`, ``Figure``, the legend."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import DIAGRAMS, RunCli

from nndiagram.diagram import build_dot
from nndiagram.diagram.numbers import MAX_PEN, MIN_PEN, Numbers, fmt, pen_width
from nndiagram.diagram.theme import THEMES
from nndiagram.errors import UsageError
from nndiagram.model import Network
from nndiagram.notebook import Figure, figure_numbers
from nndiagram.numeric.forward import forward, forward_pass, init_params
from nndiagram.spec.load import load_spec

XOR = str(DIAGRAMS / "xor.yaml")
# Hand-picked weights that solve XOR: hidden unit 0 is OR, hidden unit 1 is NAND.
XOR_PARAMS = {
    "W0": np.array([[6.0, 6.0], [-4.0, -4.0]]),
    "b0": np.array([-3.0, 6.0]),
    "W1": np.array([[9.0, 9.0]]),
    "b1": np.array([-13.0]),
}
XOR_X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
GOLDEN = Path(__file__).parent / "golden" / "numbers" / "xor-sample1.dot"
EDGE = re.compile(r"^\s*(\S+) -> (\S+) \[(.*)\]$")


def edges(source: str) -> dict[tuple[str, str], str]:
    """Each drawn edge's attribute text by (tail, head)."""
    found = {}
    for line in source.splitlines():
        match = EDGE.match(line)
        if match and 'style="invis"' not in match[3]:
            found[(match[1], match[2])] = match[3]
    return found


def attr(attrs: str, name: str) -> str | None:
    match = re.search(rf'\b{name}="?([^",\]]+)"?', attrs)
    return match[1] if match else None


def has_legend(source: str) -> bool:
    return any(
        text in source for text in ("positive weight", "box z: a neuron", "circle x:", "box: one")
    )


def label_text(attrs: str) -> str:
    """The text of an edge's label (placed as ``taillabel`` on the network view's grid)."""
    match = re.search(r"\b(?:tail|head)?label=<(.*)>(?:,|$)", attrs) or re.search(
        r'\blabel="([^"]*)"', attrs
    )
    assert match, attrs
    return html.unescape(re.sub(r"<[^>]*>", "", match[1]))


def write_xor(tmp_path: Path) -> list[str]:
    np.savez(tmp_path / "P.npz", **XOR_PARAMS)
    np.save(tmp_path / "X.npy", XOR_X)
    return ["--params", str(tmp_path / "P.npz"), "--input", str(tmp_path / "X.npy")]


def test_xor_with_weights_and_an_input_matches_the_golden_dot(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """Regenerate with ``NNDIAGRAM_UPDATE_GOLDEN=1``."""
    args = write_xor(tmp_path)
    done = run_cli("render", XOR, *args, "--sample", "1", "--view", "network", "-o", "-",
                   "--format", "dot")  # fmt: skip
    assert done.returncode == 0, done.stderr
    if os.environ.get("NNDIAGRAM_UPDATE_GOLDEN"):
        GOLDEN.write_text(done.stdout, encoding="utf-8")
    assert done.stdout == GOLDEN.read_text(encoding="utf-8")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("view", ["network", "neuron"])
def test_every_weight_edge_is_coloured_by_sign_and_sized_by_magnitude(
    theme: str, view: str
) -> None:
    network = Network.from_sizes([3, 4, 2], ["tanh", "sigmoid"])
    rng = np.random.default_rng(3)
    params = {k: rng.normal(size=v.shape) for k, v in init_params(network).items()}
    source = build_dot(network, view, theme, numbers=Numbers(params))
    drawn = edges(source)
    t = THEMES[theme]
    checked = 0
    for layer in network.layers:
        W = params[f"W{layer.index}"]
        largest = np.abs(W).max()
        for j in range(layer.units):
            for k in range(layer.fan_in):
                tail = f"x_{k}" if layer.index == 0 else _feeding(source, view, layer.index - 1, k)
                head = f"z_{layer.index}_{j}"
                attrs = drawn[(tail, head)]
                assert attr(attrs, "color") == (t.negative if W[j, k] < 0 else t.positive)
                width = float(attr(attrs, "penwidth") or "nan")
                assert width == pytest.approx(pen_width(W[j, k], largest), abs=0.01)
                assert MIN_PEN <= width <= MAX_PEN
                checked += 1
        widths = [float(attr(drawn[e], "penwidth") or 0) for e in drawn if e[1].startswith(
            f"z_{layer.index}_") and not e[0].startswith("bias")]  # fmt: skip
        assert max(widths) == MAX_PEN
    assert checked == 3 * 4 + 4 * 2
    assert t.positive != t.negative


def _feeding(source: str, view: str, layer: int, unit: int) -> str:
    if view == "network":
        return f"a_{layer}_{unit}"
    return f"out_{layer}_{unit}"  # the neuron view's junction point after a hidden neuron


def test_pen_width_grows_with_magnitude_from_a_visible_floor() -> None:
    widths = [pen_width(v, 2.0) for v in (0.0, -0.5, 1.0, -2.0)]
    assert widths == sorted(widths) and widths[0] == MIN_PEN > 0 and widths[-1] == MAX_PEN


def test_printed_values_equal_the_evaluators() -> None:
    network = load_spec(XOR)
    for sample in range(4):
        numbers = figure_numbers(network, XOR_PARAMS, XOR_X, sample)
        source = build_dot(network, "network", numbers=numbers, fmt="dot")
        caches = forward_pass(network, XOR_PARAMS, XOR_X)
        for layer, (Z, A) in enumerate(caches):
            for unit in range(Z.shape[0]):
                assert f"z = {fmt(Z[unit, sample])}<" in _node(source, f"z_{layer}_{unit}")
                assert f"a = {fmt(A[unit, sample])}<" in _node(source, f"a_{layer}_{unit}")
        output = forward(network, XOR_PARAMS, XOR_X)[0, sample]
        assert f"a = {fmt(output)}<" in _node(source, "a_1_0")
        for k in range(2):
            assert f"x = {fmt(XOR_X[k, sample])}<" in _node(source, f"x_{k}")
        for (tail, head), attrs in edges(source).items():
            if tail.startswith("x_") and head.startswith("z_0_"):
                value = XOR_PARAMS["W0"][int(head[-1]), int(tail[-1])]
                assert label_text(attrs).endswith(f" = {fmt(value)}")


def _node(source: str, name: str) -> str:
    return next(line for line in source.splitlines() if line.strip().startswith(f"{name} ["))


def test_values_labels_print_the_numbers_alone() -> None:
    network = load_spec(XOR)
    source = build_dot(network, "network", labels="values", numbers=Numbers(XOR_PARAMS))
    labels = {e: label_text(a) for e, a in edges(source).items() if "label=" in a}
    assert labels[("x_0", "z_0_1")] == "−4"
    assert labels[("a_0_1", "z_1_0")] == "9"
    neuron = build_dot(network, "neuron", labels="values", numbers=Numbers(XOR_PARAMS))
    assert label_text(edges(neuron)[("bias_1_0", "z_1_0")]) == "−13"


def test_elided_layers_colour_the_edges_they_draw_and_dash_the_rest() -> None:
    network = Network.from_sizes([3, 12, 2], "relu", max_neurons=6)
    params = init_params(network, seed=2)
    X = np.linspace(-1, 1, 6).reshape(3, 2)
    source = build_dot(network, "network", numbers=figure_numbers(network, params, X, 1))
    drawn = edges(source)
    assert attr(drawn[("x_0", "z_0_11")], "color") in ("#0072b2", "#d55e00")
    assert attr(drawn[("x_0", "z_0_dots")], "style") == "dashed"
    assert "a = " in _node(source, "a_0_11") and "fillcolor" in _node(source, "a_0_11")


@pytest.mark.parametrize(
    ("view", "params", "legend", "expected"),
    [
        ("network", False, False, False),
        ("network", False, True, True),
        ("neuron", False, True, True),
        ("network", True, False, True),
        ("neuron", True, False, True),
        ("layers", True, False, False),  # colour and width carry nothing in the layers view
        ("layers", True, True, True),
    ],
)
def test_the_legend_is_there_exactly_when_it_should_be(
    view: str, params: bool, legend: bool, expected: bool
) -> None:
    network = load_spec(XOR)
    numbers = Numbers(XOR_PARAMS) if params else None
    source = build_dot(network, view, numbers=numbers, legend=legend)
    assert has_legend(source) == expected
    assert ("positive weight" in source) == (params and view != "layers")


def test_symbolic_legend_names_only_what_the_figure_draws() -> None:
    neuron = build_dot(load_spec(str(DIAGRAMS / "neuron.yaml")), legend=True)
    assert "box z: a neuron" in neuron and "small circle 1" in neuron
    assert "green circle a" not in neuron and "units not drawn" not in neuron
    mnist = Network.from_sizes([784, 128, 10], ["relu", "softmax"])
    wide = build_dot(mnist, "network", legend=True)
    for item in ("green circle a", "softmax box", "small circle b", "units not drawn"):
        assert item in wide, item


def test_fill_legend_only_with_a_sample() -> None:
    network = load_spec(XOR)
    plain = build_dot(network, "network", numbers=Numbers(XOR_PARAMS))
    assert "fill: activation" not in plain and 'fillcolor="#' in plain
    sampled = build_dot(network, "network", numbers=figure_numbers(network, XOR_PARAMS, XOR_X, 2))
    assert "fill: activation a of sample 2, 0 " in sampled


def test_layers_view_prints_norm_and_ranges() -> None:
    network = Network.from_sizes([784, 128, 64, 10], ["relu", "relu", "softmax"])
    params = init_params(network, seed=0)
    X = np.random.default_rng(0).normal(size=(784, 3))
    source = html.unescape(
        build_dot(network, "layers", numbers=figure_numbers(network, params, X, 2))
    )
    W0 = params["W0"]
    assert f"‖W‖ = {fmt(np.linalg.norm(W0))}, W ∈ [{fmt(W0.min())}, {fmt(W0.max())}]" in source
    out = forward(network, params, X)[:, 2]
    assert f"a ∈ [{fmt(out.min())}, {fmt(out.max())}] for sample 2" in source


@pytest.mark.exe
def test_figure_shows_itself_as_svg_in_jupyter() -> None:
    figure = Figure(load_spec(XOR), XOR_PARAMS, XOR_X, sample=3, theme="dark")
    bundle = figure._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert "sample 3" in figure.source() and THEMES["dark"].positive in figure.source()
    with pytest.raises(UsageError, match="give params too"):
        Figure(load_spec(XOR), input=XOR_X)


# --- bad input through the command -----------------------------------------------------------


def refused(run_cli: RunCli, tmp_path: Path, *args: str) -> str:
    out = tmp_path / "out.svg"
    out.write_text("old")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_cli("render", XOR, *args, "-o", str(out))
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert out.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == before
    return done.stderr.strip()


def test_params_of_the_wrong_shape_name_the_array_and_both_shapes(
    run_cli: RunCli, tmp_path: Path
) -> None:
    np.savez(tmp_path / "P.npz", **{**XOR_PARAMS, "W1": np.zeros((2, 2))})
    line = refused(run_cli, tmp_path, "--params", str(tmp_path / "P.npz"))
    assert line == f"{tmp_path / 'P.npz'}:1:1: error: W1 has shape (2, 2) but layer 1 needs (1, 2)"


def test_non_finite_weights_name_the_array_and_the_index(run_cli: RunCli, tmp_path: Path) -> None:
    W0 = XOR_PARAMS["W0"].copy()
    W0[1, 0] = np.inf
    np.savez(tmp_path / "P.npz", **{**XOR_PARAMS, "W0": W0})
    line = refused(run_cli, tmp_path, "--params", str(tmp_path / "P.npz"))
    assert line.endswith("W0 has 1 non-finite value(s) (nan or inf), the first W0[1, 0] = inf")


def test_sample_out_of_range(run_cli: RunCli, tmp_path: Path) -> None:
    line = refused(run_cli, tmp_path, *write_xor(tmp_path), "--sample", "4")
    assert line.endswith("sample 4 is out of range: X has 4 sample(s), numbered 0 to 3")


def test_input_with_the_wrong_number_of_inputs(run_cli: RunCli, tmp_path: Path) -> None:
    args = write_xor(tmp_path)
    np.save(tmp_path / "X.npy", np.zeros((3, 4)))
    line = refused(run_cli, tmp_path, *args)
    assert "X has shape (3, 4) but the network has 2 input(s)" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "X.npy"], "--input and --sample are drawn through the weights: give --params"),
        (["--labels", "values"], "labels 'values' print the weights: give the parameters"),
    ],
)
def test_options_that_need_params(
    run_cli: RunCli, tmp_path: Path, args: list[str], message: str
) -> None:
    assert message in refused(run_cli, tmp_path, *args)


@pytest.mark.exe
def test_render_with_params_writes_png(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "xor.png"
    done = run_cli("render", XOR, *write_xor(tmp_path), "--sample", "2", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"\x89PNG")


@pytest.mark.exe
@pytest.mark.parametrize("labels", ["math", "plain", "values"])
@pytest.mark.parametrize("sample", [None, 1])
def test_figures_with_numbers_are_laid_out_cleanly(labels: str, sample: int | None) -> None:
    """No text on text or nodes, every weight label on its own edge (``layout_check``)."""
    from layout_check import check

    from nndiagram.diagram import render

    for network, params, X in (
        (load_spec(XOR), XOR_PARAMS, XOR_X),
        (Network.from_sizes([3, 4, 2], ["tanh", "softmax"]), None, np.ones((3, 2))),
    ):
        weights = params if params is not None else init_params(network, seed=1)
        numbers = figure_numbers(network, weights, None if sample is None else X, sample or 0)
        report = check(render(network, "svg", view="network", labels=labels, numbers=numbers))
        assert report.problems == [] and report.crossed_labels == []


def test_legend_and_values_options_through_the_command(run_cli: RunCli, tmp_path: Path) -> None:
    def dot(*args: str) -> str:
        done = run_cli("render", XOR, *args, "--format", "dot", "-o", "-")
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert not has_legend(dot())
    assert "circle x: an input" in dot("--legend")
    files = write_xor(tmp_path)[:2]  # --params only
    values = dot(*files, "--labels", "values", "--view", "network")
    assert "positive weight" in values and ">−4</TD>" in values
    assert "<I>w</I>" not in values  # the numbers replace the symbols


HAND_DRAWN = """\
graph: |
  x_0 -> z_0_0
  x_0 -> z_0_1
  x_1 -> z_0_0
  x_1 -> z_0_1
  z_0_0 -> z_1_0
  z_0_1 -> z_1_0
  z_1_0 -> output
"""


def test_a_valid_hand_drawn_graph_carries_numbers(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "hand.yaml"
    spec.write_text(HAND_DRAWN)
    args = write_xor(tmp_path)
    done = run_cli("render", str(spec), *args, "--sample", "1", "--format", "dot", "-o", "-")
    assert done.returncode == 0, done.stderr
    drawn = edges(done.stdout)
    for (tail, head), attrs in drawn.items():
        if head.startswith("z_"):
            layer, unit = int(head[2]), int(head[4])
            k = int(tail[-1])
            value = XOR_PARAMS[f"W{layer}"][unit, k]
            assert attr(attrs, "color") == ("#d55e00" if value < 0 else "#0072b2"), (tail, head)
    linear = forward_pass(Network.from_sizes([2, 2, 1]), XOR_PARAMS, XOR_X)
    assert f"z = {fmt(linear[1][0][0, 1])}<" in _node(done.stdout, "z_1_0")
    assert "positive weight" in done.stdout


def test_an_invalid_graph_has_no_weights_to_draw(run_cli: RunCli, tmp_path: Path) -> None:
    spec = str(DIAGRAMS / "not-fully-connected.yaml")
    done = run_cli("render", spec, *write_xor(tmp_path)[:2], "-o", str(tmp_path / "x.svg"))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"{spec}:1:1: error: not a valid network, so it has no weights to draw: "
        "missing edge x_0 -> z_0_1 (x_0 is on line 7, z_0_1 on line 8) (and 1 more)"
    )
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize("view", ["network", "neuron"])
def test_legend_names_no_colour_the_sample_has_replaced(
    run_cli: RunCli, tmp_path: Path, view: str
) -> None:
    """With --input the circles are filled on the viridis scale, so the --legend rows 'blue
    circle z' and 'green circle a' named colours the figure no longer has."""
    args = write_xor(tmp_path)
    done = run_cli("render", XOR, *args, "--sample", "1", "--view", view, "--legend",
                   "-o", "-", "--format", "dot")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "circle a: the activation a = g(z)" in done.stdout
    assert "blue circle" not in done.stdout and "green circle" not in done.stdout
    weights = run_cli("render", XOR, *args[:2], "--view", "network", "--legend",
                      "-o", "-", "--format", "dot")  # fmt: skip
    assert "blue circle z" in weights.stdout and "green circle a" in weights.stdout
