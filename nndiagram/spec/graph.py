"""Explicit graphs: parse DOT edge statements (without Graphviz), infer layers, check them.

A hand-drawn network such as the tutorial's "not a valid network" figure is a list of edges.
Layers are inferred: inputs are the nodes nothing points at; an ``a…`` (activation) or
``output…`` node with a single in-edge hangs off the neuron before it and is not a layer of its
own; every other node sits at its longest-path depth from the inputs. The graph is a valid
network when it is a layered, fully connected feed-forward network: every node of one column
feeds every node of the next, no edge skips or goes back a column, and there is no cycle.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise

from ..errors import SpecError
from ..model import Edge, ExplicitGraph

MAX_EDGES = 10_000
MAX_REPORTED_MISSING = 1_000  # a 5,000 x 5,000 one-to-one graph would miss 25 million edges
NODE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# Names Graphviz reads as keywords; refusing them keeps the DOT we write unambiguous.
DOT_KEYWORDS = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})
_HANGING = re.compile(r"a(_\d+)*|output(_\d+)*")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/|^\s*#[^\n]*", re.DOTALL | re.MULTILINE)
_ARROW = re.compile(r"\s*->\s*")


def parse_edges(
    text: str, *, path: str = "<spec>", line_of: Callable[[int], int] = lambda i: i + 1
) -> tuple[Edge, ...]:
    """Edges of ``graph:`` text: ``a -> b`` and chains ``a -> b -> c``, one or more per line.

    ``line_of`` maps a 0-based line of ``text`` to its line in the spec file, so an edge can
    be reported where it was written.
    """
    # Blank out comments but keep their newlines, so line numbers stay right.
    text = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    edges: list[Edge] = []
    for number, line in enumerate(text.split("\n")):
        column = 0
        for statement in line.split(";"):
            start = column + len(statement) - len(statement.lstrip())
            column += len(statement) + 1
            if statement.strip():
                names = _ARROW.split(statement.strip())
                where = {"path": path, "line": line_of(number), "column": start + 1, "key": "graph"}
                if "--" in statement:
                    _check_name("--", where)
                if len(names) < 2:
                    raise SpecError(
                        f"expected an edge like 'x_0 -> z_0_0', found {statement.strip()!r}",
                        **where,  # type: ignore[arg-type]
                    )
                for name in names:
                    _check_name(name, where)
                edges += [Edge(s, t, line_of(number)) for s, t in pairwise(names)]
                if len(edges) > MAX_EDGES:
                    raise SpecError(f"more than {MAX_EDGES:,} edges", **where)  # type: ignore[arg-type]
    if not edges:
        raise SpecError("the graph has no edges", path=path, line=line_of(0), key="graph")
    return tuple(edges)


def _check_name(name: str, where: dict[str, object]) -> None:
    if "[" in name:
        message = "edge attributes ([...]) are not supported; write plain 'a -> b' edges"
    elif "--" in name:
        message = "undirected edges ('--') are not supported; use '->'"
    elif not NODE_NAME.fullmatch(name):
        message = (
            f"{name!r} is not a node name (letters, digits and '_', not starting with a digit, "
            "at most 64 characters)"
        )
    elif name in DOT_KEYWORDS:
        message = f"{name!r} is a DOT keyword and cannot name a node"
    else:
        return
    raise SpecError(message, **where)  # type: ignore[arg-type]


def edges_from_pairs(
    pairs: Sequence[Sequence[str]], lines: Sequence[int | None], *, path: str = "<spec>"
) -> tuple[Edge, ...]:
    """Edges of an ``edges:`` list of ``[source, target]`` pairs (already type-checked)."""
    edges = []
    for index, ((source, target), line) in enumerate(zip(pairs, lines, strict=True)):
        for name in (source, target):
            _check_name(name, {"path": path, "line": line, "key": f"edges[{index}]"})
        edges.append(Edge(source, target, line))
    if not edges:
        raise SpecError("the graph has no edges", path=path, key="edges")
    return tuple(edges)


def check_duplicates(edges: Iterable[Edge], *, path: str, key: str) -> None:
    seen: dict[tuple[str, str], Edge] = {}
    for edge in edges:
        first = seen.setdefault((edge.source, edge.target), edge)
        if first is not edge:
            where = f" (first on line {first.line})" if first.line else ""
            raise SpecError(
                f"duplicate edge {edge.source} -> {edge.target}{where}",
                path=path,
                line=edge.line,
                key=key,
            )


def natural_key(name: str) -> tuple[object, ...]:
    """Sort ``z_0_10`` after ``z_0_2``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


class _Analysis:
    """The layer inference and connectivity check of one edge list."""

    def __init__(self, edges: tuple[Edge, ...]) -> None:
        self.edges = edges
        self.nodes = list(dict.fromkeys(n for e in edges for n in (e.source, e.target)))
        self.predecessors: dict[str, list[str]] = {n: [] for n in self.nodes}
        self.successors: dict[str, list[str]] = {n: [] for n in self.nodes}
        for e in edges:
            self.successors[e.source].append(e.target)
            self.predecessors[e.target].append(e.source)
        self.components = _strongly_connected(self.nodes, self.successors)
        self.owner, self.hung = self._hang()

    def _hang(self) -> tuple[dict[str, str], dict[str, list[str]]]:
        """Each node's neuron (itself, for neurons and inputs), and each neuron's hanging
        nodes, nearest first. Breadth-first from the neurons: linear even for long chains."""
        cyclic = {n for c in self.components if len(c) > 1 for n in c}
        candidates = {
            n
            for n in self.nodes
            if _HANGING.fullmatch(n) and len(self.predecessors[n]) == 1 and n not in cyclic
        }
        owner = {n: n for n in self.nodes if n not in candidates}
        hung: dict[str, list[str]] = {n: [] for n in self.nodes}
        # Inputs (no in-edges) carry nothing: x -> a makes `a` a neuron, not x's activation.
        queue = deque(n for n in self.nodes if n in owner and self.predecessors[n])
        while queue:
            node = queue.popleft()
            for after in self.successors[node]:
                if after in candidates and after not in owner:  # its only in-edge is this one
                    owner[after] = owner[node]
                    hung[owner[node]].append(after)
                    queue.append(after)
        for node in candidates - owner.keys():  # never reached (hangs off an input): a neuron
            owner[node] = node
        return owner, hung

    def cycles(self) -> tuple[tuple[str, ...], ...]:
        """One cycle through each strongly connected component that has one."""
        found = []
        for component in self.components:
            start = min(component, key=natural_key)
            if len(component) == 1 and start not in self.successors[start]:
                continue
            found.append(_cycle_through(start, component, self.successors))
        return tuple(sorted(found, key=lambda c: [natural_key(n) for n in c]))

    def analyse(self) -> ExplicitGraph:
        owner = self.owner
        neurons = [n for n in self.nodes if owner[n] == n]
        # Edges between neurons; an a-node's out-edges count as its neuron's.
        links: dict[tuple[str, str], list[Edge]] = {}
        for e in self.edges:
            if owner[e.target] != e.target and owner[e.target] == owner[e.source]:
                continue  # z_0_0 -> a_0_0: the hanging edge itself
            links.setdefault((owner[e.source], owner[e.target]), []).append(e)
        back = _back_edges(neurons, links)
        depth = _longest_path_depths(neurons, [k for k in links if k not in back])
        columns = _columns(neurons, depth)
        skipping = [
            e
            for (u, v), originals in links.items()
            if (u, v) in back or depth[v] != depth[u] + 1
            for e in originals
        ]
        missing = self._missing(columns, links.keys())
        outputs = tuple(
            n
            for column in columns[1:]
            for neuron in column
            for n in self.hung[neuron]
            if n.startswith("output")
        )
        return ExplicitGraph(
            edges=self.edges,
            layers=(*columns, outputs) if outputs else tuple(columns),
            missing=tuple(missing),
            skipping=tuple(sorted(skipping, key=lambda e: (e.line or 0, natural_key(e.source)))),
            cycles=self.cycles(),
        )

    def _missing(
        self, columns: list[tuple[str, ...]], links: Iterable[tuple[str, str]]
    ) -> list[Edge]:
        """Edges a fully connected network would add, at most ``MAX_REPORTED_MISSING``."""
        present = set(links)
        missing: list[Edge] = []
        for before, after in pairwise(columns):
            for u in before:
                for v in after:
                    if (u, v) not in present:
                        if len(missing) == MAX_REPORTED_MISSING:
                            return missing
                        missing.append(Edge(self._out_name(u), v))
        return missing

    def _out_name(self, neuron: str) -> str:
        """The node an edge out of this neuron starts at: its a-node when it has one."""
        for node in self.hung[neuron]:
            if not node.startswith("output"):
                return node
        return neuron

    def neuron_columns(self, graph: ExplicitGraph) -> tuple[tuple[str, ...], ...]:
        """The columns without the output column (whose nodes all hang off a neuron)."""
        if len(graph.layers) > 1 and all(self.owner[n] != n for n in graph.layers[-1]):
            return graph.layers[:-1]
        return graph.layers

    def activated(self, column: Sequence[str]) -> bool:
        """Whether the neurons of a column are drawn with ``a`` nodes (``g`` applied)."""
        return any(self._out_name(n) != n for n in column)


def analyse(edges: tuple[Edge, ...]) -> ExplicitGraph:
    """Infer the columns of an edge list and find every missing, skipping and cyclic edge."""
    return _Analysis(edges).analyse()


def analyse_layers(
    edges: tuple[Edge, ...],
) -> tuple[ExplicitGraph, tuple[tuple[str, ...], ...], tuple[bool, ...]]:
    """``analyse``, the neuron columns (inputs first, no output column) and, for each neuron
    layer, whether it is drawn with ``a`` nodes."""
    analysis = _Analysis(edges)
    graph = analysis.analyse()
    columns = analysis.neuron_columns(graph)
    return graph, columns, tuple(analysis.activated(column) for column in columns[1:])


def layer_activations(graph: ExplicitGraph) -> tuple[bool, ...]:
    """For each neuron layer (columns after the inputs, before any output column): has a-nodes."""
    return analyse_layers(graph.edges)[2]


def neuron_columns(graph: ExplicitGraph) -> tuple[tuple[str, ...], ...]:
    """Inputs and neuron layers: ``graph.layers`` without its trailing output column."""
    return _Analysis(graph.edges).neuron_columns(graph)


def _strongly_connected(nodes: list[str], successors: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm without recursion (a 10,000-edge chain would overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for i in range(child, len(successors[node])):
                after = successors[node][i]
                if after not in index:
                    work += [(node, i + 1), (after, 0)]
                    recurse = True
                    break
                if after in on_stack:
                    low[node] = min(low[node], index[after])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _cycle_through(start: str, component: list[str], successors: dict[str, list[str]]) -> tuple:
    """A shortest cycle from ``start`` back to itself inside its component (BFS)."""
    members = set(component)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for after in sorted(successors[node], key=natural_key):
            if after == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return tuple(reversed(path))
            if after in members and after not in came_from:
                came_from[after] = node
                queue.append(after)
    raise AssertionError("a strongly connected component always has a cycle")


def _back_edges(nodes: list[str], links: dict[tuple[str, str], list[Edge]]) -> set[tuple[str, str]]:
    """Edges to a node still on the depth-first stack: removing them leaves a DAG."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    for u, v in links:
        successors[u].append(v)
    state: dict[str, int] = {}  # 1 on the stack, 2 finished
    back: set[tuple[str, str]] = set()
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        work = [(root, iter(successors[root]))]
        while work:
            node, children = work[-1]
            for after in children:
                if state.get(after) == 1:
                    back.add((node, after))
                elif after not in state:
                    state[after] = 1
                    work.append((after, iter(successors[after])))
                    break
            else:
                state[node] = 2
                work.pop()
    return back


def _longest_path_depths(nodes: list[str], links: list[tuple[str, str]]) -> dict[str, int]:
    """Kahn's topological order; each node's depth is the longest path from an input."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    waiting = dict.fromkeys(nodes, 0)
    for u, v in links:
        successors[u].append(v)
        waiting[v] += 1
    depth = dict.fromkeys(nodes, 0)
    ready = deque(n for n in nodes if waiting[n] == 0)
    while ready:
        node = ready.popleft()
        for after in successors[node]:
            depth[after] = max(depth[after], depth[node] + 1)
            waiting[after] -= 1
            if waiting[after] == 0:
                ready.append(after)
    return depth


def _columns(nodes: list[str], depth: dict[str, int]) -> list[tuple[str, ...]]:
    count = max(depth.values()) + 1
    columns: list[list[str]] = [[] for _ in range(count)]
    for node in nodes:
        columns[depth[node]].append(node)
    return [tuple(sorted(column, key=natural_key)) for column in columns]
