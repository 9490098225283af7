"""Real models in: `nndiagram import` and `check --against` of a 784-128-64-10 ONNX model, each
a whole command with its start-up, and the memory an import takes beside the weights' size.

Targets (issue 15): import ≤ 1 s wall, check --against ≤ 3 s wall, both with start-up; peak
memory under 3× the weights. The memory is the growth of the process's peak resident size
over what it held once the frameworks were imported (the interpreter, NumPy and onnx are not
the model's), for the MNIST model and for a 4096-4096-4096-10 one (16.8 M float32 weights,
67 MB) where the model dominates.

Run: .venv/bin/python benchmarks/bench_import.py
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from timing import median_seconds

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLI = [sys.executable, "-m", "nndiagram"]


def mlp_onnx(path: Path, sizes: list[int], seed: int = 0) -> int:
    """A seeded float32 MLP as an exporter writes it (Flatten at a 28x28 input when the first
    width is 784); returns the weights' size in bytes."""
    rng = np.random.default_rng(seed)
    first = "flat" if sizes[0] == 784 else "x"
    nodes = [helper.make_node("Flatten", ["x"], ["flat"], axis=1)] if first == "flat" else []
    initializers, value, size = [], first, 0
    for index, (fan_in, units) in enumerate(itertools.pairwise(sizes)):
        weight = rng.standard_normal((units, fan_in), dtype=np.float32) * np.float32(0.05)
        bias = rng.standard_normal(units, dtype=np.float32) * np.float32(0.05)
        size += weight.nbytes + bias.nbytes
        initializers += [
            numpy_helper.from_array(weight, f"W{index}"),
            numpy_helper.from_array(bias, f"b{index}"),
        ]
        last = index == len(sizes) - 2
        nodes.append(
            helper.make_node("Gemm", [value, f"W{index}", f"b{index}"], [f"z{index}"], transB=1)
        )
        nodes.append(
            helper.make_node(
                "Softmax" if last else "Relu", [f"z{index}"], ["y" if last else f"a{index}"]
            )
        )
        value = f"a{index}"
    shape = ["n", 28, 28] if first == "flat" else ["n", sizes[0]]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", sizes[-1]])],
        initializer=initializers,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return size


def run(*args: str) -> None:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")


def wall_and_cpu(command: Callable[[], None], repeats: int) -> tuple[float, float]:
    """Median wall time of a command, and its median CPU time (user + system of the child):
    on a busy machine the wall time waits for a core, the CPU time does not."""
    cpu: list[float] = []

    def timed() -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        command()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

    wall = median_seconds(timed, repeats)
    return wall, statistics.median(cpu[1:])  # the first call is the warm-up


# The peak resident size (VmHWM) is reset once the modules are imported (Linux: writing 5 to
# clear_refs); ru_maxrss would not do, a child inherits its parent's across fork and exec.
PEAK_SCRIPT = """
import json, sys
import numpy, onnx, yaml, nndiagram.importers.onnx, nndiagram.spec, nndiagram.output
from nndiagram.importers import import_files

def kilobytes(field):
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith(field + ":"))

import_files(sys.argv[4], sys.argv[2], sys.argv[3])  # first use: caches, lazy imports
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
before = kilobytes("VmRSS")
import_files(sys.argv[1], sys.argv[2], sys.argv[3])
print(json.dumps({"before": before * 1024, "after": kilobytes("VmHWM") * 1024}))
"""


def peak_growth(model: Path, folder: Path) -> int:
    tiny = folder / "tiny.onnx"
    mlp_onnx(tiny, [2, 2, 1])
    outputs = [str(folder / "s.yaml"), str(folder / "p.npz")]
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(model), *outputs, str(tiny)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    measured = json.loads(done.stdout)
    return int(measured["after"] - measured["before"])


def main() -> None:
    print("# `nndiagram import` and `check --against` (issue 15)\n")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        model = folder / "mnist.onnx"
        weights = mlp_onnx(model, [784, 128, 64, 10])
        spec, params = folder / "mnist.yaml", folder / "mnist.npz"
        importing, importing_cpu = wall_and_cpu(
            lambda: run("import", str(model), "-o", str(spec), "--params", str(params)), 5
        )
        checking, checking_cpu = wall_and_cpu(
            lambda: run("check", str(spec), "--params", str(params), "--against", str(model)), 3
        )
        load = os.getloadavg()[0]
        print(f"Load average {load:.1f} on {os.cpu_count()} CPUs while measuring.\n")
        print("| what | wall (median) | CPU (median) | target |")
        print("| --- | --- | --- | --- |")
        print(
            f"| `nndiagram import` 784-128-64-10 ONNX, with start-up | {importing:.2f} s "
            f"| {importing_cpu:.2f} s | ≤ 1 s wall |"
        )
        print(
            f"| `nndiagram check --against` it, with start-up | {checking:.2f} s "
            f"| {checking_cpu:.2f} s | ≤ 3 s wall |"
        )
        big = folder / "big.onnx"
        big_weights = mlp_onnx(big, [4096, 4096, 4096, 10])
        for label, path, size in (
            ("784-128-64-10", model, weights),
            ("4096-4096-4096-10", big, big_weights),
        ):
            growth = peak_growth(path, folder)
            print(
                f"| peak memory of an import, {label} ({size / 1e6:.1f} MB of float32 weights) "
                f"| {growth / 1e6:.1f} MB | {growth / size:.2f}× the weights | < 3× |"
            )
        print(f"\nPython {sys.version.split()[0]}, onnx {onnx.__version__}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
