"""Frameworks are optional: each importer asks for its own, and a missing one is one line
naming the extra that installs it."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import UsageError


def need(module: str, extra: str) -> Any:
    """``import module``, or a ``UsageError`` saying ``pip install 'nndiagram[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        # Only the framework itself missing is the user's to fix; anything else is a bug
        # in the framework's installation, reported as it is.
        missing = getattr(error, "name", None) or module
        raise UsageError(
            f"nndiagram: this needs the '{missing}' package, which is not installed: "
            f"pip install 'nndiagram[{extra}]'"
        ) from None
