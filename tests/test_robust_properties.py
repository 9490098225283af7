"""Hypothesis at scale (thousands of examples per property, on fast targets): the spec loader on
mutated real specs, the activation whitelist and the derivation parser on grammar-built hostile
expressions, and the DOT quoting boundary, checked both against Graphviz's string rules and
against the real ``dot``, whose SVG must show exactly the nodes and labels that were sent.

tests/test_spec_properties.py covers random text and random structures (a few hundred
examples); these add mutation of valid specs, a grammar of hostile Python and parse-back.
"""

from __future__ import annotations

import ast
import contextlib
import html
import itertools
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from conftest import DIAGRAMS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndiagram.derivation.expr import Scope
from nndiagram.derivation.expr import parse_expression as parse_step
from nndiagram.errors import SpecError
from nndiagram.expressions import parse_expression
from nndiagram.model import Network
from nndiagram.quoting import Html, clean, dot_id, escape_html, quote
from nndiagram.spec.load import load_spec_text

SCALE = int(os.environ.get("NNDIAGRAM_EXAMPLES_AT_SCALE", "2000"))
AT_SCALE = settings(
    max_examples=SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --- the spec loader: real specs, mutated ----------------------------------------------------

SEEDS = [p.read_text(encoding="utf-8") for p in sorted(DIAGRAMS.glob("*.yaml"))]
SEEDS.append(
    "inputs: [x_0, x_1]\nlayers:\n  - units: 2\n    activation: {custom: 'max(0.01*z, z)'}\n"
    "  - units: 1\n    activation: {leaky_relu: {alpha: 0.2}}\nloss: mse\n"
)
SEEDS.append('{"inputs": 2, "layers": [{"units": 2, "activation": "tanh"}, {"units": 1}]}\n')
SEEDS.append('inputs = 2\n[[layers]]\nunits = 3\nactivation = "relu"\n[[layers]]\nunits = 1\n')
FORMATS = ["yaml"] * (len(SEEDS) - 2) + ["json", "toml"]
PIECES = [
    *"{}[]:,-&*!|>'\"#\n\t %@`?=.\\0123456789z_\x00\x07\ufeff\u2028é",
    *["&a ", "*a", "<<: ", "!!python/object:os.system", "\n  - ", "units: ", "10**9", "1e309"],
    *["custom: ", "max(", "__import__", ".__class__", "lambda: ", "-> ", "graph: |\n  "],
    *["99999999999999999999", "-0", ".nan", "true", "null", "~", "---\n", "...\n"],
]


@st.composite
def mutated_spec(draw: st.DrawFn) -> tuple[str, str]:
    index = draw(st.integers(0, len(SEEDS) - 1))
    text = SEEDS[index]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "swap"]))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif kind == "replace":
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at + 1 :]
        else:
            lines = text.splitlines(keepends=True) or [""]
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
    return text, FORMATS[index]


@AT_SCALE
@given(mutated_spec())
def test_mutated_specs_load_or_raise_spec_error(case: tuple[str, str]) -> None:
    text, fmt = case
    try:
        network = load_spec_text(text, fmt=fmt)
    except SpecError as error:
        line = str(error)
        assert error.message and "\n" not in line and "\r" not in line
        assert line.startswith("<spec>:")
        return
    assert isinstance(network, Network) and network.layers and network.inputs >= 1


# --- a grammar of hostile Python expressions ---------------------------------------------------

LEAVES = st.one_of(
    st.sampled_from(["z", "x", "W0", "W1", "s", "A", "__builtins__", "os", "True", "None"]),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False).map(repr),
    st.sampled_from(["1e999", "'z'", 'b"z"', 'f"{z}"', "...", "2j", "0x10", "1_000"]),
)


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(inner, inner)
    return st.one_of(
        st.builds("({}) {} ({})".format, inner, st.sampled_from("+-*/@%^&|<>"), inner),
        pair.map(lambda p: f"{p[0]}**{p[1]}"),
        pair.map(lambda p: f"({p[0]}) ** ({p[1]})"),
        inner.map(lambda a: f"-{a}"),
        inner.map(lambda a: f"~{a}"),
        st.builds(
            "{}({})".format,
            st.sampled_from(
                [
                    *("max", "min", "exp", "log", "tanh", "sigmoid", "relu", "hadamard", "sum"),
                    *("g", "eval", "__import__", "getattr", "open", "softmax", "abs", "sqrt"),
                ]
            ),
            st.lists(inner, max_size=3).map(", ".join),
        ),
        inner.map(lambda a: f"max({a}, key=abs)"),
        inner.map(lambda a: f"({a}).T"),
        inner.map(lambda a: f"{a}.__class__"),
        inner.map(lambda a: f"{a}[0]"),
        inner.map(lambda a: f"(lambda: {a})()"),
        inner.map(lambda a: f"[{a} for z in (1,)]"),
        inner.map(lambda a: f"(y := {a})"),
        inner.map(lambda a: f"max(*[{a}])"),
        pair.map(lambda p: f"{p[0]} if {p[1]} else 0"),
        pair.map(lambda p: f"{p[0]} < {p[1]}"),
        inner.map(lambda a: f"(({a}))"),
    )


EXPRESSIONS = st.recursive(LEAVES, _combine, max_leaves=12)


def _parses_as_python(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


ACTIVATION_NODES = (ast.Constant, ast.Name, ast.UnaryOp, ast.BinOp, ast.Call, ast.Load)
ACTIVATION_NODES += (ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


@AT_SCALE
@given(EXPRESSIONS)
def test_activation_whitelist_accepts_only_arithmetic_in_z(text: str) -> None:
    try:
        tree = parse_expression(text)
    except SpecError as error:
        assert "\n" not in str(error)
        return
    for node in ast.walk(tree):
        assert isinstance(node, ACTIVATION_NODES), ast.dump(node)
        if isinstance(node, ast.Name):
            assert node.id == "z" or node.id in {"max", "min", "exp", "log", "tanh", "sigmoid"} | {
                "abs",
                "sqrt",
                "sin",
                "cos",
                "erf",
            }
        if isinstance(node, ast.Constant):
            assert type(node.value) in (int, float) and abs(node.value) <= 1e9


SCOPE = Scope({"W0": (2, 2), "W1": (1, 2), "x": (2, 1), "s": None, "A": (2, 2)}, {})


@AT_SCALE
@given(EXPRESSIONS)
def test_derivation_parser_only_raises_spec_error(text: str) -> None:
    try:
        node = parse_step(text, SCOPE)
    except SpecError as error:
        assert "\n" not in error.message or text.count("\n")
        return
    assert _parses_as_python(text)
    assert node.shape is None or len(node.shape) == 2


@AT_SCALE
@given(st.text(max_size=80))
def test_derivation_parser_on_random_text(text: str) -> None:
    with contextlib.suppress(SpecError):
        parse_step(text, SCOPE)


# --- DOT quoting: Graphviz's string rules ------------------------------------------------------

_DOT_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"', re.DOTALL)


def _graphviz_reads(quoted: str) -> str:
    """What Graphviz shows for a quoted label: the lexer keeps backslash pairs, the label
    escapes turn ``\\\\`` into ``\\``, ``\\n`` into a line break, and entities are decoded."""
    body = quoted[1:-1]
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            nxt = body[i + 1]
            out.append({"\\": "\\", '"': '"', "n": "\n"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return html.unescape("".join(out))


@AT_SCALE
@given(st.text())
def test_quoted_text_is_one_dot_string_that_reads_back_as_itself(text: str) -> None:
    quoted = quote(text)
    assert _DOT_STRING.fullmatch(quoted), quoted
    assert "\n" not in quoted and "\r" not in quoted
    assert _graphviz_reads(quoted) == clean(text)


@AT_SCALE
@given(st.text())
def test_html_label_text_reads_back_as_itself(text: str) -> None:
    label = escape_html(text)
    assert isinstance(label, Html)
    body = label.replace("<BR/>", "\n")
    assert "<" not in body and ">" not in body
    assert html.unescape(body.replace("\\\\", "\\")) == clean(text).replace("\t", " ")


@AT_SCALE
@given(st.lists(st.text(min_size=1), min_size=2, max_size=6, unique=True))
def test_node_ids_never_collide_and_are_single_tokens(names: list[str]) -> None:
    ids = [dot_id(name) for name in names]
    assert len(set(ids)) == len(ids)
    for node in ids:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", node) or re.fullmatch(
            r'"~[A-Za-z0-9_]*"', node
        )


# --- DOT quoting: the real Graphviz parses it back ---------------------------------------------

LABEL_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x0b\x0c\x1c\x1d\x1e\x85"),
    max_size=40,
)


def _svg_nodes(svg: bytes) -> dict[str, list[str]]:
    """Node title -> the lines of text Graphviz drew for it."""
    ns = {"svg": "http://www.w3.org/2000/svg"}
    nodes: dict[str, list[str]] = {}
    for group in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        if group.get("class") != "node":
            continue
        title = group.find("svg:title", ns)
        assert title is not None
        lines = ["".join(t.itertext()) for t in group.findall("svg:text", ns)]
        nodes[title.text or ""] = lines
    return nodes


def _lines(text: str) -> list[str]:
    """Lines as compared: Graphviz draws no empty line and writes runs of spaces as NBSP."""
    return [" ".join(line.split()) for line in clean(text).split("\n") if line.split()]


NODES = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=12).filter(lambda n: n.lower() not in ("node", "edge")),
        LABEL_TEXT,
        st.booleans(),
    ),
    min_size=1,
    max_size=25,
    unique_by=lambda item: item[0],
)


@pytest.mark.exe
@settings(max_examples=max(SCALE // 20, 20), deadline=None)
@given(NODES)
def test_graphviz_draws_exactly_the_nodes_and_labels_sent(
    items: list[tuple[str, str, bool]],
) -> None:
    """Up to 25 nodes per graph, named and labelled with arbitrary text (plain or HTML)."""
    names = [name for name, _, _ in items]
    statements = []
    for name, label, as_html in items:
        value = quote(escape_html(label)) if as_html else quote(label)
        statements.append(f"  {dot_id(name)} [label={value}, shape=box]")
    statements += [f"  {dot_id(a)} -> {dot_id(b)}" for a, b in itertools.pairwise(names)]
    source = "digraph G {\n" + "\n".join(statements) + "\n}\n"
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    drawn = _svg_nodes(done.stdout)
    expected: dict[str, Any] = {dot_id(name).strip('"'): label for name, label, _ in items}
    assert set(drawn) == set(expected)
    for node, label in expected.items():
        shown = [" ".join(line.split()) for line in drawn[node]]  # split() also takes NBSP
        assert [line for line in shown if line] == _lines(label), (node, label)
