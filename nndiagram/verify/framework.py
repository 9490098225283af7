"""The ``framework`` row: the model run in its own framework vs nndiagram's evaluator and its
symbolic forward, with the spec's parameters, on the same inputs.

``verify`` never imports a framework: the model comes in as a :class:`Reference`, anything
with a ``run(X)`` over columns (``nndiagram.importers.frameworks`` builds them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from ..errors import UsageError
from ..model import Network
from ..numeric.forward import check_input, check_params, forward
from .report import Check, relative_error, status_of

SAMPLES = 16  # seeded random samples when no input is given


class Reference(Protocol):
    """A model in its framework: ``run`` maps (n_inputs, m) columns to (units, m) outputs."""

    @property
    def name(self) -> str: ...

    @property
    def dtype(self) -> str: ...

    @property
    def n_inputs(self) -> int: ...

    @property
    def tolerance(self) -> float: ...

    def input_dtype(self) -> Any: ...

    def run(self, X: np.ndarray) -> np.ndarray: ...


def framework_inputs(network: Network, reference: Reference, X: Any, seed: int) -> np.ndarray:
    """The batch both sides run on, already rounded to the framework's input dtype (so both
    see the same numbers); ``X`` None: seeded normal samples."""
    if reference.n_inputs != network.n_inputs:
        raise UsageError(
            f"{network.source}:1:1: error: the spec has {network.n_inputs} inputs but "
            f"{reference.name} takes {reference.n_inputs}"
        )
    if X is None:
        X = np.random.default_rng(seed).normal(size=(network.n_inputs, SAMPLES))
    X = check_input(network, X)
    return X.astype(reference.input_dtype()).astype(np.float64)


def check_framework(
    network: Network,
    params: Mapping[str, Any],
    reference: Reference,
    X: Any = None,
    seed: int = 0,
) -> Check:
    """One row: the relative error of the framework's output against the evaluator (and the
    lambdified symbolic output when the derivation has entries), held to the model's dtype."""
    inputs = framework_inputs(network, reference, X, seed)
    checked = check_params(network, params)
    framework = reference.run(inputs)
    numeric = forward(network, checked, inputs)
    error = relative_error(numeric, framework)
    compared = "NumPy evaluator"
    symbolic = _symbolic_output(network, checked, inputs)
    if symbolic is not None:
        error = max(error, relative_error(symbolic, framework))
        compared = "NumPy evaluator and symbolic a^[L]"
    if framework.shape != numeric.shape:
        detail = (
            f"{reference.name} gives {framework.shape[0]} output(s), the spec {numeric.shape[0]}"
        )
    else:
        detail = f"{reference.name} ({reference.dtype}) vs {compared} on {inputs.shape[1]} samples"
    tolerance = reference.tolerance
    return Check("framework", status_of(error <= tolerance), error, tolerance, detail)


def _symbolic_output(network: Network, params: Mapping[str, Any], X: np.ndarray) -> Any:
    from .checks import _derive

    derivation = _derive(network)
    if not derivation.explicit:
        return None  # block form: no entries to lambdify; the evaluator row stands
    from ..symbolic import output_function

    return output_function(derivation)(dict(params), X)
