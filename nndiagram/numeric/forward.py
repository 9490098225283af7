"""The NumPy evaluator: a batched forward pass over columns, stable losses, parameter files.

Samples are columns (the tutorial's notation): ``X`` has shape (n_inputs, m) and layer l
computes ``Z = W{l} @ A + b{l}`` then ``A = g(Z)`` for all m samples at once. Parameters are a
dict ``{"W0": (units_0, fan_in_0), "b0": (units_0,), "W1": …}``, the layout of ``P.npz``.

This is the ``numpy`` engine; ``verify/engines.py`` sets it beside the ``sympy`` and
``collapsed`` ones.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..activations import DEFAULT_LEAKY_ALPHA, Activation, activation_for
from ..errors import NNDiagramError, SpecError, UsageError
from ..model import INPUT, PROBABILITY_OUTPUTS, ActivationChoice, Layer, Network
from .arrays import Archive, open_arrays

# Numeric commands (evaluate, gradients, train, check --params) hold every parameter and, per
# sample, the inputs and every layer's activations in float64: these caps keep them far under
# 1 GB whatever the files claim (a sparse 4 KB file can declare a 1 GB array).
MAX_PARAMETERS = 25_000_000
MAX_BATCH_ENTRIES = 25_000_000
Array = np.ndarray
Params = dict[str, Array]


# --- parameters and inputs -------------------------------------------------------------------


def param_shapes(network: Network) -> dict[str, tuple[int, ...]]:
    """The arrays a parameter file must hold, in order: ``{"W0": (2, 2), "b0": (2,), …}``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in network.layers:
        shapes[f"W{layer.index}"] = layer.weight_shape
        shapes[f"b{layer.index}"] = (layer.units,)
    return shapes


def _fail(message: str, source: str | None) -> NNDiagramError:
    # A file's problem is reported at the file (exit 2); a Python caller's is a UsageError.
    return SpecError(message, path=source) if source else UsageError(message)


def _check_names(network: Network, names: Iterable[str], source: str | None) -> None:
    expected = param_shapes(network)
    given = set(names)
    missing = [name for name in expected if name not in given]
    if missing:
        needs = ", ".join(f"{name} {expected[name]}" for name in missing)
        raise _fail(f"missing parameter array(s): {needs}{_numbering_hint(network, given)}", source)
    extra = sorted(given - set(expected))
    if extra:
        raise _fail(
            f"unexpected parameter array(s) {', '.join(extra)}: a {len(network.layers)}-layer "
            f"network takes {', '.join(expected)}",
            source,
        )


def _numbering_hint(network: Network, given: set[str]) -> str:
    """When the arrays are numbered from 1 (as `numbering: 1` prints W^{[1]}), say so."""
    shifted = {f"{name[0]}{int(name[1:]) + 1}" for name in param_shapes(network)}
    if not given or not given <= shifted:
        return ""
    return (
        "; the arrays are numbered from 0 (W0, b0, W1, …) whatever the spec's numbering "
        "(numbering: 1 changes the figures, not P.npz): rename W1, b1, … to W0, b0, …"
    )


def _check_shape(
    network: Network,
    name: str,
    shape: tuple[int, ...],
    needed: tuple[int, ...],
    source: str | None,
) -> None:
    if shape != needed:
        layer = network.naming.index(int(name[1:]))  # W1 is layer 2 under numbering: 1
        raise _fail(f"{name} has shape {shape} but layer {layer} needs {needed}", source)


def check_params(
    network: Network,
    params: Mapping[str, ArrayLike],
    dtype: DTypeLike = np.float64,
    *,
    source: str | None = None,
) -> Params:
    """Check names, shapes and values of ``params`` against ``network``; return them as ``dtype``.

    Every problem names the array: ``W1 has shape (3, 2) but layer 1 needs (1, 2)``.
    """
    expected = param_shapes(network)
    if not isinstance(params, Mapping):
        raise _fail(
            f"params is a mapping of {', '.join(expected)} to arrays (a dict, or "
            f"np.load('P.npz')), not {type(params).__name__}",
            source,
        )
    _check_names(network, params, source)
    checked: Params = {}
    for name, shape in expected.items():
        array = np.asarray(params[name])
        _check_shape(network, name, array.shape, shape, source)
        if array.dtype.kind not in "fiu":  # not timedelta64, which NumPy calls an integer
            raise _fail(f"{name} has dtype {array.dtype}; it must hold real numbers", source)
        array = array.astype(dtype, copy=False)
        finite = np.isfinite(array)
        if not finite.all():
            bad = int(np.size(array) - np.count_nonzero(finite))
            index = tuple(int(i) for i in np.argwhere(~finite)[0])
            raise _fail(
                f"{name} has {bad} non-finite value(s) (nan or inf), the first "
                f"{name}[{', '.join(map(str, index))}] = {array[index]}",
                source,
            )
        checked[name] = array
    return checked


def check_input(
    network: Network, X: ArrayLike, dtype: DTypeLike = np.float64, *, source: str | None = None
) -> Array:
    """``X`` as a (n_inputs, m) array of ``dtype``; a 1-D ``X`` of length n_inputs is one column."""
    array = np.asarray(X)
    n = network.n_inputs
    if array.ndim == 1 and array.shape[0] == n:
        array = array.reshape(n, 1)
    if array.ndim != 2 or array.shape[0] != n:
        raise _fail(
            f"X has shape {array.shape} but the network has {n} input(s): it needs ({n}, m), "
            "one column per sample",
            source,
        )
    if array.dtype.kind not in "fiu":  # not timedelta64, which NumPy calls an integer
        raise _fail(f"X has dtype {array.dtype}; it must hold real numbers", source)
    return array.astype(dtype, copy=False)


def _load(path: str | os.PathLike[str]) -> np.ndarray | Archive:
    """A .npy array (memory-mapped: a wrong shape is refused before its data is read) or a
    .npz archive whose members passed their header checks (``numeric.arrays``)."""
    return open_arrays(path)


def load_params(
    path: str | os.PathLike[str], network: Network, dtype: DTypeLike = np.float64
) -> Params:
    """Read and check a ``P.npz`` (``W0, b0, W1, b1, …``); never unpickles.

    Names, then shapes and element types from the headers, then the data: a wrong or
    oversized array (or a zip bomb) is refused before anything is decompressed.
    """
    count = network.parameter_count
    if count > MAX_PARAMETERS:
        raise SpecError(
            f"the network has {count:,} parameters; numeric commands take at most "
            f"{MAX_PARAMETERS:,}",
            path=network.source or str(path),
        )
    loaded = _load(path)
    if not isinstance(loaded, Archive):
        raise SpecError(
            f"expected a .npz archive of {', '.join(param_shapes(network))}, found one array",
            path=str(path),
        )
    with loaded as archive:
        _check_names(network, archive.members, str(path))
        expected = param_shapes(network)
        for name, stored in archive.members.items():
            _check_shape(network, name, stored.shape, expected[name], str(path))
        arrays = {name: stored.read() for name, stored in archive.members.items()}
    return check_params(network, arrays, dtype, source=str(path))


def load_input(
    path: str | os.PathLike[str], network: Network, dtype: DTypeLike = np.float64
) -> Array:
    """Read and check ``X.npy`` of shape (n_inputs, m); a 1-D array is one sample.

    The batch is capped before its data is read: ``m`` times the numbers each sample needs
    (its inputs and every layer's activations) may be at most ``MAX_BATCH_ENTRIES``.
    """
    loaded = _load(path)
    if isinstance(loaded, Archive):
        loaded.close()
        raise SpecError(
            "expected a .npy array X of shape (n_inputs, m), found .npz", path=str(path)
        )
    shape = loaded.shape
    if len(shape) in (1, 2) and shape[0] == network.n_inputs:
        m = shape[1] if len(shape) == 2 else 1
        check_batch(network, m, str(path))
    X = np.array(check_input(network, loaded, dtype, source=str(path)))  # now read it
    if not np.isfinite(X).all():
        bad = int(X.size - np.count_nonzero(np.isfinite(X)))
        raise SpecError(f"X has {bad} non-finite value(s) (nan or inf)", path=str(path))
    return X


def require_finite(array: Array, what: str, source: str | None) -> None:
    """Refuse a result holding nan or inf (float64 overflowed: weights of 1e308, say) rather
    than write it with exit 0."""
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(array.size - np.count_nonzero(finite))
        raise _fail(
            f"{what} has {bad:,} non-finite value(s) (nan or inf): the parameters or inputs are "
            "too large for float64; nothing was written",
            source,
        )


def check_batch(network: Network, m: int, source: str | None = None) -> None:
    """Refuse an empty batch, and one whose evaluation would hold more than
    ``MAX_BATCH_ENTRIES`` numbers (inputs plus every layer's activations, times ``m``)."""
    if m == 0:
        raise _fail("X has no samples (m = 0): give at least one column", source)
    per_sample = network.n_inputs + sum(layer.units for layer in network.layers)
    if m * per_sample > MAX_BATCH_ENTRIES:
        most = max(MAX_BATCH_ENTRIES // per_sample, 1)
        raise _fail(
            f"a batch of {m:,} samples needs {m * per_sample:,} numbers for this network; "
            f"numeric commands take at most {MAX_BATCH_ENTRIES:,} (here {most:,} samples)",
            source,
        )


def require_seed(seed: object) -> None:
    """NumPy seeds take whole numbers from 0 up: anything else is a ``UsageError`` (NumPy's own
    ValueError would be a traceback)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"--seed must be a whole number, 0 or more (got {seed!r})")


def init_params(network: Network, seed: int = 0, dtype: DTypeLike = np.float64) -> Params:
    """Seeded Glorot-uniform parameters: ``W{l}`` and ``b{l}`` from U(-r, r), r = √(6/(in+out)).

    Biases are drawn too (not zeros), so every term of ``z = W x + b`` takes part in checks.
    The same seed gives the same numbers for any ``dtype`` (drawn in float64, then cast).
    """
    require_seed(seed)
    rng = np.random.default_rng(seed)
    params: Params = {}
    for layer in network.layers:
        limit = np.sqrt(6.0 / (layer.fan_in + layer.units))
        weights = rng.uniform(-limit, limit, size=layer.weight_shape)
        params[f"W{layer.index}"] = weights.astype(dtype)
        params[f"b{layer.index}"] = rng.uniform(-limit, limit, size=layer.units).astype(dtype)
    return params


# --- the forward pass ------------------------------------------------------------------------


def numeric_activation(network: Network, index: int) -> Activation:
    """Layer ``index``'s activation, which must have a NumPy form (``generic`` g has none)."""
    layer = network.layers[index]
    activation = activation_for(layer.activation)
    if activation.numpy_fn is None:
        raise UsageError(
            f"layer {network.naming.index(index)} uses the generic activation "
            f"g{network.naming.layer(index)}, which "
            "has no numeric form; choose a concrete activation to evaluate it"
        )
    return activation


def _activate(activation: Activation, Z: Array) -> Array:
    """``g(Z)``, overwriting ``Z`` when the activation can (one copy fewer per layer)."""
    if activation.numpy_inplace is not None:
        return activation.numpy_inplace(Z)
    assert activation.numpy_fn is not None
    A = np.asarray(activation.numpy_fn(Z), dtype=Z.dtype)
    return A if A.shape == Z.shape else np.broadcast_to(A, Z.shape).copy()


def _prepare(
    network: Network, params: Mapping[str, ArrayLike], X: ArrayLike, dtype: DTypeLike
) -> tuple[Params, Array, list[Activation]]:
    activations = [numeric_activation(network, layer.index) for layer in network.layers]
    return check_params(network, params, dtype), check_input(network, X, dtype), activations


def _kept(network: Network) -> frozenset[int]:
    """Layers whose outputs a later ``add`` or ``concat`` reads (kept past the next layer)."""
    return frozenset(
        source
        for layer in network.layers
        for source in (*layer.concat, *(() if layer.add is None else (layer.add,)))
        if source != INPUT
    )


def _stacked(layer: Layer, A: Array, outputs: Mapping[int, Array]) -> Array:
    """What ``W`` multiplies: ``A`` (the previous output), with ``concat`` stacked under it."""
    if not layer.concat:
        return A
    return np.concatenate([A, *(outputs[source] for source in layer.concat)], axis=0)


def _pre_activation(layer: Layer, params: Params, A: Array, outputs: Mapping[int, Array]) -> Array:
    """``z = W [a_prev; concat…] + b (+ a_add)``, a fresh array."""
    Z = params[f"W{layer.index}"] @ _stacked(layer, A, outputs)
    Z += params[f"b{layer.index}"][:, None]
    if layer.add is not None:
        Z += outputs[layer.add]
    return Z


def forward(
    network: Network, params: Mapping[str, ArrayLike], X: ArrayLike, dtype: DTypeLike = np.float64
) -> Array:
    """The output ``a^{[L]}`` of shape (units_last, m) for the columns of ``X``.

    Holds at most two layers' activations at once, plus the outputs a later ``add`` or
    ``concat`` reads: each ``Z`` is computed fresh by the matrix product and activated in
    place, and ``X`` is never written to.
    """
    checked, A, activations = _prepare(network, params, X, dtype)
    kept = _kept(network)
    outputs: dict[int, Array] = {INPUT: A}
    for layer, activation in zip(network.layers, activations, strict=True):
        Z = _pre_activation(layer, checked, A, outputs)
        A = _activate(activation, Z)
        if layer.index in kept:
            outputs[layer.index] = A
    return A


def forward_pass(
    network: Network, params: Mapping[str, ArrayLike], X: ArrayLike, dtype: DTypeLike = np.float64
) -> list[tuple[Array, Array]]:
    """Every layer's ``(Z, A)``, the caches backpropagation needs.

    For an identity layer ``A is Z`` (one array, not a copy): treat both as read-only.
    """
    checked, A, activations = _prepare(network, params, X, dtype)
    outputs: dict[int, Array] = {INPUT: A}
    caches: list[tuple[Array, Array]] = []
    for layer, activation in zip(network.layers, activations, strict=True):
        Z = _pre_activation(layer, checked, A, outputs)
        A = Z if activation.name == "identity" else _activate(activation, Z.copy())
        outputs[layer.index] = A
        caches.append((Z, A))
    return caches


def collapse_params(network: Network, params: Mapping[str, ArrayLike]) -> tuple[Array, Array]:
    """The single ``W x + B`` of a network whose every activation is affine.

    Each output is tracked as its own ``M x + c``: a concatenating layer multiplies its ``W``
    into the stacked maps, an adding one adds the added output's map (the identity for
    ``add: input``). Each layer's ``g(z) = c z + d`` (identity: c = 1, d = 0;
    ``activations.affine_form``) is folded in: ``M → c M``, ``c → c·c + d``. ``B`` has shape
    (units_last,). Raises ``UsageError`` naming the layers that are not affine.
    """
    from ..activations import affine_form, network_affine

    forms = network_affine(network)
    if forms is None:
        nonlinear = [
            f"layer {network.naming.index(layer.index)} ({layer.activation.describe()})"
            for layer in network.layers
            if affine_form(layer.activation, layer.units) is None
        ]
        verb = "is" if len(nonlinear) == 1 else "are"
        raise UsageError(
            "engine 'collapsed' needs a network whose activations are all affine (g(z) = c z + "
            f"d), and {', '.join(nonlinear)} {verb} not: the stack does not reduce to W x + B"
        )
    checked = check_params(network, params)
    kept = _kept(network)
    maps: dict[int, tuple[Array, Array]] = {
        INPUT: (np.eye(network.inputs), np.zeros(network.inputs))
    }
    M, c = maps[INPUT]
    for layer, form in zip(network.layers, forms, strict=True):
        parts = [(M, c), *(maps[source] for source in layer.concat)]
        M_in = np.vstack([part[0] for part in parts]) if layer.concat else M
        c_in = np.concatenate([part[1] for part in parts]) if layer.concat else c
        weights = checked[f"W{layer.index}"]
        M = weights @ M_in
        c = weights @ c_in + checked[f"b{layer.index}"]
        if layer.add is not None:
            M = M + maps[layer.add][0]
            c = c + maps[layer.add][1]
        if not form.is_identity:
            M, c = float(form.c) * M, float(form.c) * c + float(form.d)
        if layer.index in kept:
            maps[layer.index] = (M, c)
    return M, c


def npy_bytes(array: Array) -> bytes:
    """``array`` in the ``.npy`` format, ready for ``write_atomic``."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


# --- losses ----------------------------------------------------------------------------------


def _loss_name(network_or_loss: Network | str) -> str:
    loss = network_or_loss if isinstance(network_or_loss, str) else network_or_loss.loss
    if loss not in ("mse", "bce", "ce"):
        raise UsageError(f"no loss to compute: got {loss!r} (must be one of: mse, bce, ce)")
    return loss


def _check_targets(Y_hat: Array, Y: Array) -> None:
    if Y_hat.shape != Y.shape:
        raise UsageError(f"Y has shape {Y.shape} but the output has shape {Y_hat.shape}")
    if Y.ndim != 2 or Y.shape[1] == 0:
        raise UsageError(f"Y has shape {Y.shape}: it needs (units, m) with m ≥ 1 samples")


def _safe_log(values: Array) -> Array:
    # log clipped at the smallest normal number: finite at ŷ = 0 (and 0·log 0 counts as 0).
    return np.log(np.clip(values, np.finfo(values.dtype).tiny, None))


def cost(network_or_loss: Network | str, Y_hat: ArrayLike, Y: ArrayLike) -> float:
    """``J = 1/m Σ_i L(ŷ^{(i)}, y^{(i)})``, the loss summed over output units (DESIGN's notation).

    ``mse`` ``L = Σ_k (ŷ_k − y_k)²``; ``bce`` ``L = −Σ_k [y_k log ŷ_k + (1 − y_k) log(1 − ŷ_k)]``;
    ``ce`` ``L = −Σ_k y_k log ŷ_k``. Finite even when ŷ is exactly 0 or 1; for a sigmoid or
    softmax output prefer ``cost_from_logits``, which loses nothing in the tails.
    """
    loss = _loss_name(network_or_loss)
    Y_hat_arr = np.asarray(Y_hat, dtype=np.result_type(np.asarray(Y_hat).dtype, np.float32))
    Y_arr = np.asarray(Y, dtype=Y_hat_arr.dtype)
    _check_targets(Y_hat_arr, Y_arr)
    m = Y_arr.shape[1]
    if loss == "mse":
        total = np.sum(np.square(Y_hat_arr - Y_arr))
    elif loss == "bce":
        total = -np.sum(Y_arr * _safe_log(Y_hat_arr) + (1 - Y_arr) * _safe_log(1 - Y_hat_arr))
    else:
        total = -np.sum(Y_arr * _safe_log(Y_hat_arr))
    return float(total) / m


def cost_from_logits(
    network_or_loss: Network | str,
    activation: str | ActivationChoice,
    Z: ArrayLike,
    Y: ArrayLike,
) -> float:
    """The same ``J`` from the last layer's ``Z``, in the log domain where that is exact.

    sigmoid + bce: ``L = Σ_k [log(1 + e^{z_k}) − y_k z_k]``; softmax + ce:
    ``L = Σ_k y_k (logsumexp(z) − z_k)``. Other pairs apply the activation and call ``cost``.
    """
    loss = _loss_name(network_or_loss)
    # The layer's own activation (its α, its expression), never the name's default.
    choice = (
        activation if isinstance(activation, ActivationChoice) else ActivationChoice(activation)
    )
    if choice.name == "leaky_relu" and choice.alpha is None:
        choice = ActivationChoice("leaky_relu", alpha=DEFAULT_LEAKY_ALPHA)
    activation = choice.name
    Z_arr = np.asarray(Z, dtype=np.result_type(np.asarray(Z).dtype, np.float32))
    Y_arr = np.asarray(Y, dtype=Z_arr.dtype)
    _check_targets(Z_arr, Y_arr)
    if loss == "bce" and activation == "sigmoid":
        return float(np.sum(np.logaddexp(0, Z_arr) - Y_arr * Z_arr)) / Y_arr.shape[1]
    if loss == "ce" and activation == "softmax":
        top = np.max(Z_arr, axis=0, keepdims=True)
        lse = top + np.log(np.sum(np.exp(Z_arr - top), axis=0, keepdims=True))
        return float(np.sum(Y_arr * (lse - Z_arr))) / Y_arr.shape[1]
    fn = activation_for(choice).numpy_fn
    if fn is None:
        raise UsageError(f"activation {activation!r} has no numeric form")
    with np.errstate(all="ignore"):
        A = fn(Z_arr.copy())
    return cost(loss, A, Y_arr)


def network_cost(
    network: Network,
    params: Mapping[str, ArrayLike],
    X: ArrayLike,
    Y: ArrayLike,
    loss: str | None = None,
    dtype: DTypeLike = np.float64,
) -> float:
    """``J`` of ``network`` on the batch ``(X, Y)``, from the logits when that is more exact."""
    loss = loss or _loss_name(network)
    check_loss_fits(network, loss)
    Z, _ = forward_pass(network, params, X, dtype)[-1]
    return cost_from_logits(loss, network.layers[-1].activation, Z, Y)


def check_loss_fits(network: Network, loss: str) -> None:
    """bce and ce take logs of ŷ (and of 1 − ŷ): outputs outside (0, 1) have no cost. A
    ``UsageError`` names the activation the loss needs."""
    if loss == "mse":
        return
    last = network.layers[-1].activation
    if last.name in (*PROBABILITY_OUTPUTS, "generic"):  # generic: refused as not numeric
        return
    needed = "sigmoid (or softmax)" if loss == "bce" else "softmax (or sigmoid)"
    raise UsageError(
        f"loss {loss} needs outputs in (0, 1), and the last layer's {last.describe()} is not "
        f"confined to them: give the last layer activation {needed}, or use loss mse"
    )
