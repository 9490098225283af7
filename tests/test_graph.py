"""graph.py: DOT edge statements, layer inference and the fully-connected check."""

from __future__ import annotations

import time

import pytest

from nndiagram.errors import SpecError
from nndiagram.graph import (
    MAX_EDGES,
    MAX_REPORTED_MISSING,
    analyse,
    check_duplicates,
    layer_activations,
    neuron_columns,
    parse_edges,
)
from nndiagram.model import Edge

# The tutorial's figures, verbatim (indentation included; the two trailing spaces of the
# last figure's first lines are added back below).
MULTILAYER = """
   x_0 -> z_0_0
   x_0 -> z_0_1
   x_1 -> z_0_0
   x_1 -> z_0_1
   z_0_0 -> z_1_0
   z_0_1 -> z_1_0
   z_1_0 -> output
   """
NOT_FULLY_CONNECTED = """
   x_0 -> z_0_0
   x_1 -> z_0_1
   z_0_0 -> z_1_0
   z_0_1 -> z_1_0
   z_1_0 -> output
   """
LAYER_3 = """
   x_0 -> z_0
   x_0 -> z_1
   x_0 -> z_2
   x_1 -> z_0
   x_1 -> z_1
   x_1 -> z_2
   z_0 -> output_0
   z_1 -> output_1
   z_2 -> output_2
   """
MULTILAYER_ACTIVATION = """
   x_0 -> z_0_0{space}
   x_0 -> z_0_1{space}
   x_1 -> z_0_0
   x_1 -> z_0_1
   z_0_0 -> a_0_0 -> z_1_0
   z_0_1 -> a_0_1 -> z_1_0
   z_1_0 -> a_1_0 -> output
   """.format(space=" ")


def pairs(edges: tuple[Edge, ...]) -> list[tuple[str, str]]:
    return [(e.source, e.target) for e in edges]


# --- parsing --------------------------------------------------------------------------------


def test_chains_semicolons_comments_and_lines() -> None:
    text = (
        "// a comment line\n"
        "x_0 -> z_0_0 -> a_0_0;  x_1 -> z_0_0\n"
        "\n"
        "# a preprocessor-style line\n"
        "a_0_0->output /* block\n comment */ ;\n"
    )
    edges = parse_edges(text)
    assert [(e.source, e.target, e.line) for e in edges] == [
        ("x_0", "z_0_0", 2),
        ("z_0_0", "a_0_0", 2),
        ("x_1", "z_0_0", 2),
        ("a_0_0", "output", 5),
    ]


def test_line_mapping_to_the_spec_file() -> None:
    edges = parse_edges("a -> b\n\nc -> d\n", line_of=lambda i: 10 + i)
    assert [e.line for e in edges] == [10, 12]


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("x_0 => z", "expected an edge like", 1),
        ("x_0", "expected an edge like", 1),
        ("a -> b\n  c -> ", "is not a node name", 3),
        ("x_0 -- z", "undirected edges", 1),
        ('x_0 -> z [label="w"]', "edge attributes", 1),
        ("x_0 -> 0z", "'0z' is not a node name", 1),
        ('"x" -> z', "is not a node name", 1),
        ("a -> node", "'node' is a DOT keyword", 1),
        ("a -> b; digraph -> c", "'digraph' is a DOT keyword", 9),
        ("a -> " + "b" * 65, "at most 64 characters", 1),
        ("// only a comment\n", "the graph has no edges", None),
    ],
)
def test_parse_errors(text: str, message: str, column: int | None) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(")) as info:
        parse_edges(text, path="g.yaml")
    assert info.value.path == "g.yaml"
    assert info.value.key == "graph"
    if column is not None:
        assert info.value.column == column


def test_edge_limit() -> None:
    chain = " -> ".join(f"n{i}" for i in range(MAX_EDGES + 1))
    assert len(parse_edges(chain)) == MAX_EDGES
    with pytest.raises(SpecError, match="more than 10,000 edges"):
        parse_edges(chain + " -> last")


def test_duplicate_edges_are_refused_with_both_lines() -> None:
    edges = parse_edges("a -> b\nc -> d\na -> b\n")
    with pytest.raises(SpecError, match=r"duplicate edge a -> b \(first on line 1\)") as info:
        check_duplicates(edges, path="p", key="graph")
    assert info.value.line == 3


# --- the tutorial's figures -----------------------------------------------------------------


def test_multilayer_figure_is_valid() -> None:
    graph = analyse(parse_edges(MULTILAYER))
    assert graph.is_valid and graph.problems() == ()
    assert graph.layers == (("x_0", "x_1"), ("z_0_0", "z_0_1"), ("z_1_0",), ("output",))
    assert neuron_columns(graph) == graph.layers[:-1]
    assert layer_activations(graph) == (False, False)


def test_not_fully_connected_figure_names_both_missing_edges() -> None:
    graph = analyse(parse_edges(NOT_FULLY_CONNECTED))
    assert pairs(graph.missing) == [("x_0", "z_0_1"), ("x_1", "z_0_0")]
    assert graph.skipping == () and graph.cycles == ()
    assert graph.problems() == ("missing edge x_0 -> z_0_1", "missing edge x_1 -> z_0_0")
    assert graph.layers[:3] == (("x_0", "x_1"), ("z_0_0", "z_0_1"), ("z_1_0",))


def test_layer_of_three_figure_is_valid_with_three_outputs() -> None:
    graph = analyse(parse_edges(LAYER_3))
    assert graph.is_valid
    assert graph.layers == (
        ("x_0", "x_1"),
        ("z_0", "z_1", "z_2"),
        ("output_0", "output_1", "output_2"),
    )


def test_activation_nodes_hang_off_their_neuron() -> None:
    graph = analyse(parse_edges(MULTILAYER_ACTIVATION))
    assert graph.is_valid, graph.problems()
    assert graph.layers == (("x_0", "x_1"), ("z_0_0", "z_0_1"), ("z_1_0",), ("output",))
    assert layer_activations(graph) == (True, True)


def test_missing_edge_starts_at_the_activation_node() -> None:
    text = MULTILAYER_ACTIVATION.replace(
        "z_0_1 -> a_0_1 -> z_1_0", "z_0_1 -> a_0_1\n a_0_0 -> z_1_1"
    )
    graph = analyse(parse_edges(text))
    assert pairs(graph.missing) == [("a_0_1", "z_1_0"), ("a_0_1", "z_1_1")]
    assert graph.layers[2] == ("z_1_0", "z_1_1")


# --- problems -------------------------------------------------------------------------------


def test_skipping_edge_is_reported_with_its_line() -> None:
    graph = analyse(parse_edges(MULTILAYER + "\n x_0 -> z_1_0\n"))
    assert [(e.source, e.target, e.line) for e in graph.skipping] == [("x_0", "z_1_0", 10)]
    assert graph.problems() == ("edge x_0 -> z_1_0 skips or goes back a layer (line 10)",)


def test_cycle_and_back_edge() -> None:
    graph = analyse(parse_edges("x -> h1 -> h2 -> h3\nh3 -> h1\n"))
    assert graph.cycles == (("h1", "h2", "h3"),)
    assert pairs(graph.skipping) == [("h3", "h1")]
    assert "cycle h1 -> h2 -> h3 -> h1" in graph.problems()
    assert not graph.is_valid


def test_self_loop_and_two_cycles() -> None:
    graph = analyse(parse_edges("x -> h -> h\nx -> p -> q -> p\n"))
    assert graph.cycles == (("h",), ("p", "q"))


def test_activation_node_on_a_cycle_is_not_hung() -> None:
    graph = analyse(parse_edges("x -> z -> a -> z\n"))
    assert graph.cycles == (("a", "z"),)
    assert not graph.is_valid


def test_missing_edges_are_capped_for_huge_graphs() -> None:
    text = "\n".join(f"x{i} -> h{i}" for i in range(3000))
    start = time.perf_counter()
    graph = analyse(parse_edges(text))
    assert time.perf_counter() - start < 5
    assert len(graph.missing) == MAX_REPORTED_MISSING
    assert graph.missing[0] == Edge("x0", "h1")


def test_long_chain_needs_no_recursion() -> None:
    text = " -> ".join(f"n{i}" for i in range(MAX_EDGES + 1))
    graph = analyse(parse_edges(text))
    assert graph.is_valid
    assert len(graph.layers) == MAX_EDGES + 1


def test_long_cycle_needs_no_recursion() -> None:
    text = " -> ".join(f"n{i}" for i in range(5000)) + " -> n0"
    graph = analyse(parse_edges(text))
    assert len(graph.cycles) == 1 and len(graph.cycles[0]) == 5000
