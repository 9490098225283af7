"""The fence's ``include:`` can name parts of the equations, and long equations break into
aligned lines on the page (issue 13 item 4)."""

from __future__ import annotations

import doctest
import re

import markdown
import pytest
from conftest import DIAGRAMS

from nndiagram.model import Network
from nndiagram.site import html as site_html
from nndiagram.site.request import Where, check_options
from nndiagram.spec.load import load_spec
from nndiagram.symbolic import derive


def _latex(name: str) -> str:
    return derive(load_spec(DIAGRAMS / f"{name}.yaml")).to_latex()


def test_sections_pick_their_equations() -> None:
    latex = _latex("xor")
    entries = site_html.equations_html(latex, {"entries"})
    assert r"z^{[0]}_0 = w^{[0]}_{00} x_0" in entries
    assert "bmatrix" not in entries and "Composition" not in entries and "Cost" not in entries
    matrices = site_html.equations_html(latex, {"matrices"})
    assert "bmatrix" in matrices and r"z^{[0]} = w^{[0]} x + b^{[0]}" in matrices
    assert r"z^{[0]}_0 =" not in matrices
    cost = site_html.equations_html(latex, {"cost", "activations"})
    assert "Cost" in cost and "Activation functions" in cost and "First layer" not in cost
    assert site_html.equations_html(latex) == site_html.equations_html(latex, None)


def test_include_accepts_section_names_and_names_the_allowed_ones() -> None:
    assert check_options({"include": "diagram entries cost"}, Where("page.md", 3)) == {
        "include": ("diagram", "entries", "cost")
    }
    with pytest.raises(Exception, match=r"unknown include 'proofs'.*matrices, entries"):
        check_options({"include": ["proofs"]}, Where("page.md", 3))


def test_a_fence_shows_only_the_named_sections(tmp_path: object) -> None:
    md = markdown.Markdown(
        extensions=["pymdownx.arithmatex", "pymdownx.superfences"],
        extension_configs={
            "pymdownx.arithmatex": {"generic": True},
            "pymdownx.superfences": {
                "custom_fences": [
                    {
                        "name": "nndiagram",
                        "class": "nndiagram",
                        "format": __import__("nndiagram.site.fence", fromlist=["x"]).fence_format,
                        "validator": __import__(
                            "nndiagram.site.fence", fromlist=["x"]
                        ).fence_validator,
                    }
                ]
            },
        },
    )
    page = md.convert(
        "```nndiagram\ninputs: 2\nlayers:\n  - units: 2\n  - units: 1\n"
        "include: [composition, collapse]\n```\n"
    )
    assert "Composition" in page and "Collapse" in page
    assert "First layer" not in page and "<svg" not in page


def test_a_long_equation_breaks_into_aligned_lines_and_a_huge_expansion_is_left_out() -> None:
    latex = _latex("xor")
    (long,) = [line for line in latex.splitlines() if line.startswith(r"\[ a^{[1]}_0 =")]
    assert len(long) > site_html.LONG_EQUATION  # the composition, expanded entry by entry
    page = site_html.equations_html(latex, {"composition"})
    assert r"\begin{aligned} a^{[1]}_0 &amp;= g^{[1]}\bigl(" in page
    assert r"\\ &amp;\quad " in page  # continued on an aligned line
    big = site_html.equations_html(derive(Network.from_sizes([3, 4, 2], "relu")).to_latex())
    assert "too many to read here" in big
    small = site_html.equations_html(_latex("xor"), {"composition"})
    assert "too many to read here" not in small and r"a^{[1]}_0 &amp;=" in small


def test_html_doctests() -> None:
    assert doctest.testmod(site_html).failed == 0


def _fence_page(body: str) -> str:
    from nndiagram.site import fence

    md = markdown.Markdown(
        extensions=["pymdownx.arithmatex", "pymdownx.superfences"],
        extension_configs={
            "pymdownx.arithmatex": {"generic": True},
            "pymdownx.superfences": {
                "custom_fences": [
                    {
                        "name": "nndiagram",
                        "class": "nndiagram",
                        "format": fence.fence_format,
                        "validator": fence.fence_validator,
                    }
                ]
            },
        },
    )
    return str(md.convert(f"```nndiagram\n{body}```\n"))


def test_entries_on_a_page_are_the_entries_of_the_linked_equations() -> None:
    """On a page the equations carry the explorer's marks (``\\class{nnd-z-0-0}{z^{[0]}_0}``)
    and a layer of 10 or more units writes ``z^{[0]}_{10}``: ``include: [entries]`` showed
    nothing at all and ``[matrices]`` every entry, for every spec, as the guide's own example
    ``include: [diagram, entries, cost]`` did."""
    spec = "inputs: 2\nlayers:\n  - {units: 11, activation: relu}\n  - {units: 1}\nloss: mse\n"
    entries = _fence_page(spec + "include: [diagram, entries, cost]\n")
    assert "First layer" in entries and "Second layer" in entries and "Cost" in entries
    shown = _left_sides(entries)
    assert {"z^[0]_0", "z^[0]_10", "z^[1]_0", r"\vdots"} <= set(shown)
    assert "bmatrix" not in entries and "z^[0]" not in shown
    listed = _left_sides(_fence_page(spec + "include: [diagram, matrices]\n"))
    assert {"w^[0]", "b^[0]", "z^[0]", "a^[0]", "z^[1]"} <= set(listed)
    assert not [lhs for lhs in listed if "_" in lhs or "vdots" in lhs]


def _left_sides(page: str) -> list[str]:
    """The left side of every displayed equation, without marks and braces."""
    plain = re.sub(r"\\class\{[^{}]*\}", "", page)
    found = re.findall(r"\\\[(?:\\begin\{aligned\} )?([^=]*?) (?:&amp;)?=|\\\[(\\vdots)\\\]", plain)
    found = [side or dots for side, dots in found]
    return [side.replace("{", "").replace("}", "") for side in found]
