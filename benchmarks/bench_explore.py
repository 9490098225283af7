"""Benchmark of the figure-and-equations explorer (issue 18): its size, how fast a hover marks
the figure and the typeset equations, and what it costs the site build.

Prints

- the size of the script and the stylesheet shipped in the package (target: ≤ 15 KB together,
  unminified);
- on every tutorial page of this site that links a figure to its equations, in Chromium: the
  time from a ``mouseover`` on a neuron, bias, activation or edge until its highlight is applied
  and styled (the explorer's handler plus the style recalculation it causes, forced), over every
  linked element of the page, median and 95th percentile; and the same from a typeset symbol
  back to the figure (target: ≤ 16 ms median on the largest page);
- a cold ``nndiagram build`` and one with nothing changed, interleaved, medians, of three trees:
  the commit before the explorer (``--before``, default: the parent of the commit that added
  it), this checkout's commit with the explorer switched off (:func:`explorer_off`: figures
  without links, no link data, no script; the page that shows the backward steps without its
  figure), and this checkout's commit (target: within 10 % of before). ``before`` lacks
  everything landed since, by any change; ``off`` lacks only the explorer, so ``now / off`` is
  what the explorer costs.

Run: .venv/bin/python benchmarks/bench_explore.py [--repeats N] [--before REV]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from bench_site import copy_site  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SIZE_TARGET = 15 * 1024
HOVER_TARGET_MS = 16.0
BUILD_TARGET = 1.10

# Hover every linked element of the page's shown figures, then every linked typeset symbol;
# each time: dispatch the event, then read a style of the marked element (forces the recalc).
MEASURE_JS = """() => {
  const shown = el => el.getClientRects().length > 0;
  const figure = [...document.querySelectorAll('.nndiagram-svg g.nnd-link')].filter(shown);
  const math = [...document.querySelectorAll(
      '.nndiagram-equations mjx-container svg [class*="nnd-"]')]
      .filter(el => [...el.classList].some(c => /^nnd-[a-z]+-\\d/.test(c)));
  function time(els) {
    const out = [];
    for (const el of els) {
      el.dispatchEvent(new MouseEvent('mouseout', {bubbles: true}));
      const start = performance.now();
      el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
      const marked = document.querySelector('.nnd-highlight');
      if (marked) getComputedStyle(marked).stroke;
      out.push(performance.now() - start);
    }
    return out;
  }
  return {figure: time(figure), math: time(math)};
}"""


def sizes() -> list[tuple[str, int]]:
    from nndiagram.site import interactive

    script, style = interactive.script().encode(), interactive.style().encode()
    return [("explore.js", len(script)), ("explore.css", len(style))]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


CPU: dict[str, list[float]] = {}  # CPU seconds of each unchanged rebuild, by tree


def run(command: list[str], cwd: Path, pythonpath: Path | None = None) -> float:
    """Wall seconds of ``command``; its CPU seconds (user + system, the process and the children
    it waited for) go to :data:`CPU` under the folder's name."""
    import resource
    import time

    env = {**os.environ, "CI": "1", "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    CPU.setdefault(cwd.name, []).append(cpu)
    return wall


def hover_times(site: Path) -> list[tuple[str, int, list[float], list[float]]]:
    """Per tutorial page with linked figures: elements, figure->math and math->figure times."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    pages = sorted(
        p.parent.relative_to(site).as_posix() + "/"
        for p in (site / "tutorial").glob("*/index.html")
        if "nnd&#45;link" in p.read_text(encoding="utf-8")
    )
    results = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for path in pages:
                page.goto(url + path, wait_until="load")
                page.wait_for_selector(".nnd-steps", timeout=30_000)
                page.wait_for_function(
                    "document.querySelectorAll('.arithmatex').length === "
                    "document.querySelectorAll('.arithmatex mjx-container').length",
                    timeout=60_000,
                )
                page.evaluate(MEASURE_JS)  # warm-up: the first run compiles the handlers
                measured = page.evaluate(MEASURE_JS)
                count = len(measured["figure"]) + len(measured["math"])
                results.append((path, count, measured["figure"], measured["math"]))
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return results


def before_tree(rev: str, folder: Path) -> Path:
    """The tree as it was at ``rev`` (package and site sources), unpacked into ``folder``: the
    before build uses that commit's pages too, which may use fence options it predates."""
    data = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as archive:
        archive.extractall(folder, filter="data")
    return folder


# What switches the explorer off in a copy of this checkout's tree: (file, text, replacement).
EXPLORER_OFF = (
    ("nndiagram/site/render.py", "numbers=numbers, links=True", "numbers=numbers, links=False"),
    (
        "nndiagram/site/render.py",
        '    bundle["links"] = link_data(network, [bundle["svg_light"]], numbers)\n',
        "",
    ),
    ("nndiagram/site/plugin.py", "        self._add_explorer(config)\n", ""),
    (
        "docs/tutorial/backpropagation.md",
        "include: [flow, diagram, equations, proofs, entries]\n",
        "",
    ),
)


def explorer_off(folder: Path) -> Path:
    """The tree in ``folder`` without the explorer; fails if the code no longer matches."""
    for name, text, replacement in EXPLORER_OFF:
        path = folder / name
        source = path.read_text(encoding="utf-8")
        if text not in source:
            raise SystemExit(f"bench_explore: cannot switch the explorer off: {name} changed")
        path.write_text(source.replace(text, replacement, 1), encoding="utf-8")
    return folder


def default_before() -> str:
    found = subprocess.run(
        ["git", "log", "--format=%H", "-1", "--grep=^Figure and equations linked (issue 18)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{found}^" if found else "HEAD"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each build")
    parser.add_argument("--before", default=None, help="git revision to compare the build with")
    args = parser.parse_args(argv)
    ok = True

    print("| asset | bytes |")
    print("| --- | ---: |")
    total = 0
    for name, size in sizes():
        print(f"| `{name}` | {size:,} |")
        total += size
    met = total <= SIZE_TARGET
    ok &= met
    print(f"\nscript + CSS: {total / 1024:.1f} KB (target ≤ 15 KB): {'met' if met else 'MISSED'}\n")

    build = [str(BIN / "nndiagram"), "build"]
    before_rev = args.before or default_before()
    with tempfile.TemporaryDirectory(prefix="bench-explore-") as folder:
        now_site, old_site, off_site = (Path(folder) / name for name in ("now", "before", "off"))
        old_code = before_tree(before_rev, Path(folder) / "before-code")
        off_code = explorer_off(before_tree("HEAD", Path(folder) / "off-code"))
        copy_site(now_site)
        copy_site(old_site, old_code)
        copy_site(off_site, off_code)
        # This checkout's package, whatever PYTHONPATH the caller had.
        now_code = ROOT
        times: dict[str, list[float]] = {
            f"{kind}{suffix}": [] for kind in ("cold", "warm") for suffix in ("", "-before", "-off")
        }
        pairs = (
            (old_site, old_code, "-before"),
            (off_site, off_code, "-off"),
            (now_site, now_code, ""),
        )
        # Interleaved, so a change in machine load hits both; cold builds first (as in
        # bench_site.py), then the unchanged rebuilds, none right after a cold one.
        for _ in range(args.repeats):
            for site, code, suffix in pairs:
                shutil.rmtree(site / ".nndiagram-cache", ignore_errors=True)
                times["cold" + suffix].append(run(build, site, code))
        CPU.clear()  # from here on: the unchanged rebuilds only
        for _ in range(args.repeats + 2):
            for site, code, suffix in pairs:
                times["warm" + suffix].append(run(build, site, code))
        if not Path(CHROMIUM).exists():
            print("hover: not measured (no Chromium at /usr/bin/chromium)")
            hovers = []
        else:
            hovers = hover_times(now_site / "site")

    if hovers:
        print("| tutorial page | linked elements | figure → math median ms | p95 ms "
              "| math → figure median ms | p95 ms |")  # fmt: skip
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for path, count, figure, math in hovers:
            print(
                f"| `{path}` | {count} | {median(figure):.2f} | "
                f"{percentile(figure, 0.95):.2f} | {median(math):.2f} | "
                f"{percentile(math, 0.95):.2f} |"
            )
        path, _, figure, math = max(hovers, key=lambda row: row[1])
        worst = max(median(figure), median(math))
        met = worst <= HOVER_TARGET_MS
        ok &= met
        print(
            f"\nhover to highlight on the largest page ({path}): {worst:.2f} ms median "
            f"(target ≤ {HOVER_TARGET_MS:.0f} ms): {'met' if met else 'MISSED'}\n"
        )

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    shown = before_rev[:12] + ("^" if before_rev.endswith("^") else "")
    print(f"Site build, median of {args.repeats} cold and {args.repeats + 2} unchanged "
          "interleaved runs each, wall time; before = "
          f"`{shown}`; {os.cpu_count()} CPUs, load average {load}.\n")  # fmt: skip
    print("`before` is the commit before the explorer: everything landed since (by any change)")
    print("counts in `now` too. `off` is `now` with the explorer switched off, so `now / off`")
    print("is what the explorer costs. Cold builds on a loaded 2-core machine vary by ±30 %")
    print("between runs; the unchanged rebuild is the steadier figure, its CPU time (the build")
    print("process and its children) steadier still.\n")
    print("| build | before s | off s | now s | now / before | now / off |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind, label in (("cold", "cold (empty cache)"), ("warm", "nothing changed")):
        old, off, new = (statistics.median(times[kind + s]) for s in ("-before", "-off", ""))
        print(
            f"| {label} | {old:.2f} | {off:.2f} | {new:.2f} | {new / old:.2f} | {new / off:.2f} |"
        )
    old, off, new = (statistics.median(CPU[name]) for name in ("before", "off", "now"))
    print(
        f"| nothing changed, CPU s | {old:.2f} | {off:.2f} | {new:.2f} | {new / old:.2f} | "
        f"{new / off:.2f} |"
    )
    for kind in ("cold", "warm"):
        new = statistics.median(times[kind])
        ratio = new / statistics.median(times[kind + "-before"])
        cost = new / statistics.median(times[kind + "-off"])
        met = ratio <= BUILD_TARGET
        print(
            f"{kind} build: {ratio:.2f}× before (target ≤ 1.10×): {'met' if met else 'MISSED'}; "
            f"the explorer's share: {cost:.2f}× the build without it"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
