"""Start-up: each command as a whole process, beside the floor of a bare script.

The floor is what any Python tool pays to draw the same elided 784-128-64-10 figure: start the
interpreter, import the ``graphviz`` package, build the DOT and run ``dot``. Every row is a fresh
process (``nndiagram …`` through its console script), timed wall-clock; the rows run
interleaved so a busy moment hits all of them alike, and the table quotes medians. The modules
column says which heavy libraries the command imported (read from ``-X importtime``): a
command should load only what it uses.

Run: .venv/bin/python benchmarks/bench_startup.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
NNDIAGRAM = str(BIN / "nndiagram")
MNIST = str(ROOT / "diagrams" / "mnist-mlp.yaml")
# A user's installed package has its bytecode compiled (pip does it on install); a shell that sets
# PYTHONDONTWRITEBYTECODE would make every run compile the sources again, so the runs here drop it.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
HEAVY = ("sympy", "numpy", "pydantic", "yaml", "graphviz", "mkdocs", "matplotlib", "rich")

# The same figure as `render` of mnist-mlp.yaml in the network view: three columns elided to
# four neurons, every edge drawn, written with the graphviz package as a user script would.
FLOOR_SCRIPT = """
import sys, graphviz
g = graphviz.Digraph(graph_attr={"rankdir": "LR", "splines": "line"})
sizes = [784, 128, 64, 10]
shown = [[*range(2), "dots", *range(n - 2, n)] if n > 6 else list(range(n)) for n in sizes]
for l, column in enumerate(shown):
    for j in column:
        g.node(f"n{l}_{j}", "⋮" if j == "dots" else f"a{l}_{j}")
for l in range(len(sizes) - 1):
    for j in shown[l]:
        for k in shown[l + 1]:
            if "dots" not in (j, k):
                g.edge(f"n{l}_{j}", f"n{l + 1}_{k}")
open(sys.argv[1], "wb").write(g.pipe(format="svg"))
"""

TARGETS = {  # wall seconds, from the architecture issue
    "validate 784-128-64-10": 0.15,
    "render 784-128-64-10 (layers)": 0.2,
    "render 784-128-64-10 (network)": 0.2,
    "equations 32-32-16": 0.6,
}


def commands(tmp: Path) -> dict[str, list[str]]:
    spec_32 = tmp / "w32.yaml"
    spec_32.write_text(
        "inputs: 32\nlayers:\n  - {units: 32, activation: identity}\n"
        "  - {units: 16, activation: identity}\n"
    )
    return {
        "floor: bare graphviz script": [sys.executable, "-c", FLOOR_SCRIPT, str(tmp / "f.svg")],
        "nndiagram --version": [NNDIAGRAM, "--version"],
        "validate 784-128-64-10": [NNDIAGRAM, "validate", MNIST],
        "render 784-128-64-10 (layers)": [
            NNDIAGRAM, "render", MNIST, "--view", "layers", "-o", str(tmp / "l.svg"),
        ],
        "render 784-128-64-10 (network)": [
            NNDIAGRAM, "render", MNIST, "--view", "network", "-o", str(tmp / "n.svg"),
        ],
        "equations 32-32-16": [NNDIAGRAM, "equations", str(spec_32)],
        "check xor.yaml": [NNDIAGRAM, "check", str(ROOT / "diagrams" / "xor.yaml")],
    }  # fmt: skip


def run(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, cwd=ROOT, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def heavy_imports(argv: list[str]) -> str:
    env = {**ENV, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env)
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    return ", ".join(name for name in HEAVY if name in loaded) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        cmds = commands(tmp)
        for argv in cmds.values():  # warm the file cache and Python's bytecode cache
            run(argv)
        walls: dict[str, list[float]] = {name: [] for name in cmds}
        cpus: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(args.repeats):
            for name, argv in cmds.items():
                wall, cpu = run(argv)
                walls[name].append(wall)
                cpus[name].append(cpu)
        imports = {name: heavy_imports(argv) for name, argv in cmds.items()}
    floor = statistics.median(walls["floor: bare graphviz script"])
    print(
        f"Whole processes, median of {args.repeats} interleaved runs; load {os.getloadavg()[0]:.1f}"
    )
    print()
    print(f"{'command':34} {'wall s':>7} {'cpu s':>6} {'/floor':>6} {'target':>7}  heavy imports")
    failed = []
    for name in cmds:
        wall = statistics.median(walls[name])
        cpu = statistics.median(cpus[name])
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = wall <= target and (not name.startswith("render") or wall <= 2 * floor)
            verdict = f"{target:>5.2f} {'ok' if ok else 'MISSED'}"
            if not ok:
                failed.append(name)
        print(f"{name:34} {wall:7.3f} {cpu:6.3f} {wall / floor:6.2f} {verdict:>7}  {imports[name]}")
    print()
    print("targets: render <= 0.2 s and <= 2x the floor; validate <= 0.15 s; equations <= 0.6 s")
    if failed:
        print("missed: " + ", ".join(failed) + " (a busy machine inflates wall time: see load)")


if __name__ == "__main__":
    main()
