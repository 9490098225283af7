"""Benchmark of skip connections (issue 17): equations with proof, evaluator, backward pass.

Prints three tables:
1. ``derive`` (equations, collapse and its proofs, printed LaTeX) for an 8-layer, 16-wide linear
   residual network (every second layer adds the output two layers back; the first adds ``x``).
   Target: ≤ 1 s. The same network with the affine activation ``2*z + 1`` is timed alongside.
2. ``numeric.forward`` on 784-128-128-128-10 (ReLU, residual adds around the two 128-wide
   layers, softmax) at 10^4 columns, beside the same network written inline in NumPy (three
   products, two additions, no checks). Target: within 1.2× of the inline code.
3. ``numeric.backward.gradients`` on that network with cross-entropy: the backward part
   (gradients − forward_pass) beside the forward pass. Target: within 3×. The same network
   without the adds is timed alongside: what the skips themselves cost.

Run: .venv/bin/python benchmarks/bench_skips.py   (median of repeats; ratios within one run)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from timing import median_interleaved, print_numpy_header

from nndiagram.numeric.backward import gradients
from nndiagram.numeric.forward import forward, forward_pass, init_params
from nndiagram.spec.load import load_spec_text


def linear_residual(width: int = 16, depth: int = 8) -> str:
    lines = [f"inputs: {width}", "layers:"]
    for index in range(depth):
        lines.append(f"  - units: {width}")
        if index % 2 == 1:
            lines.append(f"    add: {'input' if index == 1 else index - 2}")
    return "\n".join(lines) + "\n"


RESIDUAL_MLP = """
inputs: 784
loss: ce
layers:
  - units: 128
    activation: relu
  - units: 128
    activation: relu
    add: 0
  - units: 128
    activation: relu
    add: 1
  - units: 10
    activation: softmax
"""


def _derive_seconds(text: str, repeats: int) -> tuple[float, str]:
    from nndiagram.symbolic import derive

    network = load_spec_text(text, "residual-16x8.yaml")
    derive(network).to_latex()  # warm-up: SymPy's caches and imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        derivation = derive(network)
        derivation.to_latex()
        times.append(time.perf_counter() - start)
        assert derivation.collapsible and derivation.proof_holds
    return float(np.median(times)), "entries" if derivation.explicit else "block form"


def bench_equations(repeats: int = 5) -> float:
    seconds, form = _derive_seconds(linear_residual(), repeats)
    # the same network with an affine activation g(z) = 2z + 1 in every layer (c and d scale
    # each step of the recursion, the added output included)
    affine = linear_residual().replace(
        "  - units: 16\n", "  - units: 16\n    activation: {custom: '2*z + 1'}\n"
    )
    affine_seconds, _ = _derive_seconds(affine, repeats)
    print("\nEquations with proof: 8-layer 16-wide linear residual network (adds every 2nd layer)")
    print(f"{'stage':<44} {'seconds':>9}")
    print(f"{'derive + proof + LaTeX (' + form + ')':<44} {seconds:>9.3f}")
    print(f"{'  the same, every activation 2*z + 1':<44} {affine_seconds:>9.3f}")
    verdict = "met" if seconds <= 1.0 else "NOT met"
    print(f"target: ≤ 1 s: {seconds:.3f} s ({verdict})")
    return seconds


def _problem(m: int) -> tuple[Any, dict[str, Any], Any, Any]:
    network = load_spec_text(RESIDUAL_MLP, "residual-mlp.yaml")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(784, m))
    Y = np.eye(10)[:, rng.integers(10, size=m)]
    return network, init_params(network, seed=0), X, Y


def _inline(params: dict[str, Any], X: Any) -> Any:
    """The same network as a reader would write it in NumPy, with nothing checked."""
    a0 = np.maximum(params["W0"] @ X + params["b0"][:, None], 0)
    a1 = np.maximum(params["W1"] @ a0 + params["b1"][:, None] + a0, 0)
    a2 = np.maximum(params["W2"] @ a1 + params["b2"][:, None] + a1, 0)
    z3 = params["W3"] @ a2 + params["b3"][:, None]
    e = np.exp(z3 - z3.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def bench_forward_and_backward(m: int = 10_000, repeats: int = 9) -> tuple[float, float]:
    network, params, X, Y = _problem(m)
    np.testing.assert_allclose(forward(network, params, X), _inline(params, X), rtol=1e-12)
    chain = load_spec_text(RESIDUAL_MLP.replace("    add: 0\n", "").replace("    add: 1\n", ""))
    assert not chain.has_skips
    times = median_interleaved(
        {
            "inline": lambda: _inline(params, X),
            "forward": lambda: forward(network, params, X),
            "forward_pass": lambda: forward_pass(network, params, X),
            "gradients": lambda: gradients(network, params, X, Y, "ce"),
            "chain_pass": lambda: forward_pass(chain, params, X),
            "chain_gradients": lambda: gradients(chain, params, X, Y, "ce"),
        },
        repeats,
    )
    evaluator = times["forward"] / times["inline"]
    backward = times["gradients"] - times["forward_pass"]
    ratio = backward / times["forward"]
    print(
        f"\nResidual 784-128-128-128-10 (ReLU with adds, softmax + ce), m = {m:,} columns; "
        f"median of {repeats} runs each, interleaved"
    )
    print(f"{'stage':<40} {'seconds':>9} {'÷ inline':>9} {'÷ forward':>10}")
    rows = [
        ("inline NumPy (3 products, 2 adds)", times["inline"]),
        ("numeric.forward", times["forward"]),
        ("forward keeping Z, A (forward_pass)", times["forward_pass"]),
        ("backward alone (gradients − pass)", backward),
        ("gradients (forward_pass + backward)", times["gradients"]),
        ("backward, same shapes without the adds", times["chain_gradients"] - times["chain_pass"]),
    ]
    for label, seconds in rows:
        print(
            f"{label:<40} {seconds:>9.4f} {seconds / times['inline']:>9.2f} "
            f"{seconds / times['forward']:>10.2f}"
        )
    print(
        f"target: evaluator within 1.2x of inline NumPy: {evaluator:.2f}x "
        f"({'met' if evaluator <= 1.2 else 'NOT met'})"
    )
    verdict = "met" if ratio <= 3 else "NOT met"
    print(f"target: backward within 3x of forward: {ratio:.2f}x ({verdict})")
    return evaluator, ratio


def main() -> None:
    print_numpy_header()
    bench_equations()
    bench_forward_and_backward()


if __name__ == "__main__":
    main()
