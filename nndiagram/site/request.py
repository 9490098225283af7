"""What a ```` ```nndiagram ```` fence asks for, and where it stands.

``page_context`` asks the generator which page is being rendered (for the project root and for
error lines); ``parse_fence`` reads the fence body, a ``spec:`` path with options or an inline
spec, into a :class:`FenceRequest` whose render job the cache and the pipeline understand.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from markdown import Markdown

from ..errors import SpecError
from ..files import read_regular
from ..model import VIEWS
from ..spec import readers as spec_readers
from .html import INCLUDE
from .render import NumbersRequest, RenderJob, spec_format

THEMES = ("auto", "light", "dark")
DEFAULT_INCLUDE = ("diagram", "equations", "check")
FENCE_OPTIONS = ("include", "theme", "view", "params", "input", "sample")
MAX_NUMBERS_BYTES = 64 * 2**20  # a P.npz or X.npy a page may draw
MAX_FENCE_OPTIONS_BYTES = 10_000


# --- where are we: the page being rendered and the project root ------------------------------


@dataclass(frozen=True)
class PageContext:
    docs_dir: Path | None = None
    path: str | None = None  # the page's path as errors should name it
    markdown: str | None = None


def page_context(md: Markdown | None) -> PageContext:
    """Ask the generator which page this is. MkDocs and ProperDocs register a ``relpath``
    treeprocessor holding the page's ``File`` and the config; Zensical a preprocessor holding
    its page and config."""
    if md is None:
        return PageContext()
    # Registry has no .get(); MkDocs names its link-rewriting processor "relpath".
    relpath = md.treeprocessors["relpath"] if "relpath" in md.treeprocessors else None  # noqa: SIM401
    file, config = getattr(relpath, "file", None), getattr(relpath, "config", None)
    if file is not None and config is not None:
        docs_dir = Path(config["docs_dir"])
        shown = shown_path(docs_dir, file.src_uri)
        try:
            text = file.content_string
        except (OSError, UnicodeDecodeError):
            text = None
        return PageContext(docs_dir, shown, text)
    for processor in md.preprocessors:
        page, config = getattr(processor, "page", None), getattr(processor, "config", None)
        if page is not None and isinstance(config, Mapping) and config.get("docs_dir"):
            docs_dir = Path(config["docs_dir"])
            try:
                text = (docs_dir / page.path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
            return PageContext(docs_dir, shown_path(docs_dir, page.path), text)
    return PageContext()


def shown_path(docs_dir: Path, src_uri: str) -> str:
    """``docs/guide.md`` relative to the working directory when it can be, else absolute."""
    path = docs_dir / src_uri
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


def resolve_spec_path(spec: str, root: Path) -> Path:
    """``spec:`` relative to the project root; absolute paths and escapes are refused."""
    if not spec or Path(spec).is_absolute() or re.match(r"^[A-Za-z]:", spec):
        raise SpecError(f"spec path {spec!r} must be relative to the project root ({root})")
    if "\0" in spec:  # the OS cannot name such a file; pathlib would raise ValueError
        raise SpecError(f"spec path {spec!r} contains a NUL character")
    base = root.resolve()
    path = (base / spec).resolve()
    if not path.is_relative_to(base):
        raise SpecError(f"spec path {spec!r} leaves the project root ({root})")
    return path


# --- reading the fence body ------------------------------------------------------------------


@dataclass(frozen=True)
class FenceRequest:
    job: RenderJob
    include: tuple[str, ...] = DEFAULT_INCLUDE
    theme: str = "auto"
    spec_file: str | None = None  # as written in ``spec:``; None for an inline spec
    first_line: int = 1  # of the inline spec text within the page, when known


@dataclass(frozen=True)
class Where:
    """The fence in its page, for errors about the fence itself (not about the spec)."""

    path: str
    line: int

    def error(self, message: str) -> SpecError:
        return SpecError(message, path=self.path, line=self.line)


def check_options(options: Mapping[str, Any], where: Where) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in options.items():
        if key == "include":
            items = value.split() if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise where.error(f"include must be a list of: {', '.join(INCLUDE)}")
            unknown = [i for i in items if i not in INCLUDE]
            if unknown:
                raise where.error(
                    f"unknown include {unknown[0]!r} (must be one of: {', '.join(INCLUDE)})"
                )
            checked["include"] = tuple(items)
        elif key == "theme":
            if value not in THEMES:
                raise where.error(f"theme {value!r} (must be one of: {', '.join(THEMES)})")
            checked["theme"] = value
        elif key == "view":
            if value not in VIEWS:
                raise where.error(f"view {value!r} (must be one of: {', '.join(VIEWS)})")
            checked["view"] = value
        elif key in ("params", "input"):
            if not isinstance(value, str) or not value:
                raise where.error(f"{key} must be a path such as docs/tutorial/xor.npz")
            checked[key] = value
        elif key == "sample":
            if isinstance(value, str) and value.isdigit():  # from the fence header
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise where.error(f"sample must be a column number 0, 1, … (got {value!r})")
            checked["sample"] = value
        else:
            allowed = ", ".join((*FENCE_OPTIONS, "spec"))
            raise where.error(f"unknown option {key!r} (must be one of: {allowed})")
    return checked


_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")


def split_inline_options(source: str) -> tuple[str, str]:
    """Blank out the top-level ``include:``/``theme:`` entries of an inline spec, keeping every
    other line where it was so the spec's error lines still match the page."""
    spec_lines: list[str] = []
    option_lines: list[str] = []
    in_option = False
    for line in source.splitlines():
        key = _TOP_KEY.match(line)
        if key:
            in_option = key.group(1) in ("include", "theme")
        elif line and not line[0].isspace() and not line.startswith(("-", "#")):
            in_option = False
        (option_lines if in_option else spec_lines).append(line)
        (spec_lines if in_option else option_lines).append("")
    return "\n".join(spec_lines) + "\n", "\n".join(option_lines)


def load_options(text: str, where: Where) -> dict[str, Any]:
    if len(text.encode()) > MAX_FENCE_OPTIONS_BYTES:
        raise where.error("fence options too long")
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        at = f" (line {mark.line + 1} of the fence)" if mark is not None else ""
        raise where.error(f"fence options are not YAML: {' '.join(problem.split())}{at}") from None
    if not isinstance(data, dict):
        raise where.error("expected 'spec: PATH' and options as a mapping")
    return data


def parse_fence(
    source: str, header: Mapping[str, Any], root: Path, context: PageContext
) -> FenceRequest:
    first_line = body_line(source, context.markdown)
    where = Where(context.path or "<nndiagram fence>", first_line)
    is_file = any(
        (m := _TOP_KEY.match(line)) and m.group(1) == "spec" for line in source.splitlines()
    )
    if is_file:
        options = load_options(source, where)
        spec = options.pop("spec")
        if not isinstance(spec, str):
            raise where.error("spec must be a path such as diagrams/xor.yaml")
        checked = check_options({**options, **header}, where)
        try:
            path = resolve_spec_path(spec, root)
        except SpecError as error:
            raise where.error(error.message) from None
        if not os.path.exists(path):  # False, not an error, for a name too long
            raise where.error(f"spec file not found: {spec}")
        try:  # one byte over the limit at most, as load_spec; a FIFO is refused, not waited on
            raw = read_regular(path, spec_readers.MAX_BYTES, "a spec is a few lines")
        except SpecError as error:
            raise SpecError(error.message, path=spec) from None
        text = spec_readers.decode(raw, spec)
        numbers = numbers_request(checked, root, where)
        job = RenderJob(text, spec, spec_format(path), checked.get("view"), numbers)
        return FenceRequest(
            job,
            checked.get("include", DEFAULT_INCLUDE),
            checked.get("theme", "auto"),
            spec_file=spec,
        )
    spec_text, option_text = split_inline_options(source)
    checked = check_options({**load_options(option_text, where), **header}, where)
    numbers = numbers_request(checked, root, where)
    job = RenderJob(spec_text, where.path, "yaml", checked.get("view"), numbers)
    include = checked.get("include", DEFAULT_INCLUDE)
    return FenceRequest(job, include, checked.get("theme", "auto"), first_line=first_line)


def numbers_request(checked: Mapping[str, Any], root: Path, where: Where) -> NumbersRequest | None:
    """``params:``, ``input:`` and ``sample:`` resolved like ``spec:`` (relative to the project
    root, never leaving it), with a digest of the files' bytes for the cache."""
    if "params" not in checked:
        if "input" in checked or "sample" in checked:
            raise where.error("input and sample are drawn through the weights: add params")
        return None
    if "sample" in checked and "input" not in checked:
        raise where.error("sample picks a column of input: add input")
    digest = hashlib.sha256()
    files: dict[str, str] = {}
    for key in ("params", "input"):
        if key not in checked:
            continue
        try:
            path = resolve_spec_path(checked[key], root)
        except SpecError as error:
            raise where.error(error.message.replace("spec path", f"{key} path", 1)) from None
        if not path.exists():
            raise where.error(f"{key} file not found: {checked[key]}")
        try:  # a regular file only (no FIFO, device or folder), at most the cap
            data = read_regular(
                path, MAX_NUMBERS_BYTES, f"a page draws at most {MAX_NUMBERS_BYTES:,} bytes"
            )
        except SpecError as error:
            raise SpecError(error.message, path=checked[key]) from None
        digest.update(key.encode() + b"\0" + data)
        files[key] = str(path)
    return NumbersRequest(
        checked["params"],
        files["params"],
        checked.get("input"),
        files.get("input"),
        checked.get("sample"),
        digest.hexdigest(),
    )


def body_line(source: str, markdown: str | None) -> int:
    """1-based page line where the fence body starts: the first place in the page where a
    fence opener is followed by exactly these lines (1 when the page text is unknown)."""
    body = [line.strip() for line in source.splitlines()]
    if markdown is None or not body:
        return 1
    page = [line.strip() for line in markdown.splitlines()]
    for number in range(1, len(page) - len(body) + 1):
        opener = page[number - 1]
        if opener.startswith(("```", "~~~")) and page[number : number + len(body)] == body:
            return number + 1
    return 1


def relocated(error: SpecError, request: FenceRequest) -> SpecError:
    """An inline spec's error, its line counted from the top of the page."""
    if request.spec_file is not None or error.path != request.job.path:
        return error
    line = (error.line or 1) + request.first_line - 1
    return SpecError(error.message, path=error.path, line=line, column=error.column, key=error.key)
