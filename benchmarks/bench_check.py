"""Benchmark of `nndiagram check` on one network at a time: every gallery spec and a few more of
the gallery's size (target: under 2 s wall each, start-up included).

Each row is one `nndiagram check SPEC` process, as a user runs it: median wall time and the
CPU time of that run (user + system of the child). On a busy machine wall exceeds CPU; the
CPU column is what the code costs. The 3-4-2 softmax network took 6-7 s before the entry-level
SymPy gradients were differentiated by the chain rule over J's common subexpressions, and a
3-4-3-2 network with a generic g (five instances) 27 s.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 2.0
REPEATS = 3
EXTRA = {
    "3-4-2 softmax, ce": (
        "inputs: 3\nlayers:\n  - {units: 4, activation: relu}\n"
        "  - {units: 2, activation: softmax}\nloss: ce\n"
    ),
    "3-4-3-2 generic g, ce": (
        "inputs: 3\nlayers:\n  - {units: 4, activation: generic}\n"
        "  - {units: 3, activation: tanh}\n  - {units: 2, activation: softmax}\nloss: ce\n"
    ),
    "2-3-3-1 sigmoid, bce": (
        "inputs: 2\nlayers:\n  - {units: 3, activation: sigmoid}\n"
        "  - {units: 3, activation: sigmoid}\n  - {units: 1, activation: sigmoid}\nloss: bce\n"
    ),
    "2-3-1 softplus (custom)": (
        'inputs: 2\nlayers:\n  - {units: 3, activation: {custom: "log(1 + exp(z))"}}\n'
        "  - {units: 1}\n"
    ),
}


def command() -> list[str]:
    exe = Path(sys.executable).parent / "nndiagram"
    return [str(exe) if exe.exists() else (shutil.which("nndiagram") or "nndiagram"), "check"]


def one_run(spec: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `nndiagram check SPEC`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [*command(), str(spec)],
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    specs = {path.stem: path for path in sorted((ROOT / "diagrams").glob("*.yaml"))}
    with tempfile.TemporaryDirectory() as folder:
        for name, text in EXTRA.items():
            path = Path(folder) / f"{len(specs)}.yaml"
            path.write_text(text)
            specs[name] = path
        rows = []
        for name, spec in specs.items():
            one_run(spec)  # warm the file cache and byte-compiled modules
            runs = [one_run(spec) for _ in range(REPEATS)]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            rows.append((name, wall, cpu))
    print(f"`nndiagram check SPEC`, one process per spec, median of {REPEATS} runs")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s))\n")
    print(f"| spec | wall (s) | CPU (s) | under {TARGET:g} s |")
    print("| --- | ---: | ---: | --- |")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {'yes' if wall < TARGET else 'NO'} |")
    worst = max(rows, key=lambda row: row[1])
    print(f"\nslowest: {worst[0]}, {worst[1]:.2f} s wall, {worst[2]:.2f} s CPU")


if __name__ == "__main__":
    main()
