"""Run every benchmark script and collect what each prints into benchmarks/RESULTS.md.

The Performance page of the site includes RESULTS.md, so ``make bench`` (this script) followed
by ``make site`` publishes the latest figures. Each script runs in its own process, with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its environment (they slow a current NumPy;
they stay set everywhere else). A script that is missing is listed as not run; one that fails
is reported with its exit code and this script exits 1.

Run: .venv/bin/python benchmarks/run_all.py [-o RESULTS.md | -o -] [SCRIPT ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"

# In the order the Performance page explains them.
BENCHMARKS: tuple[tuple[str, str], ...] = (
    ("bench_startup.py", "Start-up: each command as a whole process, beside a bare script"),
    ("bench_spec.py", "Specs: reading, validating and refusing them"),
    ("bench_diagram.py", "Diagrams: rendering specs with Graphviz"),
    ("bench_symbolic.py", "Equations: deriving with SymPy"),
    ("bench_numeric.py", "Numbers: the NumPy evaluator and `nndiagram check`"),
    ("bench_check.py", "`nndiagram check` of one gallery-sized network"),
    ("bench_backprop.py", "Gradients: backpropagation"),
    ("bench_train.py", "Training: gradient descent against an inline NumPy loop"),
    ("bench_skips.py", "Skip connections: equations with proof, evaluator and gradients"),
    ("bench_import.py", "Real models: `nndiagram import` and `check --against` of an ONNX model"),
    ("bench_site.py", "The site: `nndiagram build` cold, warm and after one change"),
    (
        "bench_explore.py",
        "The explorer: script size, hover to highlight, build time before and after",
    ),
    ("bench_hostile.py", "Hostile input: every corpus case refused, how fast, in how much memory"),
)
BENCH_ENV_DROP = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def run_one(script: Path) -> tuple[int, str, float]:
    """Exit code, everything the script printed, and its wall time in seconds."""
    env = {k: v for k, v in os.environ.items() if k not in BENCH_ENV_DROP}
    env["NO_COLOR"] = "1"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    output = done.stdout + (f"\n[stderr]\n{done.stderr}" if done.returncode else "")
    return done.returncode, output.rstrip(), time.perf_counter() - start


def machine() -> str:
    return (
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPU(s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "-o", "--output", help="default: RESULTS.md, or stdout when only some scripts run"
    )
    parser.add_argument("scripts", nargs="*", metavar="SCRIPT", help="only these (bench_x.py)")
    args = parser.parse_args(argv)
    unknown = set(args.scripts) - {name for name, _ in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    # A partial run must not overwrite the committed results of the other scripts.
    target = args.output or ("-" if args.scripts else str(RESULTS))

    # No top-level heading: the Performance page includes this file under its own.
    sections = [
        f"Measured by `make bench` (`benchmarks/run_all.py`) on {machine()}.",
        "Each section is what the script printed; run one alone with "
        "`.venv/bin/python benchmarks/<script>`.",
    ]
    failed = False
    for name, heading in BENCHMARKS:
        if args.scripts and name not in args.scripts:
            continue
        script = HERE / name
        sections += ["", f"### {heading}", "", f"`benchmarks/{name}`", ""]
        if not script.exists():
            sections.append("Not run: the script is not in this checkout.")
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        code, output, seconds = run_one(script)
        failed = failed or code != 0
        status = "" if code == 0 else f", **failed with exit code {code}**"
        sections += [f"Finished in {seconds:.0f} s{status}.", "", "```text", output, "```"]
    text = "\n".join(sections) + "\n"
    if target == "-":
        sys.stdout.write(text)
    else:
        sys.path.insert(0, str(ROOT))
        from nndiagram.output import write_atomic

        write_atomic(target, text)
        print(f"wrote {target}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
