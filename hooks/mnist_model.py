"""MkDocs hook: the docs build makes a real model for the gallery's "own model" page.

A PyTorch MNIST classifier (28x28 pixels -> 128 ReLU -> 64 ReLU -> 10 softmax), weights seeded,
no download, exported with ``torch.onnx.export`` to ``.nndiagram-cache/models/``; the plugin's
``models`` option then imports it like ``nndiagram import`` would. A warm build reuses the file
while this script is unchanged. As a script: ``python hooks/mnist_model.py OUT.onnx``.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

MODEL = Path(".nndiagram-cache") / "models" / "mnist-classifier.onnx"


def write_model(path: Path) -> None:
    try:
        import onnxscript  # noqa: F401  (torch.onnx.export's default exporter needs it)
        import torch
    except ImportError as error:
        from mkdocs.exceptions import PluginError

        raise PluginError(
            f"hooks/mnist_model.py makes the gallery's PyTorch model and needs {error.name}: "
            "pip install -e '.[dev]' (or remove the hook and the plugin's models option)"
        ) from None

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 128),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
        torch.nn.Softmax(dim=1),
    ).eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # 'torchvision is not installed' notes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own deprecations inside the exporter
            program = torch.onnx.export(
                model, (torch.zeros(1, 28, 28),), dynamo=True, verbose=False
            )
    finally:
        exporter_log.setLevel(level)
    assert program is not None
    program.model.graph.name = "MNIST classifier from PyTorch"  # the page's title
    program.save(str(path))


def on_config(config: Any) -> Any:
    root = Path(config.config_file_path).resolve().parent
    target = root / MODEL
    stamp = target.with_suffix(".source-hash")
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    if not (target.is_file() and stamp.is_file() and stamp.read_text() == source):
        write_model(target)
        stamp.write_text(source)
    return config


if __name__ == "__main__":
    write_model(Path(sys.argv[1]))
