"""``nndiagram equations`` through the real console script."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from nndiagram.model import Naming, Network
from nndiagram.notation import latex_document_lines
from nndiagram.symbolic import derive
from tests.conftest import CONSOLE_SCRIPT, DIAGRAMS, RunCli

GOLDEN = Path(__file__).parent / "golden" / "latex"


def test_latex_on_stdout_matches_golden(run_cli: RunCli) -> None:
    """The golden file is ``to_latex()``; the command prints it with its long equations broken
    into aligned lines (issue 13), and nothing else changed."""
    result = run_cli("equations", str(DIAGRAMS / "multilayer.yaml"))
    assert result.returncode == 0, result.stderr
    golden = (GOLDEN / "multilayer.tex").read_text(encoding="utf-8")
    assert result.stdout == latex_document_lines(golden)
    assert result.stdout != golden  # multilayer has a 205-character composition


def test_text_is_unicode_for_terminals(run_cli: RunCli) -> None:
    result = run_cli("equations", str(DIAGRAMS / "multilayer.yaml"), "--format", "text")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  w⁽⁰⁾ = [w₀₀, w₀₁; w₁₀, w₁₁]" in lines
    assert "  z⁽⁰⁾₀ = w⁽⁰⁾₀₀·x₀ + w⁽⁰⁾₀₁·x₁ + b⁽⁰⁾₀" in lines
    assert "  z⁽¹⁾ = W·x + (w⁽¹⁾·b⁽⁰⁾ + b⁽¹⁾) = W·x + B" in lines
    assert "\\" not in result.stdout  # no LaTeX leaks into the text form


def test_json_has_every_equation_and_the_collapse(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "eq.json"
    result = run_cli(
        "equations", str(DIAGRAMS / "deep-linear.yaml"), "--format", "json", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["collapsible"] is True and data["proof_holds"] is True and data["explicit"] is True
    assert data["network"]["sizes"] == [3, 4, 4, 2]
    assert {"latex", "text", "srepr"} <= set(data["W"]) and {"latex", "text", "srepr"} <= set(
        data["B"]
    )
    assert data["W"]["latex"].startswith(r"\begin{bmatrix}")
    for equation in data["equations"]:
        assert set(equation) == {"name", "section", "latex", "text", "srepr"}
        assert equation["latex"] and equation["text"] and equation["srepr"]
    names = [e["name"] for e in data["equations"]]
    assert names[:3] == ["x", "w[0]", "b[0]"] and "proof" in names and "cost" in names


def test_json_of_a_nonlinear_network_carries_the_counterexample(run_cli: RunCli) -> None:
    result = run_cli("equations", str(DIAGRAMS / "mnist-mlp.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["collapsible"] is False and data["explicit"] is False and "W" not in data
    example = data["counterexample"]
    assert example["params"]["W0"] == {"shape": [128, 784], "nonzero": [[0, 0, "1"]]}
    assert example["params"]["b2"] == {"shape": [10], "nonzero": []}
    assert example["method"].startswith("certified evalf")
    shapes = [e["latex"] for e in data["equations"] if e["name"] == "w[0]"]
    assert shapes == [r"w^{[0]} \in \mathbb{R}^{128 \times 784}"]


def test_numbering_from_one_changes_every_symbol(run_cli: RunCli) -> None:
    result = run_cli("equations", str(DIAGRAMS / "multilayer.yaml"), "--numbering", "1")
    assert result.returncode == 0, result.stderr
    latex = result.stdout
    assert r"x = \begin{bmatrix} x_1 \\ x_2 \end{bmatrix}" in latex
    assert r"w^{[1]} = \begin{bmatrix} w_{11} & w_{12} \\ w_{21} & w_{22} \end{bmatrix}" in latex
    assert r"z^{[2]} = w^{[2]} z^{[1]} + b^{[2]}" in latex
    assert r"z^{[1]}_1 = w^{[1]}_{11} x_1 + w^{[1]}_{12} x_2 + b^{[1]}_1" in latex
    assert "w^{[0]}" not in latex and "x_0" not in latex and "_{0" not in latex


def test_numbering_one_in_the_library() -> None:
    network = Network.from_sizes([2, 2, 1], naming=Naming(base=1))
    names = {eq.name for eq in derive(network).equations}
    assert {"w[1]", "w[2]", "z1_1", "z2_1"} <= names


def test_output_is_byte_identical_across_processes() -> None:
    # Different hash seeds: nothing may depend on set or dict-of-symbols iteration order.
    outputs = []
    for seed in ("1", "2"):
        result = subprocess.run(
            [str(CONSOLE_SCRIPT), "equations", str(DIAGRAMS / "xor.yaml"), "--format", "json"],
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["equations"]


def test_bad_spec_is_one_line_and_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("inputs: 2\nlayers:\n  - units: 2\n    activation: relu6\n", encoding="utf-8")
    result = run_cli("equations", str(spec))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "relu6" in result.stderr
    assert result.stdout == ""


def test_invalid_network_exits_1(run_cli: RunCli) -> None:
    result = run_cli("equations", str(DIAGRAMS / "not-fully-connected.yaml"))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "missing edge x_0 -> z_0_1" in result.stderr


def test_text_and_json_give_each_layers_shapes_and_parameter_count(run_cli: RunCli) -> None:
    spec = str(DIAGRAMS / "mnist-mlp.yaml")  # 784-128-64-10
    text = run_cli("equations", spec, "--format", "text")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    start = lines.index("Parameters")
    assert lines[start + 1 : start + 5] == [
        "  w⁽⁰⁾ 128×784 + b⁽⁰⁾ 128 = 100,480",
        "  w⁽¹⁾ 64×128 + b⁽¹⁾ 64 = 8,256",
        "  w⁽²⁾ 10×64 + b⁽²⁾ 10 = 650",
        "  total 109,386",
    ]
    data = json.loads(run_cli("equations", spec, "--format", "json").stdout)
    assert data["parameters"] == {
        "layers": [
            {"W": [128, 784], "b": [128], "count": 100_480},
            {"W": [64, 128], "b": [64], "count": 8_256},
            {"W": [10, 64], "b": [10], "count": 650},
        ],
        "total": 109_386,
    }


def test_text_activations_read_as_the_spec_writes_them(run_cli: RunCli, tmp_path: Path) -> None:
    """The text form printed SymPy's own spelling: ``Max(0, z)`` for ReLU,
    ``Piecewise((z, z > 0), (z/10, True))`` for leaky ReLU and ``Abs(z)`` in a custom
    activation, while the derivative beside it read ``1 for z > 0, 0.1 for z ≤ 0``."""
    spec = tmp_path / "acts.yaml"
    spec.write_text(
        "inputs: 1\nlayers:\n  - {units: 2, activation: relu}\n"
        "  - {units: 2, activation: {leaky_relu: {alpha: 0.1}}}\n"
        "  - {units: 2, activation: {leaky_relu: {alpha: 2}}}\n"
        "  - {units: 1, activation: {custom: 'z/(1+abs(z)) + min(z, 0)'}}\n"
    )
    done = run_cli("equations", str(spec), "--format", "text")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("Activation functions\n", 1)[1].splitlines()
    assert lines[0] == "  g⁽⁰⁾(z) = max(0, z)"
    assert lines[2] == "  g⁽¹⁾(z) = max(0.1·z, z)"
    assert lines[4] == "  g⁽²⁾(z) = z for z > 0, 2·z for z ≤ 0"
    assert lines[6] == "  g⁽³⁾(z) = z/(1 + abs(z)) + min(0, z)"
    assert "abs(z)" in lines[7]
    assert not re.search(r"Max|Min|Abs|Piecewise", done.stdout)


def test_no_collapse_of_one_named_input_reads_cleanly(run_cli: RunCli, tmp_path: Path) -> None:
    """A 1-input regression net with its input named t read 'f(t) = … at t = t, every other
    input 0': there is no other input, and t was both the input and the variable."""
    spec = tmp_path / "reg.yaml"
    spec.write_text("inputs: [t]\nlayers:\n  - {units: 3, activation: relu}\n  - {units: 1}\n")
    text = run_cli("equations", str(spec), "--format", "text")
    assert text.returncode == 0, text.stderr
    assert "  f(u) = z⁽¹⁾₀ at t = u\n" in text.stdout and "every other input" not in text.stdout
    latex = run_cli("equations", str(spec)).stdout
    assert r"f(u) = z^{[1]}_0 \quad \text{at } \text{t} = u \]" in latex
    spec.write_text("inputs: [area, t]\nlayers:\n  - {units: 3, activation: relu}\n")
    two = run_cli("equations", str(spec), "--format", "text").stdout
    assert "at area = t, every other input 0" in two
