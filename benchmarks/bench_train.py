"""Benchmark of ``train``: its steps beside the same gradient descent written inline in NumPy.

784-128-64-10 (ReLU, ReLU, softmax + cross-entropy) on 10^4 random samples, 10 full-batch
steps at lr 0.1: ``numeric.train.train`` (forward with caches, cost, backward, update, then the
final cost) against 10 bare forward + backward + update passes written out below with no
checks. Target: within 1.5x.

Run: .venv/bin/python benchmarks/bench_train.py   (median of interleaved repeats)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from timing import median_interleaved, print_numpy_header

from nndiagram.model import Network
from nndiagram.numeric.forward import init_params
from nndiagram.numeric.train import train

SIZES = [784, 128, 64, 10]
ACTIVATIONS = ["relu", "relu", "softmax"]
STEPS, LR, M = 10, 0.1, 10_000


def inline_descent(params: dict[str, Any], X: Any, Y: Any) -> dict[str, Any]:
    """The textbook loop with no checks, cost or history. ``dW = (A dZ^T)^T`` rather than
    ``dZ A^T``: the same product, in the operand order OpenBLAS runs several times faster
    (the one ``backward`` uses), so the comparison is with the best inline loop."""
    W0, b0, W1, b1, W2, b2 = (params[k].copy() for k in ("W0", "b0", "W1", "b1", "W2", "b2"))
    m = X.shape[1]
    for _ in range(STEPS):
        Z0 = W0 @ X + b0[:, None]
        A0 = np.maximum(Z0, 0)
        Z1 = W1 @ A0 + b1[:, None]
        A1 = np.maximum(Z1, 0)
        Z2 = W2 @ A1 + b2[:, None]
        E = np.exp(Z2 - Z2.max(axis=0))
        A2 = E / E.sum(axis=0)
        dZ2 = A2 - Y
        dW2, db2 = (A1 @ dZ2.T).T / m, dZ2.sum(axis=1) / m
        dZ1 = (W2.T @ dZ2) * (Z1 > 0)
        dW1, db1 = (A0 @ dZ1.T).T / m, dZ1.sum(axis=1) / m
        dZ0 = (W1.T @ dZ1) * (Z0 > 0)
        dW0, db0 = (X @ dZ0.T).T / m, dZ0.sum(axis=1) / m
        W0 -= LR * dW0
        b0 -= LR * db0
        W1 -= LR * dW1
        b1 -= LR * db1
        W2 -= LR * dW2
        b2 -= LR * db2
    return {"W0": W0, "b0": b0, "W1": W1, "b1": b1, "W2": W2, "b2": b2}


def main(repeats: int = 7) -> float:
    print_numpy_header()
    network = Network.from_sizes(SIZES, ACTIVATIONS, loss="ce")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(SIZES[0], M))
    Y = np.eye(SIZES[-1])[:, rng.integers(SIZES[-1], size=M)]
    params = init_params(network, seed=0)
    learned = train(network, X, Y, steps=STEPS, lr=LR, init=params).params
    reference = inline_descent(params, X, Y)
    worst = max(float(np.max(np.abs(learned[k] - reference[k]))) for k in params)
    assert worst < 1e-9, f"train and the inline loop disagree by {worst:g}"
    times = median_interleaved(
        {
            "inline": lambda: inline_descent(params, X, Y),
            "train": lambda: train(network, X, Y, steps=STEPS, lr=LR, init=params),
        },
        repeats,
    )
    ratio = times["train"] / times["inline"]
    sizes = "-".join(map(str, SIZES))
    print(f"\ntrain vs inline NumPy gradient descent, {sizes}, m = {M:,}, {STEPS} full-batch steps")
    print(f"median of {repeats} runs each, interleaved; same parameters to {worst:.1e}")
    print(f"{'loop':<44} {'seconds':>9} {'÷ inline':>9}")
    print(f"{'inline forward + backward + update':<44} {times['inline']:>9.3f} {1:>9.2f}")
    print(
        f"{'numeric.train.train (cost, checks, history)':<44} {times['train']:>9.3f} {ratio:>9.2f}"
    )
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"target: train within 1.5x of the inline loop: {ratio:.2f}x ({verdict})")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    return ratio


if __name__ == "__main__":
    main()
