"""Gradient checks for ``nndiagram check``: backpropagation against two independent references.

- central finite differences of the NumPy cost ``J`` (``numeric.network_cost``), entry by entry
  (a sample of entries for large layers);
- the entry-level gradients SymPy differentiates from the explicit ``J`` (small networks).

Each returns ``verify.Check`` rows with the measured relative error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .backprop import Gradients, gradients
from .model import Network
from .numeric import network_cost

if TYPE_CHECKING:
    from .verify import Check

FD_STEP = 1e-5  # central differences: truncation ~h², rounding ~1e-16/h, both far below 1e-6
FD_TOL = 1e-6
SYMBOLIC_TOL = 1e-9
FD_ENTRIES = 24  # per array at most, so a 784-128-64-10 network checks in well under a second
SYMBOLIC_SAMPLES = 2
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")  # where bce and ce are defined


def finite_differences(
    network: Network,
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    loss: str,
    *,
    step: float = FD_STEP,
    entries: Mapping[str, list[tuple[int, ...]]] | None = None,
) -> Gradients:
    """``(J(θ + h) − J(θ − h)) / 2h`` for every entry (or the listed ``entries``) of each array.

    Entries not listed are NaN, so a comparison must select the same entries.
    """
    work = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    out: Gradients = {}
    for name, array in work.items():
        grad = np.full(array.shape, np.nan)
        chosen = entries[name] if entries is not None else list(np.ndindex(array.shape))
        for index in chosen:
            saved = array[index]
            array[index] = saved + step
            up = network_cost(network, work, X, Y, loss)
            array[index] = saved - step
            down = network_cost(network, work, X, Y, loss)
            array[index] = saved
            grad[index] = (up - down) / (2 * step)
        out[f"d{name}"] = grad
    return out


def relative_gradient_error(value: Gradients, reference: Gradients) -> float:
    """Normwise over all (finite) reference entries: ``‖value − ref‖ / ‖ref‖``."""
    diffs, refs = [], []
    for name, ref in reference.items():
        mask = np.isfinite(ref)
        diffs.append((value[name] - ref)[mask])
        refs.append(ref[mask])
    diff, ref = np.concatenate(diffs), np.concatenate(refs)
    return float(np.linalg.norm(diff) / max(np.linalg.norm(ref), np.finfo(np.float64).tiny))


def random_problem(
    network: Network, loss: str, rng: np.random.Generator, m: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Seeded parameters, inputs and targets the loss accepts (probabilities, one-hot for ce)."""
    from .numeric import init_params
    from .verify import random_targets

    params = init_params(network, seed=int(rng.integers(2**31)))
    X = rng.normal(size=(network.n_inputs, m))
    Y = random_targets(loss, (network.n_outputs, m), rng)
    return params, X, Y


def _losses(network: Network) -> list[str]:
    """The spec's loss; without one, mse (defined on every output range)."""
    return [network.loss or "mse"]


def check_gradients(network: Network, rng: np.random.Generator) -> list[Check]:
    """Rows ``gradients vs finite differences`` and ``gradients vs symbolic`` per loss."""
    from .verify import Check, status_of

    rows: list[Check] = []
    for loss in _losses(network):
        last = network.layers[-1].activation.name
        if loss != "mse" and last not in PROBABILITY_OUTPUTS:
            reason = f"{loss} needs outputs in (0, 1); a {last} output is not confined to them"
            rows.append(Check(f"gradients ({loss})", "skip", detail=reason))
            continue
        params, X, Y = random_problem(network, loss, rng, m=SYMBOLIC_SAMPLES)
        backprop = gradients(network, params, X, Y, loss)
        entries = {name: _sample_entries(value.shape, rng) for name, value in params.items()}
        fd = finite_differences(network, params, X, Y, loss, entries=entries)
        error = relative_gradient_error(backprop, fd)
        counted = sum(len(v) for v in entries.values())
        rows.append(
            Check(
                f"gradients ({loss})",
                status_of(error <= FD_TOL),
                error,
                FD_TOL,
                f"backprop vs central differences on {counted} entries, {X.shape[1]} samples",
            )
        )
        rows.append(_symbolic_row(network, loss, params, X, Y, backprop))
    return rows


def _sample_entries(shape: tuple[int, ...], rng: np.random.Generator) -> list[tuple[int, ...]]:
    every = list(np.ndindex(shape))
    if len(every) <= FD_ENTRIES:
        return every
    picked = rng.choice(len(every), size=FD_ENTRIES, replace=False)
    return [every[i] for i in sorted(picked)]


def _symbolic_row(
    network: Network, loss: str, params: Any, X: np.ndarray, Y: np.ndarray, backprop: Gradients
) -> Check:
    from .gradients_entries import MAX_EXPLICIT_PARAMS, explicit_gradients, gradient_function
    from .verify import Check, status_of

    name = f"gradients symbolic ({loss})"
    count = sum(int(np.size(v)) for v in params.values())
    if count > MAX_EXPLICIT_PARAMS or any(
        layer.activation.name == "softmax" for layer in network.layers[:-1]
    ):
        return Check(name, "skip", detail=f"{count} parameters: too many for entry-level SymPy")
    explicit = explicit_gradients(network, loss, m=X.shape[1])
    symbolic = gradient_function(explicit)(params, X, Y)
    error = relative_gradient_error(backprop, symbolic)
    return Check(
        name,
        status_of(error <= SYMBOLIC_TOL),
        error,
        SYMBOLIC_TOL,
        "backprop vs lambdified ∂J/∂entry from SymPy",
    )
