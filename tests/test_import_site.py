"""Models in the site: the plugin's ``models`` option imports a model file into a gallery page,
and this site's build makes a real PyTorch model (hooks/mnist_model.py) and shows it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT
from onnx import TensorProto, helper, numpy_helper

from nndiagram.errors import UsageError
from nndiagram.site.models import imported_specs


def tiny_onnx(path: Path) -> Path:
    import numpy as np
    import onnx

    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "W"], ["z"], transB=1),
            helper.make_node("Tanh", ["z"], ["y"]),
        ],
        "Tiny model",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        initializer=[numpy_helper.from_array(np.ones((2, 3), np.float32), "W")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_imported_specs_are_written_once_and_missing_models_named(tmp_path: Path) -> None:
    tiny_onnx(tmp_path / "tiny.onnx")
    folder = tmp_path / "cache" / "imported"
    [(spec, label)] = imported_specs(tmp_path, ["tiny.onnx"], folder)
    assert spec == folder / "tiny.yaml" and label == "tiny.onnx, imported"
    assert spec.read_text().startswith("title: Tiny model\n")
    os.utime(spec, (1, 1))
    imported_specs(tmp_path, ["tiny.onnx"], folder)
    assert spec.stat().st_mtime == 1  # unchanged text: not rewritten, nothing to re-render
    with pytest.raises(UsageError, match=r"missing\.onnx:1:1: error: model listed"):
        imported_specs(tmp_path, ["missing.onnx"], folder)


@pytest.mark.site
@pytest.mark.exe
def test_the_site_gallery_shows_the_model_its_build_exported(built_site: Path) -> None:
    page = (built_site / "gallery" / "mnist-classifier" / "index.html").read_text()
    assert "MNIST classifier from PyTorch" in page
    assert "Imported from <code>mnist-classifier.onnx</code> (ONNX)" in page
    assert "784" in page and "softmax" in page
    index = (built_site / "gallery" / "index.html").read_text()
    assert 'href="mnist-classifier/"' in index
    assert (ROOT / ".nndiagram-cache" / "models" / "mnist-classifier.onnx").is_file()
