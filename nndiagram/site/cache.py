"""Rendered artefacts cached by content hash, so an unchanged spec is never rendered twice.

The key covers everything that can change the output: the spec's bytes, the render options,
the nndiagram version *and a digest of its source files* (a development checkout changes code
without bumping the version), the Graphviz version, and the cache format. Entries are JSON
files written atomically, so parallel workers and a killed build never leave a torn entry.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..output import write_atomic

CACHE_FORMAT = 1
DEFAULT_CACHE_DIR = ".nndiagram-cache"


@functools.lru_cache(maxsize=1)
def graphviz_version() -> str:
    """``dot -V`` as text, or ``missing`` (rendering then fails later with a clear error)."""
    try:
        done = subprocess.run(["dot", "-V"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "missing"
    return (done.stderr or done.stdout).strip()


@functools.lru_cache(maxsize=1)
def tool_digest() -> str:
    """The nndiagram version plus a hash of the package's Python sources."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def cache_key(spec: bytes, options: Mapping[str, Any]) -> str:
    """The content hash naming one rendered bundle."""
    material = {
        "format": CACHE_FORMAT,
        "spec": hashlib.sha256(spec).hexdigest(),
        "options": dict(options),
        "nndiagram": tool_digest(),
        "graphviz": graphviz_version(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def version_folder() -> str:
    """One sub-folder per tool and Graphviz version: entries of other versions can never be
    hit again, so :meth:`ArtefactCache.prune` removes those folders whole."""
    graphviz = hashlib.sha256(graphviz_version().encode()).hexdigest()[:6]
    return f"v{CACHE_FORMAT}-{tool_digest()[:12]}-{graphviz}"


_VERSION_FOLDER = re.compile(r"v\d+-[0-9a-f]{12}-[0-9a-f]{6}")


class ArtefactCache:
    """A folder of ``<key>.json`` bundles; ``root=None`` keeps entries in memory only."""

    def __init__(self, root: Path | None, version: str | None = None) -> None:
        self.root = root
        self.version = version or (version_folder() if root is not None else "")
        self._memory: dict[str, dict[str, Any]] = {}

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / self.version / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if key in self._memory:
            return self._memory[key]
        if self.root is None:
            return None
        try:
            bundle: dict[str, Any] = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing or unreadable: render again
        self._memory[key] = bundle
        return bundle

    def remember(self, key: str, bundle: dict[str, Any]) -> None:
        """Keep an entry another process has already written."""
        self._memory[key] = bundle

    def put(self, key: str, bundle: dict[str, Any]) -> None:
        self._memory[key] = bundle
        if self.root is not None:
            write_atomic(self._path(key), json.dumps(bundle, sort_keys=True))

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def prune(self) -> int:
        """Remove the folders of other versions; returns how many were removed."""
        if self.root is None or not self.root.is_dir():
            return 0
        stale = [
            folder
            for folder in self.root.iterdir()
            if folder.is_dir() and _VERSION_FOLDER.fullmatch(folder.name)
            if folder.name != self.version
        ]
        for folder in stale:
            shutil.rmtree(folder, ignore_errors=True)
        return len(stale)
