"""A tiny DOT writer: nodes, edges and subgraphs as lines, every value through ``quoting``.

Views speak in logical keys (``("z", 0, 1)``) and preferred names (``z_0_1``); the writer turns
a name into a DOT ID once and keeps IDs unique, so a user input called ``output`` can never
merge with the output node. It also counts what is drawn, for the benchmark.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..quoting import Html, Value, attr_list, dot_id, escape_html, quote
from .theme import Theme

if TYPE_CHECKING:
    from .numbers import Numbers

Label = str | Html


def _position(part: object) -> bool:
    return isinstance(part, int) and not isinstance(part, bool)


def link_key(key: Hashable) -> str | None:
    """The link of a node key (``("z", 1, 0)`` -> ``z-1-0``) or an edge ``(tail, head)``
    (``(("a", 0, 2), ("z", 1, 0))`` -> ``w-1-0-2``); None for what no equation names (captions,
    padding, outputs, elided ``⋮``). Layers and units are 0-based positions.

    >>> link_key(("x", 1)), link_key(("b", 1)), link_key((("x", 1), ("z", 0, 2)))
    ('x-1', 'bias-1', 'w-0-2-1')
    >>> link_key((("b", 1), ("z", 1, 0))), link_key((("z", 0, 1), ("a", 0, 1)))
    ('b-1-0', 'g-0-1')
    >>> link_key(("z", 0, None)), link_key(("out", 0)), link_key((("x", None), ("z", 0, 1)))
    (None, None, None)

    A neuron carried over to the next row of a folded figure links as itself:

    >>> link_key(("carried", ("a", 3, 1))), link_key((("carried", ("a", 3, 1)), ("z", 4, 0)))
    ('a-3-1', 'w-4-0-1')
    """
    if not isinstance(key, tuple) or not key:
        return None
    if key[0] == "carried" and len(key) == 2:
        return link_key(key[1])
    if isinstance(key[0], tuple) and len(key) == 2:
        return _edge_link(key[0], key[1])
    kind, rest = key[0], key[1:]
    if not rest or not all(_position(p) for p in rest):
        return None
    shapes = {("x", 1): "x", ("z", 2): "z", ("a", 2): "a", ("b", 1): "bias", ("bias", 2): "bias"}
    name = shapes.get((kind, len(rest)))
    return None if name is None else "-".join([name, *map(str, rest)])


def _edge_link(tail: Hashable, head: Hashable) -> str | None:
    if not (isinstance(tail, tuple) and isinstance(head, tuple) and tail and head):
        return None
    if tail[0] == "carried" and len(tail) == 2:
        return _edge_link(tail[1], head)
    if not all(_position(p) for p in (*tail[1:], *head[1:])):
        return None
    kinds = (tail[0], head[0])
    if kinds == ("x", "z") and len(tail) == 2:
        return f"w-{head[1]}-{head[2]}-{tail[1]}"
    if kinds in (("a", "z"), ("z", "z")) and head[1] == tail[1] + 1:
        return f"w-{head[1]}-{head[2]}-{tail[2]}"
    if kinds == ("b", "z") and tail[1] == head[1]:
        return f"b-{head[1]}-{head[2]}"
    if kinds == ("bias", "z") and tail[1:] == head[1:]:
        return f"b-{head[1]}-{head[2]}"
    if kinds == ("z", "a") and tail[1:] == head[1:]:
        return f"g-{head[1]}-{head[2]}"
    if kinds == ("z", "softmax"):
        return f"g-{tail[1]}-{tail[2]}"
    if kinds == ("softmax", "a"):
        return f"g-{head[1]}-{head[2]}"
    return None


class Drawing:
    def __init__(self, theme: Theme, labels: str, script_scale: float | None = None) -> None:
        self.theme = theme
        self.labels = labels  # "math" or "plain"
        self.script_scale = script_scale  # None: the renderer sizes sub/superscripts itself
        self.label: Label | None = None  # the graph's own label, drawn under the figure
        self.numbers: Numbers | None = None  # real weights (and a sample's values) to draw
        self.values_only = False  # `--labels values`: numbers in place of symbols on edges
        self.layout: dict[str, Value | None] = {}  # graph attributes a view adds
        self.captions: list[Hashable] = []  # text nodes, not counted as drawn network parts
        self.widths: dict[Hashable, float] = {}  # points, of nodes whose width a view fixed
        self.background: str | None = None  # None: transparent
        self.notes: list[str] = []  # what the spec asked for but the figure leaves out, and why
        self.nodes = 0
        self.edges = 0
        self._body: list[str] = []
        self._depth = 1
        self._ids: dict[Hashable, str] = {}
        self._taken: set[str] = set()
        # Off by default (files, golden DOT); the site and notebooks turn it on to link the
        # figure to the equations (nndiagram.site.interactive).
        self.links = False
        self._link_ids: set[str] = set()

    # --- ids ---------------------------------------------------------------------------------

    def id(self, key: Hashable) -> str:
        return self._ids[key]

    def _new_id(self, key: Hashable, name: str) -> str:
        candidate, n = dot_id(name), 1
        while candidate in self._taken:
            candidate, n = dot_id(f"{name}~{n}"), n + 1
        self._taken.add(candidate)
        self._ids[key] = candidate
        return candidate

    # --- statements --------------------------------------------------------------------------

    def line(self, text: str) -> None:
        self._body.append("  " * self._depth + text)

    def attrs(self, **attrs: Value | None) -> None:
        """Attributes of the current graph or subgraph, one per line."""
        for key, value in attrs.items():
            if value is not None:
                self.line(f"{key}={quote(value)}")

    def node(
        self, key: Hashable, name: str, label: Label | None = None, **attrs: Value | None
    ) -> str:
        """Declare a node; the label is left out when DOT's default (the name) already says it."""
        node_id = self._new_id(key, name)
        if label is not None and not isinstance(label, Html) and label == node_id:
            label = None
        self.nodes += 1
        if self.links:
            attrs.update(self._link_attrs(link_key(key)))
        shown = self._scripts(label, attrs.get("fontsize"), self.theme.font_size)
        self.line(node_id + attr_list({"label": shown, **attrs}))
        return node_id

    def invisible(self, key: Hashable, name: str, height: float | None = None) -> str:
        node_id = self._new_id(key, name)
        attrs: dict[str, Value | None] = {"style": "invis", "width": 0, "height": height}
        attrs["label"] = ""
        self.line(node_id + attr_list(attrs))
        return node_id

    def mention(self, keys: list[Hashable]) -> None:
        """Name nodes declared earlier, so the current subgraph (a rank) holds them."""
        for key in keys:
            self.line(self.id(key))

    def edge(self, tail: Hashable, head: Hashable, **attrs: Value | None) -> None:
        if attrs.get("style") != "invis":
            self.edges += 1
            if self.links:
                attrs.update(self._link_attrs(link_key((tail, head))))
        size = attrs.get("fontsize")
        for key in ("label", "taillabel", "headlabel", "xlabel"):
            if attrs.get(key) is not None:
                attrs[key] = self._scripts(attrs[key], size, self.theme.edge_font_size)
        self.line(f"{self.id(tail)} -> {self.id(head)}" + attr_list(attrs))

    def _scripts(self, label: Value | None, size: Value | None, default: float) -> Value | None:
        """Shrink sub- and superscripts: Graphviz's SVG only shifts them, at full size."""
        if self.script_scale is None or not isinstance(label, Html) or "<SU" not in label:
            return label
        points = round(self.script_scale * float(size or default), 1)
        small = f'<FONT POINT-SIZE="{points:g}">'
        for tag in ("SUB", "SUP"):
            label = Html(label.replace(f"<{tag}>", f"<{tag}>{small}"))
            label = Html(label.replace(f"</{tag}>", f"</FONT></{tag}>"))
        return label

    def _link_attrs(self, link: str | None) -> dict[str, Value | None]:
        """``id`` and ``class`` linking a node or edge to its equations: made from positions
        only (``w-1-0-2``), never from user text; an id made unique in the figure."""
        if link is None:
            return {}
        element_id, n = link, 2
        while element_id in self._link_ids:
            element_id, n = f"{link}-{n}", n + 1
        self._link_ids.add(element_id)
        return {"id": element_id, "class": f"nnd-link nnd-{link}"}

    @contextmanager
    def subgraph(self, name: str | None = None, **attrs: Value | None) -> Iterator[None]:
        self.line(f"subgraph {name} {{" if name else "subgraph {")
        self._depth += 1
        self.attrs(**attrs)
        yield
        self._depth -= 1
        self.line("}")

    # --- labels ------------------------------------------------------------------------------

    def text(self, math: str, plain: str) -> Label:
        """Pick the label for the current style; ``math`` is finished HTML, ``plain`` raw text."""
        return Html(math) if self.labels == "math" else plain

    def user_text(self, text: str) -> Label:
        """Raw user text (titles, captions) in either style, always shown literally."""
        return escape_html(text) if self.labels == "math" else text

    # --- the whole graph ---------------------------------------------------------------------

    def source(self) -> str:
        t = self.theme
        font = t.math_font if self.labels == "math" else t.font
        head = [
            "digraph G {",
            "  graph"
            + attr_list(
                {
                    "rankdir": "LR",
                    "bgcolor": self.background or "transparent",
                    "fontname": t.font,
                    "fontsize": t.font_size,
                    "fontcolor": t.text,
                    "nodesep": 0.22,
                    "ranksep": 0.55,
                    **self.layout,
                    "label": self.label,
                    "labelloc": "b" if self.label is not None else None,
                }
            ),
            "  node"
            + attr_list(
                {
                    "fontname": font,
                    "fontsize": t.font_size,
                    "fontcolor": t.text,
                    "color": t.text,
                    "penwidth": t.pen,
                }
            ),
            "  edge"
            + attr_list(
                {
                    "fontname": font,
                    "fontsize": t.edge_font_size,
                    "fontcolor": t.text,
                    "color": t.edge,
                    "penwidth": t.pen,
                    "arrowsize": 0.6,
                }
            ),
        ]
        return "\n".join([*head, *self._body, "}"]) + "\n"
