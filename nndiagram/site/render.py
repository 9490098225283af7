"""Spec text -> a rendered bundle (SVGs, equations, check report), cached and in parallel.

This is the one place the site calls the pipeline: ``spec -> diagram, symbolic, verify``. A
bundle is plain JSON so it can be cached on disk and sent back from worker processes; the
HTML is made from it later (``html.py``), per fence, with that fence's ``include``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import NNDiagramError
from .cache import ArtefactCache, cache_key

SPEC_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


@dataclass(frozen=True)
class RenderJob:
    """One spec to render: its text, the path errors name, its format, the diagram view."""

    text: str
    path: str
    fmt: str = "yaml"
    view: str | None = None
    numbers: NumbersRequest | None = None

    @property
    def key(self) -> str:
        options: dict[str, Any] = {"path": self.path, "fmt": self.fmt, "view": self.view}
        if self.numbers is not None:
            options["numbers"] = self.numbers.described()
        return cache_key(self.text.encode("utf-8"), options)

    def compute(self) -> dict[str, Any]:
        return compute_bundle(self)


class Job(Protocol):
    """What :func:`prerender` runs: a :class:`RenderJob`, or another stage's work with a
    cache key (None: nothing to run) and a ``compute`` returning plain JSON data (the backprop
    fence's proofs, ``backprop.ProofJob``)."""

    @property
    def key(self) -> str | None: ...

    def compute(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class NumbersRequest:
    """A fence's ``params:`` (and ``input:``, ``sample:``): files already resolved under the
    project root, with a digest of their bytes so the cache sees any change to them."""

    params: str  # as written, for errors
    params_file: str
    input: str | None = None
    input_file: str | None = None
    sample: int | None = None
    digest: str = ""

    def described(self) -> dict[str, Any]:
        return {"params": self.params, "input": self.input, "sample": self.sample,
                "digest": self.digest}  # fmt: skip


def spec_format(path: str | Path) -> str:
    return SPEC_FORMATS.get(Path(path).suffix.lower(), "yaml")


def compute_bundle(job: RenderJob) -> dict[str, Any]:
    """Run the pipeline on one spec. Raises ``SpecError`` (with file and line) on a bad spec."""
    from ..diagram import render_svg_inline
    from ..spec.load import load_spec_text

    network = load_spec_text(job.text, job.path, job.fmt)
    bundle: dict[str, Any] = {
        "name": network.name,
        "title": network.title,
        "description": network.description,
        "source": job.text,
        "source_format": job.fmt,
        "svg_light": None,
        "svg_dark": None,
        "problems": [],
        "equations": None,
        "check": None,
    }
    numbers = _numbers(network, job.numbers) if job.numbers is not None else None
    for theme in ("light", "dark"):
        bundle[f"svg_{theme}"] = render_svg_inline(
            network, view=job.view, theme=theme, numbers=numbers, links=True
        )
    if network.graph is not None and not network.graph.is_valid:
        # The tutorial's counter-example: drawn, its missing edges named, nothing derived.
        bundle["problems"] = list(network.graph.problems())
        return bundle

    from ..symbolic import derive
    from ..verify.checks import check
    from .interactive import link_data

    derivation = derive(network)
    bundle["equations"] = derivation.to_latex()
    bundle["links"] = link_data(network, [bundle["svg_light"]], numbers)
    bundle["check"] = check(network, seed=0).to_json()
    return bundle


def _numbers(network: Any, request: NumbersRequest) -> Any:
    """The weights (and the sample's values) a fence asks to draw, read and checked like
    ``render --params --input``: errors name the file as the fence wrote it."""
    from ..errors import SpecError
    from ..notebook import figure_numbers
    from ..numeric.forward import load_input, load_params

    def named(error: SpecError, shown: str, actual: str) -> SpecError:
        message = str(error).replace(actual, shown, 1)
        return SpecError(message.split(": error: ", 1)[-1], path=shown)

    try:
        params = load_params(request.params_file, network)
    except SpecError as error:
        raise named(error, request.params, request.params_file) from None
    X = None
    if request.input is not None and request.input_file is not None:
        try:
            X = load_input(request.input_file, network)
        except SpecError as error:
            raise named(error, request.input, request.input_file) from None
    shown_input = request.input if request.input is not None else None
    return figure_numbers(network, params, X, request.sample or 0, input_source=shown_input)


def render_cached(job: RenderJob, cache: ArtefactCache) -> dict[str, Any]:
    key = job.key
    bundle = cache.get(key)
    if bundle is None:
        bundle = compute_bundle(job)
        cache.put(key, bundle)
    return bundle


def _worker(job: Job, key: str, cache_root: str | None, version: str) -> tuple[str, dict[str, Any]]:
    # Key and version come from the parent: a worker hashing the sources itself could see
    # them after an edit and file the bundle where the build never looks.
    bundle = job.compute()
    ArtefactCache(Path(cache_root) if cache_root else None, version).put(key, bundle)
    return key, bundle


def prerender(jobs: Iterable[Job], cache: ArtefactCache, workers: int | None = None) -> int:
    """Render every job not yet cached, in parallel processes, in the order given (the longest
    first keeps both workers busy); returns how many were rendered.

    Errors are not raised here: the page that uses the spec renders it again in the main
    process and fails the build there, naming the spec's file and line.
    """
    todo: dict[str, Job] = {}
    for job in jobs:
        key = job.key
        if key is not None and key not in cache:
            todo[key] = job
    if not todo:
        return 0
    workers = max(1, min(len(todo), workers or os.cpu_count() or 1))
    if workers == 1:
        for key, job in todo.items():
            with contextlib.suppress(NNDiagramError):  # reported by the page that uses it
                cache.put(key, job.compute())
        return len(todo)
    root = str(cache.root) if cache.root else None
    with ProcessPoolExecutor(workers, mp_context=_context()) as pool:
        futures = [pool.submit(_worker, job, key, root, cache.version) for key, job in todo.items()]
        for future in concurrent.futures.as_completed(futures):
            if future.exception() is None:
                cache.remember(*future.result())  # the worker has written it to disk
    return len(todo)


# The pipeline's modules, imported once by the fork server; each worker is a fork of it.
_PRELOAD = ["nndiagram.site.render", "nndiagram.diagram", "nndiagram.symbolic", "nndiagram.verify"]


@functools.lru_cache(maxsize=1)
def _context() -> Any:
    """forkserver: workers do not inherit the state (threads, file watcher) of the build."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context
