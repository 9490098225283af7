"""The gallery: one page per spec, each with its diagram (light and dark), equations, check
report and source, plus an index. Pages are plain Markdown holding ready-made HTML, so MkDocs,
ProperDocs and Zensical build them with no plugin; the math needs MathJax on the site (the
plugin adds it; otherwise see the guide). ``nndiagram generate`` writes the files; the plugin
serves the same files from memory.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError, UsageError
from ..files import read_regular
from ..output import write_atomic
from ..quoting import inert_tex
from ..spec import readers as spec_readers
from .cache import ArtefactCache
from .html import PALETTE_STYLE, PARTS, bundle_html, inline_svg
from .render import SPEC_FORMATS, RenderJob, prerender, render_cached, spec_format


@dataclass(frozen=True)
class GalleryEntry:
    spec: Path  # the spec file
    label: str  # the spec path as pages show it
    slug: str  # file-name stem of its page and SVGs


def spec_files(specs_dir: Path) -> list[Path]:
    """Spec files in the folder (not sub-folders), in name order.

    A symbolic link must stay in the folder: a page shows its spec's source, so a link to a
    file elsewhere would publish that file."""
    if not specs_dir.is_dir():
        raise UsageError(f"specs folder not found: {specs_dir}")
    found = sorted(p for p in specs_dir.iterdir() if p.is_file() and p.suffix in SPEC_FORMATS)
    for path in found:
        if not path.resolve().is_relative_to(specs_dir.resolve()):
            raise SpecError(
                f"links to a file outside {specs_dir}; refusing to read it", path=str(path)
            )
    return found


MAX_SLUG = 80  # page and SVG names stay far below the 255 bytes a file name may have
# Device names on Windows, whatever the extension: a page called con.md cannot be opened there.
_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)", re.IGNORECASE)


def slugify(stem: str) -> str:
    """A safe file-name stem: lower-case letters, digits, ``-`` and ``_`` only."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", stem.lower())[:MAX_SLUG].strip("-_")
    if _RESERVED.fullmatch(slug):
        slug += "-spec"
    return slug or "spec"


def gallery_entries(
    specs_dir: Path, root: Path | None = None, extra: Sequence[tuple[Path, str]] = ()
) -> list[GalleryEntry]:
    """The folder's specs in name order, then ``extra`` specs (path, label) made elsewhere,
    such as the plugin's imported models."""
    entries: list[GalleryEntry] = []
    used = {"index"}
    for spec, _label in extra:
        used.add(slugify(spec.stem))
    for spec in spec_files(specs_dir):
        slug = base = slugify(spec.stem)
        number = 2
        while slug in used:
            slug, number = f"{base}-{number}", number + 1
        used.add(slug)
        label = spec.as_posix()
        if root is not None and spec.resolve().is_relative_to(root.resolve()):
            label = spec.resolve().relative_to(root.resolve()).as_posix()
        entries.append(GalleryEntry(spec, label, slug))
    entries += [GalleryEntry(spec, label, slugify(spec.stem)) for spec, label in extra]
    return entries


def job_for(entry: GalleryEntry) -> RenderJob:
    # One byte over the size limit at most (a 400 MB file in the specs folder is never held in
    # memory), and a FIFO among the specs is refused, not waited on.
    try:
        raw = read_regular(entry.spec, spec_readers.MAX_BYTES, "a spec is a few lines")
    except SpecError as error:
        raise SpecError(error.message, path=entry.label) from None
    return RenderJob(spec_readers.decode(raw, entry.label), entry.label, spec_format(entry.spec))


def _markdown_text(text: str) -> str:
    """Plain text safe in a Markdown heading or link text: HTML as entities, the characters
    that start links, emphasis, code or math (``$``, ``\\(``) backslash-escaped."""
    return re.sub(r"([\\`*_\[\]$])", r"\\\1", html.escape(inert_tex(text), quote=False))


def yaml_string(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that every YAML reader reads back as ``text``:
    printable ASCII and printable non-ASCII letters as they are, everything else (controls,
    line separators, noncharacters, surrogates) as ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes.

    JSON is not enough: ``json.dumps(ensure_ascii=False)`` writes U+007F, U+0085 or U+FFFE raw,
    a YAML reader refuses them, and MkDocs then shows the front matter as Markdown.
    """
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F or (
            code > 0xA0 and char.isprintable() and spec_readers.unsafe_character(char) is None
        ):
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


def front_matter(title: str) -> str:
    """The page's YAML front matter: its title, HTML-escaped (generators put it in <title> and
    the navigation as it is), with any TeX macro that could make a link made inert."""
    return f"---\ntitle: {yaml_string(html.escape(inert_tex(title)))}\n---\n"


def page_markdown(entry: GalleryEntry, bundle: dict[str, object], explore: bool = True) -> str:
    """One gallery page; ``explore``: the explorer's script and CSS inline (False when the
    plugin loads them on every page)."""
    title = str(bundle.get("title") or entry.slug)
    body = bundle_html(bundle, include=PARTS, prefix=f"nnd-{entry.slug}", source_label=entry.label)
    assets = PALETTE_STYLE
    if explore:
        from .interactive import inline_assets

        assets += inline_assets()
    return (
        f"{front_matter(title)}\n"
        f"# {_markdown_text(title)}\n\n"
        f"{assets}\n\n{body}\n\n"
        f"Download: [SVG (light)]({entry.slug}.light.svg) · [SVG (dark)]({entry.slug}.dark.svg)\n"
    )


def index_markdown(entries: list[GalleryEntry], bundles: list[dict[str, object]]) -> str:
    lines = ["# Gallery", "", "One page per spec, each checked against its equations.", ""]
    for entry, bundle in zip(entries, bundles, strict=True):
        title = _markdown_text(str(bundle.get("title") or entry.slug))
        lines.append(f"- [{title}]({entry.slug}.md) — `{entry.label}`")
    return "\n".join(lines) + "\n"


def gallery_files(
    specs_dir: Path,
    cache: ArtefactCache,
    *,
    root: Path | None = None,
    workers: int | None = None,
    extra: Sequence[tuple[Path, str]] = (),
    explore: bool = True,
) -> dict[str, str]:
    """Every gallery file by its path relative to the gallery folder: pages, SVGs, index.
    ``explore``: see :func:`page_markdown`."""
    entries = gallery_entries(specs_dir, root, extra)
    jobs = [job_for(entry) for entry in entries]
    prerender(jobs, cache, workers)
    files: dict[str, str] = {}
    bundles = []
    for entry, job in zip(entries, jobs, strict=True):
        bundle = render_cached(job, cache)  # raises the spec's error, with file and line
        bundles.append(bundle)
        files[f"{entry.slug}.md"] = page_markdown(entry, bundle, explore)
        for variant in ("light", "dark"):
            svg = inline_svg(str(bundle[f"svg_{variant}"]), f"{entry.slug}-{variant}")
            files[f"{entry.slug}.{variant}.svg"] = svg + "\n"
    files["index.md"] = index_markdown(entries, bundles)
    return files


def generate_gallery(
    specs_dir: Path, docs_dir: Path, *, cache_dir: Path | None = None
) -> list[Path]:
    """``nndiagram generate``: write the gallery into ``docs_dir``; returns the pages written."""
    if not spec_files(specs_dir):  # an empty gallery is a mistaken folder, not a result
        suffixes = ", ".join(f"*{suffix}" for suffix in SPEC_FORMATS)
        raise UsageError(f"{specs_dir}: no spec files ({suffixes}) in this folder; nothing written")
    cache = ArtefactCache(cache_dir if cache_dir is not None else Path(".nndiagram-cache"))
    files = gallery_files(specs_dir, cache, root=Path.cwd())
    cache.prune()
    target = docs_dir.resolve()
    written: list[Path] = []
    for name, content in files.items():
        path = (target / name).resolve()
        if not path.is_relative_to(target):  # slugify makes this impossible; keep it so
            raise UsageError(f"refusing to write outside {docs_dir}: {name}")
        write_atomic(path, content)
        if name.endswith(".md"):
            written.append(path)
    return written
