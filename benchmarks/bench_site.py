"""Benchmark of the site build: cold, with nothing changed, and after one spec changed.

Works on a copy of this repository's site (``mkdocs.yml``, ``docs/``, ``diagrams/`` and what the
pages include) in a temporary folder, so the real ``site/`` and cache are left alone. Prints the
median wall time of

- a cold ``nndiagram build`` (empty cache: every spec rendered, in parallel),
- ``nndiagram build`` again with nothing changed (every artefact from the cache),
- ``nndiagram build`` after one spec changed (one artefact rendered),
- a plain ``mkdocs build`` of the same site with the artefacts already rendered (the baseline),

with the ratios the targets are about: no-change rebuild within 1.3x of plain ``mkdocs build``;
cold build under 20 s on a 2-core machine.

Run: .venv/bin/python benchmarks/bench_site.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# What a page of the site may read besides docs/: specs, included files, the benchmark tables.
COPIED = (
    "mkdocs.yml",
    "docs",
    "diagrams",
    "benchmarks",
    "README.md",
    "tests/derivations",
    "hooks",  # the MkDocs hook that exports the gallery's PyTorch model (cold builds run it)
)
CHANGED_SPEC = "diagrams/xor.yaml"


def copy_site(target: Path, root: Path = ROOT) -> None:
    """The site's sources from ``root`` (this checkout, or an older tree) into ``target``."""
    for name in COPIED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / "node_modules").symlink_to(ROOT / "node_modules")
    # Timing, not checking: a page still being written must not stop the build.
    config = target / "mkdocs.yml"
    config.write_text(re.sub(r"(?m)^strict: true$", "strict: false", config.read_text()))


def timed(command: list[str], cwd: Path) -> float:
    env = {**os.environ, "CI": "1", "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=3, help="runs of the slow (cold) builds")
    args = parser.parse_args(argv)
    build = [str(BIN / "nndiagram"), "build"]
    mkdocs = [str(BIN / "mkdocs"), "build", "--no-strict"]  # as `nndiagram build` without --strict

    with tempfile.TemporaryDirectory(prefix="bench-site-") as folder:
        project = Path(folder)
        copy_site(project)
        cache = project / ".nndiagram-cache"
        spec = project / CHANGED_SPEC
        original = spec.read_text()

        cold = []
        for _ in range(args.repeats):
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(timed(build, project))
        warm, plain = [], []
        for _ in range(args.repeats + 2):  # interleaved, so a change in machine load hits both
            warm.append(timed(build, project))
            plain.append(timed(mkdocs, project))
        changed = []
        for repeat in range(args.repeats):
            spec.write_text(original + f"# edit {repeat}\n")  # new bytes: one new artefact
            changed.append(timed(build, project))
        spec.write_text(original)
        specs = len(list((project / "diagrams").glob("*.yaml")))
        pages = len(list((project / "docs").rglob("*.md")))

    rows = [
        ("cold `nndiagram build` (empty cache)", statistics.median(cold)),
        ("`nndiagram build`, nothing changed", statistics.median(warm)),
        ("`nndiagram build`, one spec changed", statistics.median(changed)),
        ("plain `mkdocs build`, artefacts rendered", statistics.median(plain)),
    ]
    baseline = statistics.median(plain)
    print(f"Site: {pages} hand-written pages, {specs} specs in the gallery; {os.cpu_count()} CPUs;")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"median of {args.repeats} cold, changed and {args.repeats + 2} other runs, wall time")
    print("of the whole command;", end=" ")
    print(f"load average {load} (other processes stretch wall times).\n")
    print("| build | seconds | × plain mkdocs build |")
    print("| --- | ---: | ---: |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / baseline:.2f} |")
    warm_ratio = statistics.median(warm) / baseline
    cold_time = statistics.median(cold)
    print()
    print(f"no-change rebuild: {warm_ratio:.2f}× plain mkdocs build (target ≤ 1.3×): ", end="")
    print("met" if warm_ratio <= 1.3 else "MISSED")
    print(f"cold build: {cold_time:.1f} s (target < 20 s): ", end="")
    print("met" if cold_time < 20 else "MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
