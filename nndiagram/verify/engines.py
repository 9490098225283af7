"""Three independent ways to run a network, so each can check the others: ``numpy`` (the
batched evaluator of ``numeric``), ``sympy`` (the derived symbolic output, lambdified) and
``collapsed`` (``W x + B`` of a linear network). It composes ``numeric`` and ``symbolic``,
which never import each other; the ``evaluate`` command lives here too."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..errors import UsageError
from ..model import Network, require_valid
from ..numeric.forward import (
    Array,
    Params,
    check_input,
    check_params,
    collapse_params,
    forward,
    load_input,
    load_params,
    npy_bytes,
    numeric_activation,
    require_finite,
)
from ..output import write_atomic
from ..spec.load import load_spec

ENGINES: tuple[str, ...] = ("numpy", "sympy", "collapsed")


def evaluate(
    network: Network,
    params: Mapping[str, ArrayLike],
    X: ArrayLike,
    engine: str = "numpy",
    *,
    dtype: DTypeLike = np.float64,
) -> Array:
    """Run ``network`` on the columns of ``X``; the result has shape (units_last, m).

    ``params`` maps ``W0, b0, W1, …`` to arrays (``P.npz`` shapes, e.g. from ``init_params``);
    ``X`` has shape (n_inputs, m), or is one sample as a 1-D array (then m = 1).

    ``engine`` picks one of three independent paths: ``"numpy"`` (the batched evaluator,
    ``dtype`` float64 or float32), ``"sympy"`` (the derived symbolic output, lambdified) or
    ``"collapsed"`` (``W x + B``; a ``UsageError`` for a network that is not linear).

    >>> from nndiagram import Network
    >>> net = Network.from_sizes([2, 2, 1], "relu")
    >>> params = {"W0": [[1, 0], [0, 1]], "b0": [0, -1], "W1": [[1, 1]], "b1": [0]}
    >>> evaluate(net, params, [[1, -1], [2, 3]])
    array([[2., 2.]])
    """
    if engine == "numpy":
        return forward(network, params, X, dtype)
    if engine == "collapsed":
        W, B = collapse_params(network, params)
        return W @ check_input(network, X) + B[:, None]
    if engine == "sympy":
        for layer in network.layers:
            numeric_activation(network, layer.index)
        function = _symbolic_output(network)
        result = function(check_params(network, params), check_input(network, X))
        return np.asarray(result, dtype=np.float64)
    raise UsageError(f"unknown engine {engine!r} (must be one of: {', '.join(ENGINES)})")


@lru_cache(maxsize=32)
def _symbolic_output(network: Network) -> Callable[[Params, Array], Array]:
    # Deriving and lambdifying takes ~0.1 s: a notebook calling evaluate() again reuses it.
    from ..symbolic import derive, output_function

    return output_function(derive(network))


def evaluate_files(
    spec: str,
    params_path: str,
    input_path: str,
    output_path: str | None = None,
    engine: str = "numpy",
) -> Array:
    """The ``evaluate`` command: read the spec, ``P.npz`` and ``X.npy``; write ``Y``.

    ``output_path`` ``None`` prints the numbers as text (one line per output unit, one column
    per sample); ``-`` writes ``.npy`` bytes to stdout for a pipe (refused on a terminal); a
    file ending ``.csv`` or ``.txt`` gets text, any other file ``.npy``.
    """
    if output_path == "-" and sys.stdout.isatty():
        raise UsageError(
            "refusing to write binary .npy to a terminal: give -o Y.npy, pipe it (-o - | ...), "
            "or leave out -o to print the numbers as text"
        )
    network = load_spec(spec)
    require_valid(network, "cannot evaluate", spec)
    params = load_params(params_path, network)
    X = load_input(input_path, network)
    try:
        with np.errstate(all="ignore"):  # overflow is checked below, not warned about
            Y = evaluate(network, params, X, engine=engine)
    except UsageError as error:  # the contract's one line: path:line:col: error: message
        raise UsageError(f"{spec}:1:1: error: {error}") from None
    require_finite(Y, "the output Y", params_path)
    write_atomic("-" if output_path is None else output_path, _encode(Y, output_path))
    return Y


def _encode(Y: Array, output_path: str | None) -> bytes | str:
    """Text for the terminal and for .csv/.txt files (shortest round-trip digits), else .npy."""
    suffix = "" if output_path in (None, "-") else Path(output_path).suffix.lower()
    if output_path is None or suffix in (".csv", ".txt"):
        separator = "," if suffix == ".csv" else " "
        return "".join(separator.join(repr(float(v)) for v in row) + "\n" for row in Y)
    return npy_bytes(Y)
