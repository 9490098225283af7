"""Models in the gallery: each model file the plugin's ``models`` option lists is imported
(``nndiagram.importers``) into a spec beside the cache, and shown as a gallery page like any spec.

The spec is rewritten only when its text changes, so a warm build renders nothing again.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..importers import import_model
from ..importers.common import spec_text
from ..output import write_atomic


def imported_specs(root: Path, models: list[str], folder: Path) -> list[tuple[Path, str]]:
    """(spec path, label) for each model, the spec written into ``folder``."""
    found: list[tuple[Path, str]] = []
    for name in models:
        model = root / name
        if not model.is_file():
            raise UsageError(f"{name}:1:1: error: model listed in the plugin's models not found")
        text = spec_text(import_model(model).network)
        spec = folder / f"{model.stem}.yaml"
        if not spec.is_file() or spec.read_text(encoding="utf-8") != text:
            write_atomic(spec, text)
        found.append((spec, f"{name}, imported"))
    return found
