"""Real models in: an ONNX, Keras or PyTorch network becomes a ``Network`` and its ``P.npz``.

One small module per format, each importing its framework only inside itself:

- ``onnx.py``: ``.onnx`` files, read with the ``onnx`` package (nothing executed);
- ``keras.py``: ``.keras`` archives (Keras 3, safe mode) and live Keras models;
- ``torch.py``: live ``torch.nn.Module`` objects (``torch.export``) and ``state_dict`` files
  (``weights_only=True``);
- ``weights.py``: weights-only files (``.safetensors``, ``state_dict``) matched to a spec;
- ``frameworks.py``: running the model in its own framework, for ``check --against``.

``import_model`` picks the module by the file's suffix; ``import_files`` is the ``import``
command.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..model import Network
from .common import Imported, npz_writer, spec_text

__all__ = ["Imported", "from_keras", "from_onnx", "from_torch", "import_files", "import_model"]

MODEL_SUFFIXES = (".onnx", ".keras", ".safetensors", ".pt", ".pth", ".bin")
WEIGHTS_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")


def import_model(
    path: str | os.PathLike[str], spec: str | os.PathLike[str] | None = None
) -> Imported:
    """Read a model file; weights-only files (``.safetensors``, ``.pt``/``.pth``) need ``spec``."""
    name = os.fspath(path)
    suffix = Path(name).suffix.lower()
    if suffix in WEIGHTS_SUFFIXES:
        if spec is None:
            raise UsageError(
                f"{name}:1:1: error: a weights-only file holds no architecture: "
                "give it with --spec ARCH.yaml"
            )
        from ..spec import load_spec
        from .weights import read_weights

        return read_weights(name, load_spec(os.fspath(spec)))
    if spec is not None:
        raise UsageError(
            f"{name}:1:1: error: --spec is for weights-only files "
            f"({', '.join(WEIGHTS_SUFFIXES)}); {suffix or 'this file'} holds its architecture"
        )
    if suffix == ".onnx":
        from .onnx import read_onnx

        return read_onnx(name)
    if suffix == ".keras":
        from .keras import read_keras

        return read_keras(name)
    raise UsageError(
        f"{name}:1:1: error: unknown model file type {suffix or '(none)'!r} "
        f"(must be one of: {', '.join(MODEL_SUFFIXES)})"
    )


def import_files(model: str, output: str, params: str, spec: str | None = None) -> Imported:
    """The ``import`` command: read ``model``, then write the spec and ``P.npz`` (atomically,
    and only once everything has been read and checked)."""
    from ..output import write_atomic
    from ..spec import load_spec_text

    if params == "-":
        raise UsageError("nndiagram import: --params needs a file (P.npz is binary)")
    imported = import_model(model, spec)
    text = spec_text(imported.network)
    load_spec_text(text, output)  # what is written is an ordinary spec: prove it reads back
    write_atomic(params, npz_writer(imported.params))
    write_atomic(output, text)
    return imported


def from_onnx(path: str | os.PathLike[str]) -> tuple[Network, dict[str, Any]]:
    """The ``Network`` and ``P.npz`` arrays (float64) of an ONNX file.

    >>> network, params = from_onnx("mnist.onnx")  # doctest: +SKIP
    """
    from .onnx import read_onnx

    imported = read_onnx(path)
    return imported.network, imported.float64_params()


def from_keras(model: Any) -> tuple[Network, dict[str, Any]]:
    """The ``Network`` and ``P.npz`` arrays of a Keras 3 model (or a ``.keras`` file's path)."""
    from .keras import read_keras, read_keras_model

    imported = (
        read_keras(model) if isinstance(model, str | os.PathLike) else read_keras_model(model)
    )
    return imported.network, imported.float64_params()


def from_torch(module: Any, example_input: Any = None) -> tuple[Network, dict[str, Any]]:
    """The ``Network`` and ``P.npz`` arrays of a ``torch.nn.Module``, read from its computation
    (``torch.export``), so a ``forward`` that chains the layers by hand imports too.

    ``example_input`` is one batch the module accepts; by default a batch of zeros as wide as
    the first ``Linear``.
    """
    from .torch import read_torch_module

    imported = read_torch_module(module, example_input)
    return imported.network, imported.float64_params()
