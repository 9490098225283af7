"""Benchmark of the diagrams: drawing cost follows what is drawn, not the network's size.

Prints, for 2-2-1, 16-16-16, 784-128-64-10, a 2-10^6-1 network and an 8-layer 2-3x7-1 chain
(network view, elided past ``max_neurons`` = 8; the chain folds into two rows): the median time
to DOT and to SVG, the nodes and edges drawn and the SVG size; beside it the naive drawing
(every neuron, every edge) where Graphviz finishes within 60 s. Then the wall time of
``nndiagram render diagrams/mnist-mlp.yaml -o x.svg`` (target < 0.5 s on a 2-core machine)
with its parts, of ``render --params P.npz --input X.npy`` for the
same network in the layers and network views (target <= 0.3 s), and of rendering every spec
(target < 1 s each).

Run: .venv/bin/python benchmarks/bench_diagram.py   (medians of repeats; the machine's load
average is printed, since other processes move wall times).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from timing import median_seconds

from nndiagram.diagram import draw, render
from nndiagram.diagram.backend import run_dot
from nndiagram.errors import GraphvizError, SpecError
from nndiagram.model import Network

ROOT = Path(__file__).resolve().parent.parent
NAIVE_TIMEOUT = 60.0
CASES: list[tuple[str, list[int], list[str] | str]] = [
    ("2-2-1", [2, 2, 1], "relu"),
    ("16-16-16", [16, 16, 16], "relu"),
    ("784-128-64-10", [784, 128, 64, 10], ["relu", "relu", "softmax"]),
    ("2-10^6-1", [2, 10**6, 1], "relu"),
    ("2-3x7-1", [2, 3, 3, 3, 3, 3, 3, 3, 1], "tanh"),  # 8 layers: folded into two rows
]


def drawn(network: Network) -> tuple[int, int, str]:
    drawing = draw(network, view="network")
    return drawing.nodes - len(drawing.captions), drawing.edges, drawing.source()


def naive_row(network: Network) -> str:
    """Every neuron and every edge: no elision. Skipped when the DOT alone would be huge."""
    full = replace(network, max_neurons=max(network.sizes))
    edges = sum(a * b for a, b in zip(network.sizes, network.sizes[1:], strict=False))
    if edges > 10**6:
        return f"not attempted: {edges:,} edges (the DOT alone would be ~{edges * 40 // 10**6} MB)"
    start = time.perf_counter()
    try:
        nodes, edge_count, source = drawn(full)
    except SpecError:  # the drawing cap (600 neurons, 10,000 edges) refuses it in one line
        return f"refused by the drawing cap: {sum(network.sizes):,} neurons, {edges:,} edges"
    to_dot = time.perf_counter() - start
    try:
        start = time.perf_counter()
        svg = run_dot(source, "svg", timeout=NAIVE_TIMEOUT)
        to_svg = time.perf_counter() - start + to_dot
    except GraphvizError:
        return (
            f"DOT {to_dot * 1e3:,.0f} ms, {nodes:,} nodes, {edge_count:,} edges; "
            f"Graphviz did not finish within {NAIVE_TIMEOUT:.0f} s"
        )
    return (
        f"DOT {to_dot * 1e3:,.1f} ms, SVG {to_svg * 1e3:,.0f} ms, {nodes:,} nodes, "
        f"{edge_count:,} edges, {len(svg) / 1024:,.0f} KiB"
    )


def cli_wall(args: list[str], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _numbers_walls(script: str, tmp: Path, out: str) -> dict[str, float]:
    """``render --params --input`` of 784-128-64-10: Glorot weights, 100 random samples."""
    import numpy as np

    from nndiagram.numeric.forward import init_params
    from nndiagram.spec.load import load_spec

    network = load_spec(ROOT / "diagrams" / "mnist-mlp.yaml")
    np.savez(tmp / "P.npz", **init_params(network, seed=0))
    np.save(tmp / "X.npy", np.random.default_rng(0).uniform(size=(784, 100)))
    files = ["--params", str(tmp / "P.npz"), "--input", str(tmp / "X.npy"), "--sample", "7"]
    spec = "diagrams/mnist-mlp.yaml"
    return {
        view: cli_wall([script, "render", spec, *files, "--view", view, "-o", out])
        for view in ("layers", "network")
    }


def main() -> int:
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} (1 min) on {os.cpu_count()} CPU(s); dot: ", end="")
    print(subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.strip())
    print()
    header = f"{'network':<15}{'to DOT':>10}{'to SVG':>10}{'nodes':>7}{'edges':>7}{'SVG':>9}"
    print(header + "   naive drawing (every neuron, every edge)")
    for name, sizes, activations in CASES:
        network = Network.from_sizes(sizes, activations)
        to_dot = median_seconds(lambda n=network: drawn(n), 20)
        to_svg = median_seconds(lambda n=network: render(n, "svg", view="network"), 5)
        nodes, edges, _ = drawn(network)
        size = len(render(network, "svg", view="network"))
        print(
            f"{name:<15}{to_dot * 1e3:>8.2f}ms{to_svg * 1e3:>8.0f}ms{nodes:>7}{edges:>7}"
            f"{size / 1024:>7.1f}KiB   {naive_row(network)}",
            flush=True,
        )

    print()
    python = sys.executable
    script = str(Path(python).parent / "nndiagram")
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "x.svg")
        render_wall = cli_wall([script, "render", "diagrams/mnist-mlp.yaml", "-o", out])
        startup = cli_wall([python, "-c", "pass"])
        ours = cli_wall([python, "-c", "import nndiagram.cli, nndiagram.diagram"])
        spec = cli_wall([python, "-c", "import nndiagram.cli, nndiagram.diagram, nndiagram.spec"])
        print(
            f"nndiagram render diagrams/mnist-mlp.yaml -o x.svg: {render_wall * 1e3:.0f} ms wall "
            f"(target < 500 ms); of which Python start-up {startup * 1e3:.0f} ms, importing "
            f"cli + diagram {(ours - startup) * 1e3:.0f} ms, importing spec (pydantic, yaml) "
            f"{(spec - ours) * 1e3:.0f} ms, loading, drawing and dot the rest"
        )
        numbers_walls = _numbers_walls(script, Path(tmp), out)
        for view, wall in numbers_walls.items():
            verdict = "met" if wall <= 0.3 else "NOT met"
            print(
                f"nndiagram render diagrams/mnist-mlp.yaml --params P.npz --input X.npy "
                f"--view {view}: {wall * 1e3:.0f} ms wall (target <= 300 ms: {verdict})"
            )
        slowest = ("", 0.0)
        for spec in sorted((ROOT / "diagrams").glob("*.yaml")):
            wall = cli_wall([script, "render", str(spec), "-o", out], repeats=3)
            slowest = max(slowest, (spec.name, wall), key=lambda item: item[1])
        print(
            f"slowest spec through the CLI: {slowest[0]} {slowest[1] * 1e3:.0f} ms (target < 1 s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
