"""Backpropagation in NumPy: the gradients of ``J = 1/m Σ_i L`` for a whole batch at once.

The equations (derived and proven in ``gradients_symbolic.py``), with ``dz`` the derivative of
one sample's loss, ``∂L/∂z``, and the batch mean taken where the parameters are reached::

    dz[L] = a[L] - y                      sigmoid + bce; softmax + ce (one-hot / probability y)
    dz[L] = ∂L/∂a[L] ⊙ g'[L](z[L])       any other pair (mse: ∂L/∂a = 2 (a - y))
    dW[l] = 1/m dz[l] a[l-1]^T            a[-1] = x
    db[l] = 1/m Σ_i dz[l](i)
    dz[l] = W[l+1]^T dz[l+1] ⊙ g'[l](z[l])

Samples are columns, so each line is one matrix product over the batch; the only loop is over
layers. The simplified output ``dz`` is used wherever it applies: it never divides by
``a (1 - a)``, so saturated outputs stay finite.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..activations import Activation
from ..errors import SpecError, UsageError
from ..model import INPUT, LOSSES, Network
from .forward import (
    check_input,
    check_loss_fits,
    check_params,
    forward_pass,
    numeric_activation,
)

Array = np.ndarray
Gradients = dict[str, Array]


def loss_of(network: Network, loss: str | None) -> str:
    """The loss to differentiate: the argument, else the spec's ``loss``; an error if neither."""
    chosen = loss or network.loss
    if chosen is None:
        message = "no loss to differentiate: pass --loss mse|bce|ce or set 'loss' in the spec"
        if network.source != "<spec>":  # read from a file: the one line names it
            raise SpecError(message, path=network.source, line=1, column=1)
        raise UsageError(message)
    if chosen not in LOSSES:
        raise UsageError(f"unknown loss {chosen!r} (must be one of: {', '.join(LOSSES)})")
    try:
        check_loss_fits(network, chosen)
    except UsageError as error:
        if network.source != "<spec>":  # gradients, train: the one line names the spec
            raise SpecError(str(error), path=network.source, line=1, column=1) from None
        raise
    return chosen


def loss_derivative(loss: str, A: Array, Y: Array) -> Array:
    """``∂L/∂a`` for each output entry (L summed over the output units)."""
    if loss == "mse":
        return 2.0 * (A - Y)
    tiny = np.finfo(A.dtype).tiny
    if loss == "bce":
        return (A - Y) / np.maximum(A * (1.0 - A), tiny)
    return -Y / np.maximum(A, tiny)


def activation_backward(activation: Activation, Z: Array, A: Array, dA: Array) -> Array:
    """``dz`` from ``da``: ``da ⊙ g'(z)``, or the softmax Jacobian applied per column.

    Overwrites ``dA`` (always a fresh array here). The common derivatives are read off the
    cached ``A`` (sigmoid ``a(1-a)``, tanh ``1-a²``) or a mask (ReLU), not recomputed from ``Z``.
    """
    name = activation.name
    if name == "identity":
        return dA
    if name == "relu":
        return np.multiply(dA, Z > 0, out=dA)
    if name == "sigmoid":
        dA *= A
        dA *= 1.0 - A
        return dA
    if name == "tanh":
        dA *= 1.0 - np.square(A)
        return dA
    if name == "softmax":
        return A * (dA - np.sum(dA * A, axis=0, keepdims=True))
    if activation.numpy_derivative is None:
        raise UsageError(f"activation {name!r} has no numeric derivative")
    dA *= activation.numpy_derivative(Z)
    return dA


def output_dz(activation: Activation, loss: str, Z: Array, A: Array, Y: Array) -> Array:
    """``dz[L]``; for softmax + ce it is ``a Σ_k y_k − y``, which is ``a − y`` for one-hot y."""
    if (activation.name, loss) == ("sigmoid", "bce"):
        return A - Y
    if (activation.name, loss) == ("softmax", "ce"):
        return A * np.sum(Y, axis=0, keepdims=True) - Y
    return activation_backward(activation, Z, A, loss_derivative(loss, A, Y))


def check_targets(
    network: Network, Y: ArrayLike, m: int, dtype: DTypeLike, source: str | None
) -> Array:
    """``Y`` as (units_last, m); a wrong shape names both shapes."""
    array = np.asarray(Y)
    needed = (network.n_outputs, m)
    if array.shape != needed:
        message = f"Y has shape {array.shape} but the output has shape {needed}"
        raise SpecError(message, path=source) if source else UsageError(message)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        message = f"Y has dtype {array.dtype}; it must hold real numbers"
        raise SpecError(message, path=source) if source else UsageError(message)
    return array.astype(dtype, copy=False)


def gradients(
    network: Network,
    params: Mapping[str, ArrayLike],
    X: ArrayLike,
    Y: ArrayLike,
    loss: str | None = None,
    dtype: DTypeLike = np.float64,
) -> Gradients:
    """``{"dW0": …, "db0": …}`` of ``J`` on the batch, each of its parameter's shape.

    >>> net = Network.from_sizes([1, 1], "identity")
    >>> g = gradients(net, {"W0": [[2.0]], "b0": [0.0]}, [[1.0, 2.0]], [[1.0, 1.0]], "mse")
    >>> g["dW0"], g["db0"]   # J = ((2-1)² + (4-1)²)/2: dJ/dW = (2·1·1 + 2·3·2)/2
    (array([[7.]]), array([4.]))
    """
    chosen = loss_of(network, loss)
    checked = check_params(network, params, dtype)
    inputs = check_input(network, X, dtype)
    targets = check_targets(network, Y, inputs.shape[1], dtype, None)
    return _backward(network, checked, inputs, targets, chosen)


def _backward(
    network: Network, params: Mapping[str, Array], X: Array, Y: Array, loss: str
) -> Gradients:
    caches = forward_pass(network, params, X, X.dtype)
    return backward_from_caches(network, params, X, Y, loss, caches)


def backward_from_caches(
    network: Network,
    params: Mapping[str, Array],
    X: Array,
    Y: Array,
    loss: str,
    caches: list[tuple[Array, Array]],
) -> Gradients:
    """The backward pass alone, from ``forward_pass``'s caches of these ``params`` and ``X``
    (``train`` reads each step's cost off the same caches). Writes into none of its inputs."""
    m = X.shape[1]
    last = network.layers[-1]
    Z, A = caches[-1]
    dZ = output_dz(numeric_activation(network, last.index), loss, Z, A, Y)
    grads: Gradients = {}
    # dA[k]: ∂L/∂a[k] summed over every layer that reads a[k] (the next one, and those that
    # add or concatenate it); complete when the backward loop reaches layer k.
    dA: dict[int, Array] = {}

    def output(source: int) -> Array:
        return X if source == INPUT else caches[source][1]

    def receive(source: int, gradient: Array) -> None:
        if source == INPUT:
            return
        if source in dA:
            dA[source] += gradient
        else:
            dA[source] = gradient.copy() if gradient is dZ else gradient

    for layer in reversed(network.layers):
        l = layer.index  # noqa: E741 (the tutorial's layer index)
        if l != last.index:
            Z_l, A_l = caches[l]
            dZ = activation_backward(numeric_activation(network, l), Z_l, A_l, dA.pop(l))
        A_in = output(l - 1)
        if layer.concat:
            A_in = np.concatenate([A_in, *(output(source) for source in layer.concat)], axis=0)
        # (a dz^T)^T, not dz a^T: the same product, but OpenBLAS is several times faster
        # with the long sample axis as the inner dimension of this operand order.
        grads[f"dW{l}"] = np.ascontiguousarray((A_in @ dZ.T).T) / m
        grads[f"db{l}"] = np.sum(dZ, axis=1) / m
        if layer.add is not None:
            receive(layer.add, dZ)
        if l > 0 or layer.concat:
            d_in = params[f"W{l}"].T @ dZ
            row = 0
            for source in layer.sources:
                width = network.width(source)
                receive(source, d_in[row : row + width])
                row += width
    return {
        name: grads[name]
        for layer in network.layers
        for name in (f"dW{layer.index}", f"db{layer.index}")
    }


def npz_bytes(arrays: Mapping[str, Array]) -> bytes:
    """An ``.npz`` archive with fixed timestamps: the same arrays give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.save(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def gradients_files(
    spec: str,
    params_path: str,
    input_path: str,
    target_path: str,
    output_path: str,
    loss: str | None = None,
) -> Gradients:
    """The ``gradients`` command: read the spec, P.npz, X.npy and Y.npy; write G.npz."""
    from ..output import write_atomic
    from ..spec.load import load_spec
    from .forward import _load, load_input, load_params, require_finite

    network = load_spec(spec)
    chosen = loss_of(network, loss)
    params = load_params(params_path, network)
    X = load_input(input_path, network)
    loaded = _load(target_path)  # memory-mapped: a wrong shape is refused before any read
    if not isinstance(loaded, np.ndarray):
        loaded.close()
        raise SpecError("expected a .npy array Y of shape (units, m), found .npz", path=target_path)
    Y = np.array(check_targets(network, loaded, X.shape[1], np.float64, target_path))
    if not np.isfinite(Y).all():
        raise SpecError("Y has non-finite value(s) (nan or inf)", path=target_path)
    with np.errstate(all="ignore"):  # overflow is checked below, not warned about
        grads = _backward(network, params, X, Y, chosen)
    for name, gradient in grads.items():
        require_finite(np.asarray(gradient), f"the gradient {name}", params_path)
    write_atomic(output_path, npz_bytes(grads))
    return grads
