"""Shared fixtures. CLI tests go through the installed console script, as a user would."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = ROOT / "diagrams"


def _reference() -> Path:
    """The tutorial the figures and matrices are checked against: shared/ sits beside the clone
    (as in CI); NNDIAGRAM_SHARED points elsewhere for a clone made somewhere else."""
    for shared in (os.environ.get("NNDIAGRAM_SHARED"), ROOT.parent / "shared", "/work/shared"):
        if shared and (Path(shared) / "reference").is_dir():
            return Path(shared) / "reference" / "tutorial-neural-networks.txt"
    return ROOT.parent / "shared" / "reference" / "tutorial-neural-networks.txt"


REFERENCE = _reference()
CONSOLE_SCRIPT = Path(sys.executable).parent / "nndiagram"

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def run_cli(tmp_path: Path) -> RunCli:
    """Run the real ``nndiagram`` entry point; returns the completed process (text mode)."""

    def run(*args: str, cwd: Path | None = None, input: str | None = None, timeout: float = 120):
        exe = str(CONSOLE_SCRIPT) if CONSOLE_SCRIPT.exists() else shutil.which("nndiagram")
        assert exe, "the nndiagram console script is not installed"
        return subprocess.run(
            [exe, *args],
            cwd=cwd or ROOT,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONHASHSEED": "0", "NO_COLOR": "1"},
        )

    return run


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests marked `exe` need Graphviz; `make test` installs it, so a missing `dot` is an error
    # there, but a developer running pytest by hand without Graphviz gets a clear skip reason.
    if shutil.which("dot") is None and not os.environ.get("CI"):
        skip = pytest.mark.skip(reason="Graphviz 'dot' not on PATH (run `make test`)")
        for item in items:
            if "exe" in item.keywords:
                item.add_marker(skip)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class SiteServer:
    site: Path  # the built site
    url: str  # where it is served: http://127.0.0.1:<port>/


@pytest.fixture(scope="session")
def site_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteServer]:
    """This repository's own site, built once per session with --strict into a temporary folder
    (the repository's site/ is left alone) and served from 127.0.0.1 by a stdlib server.

    The port is bound before the build so the site is built for its real address: Material's
    instant navigation only intercepts links that sitemap.xml lists, host and port included.
    """
    site = tmp_path_factory.mktemp("built-site")
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site))
    )
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    mkdocs = Path(sys.executable).parent / "mkdocs"
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "NNDIAGRAM_SITE_URL": url,  # mkdocs.yml reads site_url from it
            "NO_MKDOCS_2_WARNING": "1",
            "DISABLE_MKDOCS_2_WARNING": "true",
        },
    )
    if done.returncode != 0:
        httpd.server_close()
        pytest.fail(f"site build failed:\n{done.stderr[-4000:]}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield SiteServer(site, url)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def built_site(site_server: SiteServer) -> Path:
    """The built site folder (see ``site_server``); shared by the docs and browser tests."""
    return site_server.site


SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
_session_start = pytest.StashKey[float]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_session_start] = time.time()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    # The browser test's screenshots, when this run took any: someone should look at them.
    start = config.stash.get(_session_start, 0.0)
    shots = [p for p in SCREENSHOTS.glob("*.png") if p.stat().st_mtime >= start]
    if shots:
        terminalreporter.write_line(f"browser screenshots ({len(shots)}): {SCREENSHOTS}")
