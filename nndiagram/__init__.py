"""nndiagram: one neural-network spec in; diagram, equations and numbers out, checked together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import model as _model

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .model import Network

__all__ = [
    "Network",
    "__version__",
    "check",
    "derive",
    "evaluate",
    "gv",
    "load_spec",
    "train",
]


def __getattr__(name: str) -> Any:
    # Lazy: `import nndiagram` stays fast; SymPy and Graphviz load only when used.
    if name == "Network":
        from .model import Network

        return Network
    if name == "load_spec":
        from .spec import load_spec

        return load_spec
    if name == "derive":
        from .symbolic import derive

        return derive
    if name == "evaluate":
        from .verify.engines import evaluate

        return evaluate
    if name == "check":
        from .verify import check

        return check
    if name == "train":
        from .numeric.train import train

        return train
    if name == "gv":
        from .diagram import gv

        return gv
    raise AttributeError(f"module 'nndiagram' has no attribute {name!r}")


def _show_network(network: Network, include: object, exclude: object) -> dict[str, str]:
    from .notebook import mimebundle

    return mimebundle(network, include, exclude)


# The core cannot import the stages above it; the package wires a Network's notebook display.
_model.DISPLAY_HOOK = _show_network
