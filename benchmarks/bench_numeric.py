"""Benchmark of the NumPy evaluator and of `nndiagram check`.

Prints, for 784-128-64-10 (ReLU, ReLU, softmax) on 10^4 and 10^5 columns: the evaluator's
median time beside the bare chain of NumPy products and activations written inline (target:
ratio ≤ 1.2), its peak traced memory beside the size of the largest activation (target: no more
than one extra copy, i.e. peak ≤ 2 × largest); the `sympy` engine's samples per second on the
tutorial's networks; and the wall time of `nndiagram check diagrams/*.yaml` (target < 5 s).

Run: .venv/bin/python benchmarks/bench_numeric.py   (median of repeats; ratios within one run)
For timing against a current NumPy, unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE together for
this command only (see the environment notes); the BLAS in use is printed first.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from timing import median_interleaved, print_numpy_header

from nndiagram.model import Network
from nndiagram.numeric.forward import forward, forward_pass, init_params
from nndiagram.verify.engines import evaluate

ROOT = Path(__file__).resolve().parent.parent
SIZES = [784, 128, 64, 10]
ACTIVATIONS = ["relu", "relu", "softmax"]
TUTORIAL = ["neuron", "layer", "layer-3", "multilayer", "xor", "deep-linear"]


def inline_chain(P: dict[str, Any], X: Any) -> Any:
    """The bare forward pass anyone would write by hand: the baseline."""
    A = np.maximum(P["W0"] @ X + P["b0"][:, None], 0.0)
    A = np.maximum(P["W1"] @ A + P["b1"][:, None], 0.0)
    Z = P["W2"] @ A + P["b2"][:, None]
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak memory NumPy allocated while ``fn`` ran (NumPy reports to tracemalloc)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def bench_evaluator() -> None:
    network = Network.from_sizes(SIZES, ACTIVATIONS)
    params = init_params(network, seed=0)
    rng = np.random.default_rng(0)
    print(f"\nEvaluator vs inline NumPy, {'-'.join(map(str, SIZES))} (ReLU, ReLU, softmax)")
    header = f"{'m':>7} {'evaluator s':>12} {'inline s':>10} {'ratio':>6}"
    header += f" {'peak MiB':>9} {'inline peak':>11} {'largest A':>10} {'peak/largest':>12}"
    header += f" {'cache MiB':>9} {'pass peak':>9}"
    print(header)
    for m, repeats in ((10_000, 7), (100_000, 3)):
        X = rng.normal(size=(SIZES[0], m))
        got, want = forward(network, params, X), inline_chain(params, X)
        assert np.allclose(got, want, rtol=1e-12, atol=1e-15), "evaluator disagrees with inline"
        times = median_interleaved(
            {
                "evaluator": lambda X=X: forward(network, params, X),
                "inline": lambda X=X: inline_chain(params, X),
            },
            repeats,
        )
        largest = max(SIZES[1:]) * m * 8
        peak = peak_bytes(lambda X=X: forward(network, params, X))
        inline_peak = peak_bytes(lambda X=X: inline_chain(params, X))
        caches = sum(SIZES[1:]) * m * 8 * 2  # every Z and A kept for backpropagation
        pass_peak = peak_bytes(lambda X=X: forward_pass(network, params, X))
        mib = 2**20
        print(
            f"{m:>7} {times['evaluator']:>12.4f} {times['inline']:>10.4f} "
            f"{times['evaluator'] / times['inline']:>6.2f} {peak / mib:>9.1f} "
            f"{inline_peak / mib:>11.1f} {largest / mib:>10.1f} {peak / largest:>12.2f} "
            f"{caches / mib:>9.1f} {pass_peak / mib:>9.1f}"
        )
        del X
    print("targets: ratio <= 1.2; peak/largest <= 2 (the largest activation + one extra copy)")


def bench_sympy_engine() -> None:
    from nndiagram.spec.load import load_spec
    from nndiagram.symbolic import derive, output_function

    m = 100_000
    print(f"\nsympy engine (lambdified symbolic output) vs numpy engine, {m:,} samples")
    print(
        f"{'spec':<14} {'sizes':<10} {'derive+lambdify s':>17} {'sympy samples/s':>16} "
        f"{'numpy samples/s':>16} {'sympy÷numpy time':>16}"
    )
    for name in TUTORIAL:
        network = load_spec(ROOT / "diagrams" / f"{name}.yaml")
        params = init_params(network, seed=1)
        X = np.random.default_rng(1).normal(size=(network.n_inputs, m))
        start = time.perf_counter()
        compiled = output_function(derive(network))
        setup = time.perf_counter() - start
        assert np.allclose(compiled(params, X), evaluate(network, params, X), rtol=1e-9, atol=1e-12)
        times = median_interleaved(
            {
                "sympy": lambda f=compiled, p=params, X=X: f(p, X),
                "numpy": lambda n=network, p=params, X=X: forward(n, p, X),
            },
            5,
        )
        sizes = "-".join(map(str, network.sizes))
        print(
            f"{name:<14} {sizes:<10} {setup:>17.3f} {m / times['sympy']:>16,.0f} "
            f"{m / times['numpy']:>16,.0f} {times['sympy'] / times['numpy']:>16.1f}"
        )


def bench_check_command() -> None:
    exe = Path(sys.executable).parent / "nndiagram"
    command = [str(exe) if exe.exists() else (shutil.which("nndiagram") or "nndiagram"), "check"]
    specs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "diagrams").glob("*.yaml"))
    walls, cpus = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(
            [*command, *specs], capture_output=True, cwd=ROOT, env={**os.environ, "NO_COLOR": "1"}
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(
        f"\n`nndiagram check diagrams/*.yaml` ({len(specs)} specs), median of 3 runs: "
        f"wall {statistics.median(walls):.2f} s (target < 5 s), "
        f"CPU {statistics.median(cpus):.2f} s; "
        f"exit {result.returncode} (1 expected: not-fully-connected fails connectivity); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)"
    )


def main() -> None:
    print_numpy_header()
    bench_evaluator()
    bench_sympy_engine()
    bench_check_command()


if __name__ == "__main__":
    main()
