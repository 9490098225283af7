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
    params: docs/tutorial/xor.npz        # optional: draw these weights (render --params)
    input: docs/tutorial/xor-x.npy       # optional, with params: one sample's values…
    sample: 0                            # …this column of it
    ```

``include`` and ``theme`` may also be written in an inline spec (they are not spec keys), or
in the fence header: ```` ```nndiagram include="diagram source" ````.

Relative spec, params and input paths resolve against the **project root**, the parent of
``docs_dir`` (where ``mkdocs.yml`` lives in the usual layout); a path that leaves the project is
refused. The root
comes from the MkDocs/ProperDocs page being rendered or Zensical's configuration, else from
the plugin or the extension's ``root`` option, else the working directory.

A bad spec fails the build with the spec's file and line (for an inline spec: the page's file
and line). Under the MkDocs plugin the error is a ``PluginError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from pymdownx.superfences import SuperFencesException

from ..errors import NNDiagramError, SpecError
from .cache import DEFAULT_CACHE_DIR, ArtefactCache, cache_key
from .html import PALETTE_STYLE, bundle_html
from .render import render_cached
from .request import (
    FenceRequest,
    PageContext,
    Where,
    check_options,
    page_context,
    parse_fence,
    relocated,
)


class FenceError(SuperFencesException, NNDiagramError):
    """A fence could not be rendered. superfences re-raises only ``SuperFencesException``; any
    other error would silently print the fence as a code block."""


@dataclass
class FenceSettings:
    """What the MkDocs plugin (or the Markdown extension) tells the fence."""

    root: Path | None = None
    cache_dir: Path | None = None  # None: <root>/.nndiagram-cache
    use_cache: bool = True
    explore_added: bool = False  # the plugin loads the explorer's script and CSS on every page
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


def project_root(md: Markdown | None, context: PageContext) -> Path:
    settings = _settings(md)
    if settings.root is not None:
        return settings.root
    if context.docs_dir is not None:
        return context.docs_dir.parent
    return Path.cwd()


# --- the superfences entry points ------------------------------------------------------------


def fence_validator(
    language: str, inputs: dict[str, str], options: dict[str, Any], attrs: Any, md: Markdown
) -> bool:
    """Accept header options (``include="diagram source"``, ``view=``, ``theme=``)."""
    for key, value in inputs.items():
        options[key] = value
    try:
        check_options(options, Where(page_context(md).path or "<nndiagram fence>", 1))
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
    cache = settings.cache_for(root)
    try:
        request = parse_fence(source, options or {}, root, context)
        number = _fence_number(md)
        label = request.spec_file or "inline"
        prefix = f"nnd{request.job.key[:8]}-{number}"
        # The block's HTML is cached too: an unchanged page skips bundle_html (the SVGs made
        # inline, the equations marked for the explorer), the larger part of its fences' cost.
        shown = {"include": list(request.include), "theme": request.theme, "label": label}
        html_key = cache_key(request.job.key.encode(), {"html": prefix, **shown})
        hit = cache.get(html_key)
        if hit is not None:
            return page_assets(md, settings) + str(hit["html"])
        bundle = render_cached(request.job, cache)
    except SpecError as error:
        located = relocated(error, request) if request else error
        page = f" (in {context.path})" if context.path and context.path != located.path else ""
        raise settings.error_type(f"{located}{page}") from error
    except NNDiagramError as error:
        raise settings.error_type(f"{context.path or 'nndiagram fence'}: {error}") from error
    except Exception as error:  # a bug, not bad input; superfences would hide it as code
        where = context.path or "nndiagram fence"
        message = f"{where}: rendering failed: {type(error).__name__}: {error}"
        raise settings.error_type(message) from error
    body = bundle_html(
        bundle, include=request.include, prefix=prefix, theme=request.theme, source_label=label
    )
    cache.put(html_key, {"html": body})
    return page_assets(md, settings) + body


def cache_for(md: Markdown | None, root: Path) -> ArtefactCache:
    """The artefact cache the fences of this page use (the plugin's, when it runs)."""
    return _settings(md).cache_for(root)


def page_assets(md: Markdown | None, settings: FenceSettings) -> str:
    """The palette rules, and the explorer unless the plugin loads it, for the first block of
    a page that draws a figure (no plugin is needed to add a stylesheet or a script); then
    nothing."""
    if getattr(md, "nndiagram_assets", False):
        return ""
    if md is not None:
        md.nndiagram_assets = True  # type: ignore[attr-defined]
    if settings.explore_added:
        return PALETTE_STYLE
    from .interactive import inline_assets

    return PALETTE_STYLE + inline_assets()


def _import(module: str, name: str, owner: str, language: str, md: Markdown | None) -> Any:
    """A function of another stage, imported on first use: a missing module is a clear build
    error naming the fence, not an import-time crash of every page."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        message = f"```{language} fence needs {module}.{name} ({owner}): {error}"
        raise _settings(md).error_type(message) from error


def cached_formatter(formatter: Callable[..., str], name: str) -> Callable[..., str]:
    """A fence formatter whose HTML is cached by content hash like the diagrams: the key holds
    the fence body, its options and class, the page it is on and the tool's sources, so an
    unchanged fence is never rendered again. Errors are never cached, and name their page."""
    if getattr(formatter, "nndiagram_cached", False):
        return formatter

    def fence(
        source: str, language: str, css_class: str, options: Any, md: Markdown, **kwargs: Any
    ) -> str:
        settings, context = _settings(md), page_context(md)
        cache = settings.cache_for(project_root(md, context))
        described = {
            "fence": name,
            "class": css_class,
            "options": dict(options or {}),
            "page": context.path,
        }
        key = cache_key(source.encode("utf-8"), json.loads(json.dumps(described, default=str)))
        hit = cache.get(key)
        if hit is not None:
            return _with_assets(str(hit["html"]), md, settings)
        try:
            result: str = formatter(source, language, css_class, options, md, **kwargs)
        except settings.error_type:
            raise
        except Exception as error:  # superfences would print the fence as code instead
            # A derivation fence says which of its lines failed: name the page's line.
            line = _page_line(context.markdown, source, getattr(error, "fence_line", None))
            where = f"{context.path}:{line}: " if line and context.path else ""
            where = where or (f"{context.path}: " if context.path else "")
            raise settings.error_type(f"{where}{error}") from error
        cache.put(key, {"html": result})
        return _with_assets(result, md, settings)

    fence.__name__ = getattr(formatter, "__name__", name)
    fence.__doc__ = formatter.__doc__
    fence.nndiagram_cached = True  # type: ignore[attr-defined]
    return fence


_FIGURE_IDS = re.compile(r'\bid="(nndbp[0-9a-f]{8})-')


def _with_assets(html: str, md: Markdown | None, settings: FenceSettings) -> str:
    """A block that draws a linked figure (the backprop fence's) brings the page's assets,
    and its figure's ids get the block's number on the page (the cached HTML is the same for
    the same fence: shown twice on a page, its ids must still differ)."""
    if 'class="nnd-links"' not in html:
        return html
    found = _FIGURE_IDS.search(html)
    if found:
        prefix = found.group(1)
        html = html.replace(f"{prefix}-", f"{prefix}-{_fence_number(md)}-")
    return page_assets(md, settings) + html


def _page_line(markdown: str | None, source: str, line: int | None) -> int | None:
    """The page's line of line ``line`` of a fence's ``source`` (None: not found, e.g. when the
    fence's text comes from an included file)."""
    lines = source.splitlines()
    if markdown is None or not lines or not lines[0].strip():
        return None
    at = markdown.find("\n" + lines[0])
    if at < 0:
        return None
    first = markdown[: at + 1].count("\n") + 1
    return first + (line - 1 if line else -1)


def _lazy_fence(module: str, name: str, owner: str) -> Callable[..., str]:
    """Another stage's fence formatter, imported on first use and cached."""

    def formatter(
        source: str, language: str, css_class: str, options: Any, md: Markdown, **kwargs: Any
    ) -> str:
        result: str = _import(module, name, owner, language, md)(
            source, language, css_class, options, md, **kwargs
        )
        return result

    formatter.__name__ = name
    formatter.__doc__ = f"The ```{name.split('_')[0]}``` fence, from {module} ({owner})."
    return cached_formatter(formatter, name)


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
training_fence_format = _lazy_fence(
    "nndiagram.site.training", "training_fence_format", "training runs"
)
cost_fence_format = _lazy_fence("nndiagram.site.formulas", "cost_fence_format", "cost formulas")
backprop_fence_format = _lazy_fence(
    "nndiagram.site.backprop", "backprop_fence_format", "backpropagation pages"
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
        {"name": "training", "class": "nndiagram-training", "format": training_fence_format},
        {"name": "cost", "class": "nndiagram-cost", "format": cost_fence_format},
        {"name": "backprop", "class": "nndiagram-backprop", "format": backprop_fence_format},
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

        md.registerExtension(self)  # so that md.reset() calls self.reset()
        self.md = md
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

    def reset(self) -> None:
        """A new document on the same Markdown instance: fence numbering starts again."""
        self.md.nndiagram_fences = 0  # type: ignore[attr-defined]
        self.md.nndiagram_assets = False  # type: ignore[attr-defined]


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
