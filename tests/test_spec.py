"""spec.py: the version-1 format, read from YAML, JSON and TOML, built into a Network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DIAGRAMS

from nndiagram import activations
from nndiagram.errors import SpecError
from nndiagram.model import ActivationChoice, Naming, Network, Show
from nndiagram.spec import load as spec
from nndiagram.spec.load import load_spec, load_spec_text, parse_activation, spec_json_schema

XOR_YAML = """\
title: XOR
inputs: 2
layers:
  - units: 2
    activation: sigmoid
  - units: 1
    activation: sigmoid
loss: bce
"""


def _error(text: str, fmt: str = "yaml") -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, path="s", fmt=fmt)
    return info.value


# --- the shipped diagrams -------------------------------------------------------------------

SIZES = {
    "neuron": (2, 1),
    "layer": (2, 2),
    "multilayer": (2, 2, 1),
    "not-fully-connected": (2, 2, 1),
    "layer-3": (2, 3),
    "neuron-activation": (2, 1),
    "multilayer-activation": (2, 2, 1),
    "mnist-mlp": (784, 128, 64, 10),
    "xor": (2, 2, 1),
    "deep-linear": (3, 4, 4, 2),
}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_each_diagram_loads_with_its_sizes(name: str) -> None:
    network = load_spec(DIAGRAMS / f"{name}.yaml")
    assert network.sizes == SIZES[name]
    assert network.source == str(DIAGRAMS / f"{name}.yaml")
    assert network.name == name
    assert network.title


def test_diagram_details_follow_the_tutorial() -> None:
    mnist = load_spec(DIAGRAMS / "mnist-mlp.yaml")
    assert [layer.activation.name for layer in mnist.layers] == ["relu", "relu", "softmax"]
    assert mnist.loss == "ce"
    assert [layer.fan_in for layer in mnist.layers] == [784, 128, 64]
    xor = load_spec(DIAGRAMS / "xor.yaml")
    assert [layer.activation.name for layer in xor.layers] == ["sigmoid", "sigmoid"]
    assert xor.loss == "bce"
    assert load_spec(DIAGRAMS / "deep-linear.yaml").is_linear
    assert load_spec(DIAGRAMS / "neuron.yaml").view == "neuron"
    activated = load_spec(DIAGRAMS / "multilayer-activation.yaml")
    assert activated.has_generic and activated.show.activations
    multilayer = load_spec(DIAGRAMS / "multilayer.yaml")
    assert multilayer.show == Show(bias=False, weights=False, activations=False, equations=True)
    nfc = load_spec(DIAGRAMS / "not-fully-connected.yaml")
    assert nfc.graph is not None and not nfc.graph.is_valid


# --- building the model ---------------------------------------------------------------------


def test_defaults_of_a_minimal_spec() -> None:
    network = load_spec_text("inputs: 3\nlayers:\n  - units: 1\n")
    assert network == Network(
        inputs=3,
        layers=(network.layers[0],),
        naming=Naming(0, ()),
        source="<spec>",
    )
    layer = network.layers[0]
    assert (layer.index, layer.units, layer.fan_in) == (0, 1, 3)
    assert layer.activation == ActivationChoice("identity")
    assert (network.view, network.labels, network.max_neurons, network.loss) == (
        "auto",
        "math",
        8,
        None,
    )
    assert network.show == Show()


def test_every_option_reaches_the_model() -> None:
    network = load_spec_text(
        "title: 'Quotes \" and <tags> & $x$'\n"
        "description: |\n  line one\n  line two\n"
        "inputs: [age, height]\n"
        "layers:\n"
        "  - {units: 3, activation: {leaky_relu: {alpha: 0.2}}}\n"
        "  - {units: 1, activation: {custom: 'max(0.01*z, z)'}}\n"
        "loss: mse\nview: layers\nlabels: plain\nmax_neurons: 5\nnumbering: 1\n"
        "show: {bias: false, equations: false}\n"
    )
    assert network.title == 'Quotes " and <tags> & $x$'
    assert network.description == "line one\nline two\n"
    assert network.naming == Naming(1, ("age", "height"))
    assert network.naming.input(1) == "height"
    assert network.layers[0].activation == ActivationChoice("leaky_relu", alpha=0.2)
    assert network.layers[1].activation == ActivationChoice("custom", expression="max(0.01*z, z)")
    assert (network.loss, network.view, network.labels, network.max_neurons) == (
        "mse",
        "layers",
        "plain",
        5,
    )
    assert network.show == Show(bias=False, weights=True, activations=True, equations=False)


def test_leaky_relu_forms_default_to_the_tutorials_alpha() -> None:
    for form in (
        "leaky_relu",
        "{leaky_relu: {}}",
        "{leaky_relu: null}",
        "{leaky_relu: {alpha: 0.01}}",
    ):
        network = load_spec_text(f"inputs: 1\nlayers:\n  - units: 1\n    activation: {form}\n")
        assert network.layers[0].activation == ActivationChoice("leaky_relu", alpha=0.01), form


def test_numbering_from_the_spec_and_the_override() -> None:
    text = "inputs: 2\nlayers:\n  - units: 2\nnumbering: 1\n"
    assert load_spec_text(text).naming.base == 1
    assert load_spec_text(text, numbering=0).naming.base == 0
    assert load_spec_text(text.replace("numbering: 1\n", ""), numbering=1).naming.neuron(0, 0) == (
        "z_1_1"
    )
    with pytest.raises(SpecError, match="numbering must be 0 or 1"):
        load_spec_text(text, numbering=2)
    with pytest.raises(SpecError, match="numbering must be 0 or 1"):
        load_spec_text(text, numbering=True)
    for flag in ("true", "false"):
        error = _error(text.replace("numbering: 1", f"numbering: {flag}"))
        assert (error.key, error.line) == ("numbering", 4)
        assert error.message == f"unknown numbering {flag} (must be one of: 0, 1)"


def test_load_spec_numbering_argument(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text("inputs: 2\nlayers:\n  - units: 2\n")
    assert load_spec(path, numbering=1).naming.base == 1
    assert load_spec(str(path)).naming.base == 0


def test_the_same_spec_in_three_formats_is_the_same_network(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(XOR_YAML)
    (tmp_path / "x.yml").write_text(XOR_YAML)
    (tmp_path / "x.json").write_text(
        json.dumps(
            {
                "title": "XOR",
                "inputs": 2,
                "layers": [
                    {"units": 2, "activation": "sigmoid"},
                    {"units": 1, "activation": "sigmoid"},
                ],
                "loss": "bce",
            },
            indent=2,
        )
    )
    (tmp_path / "x.toml").write_text(
        'title = "XOR"\ninputs = 2\nloss = "bce"\n'
        '[[layers]]\nunits = 2\nactivation = "sigmoid"\n'
        '[[layers]]\nunits = 1\nactivation = "sigmoid"\n'
    )
    networks = [load_spec(tmp_path / f"x.{ext}") for ext in ("yaml", "yml", "json", "toml")]
    reference = networks[0]
    for network in networks:
        assert network.sizes == (2, 2, 1)
        assert network.layers == reference.layers
        assert (network.title, network.loss) == ("XOR", "bce")
    assert load_spec(tmp_path / "x.yaml") == reference  # deterministic


def test_utf8_bom_and_unicode_text_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(
        b"\xef\xbb\xbftitle: R\xc3\xa9seau \xe2\x9c\x93\ninputs: 1\nlayers: [{units: 1}]\n"
    )
    assert load_spec(path).title == "Réseau ✓"


def test_utf16_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "wide.yaml"
    path.write_bytes("inputs: 1\nlayers: [{units: 1}]\n".encode("utf-16"))
    with pytest.raises(SpecError, match="the file is UTF-16; save it as UTF-8"):
        load_spec(path)


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_is_named_as_such(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "wider.yaml"
    text = "inputs: 1\nlayers: [{units: 1}]\n"
    bom = "\ufeff" if codec != "utf-32" else ""
    path.write_bytes((bom + text).encode(codec))
    with pytest.raises(SpecError, match="the file is UTF-32; save it as UTF-8"):
        load_spec(path)


def test_limits_are_inclusive() -> None:
    big = load_spec_text("inputs: 1000000\nlayers:\n  - units: 1000000\n")
    assert big.sizes == (10**6, 10**6)
    deep = load_spec_text("inputs: 1\nlayers:\n" + "  - units: 1\n" * 1000)
    assert len(deep.layers) == 1000
    with pytest.raises(SpecError, match="at most 1,000,000 units per layer"):
        load_spec_text("inputs: 1\nlayers:\n  - units: 1000001\n")
    with pytest.raises(SpecError, match="between 1 and 1,000,000"):
        load_spec_text("inputs: 1000001\nlayers:\n  - units: 1\n")


def test_input_names_are_restricted() -> None:
    ok = load_spec_text("inputs: [c, C_2, " + "x" * 32 + "]\nlayers: [{units: 1}]\n")
    assert ok.inputs == 3
    notation = ("b", "w_01", "a", "z_1", "W", "y")  # would print as the equations' symbols
    for bad in ("_a", "a-b", "é", "x" * 33, "'a b'", "output", "a_0_1", "3", *notation):
        error = _error(f"inputs: [ok, {bad}]\nlayers: [{{units: 1}}]\n")
        assert error.key == "inputs[1]", bad
        assert error.line == 1


def test_names_are_shared_with_the_activation_registry() -> None:
    assert spec.NAMES == activations.NAMES
    assert spec.DEFAULT_LEAKY_ALPHA == activations.DEFAULT_LEAKY_ALPHA


# --- errors carry positions -----------------------------------------------------------------


def test_yaml_error_points_at_the_value() -> None:
    error = _error("inputs: 2\nlayers:\n  - units: 2\n  - units: 1\n    activation: relu6\n")
    assert (error.path, error.line, error.column, error.key) == ("s", 5, 17, "layers[1].activation")
    assert str(error) == (
        "s:5:17: error: layers[1].activation: unknown activation 'relu6' (write it as "
        '{custom: "min(max(z, 0), 6)"}; must be one of: '
        "custom, generic, identity, leaky_relu, relu, sigmoid, softmax, tanh)"
    )


def test_custom_expression_error_points_at_the_bad_token() -> None:
    plain = _error("inputs: 1\nlayers:\n  - units: 1\n    activation: {custom: exp(q)}\n")
    assert (plain.line, plain.column, plain.key) == (4, 30, "layers[0].activation.custom")
    assert plain.message.endswith("at character 5")
    quoted = _error("inputs: 1\nlayers:\n  - units: 1\n    activation:\n      custom: 'z + y'\n")
    assert (quoted.line, quoted.column) == (5, 20)
    # A folded value is not verbatim on one line: the error points at the value itself.
    folded = _error(
        "inputs: 1\nlayers:\n  - units: 1\n    activation:\n      custom: >\n        z + y\n"
    )
    assert (folded.line, folded.column) == (5, 15)


def test_number_or_date_where_text_belongs_suggests_quotes() -> None:
    for title in ("2024", "2024-01-01", "yes", "1.5"):
        error = _error(f"title: {title}\ninputs: 1\nlayers: [{{units: 1}}]\n")
        assert error.key == "title" and "put text in quotes" in error.message, title
    error = _error("inputs: [on, off]\nlayers: [{units: 1}]\n")
    assert error.key == "inputs[0]" and "put the name in quotes" in error.message


def test_unknown_key_points_at_the_key() -> None:
    error = _error("inputs: 2\nlayers:\n  - units: 2\n    dropout: 0.5\n")
    assert (error.line, error.column, error.key) == (4, 5, "layers[0].dropout")
    assert "allowed keys: activation, add, concat, name, units" in error.message


def test_json_errors_have_positions() -> None:
    text = '{\n  "inputs": 2,\n  "layers": [\n    {"units": 2},\n    {"units": 0}\n  ]\n}\n'
    error = _error(text, "json")
    assert (error.line, error.column, error.key) == (5, 15, "layers[1].units")
    error = _error('{"inputs": 2, "inputs": 2}', "json")
    assert (error.line, error.column) == (1, 15)
    assert "duplicate key 'inputs'" in error.message
    for bad in ("{", "[1, 2", '{"a" 1}', "{'a': 1}", "NaN", "01", '"\\x"', "{} {}", '"a\tb"'):
        assert _error(bad, "json").message.startswith("invalid JSON: "), bad


def test_json_nesting_is_bounded_before_recursion() -> None:
    error = _error('{"title": ' + "[" * 5000 + "]" * 5000 + "}", "json")
    assert "nested deeper than 64 levels" in error.message


def test_toml_errors_have_positions() -> None:
    error = _error("inputs = 2\n[[layers]]\nunits = 2\n[[layers]]\nunits = 2\nfoo = 1\n", "toml")
    assert (error.line, error.key) == (6, "layers[1].foo")
    error = _error("inputs = 2\ninputs = 3\n", "toml")
    assert error.line == 2 and error.message.startswith("invalid TOML")


def test_unknown_suffix_and_format(tmp_path: Path) -> None:
    path = tmp_path / "spec.ini"
    path.write_text("inputs: 2\n")
    with pytest.raises(SpecError, match=r"must be one of: \.yaml, \.yml, \.json, \.toml"):
        load_spec(path)
    with pytest.raises(SpecError, match="must be one of: yaml, json, toml"):
        load_spec_text("inputs: 2", fmt="ini")


def test_inline_text_limits() -> None:
    assert "NUL" in _error("inputs: 2\0").message
    assert "longer than" in _error("#" * 1_000_001).message


def test_largest_edges_list_fits_the_yaml_node_budget() -> None:
    # 100 sources by 100 targets (a chain of 10,000 edges is over the 1,000-layer cap)
    pairs = "".join(f"  - [n{i // 100}, m{i % 100}]\n" for i in range(10_000))
    network = load_spec_text("edges:\n" + pairs)
    assert network.graph is not None and len(network.graph.edges) == 10_000
    assert network.graph.edges[-1].line == 10_001
    with pytest.raises(SpecError, match="more than 10,000 edges"):
        load_spec_text("edges:\n" + pairs + "  - [n100, m100]\n")


def test_an_explicit_graph_has_the_layer_cap_of_layers() -> None:
    chain = "".join(f"  - [n{i}, n{i + 1}]\n" for i in range(1_001))
    with pytest.raises(SpecError, match=r"edges: at most 1,000 layers, got 1,001"):
        load_spec_text("edges:\n" + chain)
    network = load_spec_text("edges:\n" + chain.rsplit("  - ", 1)[0])
    assert len(network.layers) == 1_000


def test_alias_within_budget_is_expanded() -> None:
    network = load_spec_text(
        "inputs: 2\nlayers:\n  - &hidden {units: 2, activation: relu}\n  - *hidden\n"
    )
    assert network.sizes == (2, 2, 2)


def test_choosing_the_network_form() -> None:
    assert "needs layers" in _error("title: nothing\n").message
    assert _error("inputs: 2\n").message.startswith("a spec needs layers")
    error = _error("edges: [[x_0, z]]\ngraph: 'x_0 -> z'\n")
    assert error.key == "edges" and "only one of" in error.message


# --- explicit graphs in specs ---------------------------------------------------------------


def test_graph_spec_builds_network_from_inferred_columns() -> None:
    network = load_spec_text(
        "title: t\ngraph: |\n  x_0 -> z_0_0 -> a_0_0 -> z_1_0\n  x_1 -> z_0_0\n"
        "  z_1_0 -> a_1_0 -> output\n"
    )
    assert network.sizes == (2, 1, 1)
    assert network.naming.input_names == ()  # the default names: numbering still applies
    assert [layer.activation.name for layer in network.layers] == ["generic", "generic"]
    assert network.graph is not None and network.graph.is_valid
    assert network.graph.layers == (("x_0", "x_1"), ("z_0_0",), ("z_1_0",), ("output",))


def test_graph_spec_keeps_custom_input_names_and_lines() -> None:
    network = load_spec_text("# comment\ngraph: |\n  age -> h\n  height -> h\n  age -> out\n")
    assert network.naming.input_names == ("age", "height")
    assert network.graph is not None
    assert [e.line for e in network.graph.edges] == [3, 4, 5]
    assert network.graph.skipping == ()
    assert [(e.source, e.target) for e in network.graph.missing] == [("height", "out")]


def test_toml_multiline_graph_lines() -> None:
    network = load_spec_text('title = "t"\ngraph = """\nx_0 -> h\nx_1 -> h\n"""\n', fmt="toml")
    assert network.graph is not None
    assert [e.line for e in network.graph.edges] == [3, 4]


def test_edges_list_lines_and_json_graph_lines() -> None:
    network = load_spec_text("edges:\n  - [x_0, z_0_0]\n  - [x_0, z_1_0]\n  - [z_0_0, z_1_0]\n")
    assert network.graph is not None
    assert [(e.source, e.target, e.line) for e in network.graph.skipping] == [("x_0", "z_1_0", 3)]
    network = load_spec_text('{\n"graph": "a1 -> b1\\na1 -> c1"\n}', fmt="json")
    assert network.graph is not None
    assert {e.line for e in network.graph.edges} == {2}


# --- activation text on its own (the activation-plot fence) ----------------------------------


def test_parse_activation() -> None:
    assert parse_activation("relu") == ActivationChoice("relu")
    assert parse_activation("{leaky_relu: {alpha: 0.1}}") == ActivationChoice(
        "leaky_relu", alpha=0.1
    )
    assert parse_activation('{custom: "tanh(z)"}') == ActivationChoice(
        "custom", expression="tanh(z)"
    )
    with pytest.raises(SpecError, match="unknown activation 'swish'"):
        parse_activation("swish")


def test_schema_has_editor_help() -> None:
    schema = spec_json_schema()
    assert schema["properties"]["inputs"]["description"]
    assert schema["$defs"]["LayerSpec"]["properties"]["units"]["minimum"] == 1
    assert schema["properties"]["numbering"]["enum"] == [0, 1]


def test_yaml_keys_are_text_as_written() -> None:
    error = _error("inputs: 1\nlayers: [{units: 1}]\ntrue: 1\n")
    assert (error.line, error.key) == (3, "true")
    assert error.message.startswith("unknown key 'true' (allowed keys: description,")
    error = _error("inputs: 1\nlayers: [{units: 1, 3: 4}]\n")
    assert error.key == "layers[0]['3']"
    assert load_spec_text('"inputs": 1\n!!str layers: [{units: 1}]\n').sizes == (1, 1)


def test_the_error_written_first_is_reported() -> None:
    error = _error("loss: hinge\ninputs: 1\nlayers: [{units: 0}]\n")
    assert (error.line, error.key) == (1, "loss")
    error = _error("inputs: 1\nlayers: [{units: 0}]\nloss: hinge\n")
    assert (error.line, error.key) == (2, "layers[0].units")


def test_toml_sub_tables_of_array_tables_are_located() -> None:
    text = (
        "inputs = 2\n[[layers]]\nunits = 2\n[[layers]]\nunits = 1\n"
        "[layers.activation.leaky_relu]\nalpha = -1\n"
    )
    error = _error(text, "toml")
    assert (error.line, error.key) == (7, "layers[1].activation.leaky_relu.alpha")
    network = load_spec_text(text.replace("-1", "0.2"), fmt="toml")
    assert network.layers[1].activation == ActivationChoice("leaky_relu", alpha=0.2)


def test_a_fifo_named_like_a_spec_is_refused_not_waited_on(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match="not a regular file"):
        load_spec(fifo)


def test_a_directory_named_like_a_spec_is_one_error(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    with pytest.raises(SpecError):
        load_spec(folder)
