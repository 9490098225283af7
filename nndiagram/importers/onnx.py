"""ONNX: read a ``.onnx`` file with the ``onnx`` package (nothing is executed) and walk its
graph from the input to the output as a chain of dense layers and activations.

Understood: ``Gemm`` (alpha = beta = 1, B transposed or not), ``MatMul`` then ``Add`` of a
bias, ``Relu``, ``LeakyRelu``, ``Sigmoid``, ``Tanh``, ``Softmax`` over the features,
``Flatten``/``Reshape`` before the first layer, ``Dropout`` and ``Identity``. Skip
connections (issue 17): an ``Add`` of an earlier layer's output (or of the input) to a layer's
pre-activation, between its ``Gemm``/``MatMul`` and its activation, is that layer's ``add``; a
``Concat`` over the features of the previous output with earlier outputs (in any order: the next
layer's weight columns are put in nndiagram's, the previous output first), feeding a layer, is
its ``concat``. An ``Add`` after the activation (``relu(f(x)) + x``) is refused: nndiagram's
``add`` enters ``z``. Any other node is refused, by its op, name and position.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..model import ActivationChoice
from .common import (
    SUPPORTED,
    Dense,
    Imported,
    assemble,
    check_file,
    check_parameter_count,
    fail,
    model_title,
)
from .extras import need

ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyRelu": "leaky_relu"}
PASS_THROUGH = {"Identity", "Dropout"}
FLOAT_TYPES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16"}


def read_onnx(path: str | os.PathLike[str]) -> Imported:
    """The ``Network`` and parameters of an ONNX file (``from_onnx``)."""
    name = check_file(path)
    onnx = need("onnx", "onnx")
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(name, load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError) as error:
        raise fail(name, f"not an ONNX model: {_first_line(error)}") from None
    if not model.HasField("graph") or not model.opset_import or model.ir_version < 3:
        raise fail(name, "not an ONNX model: no graph, opset or IR version")
    walker = _Walker(name, model, onnx)
    arguments = walker.run()
    layers = walker.layers
    del walker, model  # the protobuf holds a copy of every weight: free it before converting
    return assemble(name, layers, **arguments)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


class _Walker:
    """One pass from the graph's input to its output, collecting dense layers."""

    def __init__(self, path: str, model: Any, onnx: Any) -> None:
        self.path = path
        self.onnx = onnx
        self.graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        self.title = model_title(self.graph.name, path)
        self.folder = Path(path).resolve().parent
        self.tensors: dict[str, Any] = {t.name: t for t in self.graph.initializer}
        self.nodes = list(self.graph.node)
        self.visited: set[int] = set()
        self.layers: list[Dense] = []
        self.pending: dict[str, Any] | None = None  # the dense layer being built
        self.produced: dict[str, int] = {}  # tensor → the layer whose output it is (-1: input)
        self.stacked: tuple[int, ...] = ()  # a Concat's earlier outputs, for the next layer
        self.columns: list[int] | None = None  # its order of W's columns, when not the chain's

    # --- the walk -------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Walk the graph into ``self.layers``; returns the rest of ``assemble``'s arguments."""
        if len(self.graph.sparse_initializer):
            raise fail(self.path, "sparse initializers are not supported")
        for node in self.nodes:  # constants hold tensors too (shapes, sometimes weights)
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                value = next((a.t for a in node.attribute if a.name == "value"), None)
                if value is not None and len(node.output) == 1:
                    self.tensors[node.output[0]] = value
        check_parameter_count(self.path, [(n, t.dims) for n, t in self.tensors.items()])
        self._check_external_data()
        source, sample_shape, input_type = self._graph_input()
        output = self._graph_output()
        consumers: dict[str, list[int]] = {}
        for index, node in enumerate(self.nodes):
            for value in node.input:
                if value:
                    consumers.setdefault(value, []).append(index)
        current, rank = source, 1 + len(sample_shape) if sample_shape else 2
        self.produced[source] = -1
        while current != output:
            using = consumers.get(current, [])
            if not using:
                raise fail(self.path, f"value {current!r} reaches no node and is not the output")
            # A value read again by a later Add or Concat is a skip connection: the chain goes
            # on through its first reader (the nodes are in topological order), and the walk
            # reaches the others on the chain, where their other inputs must be earlier outputs.
            skips = [i for i in using[1:] if self.nodes[i].op_type in ("Add", "Concat")]
            whole = self.nodes[using[0]].op_type not in (*ACTIVATIONS, "Softmax", "Add")
            if len(using) > 1 and len(skips) == len(using) - 1 and whole:
                using = using[:1]  # ``current`` is an output, not a z an activation still reads
            if len(using) > 1:
                names = ", ".join(self._describe(i) for i in using[:3])
                raise fail(
                    self.path,
                    f"value {current!r} feeds {len(using)} nodes ({names}): nndiagram imports a "
                    "chain of layers, with skips only as an Add of a layer's output into a later "
                    "pre-activation or a Concat of layer outputs",
                )
            index = using[0]
            self.visited.add(index)
            current, rank = self._step(index, current, rank)
        self._finish_pending()
        for index, node in enumerate(self.nodes):
            if index not in self.visited and node.op_type != "Constant":
                raise fail(
                    self.path,
                    f"{self._describe(index)} is not on the path from the input to the output",
                )
        weights = [FLOAT_TYPES.get(input_type, "")]
        self._round_slopes(weights)
        return {
            "inputs": math.prod(sample_shape) if sample_shape else None,
            "title": self.title,
            "framework": "ONNX",
            "input_shape": sample_shape,
            "extra_dtypes": [w for w in weights if w],
        }

    def _round_slopes(self, dtypes: list[str]) -> None:
        """ONNX stores a LeakyRelu slope as float32: 0.01 reads back as 0.009999999776….
        A model that computes in float32 or less rounds its slope so anyway, so its spec says
        0.01 (a change far below its precision); a float64 model keeps the exact value."""
        import numpy as np

        from .common import dtype_name, lowest_precision

        dtypes = dtypes + [dtype_name(d.weight.dtype) for d in self.layers]
        if lowest_precision(dtypes) == "float64":
            return
        for index, dense in enumerate(self.layers):
            alpha = dense.activation.alpha
            if dense.activation.name == "leaky_relu" and alpha is not None:
                short = float(str(np.float32(alpha)))
                self.layers[index] = replace(
                    dense, activation=ActivationChoice("leaky_relu", alpha=short)
                )

    def _describe(self, index: int) -> str:
        node = self.nodes[index]
        name = f" {node.name!r}" if node.name else ""
        return f"node{name} ({node.op_type}, node {index + 1} of {len(self.nodes)})"

    def _unsupported(self, index: int, why: str = "") -> Exception:
        node = self.nodes[index]
        domain = f" from domain {node.domain!r}" if node.domain not in ("", "ai.onnx") else ""
        reason = why or f"{node.op_type}{domain} is not supported; nndiagram imports {SUPPORTED}"
        return fail(self.path, f"{self._describe(index)}: {reason}")

    def _step(self, index: int, current: str, rank: int) -> tuple[str, int]:
        node = self.nodes[index]
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        outputs = [o for o in node.output if o]
        if len(outputs) > 1 and op != "Dropout":
            raise self._unsupported(index)
        out = outputs[0]
        attrs = {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}
        if op in PASS_THROUGH:
            if node.input[0] != current:
                raise self._unsupported(index, "the chain does not enter at its data input")
            self._track(current, out)
            return out, rank
        if op in ("Flatten", "Reshape"):
            rank = self._flatten(index, op, attrs, current, rank)
            self.produced[out] = -1
            return out, rank
        if op in ("Gemm", "MatMul"):
            if rank != 2:
                raise self._unsupported(
                    index, f"{op} on a rank-{rank} tensor: flatten the input first"
                )
            self._finish_pending()
            self.pending = self._dense(index, op, attrs, current)
            self.pending["concat"], self.stacked = self.stacked, ()
            if self.columns is not None:  # nndiagram's order: the previous output first
                weight = self.pending["weight"]
                if weight.shape[1] != len(self.columns):
                    raise self._unsupported(
                        index, f"the weight has {weight.shape[1]} columns, the Concat "
                        f"{len(self.columns)} features",
                    )  # fmt: skip
                self.pending["weight"], self.columns = weight[:, self.columns], None
            self.pending["out"] = out
            return out, rank
        if op == "Add":
            others = [v for v in node.input if v != current]
            if len(others) == 1 and others[0] in self.produced and others[0] not in self.tensors:
                self._skip_add(index, others[0])
            else:
                self._bias(index, current)
            self._track(current, out)
            return out, rank
        if op == "Concat":
            self._concat(index, attrs, current)
            return out, rank
        if op in ACTIVATIONS or op == "Softmax":
            self._activation(index, op, attrs)
            self._track(current, out)
            return out, rank
        raise self._unsupported(index)

    def _track(self, current: str, out: str) -> None:
        """The pending layer's output is now ``out``."""
        if self.pending is not None and self.pending.get("out") == current:
            self.pending["out"] = out
        elif current in self.produced:  # a pass-through on the input
            self.produced[out] = self.produced[current]

    def _skip_add(self, index: int, other: str) -> None:
        pending = self.pending
        if pending is None or pending["activation"] is not None:
            raise self._unsupported(
                index,
                "an Add of an earlier output after the activation (relu(f(x)) + x) is not "
                "supported: nndiagram's add enters z, before the activation",
            )
        if pending.get("add") is not None:
            raise self._unsupported(index, "a layer adds one earlier output at most")
        pending["add"] = self.produced[other]

    def _concat(self, index: int, attrs: dict[str, Any], current: str) -> None:
        node = self.nodes[index]
        if attrs.get("axis") not in (1, -1):
            raise self._unsupported(index, "Concat must stack the features (axis 1)")
        pieces = list(node.input)
        others = [v for v in pieces if v != current]
        if (
            current not in pieces
            or not others
            or not (self.layers or self.pending)
            or any(v not in self.produced for v in others)
        ):
            raise self._unsupported(
                index,
                "Concat must stack the previous output with earlier layer outputs or the input",
            )
        self._finish_pending()
        previous = len(self.layers) - 1
        first = pieces.index(current)
        order = [first] + [i for i in range(len(pieces)) if i != first]
        stacked = tuple(self.produced[pieces[i]] for i in order[1:])
        if previous in stacked or len(set(stacked)) != len(stacked):
            raise self._unsupported(index, "Concat lists an output twice")
        self.stacked = stacked
        if first != 0:  # torch.cat([x, h]): W's column blocks are put in nndiagram's order
            widths = [self._width(self.produced[v]) for v in pieces]
            starts = [sum(widths[:i]) for i in range(len(widths))]
            self.columns = [c for i in order for c in range(starts[i], starts[i] + widths[i])]

    def _width(self, source: int) -> int:
        """The width of layer ``source``'s output, or of the input (-1: layer 0's fan-in)."""
        return self.layers[source].units if source >= 0 else self.layers[0].fan_in

    # --- the nodes ------------------------------------------------------------------------

    def _flatten(self, index: int, op: str, attrs: dict[str, Any], current: str, rank: int) -> int:
        if self.pending is not None or self.layers:
            raise self._unsupported(index, f"{op} after the first layer is not supported")
        node = self.nodes[index]
        if node.input[0] != current:
            raise self._unsupported(index, "the chain does not enter at its data input")
        if op == "Flatten":
            if attrs.get("axis", 1) != 1:
                raise self._unsupported(index, "Flatten must keep the batch axis (axis = 1)")
            return 2
        shape = [int(v) for v in self._array(node.input[1]).ravel()]
        if len(shape) != 2 or shape[1] == 0 or (shape[1] == -1 and shape[0] in (-1, 0)):
            raise self._unsupported(
                index, f"Reshape to {shape}: only (batch, features) is supported"
            )
        return 2

    def _dense(self, index: int, op: str, attrs: dict[str, Any], current: str) -> dict[str, Any]:
        node = self.nodes[index]
        if node.input[0] != current or len(node.input) < 2 or node.input[1] not in self.tensors:
            raise self._unsupported(
                index, f"{op} must multiply the data by a weight tensor stored in the model"
            )
        weight_name = node.input[1]
        weight = self._array(weight_name)
        if weight.ndim != 2:
            raise self._unsupported(index, f"weight {weight_name!r} is not a matrix")
        bias_name = ""
        bias = None
        if op == "Gemm":
            if (
                attrs.get("transA", 0)
                or attrs.get("alpha", 1.0) != 1
                or attrs.get("beta", 1.0) != 1
            ):
                raise self._unsupported(
                    index, "Gemm with transA, alpha or beta other than 0, 1, 1 is not supported"
                )
            if not attrs.get("transB", 0):
                weight = weight.T
            if len(node.input) > 2 and node.input[2]:
                bias_name = node.input[2]
                if bias_name not in self.tensors:
                    raise self._unsupported(index, "the bias C is not a tensor stored in the model")
                bias = self._bias_array(index, bias_name, weight.shape[0])
        else:
            weight = weight.T  # MatMul: x (batch, fan_in) @ B (fan_in, units)
        return {
            "name": node.name or f"node {index + 1}",
            "weight": weight,
            "weight_name": weight_name,
            "bias": bias,
            "bias_name": bias_name,
            "op": op,
            "activation": None,
        }

    def _bias_array(self, index: int, name: str, units: int) -> Any:
        import numpy as np

        bias = self._array(name)
        if bias.size == 1:  # a broadcast scalar: every unit has that bias
            return np.full(units, bias.ravel()[0], dtype=bias.dtype)
        if bias.shape not in ((units,), (1, units)):
            raise self._unsupported(
                index, f"bias {name!r} has shape {bias.shape} but the layer has {units} unit(s)"
            )
        return bias.reshape(units)

    def _bias(self, index: int, current: str) -> None:
        node = self.nodes[index]
        others = [v for v in node.input if v != current]
        pending = self.pending
        if (
            pending is None
            or pending["op"] != "MatMul"
            or pending["bias"] is not None
            or pending["activation"] is not None
            or len(others) != 1
            or others[0] not in self.tensors
        ):
            raise self._unsupported(
                index,
                "Add is supported only as the bias right after a MatMul (residual additions "
                "come with skip connections)",
            )
        pending["bias"] = self._bias_array(index, others[0], pending["weight"].shape[0])
        pending["bias_name"] = others[0]

    def _activation(self, index: int, op: str, attrs: dict[str, Any]) -> None:
        pending = self.pending
        if pending is None:
            raise self._unsupported(index, f"{op} before the first dense layer is not supported")
        if pending["activation"] is not None:
            raise self._unsupported(
                index, f"{op} follows another activation: one activation per layer"
            )
        if op == "Softmax":
            default = -1 if self.opset >= 13 else 1
            if attrs.get("axis", default) not in (1, -1):
                raise self._unsupported(index, "Softmax must run over the features (axis 1)")
            pending["activation"] = ActivationChoice("softmax")
        elif op == "LeakyRelu":
            alpha = float(attrs.get("alpha", 0.01))
            if not 0 < alpha <= 100:
                raise self._unsupported(index, f"LeakyRelu alpha {alpha:g} is outside (0, 100]")
            pending["activation"] = ActivationChoice("leaky_relu", alpha=alpha)
        else:
            pending["activation"] = ActivationChoice(ACTIVATIONS[op])

    def _finish_pending(self) -> None:
        pending = self.pending
        if pending is None:
            return
        self.layers.append(
            Dense(
                name=pending["name"],
                weight=pending["weight"],
                bias=pending["bias"],
                activation=pending["activation"] or ActivationChoice(),
                weight_name=pending["weight_name"],
                bias_name=pending["bias_name"],
                add=pending.get("add"),
                concat=pending.get("concat", ()),
            )
        )
        if "out" in pending:
            self.produced[pending["out"]] = len(self.layers) - 1
        self.pending = None

    # --- tensors and the graph's ends -----------------------------------------------------

    def _array(self, name: str) -> Any:
        tensor = self.tensors[name]
        try:
            return self.onnx.numpy_helper.to_array(tensor, base_dir=str(self.folder))
        except (ValueError, TypeError, OSError, RuntimeError) as error:
            raise fail(self.path, f"tensor {name!r} cannot be read: {_first_line(error)}") from None

    def _check_external_data(self) -> None:
        """External data must be a file inside the model's folder (no absolute path, no ``..``,
        no link out of it)."""
        for name, tensor in self.tensors.items():
            if tensor.data_location != self.onnx.TensorProto.EXTERNAL:
                continue
            location = next((e.value for e in tensor.external_data if e.key == "location"), "")
            target = (self.folder / location).resolve()
            if (
                not location
                or os.path.isabs(location)
                or not target.is_relative_to(self.folder)
                or target == self.folder
            ):
                raise fail(
                    self.path,
                    f"tensor {name!r} has external data at {location!r}, outside the model's "
                    "folder; refusing to read it",
                )
            if target.is_file() and target.stat().st_size > 2 * 1024**3:
                raise fail(self.path, f"external data {location!r} is over 2 GB")

    def _graph_input(self) -> tuple[str, tuple[int, ...] | None, int]:
        inputs = [i for i in self.graph.input if i.name not in self.tensors]
        if len(inputs) != 1:
            names = ", ".join(repr(i.name) for i in inputs) or "none"
            raise fail(
                self.path, f"the graph has {len(inputs)} inputs ({names}); nndiagram imports one"
            )
        value = inputs[0]
        tensor_type = value.type.tensor_type
        if tensor_type.elem_type and tensor_type.elem_type not in FLOAT_TYPES:
            raise fail(self.path, f"input {value.name!r} is not a float tensor")
        dims = list(tensor_type.shape.dim) if tensor_type.HasField("shape") else []
        sample = [int(d.dim_value) for d in dims[1:] if d.HasField("dim_value")]
        known = dims and len(sample) == len(dims) - 1
        shape = tuple(sample) if known and sample else None
        return str(value.name), shape, int(tensor_type.elem_type)

    def _graph_output(self) -> str:
        if len(self.graph.output) != 1:
            raise fail(
                self.path,
                f"the graph has {len(self.graph.output)} outputs; nndiagram imports one",
            )
        return str(self.graph.output[0].name)
