"""A rendered bundle -> the HTML of one diagram block. Spec text is escaped here and only here.

Everything a spec author wrote (title, description, names inside the SVG) reaches the page
through this module: titles with :func:`html.escape`, the description through a Markdown
converter that cannot emit raw HTML or ``javascript:`` links, the SVG through
:func:`inline_svg`, which drops scripts and event handlers Graphviz would never write anyway.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any
from xml.etree import ElementTree

import markdown
from markdown.treeprocessors import Treeprocessor

from ..notation import LONG_EQUATION as LONG_EQUATION  # a longer equation breaks on the page
from ..notation import broken_latex
from ..quoting import inert_tex, inert_tex_html

PARTS = ("diagram", "equations", "check", "source")
# Parts of the equations a fence can name in ``include:`` instead of all of them.
EQUATION_SECTIONS = ("matrices", "entries", "composition", "collapse", "cost", "activations")
INCLUDE = (*PARTS, *EQUATION_SECTIONS)
EXPANDED_TERMS = 16  # an expanded composition with more terms is left to `nndiagram equations`

# Material switches palettes by setting data-md-color-scheme on <body>; without Material the
# light variant shows. Emitted once per page by the fence, and by every generated page.
PALETTE_CSS = (
    ".nndiagram-dark{display:none}"
    '[data-md-color-scheme="slate"] .nndiagram-light{display:none}'
    '[data-md-color-scheme="slate"] .nndiagram-dark{display:block}'
    ".nndiagram-svg svg{max-width:100%;height:auto}"
    ".nndiagram-check td,.nndiagram-check th{font-variant-numeric:tabular-nums}"
)
PALETTE_STYLE = f"<style>{PALETTE_CSS}</style>"

_SAFE_SCHEMES = ("http", "https", "mailto")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def safe_url(url: str) -> bool:
    """Relative URLs and http(s)/mailto only; entities and control characters can't hide a
    ``javascript:`` scheme because the check runs on the decoded, stripped text."""
    decoded = re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(url)).lower()
    scheme = _SCHEME.match(decoded)
    return scheme is None or scheme.group(1) in _SAFE_SCHEMES


class _DropUnsafeLinks(Treeprocessor):
    def run(self, root: ElementTree.Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None and not safe_url(value):
                    del element.attrib[attribute]


def description_html(text: str) -> str:
    """Render a spec's description as Markdown with raw HTML shown as text, not obeyed."""
    extensions: list[Any] = []
    try:
        from pymdownx.arithmatex import ArithmatexExtension

        extensions.append(ArithmatexExtension(generic=True))
    except ImportError:  # pragma: no cover - pymdown-extensions is a dependency
        pass
    md = markdown.Markdown(extensions=extensions)
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.treeprocessors.register(_DropUnsafeLinks(md), "nndiagram_safe_links", 1)
    return md.convert(text)


_SVG_DROPPED = re.compile(
    r"<(script|foreignObject|iframe|object|embed)\b.*?(</\1\s*>|/>)", re.DOTALL | re.IGNORECASE
)
_TAG = re.compile(r"<[^!?/][^>]*>")
_EVENT_ATTRIBUTE = re.compile(r"""\s+on[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_HREF = re.compile(r"""(\s(?:xlink:)?href\s*=\s*)("[^"]*"|'[^']*')""", re.IGNORECASE)


def _clean_tag(match: re.Match[str]) -> str:
    tag = _EVENT_ATTRIBUTE.sub("", match.group(0))
    return _HREF.sub(lambda m: m.group(0) if safe_url(m.group(2)[1:-1]) else "", tag)


def inline_svg(svg: str, prefix: str) -> str:
    """A Graphviz SVG document -> an ``<svg>`` element safe to inline, its ids made unique."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("not an SVG document")
    body = re.sub(r"<!--.*?-->", "", svg[start:], flags=re.DOTALL)
    body = _SVG_DROPPED.sub("", body)
    body = _TAG.sub(_clean_tag, body)
    body = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', body)
    return re.sub(r'(href="#|url\(#)([^")]+)', rf"\1{prefix}-\2", body).strip()


def equations_html(latex: str, sections: Iterable[str] | None = None) -> str:
    """``Derivation.to_latex()`` as HTML: each ``% Section`` comment a caption, each display
    equation ``\\[ … \\]`` an arithmatex-generic block that MathJax typesets, a long one
    broken into aligned lines. ``sections`` (names from :data:`EQUATION_SECTIONS`) keeps only
    those parts; ``None`` keeps everything."""
    wanted = None if sections is None else set(sections)
    parts: list[str] = []
    comments = 0
    title, header, omitted = "", "", False
    for line in latex.splitlines():
        line = line.strip()
        if line.startswith("%"):
            comments += 1
            if comments > 1:  # the first comment names the network, the caption does that
                title = line.lstrip("% ")
                shown = html.escape(title)
                header = f'<p class="nndiagram-section"><strong>{shown}</strong></p>'
            continue
        if not line:
            continue
        body = line[2:-2].strip() if line.startswith("\\[") and line.endswith("\\]") else line
        if wanted is not None and _line_section(title, body) not in wanted:
            continue
        parts.append(header)  # a section's caption, once, above its first kept line
        header = ""
        if _section_of(title) == "composition" and _terms(body) > EXPANDED_TERMS:
            if not omitted:
                parts.append(
                    '<p class="nndiagram-note">The entry-wise composition has '
                    f"{_terms(body)} terms or more, too many to read here; "
                    "<code>nndiagram equations</code> prints it.</p>"
                )
            omitted = True
            continue
        equation = html.escape(broken_latex(body), quote=False)
        parts.append(f'<div class="arithmatex">\\[{equation}\\]</div>')
    return "".join(parts)


def _section_of(title: str) -> str:
    """The ``include:`` name of a ``% Section`` title; layer sections hold two."""
    lowered = title.lower()
    for name, words in (
        ("composition", ("composition",)),
        ("collapse", ("collapse",)),
        ("cost", ("cost",)),
        ("activations", ("activation",)),
    ):
        if any(word in lowered for word in words):
            return name
    return "layer"


def _section_names(title: str) -> set[str]:
    section = _section_of(title)
    return {"matrices", "entries"} if section == "layer" else {section}


def _line_section(title: str, body: str) -> str:
    """In the inputs and layer sections, an equation whose left side carries a unit index
    (``z^{[0]}_1 = …``) is an entry; matrices and vector equations are ``matrices``."""
    section = _section_of(title)
    if section != "layer":
        return section
    if body == r"\vdots":  # the entries left out between the first ones and the last
        return "entries"
    # The explorer's marks (``\class{nnd-z-0-1}{z^{[0]}_1}``) and two-digit units
    # (``z^{[0]}_{10}``) wrap the subscript in braces: look past both.
    lhs = re.sub(r"\\class\{[^{}]*\}", "", body.split(" = ", 1)[0])
    return "entries" if re.search(r"_\{?\d", lhs) else "matrices"


def _terms(body: str) -> int:
    return body.count(" + ") + body.count(" - ") + 1


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (int, float)):
        return f"{value:.1e}"
    return html.escape(str(value))


_STATUS = {"pass": "✔ pass", "fail": "✘ FAIL", "skip": "– skip"}


def check_html(report: Mapping[str, Any]) -> str:
    """``verify.Report.to_json()`` as a table: each check, its measured error and tolerance."""
    rows = list(report.get("checks", []))
    passed = bool(report.get("passed", all(r.get("status") != "fail" for r in rows)))
    counts = report.get("counts", {})
    summary = ", ".join(f"{counts[k]} {k}" for k in ("pass", "fail", "skip") if counts.get(k))
    verdict = "all checks pass" if passed else "a check FAILED"
    body = "".join(
        f'<tr class="nndiagram-{html.escape(str(row.get("status", "")))}">'
        f"<td>{html.escape(str(row.get('name', '')))}"
        + (f" <em>[{html.escape(str(row['instance']))}]</em>" if row.get("instance") else "")
        + f"</td><td>{_STATUS.get(str(row.get('status')), html.escape(str(row.get('status'))))}"
        f"</td><td>{_number(row.get('error'))}</td><td>{_number(row.get('tolerance'))}</td>"
        f"<td>{html.escape(str(row.get('detail') or ''))}</td></tr>"
        for row in rows
    )
    status = "passed" if passed else "failed"
    return (
        f'<div class="nndiagram-check nndiagram-check-{status}">'
        f"<p><strong>Checked numerically:</strong> {verdict}"
        f"{f' ({html.escape(summary)})' if summary else ''}.</p>"
        "<table><thead><tr><th>check</th><th>status</th><th>measured error</th>"
        f"<th>tolerance</th><th>detail</th></tr></thead><tbody>{body}</tbody></table></div>"
    )


def source_html(source: str, label: str, language: str) -> str:
    return (
        f'<details class="nndiagram-source"><summary>Spec: {html.escape(label)}</summary>'
        f'<pre><code class="language-{html.escape(language)}">{html.escape(source)}</code>'
        "</pre></details>"
    )


def diagram_html(bundle: Mapping[str, Any], prefix: str, theme: str) -> str:
    variants = ("light", "dark") if theme == "auto" else (theme,)
    svgs = "".join(
        f'<div class="nndiagram-svg nndiagram-{variant if theme == "auto" else "only"}">'
        f"{inline_svg(bundle['svg_' + variant], f'{prefix}-{variant}')}</div>"
        for variant in variants
    )
    title = bundle.get("title")
    caption = f"<figcaption>{html.escape(title)}</figcaption>" if title else ""
    return f'<figure class="nndiagram-diagram">{svgs}{caption}</figure>'


def bundle_html(
    bundle: Mapping[str, Any],
    *,
    include: Iterable[str],
    prefix: str,
    theme: str = "auto",
    source_label: str = "",
) -> str:
    """The whole block, parts in the order of :data:`PARTS`."""
    wanted = set(include)
    parts: list[str] = []
    if "diagram" in wanted:
        parts.append(diagram_html(bundle, prefix, theme))
        if bundle.get("description"):
            description = description_html(bundle["description"])
            parts.append(f'<div class="nndiagram-description">{description}</div>')
    linked = set()  # the parts holding equations marked for the figure (already inert)
    if bundle.get("problems") and wanted & {"equations", "check"}:
        parts.append(problems_html(bundle["problems"]))  # nothing derived, nothing checked
    else:
        sections = None if "equations" in wanted else wanted & set(EQUATION_SECTIONS)
        if sections or "equations" in wanted:  # sections: only the named parts
            latex = bundle["equations"]
            if bundle.get("links"):
                # Marked after it is made inert: the only \class here is nndiagram's own.
                from .interactive import mark_latex

                latex = mark_latex(inert_tex(latex), bundle["links"]["context"])
                linked.add(len(parts))
            equations = equations_html(latex, sections) if sections else equations_html(latex)
            parts.append(f'<div class="nndiagram-equations">{equations}</div>')
            if bundle.get("backward"):  # the explorer's backward pass (already marked, inert)
                linked.add(len(parts))
                parts.append(backward_html(bundle["backward"]))
        if "check" in wanted:
            parts.append(check_html(bundle["check"]))
    if "source" in wanted:
        parts.append(source_html(bundle["source"], source_label, bundle["source_format"]))
    if "diagram" in wanted and bundle.get("links"):
        from .interactive import data_element

        data = {"tips": bundle["links"]["tips"]}
        if bundle.get("backward") and "equations" in wanted:
            data.update(back=1, base=bundle["links"]["context"]["base"])
        parts.append(data_element(data))
    name = html.escape(bundle.get("name", "network"))
    # Every part is made inert on its own (parts begin and end with a tag, so this is the same
    # as making the whole block inert), except the equations marked above.
    inner = "".join(p if i in linked else inert_tex_html(p) for i, p in enumerate(parts))
    return f'<div class="nndiagram" data-nndiagram="{name}">{inner}</div>'


def backward_html(latex: str) -> str:
    """The backward equations (one ``aligned`` block) as a captioned equations part."""
    return (
        '<div class="nndiagram-equations nndiagram-backward"><p class="nndiagram-section">'
        "<strong>Backward pass</strong></p>"
        f'<div class="arithmatex">\\[{html.escape(latex, quote=False)}\\]</div></div>'
    )


def problems_html(problems: Iterable[str]) -> str:
    """Why a hand-drawn graph is not a network the equations can describe."""
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return (
        '<div class="nndiagram-problems"><p><strong>Not a valid network:</strong> not a '
        "layered, fully connected feed-forward network, so it has no matrix equations.</p>"
        f"<ul>{items}</ul></div>"
    )
