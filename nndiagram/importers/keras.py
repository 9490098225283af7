"""Keras 3: a ``.keras`` archive (loaded in safe mode) or a live model, on the torch backend.

The archive's ``config.json`` is read first, as JSON: an unsupported layer, a ``Lambda`` or a
custom object is refused by name before Keras deserializes anything. The model must be a
chain (``Sequential``, or a functional model whose layers follow each other), with skips
(issue 17): ``Add`` into a pre-activation, ``Concatenate`` feeding a ``Dense``.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from dataclasses import replace
from typing import Any

from ..model import ActivationChoice
from .common import (
    MAX_FILE_BYTES,
    SUPPORTED,
    Dense,
    Imported,
    assemble,
    check_file,
    check_parameter_count,
    dtype_name,
    fail,
    model_title,
)
from .extras import need

LAYERS = {
    "InputLayer",
    "Dense",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "Flatten",
    "Reshape",
    "Dropout",
    "Identity",
    "Add",
    "Concatenate",
}
INPUT_SIDE = {"Flatten", "Reshape"}
SKIP_LAYERS = {"Add", "Concatenate"}  # the layers that read an output a second time
NAMED_ACTIVATIONS = {
    "linear": "identity",
    "relu": "relu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "leaky_relu": "leaky_relu",
}
MAX_CONFIG_BYTES = 10 * 1024**2


def keras_module() -> Any:
    """Keras on the torch backend, unless the user chose another one before."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return need("keras", "keras")


def read_keras(path: str | os.PathLike[str]) -> Imported:
    """A ``.keras`` archive: its config checked as data, then loaded with ``safe_mode=True``."""
    name = check_file(path)
    config = _archive_config(name)
    _check_config(name, config)
    keras = keras_module()
    try:
        model = keras.saving.load_model(name, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many types for one bad archive
        text = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        raise fail(name, f"Keras cannot load this model: {text}") from None
    return read_keras_model(model, name)


def _archive_config(path: str) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if "config.json" not in members:
                raise fail(path, "not a Keras 3 archive: no config.json inside")
            total = sum(info.file_size for info in members.values())
            if total > MAX_FILE_BYTES:
                raise fail(path, f"the archive unpacks to {total:,} bytes; the limit is 2 GB")
            if members["config.json"].file_size > MAX_CONFIG_BYTES:
                raise fail(path, "config.json is over 10 MB")
            text = archive.read("config.json")
    except zipfile.BadZipFile:
        raise fail(path, "not a Keras 3 archive (.keras is a zip file)") from None
    except OSError as error:
        raise fail(path, f"cannot read: {error.strerror or error}") from None
    try:
        config = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise fail(path, "config.json is not valid JSON") from None
    if not isinstance(config, dict):
        raise fail(path, "config.json is not a model configuration")
    return config


def _check_config(path: str, config: dict[str, Any]) -> None:
    """Every layer a known Keras layer of the supported kinds, by its name and position."""
    kind = config.get("class_name")
    if kind not in ("Sequential", "Functional", "Model") or _custom(config):
        raise fail(
            path,
            f"the model is a {kind!r}; nndiagram imports Sequential and functional Keras models "
            "(a subclassed or custom model is not loaded)",
        )
    layers = (config.get("config") or {}).get("layers")
    if not isinstance(layers, list):
        raise fail(path, "config.json lists no layers")
    shapes: list[tuple[str, list[int]]] = []
    for position, layer in enumerate(layers, start=1):
        if not isinstance(layer, dict):
            raise fail(path, f"layer {position} of config.json is not a mapping")
        cls = str(layer.get("class_name"))
        settings: dict[str, Any] = layer["config"] if isinstance(layer.get("config"), dict) else {}
        name = settings.get("name", "?")
        where = f"layer {name!r} ({cls}, layer {position} of {len(layers)})"
        if cls == "Lambda":
            raise fail(path, f"{where}: a Lambda layer runs Python code; refusing to load it")
        if _custom(layer):
            raise fail(path, f"{where} is a custom object; refusing to load it")
        if cls not in LAYERS:
            raise fail(path, f"{where} is not supported; nndiagram imports {SUPPORTED}")
        if cls == "Dense":
            build = (layer.get("build_config") or {}).get("input_shape") or []
            fan_in = build[-1] if build and isinstance(build[-1], int) else 0
            units = settings.get("units", 0) if isinstance(settings.get("units"), int) else 0
            shapes.append((str(name), [max(fan_in, 0) + 1, max(units, 0)]))
    check_parameter_count(path, shapes)


def _custom(layer: dict[str, Any]) -> bool:
    """A class from outside Keras, or one registered under another name."""
    module = str(layer.get("module") or "")
    if not (module == "keras" or module.startswith("keras.")):
        return True
    registered = layer.get("registered_name")
    return bool(registered) and registered != layer.get("class_name")


def read_keras_model(model: Any, path: str | None = None) -> Imported:
    """A live Keras model (``from_keras``): its layers in order, weights as stored."""
    path = path or str(getattr(model, "name", None) or type(model).__name__)
    try:
        config = model.get_config()
    except (NotImplementedError, AttributeError, TypeError):
        config = None
    if not isinstance(config, dict) or "layers" not in config:
        raise fail(
            path,
            f"{type(model).__name__} is not a Sequential or functional Keras model "
            "(a subclassed model has no layer graph to read)",
        )
    sample_shape = _input_shape(model)
    layers = _Walker(path, model, config, sample_shape).run()
    inputs = math.prod(sample_shape) if sample_shape else None
    input_dtype = [dtype_name(model.inputs[0].dtype)] if getattr(model, "inputs", None) else []
    # Keras 3 computes a float64 model's matrix products in float32 (its type promotion turns
    # 64-bit results into 32-bit ones, as JAX does): ask it what it computes in.
    computed = keras_module().backend.result_type(*(d.weight.dtype.name for d in layers))
    input_dtype.append(str(computed))
    return assemble(
        path,
        layers,
        inputs=inputs,
        title=model_title(getattr(model, "name", None), path),
        framework="Keras",
        input_shape=sample_shape,
        extra_dtypes=input_dtype,
    )


class _Walker:
    """The model's layers in order as a chain, with skips (issue 17): an ``Add`` of the chain's
    pre-activation and an earlier output (or the input) is the layer's ``add``; a
    ``Concatenate`` of the chain's output with earlier outputs, feeding a ``Dense``, is that
    layer's ``concat`` (its kernel's rows put in nndiagram's order, the previous output first).
    """

    def __init__(
        self, path: str, model: Any, config: dict[str, Any], sample_shape: tuple[int, ...] | None
    ) -> None:
        self.path = path
        self.model = model
        self.flat = sample_shape is not None and len(sample_shape) == 1
        self.sources = _inbound(path, config)  # None: Sequential, the order is the chain
        self.layers: list[Dense] = []
        self.pending: dict[str, Any] | None = None
        self.produced: dict[str, int] = {}  # layer name -> the layer whose output it is
        self.widths: dict[str, int] = {}
        self.stacked: tuple[tuple[int, ...], list[int]] | None = None
        outputs = config.get("output_layers") or []  # ['head', 0, 0] or [['head', 0, 0], …]
        if outputs and isinstance(outputs[0], list | tuple):
            outputs = outputs[0]
        self.output = str(outputs[0]) if outputs else None

    def run(self) -> list[Dense]:
        model = self.model
        current = "(input)"  # a Sequential model's input has no layer name
        if self.sources is not None:
            starts = [name for name, sources in self.sources.items() if not sources]
            current = starts[0] if len(starts) == 1 else current
        if self.flat:
            self.produced[current] = -1
            self.widths[current] = int(tuple(model.inputs[0].shape)[-1])
        readers: dict[str, list[str]] = {}
        for name, sources in (self.sources or {}).items():
            for source in sources:
                readers.setdefault(source, []).append(name)
        total = len(model.layers)
        for position, layer in enumerate(model.layers, start=1):
            cls = type(layer).__name__
            where = f"layer {layer.name!r} ({cls}, layer {position} of {total})"
            if cls not in LAYERS:
                raise fail(self.path, f"{where} is not supported; nndiagram imports {SUPPORTED}")
            if cls == "InputLayer":
                continue
            sources = [current] if self.sources is None else self.sources.get(layer.name, [])
            if cls in SKIP_LAYERS:
                if current not in sources:
                    raise fail(
                        self.path,
                        f"{where} takes {', '.join(sources) or 'nothing'}, not the layer before "
                        f"it ({current!r}): nndiagram imports a chain of layers",
                    )
            elif sources != [current]:
                raise fail(
                    self.path,
                    f"layer {layer.name!r} takes {', '.join(sources) or 'nothing'}, not the layer "
                    f"before it ({current!r}): nndiagram imports a chain of layers",
                )
            chain = [r for r in readers.get(current, []) if self._class(r) not in SKIP_LAYERS]
            if len(chain) > 1:
                raise fail(
                    self.path,
                    f"the output of {current!r} feeds {', '.join(chain)}: nndiagram imports a "
                    "chain of layers, with skips only as an Add into a later pre-activation or "
                    "a Concatenate feeding a Dense layer",
                )
            self._step(where, cls, layer, current, sources)
            current = layer.name
        if self.stacked is not None:
            raise fail(self.path, "the model ends with a Concatenate: it must feed a Dense layer")
        self._finish()
        if self.output is not None and self.output != current:
            raise fail(self.path, f"the model's output is {self.output!r}, not its last layer")
        return self.layers

    def _class(self, name: str) -> str:
        return type(self.model.get_layer(name)).__name__

    def _step(self, where: str, cls: str, layer: Any, current: str, sources: list[str]) -> None:
        path = self.path
        if cls in ("Dropout", "Identity"):
            self._follow(layer.name, current)
            return
        if self.stacked is not None and cls != "Dense":
            raise fail(path, f"{where}: a Concatenate must feed a Dense layer")
        if cls in INPUT_SIDE:
            if self.layers or self.pending is not None:
                raise fail(path, f"{where}: {cls} after the first layer is not supported")
            target = getattr(layer, "target_shape", None)
            if cls == "Reshape" and (target is None or len(tuple(target)) != 1):
                raise fail(path, f"{where}: only a Reshape to one feature axis is supported")
            self.flat = True
            self.produced[layer.name] = -1
            self.widths[layer.name] = int(tuple(layer.output.shape)[-1])
            return
        if cls == "Dense":
            if not self.flat:
                raise fail(path, f"{where}: Dense on a multi-axis input: flatten it first")
            self._finish()
            dense = _dense(path, where, layer)
            concat: tuple[int, ...] = ()
            if self.stacked is not None:
                concat, columns = self.stacked
                dense = replace(dense, weight=dense.weight[:, columns])
                self.stacked = None
            self.pending = {"dense": dense, "add": None, "concat": concat, "out": [layer.name]}
            self.widths[layer.name] = dense.units
            return
        if cls == "Add":
            self._add(where, layer, current, sources)
            return
        if cls == "Concatenate":
            self._concatenate(where, layer, current, sources)
            return
        activation = _layer_activation(path, where, layer)
        pending = self.pending
        if pending is None:
            raise fail(path, f"{where}: an activation before the first Dense is not supported")
        if not pending["dense"].activation.is_identity:
            raise fail(path, f"{where} follows another activation: one activation per layer")
        pending["dense"] = replace(pending["dense"], activation=activation)
        pending["out"] = [layer.name]

    def _follow(self, name: str, current: str) -> None:
        pending = self.pending
        if pending is not None and pending["out"][-1] == current:
            pending["out"].append(name)
        elif current in self.produced:
            self.produced[name] = self.produced[current]
            self.widths[name] = self.widths[current]

    def _add(self, where: str, layer: Any, current: str, sources: list[str]) -> None:
        others = [s for s in sources if s != current]
        if len(sources) != 2 or len(others) != 1:
            raise fail(
                self.path, f"{where}: nndiagram's add takes two tensors, the chain's and one more"
            )
        pending = self.pending
        if pending is None:
            raise fail(self.path, f"{where}: an Add before the first Dense")
        if not pending["dense"].activation.is_identity or pending["out"][-1] != current:
            raise fail(
                self.path,
                f"{where}: an Add after the activation (relu(f(x)) + x) is not supported: "
                "nndiagram's add enters z, before the activation (give that Dense no activation "
                "and put an Activation after the Add)",
            )
        if others[0] not in self.produced:
            raise fail(
                self.path,
                f"{where}: adds {others[0]!r}, which is neither a layer's output nor the input "
                "(a pre-activation or another intermediate value)",
            )
        if pending["add"] is not None:
            raise fail(self.path, f"{where}: a layer adds one earlier output at most")
        pending["add"] = self.produced[others[0]]
        pending["out"] = [layer.name]

    def _concatenate(self, where: str, layer: Any, current: str, sources: list[str]) -> None:
        if getattr(layer, "axis", -1) not in (-1, 1):
            raise fail(self.path, f"{where}: a Concatenate must stack the features (axis -1)")
        pending = self.pending
        if pending is not None and pending["out"][-1] == current:
            self._finish()
        bad = [s for s in sources if s not in self.produced]
        if bad:
            raise fail(
                self.path,
                f"{where}: stacks {bad[0]!r}, which is neither a layer's output nor the input",
            )
        stacked = [self.produced[s] for s in sources]
        if len(set(stacked)) != len(stacked):
            raise fail(self.path, f"{where}: a Concatenate that lists an output twice")
        widths = [self.widths[s] for s in sources]
        starts = [sum(widths[:i]) for i in range(len(widths))]
        first = sources.index(current)
        order = [first] + [i for i in range(len(sources)) if i != first]
        columns = [c for i in order for c in range(starts[i], starts[i] + widths[i])]
        self.stacked = (tuple(stacked[i] for i in order[1:]), columns)

    def _finish(self) -> None:
        pending = self.pending
        if pending is None:
            return
        dense = replace(pending["dense"], add=pending["add"], concat=pending["concat"])
        self.layers.append(dense)
        for name in pending["out"]:
            self.produced[name] = len(self.layers) - 1
            self.widths[name] = dense.units
        self.pending = None


def _inbound(path: str, config: dict[str, Any]) -> dict[str, list[str]] | None:
    """Each layer's input layers, by name, in order (a list's order for Add and Concatenate);
    None for a Sequential model (no inbound nodes: the order is the chain)."""
    found: dict[str, list[str]] = {}
    for entry in config["layers"]:
        nodes = entry.get("inbound_nodes")
        name = str(entry.get("name") or (entry.get("config") or {}).get("name"))
        if nodes is None:
            return None
        if isinstance(nodes, list) and len(nodes) > 1:
            raise fail(path, f"layer {name!r} is called {len(nodes)} times: not supported")
        found[name] = _history(nodes)
    return found


def _history(nodes: Any) -> list[str]:
    found: list[str] = []

    def visit(arg: Any) -> None:
        if isinstance(arg, list | tuple):
            for item in arg:
                visit(item)
        elif isinstance(arg, dict):
            history = (arg.get("config") or {}).get("keras_history")
            if history:
                found.append(str(history[0]))

    for node in nodes if isinstance(nodes, list) else []:
        visit(node.get("args", []) if isinstance(node, dict) else [])
    return found


def _input_shape(model: Any) -> tuple[int, ...] | None:
    try:
        shape = tuple(model.inputs[0].shape)[1:]
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return tuple(int(d) for d in shape) if shape and None not in shape else None


def _dense(path: str, where: str, layer: Any) -> Dense:
    if getattr(layer, "quantization_mode", None) or getattr(layer, "lora_enabled", False):
        raise fail(path, f"{where}: quantized or LoRA Dense layers are not supported")
    weight = to_numpy(layer.kernel.value).T  # Keras stores (fan_in, units)
    bias = to_numpy(layer.bias.value) if layer.use_bias else None
    return Dense(
        layer.name,
        weight,
        bias,
        _named_activation(path, where, layer.activation),
        weight_name=f"{layer.name}/kernel",
        bias_name=f"{layer.name}/bias",
    )


def to_numpy(value: Any) -> Any:
    """A backend tensor as NumPy. A torch tensor goes through ``.numpy()``: Keras' own
    conversion calls ``np.array`` on it, which NumPy 2 warns about for torch tensors."""
    import numpy as np

    if hasattr(value, "detach"):
        tensor = value.detach().cpu()
        if str(tensor.dtype) == "torch.bfloat16":
            tensor = tensor.float()  # exact: NumPy has no bfloat16
        return tensor.numpy()
    return np.asarray(keras_module().ops.convert_to_numpy(value))


def _named_activation(path: str, where: str, function: Any) -> ActivationChoice:
    keras = keras_module()
    name = keras.activations.serialize(function)
    if isinstance(name, dict):
        name = name.get("config", name.get("class_name"))
    if name not in NAMED_ACTIVATIONS:
        raise fail(
            path,
            f"{where}: activation {name!r} is not supported (must be one of: "
            f"{', '.join(NAMED_ACTIVATIONS)})",
        )
    if name == "leaky_relu":  # keras.activations.leaky_relu's default slope
        return ActivationChoice("leaky_relu", alpha=0.2)
    return ActivationChoice(NAMED_ACTIVATIONS[name])


def _layer_activation(path: str, where: str, layer: Any) -> ActivationChoice:
    cls = type(layer).__name__
    if cls == "Activation":
        return _named_activation(path, where, layer.activation)
    if cls == "Softmax":
        axis = layer.axis if isinstance(layer.axis, int) else tuple(layer.axis)
        if axis not in (-1, 1, (-1,), (1,)):
            raise fail(path, f"{where}: Softmax must run over the features (axis -1)")
        return ActivationChoice("softmax")
    slope = float(getattr(layer, "negative_slope", 0.0) or 0.0)
    if cls == "ReLU":
        if layer.max_value is not None or float(layer.threshold) != 0.0:
            raise fail(path, f"{where}: ReLU with max_value or threshold is not supported")
        if slope == 0.0:
            return ActivationChoice("relu")
    if not 0 < slope <= 100:
        raise fail(path, f"{where}: a negative slope of {slope:g} is outside (0, 100]")
    return ActivationChoice("leaky_relu", alpha=slope)
