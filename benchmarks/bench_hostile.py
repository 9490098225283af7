"""Benchmark of refusing hostile input: every case of the corpus (tests/hostile plus the
malformed specs), timed one by one, and a few of them again as a user runs them.

Prints the number of cases and how they ended, the median and slowest wall and CPU times, the
slowest cases, legal custom activations that used to take minutes (each command), and peak
memory: the peak RSS of each forked child (which includes the modules
it inherits, printed as the baseline) and, for a few cases, of a fresh ``nndiagram`` process
(``RUSAGE_CHILDREN``), interpreter start included.

Run: .venv/bin/python benchmarks/bench_hostile.py   (the load average is printed: other
processes move wall times, CPU times much less).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "hostile" / "runner.py"
CONSOLE = Path(sys.executable).parent / "nndiagram"
FRESH = (  # one per kind: expression bomb, alias bomb, oversized file, pickle, derivation bomb
    "generated/npz-deflate-bomb.npz",
    "generated/npy-sparse-1gb.npy",
    "generated/max-neurons-1000-network.yaml",
    "expr-power-tower-parens.yaml",
    "yaml-alias-layers-bomb.yaml",
    "../malformed/billion-laughs.yaml",
    "generated/oversized.yaml",
    "generated/npz-object-pickle.npz",
    "deriv-matrix-power-bomb.yaml",
)


def corpus() -> tuple[list[dict[str, Any]], int]:
    done = subprocess.run(
        [sys.executable, str(RUNNER)], capture_output=True, text=True, timeout=900, check=True
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    baseline = rows.pop()["baseline_kb"]
    return rows, int(baseline)


def runner_module() -> Any:
    sys.path.insert(0, str(RUNNER.parent))
    import runner

    return runner


def fresh(name: str) -> tuple[float, float, int, int]:
    """Wall s, CPU s and peak KB of the case in a new process; its exit code."""
    runner = runner_module()
    case = next(c for c in runner.all_cases() if c.name == name)
    with tempfile.TemporaryDirectory() as tmp:
        data, out = runner.make_workspace(Path(tmp))
        argv = case.argv(runner.materialise(case, Path(tmp)), data, out)
        return measured(argv, out, timeout=120)


def measured(argv: list[str], cwd: Path, timeout: float) -> tuple[float, float, int, int]:
    """Wall s, CPU s, peak KB and exit code of ``nndiagram ARGV`` run in ``cwd``, through a
    wrapper whose only child is the command: RUSAGE_CHILDREN is then that process alone."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(CONSOLE), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    code, wall, cpu, peak = json.loads(done.stdout.splitlines()[-1])
    return wall, cpu, peak, code


# Legal custom activations that took minutes or were refused before issue 19's second round:
# each command in a fresh process, on a 2-2-1 network (the custom layer, then a sigmoid).
LEGAL = {
    "sigmoid nested 20 deep": "sigmoid(" * 20 + "z" + ")" * 20,
    "tanh nested 20 deep": "tanh(" * 20 + "z" + ")" * 20,
    "max of eight lines": "max(z, 2*z, 3*z, 4*z, 5*z, 6*z, 7*z, 8*z)",
    "max of eight functions": (
        "max(z, sin(z), cos(z), tanh(z), exp(-z*z), sigmoid(z), erf(z), abs(z))"
    ),
}
LEGAL_COMMANDS = {
    "validate": ["validate", "net.yaml"],
    "render": ["render", "net.yaml", "-o", "net.svg"],
    "equations": ["equations", "net.yaml", "-o", "net.tex"],
    "check": ["check", "net.yaml"],
    "evaluate": ["evaluate", "net.yaml", "--params", "P.npz", "--input", "X.npy"],
    "gradients": [
        "gradients",
        "net.yaml",
        "--params",
        "P.npz",
        "--input",
        "X.npy",
        "--target",
        "Y.npy",
        "-o",
        "G.npz",
    ],
}


def legal(expression: str, command: list[str]) -> tuple[float, float, int, int]:
    """Wall s, CPU s, peak KB and exit code of one command on the custom activation."""
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "net.yaml").write_text(
            f"inputs: 2\nlayers:\n  - units: 2\n    activation: {{custom: '{expression}'}}\n"
            "  - units: 1\n    activation: sigmoid\nloss: bce\n",
            encoding="utf-8",
        )
        rng = np.random.default_rng(0)
        shapes = {"W0": (2, 2), "b0": (2,), "W1": (1, 2), "b1": (1,)}
        np.savez(folder / "P.npz", **{k: rng.normal(size=v) for k, v in shapes.items()})
        np.save(folder / "X.npy", rng.normal(size=(2, 5)))
        np.save(folder / "Y.npy", rng.uniform(0.1, 0.9, size=(1, 5)))
        return measured(command, folder, timeout=300)


MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps([done.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss]))
"""


def main() -> None:
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows, baseline = corpus()
    walls = [float(r["wall_s"]) for r in rows]
    cpus = [float(r["cpu_s"]) for r in rows]
    peaks = [int(r["maxrss_kb"]) for r in rows]
    refused = sum(
        r["exit_code"] == 2 and len(str(r["stderr"]).splitlines()) == 1 and not r["changed"]
        for r in rows
    )
    print("\nThe corpus, each case in a forked child of one process (modules already imported)\n")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| cases | {len(rows)} |")
    print(f"| exit 2, one line, output folder unchanged | {refused} |")
    print(
        f"| wall time: median / slowest | {statistics.median(walls) * 1e3:.0f} ms / "
        f"{max(walls) * 1e3:.0f} ms |"
    )
    print(
        f"| CPU time: median / slowest | {statistics.median(cpus) * 1e3:.0f} ms / "
        f"{max(cpus) * 1e3:.0f} ms |"
    )
    print(
        f"| peak RSS: baseline (inherited) / largest case | {baseline / 1024:.0f} MB / "
        f"{max(peaks) / 1024:.0f} MB |"
    )
    new = [r for r in rows if r["name"] in runner_module().ROUND_TWO]
    new_refused = sum(
        r["exit_code"] == 2 and len(str(r["stderr"]).splitlines()) == 1 and not r["changed"]
        for r in new
    )
    print("\nThe second round's cases (issue 19: stored script, hangs, bombs, tracebacks)\n")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| cases | {len(new)} |")
    print(f"| exit 2, one line, output folder unchanged | {new_refused} |")
    print(
        f"| wall time: median / slowest | "
        f"{statistics.median(float(r['wall_s']) for r in new) * 1e3:.0f} ms / "
        f"{max(float(r['wall_s']) for r in new) * 1e3:.0f} ms |"
    )
    print(f"| peak RSS: largest case | {max(int(r['maxrss_kb']) for r in new) / 1024:.0f} MB |")
    print("\n| slowest of them | command | wall | CPU | peak RSS |")
    print("| --- | --- | --- | --- | --- |")
    for r in sorted(new, key=lambda r: -float(r["wall_s"]))[:5]:
        print(
            f"| {r['name']} | {r['argv'][0]} | {float(r['wall_s']) * 1e3:.0f} ms | "
            f"{float(r['cpu_s']) * 1e3:.0f} ms | {int(r['maxrss_kb']) / 1024:.0f} MB |"
        )
    print("\nSlowest cases (wall)\n")
    print("| case | command | wall | CPU | peak RSS |")
    print("| --- | --- | --- | --- | --- |")
    for r in sorted(rows, key=lambda r: -float(r["wall_s"]))[:6]:
        command = str(r["argv"][0])
        print(
            f"| {r['name']} | {command} | {float(r['wall_s']) * 1e3:.0f} ms | "
            f"{float(r['cpu_s']) * 1e3:.0f} ms | {int(r['maxrss_kb']) / 1024:.0f} MB |"
        )
    print(
        "\nA few cases as a user runs them (fresh `nndiagram` process, interpreter start "
        "included)\n"
    )
    print("| case | exit | wall | CPU | peak RSS |")
    print("| --- | --- | --- | --- | --- |")
    for name in FRESH:
        wall, cpu, peak, code = fresh(name)
        print(f"| {name} | {code} | {wall:.2f} s | {cpu:.2f} s | {peak / 1024:.0f} MB |")
    print(
        "\nLegal custom activations (issue 19: minutes, or refused, before), each command in a "
        "fresh process; exit 0 is the contract\n"
    )
    print("| activation | command | exit | wall | CPU | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, expression in LEGAL.items():
        commands = (
            LEGAL_COMMANDS if label.startswith("sigmoid") else {"check": ["check", "net.yaml"]}
        )
        for command, argv in commands.items():
            wall, cpu, peak, code = legal(expression, argv)
            print(
                f"| {label} | {command} | {code} | {wall:.2f} s | {cpu:.2f} s | "
                f"{peak / 1024:.0f} MB |"
            )


if __name__ == "__main__":
    main()
