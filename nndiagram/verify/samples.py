"""The random parameters, batches and targets every check draws from one seeded generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import Network
from ..numeric.forward import init_params

MAX_BATCH = 64  # samples per check; with MAX_ENTRIES it keeps `check` fast on any network
MAX_ENTRIES = 200_000  # entries of the largest array one check evaluates


def random_batch(network: Network, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
    """Seeded random parameters and a random batch, capped so a huge network stays quick."""
    widest = max(network.sizes)
    m = max(1, min(MAX_BATCH, MAX_ENTRIES // widest))
    params = init_params(network, seed=int(rng.integers(2**31)))
    X = rng.normal(size=(network.n_inputs, m))
    return params, X


def random_targets(loss: str, shape: tuple[int, ...], rng: np.random.Generator) -> Any:
    """Targets a loss accepts: real values (mse), probabilities (bce), one-hot columns (ce)."""
    if loss == "mse":
        return rng.normal(size=shape)
    if loss == "bce":
        return rng.uniform(size=shape)
    return np.eye(shape[0])[:, rng.integers(shape[0], size=shape[1])]
