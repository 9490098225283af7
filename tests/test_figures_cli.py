"""Figures and equations of a user's own networks (issue 13), through the real command."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunCli


def _spec(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_index_rule_in_figures_equations_and_text(run_cli: RunCli, tmp_path: Path) -> None:
    """Single-digit indices run together (w_{01}) in the LaTeX, the terminal text and the
    figure alike; a matrix numbered past 9 separates every entry's indices (w_{3,5})."""
    small = _spec(tmp_path, "small", "inputs: 3\nlayers:\n  - {units: 2}\n  - {units: 1}\n")
    latex = run_cli("equations", str(small)).stdout
    assert r"w^{[0]}_{01}" in latex and r"w^{[0]}_{0,1}" not in latex
    text = run_cli("equations", str(small), "--format", "text").stdout
    assert "w⁽⁰⁾₀₁" in text and "₀‚₁" not in text
    dot = run_cli("render", str(small), "--view", "network", "-o", "-", "--format", "dot")
    assert dot.returncode == 0, dot.stderr
    assert '<FONT POINT-SIZE="7.2">01</FONT></SUB>' in dot.stdout
    assert '<FONT POINT-SIZE="7.2">0,1</FONT></SUB>' not in dot.stdout
    plain = run_cli(
        "render", str(small), "--view", "network", "--labels", "plain", "-o", "-", "--format", "dot"
    )
    assert "w^[0&#93;_0,1" in plain.stdout  # plain labels: the tutorial's ASCII, comma kept

    wide = _spec(tmp_path, "wide", "inputs: 12\nlayers:\n  - {units: 2}\n  - {units: 1}\n")
    latex = run_cli("equations", str(wide)).stdout
    assert r"w^{[0]}_{0,5}" in latex and r"w^{[0]}_{0,11}" in latex
    assert r"w^{[0]}_{05}" not in latex  # never mixed within one matrix or equation
    assert r"w^{[1]}_{01}" in latex  # the 1x2 matrix keeps the tutorial's spelling
    neuron = run_cli("render", str(wide), "--view", "neuron", "-o", "-", "--format", "dot")
    assert '<FONT POINT-SIZE="7.2">0,1</FONT></SUB>' in neuron.stdout
    assert '<FONT POINT-SIZE="7.2">01</FONT></SUB> <I>x' not in neuron.stdout


def _edges(dot: str) -> set[tuple[str, str]]:
    import re

    return set(re.findall(r"^\s*(\S+) -> (\S+)(?: \[(?!style=\"invis\")|$)", dot, re.M))


def test_neuron_view_draws_softmax_as_one_block(run_cli: RunCli, tmp_path: Path) -> None:
    """Each a_j depends on every z: the neuron view, like the network view, runs every z of a
    softmax layer into one block and every a out of it (no z_j -> a_j arrow)."""
    spec = _spec(tmp_path, "soft", "inputs: 2\nlayers:\n  - {units: 3, activation: softmax}\n")
    result = run_cli("render", str(spec), "--view", "neuron", "-o", "-", "--format", "dot")
    assert result.returncode == 0, result.stderr
    edges = _edges(result.stdout)
    assert 'softmax_0 [label="softmax"' in result.stdout
    for j in range(3):
        assert (f"z{j}_end", "softmax_0") in edges and ("softmax_0", f"a_{j}") in edges
        assert (f"z{j}", f"a_{j}") not in edges
        assert (f"z{j}", f"z{j}_end") in edges  # the neuron's own equation edge
    assert 'softmax(<I>z</I>)<SUB><FONT POINT-SIZE="7.2">0</FONT></SUB>' in result.stdout
    network = run_cli("render", str(spec), "--view", "network", "-o", "-", "--format", "dot")
    assert ("softmax_0", "a_0") in _edges(network.stdout)  # the same picture in both views
    relu = _spec(tmp_path, "relu", "inputs: 2\nlayers:\n  - {units: 3, activation: relu}\n")
    plain = run_cli("render", str(relu), "--view", "neuron", "-o", "-", "--format", "dot")
    assert ("z0", "a_0") in _edges(plain.stdout) and "softmax" not in plain.stdout


def _aspect(svg: Path) -> float:
    import xml.etree.ElementTree as ET

    width, height = (float(v) for v in ET.parse(svg).getroot().get("viewBox", "").split()[2:])
    return width / height


def test_a_deep_network_view_folds_into_rows(run_cli: RunCli, tmp_path: Path) -> None:
    """An explicit --view network of an 8-layer net of width 3 was one 2524x282 pt strip (9:1);
    folded into rows it stays within about 3:1. Shallow networks keep their single row."""
    layers = "".join("  - {units: 3, activation: tanh}\n" for _ in range(7))
    deep = _spec(tmp_path, "deep", f"inputs: 2\nlayers:\n{layers}  - {{units: 1}}\n")
    out = tmp_path / "deep.svg"
    result = run_cli("render", str(deep), "--view", "network", "-o", str(out))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert _aspect(out) <= 3.2
    text = out.read_text(encoding="utf-8")
    assert "from the row above · layer 3" in text and "a_3_0_carried" in text
    import re

    found = re.findall(r'<text[^>]* y="([-\d.]+)"[^>]*>([^<]*)<', text)
    rows = {label: float(y) for y, label in found}  # the second row's captions on one line
    assert abs(rows["from the row above · layer 3"] - rows["layer 4 · hidden · 3 · tanh"]) < 1
    assert abs(rows["layer 7 · output · 1 · linear"] - rows["layer 4 · hidden · 3 · tanh"]) < 1
    shallow = _spec(tmp_path, "shallow", "inputs: 3\nlayers:\n  - {units: 4}\n  - {units: 2}\n")
    out = tmp_path / "shallow.svg"
    assert run_cli("render", str(shallow), "--view", "network", "-o", str(out)).returncode == 0
    assert "carried" not in out.read_text(encoding="utf-8")


def test_a_deep_neuron_view_folds_into_rows(run_cli: RunCli, tmp_path: Path) -> None:
    """--view neuron of 10 layers of 4 units was one 6791x242 pt strip (28:1); like the network
    view it folds into rows, each after the first starting with the previous row's outputs
    again (dashed, captioned). Shallow figures keep their single row."""
    for depth in (8, 10):
        layers = "".join("  - {units: 4, activation: relu}\n" for _ in range(depth - 1))
        deep = _spec(tmp_path, f"deep{depth}", f"inputs: 2\nlayers:\n{layers}  - {{units: 1}}\n")
        out = tmp_path / f"deep{depth}.svg"
        result = run_cli("render", str(deep), "--view", "neuron", "-o", str(out))
        assert result.returncode == 0 and result.stderr == "", result.stderr
        assert _aspect(out) <= 3.2
        text = out.read_text(encoding="utf-8")
        assert "from the row above · layer" in text and "_carried" in text
    shallow = _spec(tmp_path, "shallow", "inputs: 3\nlayers:\n  - {units: 4}\n  - {units: 2}\n")
    out = tmp_path / "shallow.svg"
    assert run_cli("render", str(shallow), "--view", "neuron", "-o", str(out)).returncode == 0
    assert "carried" not in out.read_text(encoding="utf-8")


def test_equations_of_wide_layers_break_into_readable_lines(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """``nndiagram equations`` printed the expanded composition of a 3-4-2 net as one
    455-character LaTeX line (520 bytes of text): long equations now break before a + into
    aligned lines (LaTeX) or indented lines of at most 100 characters (text)."""
    spec = _spec(
        tmp_path,
        "c342",
        "inputs: 3\nlayers:\n  - {units: 4, activation: relu}\n"
        "  - {units: 2, activation: softmax}\n",
    )
    latex = run_cli("equations", str(spec))
    assert latex.returncode == 0, latex.stderr
    lines = latex.stdout.splitlines()
    head = r"\[ \begin{aligned} a^{[1]}_0"
    (start,) = [i for i, line in enumerate(lines) if line.startswith(head)]
    assert r"a^{[1]}_0 &= g^{[1]}\bigl(" in lines[start]
    assert lines[start + 1].startswith(r"    &\quad + ")
    assert lines[start].endswith(r" \\") and r"\end{aligned} \]" in lines[start + 4]
    assert all(len(line) <= 140 for line in lines if r"\begin{bmatrix}" not in line)
    text = run_cli("equations", str(spec), "--format", "text").stdout.splitlines()
    assert all(len(line) <= 100 for line in text), max(text, key=len)
    (first,) = [i for i, line in enumerate(text) if line.startswith("  a⁽¹⁾₀ = g⁽¹⁾(")]
    assert text[first + 1].startswith(" " * 10 + "+ ")  # under the right-hand side


def _centres(svg: Path) -> dict[str, float]:
    """Node title -> the y of its middle (ellipse, box outline or text), from dot's SVG."""
    import re
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    out = {}
    for group in ET.parse(svg).getroot().iter(f"{ns}g"):
        title, ellipse = group.find(f"{ns}title"), group.find(f"{ns}ellipse")
        polygon, path = group.find(f"{ns}polygon"), group.find(f"{ns}path")
        text = group.find(f"{ns}text")
        if group.get("class") != "node" or title is None:
            continue
        if ellipse is not None:
            out[str(title.text)] = float(ellipse.get("cy", "nan"))
        elif polygon is not None or path is not None:  # a box: the middle of its outline
            outline = polygon.get("points", "") if polygon is not None else path.get("d", "")  # type: ignore[union-attr]
            ys = [float(y) for y in re.findall(r"[\d.]+,(-?[\d.]+)", outline)]
            out[str(title.text)] = (min(ys) + max(ys)) / 2
        elif text is not None:  # plain text: its baseline, about 4 pt under its middle
            out[str(title.text)] = float(text.get("y", "nan")) - 4
    return out


def test_each_z_is_level_with_its_a_in_the_network_view(run_cli: RunCli, tmp_path: Path) -> None:
    """With three named inputs and 2 hidden units the a column (which also holds the next
    layer's bias) was centred a row higher than the z column: every z_j -> a_j arrow slanted."""
    spec = _spec(
        tmp_path,
        "house",
        "inputs: [area, rooms, age]\nlayers:\n  - {units: 2, activation: relu}\n  - {units: 1}\n",
    )
    out = tmp_path / "house.svg"
    assert run_cli("render", str(spec), "--view", "network", "-o", str(out)).returncode == 0
    y = _centres(out)
    assert abs(y["z_0_0"] - y["a_0_0"]) < 1 and abs(y["z_0_1"] - y["a_0_1"]) < 1


def test_neuron_view_puts_each_input_level_with_a_box(run_cli: RunCli, tmp_path: Path) -> None:
    """The tutorial's layer figure (2 inputs, 2 neurons) had x_0 and x_1 level with the bias
    circles, every weight edge slanting; with no more inputs than the widest layer has units,
    each input now sits on a box's row."""
    layer = tmp_path / "layer.svg"
    spec = "diagrams/layer.yaml"
    assert run_cli("render", spec, "--view", "neuron", "-o", str(layer)).returncode == 0
    y = _centres(layer)
    assert abs(y["x_0"] - y["z0"]) < 3 and abs(y["x_1"] - y["z1"]) < 3
    assert y["bias_0"] < y["z0"] - 30  # the bias circle stays above its box


def test_a_folded_figure_with_numbers_carries_the_values_over(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """With --params and --input, the neurons carried to the next row show the same sample
    value and fill as the originals (dashed), so the second row reads on its own."""
    import itertools
    import re

    import numpy as np

    sizes = [2, 3, 3, 3, 3, 3, 3, 3, 1]
    layers = "".join("  - {units: 3, activation: tanh}\n" for _ in range(7))
    spec = _spec(tmp_path, "deep", f"inputs: 2\nlayers:\n{layers}  - {{units: 1}}\n")
    rng = np.random.default_rng(0)
    params = {}
    for i, (fan_in, units) in enumerate(itertools.pairwise(sizes)):
        params[f"W{i}"], params[f"b{i}"] = rng.normal(size=(units, fan_in)), rng.normal(size=units)
    np.savez(tmp_path / "P.npz", **params)
    np.save(tmp_path / "X.npy", rng.normal(size=(2, 1)))
    args = ["--params", str(tmp_path / "P.npz"), "--input", str(tmp_path / "X.npy")]
    result = run_cli("render", str(spec), "--view", "network", *args, "-o", "-", "--format", "dot")
    assert result.returncode == 0, result.stderr
    nodes = dict(re.findall(r"^\s*(a_3_0(?:_carried)?) \[(.*)\]$", result.stdout, re.M))
    value = re.search(r"a = [-\d.]+", nodes["a_3_0"])
    assert value is not None and value.group() in nodes["a_3_0_carried"]
    fill = re.search(r'fillcolor="([^"]+)"', nodes["a_3_0"])
    assert fill is not None and f'fillcolor="{fill.group(1)}"' in nodes["a_3_0_carried"]
    assert 'style="filled,dashed"' in nodes["a_3_0_carried"]


def test_the_mnist_layers_figure_fits_a_page(run_cli: RunCli, tmp_path: Path) -> None:
    """diagrams/mnist-mlp.yaml (view: layers, 3 layers) was a 904x142 pt strip (6.4:1); it
    folds into two rows, the input level with the first layer."""
    out = tmp_path / "mnist.svg"
    assert run_cli("render", "diagrams/mnist-mlp.yaml", "-o", str(out)).returncode == 0
    assert _aspect(out) <= 3.2
    y = _centres(out)
    assert abs(y["x"] - y["layer_0"]) < 3 and y["layer_2"] > y["layer_0"] + 100


def test_real_numbers_on_an_elided_network_do_not_stretch_it_into_a_strip(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """A new user's 3-7-13-1 with max_neurons 3 and --params: the labels `w = value` did not fit
    at any row spacing tried and the smallest-area fallback drew a 7676 x 414 pt strip (18:1).
    Rows now move further apart (up to 4 spacings of gap) before labels are left out."""
    import numpy as np

    spec = _spec(
        tmp_path,
        "odd.yaml",
        "inputs: [area, rooms, age]\nnumbering: 1\nmax_neurons: 3\nlayers:\n"
        "  - {units: 7, activation: {leaky_relu: {alpha: 0.1}}}\n"
        "  - {units: 13, activation: {custom: 'z/(1+abs(z))'}}\n  - {units: 1}\n",
    )
    rng = np.random.default_rng(1)
    shapes = {"W0": (7, 3), "b0": (7,), "W1": (13, 7), "b1": (13,), "W2": (1, 13), "b2": (1,)}
    np.savez(tmp_path / "P.npz", **{k: rng.normal(size=s) for k, s in shapes.items()})
    out = tmp_path / "odd.svg"
    done = run_cli("render", str(spec), "--view", "network", "--params", str(tmp_path / "P.npz"),
                   "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _aspect(out) <= 6.0
    assert "= −" in out.read_text() or "= 0." in out.read_text()  # the values are still drawn
