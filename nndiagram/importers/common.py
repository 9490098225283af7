"""What every importer shares: the dense layers it found become one ``Network`` and ``P.npz``.

A format module (``onnx.py``, ``keras.py``, ``torch.py``, ``weights.py``) reads its file and
returns a list of :class:`Dense` in the model's own dtype; :func:`assemble` checks that they
chain, that every weight is a finite real number, and converts them exactly to float64.
Every problem is one ``SpecError`` naming the file (exit 2).
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import SpecError
from ..model import ActivationChoice, Layer, Network

MAX_FILE_BYTES = 2 * 1024**3  # refused by its size, before a byte is read
MAX_PARAMETERS = 10**8  # refused by the shapes, before the data is decoded
SUPPORTED = (
    "dense layers (Linear/Dense/Gemm, MatMul + Add), identity, ReLU, leaky ReLU, sigmoid, "
    "tanh, softmax over the features, Flatten/Reshape at the input, Dropout and Identity"
)
# The relative error a framework's own arithmetic may leave, by the dtype it computes in.
TOLERANCES = {"float64": 1e-12, "float32": 1e-5, "float16": 1e-2, "bfloat16": 5e-2}


@dataclass(frozen=True)
class Dense:
    """One dense layer as a model holds it: ``weight`` (units, fan_in), ``bias`` (units,)."""

    name: str  # the node, layer or tensor name in the model, for messages
    weight: Any  # array of the model's dtype
    bias: Any | None  # None: the layer has no bias (b = 0)
    activation: ActivationChoice = field(default_factory=ActivationChoice)
    weight_name: str = ""  # the tensor names, for messages about their values
    bias_name: str = ""
    add: int | None = None  # a skip connection added to z (model.Layer's add; -1: the input)
    concat: tuple[int, ...] = ()  # outputs stacked under the previous one (model.Layer's)

    @property
    def units(self) -> int:
        return int(self.weight.shape[0])

    @property
    def fan_in(self) -> int:
        return int(self.weight.shape[1])


@dataclass(frozen=True)
class Imported:
    """A model read into nndiagram: the network, its ``P.npz`` arrays and where it came from.

    ``params`` holds the arrays in the model's own dtype, already checked (float, finite);
    ``float64_params()`` converts them, as ``P.npz`` and ``from_*`` give them. ``input_shape``
    is one sample as the framework takes it (``(28, 28)`` for an image that a Flatten turns
    into 784 inputs); ``dtype`` is the precision the framework computes in.
    """

    network: Network
    params: dict[str, np.ndarray]
    framework: str
    dtype: str
    input_shape: tuple[int, ...]
    source: str

    @property
    def tolerance(self) -> float:
        return TOLERANCES.get(self.dtype, 1e-5)

    def float64_params(self) -> dict[str, np.ndarray]:
        """Every float16/bfloat16/float32 value is a float64: the conversion is exact."""
        return {name: np.asarray(array, dtype=np.float64) for name, array in self.params.items()}


def fail(path: str, message: str) -> SpecError:
    return SpecError(message, path=path)


def check_file(path: str | os.PathLike[str]) -> str:
    """The path as text, after refusing a missing, special or oversized file by its metadata."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise fail(name, "no such file") from None
    except OSError as error:
        raise fail(name, f"cannot read: {error.strerror or error}") from None
    if not Path(name).is_file():
        raise fail(name, "not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise fail(name, f"file is {info.st_size:,} bytes; nndiagram imports models up to 2 GB")
    return name


def check_parameter_count(path: str, shapes: Sequence[tuple[str, Sequence[int]]]) -> None:
    """Refuse a model whose tensors hold more than ``MAX_PARAMETERS`` numbers, from the shapes."""
    total = sum(math.prod(int(d) for d in shape) for _, shape in shapes)
    if total > MAX_PARAMETERS:
        raise fail(
            path,
            f"the model holds {total:,} numbers; nndiagram imports models up to "
            f"{MAX_PARAMETERS:,} parameters",
        )


def dtype_name(dtype: Any) -> str:
    return "bfloat16" if "bfloat16" in str(dtype) else np.dtype(dtype).name


def checked_values(path: str, name: str, array: Any) -> np.ndarray:
    """The array, in its own dtype, once it is known to hold finite floats: integers
    (quantized weights) and NaN or infinite values are refused, naming the tensor."""
    values = np.asarray(array)
    kind = dtype_name(values.dtype)
    if kind not in TOLERANCES:
        raise fail(
            path,
            f"tensor {name!r} has dtype {kind}: nndiagram imports float weights (float16, "
            "bfloat16, float32, float64), not quantized or integer ones",
        )
    wide = values if kind != "bfloat16" else values.astype(np.float32)  # exact
    finite = np.isfinite(wide)
    if not finite.all():
        bad = int(values.size - np.count_nonzero(finite))
        raise fail(path, f"tensor {name!r} has {bad:,} non-finite value(s) (nan or inf)")
    return values


def lowest_precision(dtypes: Sequence[str]) -> str:
    """The dtype with the largest rounding error among ``dtypes`` (what the model computes in)."""
    order = ["bfloat16", "float16", "float32", "float64"]
    known = [d for d in dtypes if d in order]
    return min(known, key=order.index) if known else "float32"


def assemble(
    path: str,
    layers: Sequence[Dense],
    *,
    inputs: int | None,
    title: str,
    framework: str,
    input_shape: tuple[int, ...] | None = None,
    extra_dtypes: Sequence[str] = (),
) -> Imported:
    """The ``Network`` and float64 ``P.npz`` of ``layers``; every mismatch is named."""
    if not layers:
        raise fail(path, f"no dense layer found; nndiagram imports {SUPPORTED}")
    first = layers[0].fan_in if inputs is None else inputs
    widths = [first]  # widths[source + 1]: the input, then each layer's units
    for index, dense in enumerate(layers):
        if dense.weight.ndim != 2:
            raise fail(path, f"layer {index} ({dense.name}): weight is not a matrix")
        fan_in = widths[-1] + sum(widths[source + 1] for source in dense.concat)
        if dense.fan_in != fan_in:
            before = "the input has" if index == 0 else f"layer {index - 1} has"
            if dense.concat:
                before = "its stacked input has"
            raise fail(
                path,
                f"shapes do not chain: layer {index} ({dense.name}) takes {dense.fan_in} "
                f"input(s) but {before} {fan_in}",
            )
        if dense.add is not None and widths[dense.add + 1] != dense.units:
            raise fail(
                path,
                f"layer {index} ({dense.name}) adds an output of width {widths[dense.add + 1]} "
                f"to its {dense.units} unit(s)",
            )
        if dense.bias is not None and tuple(dense.bias.shape) != (dense.units,):
            raise fail(
                path,
                f"layer {index} ({dense.name}): bias has shape {tuple(dense.bias.shape)} but "
                f"the layer has {dense.units} unit(s)",
            )
        widths.append(dense.units)
    params: dict[str, np.ndarray] = {}
    model_layers = []
    dtypes = list(extra_dtypes)
    for index, dense in enumerate(layers):
        dtypes.append(dtype_name(dense.weight.dtype))
        params[f"W{index}"] = checked_values(path, dense.weight_name or dense.name, dense.weight)
        if dense.bias is None:
            params[f"b{index}"] = np.zeros(dense.units)
        else:
            params[f"b{index}"] = checked_values(path, dense.bias_name or dense.name, dense.bias)
        model_layers.append(
            Layer(index, dense.units, dense.fan_in, dense.activation, None, dense.add, dense.concat)
        )
    n_inputs = first
    network = Network(
        inputs=n_inputs,
        layers=tuple(model_layers),
        title=title,
        description=f"Imported from `{Path(path).name}` ({framework}) by `nndiagram import`.",
        source=path,
    )
    return Imported(
        network=network,
        params=params,
        framework=framework,
        dtype=lowest_precision(dtypes),
        input_shape=input_shape or (n_inputs,),
        source=path,
    )


_GENERIC_NAMES = re.compile(r"(main_graph|torch_jit|sequential|functional|model|graph)(_\d+)?")


def model_title(name: str | None, path: str) -> str:
    """The model's own name, or the file's stem when the framework gave it a default name."""
    name = (name or "").strip()
    if not name or _GENERIC_NAMES.fullmatch(name.lower()):
        return Path(path).stem or "model"
    return name[:200]


# --- what `nndiagram import` writes ----------------------------------------------------------


def activation_yaml(choice: ActivationChoice) -> Any:
    if choice.name == "leaky_relu":
        return {"leaky_relu": {"alpha": choice.alpha}}
    return choice.name


def spec_text(network: Network) -> str:
    """The network as an ordinary YAML spec (title, description, inputs, layers)."""
    import yaml

    document: dict[str, Any] = {}
    if network.title:
        document["title"] = network.title
    if network.description:
        document["description"] = network.description
    document["inputs"] = network.inputs

    def ref(source: int) -> Any:
        return "input" if source < 0 else source  # the written spec counts from 0

    document["layers"] = []
    for layer in network.layers:
        entry: dict[str, Any] = {
            "units": layer.units,
            "activation": activation_yaml(layer.activation),
        }
        if layer.add is not None:
            entry["add"] = ref(layer.add)
        if layer.concat:
            entry["concat"] = [ref(source) for source in layer.concat]
        document["layers"].append(entry)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def npz_writer(params: dict[str, np.ndarray]) -> Callable[[BinaryIO], None]:
    """Writes ``params`` as a ``P.npz`` of float64 arrays into an open file, converting a block
    of rows at a time: the float64 copy of a large model is never held whole."""

    def write(handle: BinaryIO) -> None:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in params.items():
                header = {"descr": "<f8", "fortran_order": False, "shape": tuple(array.shape)}
                rows = array.reshape(array.shape[0], -1) if array.ndim else array.reshape(1, 1)
                block = max(1, 2**13 // max(1, rows.shape[1]))  # about 64 KB of float64
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array_header_2_0(member, header)
                    for start in range(0, rows.shape[0], block):
                        chunk = np.ascontiguousarray(rows[start : start + block], dtype="<f8")
                        member.write(chunk.tobytes())

    return write
