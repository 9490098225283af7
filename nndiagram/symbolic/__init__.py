"""SymPy equations of a network: the matrix representation, the composition, the collapse to
``W x + B`` (proved) or a counterexample (exact), the activations and the cost.

``derive(network)`` is the entry point; see ``derivation.py`` for the pipeline.
"""

from __future__ import annotations

from .collapse import Counterexample
from .cost import Cost, cost_expression, cost_latex, cost_text
from .derivation import Derivation, derive
from .functions import collapse_function, cost_function, output_function

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
