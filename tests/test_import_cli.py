"""`nndiagram import` and `check --against` through the console script: the written spec is an
ordinary spec every command reads, the framework row, and one line (exit 2, nothing written)
for each bad input."""

from __future__ import annotations

import itertools
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import ROOT, RunCli
from onnx import TensorProto, helper, numpy_helper

from nndiagram.spec import load_spec


def mnist_onnx(path: Path, seed: int = 0, dtype: type = np.float32) -> Path:
    """An MNIST-shaped MLP (28x28 -> 128 -> 64 -> 10) as an exporter writes it."""
    rng = np.random.default_rng(seed)
    onnx_type = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    sizes = [784, 128, 64, 10]
    initializers = []
    nodes = [helper.make_node("Flatten", ["image"], ["flat"], name="/flatten/Flatten", axis=1)]
    value = "flat"
    for index, (fan_in, units) in enumerate(itertools.pairwise(sizes)):
        limit = np.sqrt(6 / (fan_in + units))
        weight = rng.uniform(-limit, limit, size=(units, fan_in)).astype(dtype)
        bias = rng.uniform(-0.1, 0.1, size=units).astype(dtype)
        initializers += [
            numpy_helper.from_array(weight, f"fc{index}.weight"),
            numpy_helper.from_array(bias, f"fc{index}.bias"),
        ]
        out = f"z{index}"
        nodes.append(
            helper.make_node(
                "Gemm",
                [value, f"fc{index}.weight", f"fc{index}.bias"],
                [out],
                name=f"/fc{index}/Gemm",
                transB=1,
            )
        )
        act = "Relu" if index < 2 else "Softmax"
        nodes.append(helper.make_node(act, [out], [f"a{index}"], name=f"/act{index}/{act}"))
        value = f"a{index}"
    nodes[-1].output[0] = "probs"
    graph = helper.make_graph(
        nodes,
        "mnist_mlp",
        [helper.make_tensor_value_info("image", onnx_type, ["batch", 28, 28])],
        [helper.make_tensor_value_info("probs", onnx_type, ["batch", 10])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    mnist_onnx(folder / "mnist.onnx")
    return folder


def test_import_writes_an_ordinary_spec_and_float64_params(
    run_cli: RunCli, model_dir: Path, tmp_path: Path
) -> None:
    spec, params = tmp_path / "mnist.yaml", tmp_path / "P.npz"
    result = run_cli(
        "import", str(model_dir / "mnist.onnx"), "-o", str(spec), "--params", str(params)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "ONNX float32 network 784-128-64-10" in result.stderr
    network = load_spec(spec)
    assert network.title == "mnist_mlp"
    assert network.sizes == (784, 128, 64, 10)
    assert [layer.activation.name for layer in network.layers] == ["relu", "relu", "softmax"]
    with np.load(params) as arrays:
        assert sorted(arrays.files) == ["W0", "W1", "W2", "b0", "b1", "b2"]
        assert arrays["W0"].shape == (128, 784) and arrays["W0"].dtype == np.float64
        stored = onnx.load(str(model_dir / "mnist.onnx")).graph.initializer[0]
        assert np.array_equal(arrays["W0"], numpy_helper.to_array(stored))
    # the round trip: every command takes the written spec as it is
    validate = run_cli("validate", str(spec))
    assert validate.returncode == 0 and "784-128-64-10" in validate.stdout
    equations = run_cli("equations", str(spec), "--format", "text")
    assert equations.returncode == 0 and "exp(z_j)" in equations.stdout
    X = tmp_path / "X.npy"
    np.save(X, np.random.default_rng(0).uniform(size=(784, 3)))
    evaluate = run_cli(
        "evaluate",
        str(spec),
        "--params",
        str(params),
        "--input",
        str(X),
        "-o",
        str(tmp_path / "Y.npy"),
    )
    assert evaluate.returncode == 0, evaluate.stderr
    assert np.allclose(np.load(tmp_path / "Y.npy").sum(axis=0), 1.0)


@pytest.mark.exe
def test_imported_spec_renders(run_cli: RunCli, model_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "mnist.yaml"
    run_cli(
        "import",
        str(model_dir / "mnist.onnx"),
        "-o",
        str(spec),
        "--params",
        str(tmp_path / "P.npz"),
    )
    result = run_cli("render", str(spec), "-o", str(tmp_path / "mnist.svg"))
    assert result.returncode == 0, result.stderr
    assert "<svg" in (tmp_path / "mnist.svg").read_text()


def test_check_against_the_model_adds_a_passing_framework_row(
    run_cli: RunCli, model_dir: Path, tmp_path: Path
) -> None:
    spec, params = tmp_path / "mnist.yaml", tmp_path / "P.npz"
    model = str(model_dir / "mnist.onnx")
    run_cli("import", model, "-o", str(spec), "--params", str(params))
    result = run_cli(
        "check", str(spec), "--params", str(params), "--against", model, "--format", "json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)["reports"][0]
    row = next(r for r in report["checks"] if r["name"] == "framework")
    assert row["status"] == "pass" and row["tolerance"] == 1e-5
    assert 0 < row["error"] < 1e-5  # float32 arithmetic in onnxruntime vs float64 here
    assert "onnxruntime" in row["detail"] and "16 samples" in row["detail"]
    # the user's own inputs
    X = tmp_path / "X.npy"
    np.save(X, np.random.default_rng(5).uniform(size=(784, 7)))
    mine = run_cli(
        "check", str(spec), "--params", str(params), "--against", model, "--input", str(X)
    )
    assert mine.returncode == 0, mine.stdout + mine.stderr
    assert "on 7 samples" in mine.stdout


def test_check_against_other_weights_fails_with_exit_1(
    run_cli: RunCli, model_dir: Path, tmp_path: Path
) -> None:
    spec, params = tmp_path / "mnist.yaml", tmp_path / "P.npz"
    other = mnist_onnx(tmp_path / "other.onnx", seed=1)
    run_cli("import", str(other), "-o", str(spec), "--params", str(params))
    result = run_cli(
        "check", str(spec), "--params", str(params), "--against", str(model_dir / "mnist.onnx")
    )
    assert result.returncode == 1, result.stdout + result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("framework"))
    assert row.split()[1] == "fail"


def test_check_against_a_model_of_another_width_is_bad_input(
    run_cli: RunCli, model_dir: Path, tmp_path: Path
) -> None:
    params = tmp_path / "P.npz"
    np.savez(params, W0=np.ones((2, 2)), b0=np.zeros(2), W1=np.ones((1, 2)), b1=np.zeros(1))
    result = run_cli(
        "check",
        "diagrams/multilayer.yaml",
        "--params",
        str(params),
        "--against",
        str(model_dir / "mnist.onnx"),
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "the spec has 2 inputs but onnxruntime" in result.stderr and "takes 784" in result.stderr
    alone = run_cli("check", "diagrams/multilayer.yaml", "--against", str(model_dir / "mnist.onnx"))
    assert alone.returncode == 2 and "--against needs --params" in alone.stderr


class Evil:
    """Unpickled, this would create a file: a state_dict must never run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, ...]]:
        return (os.system, (f"touch {self.marker}",))


def bad_inputs(folder: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (import arguments, a phrase the one-line error must hold)."""
    (folder / "text.onnx").write_text("not a model\n")
    good = (folder / "good.onnx").read_bytes() if (folder / "good.onnx").exists() else None
    if good is None:
        mnist_onnx(folder / "good.onnx")
        good = (folder / "good.onnx").read_bytes()
    (folder / "cut.onnx").write_bytes(good[:1000])
    (folder / "pickle.pt").write_bytes(pickle.dumps({"w": Evil(folder / "ran")}, protocol=2))
    (folder / "fake.keras").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "fake.safetensors").write_bytes(b"\xff" * 16)
    return {
        "text renamed .onnx": (["text.onnx"], "not an ONNX model"),
        "truncated .onnx": (["cut.onnx"], "cut.onnx:1:1: error: "),
        "state_dict pickle": (
            ["pickle.pt", "--spec", str(ROOT / "diagrams/multilayer.yaml")],
            "unsupported GLOBAL",
        ),
        "not a zip .keras": (["fake.keras"], "not a Keras 3 archive"),
        "bad safetensors": (
            ["fake.safetensors", "--spec", str(ROOT / "diagrams/multilayer.yaml")],
            "not a safetensors file",
        ),
        "weights without --spec": (["fake.safetensors"], "give it with --spec"),
        "unknown suffix": (["model.h5"], "unknown model file type"),
    }


def test_bad_inputs_exit_2_with_one_line_and_write_nothing(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name, (args, phrase) in bad_inputs(tmp_path).items():
        spec, params = out / "spec.yaml", out / "P.npz"
        result = run_cli("import", *args, "-o", str(spec), "--params", str(params), cwd=tmp_path)
        assert result.returncode == 2, (name, result.stderr)
        assert result.stderr.count("\n") == 1, (name, result.stderr)
        assert "Traceback" not in result.stderr and phrase in result.stderr, (name, result.stderr)
        assert result.stderr.startswith(args[0]) or result.stderr.startswith("nndiagram"), name
        assert list(out.iterdir()) == [], name
    assert not (tmp_path / "ran").exists()


def test_a_missing_framework_names_the_extra_to_install(model_dir: Path, tmp_path: Path) -> None:
    argv = ["import", str(model_dir / "mnist.onnx"), "-o", "s.yaml", "--params", "p.npz"]
    script = (
        "import sys; sys.modules['onnx'] = None\n"
        "from nndiagram.cli import main\n"
        f"sys.exit(main({argv!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr == (
        "nndiagram: this needs the 'onnx' package, which is not installed: "
        "pip install 'nndiagram[onnx]'\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_spec_can_go_to_stdout_but_not_the_params(
    run_cli: RunCli, model_dir: Path, tmp_path: Path
) -> None:
    model = str(model_dir / "mnist.onnx")
    done = run_cli("import", model, "-o", "-", "--params", str(tmp_path / "P.npz"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("title: mnist_mlp\n") and "units: 128" in done.stdout
    refused = run_cli("import", model, "-o", str(tmp_path / "s.yaml"), "--params", "-")
    assert refused.returncode == 2 and "--params needs a file" in refused.stderr
    assert not (tmp_path / "s.yaml").exists()
