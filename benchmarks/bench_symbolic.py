"""Benchmark of the SymPy derivation: equations and proof time against network size.

Prints one table: ``derive`` (all equations, printed as LaTeX, plus the collapse proof or the
counterexample) for linear and ReLU stacks in entries up to 32-32-16 (where explicit entries stop
being sensible) and in block form up to 784-128-64-10; the entry-level proof alone (symengine)
beside SymPy's ``expand`` of the same difference; and the wall time of ``nndiagram equations``
on the tutorial's specs, start-up included; and the cost of turning a derivation into NumPy
functions (``output_function``, ``collapse_function``), which ``nndiagram check`` uses.
SymPy's caches are cleared before every run, so repeats measure a cold derivation.

Targets: equations + proof for 16-16-8 < 1 s; entry-level proof for 32-32-16 < 1 s; block-level
proof for 784-128-64-10 < 0.2 s; ``nndiagram equations`` on any tutorial spec < 1.5 s wall.

Run: .venv/bin/python benchmarks/bench_symbolic.py   (median of repeats)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sympy
import timing
from sympy.core.cache import clear_cache

from nndiagram.model import Network
from nndiagram.symbolic import collapse_function, derive, output_function
from nndiagram.symbolic.collapse import prove_blocks, prove_entries
from nndiagram.symbolic.entries import block_symbols
from nndiagram.symbolic.printing import Names

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = Path(sys.executable).parent / "nndiagram"
TUTORIAL = ["neuron", "layer", "layer-3", "multilayer", "multilayer-activation", "xor"]
Row = tuple[str, str, float, str]  # what, size, seconds, target


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """Cold runs: SymPy's cache cleared before each, no warm-up."""
    return timing.median_seconds(fn, repeats, warm_up=False, before=clear_cache)


def sizes_text(sizes: list[int]) -> str:
    return "-".join(str(s) for s in sizes)


def sympy_expand_proof(sizes: list[int]) -> bool:
    """The entry-level proof with SymPy's own ``expand``: the baseline symengine replaces."""

    def matrix(base: str, rows: int, cols: int) -> sympy.Matrix:
        return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{base}_{i}_{j}"))

    x = matrix("x", sizes[0], 1)
    ws = [matrix(f"w{i}", sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)]
    bs = [matrix(f"b{i}", sizes[i + 1], 1) for i in range(len(sizes) - 1)]
    layered = x
    for w, b in zip(ws, bs, strict=True):
        layered = w * layered + b
    W = ws[0]
    for w in ws[1:]:
        W = w * W
    B = sympy.zeros(sizes[-1], 1)
    for i, b in enumerate(bs):
        product = b
        for w in ws[i + 1 :]:
            product = w * product
        B += product
    return all(sympy.expand(e) == 0 for e in layered - (W * x + B))


def derivation_rows() -> list[Row]:
    rows: list[Row] = []
    for sizes in ([2, 2, 1], [4, 4, 2], [8, 8, 4], [16, 16, 8], [32, 32, 16]):
        target = "< 1 s" if sizes == [16, 16, 8] else ""
        for activation in ("identity", "relu"):
            network = Network.from_sizes(sizes, activation)
            seconds = median_seconds(lambda n=network: derive(n).to_latex(), 3)
            rows.append(
                (f"derive + LaTeX, entries, {activation}", sizes_text(sizes), seconds, target)
            )
    for sizes in ([64, 64, 32], [784, 128, 64, 10]):
        for activation in ("identity", "relu"):
            network = Network.from_sizes(sizes, activation)
            seconds = median_seconds(lambda n=network: derive(n).to_latex(), 3)
            rows.append((f"derive + LaTeX, blocks, {activation}", sizes_text(sizes), seconds, ""))
    return rows


def proof_rows() -> list[Row]:
    rows: list[Row] = []
    for sizes in ([8, 8, 4], [16, 16, 8], [32, 32, 16], [16, 16, 16, 8]):
        network = Network.from_sizes(sizes)
        seconds = median_seconds(lambda n=network: prove_entries(n), 5)
        target = "< 1 s" if sizes == [32, 32, 16] else ""
        rows.append(("entry proof, symengine", sizes_text(sizes), seconds, target))
    for sizes in ([8, 8, 4], [16, 16, 8], [32, 32, 16]):
        repeats = 1 if sizes == [32, 32, 16] else 3
        seconds = median_seconds(lambda s=sizes: sympy_expand_proof(s), repeats)
        rows.append(("entry proof, SymPy expand (baseline)", sizes_text(sizes), seconds, ""))
    for sizes in ([784, 128, 64, 10], [4096, 4096, 4096, 4096, 10]):
        network = Network.from_sizes(sizes)

        def block_proof(n: Network = network) -> bool:
            return prove_blocks(n, block_symbols(n, Names()))

        target = "< 0.2 s" if sizes == [784, 128, 64, 10] else ""
        rows.append(
            ("block proof, MatrixSymbol", sizes_text(sizes), median_seconds(block_proof, 5), target)
        )
    return rows


def engine_rows() -> list[Row]:
    """The sympy engine and the collapse function (used by ``check``): lambdify cost."""
    rows: list[Row] = []
    for sizes in ([2, 2, 1], [16, 16, 8], [32, 32, 16]):
        tanh = derive(Network.from_sizes(sizes, "tanh"))
        linear = derive(Network.from_sizes(sizes))
        seconds = median_seconds(lambda d=tanh: output_function(d), 3)
        rows.append(("output_function (lambdify), tanh", sizes_text(sizes), seconds, ""))
        seconds = median_seconds(lambda d=linear: collapse_function(d), 3)
        rows.append(("collapse_function (symengine Lambdify)", sizes_text(sizes), seconds, ""))
    return rows


def cli_rows() -> list[Row]:
    """Wall time (the target) and the child's CPU time, which a loaded machine inflates less."""
    rows: list[Row] = []
    for name in TUTORIAL:
        spec = ROOT / "diagrams" / f"{name}.yaml"
        cpu: list[float] = []

        def run(spec: Path = spec, cpu: list[float] = cpu) -> None:
            before = os.times()
            subprocess.run([str(CONSOLE), "equations", str(spec)], check=True, capture_output=True)
            after = os.times()
            cpu.append(
                after.children_user
                + after.children_system
                - before.children_user
                - before.children_system
            )

        wall = median_seconds(run, 3)
        rows.append((f"nndiagram equations {name}", "wall", wall, "< 1.5 s"))
        rows.append((f"nndiagram equations {name}", "cpu (user+sys)", statistics.median(cpu), ""))
    return rows


def verdict(seconds: float, target: str) -> str:
    if not target:
        return ""
    limit = float(target.split()[1])
    return "ok" if seconds < limit else "MISSED"


def main() -> None:
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    rows = derivation_rows() + proof_rows() + engine_rows() + cli_rows()
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'size':<22} {'median s':>9}  target")
    for what, size, seconds, target in rows:
        print(f"{what:<{width}}  {size:<22} {seconds:>9.3f}  {target} {verdict(seconds, target)}")


if __name__ == "__main__":
    main()
