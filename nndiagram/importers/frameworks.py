"""Running a model in its own framework, for ``check --against``: onnxruntime for ``.onnx``,
Keras for ``.keras`` and Keras models, torch for an ``nn.Module``.

``reference_for(model)`` returns a :class:`FrameworkModel`; ``verify`` calls its ``run`` on the
columns of a batch and compares the result with nndiagram's evaluator.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from .common import TOLERANCES, Imported
from .extras import need


@dataclass(frozen=True)
class FrameworkModel:
    """A model ready to run: ``run(X)`` maps columns (n_inputs, m) to outputs (units, m)."""

    name: str  # what the report calls it: 'onnxruntime 1.20 on mnist.onnx'
    framework: str
    dtype: str  # the precision the framework computes in
    input_shape: tuple[int, ...]
    n_inputs: int
    runner: Any

    @property
    def tolerance(self) -> float:
        return TOLERANCES.get(self.dtype, 1e-5)

    def input_dtype(self) -> Any:
        return np.float32 if self.dtype in ("float16", "bfloat16") else np.dtype(self.dtype)

    def run(self, X: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(X.T.reshape((X.shape[1], *self.input_shape)))
        Y = np.asarray(self.runner(batch.astype(self.input_dtype(), copy=False)))
        return Y.reshape(X.shape[1], -1).T.astype(np.float64)


def reference_for(model: Any) -> FrameworkModel:
    """``model`` as something to run: a path (``.onnx``, ``.keras``), a ``torch.nn.Module`` or
    a Keras model."""
    if isinstance(model, FrameworkModel):
        return model
    if isinstance(model, str | os.PathLike):
        name = os.fspath(model)
        suffix = Path(name).suffix.lower()
        if suffix == ".onnx":
            return _onnx(name)
        if suffix == ".keras":
            return _keras_file(name)
        raise UsageError(
            f"{name}:1:1: error: --against takes a model that computes (.onnx or .keras), "
            f"not {suffix or 'a file without a suffix'!r}"
        )
    keras = sys.modules.get("keras")  # first: on the torch backend a Keras model is a Module
    if keras is not None and isinstance(model, keras.Model):
        from .keras import read_keras_model

        return _keras(model, read_keras_model(model))
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return _torch(model)
    raise UsageError(
        f"against= takes a model file path, a torch.nn.Module or a Keras model, "
        f"not {type(model).__name__}"
    )


def _onnx(path: str) -> FrameworkModel:
    from .onnx import read_onnx

    imported = read_onnx(path)  # the same checks as `import`: external data, ops, sizes
    ort = need("onnxruntime", "onnx")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: nothing on stderr for a good model
    try:
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        text = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        raise UsageError(f"{path}:1:1: error: onnxruntime cannot load the model: {text}") from None
    feed = session.get_inputs()[0]
    batch = feed.shape[0] if feed.shape and isinstance(feed.shape[0], int) else None

    def run(x: np.ndarray) -> np.ndarray:
        if batch is None or batch == x.shape[0]:
            return session.run(None, {feed.name: x})[0]
        # a model exported with a fixed batch: run it in pieces of that size
        pieces = []
        for start in range(0, x.shape[0], batch):
            chunk = x[start : start + batch]
            padded = np.concatenate([chunk, np.zeros((batch - len(chunk), *x.shape[1:]), x.dtype)])
            pieces.append(session.run(None, {feed.name: padded})[0][: len(chunk)])
        return np.concatenate(pieces)

    return _framework_model(imported, f"onnxruntime {ort.__version__}", "ONNX", run)


def _keras_file(path: str) -> FrameworkModel:
    from .keras import keras_module, read_keras

    imported = read_keras(path)
    keras = keras_module()
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    return _keras(model, imported)


def _keras(model: Any, imported: Imported) -> FrameworkModel:
    from .keras import keras_module, to_numpy

    keras = keras_module()

    def run(x: np.ndarray) -> np.ndarray:
        return to_numpy(model(x, training=False))

    return _framework_model(imported, f"Keras {keras.__version__}", "Keras", run)


def _torch(module: Any) -> FrameworkModel:
    from .torch import read_torch_module, torch_module

    torch = torch_module()
    imported = read_torch_module(module)

    def run(x: np.ndarray) -> np.ndarray:
        training = module.training
        module.eval()
        try:
            with torch.no_grad():
                return module(torch.from_numpy(x)).detach().cpu().numpy()
        finally:
            module.train(training)

    return _framework_model(imported, f"torch {torch.__version__}", "PyTorch", run)


def _framework_model(imported: Imported, name: str, framework: str, run: Any) -> FrameworkModel:
    return FrameworkModel(
        name=f"{name} on {Path(imported.source).name}",
        framework=framework,
        dtype=imported.dtype,
        input_shape=imported.input_shape,
        n_inputs=imported.network.inputs,
        runner=run,
    )
