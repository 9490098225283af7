"""Every command from a new user's side (issue 14): what a first run prints, through the real
console script. Each test names the mistake it guards against."""

from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import CONSOLE_SCRIPT, RunCli

COMMANDS = [
    "validate",
    "schema",
    "render",
    "equations",
    "evaluate",
    "check",
    "gradients",
    "import",
    "train",
    "check-derivation",
    "build",
    "serve",
    "generate",
]


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


@pytest.fixture
def linear(tmp_path: Path) -> dict[str, str]:
    """A 3-2 linear spec, its parameters and a batch of two samples."""
    spec = write(tmp_path / "lin.yaml", "inputs: 3\nlayers:\n  - units: 2\n")
    np.savez(tmp_path / "P.npz", W0=np.arange(6.0).reshape(2, 3) / 7, b0=np.array([0.5, -1.0]))
    np.save(tmp_path / "X.npy", np.array([[1.0, 0.0], [2.0, 1.0], [3.0, -1.0]]))
    return {"spec": spec, "P": str(tmp_path / "P.npz"), "X": str(tmp_path / "X.npy")}


# --- 3: evaluate never writes binary to a terminal ------------------------------------------


def expected(linear: dict[str, str]) -> np.ndarray:
    P = np.load(linear["P"])
    return np.asarray(P["W0"] @ np.load(linear["X"]) + P["b0"][:, None])


def test_evaluate_without_output_prints_the_numbers_as_text(
    run_cli: RunCli, linear: dict[str, str]
) -> None:
    result = run_cli("evaluate", linear["spec"], "--params", linear["P"], "--input", linear["X"])
    assert result.returncode == 0, result.stderr
    assert "NUMPY" not in result.stdout
    rows = [[float(v) for v in line.split()] for line in result.stdout.splitlines()]
    assert np.array_equal(np.array(rows), expected(linear))  # shortest round-trip digits


def test_evaluate_csv_and_txt_outputs_are_text_npy_stays_binary(
    run_cli: RunCli, linear: dict[str, str], tmp_path: Path
) -> None:
    for name in ("Y.csv", "Y.txt", "Y.npy"):
        out = tmp_path / name
        args = ("--params", linear["P"], "--input", linear["X"], "-o", str(out))
        result = run_cli("evaluate", linear["spec"], *args)
        assert result.returncode == 0, result.stderr
        if name.endswith(".npy"):
            assert np.array_equal(np.load(out), expected(linear))
        else:
            delimiter = "," if name.endswith(".csv") else None
            assert np.array_equal(np.loadtxt(out, delimiter=delimiter), expected(linear))


def test_evaluate_dash_pipes_npy_but_refuses_a_terminal(linear: dict[str, str]) -> None:
    args = [str(CONSOLE_SCRIPT), "evaluate", linear["spec"], "--params", linear["P"]]
    args += ["--input", linear["X"], "-o", "-"]
    piped = subprocess.run(args, capture_output=True, timeout=120)
    assert piped.returncode == 0
    assert np.array_equal(np.load(io.BytesIO(piped.stdout)), expected(linear))
    # A pseudo-terminal as stdout: the command must not pour .npy bytes into it.
    leader, follower = os.openpty()
    try:
        tty = subprocess.run(args, stdout=follower, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(follower)
        os.close(leader)
    assert tty.returncode == 2
    assert b"refusing to write binary .npy to a terminal" in tty.stderr


# --- 4: equations -o picks the format from the suffix ----------------------------------------


@pytest.mark.parametrize(
    ("name", "starts"), [("eq.json", "{"), ("eq.txt", ""), ("eq.tex", "% lin")]
)
def test_equations_output_suffix_picks_the_format(
    run_cli: RunCli, linear: dict[str, str], tmp_path: Path, name: str, starts: str
) -> None:
    out = tmp_path / name
    result = run_cli("equations", linear["spec"], "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert text.startswith(starts)
    if name.endswith(".json"):
        import json

        assert "collapsible" in json.loads(text)
    if name.endswith(".txt"):
        assert "\\" not in text.split("\n", 1)[0]  # text form, not LaTeX
        assert text != run_cli("equations", linear["spec"]).stdout


def test_equations_explicit_format_wins_over_the_suffix(
    run_cli: RunCli, linear: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "eq.json"
    result = run_cli("equations", linear["spec"], "--format", "latex", "-o", str(out))
    assert result.returncode == 0
    assert out.read_text() == run_cli("equations", linear["spec"]).stdout


# --- 8 and 12: --debug after the command, help texts, generate on an empty folder ----------


def test_debug_flag_after_the_command_is_accepted(run_cli: RunCli, linear: dict[str, str]) -> None:
    result = run_cli("validate", "--debug", linear["spec"])
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip().endswith("ok (3-2)")


def undocumented(help_text: str) -> list[str]:
    """Arguments listed in an argparse help text without a description."""
    missing: list[str] = []
    lines = help_text.splitlines()
    for i, line in enumerate(lines):
        entry = re.match(r"^  (\S.*?)(?:\s{2,}(\S.*))?$", line)
        if not entry or line.startswith("   "):
            continue
        described = entry.group(2) or (i + 1 < len(lines) and lines[i + 1].startswith("    "))
        if not described:
            missing.append(entry.group(1))
    return missing


def test_help_shows_no_developer_comment_and_every_option_has_help(run_cli: RunCli) -> None:
    top = run_cli("--help")
    assert top.returncode == 0
    assert "No logic lives here" not in top.stdout
    assert "parse arguments" not in top.stdout
    assert undocumented(top.stdout) == []
    for command in COMMANDS:
        result = run_cli(command, "--help")
        assert result.returncode == 0
        assert undocumented(result.stdout) == [], command


def test_generate_on_an_empty_folder_says_so(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "notes.md").write_text("not a spec")
    result = run_cli("generate", str(tmp_path / "specs"), "-o", str(tmp_path / "docs"))
    assert result.returncode == 2
    assert "no spec files (*.yaml, *.yml, *.json, *.toml)" in result.stderr
    assert not (tmp_path / "docs").exists()


# --- 5, 6: parameter names under numbering: 1, a CSV given as input ---------------------------


def test_parameters_named_from_1_get_a_numbering_hint(run_cli: RunCli, tmp_path: Path) -> None:
    spec = write(tmp_path / "n.yaml", "inputs: 3\nlayers:\n  - units: 1\nnumbering: 1\n")
    np.savez(tmp_path / "P.npz", W1=np.ones((1, 3)), b1=np.zeros(1))
    np.save(tmp_path / "X.npy", np.ones((3, 2)))
    args = ("--params", str(tmp_path / "P.npz"), "--input", str(tmp_path / "X.npy"))
    result = run_cli("evaluate", spec, *args)
    assert result.returncode == 2
    assert "missing parameter array(s): W0 (1, 3), b0 (1,)" in result.stderr
    assert "numbered from 0 (W0, b0, W1, …) whatever the spec's numbering" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_csv_input_is_named_as_text_with_the_conversion(
    run_cli: RunCli, linear: dict[str, str], tmp_path: Path
) -> None:
    csv = tmp_path / "X.csv"
    np.savetxt(csv, np.ones((3, 2)), delimiter=",")
    result = run_cli("evaluate", linear["spec"], "--params", linear["P"], "--input", str(csv))
    assert result.returncode == 2
    assert "it looks like text (a CSV?)" in result.stderr
    assert "np.loadtxt" in result.stderr
    assert "allow_pickle" not in result.stderr and "pickle" not in result.stderr


# --- 7: names the tool prints, misspelt keys, bare numbers as layers ---------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    activation: linear\n", "unknown activation 'linear' (did you mean 'identity'?"),
        ("    activation: ReLU\n", "unknown activation 'ReLU' (did you mean 'relu'?"),
        ("    activation: Leaky ReLU\n", "(did you mean 'leaky_relu'?"),
        ("    activation: sigmod\n", "(did you mean 'sigmoid'?"),
        ("    activation: softplus\n", 'write it as {custom: "log(1 + exp(z))"}'),
        ("    activaton: relu\n", "unknown key 'activaton' (did you mean 'activation'?"),
    ],
)
def test_misspelt_layer_values_name_the_accepted_spelling(
    run_cli: RunCli, tmp_path: Path, body: str, expected: str
) -> None:
    spec = write(tmp_path / "e.yaml", "inputs: 2\nlayers:\n  - units: 1\n" + body)
    result = run_cli("validate", spec)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("inputs: 2\nlayers:\n  - unit: 3\n", ":3:5: error: layers[0].unit: unknown key 'unit' "),
        ("inputs: 2\nlayers:\n  - unit: 3\n", "(did you mean 'units'?"),
        ("inputs: 2\nlayer:\n  - units: 1\n", "unknown key 'layer' (did you mean 'layers'?"),
        (
            "inputs: 2\nlayers: [4, 2]\n",
            "a layer is a mapping such as {units: 4, activation: relu}",
        ),
        ("inputs: 2\nlayers: [4, 2]\n", "(write `- units: 4`)"),
        ("inputs: 2\nlayers:\n  - units: 1\nloss: mes\n", "(did you mean 'mse'?"),
        ("inputs: 2\nlayers:\n  - units: 1\nview: neurons\n", "(did you mean 'neuron'?"),
        ("inputs: 2\nlayers:\n  - units: 1\nshow: 3\n", "show is a mapping of keys, not 3"),
    ],
)
def test_spec_mistakes_name_the_key_and_never_pydantic(
    run_cli: RunCli, tmp_path: Path, text: str, expected: str
) -> None:
    result = run_cli("validate", write(tmp_path / "e.yaml", text))
    assert result.returncode == 2
    assert expected in result.stderr
    assert "missing required key" not in result.stderr
    assert "LayerSpec" not in result.stderr and "valid dictionary" not in result.stderr


def test_softmax_over_one_unit_is_named_constant(run_cli: RunCli, tmp_path: Path) -> None:
    spec = write(tmp_path / "s.yaml", "inputs: 2\nlayers:\n  - units: 1\n    activation: softmax\n")
    result = run_cli("validate", spec)
    assert result.returncode == 0
    assert "softmax over one unit is the constant 1" in result.stderr
    assert "use sigmoid" in result.stderr
    two = write(tmp_path / "t.yaml", "inputs: 2\nlayers:\n  - units: 2\n    activation: softmax\n")
    assert run_cli("validate", two).stderr == ""


def test_a_log_loss_on_an_unbounded_output_is_named_by_validate(
    run_cli: RunCli, tmp_path: Path
) -> None:
    # validate said ok while check failed and train refused (a new user's finding).
    body = "inputs: 2\nloss: bce\nlayers:\n  - {units: 2, activation: relu}\n"
    spec = write(tmp_path / "r.yaml", body + "  - {units: 1, activation: relu}\n")
    result = run_cli("validate", spec)
    assert result.returncode == 0
    assert result.stderr == (
        f"{spec}: note: loss: bce takes logs of outputs in (0, 1), and the last layer's ReLU is "
        "not confined to them: check and train will refuse it; use sigmoid or softmax there, "
        "or loss mse\n"
    )
    fine = write(tmp_path / "s.yaml", body + "  - {units: 1, activation: sigmoid}\n")
    assert run_cli("validate", fine).stderr == ""


# --- 9: the Python API validates like a file ---------------------------------------------------


def test_from_sizes_validates_like_a_spec_file() -> None:
    import nndiagram as nd
    from nndiagram.errors import SpecError

    with pytest.raises(SpecError, match=r"unknown activation 'ReLU' \(did you mean 'relu'\?"):
        nd.Network.from_sizes([2, 3, 1], "ReLU")
    with pytest.raises(SpecError, match=r"layers\[0\]\.units: must be at least 1, got 0"):
        nd.Network.from_sizes([2, 0, 1], "relu")
    with pytest.raises(SpecError, match="at least one layer width"):
        nd.Network.from_sizes([2], "relu")
    leaky = nd.Network.from_sizes([2, 3, 1], {"leaky_relu": {"alpha": 0.2}})
    assert [layer.activation.alpha for layer in leaky.layers] == [0.2, 0.2]
    mixed = nd.Network.from_sizes([2, 3, 1], [{"custom": "sin(z)"}, "sigmoid"], loss="bce")
    assert mixed.layers[0].activation.expression == "sin(z)" and mixed.loss == "bce"


def test_spec_from_dict_and_load_spec_text_are_public_and_checked() -> None:
    import nndiagram as nd
    from nndiagram.errors import SpecError

    network = nd.spec_from_dict({"inputs": 2, "layers": [{"units": np.int64(3)}, {"units": 1}]})
    assert network.sizes == (2, 3, 1)
    assert nd.load_spec_text("inputs: 2\nlayers: [{units: 1}]\n").sizes == (2, 1)
    with pytest.raises(SpecError) as caught:
        nd.spec_from_dict({"inputs": 2, "layers": [{"unit": 3}]})
    assert str(caught.value) == (
        "<dict>:1:1: error: layers[0].unit: unknown key 'unit' (did you mean 'units'? "
        "allowed keys: activation, add, concat, name, units)"
    )
    with pytest.raises(SpecError, match="a spec holds numbers, text, lists and dicts, not set"):
        nd.spec_from_dict({"inputs": {1, 2}, "layers": []})


def test_the_package_lists_its_names_for_completion() -> None:
    import nndiagram as nd

    names = dir(nd)
    for name in ("Network", "check", "spec_from_dict", "load_spec_text", "load_spec", "derive"):
        assert name in names and name in nd.__all__
        assert getattr(nd, name) is not None


def test_a_check_report_shows_as_a_table_and_reprs_are_short() -> None:
    import nndiagram as nd

    network = nd.Network.from_sizes([2, 2, 1], "relu")
    report = nd.check(network)
    html = report._repr_html_()
    assert html.count("<tr>") == len(report.checks) + 1
    assert "<th>status</th>" in html and "all checks pass" in html
    assert repr(report).startswith("<Report <spec>: all checks pass (")
    assert "Check(" not in repr(report)
    assert repr(nd.derive(network)) == (
        "<Derivation network 2-2-1, entries: not affine (exact counterexample)>"
    )
    assert "object at 0x" not in repr(nd.derive(nd.Network.from_sizes([2, 1])))


# --- 12: missing edges with lines, the sympy engine's limit ------------------------------------


def test_missing_edges_name_the_lines_of_their_nodes(run_cli: RunCli, tmp_path: Path) -> None:
    spec = write(
        tmp_path / "g.yaml",
        "title: two\ngraph: |\n  x_0 -> z_0_0\n  x_1 -> z_0_1\n  z_0_0 -> output\n"
        "  z_0_1 -> output\n",
    )
    result = run_cli("validate", spec)
    assert result.returncode == 1
    assert f"{spec}: missing edge x_0 -> z_0_1 (x_0 is on line 3, z_0_1 on line 4)" in (
        result.stderr.splitlines()
    )


def test_the_sympy_engine_refusal_names_the_limit_and_the_way_out(
    run_cli: RunCli, tmp_path: Path
) -> None:
    spec = write(tmp_path / "wide.yaml", "inputs: 300\nlayers:\n  - units: 2\n")
    np.savez(tmp_path / "P.npz", W0=np.ones((2, 300)), b0=np.zeros(2))
    np.save(tmp_path / "X.npy", np.ones((300, 2)))
    args = ("--params", str(tmp_path / "P.npz"), "--input", str(tmp_path / "X.npy"))
    result = run_cli("evaluate", spec, *args, "--engine", "sympy")
    assert result.returncode == 2
    assert "layers of 32 units" in result.stderr and "65,536" in result.stderr
    assert "use --engine numpy" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_build_without_a_config_says_where_to_look(run_cli: RunCli, tmp_path: Path) -> None:
    for command in ("build", "serve"):
        result = run_cli(command, cwd=tmp_path)
        assert result.returncode == 2
        assert "config file not found: mkdocs.yml" in result.stderr
        assert "-f path/to/mkdocs.yml" in result.stderr


def test_check_and_derive_take_a_spec_path_as_a_new_user_passes_it() -> None:
    from conftest import DIAGRAMS

    import nndiagram as nd

    assert nd.check(str(DIAGRAMS / "xor.yaml")).passed
    assert repr(nd.derive(DIAGRAMS / "xor.yaml")).startswith("<Derivation xor 2-2-1")
    with pytest.raises(TypeError, match="expected a Network or a spec file's path, not int"):
        nd.check(3)


def test_evaluate_names_what_params_must_be(tmp_path: Path) -> None:
    import nndiagram as nd
    from nndiagram.errors import UsageError

    net = nd.Network.from_sizes([2, 1])
    with pytest.raises(UsageError, match=r"params is a mapping of W0, b0 to arrays .* not list"):
        nd.evaluate(net, [np.ones((1, 2)), np.zeros(1)], np.ones((2, 3)))
    np.savez(tmp_path / "P.npz", W0=np.ones((1, 2)), b0=np.zeros(1))
    with np.load(tmp_path / "P.npz") as params:  # an NpzFile is a mapping too
        assert nd.evaluate(net, params, np.ones((2, 3))).tolist() == [[2.0, 2.0, 2.0]]


def test_check_derivation_given_a_network_spec_points_at_the_right_command(
    run_cli: RunCli, linear: dict[str, str]
) -> None:
    result = run_cli("check-derivation", linear["spec"])
    assert result.returncode == 2
    assert "this is a network spec: `nndiagram validate` or `nndiagram check`" in result.stderr
