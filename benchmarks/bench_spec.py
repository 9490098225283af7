"""Benchmark of spec loading: what reading, validating and refusing specs costs.

Prints median times (ms) for: every shipped spec; one spec in YAML, JSON and TOML; a
1,000-layer spec against plain ``yaml.safe_load``/``json.loads`` of the same text (the price
of positions for every value); a 10,000-edge explicit graph; custom activations (cold and
cached); how fast hostile inputs are refused; and the wall time of ``nndiagram validate
diagrams/*.yaml`` beside a bare interpreter start.

Run: .venv/bin/python benchmarks/bench_spec.py   (medians of repeats; the load average is
printed, since other processes move wall times).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from timing import median_seconds

from nndiagram.errors import SpecError
from nndiagram.expressions import _compile, compile_activation
from nndiagram.spec.load import load_spec, load_spec_text

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn: Callable[[], Any], repeats: int = 15) -> float:
    return median_seconds(fn, repeats) * 1e3


def refused_ms(fn: Callable[[], Any], repeats: int = 5) -> float:
    def attempt() -> None:
        try:
            fn()
        except SpecError:
            return
        raise AssertionError("expected a SpecError")

    return median_ms(attempt, repeats)


def table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}\n")
    print(f"| {'case'.ljust(width)} | result |")
    print(f"| {'-' * width} | ------ |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


def main() -> int:
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPU(s)")

    rows = [
        (path.name, f"{median_ms(lambda p=path: load_spec(p)):.2f} ms")
        for path in sorted((ROOT / "diagrams").glob("*.yaml"))
    ]
    table("Shipped specs (load_spec: read, validate, build; graphs also checked)", rows)

    xor = (ROOT / "diagrams" / "xor.yaml").read_text()
    data = yaml.safe_load(xor)
    toml = 'inputs = 2\nloss = "bce"\n' + "".join(
        f'[[layers]]\nunits = {layer["units"]}\nactivation = "{layer["activation"]}"\n'
        for layer in data["layers"]
    )
    texts = {"yaml": xor, "json": json.dumps(data, indent=2), "toml": toml}
    base = median_ms(lambda: load_spec_text(texts["yaml"]))
    rows = []
    for fmt, text in texts.items():
        ms = median_ms(lambda f=fmt, t=text: load_spec_text(t, fmt=f))
        rows.append((f"xor as {fmt}", f"{ms:.2f} ms ({ms / base:.2f}x YAML)"))
    table("One spec, three formats", rows)

    big = {"inputs": 8, "layers": [{"units": 8, "activation": "relu"}] * 1000}
    big_yaml = yaml.safe_dump(big)
    big_json = json.dumps(big, indent=1)
    ours_yaml = median_ms(lambda: load_spec_text(big_yaml), 5)
    plain_yaml = median_ms(lambda: yaml.safe_load(big_yaml), 5)
    ours_json = median_ms(lambda: load_spec_text(big_json, fmt="json"), 5)
    plain_json = median_ms(lambda: json.loads(big_json), 5)
    table(
        "1,000 layers: full load vs. the bare parser (no positions, no validation)",
        [
            ("YAML load_spec_text", f"{ours_yaml:.1f} ms"),
            ("YAML yaml.safe_load only", f"{plain_yaml:.1f} ms ({ours_yaml / plain_yaml:.2f}x)"),
            ("JSON load_spec_text", f"{ours_json:.1f} ms"),
            ("JSON json.loads only", f"{plain_json:.2f} ms ({ours_json / plain_json:.0f}x)"),
        ],
    )

    # A chain gains a layer per edge, so the 1,000-layer cap bounds it before the edge limit.
    chain = "graph: |\n" + "".join(f"  n{i} -> n{i + 1}\n" for i in range(1_000))
    wide = "graph: |\n" + "".join(f"  x{i} -> h{i}\n" for i in range(5_000))
    table(
        "Explicit graphs at the 1,000-layer and 10,000-edge limits",
        [
            (
                "chain of 1,000 edges (1,000 layers, valid)",
                f"{median_ms(lambda: load_spec_text(chain), 3):.0f} ms",
            ),
            (
                "5,000 one-to-one edges (capped missing list)",
                f"{median_ms(lambda: load_spec_text(wide), 3):.0f} ms",
            ),
        ],
    )

    def cold() -> None:
        _compile.cache_clear()
        compile_activation("0.5*z*(1 + erf(z/sqrt(2)))")

    table(
        "Custom activations",
        [
            ("GELU compile (parse, SymPy, derivative, lambdify)", f"{median_ms(cold, 5):.1f} ms"),
            ("cached", f"{median_ms(lambda: compile_activation('max(0.01*z, z)')) * 1e3:.1f} µs"),
        ],
    )

    laughs = "".join(
        f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9 if p else ['"lol"'] * 9) + "]\n"
        for p, c in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True)
    )
    with tempfile.TemporaryDirectory() as directory:
        huge = Path(directory) / "huge.yaml"
        huge.write_text("# padding\n" * 200_000)
        table(
            "Refusing hostile input (each is a SpecError)",
            [
                (
                    "billion laughs (9^8 nodes if expanded)",
                    f"{refused_ms(lambda: load_spec_text(laughs)):.1f} ms",
                ),
                ("2 MB file", f"{refused_ms(lambda: load_spec(huge)):.2f} ms"),
                ("9**9**9**9", f"{refused_ms(lambda: compile_activation('9**9**9**9')):.3f} ms"),
                (
                    "JSON nested 5,000 deep",
                    f"{refused_ms(lambda: load_spec_text('[' * 5000, fmt='json')):.2f} ms",
                ),
                (
                    "YAML nested 5,000 deep",
                    f"{refused_ms(lambda: load_spec_text('[' * 5000)):.1f} ms",
                ),
            ],
        )

    exe = str(Path(sys.executable).parent / "nndiagram")
    specs = [str(p) for p in sorted((ROOT / "diagrams").glob("*.yaml"))]
    python = median_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 5)
    validate = median_ms(lambda: subprocess.run([exe, "validate", *specs], capture_output=True), 5)
    table(
        "Command line",
        [
            ("python -c pass", f"{python:.0f} ms"),
            (f"nndiagram validate diagrams/*.yaml ({len(specs)} specs)", f"{validate:.0f} ms"),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
