"""`nndiagram validate` and `nndiagram schema` through the real console script.

The malformed corpus (tests/malformed/, one bad spec per file) is checked against its table
expected.tsv: exit 2, exactly one stderr line `file:line:col: error: key: message`, no
traceback; and loading no hostile file (alias bomb, deep nesting, power tower) takes seconds.
"""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import DIAGRAMS, ROOT, RunCli

from nndiagram.errors import SpecError
from nndiagram.expressions import compile_activation
from nndiagram.spec.load import load_spec

MALFORMED = ROOT / "tests" / "malformed"


def _table() -> dict[str, tuple[int, str | None, str]]:
    rows = {}
    for line in (MALFORMED / "expected.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, number, key, fragment = line.split("\t")
            rows[name] = (int(number), None if key == "-" else key, fragment)
    return rows


TABLE = _table()


@pytest.fixture(scope="module")
def corpus_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run `validate` once per corpus file, two at a time."""
    from conftest import CONSOLE_SCRIPT

    def run(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CONSOLE_SCRIPT), "validate", f"tests/malformed/{name}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    names = sorted(TABLE)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(names, pool.map(run, names), strict=True))


def test_the_corpus_and_its_table_match() -> None:
    files = {p.name for p in MALFORMED.iterdir() if p.name != "expected.tsv"}
    assert files == set(TABLE)
    assert len(files) >= 30


@pytest.mark.slow  # one process per file: ~20 s on an idle 2-core machine
@pytest.mark.parametrize("name", sorted(TABLE))
def test_malformed_spec_is_one_line_exit_2(
    name: str, corpus_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = corpus_runs[name]
    line, key, fragment = TABLE[name]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"tests/malformed/{name}:{line}:"), lines[0]
    _, _, rest = lines[0].partition(": error: ")
    assert rest, lines[0]
    if key is not None:
        assert rest.startswith(f"{key}: "), lines[0]
    assert fragment in rest, lines[0]
    assert result.stdout == ""


@pytest.fixture(scope="module")
def warm_loader() -> None:
    """Import SymPy once, so timings below measure the work on the file, not imports."""
    load_spec(DIAGRAMS / "xor.yaml")
    compile_activation("max(0.01*z, z)")


@pytest.mark.parametrize("name", sorted(TABLE))
def test_malformed_spec_is_refused_quickly(name: str, warm_loader: None) -> None:
    start = time.perf_counter()
    with pytest.raises(SpecError):
        load_spec(MALFORMED / name)
    assert time.perf_counter() - start < 2.0


def test_oversized_file_is_refused_without_parsing(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "huge.yaml"
    spec.write_text("inputs: 2\nlayers:\n  - units: 2\n" + "# padding\n" * 120_000)
    result = run_cli("validate", str(spec))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{spec}:1:1: error: file is larger than 1,000,000 bytes; a spec is a few lines"
    )


def test_missing_file_and_directory(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path / "nope.yaml"), str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'nope.yaml'}:1:1: error: no such file",
        f"{tmp_path}:1:1: error: unknown spec file type '(none)' "
        "(must be one of: .yaml, .yml, .json, .toml)",
    ]


def test_every_shipped_diagram_is_valid_except_the_not_fully_connected_one(
    run_cli: RunCli,
) -> None:
    specs = sorted(str(p.relative_to(ROOT)) for p in DIAGRAMS.glob("*.yaml"))
    assert len(specs) == 12
    valid = [s for s in specs if "not-fully-connected" not in s]
    result = run_cli("validate", *valid)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "diagrams/mnist-mlp.yaml: ok (784-128-64-10)" in result.stdout.splitlines()
    assert "diagrams/xor.yaml: ok (2-2-1)" in result.stdout.splitlines()
    assert "diagrams/deep-linear.yaml: ok (3-4-4-2)" in result.stdout.splitlines()
    assert "diagrams/residual-mlp.yaml: ok (2-2-2-2-2-1)" in result.stdout.splitlines()
    assert len(result.stdout.splitlines()) == 11


def test_not_fully_connected_lists_both_missing_edges(run_cli: RunCli) -> None:
    result = run_cli("validate", "diagrams/not-fully-connected.yaml")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "diagrams/not-fully-connected.yaml: not a valid network: 2 problem(s)",
        "diagrams/not-fully-connected.yaml: missing edge x_0 -> z_0_1 (x_0 is on line 7, z_0_1 "
        "on line 8)",
        "diagrams/not-fully-connected.yaml: missing edge x_1 -> z_0_0 (x_1 is on line 8, z_0_0 "
        "on line 7)",
    ]


def test_whole_directory_exits_1_because_of_one_spec(run_cli: RunCli) -> None:
    specs = sorted(str(p.relative_to(ROOT)) for p in DIAGRAMS.glob("*.yaml"))
    result = run_cli("validate", *specs)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 11
    assert "missing edge x_0 -> z_0_1" in result.stderr


def test_cycle_is_named_with_exit_1(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "cycle.yaml"
    spec.write_text("graph: |\n  x_0 -> z_0_0 -> z_1_0\n  z_1_0 -> z_0_0\n")
    result = run_cli("validate", str(spec))
    assert result.returncode == 1
    assert f"{spec}: cycle z_0_0 -> z_1_0 -> z_0_0" in result.stderr.splitlines()
    assert f"{spec}: edge z_1_0 -> z_0_0 skips or goes back a layer (line 3)" in (
        result.stderr.splitlines()
    )


def test_layer_skipping_edge_is_named_with_its_line(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "skip.yaml"
    spec.write_text(
        "title: skip\ngraph: |\n  x_0 -> z_0_0\n  z_0_0 -> z_1_0\n  x_0 -> z_1_0  // skips\n"
    )
    result = run_cli("validate", str(spec))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{spec}: not a valid network: 1 problem(s)",
        f"{spec}: edge x_0 -> z_1_0 skips or goes back a layer (line 5)",
        f"{spec}: an explicit graph has no skip connections: for a residual or "
        "concatenating network write inputs and layers with add: or concat:",
    ]


def test_valid_explicit_graph_and_formats(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "g.json").write_text(
        json.dumps({"edges": [["x_0", "z_0_0"], ["x_1", "z_0_0"], ["z_0_0", "output"]]})
    )
    (tmp_path / "n.toml").write_text('inputs = ["age", "height"]\n[[layers]]\nunits = 3\n')
    result = run_cli("validate", str(tmp_path / "g.json"), str(tmp_path / "n.toml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'g.json'}: ok (2-1)",
        f"{tmp_path / 'n.toml'}: ok (2-3)",
    ]


def test_schema_is_json_schema_of_the_format(run_cli: RunCli) -> None:
    result = run_cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert {"inputs", "layers", "graph", "edges", "loss", "show", "numbering"} <= set(
        schema["properties"]
    )
    assert schema["properties"]["loss"]["anyOf"][0]["enum"] == ["mse", "bce", "ce"]
    layer = schema["$defs"]["LayerSpec"]
    assert layer["properties"]["units"]["maximum"] == 1_000_000
    assert layer["required"] == ["units"]
    assert run_cli("schema").stdout == result.stdout  # deterministic


def test_several_files_are_all_checked_and_the_worst_exit_code_wins(run_cli: RunCli) -> None:
    result = run_cli(
        "validate",
        "diagrams/xor.yaml",
        "tests/malformed/empty.yaml",
        "diagrams/not-fully-connected.yaml",
        "tests/malformed/units-zero.yaml",
    )
    assert result.returncode == 2
    assert result.stdout == "diagrams/xor.yaml: ok (2-2-1)\n"
    assert result.stderr.splitlines() == [
        "tests/malformed/empty.yaml:1:1: error: the spec is empty",
        "diagrams/not-fully-connected.yaml: not a valid network: 2 problem(s)",
        "diagrams/not-fully-connected.yaml: missing edge x_0 -> z_0_1 (x_0 is on line 7, z_0_1 "
        "on line 8)",
        "diagrams/not-fully-connected.yaml: missing edge x_1 -> z_0_0 (x_1 is on line 8, z_0_0 "
        "on line 7)",
        "tests/malformed/units-zero.yaml:4:12: error: layers[1].units: must be at least 1, got 0",
    ]


def test_whole_corpus_in_one_run_gives_one_line_per_file(run_cli: RunCli) -> None:
    names = sorted(TABLE)
    result = run_cli("validate", *(f"tests/malformed/{name}" for name in names))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == len(names)
    for name, line in zip(names, lines, strict=True):
        assert line.startswith(f"tests/malformed/{name}:{TABLE[name][0]}:")


def test_debug_flag_shows_the_traceback(run_cli: RunCli) -> None:
    result = run_cli("--debug", "validate", "tests/malformed/empty.yaml")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "SpecError" in result.stderr


def test_huge_graph_report_says_it_is_capped(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "wide.yaml"
    spec.write_text("graph: |\n" + "".join(f"  x{i} -> h{i}\n" for i in range(1100)))
    result = run_cli("validate", str(spec))
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first == (
        f"{spec}: not a valid network: 1000 problem(s) (only the first 1,000 missing edges)"
    )
