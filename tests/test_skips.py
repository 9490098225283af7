"""Skip connections in the spec (issue 17): ``add``, ``concat`` and ``name`` on a layer.

The bad inputs are also in the malformed corpus (tests/malformed/skip-*.yaml, checked one
process per file by the slow corpus test); here they run through ``validate`` in one process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, RunCli

from nndiagram.errors import SpecError
from nndiagram.model import INPUT
from nndiagram.spec import fast, readers
from nndiagram.spec.load import load_spec_text, spec_json_schema

RESIDUAL = """
inputs: 3
layers:
  - units: 3
    activation: relu
    name: h
  - units: 3
    add: input
  - units: 2
    concat: [h, input]
"""


def test_add_and_concat_resolve_to_sources_and_concat_sums_the_fan_in() -> None:
    network = load_spec_text(RESIDUAL)
    first, second, third = network.layers
    assert (first.name, first.add, first.concat, first.fan_in) == ("h", None, (), 3)
    assert (second.add, second.concat, second.fan_in) == (INPUT, (), 3)
    # W2 multiplies [a1; a0; x]: 3 + 3 + 3 columns, in that order.
    assert (third.add, third.concat, third.weight_shape) == (None, (0, INPUT), (2, 9))
    assert third.sources == (1, 0, INPUT)
    assert network.has_skips and not load_spec_text("inputs: 2\nlayers: [{units: 1}]").has_skips
    assert network.parameter_count == 3 * 3 + 3 + 3 * 3 + 3 + 2 * 9 + 2


@pytest.mark.parametrize(("numbering", "ref", "source"), [(0, 0, 0), (1, 1, 0), (1, 2, 1)])
def test_layer_numbers_count_from_the_specs_numbering(
    numbering: int, ref: int, source: int
) -> None:
    text = f"numbering: {numbering}\ninputs: 2\nlayers:\n" + "  - units: 2\n" * 2
    text += f"  - units: 2\n    add: {ref}\n"
    assert load_spec_text(text).layers[2].add == source


def test_references_keep_their_meaning_when_the_command_line_renumbers() -> None:
    text = "inputs: 2\nlayers:\n  - units: 2\n  - units: 2\n  - units: 2\n    add: 0\n"
    assert load_spec_text(text, numbering=1).layers[2].add == 0


def test_the_fast_reader_declines_every_spec_with_skips() -> None:
    for key, value in (("add", "input"), ("concat", ["input"]), ("name", "h")):
        data = {"inputs": 2, "layers": [{"units": 2}, {"units": 2, key: value}]}
        assert fast.accept(data) is None


def test_json_schema_describes_the_new_keys() -> None:
    layer = spec_json_schema()["$defs"]["LayerSpec"]["properties"]
    assert {"add", "concat", "name"} <= set(layer)
    assert "summed fan-in" in layer["concat"]["description"]


BAD = {
    "skip-add-self.yaml": "layers[1].add: layer 1 cannot take its own output",
    "skip-add-later.yaml": "layers[0].add: layer 0 cannot take the output of layer 2",
    "skip-unknown-name.yaml": "did you mean 'hidden'?",
    "skip-duplicate-name.yaml": "layers[1].name: duplicate layer name 'h'",
    "skip-add-width.yaml": "layer 1 has 4 unit(s) but the input has 3",
    "skip-concat-duplicate.yaml": "layers[2].concat[2]: concat of the input again",
    "skip-concat-previous.yaml": "layers[1].concat[0]: concat of layer 0 again",
    "skip-in-graph.yaml": "add: add belongs to a layer",
}


def test_every_bad_reference_is_one_line_exit_2_through_validate(run_cli: RunCli) -> None:
    names = sorted(BAD)
    result = run_cli("validate", *(f"tests/malformed/{name}" for name in names))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(names)
    for name, line in zip(names, lines, strict=True):
        assert line.startswith(f"tests/malformed/{name}:"), line
        assert ": error: " in line and BAD[name] in line, line


def test_bad_reference_points_at_the_value() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_text("inputs: 3\nlayers:\n  - units: 3\n  - units: 4\n    add: input\n")
    error = caught.value
    assert (error.line, error.column, error.key) == (5, 10, "layers[1].add")
    assert "4 unit(s) but the input has 3" in error.message


def test_a_skipping_edge_in_a_graph_says_what_to_write_instead(
    run_cli: RunCli, tmp_path: Path
) -> None:
    spec = tmp_path / "g.yaml"
    spec.write_text("graph: |\n  x_0 -> z_0_0\n  z_0_0 -> z_1_0\n  x_0 -> z_1_0\n")
    result = run_cli("validate", str(spec))
    assert result.returncode == 1
    assert "write inputs and layers with add: or concat:" in result.stderr.splitlines()[-1]


def test_valid_skip_spec_validates(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "residual.yaml"
    spec.write_text(RESIDUAL)
    result = run_cli("validate", str(spec))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{spec}: ok (3-3-3-2)\n"


def test_corpus_files_exist() -> None:
    for name in BAD:
        assert (ROOT / "tests" / "malformed" / name).is_file()
    data, _ = readers.read_yaml(RESIDUAL, "r.yaml")
    assert fast.accept(data) is None
