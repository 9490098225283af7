"""The only place that runs Graphviz's ``dot``: list arguments, a time limit, clear errors."""

from __future__ import annotations

import os
import subprocess

from ..errors import ExecutableNotFound, GraphvizError

TIMEOUT_SECONDS = 10.0
FORMATS: dict[str, tuple[str, ...]] = {
    "svg": ("-Tsvg",),
    "png": ("-Tpng",),
    "pdf": ("-Tpdf",),
}


PNG_DPI = 192  # a figure about 700 pt wide fills a 1920-pixel slide; crisp in print too
# A PNG side longer than this is scaled down (Graphviz's ``size``): a 4-4-4-3 neuron view at
# 192 dpi was 11,093 × 26,600 px, 8 s of rasterising and ~1 GB, and no screen shows it whole.
MAX_PNG_SIDE = 6000


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels, read from the PNG's header."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def run_dot(
    source: str, fmt: str, *, timeout: float = TIMEOUT_SECONDS, dpi: float | None = None
) -> bytes:
    """Lay out and render DOT ``source``; returns the output bytes of format ``fmt``. A PNG
    has ``dpi`` pixels per inch (default ``PNG_DPI``)."""
    try:
        args = ["dot", *FORMATS[fmt]]
    except KeyError:
        raise GraphvizError(
            f"unknown output format {fmt!r} (must be one of: {', '.join(FORMATS)})"
        ) from None
    if fmt == "png":
        inches = MAX_PNG_SIDE / (dpi or PNG_DPI)
        args += [f"-Gdpi={dpi or PNG_DPI:g}", f"-Gsize={inches:.4f},{inches:.4f}"]
    # SOURCE_DATE_EPOCH makes cairo write a fixed creation date into PDFs: same input, same bytes.
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
    try:
        done = subprocess.run(
            args, input=source.encode("utf-8"), capture_output=True, timeout=timeout, env=env
        )
    except FileNotFoundError:
        raise ExecutableNotFound() from None
    except subprocess.TimeoutExpired:
        raise GraphvizError(
            f"Graphviz 'dot' took longer than {timeout:g} s and was stopped"
        ) from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip() or "(no message)"
        raise GraphvizError(
            f"Graphviz 'dot' failed (exit {done.returncode}): {' '.join(stderr.split())}"
        )
    return done.stdout
