"""Weights-only files matched to a spec: ``.safetensors`` and PyTorch ``state_dict`` files.

Such a file holds tensors and no computation, so ``--spec ARCH.yaml`` says what the layers
are. Tensors are grouped by their layer prefix (``fc1.weight`` and ``fc1.bias`` are layer
``fc1``); each group is one 2-D weight of shape (units, fan_in), as ``nn.Linear`` stores it,
and an optional bias. Groups follow the file's order (a ``state_dict`` keeps its module's
order; safetensors stores none, so its layers go in the natural order of their names:
``fc2`` before ``fc10``). Every mismatch of count or shape is named.

The safetensors format is read here directly (an 8-byte header length, a JSON header, raw
little-endian data): sizes and offsets are checked before any data is touched, and bfloat16
converts exactly.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..model import Network
from .common import Dense, Imported, assemble, check_file, check_parameter_count, fail

SAFETENSORS_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "bf16",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}
MAX_HEADER = 100 * 1024**2


def read_weights(path: str, network: Network) -> Imported:
    """The ``Network`` of ``network`` (the spec) with the weights of ``path``."""
    if Path(path).suffix.lower() == ".safetensors":
        tensors = read_safetensors(path)
        ordered = sorted(_groups(tensors).items(), key=lambda item: _natural(item[0]))
    else:
        from .torch import load_state_dict

        tensors = load_state_dict(path)
        ordered = list(_groups(tensors).items())
    layers = _match(path, network, ordered)
    imported = assemble(
        path,
        layers,
        inputs=network.inputs,
        title=network.title or Path(path).stem,
        framework="safetensors" if path.lower().endswith(".safetensors") else "PyTorch state_dict",
    )
    # the spec's own settings (view, labels, loss…) stay; only the numbers come from the file
    return Imported(
        network=network,
        params=imported.params,
        framework=imported.framework,
        dtype=imported.dtype,
        input_shape=imported.input_shape,
        source=path,
    )


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _groups(tensors: list[tuple[str, Any]]) -> dict[str, list[tuple[str, Any]]]:
    groups: dict[str, list[tuple[str, Any]]] = {}
    for name, array in tensors:
        prefix = name.rsplit(".", 1)[0] if "." in name else name
        groups.setdefault(prefix, []).append((name, array))
    return groups


def _match(
    path: str, network: Network, groups: list[tuple[str, list[tuple[str, Any]]]]
) -> list[Dense]:
    layers: list[Dense] = []
    for prefix, members in groups:
        matrices = [(n, a) for n, a in members if a.ndim == 2]
        vectors = [(n, a) for n, a in members if a.ndim == 1]
        others = [(n, a) for n, a in members if a.ndim not in (1, 2)]
        if others or len(matrices) != 1 or len(vectors) > 1:
            shapes = ", ".join(f"{n} {tuple(a.shape)}" for n, a in members)
            raise fail(
                path,
                f"tensors {shapes} are not one dense layer (a 2-D weight and an optional bias): "
                "only dense layers can be matched to a spec",
            )
        index = len(layers)
        if index >= len(network.layers):
            raise fail(
                path,
                f"the file has more weight matrices than the spec has layers "
                f"({len(network.layers)}): {matrices[0][0]} {tuple(matrices[0][1].shape)} is extra",
            )
        layer = network.layers[index]
        number = network.naming.index(index)  # as the spec's figures number it
        weight_name, weight = matrices[0]
        if tuple(weight.shape) != layer.weight_shape:
            hint = ""
            if tuple(weight.shape) == layer.weight_shape[::-1]:
                hint = (
                    " (it is stored transposed, (fan_in, units); nndiagram reads (units, fan_in))"
                )
            raise fail(
                path,
                f"{weight_name} has shape {tuple(weight.shape)} but layer {number} of the spec "
                f"needs {layer.weight_shape}{hint}",
            )
        bias = None
        bias_name = ""
        if vectors:
            bias_name, bias = vectors[0]
            if tuple(bias.shape) != (layer.units,):
                raise fail(
                    path,
                    f"{bias_name} has shape {tuple(bias.shape)} but layer {number} of the spec has "
                    f"{layer.units} unit(s)",
                )
        layers.append(
            Dense(
                prefix,
                weight,
                bias,
                layer.activation,
                weight_name,
                bias_name,
                add=layer.add,
                concat=layer.concat,
            )
        )
    if len(layers) != len(network.layers):
        raise fail(
            path,
            f"the spec has {len(network.layers)} layers but the file has {len(layers)} weight "
            "matrices",
        )
    return layers


def read_safetensors(path: str | os.PathLike[str]) -> list[tuple[str, Any]]:
    """The tensors of a ``.safetensors`` file in the order of their data, as NumPy arrays."""
    name = check_file(path)
    size = os.path.getsize(name)
    with open(name, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise fail(name, "not a safetensors file: shorter than its 8-byte header length")
        length = int.from_bytes(prefix, "little")
        if length > min(MAX_HEADER, size - 8):
            raise fail(name, "not a safetensors file: the header length exceeds the file")
        try:
            header = json.loads(handle.read(length).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise fail(name, "not a safetensors file: the header is not JSON") from None
    if not isinstance(header, dict):
        raise fail(name, "not a safetensors file: the header is not a mapping")
    header.pop("__metadata__", None)
    start = 8 + length
    entries = []
    for key, entry in header.items():
        entries.append(_entry(name, key, entry, size - start))
    check_parameter_count(name, [(key, shape) for key, _, shape, _ in entries])
    data = np.memmap(name, dtype=np.uint8, mode="r", offset=start) if size > start else None
    tensors = []
    for key, dtype, shape, (begin, end) in sorted(entries, key=lambda e: e[3]):
        assert data is not None or begin == end
        raw = data[begin:end] if data is not None else np.zeros(0, np.uint8)
        if dtype == "bf16":  # the top half of a float32: exact
            bits = raw.view("<u2").astype(np.uint32) << 16
            array = bits.view(np.float32).reshape(shape)
        else:
            array = raw.view(dtype).reshape(shape)
        tensors.append((key, array))
    return tensors


def _entry(
    path: str, key: str, entry: Any, available: int
) -> tuple[str, str, tuple[int, ...], tuple[int, int]]:
    problem = f"not a safetensors file: tensor {key!r} has a bad header entry"
    if not isinstance(entry, dict):
        raise fail(path, problem)
    dtype = SAFETENSORS_DTYPES.get(str(entry.get("dtype")))
    shape = entry.get("shape")
    offsets = entry.get("data_offsets")
    if dtype is None:
        raise fail(path, f"tensor {key!r} has dtype {entry.get('dtype')!r}, which is not supported")
    if (
        not isinstance(shape, list)
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        or not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        raise fail(path, problem)
    begin, end = offsets
    itemsize = 2 if dtype == "bf16" else np.dtype(dtype).itemsize
    if not 0 <= begin <= end <= available or end - begin != math.prod(shape) * itemsize:
        raise fail(
            path,
            f"not a safetensors file: tensor {key!r} lies outside the data or has the wrong size",
        )
    return key, dtype, tuple(shape), (begin, end)
