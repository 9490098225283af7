"""`nndiagram generate`: one Markdown page per spec with its SVGs, and an index."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import DIAGRAMS, RunCli
from hypothesis import given
from hypothesis import strategies as st

from nndiagram.site.gallery import gallery_entries, slugify
from nndiagram.site.interactive import inline_assets

pytestmark = pytest.mark.exe


def test_generate_writes_a_page_and_two_svgs_per_spec(tmp_path: Path, run_cli: RunCli) -> None:
    specs = tmp_path / "diagrams"
    specs.mkdir()
    for name in ("xor.yaml", "neuron.yaml", "not-fully-connected.yaml"):
        shutil.copy(DIAGRAMS / name, specs)
    done = run_cli("generate", "diagrams", "-o", "docs/gallery", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "wrote 4 page(s) to docs/gallery"
    out = tmp_path / "docs" / "gallery"
    stems = ("neuron", "not-fully-connected", "xor")
    expected = {f"{s}{ext}" for s in stems for ext in (".md", ".light.svg", ".dark.svg")}
    assert {p.name for p in out.iterdir()} == expected | {"index.md"}
    index = (out / "index.md").read_text()
    assert "- [XOR](xor.md) — `diagrams/xor.yaml`" in index
    page = (out / "xor.md").read_text()
    assert page.startswith('---\ntitle: "XOR"\n---\n\n# XOR\n')
    assert page.count("<svg") == 2 and '<div class="arithmatex">\\[' in page
    assert "measured error" in page and "Spec: diagrams/xor.yaml" in page
    assert "[SVG (light)](xor.light.svg)" in page
    svg = (out / "xor.dark.svg").read_text()
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "missing edge x_0 -&gt; z_0_1" in (out / "not-fully-connected.md").read_text()
    # deterministic: a second run writes the same bytes
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert run_cli("generate", "diagrams", "-o", "docs/gallery", cwd=tmp_path).returncode == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_file_names_from_spec_names_stay_inside_the_docs_dir(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    for stem in ("..", "..evil", "A b/c".replace("/", "_"), "index", "x y", "x-y"):
        (specs / f"{stem}.yaml").write_text("inputs: 1\nlayers: [{units: 1}]\n")
    slugs = [entry.slug for entry in gallery_entries(specs)]
    assert len(set(slugs)) == len(slugs)
    assert "index" not in slugs  # the gallery's own index page is not overwritten
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", slug) for slug in slugs)


@pytest.mark.parametrize(
    ("stem", "slug"),
    [("xor", "xor"), ("Deep Linear", "deep-linear"), ("../../etc", "etc"), ("...", "spec")],
)
def test_slugify(stem: str, slug: str) -> None:
    assert slugify(stem) == slug


def test_titles_are_escaped_in_headings_and_links(tmp_path: Path, run_cli: RunCli) -> None:
    specs = tmp_path / "diagrams"
    specs.mkdir()
    (specs / "evil.yaml").write_text(
        'title: "<script>alert(1)</script> [x](javascript:y)"\ninputs: 1\nlayers: [{units: 1}]\n'
    )
    assert run_cli("generate", "diagrams", "-o", "out", cwd=tmp_path).returncode == 0
    page = (tmp_path / "out" / "evil.md").read_text()
    front_matter, heading = page.splitlines()[1], page.splitlines()[4]
    assert front_matter == 'title: "&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:y)"'
    assert heading == r"# &lt;script&gt;alert(1)&lt;/script&gt; \[x\](javascript:y)"
    assert "<script" not in page.replace(inline_assets(), "")  # nndiagram's own script only


def test_generate_reports_a_bad_spec_with_its_line(tmp_path: Path, run_cli: RunCli) -> None:
    specs = tmp_path / "diagrams"
    specs.mkdir()
    (specs / "bad.yaml").write_text("inputs: 2\nlayers:\n  - units: 0\n")
    done = run_cli("generate", "diagrams", "-o", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("diagrams/bad.yaml:3:12: error:")
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_generate_needs_an_existing_specs_folder(tmp_path: Path, run_cli: RunCli) -> None:
    done = run_cli("generate", "nowhere", "-o", "out", cwd=tmp_path)
    assert done.returncode == 2 and "specs folder not found: nowhere" in done.stderr


# --- front matter: every page's title reads back through a YAML reader ----------------------

TRICKY_TITLES = [
    'He said "x: y" # not a comment',
    "back\\slash, \\href{javascript:alert(1)}{x} and $\\style{color:red}{y}$",
    "---",
    "Ω ≠ ω, 😀, é, ﬁ and a tab\there",
    "[click me](javascript:alert(1)) <img src=x onerror=alert(1)>",
    "'single' & ampersand; @at `tick` %percent |pipe >greater",
]


def _front_matter_title(page: str) -> str:
    import yaml
    from mkdocs.utils.meta import get_data

    assert page.startswith("---\n")
    block = page[4 : page.index("\n---\n", 4)]
    title = yaml.safe_load(block)["title"]  # the YAML reader alone
    _, meta = get_data(page)  # as MkDocs (and ProperDocs) read it
    assert meta == {"title": title}, meta
    return str(title)


@pytest.mark.slow
def test_every_gallery_page_has_front_matter_a_yaml_reader_reads_back(tmp_path: Path) -> None:
    """The whole shipped gallery and specs with tricky titles: each page's front matter is
    YAML that parses back to the page's title (HTML-escaped, TeX link macros made inert)."""
    import html

    from nndiagram.quoting import inert_tex
    from nndiagram.site.cache import ArtefactCache
    from nndiagram.site.gallery import gallery_files

    specs = tmp_path / "specs"
    shutil.copytree(DIAGRAMS, specs)
    for index, title in enumerate(TRICKY_TITLES):
        (specs / f"tricky-{index}.json").write_text(
            json.dumps({"title": title, "inputs": 1, "layers": [{"units": 1}]}), encoding="utf-8"
        )
    files = gallery_files(specs, ArtefactCache(None), root=tmp_path, workers=2)
    pages = {name: text for name, text in files.items() if name.endswith(".md")}
    assert len(pages) == len(list(DIAGRAMS.glob("*.yaml"))) + len(TRICKY_TITLES) + 1
    for name, page in pages.items():
        if name == "index.md":
            continue
        title = _front_matter_title(page)
        assert title and "\n" not in title, name
    for index, title in enumerate(TRICKY_TITLES):
        read = _front_matter_title(pages[f"tricky-{index}.md"])
        assert read == html.escape(inert_tex(title))
        assert "\\href" not in read and "\\style" not in read


@given(st.text(max_size=60))
def test_front_matter_reads_back_whatever_the_title(title: str) -> None:
    """The encoder alone, on any text (control characters, separators and noncharacters too:
    the loader refuses them, the encoder must not depend on it)."""
    import html

    from nndiagram.quoting import inert_tex
    from nndiagram.site.gallery import front_matter

    page = front_matter(title) + "\n# x\n"
    assert _front_matter_title(page) == html.escape(inert_tex(title))
