"""PyTorch: a live ``nn.Module`` read from its computation, and ``state_dict`` files.

A module is traced with ``torch.export`` (in eval mode, then put back as it was), so a
``forward`` that chains ``F.linear``, ``x @ W.T + b`` or the layers by hand imports like an
``nn.Sequential``. Skip connections (issue 17): ``self.fc2(h) + h`` or ``x + self.f(x)`` (an
earlier layer's output, or the input, added to a layer's pre-activation, in either order) is
that layer's ``add``; ``torch.cat([h, x], dim=1)`` feeding a dense layer is its ``concat`` (the
pieces in any order: the layer's weight columns are put in nndiagram's, the previous output
first). An add after the activation (``relu(f(x)) + x``) is refused: nndiagram's add enters
``z``. A ``state_dict`` file is loaded with ``weights_only=True``: a pickle of
anything but tensors is refused, never executed.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from typing import Any

from ..model import ActivationChoice
from .common import (
    SUPPORTED,
    Dense,
    Imported,
    assemble,
    check_file,
    check_parameter_count,
    dtype_name,
    fail,
)
from .extras import need

ACTIVATIONS = {
    "aten.relu.default": "relu",
    "aten.relu_.default": "relu",
    "aten.sigmoid.default": "sigmoid",
    "aten.sigmoid_.default": "sigmoid",
    "aten.tanh.default": "tanh",
    "aten.tanh_.default": "tanh",
    "aten.leaky_relu.default": "leaky_relu",
    "aten.leaky_relu_.default": "leaky_relu",
    "aten.softmax.int": "softmax",
    "aten._softmax.default": "softmax",
}
PASS_THROUGH = {
    "aten.dropout.default",
    "aten.alias.default",
    "aten.clone.default",
    "aten.detach.default",
    "aten.contiguous.default",
}
RESHAPES = {
    "aten.view.default",
    "aten.reshape.default",
    "aten._unsafe_view.default",
    "aten.flatten.using_ints",
}
TRANSPOSES = {
    "aten.t.default",
    "aten.numpy_T.default",
    "aten.permute.default",
    "aten.transpose.int",
}
MATMULS = {"aten.matmul.default", "aten.mm.default"}
ADD = "aten.add.Tensor"
CAT = {"aten.cat.default", "aten.concat.default"}
SKIP_READERS = {ADD, *CAT}  # the operations that may read an output a second time


def torch_module() -> Any:
    return need("torch", "torch")


def read_torch_module(module: Any, example_input: Any = None, path: str | None = None) -> Imported:
    """``from_torch``: trace ``module`` on ``example_input`` (default: zeros as wide as its
    first ``Linear``) and read the dense chain."""
    torch = torch_module()
    path = path or type(module).__name__  # what messages and reports call it
    if not isinstance(module, torch.nn.Module):
        raise fail(path, f"expected a torch.nn.Module, got {type(module).__name__}")
    example = _example(module, example_input, path)
    training = module.training
    module.eval()
    try:
        program = torch.export.export(module, (example,))
    except Exception as error:  # torch.export raises many types; all mean "cannot trace"
        text = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        raise fail(path, f"torch.export cannot trace {type(module).__name__}: {text}") from None
    finally:
        module.train(training)
    shape = tuple(int(d) for d in example.shape[1:])
    return _ProgramWalker(path, program, example).run(
        title=type(module).__name__, input_shape=shape
    )


def _example(module: Any, example_input: Any, path: str) -> Any:
    torch = torch_module()
    if example_input is not None:
        return (
            example_input
            if isinstance(example_input, torch.Tensor)
            else torch.as_tensor(example_input)
        )
    first = next((m for m in module.modules() if isinstance(m, torch.nn.Linear)), None)
    if first is None:
        raise fail(path, "no nn.Linear to size an input by: pass example_input")
    return torch.zeros(2, first.in_features, dtype=first.weight.dtype)


class _ProgramWalker:
    """The nodes of an ``ExportedProgram`` in order, as a chain from the input to the output,
    with skips: an add of an earlier output into a pre-activation, a cat feeding a layer."""

    def __init__(self, path: str, program: Any, example: Any) -> None:
        self.path = path
        self.program = program
        self.batch = int(example.shape[0]) if example.dim() else 1
        signature = program.graph_signature
        self.user_inputs = list(signature.user_inputs)
        self.tensors: dict[str, Any] = {}
        for name, target in signature.inputs_to_parameters.items():
            self.tensors[name] = program.state_dict[target]
        for name, target in signature.inputs_to_buffers.items():
            self.tensors[name] = program.state_dict.get(target, program.constants.get(target))
        for name, target in getattr(signature, "inputs_to_lifted_tensor_constants", {}).items():
            self.tensors[name] = program.constants[target]
        self.transposed: dict[str, str] = {}  # node name -> the tensor it transposes
        self.layers: list[Dense] = []
        self.pending: dict[str, Any] | None = None
        # node name -> the layer whose output it is (-1: the input), for add and cat
        self.produced: dict[str, int] = {}
        if example.dim() == 2 and self.user_inputs:
            self.produced[self.user_inputs[0]] = -1
        # a cat read by the next dense layer: (its concat, the weight's column order)
        self.stacked: tuple[tuple[int, ...], list[int]] | None = None

    def run(self, title: str, input_shape: tuple[int, ...]) -> Imported:
        nodes = list(self.program.graph.nodes)
        calls = [n for n in nodes if n.op == "call_function"]
        if len(self.user_inputs) != 1:
            raise fail(
                self.path, f"forward takes {len(self.user_inputs)} tensors; nndiagram imports one"
            )
        current = self.user_inputs[0]
        rank = len(input_shape) + 1
        for position, node in enumerate(calls, start=1):
            target = str(node.target)
            where = f"operation {node.name!r} ({target}, {position} of {len(calls)})"
            tensors = _operands(node, target)
            if tensors and all(self._is_weight(a) for a in tensors):
                if target not in TRANSPOSES or not self._is_2d_transpose(node):
                    raise fail(self.path, f"{where} computes on weights: not supported")
                self.transposed[node.name] = tensors[0].name
                continue
            names = [a.name for a in tensors]
            on_chain = current in names if target in SKIP_READERS else names[:1] == [current]
            if not on_chain:
                raise fail(self.path, f"{where} is not on the chain from the input to the output")
            readers = [u for u in node.users if str(u.target) not in SKIP_READERS]
            if len(node.users) > 1 and len(readers) > 1:
                raise fail(
                    self.path,
                    f"{where} feeds {len(node.users)} operations: nndiagram imports a chain of "
                    "layers, with skips only as an add of a layer's output (or the input) into a "
                    "later layer's pre-activation or a cat of layer outputs feeding a layer",
                )
            rank = self._step(where, target, node, rank, current)
            current = node.name
        if self.stacked is not None:
            raise fail(self.path, "forward returns a concatenation: a cat must feed a dense layer")
        self._finish()
        output = next(n for n in nodes if n.op == "output")
        results = output.args[0]
        if len(results) != 1 or getattr(results[0], "name", None) != current:
            raise fail(self.path, "forward must return the chain's one output tensor")
        dtypes = [dtype_name(str(t.dtype).removeprefix("torch.")) for t in self.tensors.values()]
        return assemble(
            self.path,
            self.layers,
            inputs=math.prod(input_shape),
            title=title,
            framework="PyTorch",
            input_shape=input_shape,
            extra_dtypes=dtypes,
        )

    def _is_weight(self, node: Any) -> bool:
        return node.name in self.tensors or node.name in self.transposed

    def _is_2d_transpose(self, node: Any) -> bool:
        source = node.args[0]
        if source.name not in self.tensors or self.tensors[source.name].dim() != 2:
            return False
        if str(node.target) == "aten.permute.default":
            return list(node.args[1]) == [1, 0]
        return True

    def _array(self, name: str) -> Any:
        tensor = self.tensors[name].detach().cpu()
        return _numpy(tensor)

    def _weight(self, node: Any, where: str, transposed: bool) -> tuple[Any, str]:
        """The (units, fan_in) matrix of a weight operand; ``transposed``: the operand is
        multiplied as ``x @ B`` (B is (fan_in, units))."""
        if node.name in self.transposed:
            name = self.transposed[node.name]
            array = self._array(name)
            return (array if transposed else array.T), name
        if node.name not in self.tensors or self.tensors[node.name].dim() != 2:
            raise fail(self.path, f"{where}: the weight is not a stored matrix")
        array = self._array(node.name)
        return (array.T if transposed else array), node.name

    def _step(self, where: str, target: str, node: Any, rank: int, current: str) -> int:
        args = node.args
        if target in PASS_THROUGH:
            if target == "aten.dropout.default" and len(args) > 2 and args[2]:
                raise fail(self.path, f"{where}: dropout in training mode")
            self._follow(node.name, current, same=True)
            return rank
        if self.stacked is not None and not (target == "aten.linear.default" or target in MATMULS):
            raise fail(self.path, f"{where}: a cat must feed a dense layer (Linear, F.linear, @)")
        if target in RESHAPES:
            if self.layers or self.pending is not None:
                raise fail(self.path, f"{where}: a reshape after the first layer is not supported")
            shape = tuple(node.meta["val"].shape)
            if len(shape) != 2 or int(shape[0]) != self.batch:
                raise fail(self.path, f"{where}: only a reshape to (batch, features) is supported")
            self.produced[node.name] = -1  # the input as nndiagram sees it: one feature axis
            return 2
        if target == "aten.linear.default" or target in MATMULS or target == "aten.addmm.default":
            if rank != 2:
                raise fail(
                    self.path, f"{where}: a dense layer on a rank-{rank} tensor: flatten first"
                )
            self._finish()
            if target == "aten.linear.default":
                weight, weight_name = self._weight(args[1], where, transposed=False)
                bias_node = args[2] if len(args) > 2 else None
            elif target == "aten.addmm.default":
                raise fail(self.path, f"{where}: addmm is not supported; use nn.Linear or F.linear")
            else:
                weight, weight_name = self._weight(args[1], where, transposed=True)
                bias_node = None
            concat: tuple[int, ...] = ()
            if self.stacked is not None:
                concat, columns = self.stacked
                if weight.shape[1] != len(columns):
                    raise fail(
                        self.path,
                        f"{where}: the weight has {weight.shape[1]} columns, the cat "
                        f"{len(columns)} features",
                    )
                weight = weight[:, columns]  # nndiagram's order: the previous output first
                self.stacked = None
            bias, bias_name = None, ""
            if bias_node is not None:
                bias, bias_name = self._bias(bias_node, where, weight.shape[0])
            self.pending = {
                "name": node.name,
                "weight": weight,
                "weight_name": weight_name,
                "bias": bias,
                "bias_name": bias_name,
                "needs_bias": target in MATMULS,
                "activation": None,
                "add": None,
                "concat": concat,
                "outputs": [node.name],  # the names the layer's output goes by
            }
            return rank
        if target == ADD:
            self._add(where, node, current)
            return rank
        if target in CAT:
            self._cat(where, node, current)
            return rank
        if target in ACTIVATIONS:
            self._activation(where, ACTIVATIONS[target], args)
            self._follow(node.name, current, same=False)
            return rank
        raise fail(self.path, f"{where} is not supported; nndiagram imports {SUPPORTED}")

    def _follow(self, name: str, current: str, same: bool) -> None:
        """``name`` is the chain's value now: the same output as ``current`` (``same``: a
        dropout, clone…) or the pending layer's output computed one step further."""
        pending = self.pending
        if pending is not None and pending["outputs"][-1] == current:
            pending["outputs"] = [*pending["outputs"], name] if same else [name]
        elif same and current in self.produced:
            self.produced[name] = self.produced[current]

    def _add(self, where: str, node: Any, current: str) -> None:
        """``z + b`` (a bias after a matmul) or ``z + a`` (a skip into the pre-activation)."""
        args = node.args
        operands = [a for a in args if hasattr(a, "op")]
        others = [a for a in operands if a.name != current]
        if len(args) != 2 or len(operands) != 2 or len(others) != 1:
            what = "the chain to itself" if len(operands) == 2 and not others else "a constant"
            raise fail(
                self.path,
                f"{where}: adds {what}; nndiagram's add is a layer's output (or the input) added "
                "to a later layer's pre-activation",
            )
        if node.kwargs.get("alpha", 1) != 1:
            raise fail(self.path, f"{where}: an add with alpha (a scaled skip) is not supported")
        other = others[0]
        pending = self.pending
        if other.name in self.tensors:  # a stored tensor: the bias of a matmul
            if pending is None or not pending["needs_bias"] or pending["activation"] is not None:
                raise fail(
                    self.path,
                    f"{where}: add of the stored tensor {other.name!r} is supported only as the "
                    "bias right after a matmul",
                )
            pending["bias"], pending["bias_name"] = self._bias(
                other, where, pending["weight"].shape[0]
            )
            pending["needs_bias"] = False
            pending["outputs"] = [node.name]
            return
        if pending is None:
            raise fail(self.path, f"{where}: an add before the first dense layer")
        if pending["activation"] is not None or pending["outputs"][-1] != current:
            raise fail(
                self.path,
                f"{where}: an add after the activation (relu(f(x)) + x) is not supported: "
                "nndiagram's add enters z, before the activation",
            )
        if other.name not in self.produced:
            raise fail(
                self.path,
                f"{where}: adds {other.name!r}, which is neither a layer's output nor the input "
                "(a pre-activation or another intermediate value)",
            )
        if pending["add"] is not None:
            raise fail(self.path, f"{where}: a layer adds one earlier output at most")
        pending["add"] = self.produced[other.name]
        pending["outputs"] = [node.name]

    def _cat(self, where: str, node: Any, current: str) -> None:
        """``torch.cat([...], dim=1)`` of the chain's output and earlier outputs (or the input)."""
        args = node.args
        dim = args[1] if len(args) > 1 else node.kwargs.get("dim", 0)
        if dim not in (1, -1):
            raise fail(self.path, f"{where}: a cat must stack the features (dim=1), not dim={dim}")
        pieces = list(args[0])
        if not all(hasattr(p, "op") for p in pieces):
            raise fail(self.path, f"{where}: a cat of a constant is not supported")
        if [p.name for p in pieces] == [current]:  # a cat of one tensor is that tensor
            self._follow(node.name, current, same=True)
            return
        pending = self.pending
        if pending is not None and pending["outputs"][-1] == current:
            self._finish()
        bad = [p.name for p in pieces if p.name not in self.produced]
        if bad:
            raise fail(
                self.path,
                f"{where}: stacks {bad[0]!r}, which is neither a layer's output nor the input "
                "(a cat stacks layer outputs and the input, feeding a dense layer)",
            )
        sources = [self.produced[p.name] for p in pieces]
        previous = self.produced[current]
        if len(set(sources)) != len(sources):
            raise fail(self.path, f"{where}: a cat that lists an output twice is not supported")
        if len(pieces) < 2 or previous != len(self.layers) - 1:
            raise fail(self.path, f"{where}: a cat must stack the previous layer's output")
        widths = [int(p.meta["val"].shape[-1]) for p in pieces]
        starts = [sum(widths[:i]) for i in range(len(widths))]
        first = sources.index(previous)
        order = [first] + [i for i in range(len(pieces)) if i != first]
        columns = [c for i in order for c in range(starts[i], starts[i] + widths[i])]
        self.stacked = (tuple(sources[i] for i in order[1:]), columns)

    def _bias(self, node: Any, where: str, units: int) -> tuple[Any, str]:
        if not hasattr(node, "name") or node.name not in self.tensors:
            raise fail(self.path, f"{where}: the bias is not a stored tensor")
        array = self._array(node.name)
        if array.shape != (units,):
            raise fail(self.path, f"{where}: bias has shape {array.shape}, the layer {units} units")
        return array, node.name

    def _activation(self, where: str, name: str, args: Any) -> None:
        pending = self.pending
        if pending is None:
            raise fail(self.path, f"{where}: an activation before the first dense layer")
        if pending["activation"] is not None:
            raise fail(self.path, f"{where} follows another activation: one activation per layer")
        if name == "softmax":
            if len(args) < 2 or args[1] not in (1, -1):
                raise fail(self.path, f"{where}: softmax must run over the features (dim 1)")
            pending["activation"] = ActivationChoice("softmax")
        elif name == "leaky_relu":
            slope = float(args[1]) if len(args) > 1 else 0.01
            if not 0 < slope <= 100:
                raise fail(self.path, f"{where}: negative slope {slope:g} is outside (0, 100]")
            pending["activation"] = ActivationChoice("leaky_relu", alpha=slope)
        else:
            pending["activation"] = ActivationChoice(name)
        pending["needs_bias"] = False

    def _finish(self) -> None:
        pending = self.pending
        if pending is None:
            return
        self.layers.append(
            Dense(
                pending["name"],
                pending["weight"],
                pending["bias"],
                pending["activation"] or ActivationChoice(),
                pending["weight_name"],
                pending["bias_name"],
                add=pending["add"],
                concat=pending["concat"],
            )
        )
        for name in pending["outputs"]:
            self.produced[name] = len(self.layers) - 1
        self.pending = None


def _operands(node: Any, target: str) -> list[Any]:
    """The graph nodes an operation reads (a cat's come in a list)."""
    if target in CAT and node.args and isinstance(node.args[0], list | tuple):
        return [a for a in node.args[0] if hasattr(a, "op")]
    return [a for a in node.args if hasattr(a, "op")]


def _numpy(tensor: Any) -> Any:
    """A tensor as a NumPy array; bfloat16 (which NumPy lacks) exactly as float32."""
    torch = torch_module()
    if tensor.dtype == torch.bfloat16:
        return tensor.to(torch.float32).numpy()
    return tensor.numpy()


# --- state_dict files -----------------------------------------------------------------------


def load_state_dict(path: str | os.PathLike[str]) -> list[tuple[str, Any]]:
    """The tensors of a ``torch.save``d ``state_dict``, in order, as NumPy arrays.

    ``weights_only=True``: the unpickler accepts tensors and plain containers only, so a file
    that pickles anything else is refused and nothing in it runs.
    """
    name = check_file(path)
    torch = torch_module()
    import pickle
    import zipfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols on stderr
            loaded = torch.load(name, map_location="cpu", weights_only=True, mmap=_is_zip(name))
    except (
        pickle.UnpicklingError,
        RuntimeError,
        ValueError,
        EOFError,
        OSError,
        zipfile.BadZipFile,
    ) as error:
        # torch's message suggests weights_only=False, which would run the file's code: only
        # its reason is kept.
        reason = _unpickler_reason(error)
        raise fail(
            name,
            f"not a state_dict of tensors ({reason}); it was read with weights_only=True and "
            "nothing in it ran",
        ) from None
    if not isinstance(loaded, dict):
        raise fail(name, f"holds a {type(loaded).__name__}, not a state_dict (names -> tensors)")
    items: list[tuple[str, Any]] = []
    for key, value in loaded.items():
        if not isinstance(value, torch.Tensor):
            raise fail(name, f"entry {str(key)!r} is a {type(value).__name__}, not a tensor")
        items.append((str(key), value))
    check_parameter_count(name, [(k, tuple(v.shape)) for k, v in items])
    return [(key, _numpy(value.detach())) for key, value in items]


def _unpickler_reason(error: BaseException) -> str:
    """The line of torch's message that says what was refused ('unsupported GLOBAL …')."""
    text = re.sub(r"Please file an issue.*?WeightsUnpickler error:", "", str(error))
    boilerplate = ("Weights only load failed", "Check the documentation")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reasons = [line for line in lines if not line.startswith(boilerplate)]
    return reasons[0][:200] if reasons else type(error).__name__


def _is_zip(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"
