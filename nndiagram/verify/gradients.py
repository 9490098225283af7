"""Gradient checks for ``nndiagram check``: backpropagation against two independent references.

- central finite differences of the NumPy cost ``J`` (``numeric.network_cost``), entry by entry
  (a sample of entries for large layers);
- the entry-level gradients SymPy differentiates from the explicit ``J`` (small networks).

Each returns ``Check`` rows with the measured relative error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..model import PROBABILITY_OUTPUTS, Network
from ..numeric.backward import Gradients, gradients
from ..numeric.forward import init_params, network_cost
from .report import Check, status_of
from .samples import random_targets

FD_STEP = 1e-5  # central differences: truncation ~h², rounding ~1e-16/h, both far below 1e-6
FD_TOL = 1e-6
SYMBOLIC_TOL = 1e-9
FD_ENTRIES = 24  # per array at most, so a 784-128-64-10 network checks in well under a second
SYMBOLIC_SAMPLES = 2
# Finite differences cost 2 forward passes per probed entry (4 arrays × 24 entries at most):
# 200 passes over 200,000 parameters take well under a second; 10⁶ and more would take many.
FD_MAX_PARAMETERS = 200_000
FD_PASSES = 2_000  # layer passes in all (probes × 2 × layers)
FD_MIN_ENTRIES = 8


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


def relative_gradient_error(value: Gradients, reference: Gradients, floor: float = 0.0) -> float:
    """Normwise over all (finite) reference entries: ``‖value − ref‖ / max(‖ref‖, floor)``.

    ``floor`` is the smallest gradient the reference resolves (finite differences: about
    ``ε |J| / h``); a vanishing gradient is compared at that scale, not relative to ~0.
    """
    diffs, refs = [], []
    for name, ref in reference.items():
        mask = np.isfinite(ref)
        diffs.append((value[name] - ref)[mask])
        refs.append(ref[mask])
    diff, ref = np.concatenate(diffs), np.concatenate(refs)
    scale = max(float(np.linalg.norm(ref)), floor, np.finfo(np.float64).tiny)
    return float(np.linalg.norm(diff) / scale)


def random_problem(
    network: Network, loss: str, rng: np.random.Generator, m: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Seeded parameters, inputs and targets the loss accepts (probabilities, one-hot for ce)."""

    params = init_params(network, seed=int(rng.integers(2**31)))
    X = rng.normal(size=(network.n_inputs, m))
    Y = random_targets(loss, (network.n_outputs, m), rng)
    return params, X, Y


def _losses(network: Network) -> list[str]:
    """The spec's loss; without one, mse (defined on every output range)."""
    return [network.loss or "mse"]


def check_gradients(network: Network, rng: np.random.Generator) -> list[Check]:
    """Rows ``gradients vs finite differences`` and ``gradients vs symbolic`` per loss."""

    rows: list[Check] = []
    for loss in _losses(network):
        last = network.layers[-1].activation.name
        if loss != "mse" and last not in PROBABILITY_OUTPUTS:
            reason = f"{loss} needs outputs in (0, 1); a {last} output is not confined to them"
            rows.append(Check(f"gradients ({loss})", "skip", detail=reason))
            continue
        count = sum(layer.units * (layer.fan_in + 1) for layer in network.layers)
        if count > FD_MAX_PARAMETERS:
            reason = (
                f"{count:,} parameters: each probed entry costs two forward passes, too slow "
                f"beyond {FD_MAX_PARAMETERS:,}"
            )
            rows.append(Check(f"gradients ({loss})", "skip", detail=reason))
            continue
        params, X, Y = random_problem(network, loss, rng, m=SYMBOLIC_SAMPLES)
        backprop = gradients(network, params, X, Y, loss)
        entries = _probes(network, params, rng)
        fd = finite_differences(network, params, X, Y, loss, entries=entries)
        J = abs(float(network_cost(network, params, X, Y, loss)))
        resolution = np.finfo(np.float64).eps * max(J, 1.0) / FD_STEP
        error = relative_gradient_error(backprop, fd, floor=resolution)
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


def _probes(
    network: Network, params: Mapping[str, np.ndarray], rng: np.random.Generator
) -> dict[str, list[tuple[int, ...]]]:
    """Up to ``FD_ENTRIES`` entries per array, and at most ``FD_PASSES`` forward passes (two
    per entry, each through every layer) in all: a 1,000-layer stack probes a random few."""
    entries = {name: _sample_entries(value.shape, rng) for name, value in params.items()}
    budget = max(FD_MIN_ENTRIES, FD_PASSES // (2 * len(network.layers)))
    every = [(name, index) for name, chosen in entries.items() for index in chosen]
    if len(every) <= budget:
        return entries
    # The last layer's entries always (its gradient does not vanish), a random rest.
    last = {f"W{len(network.layers) - 1}", f"b{len(network.layers) - 1}"}
    first = [i for i, (name, _) in enumerate(every) if name in last][:budget]
    rest = [i for i, (name, _) in enumerate(every) if name not in last]
    more = budget - len(first)
    drawn: list[int] = []
    if more > 0:
        drawn = [rest[int(i)] for i in rng.choice(len(rest), size=more, replace=False)]
    picked = sorted(first + drawn)
    out: dict[str, list[tuple[int, ...]]] = {name: [] for name in entries}
    for i in picked:
        name, index = every[i]
        out[name].append(index)
    return out


def _sample_entries(shape: tuple[int, ...], rng: np.random.Generator) -> list[tuple[int, ...]]:
    every = list(np.ndindex(shape))
    if len(every) <= FD_ENTRIES:
        return every
    picked = rng.choice(len(every), size=FD_ENTRIES, replace=False)
    return [every[i] for i in sorted(picked)]


def _symbolic_row(
    network: Network, loss: str, params: Any, X: np.ndarray, Y: np.ndarray, backprop: Gradients
) -> Check:
    from ..symbolic.gradient_entries import (
        MAX_EXPLICIT_PARAMS,
        explicit_gradients,
        gradient_function,
    )

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
