"""Golden tests: the tutorial's own figures, and the checked-in DOT of every spec.

The DOT reader below covers node and edge statements with their attributes: enough of the
language for the tutorial's figures and for what ``nndiagram.diagram`` writes (``//``
comments, ``subgraph { … }`` blocks, ``a -> b -> c`` chains, ``[k=v, …]`` lists with quoted,
HTML ``<…>`` or bare values, ``;`` or newlines between statements).
"""

from __future__ import annotations

import html
import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import DIAGRAMS, REFERENCE

_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<html><)
  | (?P<arrow>->)
  | (?P<punct>[{}\[\];,=])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*|-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
  | (?P<space>\s+)
    """,
    re.S | re.X,
)


def _html_end(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "<":
            depth += 1
        elif text[i] == ">":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unbalanced HTML label")


def tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"cannot read DOT at {text[pos : pos + 20]!r}")
        kind = m.lastgroup
        if kind == "html":
            end = _html_end(text, pos)
            out.append(text[pos:end])
            pos = end
            continue
        if kind == "string" or kind not in ("comment", "space"):
            out.append(m.group())
        pos = m.end()
    return out


def value(token: str) -> str:
    if token.startswith('"'):
        return re.sub(r'\\"', '"', token[1:-1])
    return token


@dataclass
class Dot:
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def visible_nodes(self) -> set[str]:
        return {n for n, a in self.nodes.items() if a.get("style") != "invis"}

    def visible_edges(self, *, without_class: str | None = None) -> dict[tuple[str, str], str]:
        """(tail, head) → label of every visible edge, leaving out one class of marks."""
        hidden = {n for n, a in self.nodes.items() if a.get("style") == "invis"}
        return {
            (t, h): shown_text(a.get("label") or a.get("taillabel") or a.get("headlabel") or "")
            for t, h, a in self.edges
            if a.get("style") != "invis"
            and t not in hidden
            and h not in hidden
            and (without_class is None or a.get("class") != without_class)
        }


def shown_text(label: str) -> str:
    """The text a label shows: an HTML-like label (``<<TABLE …><TD>w_0</TD>…>``, a weight on
    its background patch) without its markup."""
    if not label.startswith("<"):
        return label
    return html.unescape(re.sub(r"<[^>]*>", "", label[1:-1]))


def parse(text: str) -> Dot:
    toks = tokens(text)
    dot = Dot()
    i = 0

    def attrs() -> dict[str, str]:
        nonlocal i
        found: dict[str, str] = {}
        while i < len(toks) and toks[i] == "[":
            i += 1
            while toks[i] != "]":
                if toks[i] in (",", ";"):
                    i += 1
                    continue
                key = toks[i]
                assert toks[i + 1] == "=", toks[i : i + 3]
                found[key] = value(toks[i + 2])
                i += 3
            i += 1
        return found

    while i < len(toks):
        tok = toks[i]
        if tok in ("graph", "node", "edge") and i + 1 < len(toks) and toks[i + 1] == "[":
            i += 1
            attrs()
            continue
        if tok in ("digraph", "graph", "subgraph", "strict"):
            i += 1
            if toks[i] not in ("{",):
                i += 1  # the graph's name
            continue
        if tok in ("{", "}", ";"):
            i += 1
            continue
        if i + 1 < len(toks) and toks[i + 1] == "=":
            i += 3  # a graph attribute: rank=same
            continue
        chain = [value(tok)]
        i += 1
        while i < len(toks) and toks[i] == "->":
            chain.append(value(toks[i + 1]))
            i += 2
        found = attrs()
        if len(chain) == 1:
            dot.nodes.setdefault(chain[0], {}).update(found)
        else:
            for name in chain:
                dot.nodes.setdefault(name, {})
            for tail, head in itertools.pairwise(chain):
                dot.edges.append((tail, head, found))
    return dot


def tutorial_figures(reference: str) -> list[str]:
    """The DOT bodies of the tutorial's ``gv('''…''')`` cells, in order."""
    return re.findall(r"gv\('''(.*?)'''\)", reference, flags=re.S)


# --- the tests --------------------------------------------------------------------------------

# The tutorial's figures in order, and the spec each one is drawn from.
FIGURES = [
    "neuron",
    "layer",
    "multilayer",
    "not-fully-connected",
    "neuron",
    "layer",
    "layer-3",
    "multilayer",
    "neuron-activation",
    "multilayer-activation",
]


def _ours(spec: str, **options: str) -> str:
    from nndiagram.diagram import build_dot
    from nndiagram.spec.load import load_spec

    return build_dot(load_spec(DIAGRAMS / f"{spec}.yaml"), **options)


def test_the_reference_has_the_ten_figures() -> None:
    assert len(tutorial_figures(REFERENCE.read_text(encoding="utf-8"))) == len(FIGURES)


@pytest.mark.parametrize(
    ("position", "spec"), list(enumerate(FIGURES)), ids=[f"{i}-{s}" for i, s in enumerate(FIGURES)]
)
def test_plain_style_reproduces_the_tutorial_figure(position: int, spec: str) -> None:
    theirs = parse(tutorial_figures(REFERENCE.read_text(encoding="utf-8"))[position])
    ours = parse(_ours(spec, labels="plain"))
    assert ours.visible_nodes() == theirs.visible_nodes()
    # Marks the tool adds to show what is wrong are checked separately.
    assert ours.visible_edges(without_class="missing") == theirs.visible_edges()


def test_not_fully_connected_adds_exactly_the_missing_edges_dashed_red() -> None:
    ours = parse(_ours("not-fully-connected", labels="plain"))
    missing = {(t, h): a for t, h, a in ours.edges if a.get("class") == "missing"}
    assert set(missing) == {("x_0", "z_0_1"), ("x_1", "z_0_0")}
    assert all(a["style"] == "dashed" and a["color"] == "#c62828" for a in missing.values())


GOLDEN = Path(__file__).parent / "golden" / "dot"
SPECS = sorted(p.stem for p in DIAGRAMS.glob("*.yaml"))


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("labels", ["math", "plain"])
def test_dot_matches_the_checked_in_golden_file(spec: str, labels: str) -> None:
    """Regenerate with ``NNDIAGRAM_UPDATE_GOLDEN=1 pytest tests/test_diagram_golden.py``."""
    source = _ours(spec, labels=labels)
    golden = GOLDEN / f"{spec}.{labels}.dot"
    if os.environ.get("NNDIAGRAM_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(source, encoding="utf-8")
    assert source == golden.read_text(encoding="utf-8")


def test_every_spec_has_golden_files() -> None:
    assert SPECS, "no specs in diagrams/"
    assert {p.name for p in GOLDEN.glob("*.dot")} == {
        f"{s}.{labels}.dot" for s in SPECS for labels in ("math", "plain")
    }
