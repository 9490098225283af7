"""ONNX in: real PyTorch models exported to ONNX, and graphs written with onnx.helper, read into
a Network whose evaluator equals both torch and onnxruntime; every hostile file is one error."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from nndiagram.errors import NNDiagramError, SpecError, UsageError
from nndiagram.importers import from_onnx, import_model
from nndiagram.numeric.forward import forward


def export(module: torch.nn.Module, example: torch.Tensor, path: Path) -> Path:
    """The TorchScript exporter: 0.05 s a model (the dynamo one takes seconds; one slow test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(
            module.eval(),
            (example,),
            str(path),
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )
    return path


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def onnxruntime_output(path: Path, batch: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: batch})[0]


def mnist_mlp() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 128),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 64),
        torch.nn.LeakyReLU(0.05),
        torch.nn.Linear(64, 10),
        torch.nn.Softmax(dim=1),
    )


def test_mnist_float32_model_equals_torch_and_onnxruntime(tmp_path: Path) -> None:
    model = mnist_mlp().eval()
    path = export(model, torch.zeros(1, 28, 28), tmp_path / "mnist.onnx")
    imported = import_model(path)
    network = imported.network
    assert network.sizes == (784, 128, 64, 10)
    assert [layer.activation.name for layer in network.layers] == ["relu", "leaky_relu", "softmax"]
    assert network.layers[1].activation.alpha == 0.05  # float32's 0.05, written as 0.05
    assert imported.dtype == "float32" and imported.input_shape == (28, 28)
    assert imported.params["W0"].dtype == np.float32  # kept as stored until written
    assert all(a.dtype == np.float64 for a in imported.float64_params().values())
    images = np.random.default_rng(1).uniform(size=(32, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(images)).numpy().T
    ours = forward(network, imported.params, images.reshape(32, 784).T.astype(np.float64))
    assert relative(ours, expected) < 1e-5
    assert relative(ours, onnxruntime_output(path, images).T) < 1e-5
    # the weights are torch's own, bit for bit, as float64
    assert np.array_equal(imported.params["W0"], model[1].weight.detach().numpy())


def test_float64_model_matches_to_1e_12(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3), torch.nn.Sigmoid()
    ).double()
    path = export(model, torch.zeros(1, 5, dtype=torch.float64), tmp_path / "tiny.onnx")
    network, params = from_onnx(path)
    assert network.sizes == (5, 4, 3)
    X = np.random.default_rng(2).normal(size=(5, 9))
    with torch.no_grad():
        expected = model(torch.from_numpy(X.T)).numpy().T
    assert relative(forward(network, params, X), expected) < 1e-12
    assert relative(forward(network, params, X), onnxruntime_output(path, X.T).T) < 1e-12


def graph_model(nodes, initializers, inputs=None, outputs=None, opset=17):
    graph = helper.make_graph(
        nodes,
        "hand_written",
        inputs or [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["n", 3])],
        outputs or [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["n", 2])],
        initializer=[numpy_helper.from_array(np.asarray(v), name=k) for k, v in initializers],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def test_matmul_add_and_gemm_without_transpose_or_bias(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    B0 = rng.normal(size=(3, 4))  # MatMul: x (n, 3) @ B0 (3, 4)
    b0 = rng.normal(size=4)
    B1 = rng.normal(size=(4, 2))  # Gemm transB = 0, no C
    nodes = [
        helper.make_node("MatMul", ["x", "B0"], ["h"], name="mm"),
        helper.make_node("Add", ["b0", "h"], ["z"], name="bias"),
        helper.make_node("LeakyRelu", ["z"], ["a"], name="act", alpha=0.25),
        helper.make_node("Gemm", ["a", "B1"], ["y"], name="out"),
    ]
    path = save(graph_model(nodes, [("B0", B0), ("b0", b0), ("B1", B1)]), tmp_path / "mm.onnx")
    network, params = from_onnx(path)
    assert network.sizes == (3, 4, 2)
    assert network.layers[0].activation.alpha == 0.25
    assert network.layers[1].activation.is_identity
    assert np.array_equal(params["W0"], B0.T) and np.array_equal(params["b1"], np.zeros(2))
    X = rng.normal(size=(3, 6))
    assert relative(forward(network, params, X), onnxruntime_output(path, X.T).T) < 1e-12


def test_float16_and_bfloat16_weights_convert_exactly(tmp_path: Path) -> None:
    W = np.array([[0.1, -2.5, 3.0], [1e-3, 7.0, -0.3]])
    for dtype, onnx_type in ((np.float16, TensorProto.FLOAT16), (None, TensorProto.BFLOAT16)):
        if dtype is None:
            import ml_dtypes

            stored = W.astype(ml_dtypes.bfloat16)
        else:
            stored = W.astype(dtype)
        tensor = helper.make_tensor(
            "W", onnx_type, stored.shape, stored.view(np.uint16).ravel().tobytes(), raw=True
        )
        nodes = [helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)]
        model = graph_model(nodes, [])
        model.graph.initializer.append(tensor)
        _network, params = from_onnx(save(model, tmp_path / "half.onnx"))
        assert np.array_equal(params["W0"], stored.astype(np.float64))
        assert import_model(tmp_path / "half.onnx").dtype in ("float16", "bfloat16")


def refusal(path: Path) -> str:
    with pytest.raises(NNDiagramError) as caught:
        import_model(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert caught.value.exit_code == 2
    return message


def test_unsupported_op_is_named_with_its_node_and_position(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
        helper.make_node("Elu", ["h"], ["y"], name="odd_one"),
    ]
    path = save(graph_model(nodes, [("W", np.ones((2, 3)))]), tmp_path / "elu.onnx")
    message = refusal(path)
    assert "node 'odd_one' (Elu, node 2 of 2)" in message and "not supported" in message


def test_convolution_from_torch_is_refused(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(2 * 26 * 26, 10)
    )
    path = export(model, torch.zeros(1, 1, 28, 28), tmp_path / "conv.onnx")
    assert "(Conv, node 1 of" in refusal(path)


def test_branches_residual_adds_and_extra_ops_are_refused(tmp_path: Path) -> None:
    W = np.eye(3)[:2]
    branching = [
        helper.make_node("Gemm", ["x", "W"], ["h"], name="a", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="r"),
        helper.make_node("Add", ["h", "r"], ["y"], name="skip"),
    ]
    message = refusal(save(graph_model(branching, [("W", W)]), tmp_path / "branch.onnx"))
    assert "feeds 2 nodes" in message
    residual = [
        helper.make_node("Gemm", ["x", "W"], ["h"], name="a", transB=1),
        helper.make_node("Add", ["h", "c"], ["y"], name="plus"),
    ]
    model = graph_model(residual, [("W", W), ("c", np.ones(2))])
    assert "Add is supported only as the bias" in refusal(save(model, tmp_path / "add.onnx"))
    twice = [
        helper.make_node("Gemm", ["x", "W"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Sigmoid", ["r"], ["y"]),
    ]
    model = graph_model(twice, [("W", W)])
    assert "follows another activation" in refusal(save(model, tmp_path / "twice.onnx"))
    side = [*twice[:2], helper.make_node("Gemm", ["r", "V"], ["y"], transB=1)]
    side.append(helper.make_node("Relu", ["x"], ["unused"], name="dangling"))
    model = graph_model(side, [("W", W), ("V", np.eye(2))])
    assert "feeds 2 nodes" in refusal(save(model, tmp_path / "side.onnx"))


def test_shapes_that_do_not_chain_are_named(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "W0"], ["h"], name="first", transB=1),
        helper.make_node("Gemm", ["h", "W1"], ["y"], name="second", transB=1),
    ]
    model = graph_model(nodes, [("W0", np.ones((4, 3))), ("W1", np.ones((2, 5)))])
    message = refusal(save(model, tmp_path / "chain.onnx"))
    assert "layer 1 (second) takes 5 input(s) but layer 0 has 4" in message


def test_garbage_truncated_and_renamed_files_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.onnx"
    text.write_text("this is a text file, not a model\n")
    assert "not an ONNX model" in refusal(text)
    torch.manual_seed(0)
    good = export(torch.nn.Linear(3, 2), torch.zeros(1, 3), tmp_path / "good.onnx")
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert "not an ONNX model" in refusal(cut) or "cannot be read" in refusal(cut)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    assert "not an ONNX model" in refusal(empty)


def test_integer_and_non_finite_weights_are_refused_by_name(tmp_path: Path) -> None:
    nodes = [helper.make_node("Gemm", ["x", "Wq"], ["y"], transB=1)]
    model = graph_model(nodes, [("Wq", np.ones((2, 3), dtype=np.int8))])
    assert "'Wq' has dtype int8" in refusal(save(model, tmp_path / "int.onnx"))
    W = np.ones((2, 3))
    W[1, 2] = np.nan
    W[0, 0] = np.inf
    nodes = [helper.make_node("Gemm", ["x", "Wbad"], ["y"], transB=1)]
    model = graph_model(nodes, [("Wbad", W)])
    assert "'Wbad' has 2 non-finite value(s)" in refusal(save(model, tmp_path / "nan.onnx"))


def external_model(tmp_path: Path, location: str, dims: tuple[int, ...] = (2, 3)) -> Path:
    tensor = TensorProto(name="W", data_type=TensorProto.DOUBLE, dims=list(dims))
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=location)
    model = graph_model([helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)], [])
    model.graph.initializer.append(tensor)
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    return save(model, folder / "ext.onnx")


def test_external_data_inside_the_folder_loads_and_outside_is_refused(tmp_path: Path) -> None:
    W = np.arange(6.0).reshape(2, 3)
    path = external_model(tmp_path, "weights.bin")
    (path.parent / "weights.bin").write_bytes(W.tobytes())
    _network, params = from_onnx(path)
    assert np.array_equal(params["W0"], W)
    secret = tmp_path / "secret.bin"
    secret.write_bytes(W.tobytes())
    for location in ("../secret.bin", str(secret), "sub/../../secret.bin"):
        message = refusal(external_model(tmp_path, location))
        assert "outside the model's folder" in message
    os.symlink(secret, path.parent / "link.bin")
    assert "outside the model's folder" in refusal(external_model(tmp_path, "link.bin"))


def test_too_many_parameters_and_too_large_files_are_refused_before_reading(
    tmp_path: Path,
) -> None:
    # 20,000 x 10,000 declared, data never written: refused by the shapes alone
    message = refusal(external_model(tmp_path, "missing.bin", dims=(20_000, 10_000)))
    assert "200,000,000 numbers" in message
    huge = tmp_path / "huge.onnx"
    with open(huge, "wb") as handle:  # sparse: no disk used
        handle.truncate(2 * 1024**3 + 1)
    assert "up to 2 GB" in refusal(huge)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        import_model(tmp_path / "absent.onnx")
    with pytest.raises(UsageError, match=r"unknown model file type '\.h5'"):
        import_model(tmp_path / "model.h5")


def test_reshape_input_from_the_default_exporter(tmp_path: Path) -> None:
    """torch.onnx.export's default (dynamo) exporter writes Reshape, not Flatten."""
    model = mnist_mlp().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own deprecations inside the exporter
        program = torch.onnx.export(model, (torch.zeros(2, 28, 28),), dynamo=True, verbose=False)
    program.save(str(tmp_path / "dynamo.onnx"))
    imported = import_model(tmp_path / "dynamo.onnx")
    assert imported.network.sizes == (784, 128, 64, 10)
    images = np.random.default_rng(4).uniform(size=(2, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(images)).numpy().T
    ours = forward(imported.network, imported.params, images.reshape(2, 784).T.astype(np.float64))
    assert relative(ours, expected) < 1e-5


test_reshape_input_from_the_default_exporter = pytest.mark.slow(
    test_reshape_input_from_the_default_exporter
)


def test_a_model_exported_with_a_fixed_batch_runs_in_pieces(tmp_path: Path) -> None:
    """The default exporter fixes the example's batch size (often 1): check --against feeds
    the model that many samples at a time."""
    from nndiagram.importers.frameworks import reference_for

    rng = np.random.default_rng(6)
    W = rng.normal(size=(2, 3))
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["z"], transB=1),
        helper.make_node("Relu", ["z"], ["y"]),
    ]
    fixed = [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [2, 3])]
    model = graph_model(nodes, [("W", W)], inputs=fixed)
    path = save(model, tmp_path / "fixed.onnx")
    network, params = from_onnx(path)
    X = rng.normal(size=(3, 5))  # 5 samples through a batch of 2: the last piece is padded
    framework = reference_for(path).run(X)
    assert framework.shape == (2, 5)
    assert relative(forward(network, params, X), framework) < 1e-12
