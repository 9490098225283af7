"""The ```` ```nndiagram ```` fence: a spec rendered in place, in any Python-Markdown site.

Works as a pymdownx.superfences custom fence, so it runs unchanged under MkDocs 1.6,
ProperDocs and Zensical (which run Python-Markdown but not MkDocs plugins)::

    markdown_extensions:
      - pymdownx.arithmatex: {generic: true}
      - pymdownx.superfences:
          custom_fences:
            - name: nndiagram
              class: nndiagram
              format: !!python/name:nndiagram.site.fence.fence_format
              validator: !!python/name:nndiagram.site.fence.fence_validator

The plugin also registers ```` ```derivation ```` (``derivation_fence_format`` with
``derivation_fence_validator``) and ```` ```activation ```` (``activation_fence_format``), both
from this module, which imports their stages lazily and caches their HTML like the diagrams.

The body is either an inline spec, or ``spec: diagrams/xor.yaml`` plus options::

    ```nndiagram
    spec: diagrams/xor.yaml
    view: network                        # neuron | network | layers | auto (default: the spec's)
    include: [diagram, equations, check, source]   # default: diagram, equations, check
    theme: auto                          # auto (light + dark, following the palette) | light | dark
    ```

``include`` and ``theme`` may also be written in an inline spec (they are not spec keys), or
in the fence header: ```` ```nndiagram include="diagram source" ````.

Relative spec paths resolve against the **project root**, the parent of ``docs_dir`` (where
``mkdocs.yml`` lives in the usual layout); a path that leaves the project is refused. The root
comes from the MkDocs/ProperDocs page being rendered or Zensical's configuration, else from
the plugin or the extension's ``root`` option, else the working directory.

A bad spec fails the build with the spec's file and line (for an inline spec: the page's file
and line). Under the MkDocs plugin the error is a ``PluginError``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown import Extension, Markdown
from pymdownx.superfences import SuperFencesException

from ..errors import NNDiagramError, SpecError
from ..model import VIEWS
from .cache import DEFAULT_CACHE_DIR, ArtefactCache, cache_key
from .html import PALETTE_STYLE, PARTS, bundle_html
from .render import RenderJob, render_cached, spec_format

THEMES = ("auto", "light", "dark")
DEFAULT_INCLUDE = ("diagram", "equations", "check")
FENCE_OPTIONS = ("include", "theme", "view")
MAX_FENCE_OPTIONS_BYTES = 10_000


class FenceError(SuperFencesException, NNDiagramError):
    """A fence could not be rendered. superfences re-raises only ``SuperFencesException``; any
    other error would silently print the fence as a code block."""


@dataclass
class FenceSettings:
    """What the MkDocs plugin (or the Markdown extension) tells the fence."""

    root: Path | None = None
    cache_dir: Path | None = None  # None: <root>/.nndiagram-cache
    use_cache: bool = True
    error_type: type[Exception] = FenceError
    caches: dict[Path | None, ArtefactCache] = field(default_factory=dict)

    def cache_for(self, root: Path) -> ArtefactCache:
        folder = (self.cache_dir or root / DEFAULT_CACHE_DIR) if self.use_cache else None
        if folder not in self.caches:
            self.caches[folder] = ArtefactCache(folder)
        return self.caches[folder]


_default_settings = FenceSettings()
_plugin_settings: FenceSettings | None = None


def configure(settings: FenceSettings | None) -> None:
    """Called by the plugin on each build; ``None`` goes back to the defaults."""
    global _plugin_settings
    _plugin_settings = settings


def _settings(md: Markdown | None) -> FenceSettings:
    own = getattr(md, "nndiagram_settings", None)
    if isinstance(own, FenceSettings):
        return own
    return _plugin_settings or _default_settings


def _fence_number(md: Markdown | None) -> int:
    """Counts the fences of one page (one Markdown instance), so SVG ids are unique on the page
    and the same page always gets the same ids."""
    number: int = getattr(md, "nndiagram_fences", 0)
    if md is not None:
        md.nndiagram_fences = number + 1  # type: ignore[attr-defined]
    return number


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


def project_root(md: Markdown | None, context: PageContext) -> Path:
    settings = _settings(md)
    if settings.root is not None:
        return settings.root
    if context.docs_dir is not None:
        return context.docs_dir.parent
    return Path.cwd()


def resolve_spec_path(spec: str, root: Path) -> Path:
    """``spec:`` relative to the project root; absolute paths and escapes are refused."""
    if not spec or Path(spec).is_absolute() or re.match(r"^[A-Za-z]:", spec):
        raise SpecError(f"spec path {spec!r} must be relative to the project root ({root})")
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


def _check_options(options: Mapping[str, Any], where: Where) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in options.items():
        if key == "include":
            items = value.split() if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise where.error(f"include must be a list of: {', '.join(PARTS)}")
            unknown = [i for i in items if i not in PARTS]
            if unknown:
                raise where.error(
                    f"unknown include {unknown[0]!r} (must be one of: {', '.join(PARTS)})"
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
        else:
            allowed = ", ".join((*FENCE_OPTIONS, "spec"))
            raise where.error(f"unknown option {key!r} (must be one of: {allowed})")
    return checked


_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")


def _split_inline_options(source: str) -> tuple[str, str]:
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


def _load_options(text: str, where: Where) -> dict[str, Any]:
    if len(text.encode()) > MAX_FENCE_OPTIONS_BYTES:
        raise where.error("fence options too long")
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        raise where.error(f"fence options are not YAML: {error}") from error
    if not isinstance(data, dict):
        raise where.error("expected 'spec: PATH' and options as a mapping")
    return data


def parse_fence(
    source: str, header: Mapping[str, Any], root: Path, context: PageContext
) -> FenceRequest:
    first_line = _first_line(source, context.markdown)
    where = Where(context.path or "<nndiagram fence>", first_line)
    is_file = any(
        (m := _TOP_KEY.match(line)) and m.group(1) == "spec" for line in source.splitlines()
    )
    if is_file:
        options = _load_options(source, where)
        spec = options.pop("spec")
        if not isinstance(spec, str):
            raise where.error("spec must be a path such as diagrams/xor.yaml")
        checked = _check_options({**options, **header}, where)
        try:
            path = resolve_spec_path(spec, root)
        except SpecError as error:
            raise where.error(error.message) from None
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise where.error(f"spec file not found: {spec}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise SpecError(f"cannot read spec: {error}", path=spec) from None
        job = RenderJob(text, spec, spec_format(path), checked.get("view"))
        return FenceRequest(
            job,
            checked.get("include", DEFAULT_INCLUDE),
            checked.get("theme", "auto"),
            spec_file=spec,
        )
    spec_text, option_text = _split_inline_options(source)
    checked = _check_options({**_load_options(option_text, where), **header}, where)
    job = RenderJob(spec_text, where.path, "yaml", checked.get("view"))
    include = checked.get("include", DEFAULT_INCLUDE)
    return FenceRequest(job, include, checked.get("theme", "auto"), first_line=first_line)


def _first_line(source: str, markdown: str | None) -> int:
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


def _relocated(error: SpecError, request: FenceRequest) -> SpecError:
    """An inline spec's error, its line counted from the top of the page."""
    if request.spec_file is not None or error.path != request.job.path:
        return error
    line = (error.line or 1) + request.first_line - 1
    return SpecError(error.message, path=error.path, line=line, column=error.column, key=error.key)


# --- the superfences entry points ------------------------------------------------------------


def fence_validator(
    language: str, inputs: dict[str, str], options: dict[str, Any], attrs: Any, md: Markdown
) -> bool:
    """Accept header options (``include="diagram source"``, ``view=``, ``theme=``)."""
    for key, value in inputs.items():
        options[key] = value
    try:
        _check_options(options, Where(page_context(md).path or "<nndiagram fence>", 1))
    except SpecError as error:
        raise _settings(md).error_type(str(error)) from error
    return True


def fence_format(
    source: str,
    language: str,
    css_class: str,
    options: Mapping[str, Any] | None,
    md: Markdown,
    **kwargs: Any,
) -> str:
    """Render one ```` ```nndiagram ```` fence to HTML (superfences custom-fence signature)."""
    settings = _settings(md)
    context = page_context(md)
    root = project_root(md, context)
    request: FenceRequest | None = None
    try:
        request = parse_fence(source, options or {}, root, context)
        bundle = render_cached(request.job, settings.cache_for(root))
    except SpecError as error:
        located = _relocated(error, request) if request else error
        page = f" (in {context.path})" if context.path and context.path != located.path else ""
        raise settings.error_type(f"{located}{page}") from error
    except NNDiagramError as error:
        raise settings.error_type(f"{context.path or 'nndiagram fence'}: {error}") from error
    except Exception as error:  # a bug, not bad input; superfences would hide it as code
        where = context.path or "nndiagram fence"
        message = f"{where}: rendering failed: {type(error).__name__}: {error}"
        raise settings.error_type(message) from error
    prefix = f"nnd{request.job.key[:8]}-{_fence_number(md)}"
    label = request.spec_file or "inline"
    body = bundle_html(
        bundle, include=request.include, prefix=prefix, theme=request.theme, source_label=label
    )
    return PALETTE_STYLE + body


def _import(module: str, name: str, owner: str, language: str, md: Markdown | None) -> Any:
    """A function of another stage, imported on first use: a missing module is a clear build
    error naming the fence, not an import-time crash of every page."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        message = f"```{language} fence needs {module}.{name} ({owner}): {error}"
        raise _settings(md).error_type(message) from error


def _lazy_fence(module: str, name: str, owner: str) -> Callable[..., str]:
    """Another stage's fence formatter, imported lazily and cached by content hash like the
    diagrams; its errors name the page they come from."""

    def fence(
        source: str, language: str, css_class: str, options: Any, md: Markdown, **kwargs: Any
    ) -> str:
        formatter = _import(module, name, owner, language, md)
        settings, context = _settings(md), page_context(md)
        cache = settings.cache_for(project_root(md, context))
        described = {"fence": name, "class": css_class, "options": dict(options or {})}
        key = cache_key(source.encode("utf-8"), json.loads(json.dumps(described, default=str)))
        hit = cache.get(key)
        if hit is not None:
            return str(hit["html"])
        try:
            result: str = formatter(source, language, css_class, options, md, **kwargs)
        except settings.error_type:
            raise
        except Exception as error:  # superfences would print the fence as code instead
            where = f"{context.path}: " if context.path else ""
            raise settings.error_type(f"{where}{error}") from error
        cache.put(key, {"html": result})
        return result

    fence.__name__ = name
    fence.__doc__ = f"The ```{name.split('_')[0]}``` fence, from {module} ({owner})."
    return fence


def _lazy_validator(module: str, name: str, owner: str) -> Callable[..., bool]:
    def validator(
        language: str, inputs: dict[str, str], options: dict[str, Any], attrs: Any, md: Markdown
    ) -> bool:
        result: bool = _import(module, name, owner, language, md)(
            language, inputs, options, attrs, md
        )
        return result

    validator.__name__ = name
    return validator


derivation_fence_format = _lazy_fence(
    "nndiagram.derivation", "derivation_fence_format", "derivation checks"
)
derivation_fence_validator = _lazy_validator(
    "nndiagram.derivation", "derivation_fence_validator", "derivation checks"
)
activation_fence_format = _lazy_fence(
    "nndiagram.site.plots", "activation_fence_format", "activation plots"
)


def custom_fences() -> list[dict[str, Any]]:
    """The superfences ``custom_fences`` entries for every nndiagram fence."""
    return [
        {
            "name": "nndiagram",
            "class": "nndiagram",
            "format": fence_format,
            "validator": fence_validator,
        },
        {
            "name": "derivation",
            "class": "derivation",
            "format": derivation_fence_format,
            "validator": derivation_fence_validator,
        },
        {"name": "activation", "class": "nndiagram-activation", "format": activation_fence_format},
    ]


# --- the Markdown extension (plain Python-Markdown users) -----------------------------------


class NNDiagramExtension(Extension):
    """``markdown.Markdown(extensions=["nndiagram"])``: loads superfences (when not already
    loaded) and adds the fences to it. Options: ``root`` (project root for ``spec:`` paths),
    ``cache_dir`` (default ``<root>/.nndiagram-cache``), ``cache`` (on by default)."""

    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "root": ["", "project root for relative spec paths (default: working directory)"],
            "cache_dir": ["", "cache folder (default: <root>/.nndiagram-cache)"],
            "cache": [True, "cache rendered artefacts by content hash"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:
        from pymdownx.superfences import SuperFencesCodeExtension

        root, cache_dir = self.getConfig("root"), self.getConfig("cache_dir")
        md.nndiagram_settings = FenceSettings(  # type: ignore[attr-defined]
            root=Path(root) if root else None,
            cache_dir=Path(cache_dir) if cache_dir else None,
            use_cache=bool(self.getConfig("cache")),
        )
        superfences = next(
            (e for e in md.registeredExtensions if isinstance(e, SuperFencesCodeExtension)), None
        )
        if superfences is None:
            superfences = SuperFencesCodeExtension()
            superfences.extendMarkdown(md)
        known = {entry["name"] for entry in superfences.superfences}
        for fence in custom_fences():
            if fence["name"] not in known:
                superfences.extend_super_fences(
                    fence["name"],
                    _bind(fence["format"], fence["class"]),
                    fence.get("validator", _accept),
                    None,
                )


def _bind(formatter: Callable[..., str], css_class: str) -> Callable[..., str]:
    def bound(
        src: str = "", language: str = "", options: Any = None, md: Any = None, **kw: Any
    ) -> str:
        return formatter(src, language, css_class, options, md, **kw)

    return bound


def _accept(
    language: str, inputs: dict[str, str], options: dict[str, Any], attrs: Any, md: Any
) -> bool:
    options.update(inputs)
    return True


def makeExtension(**kwargs: Any) -> NNDiagramExtension:
    return NNDiagramExtension(**kwargs)
