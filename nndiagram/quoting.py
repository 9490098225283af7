"""Every DOT and HTML-like-label quoting rule, in one place; the doctests are the specification.

Builders hand raw text (user names, titles, captions, notation) to these functions and paste
the result into DOT; they never escape anything themselves.

Two kinds of attribute value exist:
- plain text becomes a double-quoted DOT string: ``"``, ``\\`` and ``&`` (Graphviz decodes
  entities in every label) are escaped, and a newline becomes Graphviz's ``\\n`` line break;
- :class:`Html` marks markup built from :func:`escape_html`'d pieces (``w<SUB>0</SUB>``),
  sent between ``<`` and ``>``. Graphviz expands ``\\N``, ``\\G`` … even inside HTML labels,
  so backslashes are doubled there too.

Node IDs are never user text: :func:`dot_id` keeps a plain identifier (``x_0``, ``z_0_1``) as it
is, so the DOT reads like the tutorial's, and maps anything else to a quoted ASCII code that
cannot collide with an identifier. The text itself is always shown through an explicit label.

User text that reaches a page where MathJax runs passes :func:`inert_tex` (or, as HTML,
:func:`inert_tex_html`): no TeX macro in it can make a link, an id, a class, a style or load code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})
# Control characters other than tab and newline cannot be carried by either label kind.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Html(str):
    r"""A finished HTML-like label body (already escaped); :func:`quote` wraps it in ``<…>``."""

    __slots__ = ()


Value = str | Html | int | float


def clean(text: str) -> str:
    r"""Drop control characters and normalise line ends; the rest is shown literally.

    >>> clean("a\r\nb\x00c")
    'a\nbc'
    """
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def escape_html(text: str) -> Html:
    r"""User or notation text as HTML-like label content: entities escaped, newlines as ``<BR/>``.

    >>> escape_html('<b> & "q"')
    '&lt;b&gt; &amp; &quot;q&quot;'
    >>> escape_html("two\nlines")
    'two<BR/>lines'
    >>> escape_html("a\\N")
    'a\\\\N'
    >>> escape_html("tab\tstop")  # Graphviz drops tabs from HTML-like labels
    'tab stop'
    >>> escape_html("]")  # Graphviz 2.43 rejects an element holding just ] or ]]
    '&#93;'
    """
    lines = clean(text).replace("\t", " ").replace("\\", "\\\\").split("\n")
    escaped = (html.escape(line, quote=True).replace("]", "&#93;") for line in lines)
    return Html("<BR/>".join(escaped))


def xml_text(text: str) -> str:
    r"""Text for an SVG ``<title>`` or attribute value (one line).

    >>> xml_text('a <b> & "c"\nd')
    'a &lt;b&gt; &amp; &quot;c&quot; d'
    """
    return html.escape(" ".join(clean(text).split()), quote=True)


def quote(value: Value) -> str:
    r"""An attribute value as DOT text.

    >>> quote("w_0")
    '"w_0"'
    >>> quote('"]; evil [label="x')
    '"\\"]; evil [label=\\"x"'
    >>> quote("line\nbreak")
    '"line\\nbreak"'
    >>> quote("&amp; ends with \\")
    '"&amp;amp; ends with \\\\"'
    >>> quote(Html("w<SUB>0</SUB>"))
    '<w<SUB>0</SUB>>'
    >>> quote(Html(""))  # Graphviz rejects <> as a syntax error
    '""'
    >>> quote(0.5), quote(2)
    ('0.5', '2')
    """
    if isinstance(value, Html):
        return f"<{value}>" if value else '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # Graphviz decodes entities (&amp;) in every label, so a literal & is escaped as one.
    text = clean(value).replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def dot_id(name: str) -> str:
    r"""A node ID for ``name``: the name itself when it is a plain identifier, else a code.

    The code is quoted and contains ``~``, which no identifier does, so two different names
    never share an ID.

    >>> dot_id("z_0_1")
    'z_0_1'
    >>> dot_id("node")
    '"~node"'
    >>> dot_id('"]; evil')
    '"~_22__5d__3b__20_evil"'
    >>> dot_id("x₀")
    '"~x_2080_"'
    """
    if _IDENTIFIER.match(name) and name.lower() not in _KEYWORDS:
        return name
    code = "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}_" for c in name)
    return f'"~{code}"'


def attr_list(attrs: Mapping[str, Value | None]) -> str:
    r"""``[key=value, …]`` in the given order; ``None`` values are left out.

    >>> attr_list({"label": "b", "width": 0.3, "style": None})
    ' [label="b", width=0.3]'
    >>> attr_list({})
    ''
    """
    items = [f"{key}={quote(value)}" for key, value in attrs.items() if value is not None]
    return f" [{', '.join(items)}]" if items else ""


# --- TeX for MathJax -------------------------------------------------------------------

# MathJax macros that make a link, set a class, id, style or data attribute, or load code:
# the html, bbox, unicode and require packages' macros, and base \mmlToken, which may set
# href, style, id and class. Whatever MathJax a site loads (the plugin's turns the packages
# off, a site's own may not), user text never reaches a page holding one of them.
TEX_UNSAFE_MACROS = frozenset(
    ("href", "class", "cssId", "style", "data", "html", "require", "unicode", "bbox", "mmlToken")
)
# A TeX token starting with a backslash: a control word, or a backslash and one character
# (so the second backslash of ``\\href`` is not taken for the start of ``\href``).
_TEX_CONTROL = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
_HTML_PARTS = re.compile(r"(<[^>]*>)")


def inert_tex(text: str) -> str:
    r"""``text`` with the backslash of every macro of :data:`TEX_UNSAFE_MACROS` removed, so
    MathJax typesets ``\href{javascript:…}{x}`` as the letters ``href{javascript:…}{x}``."""
    if "\\" not in text:
        return text
    return _TEX_CONTROL.sub(
        lambda m: m.group(1) if m.group(1) in TEX_UNSAFE_MACROS else m.group(0), text
    )


def inert_tex_html(fragment: str) -> str:
    """:func:`inert_tex` on the text of an HTML fragment as the browser decodes it (so
    ``&#92;href`` counts as ``\\href``); tags and unchanged text are kept byte for byte."""
    parts = _HTML_PARTS.split(fragment)
    for index in range(0, len(parts), 2):  # even indices are text between tags
        text = parts[index]
        if "\\" not in text and "&" not in text:
            continue
        decoded = html.unescape(text)
        cleaned = inert_tex(decoded)
        if cleaned != decoded:
            parts[index] = html.escape(cleaned, quote=False)
    return "".join(parts)
