"""graph.py: DOT edge statements, layer inference and the fully-connected check."""

from __future__ import annotations

import os
import time
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nndiagram.errors import SpecError
from nndiagram.model import Edge
from nndiagram.spec.graph import (
    MAX_EDGES,
    MAX_REPORTED_MISSING,
    analyse,
    check_duplicates,
    layer_activations,
    neuron_columns,
    parse_edges,
)

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
    # The lines of the nodes a missing edge joins (the text starts with a newline).
    assert graph.problems() == (
        "missing edge x_0 -> z_0_1 (x_0 is on line 2, z_0_1 on line 3)",
        "missing edge x_1 -> z_0_0 (x_1 is on line 3, z_0_0 on line 2)",
    )
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


def test_a_neuron_named_output_is_not_taken_for_the_output_column() -> None:
    graph = analyse(parse_edges("x -> h -> output\ny -> output\n"))
    assert neuron_columns(graph) == graph.layers == (("x", "y"), ("h",), ("output",))
    assert pairs(graph.skipping) == [("y", "output")]


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


# --- properties -----------------------------------------------------------------------------


def _fully_connected(sizes: list[int], activations: bool) -> list[Edge]:
    """The edges the tutorial would draw for these sizes (z_l_j, optional a_l_j, outputs)."""
    names = [[f"x_{k}" for k in range(sizes[0])]]
    edges = []
    for layer, units in enumerate(sizes[1:]):
        column = [f"z_{layer}_{j}" for j in range(units)]
        edges += [Edge(u, v) for u in names[-1] for v in column]
        if activations:
            edges += [Edge(z, f"a_{layer}_{j}") for j, z in enumerate(column)]
            column_out = [f"a_{layer}_{j}" for j in range(units)]
        else:
            column_out = column
        names.append(column_out)
    last = names[-1]
    edges += [Edge(n, "output" if len(last) == 1 else f"output_{j}") for j, n in enumerate(last)]
    return edges


@settings(max_examples=int(os.environ.get("NNDIAGRAM_EXAMPLES", "150")), deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=2, max_size=5),
    st.booleans(),
    st.randoms(use_true_random=False),
    st.data(),
)
def test_fully_connected_networks_are_valid_and_every_removed_edge_is_named(
    sizes: list[int], activations: bool, random: Random, data: st.DataObject
) -> None:
    edges = _fully_connected(sizes, activations)
    random.shuffle(edges)
    graph = analyse(tuple(edges))
    assert graph.is_valid, graph.problems()
    assert [len(c) for c in neuron_columns(graph)] == sizes
    assert layer_activations(graph) == (activations,) * (len(sizes) - 1)
    # Remove some edges between columns (not those that hang a- and output nodes).
    between = [e for e in edges if e.target.startswith("z_")]
    removed = data.draw(st.sets(st.sampled_from(between), min_size=1, max_size=3))
    kept = tuple(e for e in edges if e not in removed)
    broken = analyse(kept)
    nodes = {n for e in edges for n in (e.source, e.target)}
    still = {n for e in kept for n in (e.source, e.target)}
    if still == nodes and neuron_columns(broken) == neuron_columns(graph):
        # Every node and column survived: exactly the removed edges are named, nothing else.
        assert set(broken.missing) == removed
        assert broken.skipping == () and broken.cycles == ()
    elif still == nodes:
        assert not broken.is_valid  # a neuron lost all its inputs and moved column


@settings(max_examples=int(os.environ.get("NNDIAGRAM_EXAMPLES", "150")), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=1, max_size=30))
def test_any_edge_list_is_analysed_without_error(pairs_: list[tuple[int, int]]) -> None:
    edges = tuple(dict.fromkeys(Edge(f"n{a}", f"n{b}") for a, b in pairs_))
    graph = analyse(edges)
    named = {n for column in graph.layers for n in column}
    assert named <= {n for e in edges for n in (e.source, e.target)}
    has_cycle = any(a == b for a, b in pairs_) or bool(graph.cycles)
    assert graph.is_valid is (not (graph.missing or graph.skipping or graph.cycles))
    if has_cycle:
        assert graph.cycles and not graph.is_valid


def test_long_chain_of_hanging_nodes_resolves_in_one_pass() -> None:
    chain = " -> ".join(f"a_{i}" for i in range(MAX_EDGES - 1, 0, -1))  # reverse name order
    start = time.perf_counter()
    graph = analyse(parse_edges(f"x -> z_0 -> {chain}"))
    assert time.perf_counter() - start < 5
    assert graph.layers == (("x",), ("z_0",)) and graph.is_valid
