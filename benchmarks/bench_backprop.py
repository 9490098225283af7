"""Benchmark of backpropagation: gradient time beside the forward pass.

Prints, for 784-128-64-10 (ReLU, ReLU, softmax, cross-entropy) at 10^4 columns: the median time
of the forward pass alone (``numeric.forward``), of the forward pass that keeps its caches
(``numeric.forward_pass``), and of the full gradient (``backprop.gradients``: forward with
caches, then backward), with the backward part alone as gradient − cached forward. Target: the
backward part within 3× of the forward pass. Also the per-sample cost of the gradient at 10^3
and 10^5 columns, to show it is batched (flat per sample) rather than looped.

Run: .venv/bin/python benchmarks/bench_backprop.py   (median of repeats; ratios within one run)
For timing against a current NumPy, unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE together for
this command only (see the environment notes); the BLAS in use is printed first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from timing import median_interleaved, print_numpy_header

from nndiagram.model import Network
from nndiagram.numeric.backward import gradients
from nndiagram.numeric.forward import forward, forward_pass, init_params

SIZES = [784, 128, 64, 10]
ACTIVATIONS = ["relu", "relu", "softmax"]


def problem(m: int, seed: int = 0) -> tuple[Network, dict[str, Any], Any, Any]:
    network = Network.from_sizes(SIZES, ACTIVATIONS, loss="ce")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(SIZES[0], m))
    Y = np.eye(SIZES[-1])[:, rng.integers(SIZES[-1], size=m)]
    return network, init_params(network, seed=seed), X, Y


def bench_gradient_vs_forward(m: int = 10_000, repeats: int = 9) -> float:
    network, params, X, Y = problem(m)
    times = median_interleaved(
        {
            "forward": lambda: forward(network, params, X),
            "forward_pass": lambda: forward_pass(network, params, X),
            "gradients": lambda: gradients(network, params, X, Y, "ce"),
        },
        repeats,
    )
    backward = times["gradients"] - times["forward_pass"]
    ratio = backward / times["forward"]
    sizes = "-".join(map(str, SIZES))
    print(f"\nGradients vs forward pass, {sizes} (ReLU, ReLU, softmax + ce), m = {m:,} columns")
    print(f"median of {repeats} runs each, interleaved")
    print(f"{'stage':<36} {'seconds':>9} {'÷ forward':>10}")
    rows = [
        ("forward (numeric.forward)", times["forward"]),
        ("forward keeping Z, A (forward_pass)", times["forward_pass"]),
        ("backward alone (gradients − pass)", backward),
        ("gradients (forward_pass + backward)", times["gradients"]),
    ]
    for label, seconds in rows:
        print(f"{label:<36} {seconds:>9.4f} {seconds / times['forward']:>10.2f}")
    verdict = "met" if ratio <= 3 else "NOT met"
    print(f"target: backward within 3x of forward: {ratio:.2f}x ({verdict})")
    return ratio


def _gradient_call(m: int) -> Callable[[], Any]:
    network, params, X, Y = problem(m, seed=1)
    return lambda: gradients(network, params, X, Y, "ce")


def bench_per_sample() -> None:
    print("\nGradient time per sample (batched: flat in m, no loop over samples)")
    print(f"{'m':>8} {'gradients s':>12} {'µs/sample':>10}")
    for m, repeats in ((1_000, 15), (10_000, 7), (100_000, 3)):
        seconds = median_interleaved({"g": _gradient_call(m)}, repeats)
        print(f"{m:>8} {seconds['g']:>12.4f} {seconds['g'] / m * 1e6:>10.2f}")


def main() -> None:
    print_numpy_header()
    bench_gradient_vs_forward()
    bench_per_sample()


if __name__ == "__main__":
    main()
