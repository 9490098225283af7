"""``nndiagram build`` and ``nndiagram serve``: MkDocs through its Python API.

The build goes to a fresh folder beside ``site_dir`` and is swapped into place only when it
succeeds, so a failed or killed build leaves the previous site as it was. A progress bar shows
in a terminal; in CI (``$CI`` set) or when output is not a terminal, only warnings and errors.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import NNDiagramError, UsageError

log = logging.getLogger("mkdocs")


class SiteBuildError(NNDiagramError):
    """MkDocs reported an error, or a warning under ``--strict``."""

    exit_code = 1


def interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


# --- the atomic swap -------------------------------------------------------------------------

_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


def swap_into_place(built: Path, target: Path) -> None:
    """Make ``built`` the new ``target``; the old ``target`` is removed afterwards."""
    if not target.exists():
        os.replace(built, target)
        return
    if _exchange(built, target):
        shutil.rmtree(built)  # now holds the old site
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)  # a short window without target; the old site is still on disk
    os.replace(built, target)
    shutil.rmtree(old)


def _remove_stale(target: Path) -> None:
    """Leftovers of killed builds: ``.site.building-*`` and ``.site.old-*`` beside the site."""
    for pattern in (f".{target.name}.building-*", f".{target.name}.old-*"):
        for stale in target.parent.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def _one_build_at_a_time(target: Path) -> Iterator[None]:
    """Builds into one folder take turns (a lock on the folder that holds the site, released
    by the kernel if a build is killed; no lock file is left behind): leftovers are removed
    under the lock, so never the folder of a running build."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, builds must not overlap
        yield
        return
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)


# --- progress and logging --------------------------------------------------------------------


class _ProgressPlugin:
    """Counts pages as MkDocs renders them; registered only for the duration of a build."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task = progress.add_task("building", total=None)

    def on_nav(self, nav: Any, *, config: Any, files: Any) -> None:
        pages = len(files.documentation_pages())
        self.progress.update(self.task, total=pages + 1, description="rendering pages")

    def on_page_content(self, html: str, *, page: Any, config: Any, files: Any) -> None:
        self.progress.advance(self.task)

    def on_post_build(self, *, config: Any) -> None:
        self.progress.update(self.task, description="done")
        self.progress.advance(self.task)


@contextlib.contextmanager
def _mkdocs_logging(level: int) -> Iterator[None]:
    """Show MkDocs' messages as its own CLI would (it configures logging only in its CLI)."""
    logger = logging.getLogger("mkdocs")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    handler.setLevel(level)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, logging.INFO))
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@contextlib.contextmanager
def _progress() -> Iterator[Any]:
    if not interactive():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), transient=True) as progress:
        yield progress


# --- the commands ----------------------------------------------------------------------------


def _load_config(config_file: str, **options: Any) -> Any:
    from mkdocs import exceptions
    from mkdocs.config import load_config

    if not Path(config_file).is_file():
        raise UsageError(
            f"config file not found: {config_file} (run in your site's folder, give "
            "-f path/to/mkdocs.yml, or see docs/guide/plugin.md for a two-line mkdocs.yml)"
        )
    try:
        return load_config(config_file, **options)
    except (exceptions.ConfigurationError, exceptions.Abort) as error:
        raise UsageError(f"{config_file}: {error}") from error


def build_site(config_file: str = "mkdocs.yml", strict: bool = False) -> int:
    """Build the site into ``site_dir`` atomically; returns 0, raises ``SiteBuildError``."""
    from mkdocs import exceptions
    from mkdocs.commands.build import build

    started = time.monotonic()
    with _mkdocs_logging(logging.WARNING), _progress() as progress:
        # Without --strict the config file's own `strict:` setting applies, as with mkdocs.
        config = _load_config(config_file, strict=True if strict else None)
        target = Path(config.site_dir).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        with _one_build_at_a_time(target):
            _remove_stale(target)
            building = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
            umask = os.umask(0)
            os.umask(umask)
            building.chmod(0o777 & ~umask)  # mkdtemp makes it private; a site is to be read
            config.site_dir = str(building)
            if progress is not None:
                config.plugins["nndiagram-progress"] = _ProgressPlugin(progress)
            config.plugins.on_startup(command="build", dirty=False)
            try:
                build(config)
            except (exceptions.MkDocsException, exceptions.Abort) as error:
                shutil.rmtree(building, ignore_errors=True)
                raise SiteBuildError(f"{config_file}: build failed: {error}") from error
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
            finally:
                config.plugins.on_shutdown()
            swap_into_place(building, target)
    if interactive():
        print(f"built {target} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


def serve_site(config_file: str = "mkdocs.yml", dev_addr: str = "127.0.0.1:8000") -> int:
    """``mkdocs serve`` with live reload (the plugin also watches the specs folder)."""
    from mkdocs import exceptions
    from mkdocs.commands.serve import serve

    if not Path(config_file).is_file():
        raise UsageError(
            f"config file not found: {config_file} (run in your site's folder, give "
            "-f path/to/mkdocs.yml, or see docs/guide/plugin.md for a two-line mkdocs.yml)"
        )
    with _mkdocs_logging(logging.INFO):
        try:
            serve(config_file=config_file, dev_addr=dev_addr, livereload=True)
        except (exceptions.MkDocsException, exceptions.Abort) as error:
            raise SiteBuildError(f"{config_file}: {error}") from error
    return 0
