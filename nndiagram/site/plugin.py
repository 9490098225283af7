"""The ``nndiagram`` MkDocs plugin (MkDocs 1.6 and ProperDocs): what only a plugin can add.

``plugins: [search, nndiagram]`` is all a site needs. The plugin

- adds pymdownx.arithmatex (generic) and pymdownx.superfences with every nndiagram fence
  (``nndiagram``, ``derivation``, ``activation``, ``training``, ``cost``, ``backprop``) the site
  has not configured itself;
- adds MathJax 3 (the local npm copy, copied into the site; ``mathjax: auto`` falls back to
  the CDN with an info line, ``local`` is an error without it; a MathJax or KaTeX site is left
  alone) and a script that re-typesets after Material's instant navigation;
- generates the gallery (one page per spec in ``specs_dir``, with SVG files) in memory;
- renders every spec the site uses in parallel, cached by content hash in ``cache_dir``;
- watches ``specs_dir`` under ``mkdocs serve``.

The fence itself lives in ``fence.py`` and works without this plugin.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from ..errors import NNDiagramError
from . import fence, interactive, request
from .assets import (
    ASSET_DIR,
    CONFIG_FILE,
    MATHJAX_CDN,
    MATHJAX_CONFIG_JS,
    MATHJAX_FILE,
    MATHJAX_MISSING,
    find_mathjax,
    mentions_katex,
    mentions_mathjax,
)
from .cache import ArtefactCache
from .gallery import gallery_entries, gallery_files, job_for
from .render import RenderJob, prerender

log = logging.getLogger("mkdocs.plugins.nndiagram")


class NNDiagramBuildError(fence.FenceError, PluginError):
    """A fence or spec failed: MkDocs prints the message and aborts, no traceback."""


class NNDiagramConfig(base.Config):
    specs_dir = c.Type(str, default="diagrams")  # relative to the project root
    # model files (.onnx, .keras) imported into gallery pages, relative to the project root
    models = c.ListOfItems(c.Type(str), default=[])
    gallery = c.Type(bool, default=True)
    gallery_dir = c.Type(str, default="gallery")  # where the gallery goes in the site
    cache = c.Type(bool, default=True)
    cache_dir = c.Type(str, default=".nndiagram-cache")
    mathjax = c.Choice(("auto", "local", "cdn", "off"), default="auto")
    workers = c.Type(int, default=0)  # 0: one per CPU


class NNDiagramPlugin(BasePlugin[NNDiagramConfig]):
    def __init__(self) -> None:
        self.root = Path.cwd()
        self.cache = ArtefactCache(None)
        self.mathjax_source: Path | None = None  # the local tex-svg-full.js to copy
        self.mathjax_added = False  # whether the site loads our MathJax configuration
        self.rendered = 0  # specs rendered, backprop fences proved (not cached) by the last build

    # --- configuration ---------------------------------------------------------------------

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        self.root = Path(config.docs_dir).resolve().parent
        cache_dir = (self.root / self.config.cache_dir) if self.config.cache else None
        self.cache = ArtefactCache(cache_dir)
        settings = fence.FenceSettings(
            root=self.root,
            cache_dir=cache_dir,
            use_cache=self.config.cache,
            error_type=NNDiagramBuildError,
            caches={cache_dir: self.cache},
            explore_added=True,
        )
        fence.configure(settings)
        _add_markdown_extensions(config)
        self._add_mathjax(config)
        self._add_explorer(config)
        return config

    def _add_explorer(self, config: MkDocsConfig) -> None:
        """The figure-and-equations explorer, once for the whole site (the fences and gallery
        pages then leave their inline copy out)."""
        script, style = (
            f"{ASSET_DIR}/{interactive.SCRIPT_FILE}",
            f"{ASSET_DIR}/{interactive.STYLE_FILE}",
        )
        if script not in [str(s) for s in config.extra_javascript]:
            config.extra_javascript.append(script)
        if style not in config.extra_css:
            config.extra_css.append(style)

    def _add_mathjax(self, config: MkDocsConfig) -> None:
        """``local``: the npm copy or a build error naming the fix; ``auto``: the npm copy, else
        the CDN with an info line (a fallback, not a warning that fails ``--strict``); ``cdn``;
        ``off``. A site that loads MathJax or KaTeX itself is left alone."""
        self.mathjax_source, self.mathjax_added = None, False
        choice = self.config.mathjax
        if choice == "off":
            return
        scripts = [*config.extra_javascript, *config.extra_css]
        if mentions_mathjax(scripts):
            log.info("the site loads MathJax itself; nndiagram leaves it alone")
            return
        if mentions_katex(scripts):
            log.info("the site loads KaTeX; nndiagram adds no MathJax (math is left to KaTeX)")
            return
        local = find_mathjax([self.root, Path.cwd()]) if choice != "cdn" else None
        if local is None and choice == "local":
            raise PluginError(f"nndiagram: mathjax: local, but {MATHJAX_MISSING}")
        if local is None and choice == "auto":
            log.info(
                "%s; math loads from the CDN and needs a network connection (%s). Set "
                "`mathjax: cdn` to say so, or `mathjax: local` to make this an error.",
                MATHJAX_MISSING,
                MATHJAX_CDN,
            )
        self.mathjax_source = local
        script = f"{ASSET_DIR}/{MATHJAX_FILE}" if local else MATHJAX_CDN
        config.extra_javascript.extend([f"{ASSET_DIR}/{CONFIG_FILE}", script])
        self.mathjax_added = True

    # --- files -----------------------------------------------------------------------------

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        # Every spec the site shows, gallery and fences alike, rendered in one parallel batch.
        jobs: list[Any] = _proof_jobs(files, self.root)  # the longest first
        jobs += _fence_jobs(files, Path(config.docs_dir), self.root)
        with_gallery = self.config.gallery and self._specs_dir().is_dir()
        gallery: dict[str, str] = {}
        try:
            if with_gallery:
                extra = self._imported_models()
                entries = gallery_entries(self._specs_dir(), self.root, extra)
                jobs += [job_for(entry) for entry in entries]
            self.rendered = prerender(jobs, self.cache, self._workers())
            if with_gallery:
                gallery = gallery_files(
                    self._specs_dir(), self.cache, root=self.root, extra=extra, explore=False
                )
        except NNDiagramError as error:
            raise NNDiagramBuildError(str(error)) from error
        for name, content in gallery.items():
            _add_generated(files, config, f"{self.config.gallery_dir}/{name}", content)
        if self.mathjax_added:
            _add_generated(files, config, f"{ASSET_DIR}/{CONFIG_FILE}", MATHJAX_CONFIG_JS)
        _add_generated(
            files, config, f"{ASSET_DIR}/{interactive.SCRIPT_FILE}", interactive.script()
        )
        _add_generated(files, config, f"{ASSET_DIR}/{interactive.STYLE_FILE}", interactive.style())
        if self.mathjax_source is not None:
            src_uri = f"{ASSET_DIR}/{MATHJAX_FILE}"
            if files.get_file_from_path(src_uri) is None:
                files.append(File.generated(config, src_uri, abs_src_path=str(self.mathjax_source)))
        return files

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        removed = self.cache.prune()
        if removed:
            log.debug("removed %d cache folder(s) of other nndiagram versions", removed)

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        if self._specs_dir().is_dir():
            server.watch(str(self._specs_dir()))
        return server

    def on_shutdown(self) -> None:
        fence.configure(None)

    def _imported_models(self) -> list[tuple[Path, str]]:
        if not self.config.models:
            return []
        from .models import imported_specs  # the frameworks load only for a site that asks

        folder = self.root / self.config.cache_dir / "imported"
        return imported_specs(self.root, list(self.config.models), folder)

    def _specs_dir(self) -> Path:
        return self.root / self.config.specs_dir

    def _workers(self) -> int | None:
        return self.config.workers or None


def _add_generated(files: Files, config: MkDocsConfig, src_uri: str, content: str) -> None:
    """Add a file made in memory, unless the site has its own file there (the site wins)."""
    if files.get_file_from_path(src_uri) is not None:
        log.debug("keeping the site's own %s", src_uri)
        return
    files.append(File.generated(config, src_uri, content=content))


def _add_markdown_extensions(config: MkDocsConfig) -> None:
    extensions: list[Any] = config.markdown_extensions
    configs: dict[str, Any] = config.mdx_configs
    if "pymdownx.arithmatex" not in extensions:
        extensions.append("pymdownx.arithmatex")
        configs["pymdownx.arithmatex"] = {"generic": True}
    elif not configs.get("pymdownx.arithmatex", {}).get("generic"):
        log.warning("pymdownx.arithmatex without generic: true; MathJax may miss some math")
    if "pymdownx.superfences" not in extensions:
        extensions.append("pymdownx.superfences")
    custom: list[dict[str, Any]] = configs.setdefault("pymdownx.superfences", {}).setdefault(
        "custom_fences", []
    )
    present = {entry.get("name") for entry in custom}
    custom.extend(entry for entry in fence.custom_fences() if entry["name"] not in present)
    # Fences of nndiagram's other stages that the site registered itself get the cache too.
    # (The nndiagram fence caches its bundles itself; its HTML numbers the fences of a page.)
    for entry in custom:
        formatter = entry.get("format")
        module = getattr(formatter, "__module__", None) or ""
        if (
            callable(formatter)
            and module.startswith("nndiagram.")
            and (formatter is not fence.fence_format)
        ):
            entry["format"] = fence.cached_formatter(formatter, f"{module}.{entry.get('name')}")


_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<mark>`{3,}|~{3,})[ \t]*nndiagram\b[^\n]*\n(?P<body>.*?)"
    r"^(?P=indent)(?P=mark)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


_BACKPROP_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<mark>`{3,}|~{3,})[ \t]*backprop[ \t]*\n(?P<body>.*?)"
    r"^(?P=indent)(?P=mark)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def _proof_jobs(files: Files, root: Path) -> list[Any]:
    """The SymPy proofs of every ``backprop`` fence, to run in the worker pool."""
    bodies = []
    for file in files.documentation_pages():
        try:
            text = file.content_string
        except (OSError, UnicodeDecodeError):
            continue
        for match in _BACKPROP_FENCE.finditer(text) if "backprop" in text else ():
            bodies.append(re.sub(rf"(?m)^{re.escape(match['indent'])}", "", match["body"]))
    if not bodies:
        return []
    from .backprop import ProofJob  # SymPy: only for a site that has such fences

    return [ProofJob(body, str(root)) for body in bodies]


def _fence_jobs(files: Files, docs_dir: Path, root: Path) -> list[RenderJob]:
    """The spec of every ``nndiagram`` fence in the site's pages, to render them in parallel.
    A fence that cannot be read is skipped here; rendering the page reports it."""
    jobs: list[RenderJob] = []
    for file in files.documentation_pages():
        try:
            text = file.content_string
        except (OSError, UnicodeDecodeError):
            continue
        if "nndiagram" not in text:
            continue
        context = request.PageContext(docs_dir, request.shown_path(docs_dir, file.src_uri), text)
        for match in _FENCE.finditer(text):
            body = re.sub(rf"(?m)^{re.escape(match['indent'])}", "", match["body"])
            try:
                jobs.append(request.parse_fence(body, {}, root, context).job)
            except NNDiagramError:
                continue
    return jobs
