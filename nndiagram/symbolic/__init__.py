"""SymPy equations of a network: the matrix representation, the composition, the collapse to
``W x + B`` (proved) or a counterexample (exact), the activations and the cost.

``derive(network)`` is the entry point; see ``derivation.py`` for the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .collapse import Counterexample
from .cost import Cost, cost_expression, cost_latex, cost_text
from .derivation import Derivation, derive

if TYPE_CHECKING:
    from .functions import collapse_function, cost_function, output_function

# The NumPy functions load NumPy: imported on first use, so `nndiagram equations` starts faster.
_FUNCTIONS = ("collapse_function", "cost_function", "output_function")


def __getattr__(name: str) -> Any:
    if name in _FUNCTIONS:
        from . import functions

        return getattr(functions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Cost",
    "Counterexample",
    "Derivation",
    "collapse_function",
    "cost_expression",
    "cost_function",
    "cost_latex",
    "cost_text",
    "derive",
    "output_function",
]
