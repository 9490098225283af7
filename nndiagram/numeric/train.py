"""Training: plain gradient descent on the spec's loss, with the project's own backward pass.

A teaching tool, not a framework. Each step takes one batch (all of ``X`` by default), runs the
forward pass keeping ``Z, A`` (``forward.forward_pass``), reads the cost ``J`` off the last
layer's ``Z``, and gets ``dW, db`` from ``backward.backward_from_caches``. Then, with learning
rate ``η`` and momentum ``μ`` (0 by default, which is plain gradient descent)::

    v ← μ v − η ∇J          θ ← θ + v          for every W{l}, b{l}

Parameters start from ``init_params(network, seed)`` (or a given ``P0``); with ``batch`` set,
the samples are shuffled each epoch by a generator seeded from the same seed. The same inputs
and seed give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from ..errors import SpecError, UsageError
from ..model import Network, require_valid
from .backward import backward_from_caches, check_targets, loss_of
from .forward import (
    Params,
    check_input,
    check_params,
    cost_from_logits,
    forward_pass,
    init_params,
    require_seed,
)

Array = np.ndarray
StepCallback = Callable[[int, float], None]


@dataclass(frozen=True)
class Training:
    """What a run produced: the learned parameters and the cost at every step.

    ``history[k]`` is ``(k, J)`` with ``J`` the cost of the batch step ``k`` used, before its
    update (the whole of ``X`` in full-batch training); the last entry, ``(steps, J)``, is the
    cost on all of ``X`` after the last update.
    """

    params: Params
    history: tuple[tuple[int, float], ...]
    loss: str
    batch: int  # samples per step
    samples: int  # columns of X

    @property
    def initial_cost(self) -> float:
        return self.history[0][1]

    @property
    def final_cost(self) -> float:
        return self.history[-1][1]


def check_options(steps: int, lr: float, batch: int | None, momentum: float) -> None:
    """Refuse options that cannot train: each message names the option and what it accepts."""
    if steps < 1:
        raise UsageError(f"--steps must be at least 1 (got {steps})")
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a positive number (got {lr:g})")
    if batch is not None and batch < 1:
        raise UsageError(f"--batch must be at least 1 (got {batch})")
    if not (math.isfinite(momentum) and 0 <= momentum < 1):
        raise UsageError(f"--momentum must be in [0, 1) (got {momentum:g})")


def _fail(message: str, source: str | None) -> SpecError | UsageError:
    return SpecError(message, path=source) if source else UsageError(message)


def training_targets(
    network: Network, Y: ArrayLike, m: int, loss: str, *, source: str | None = None
) -> Array:
    """``Y`` as a float (units, m) array that fits ``loss``; each refusal says what is accepted.

    ``mse`` takes any finite numbers; ``bce`` numbers in [0, 1]; ``ce`` one-hot columns of
    shape (units, m), or class indices of shape (m,) in 0 … units−1 (turned into one-hot).
    """
    array = np.asarray(Y)
    units = network.n_outputs
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise _fail(f"Y has dtype {array.dtype}; it must hold real numbers", source)
    if loss == "ce" and units > 1 and array.shape in ((m,), (1, m)):
        return _one_hot(array.reshape(m), units, source)
    checked = check_targets(network, array, m, np.float64, source)
    finite = np.isfinite(checked)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise _fail(f"Y has a non-finite value at index {index} (nan or inf)", source)
    if loss == "bce":
        outside = (checked < 0) | (checked > 1)
        if outside.any():
            index = tuple(int(i) for i in np.argwhere(outside)[0])
            raise _fail(
                f"Y{list(index)} = {checked[index]:g} is outside [0, 1]: bce targets are "
                "probabilities, 0 or 1 for a label",
                source,
            )
    if loss == "ce":
        binary = (checked == 0) | (checked == 1)
        sums = checked.sum(axis=0)
        bad = np.flatnonzero(~binary.all(axis=0) | (sums != 1))
        if bad.size:
            raise _fail(
                f"Y column {int(bad[0])} is not one-hot: ce targets are one-hot columns of shape "
                f"({units}, {m}) or class indices of shape ({m},) in 0..{units - 1}",
                source,
            )
    return checked


def _one_hot(labels: Array, units: int, source: str | None) -> Array:
    integral = (
        np.isfinite(labels) & (labels == np.round(labels)) if labels.dtype.kind == "f" else None
    )
    if integral is not None and not integral.all():
        at = int(np.flatnonzero(~integral)[0])
        raise _fail(
            f"Y[{at}] = {labels[at]:g} is not a class index: ce class indices are whole numbers "
            f"in 0..{units - 1} (or give one-hot columns of shape ({units}, m))",
            source,
        )
    outside = (labels < 0) | (labels >= units)
    if outside.any():
        at = int(np.flatnonzero(outside)[0])
        raise _fail(
            f"Y[{at}] = {labels[at]:g} is not a class index: ce class indices are in "
            f"0..{units - 1} for {units} output units",
            source,
        )
    one_hot = np.zeros((units, labels.shape[0]))
    one_hot[labels.astype(np.int64), np.arange(labels.shape[0])] = 1.0
    return one_hot


def train(
    network: Network,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    steps: int = 1000,
    lr: float = 0.5,
    seed: int = 0,
    init: Mapping[str, ArrayLike] | None = None,
    batch: int | None = None,
    momentum: float = 0.0,
    loss: str | None = None,
    on_step: StepCallback | None = None,
) -> Training:
    """Gradient descent on ``J`` for ``steps`` steps; returns the learned parameters and costs.

    ``X`` is (n_inputs, m); ``Y`` fits the loss (see ``training_targets``). ``on_step(k, J)``
    is called after each step's cost is known (a progress bar). A run whose cost becomes inf
    or NaN stops with a ``UsageError`` naming the step.

    >>> net = Network.from_sizes([1, 1], "identity", loss="mse")
    >>> run = train(net, [[0.0, 1.0, 2.0]], [[1.0, 3.0, 5.0]], steps=500, lr=0.1)
    >>> np.round(run.params["W0"], 3), np.round(run.params["b0"], 3)
    (array([[2.]]), array([1.]))
    """
    check_options(steps, lr, batch, momentum)
    require_seed(seed)
    chosen = loss_of(network, loss)
    inputs = check_input(network, X)
    if inputs.shape[1] == 0:
        raise UsageError("X has no samples: it needs (n_inputs, m) with m ≥ 1")
    targets = training_targets(network, Y, inputs.shape[1], chosen)
    start = init_params(network, seed) if init is None else check_params(network, init)
    params = {name: np.array(array, dtype=np.float64) for name, array in start.items()}
    # A diverging run overflows on its way to inf: that is detected and reported, not warned.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _descend(
            network, params, inputs, targets, chosen, steps, lr, seed, batch, momentum, on_step
        )


def _descend(
    network: Network,
    params: Params,
    X: Array,
    Y: Array,
    loss: str,
    steps: int,
    lr: float,
    seed: int,
    batch: int | None,
    momentum: float,
    on_step: StepCallback | None,
) -> Training:
    m = X.shape[1]
    size = m if batch is None else min(batch, m)
    batches = _batches(m, size, seed)
    velocity = {name: np.zeros_like(array) for name, array in params.items()} if momentum else {}
    last = network.layers[-1].activation.name
    history: list[tuple[int, float]] = []
    for step in range(steps):
        columns = next(batches)
        X_b, Y_b = (X, Y) if columns is None else (X[:, columns], Y[:, columns])
        caches = forward_pass(network, params, X_b)
        J = cost_from_logits(loss, last, caches[-1][0], Y_b)
        _check_finite(J, step, lr)
        history.append((step, J))
        if on_step is not None:
            on_step(step, J)
        grads = backward_from_caches(network, params, X_b, Y_b, loss, caches)
        for name, array in params.items():
            if momentum:
                v = velocity[name]
                v *= momentum
                v -= lr * grads[f"d{name}"]
                array += v
            else:
                array -= lr * grads[f"d{name}"]
    J = cost_from_logits(loss, last, forward_pass(network, params, X)[-1][0], Y)
    _check_finite(J, steps, lr)
    if not all(np.isfinite(array).all() for array in params.values()):
        _check_finite(math.inf, steps, lr)
    history.append((steps, J))
    if on_step is not None:
        on_step(steps, J)
    return Training(params, tuple(history), loss, size, m)


def _check_finite(J: float, step: int, lr: float) -> None:
    if not math.isfinite(J):
        raise UsageError(
            f"training diverged at step {step}: the cost became {J}; use a smaller "
            f"learning rate than --lr {lr:g} (try {lr / 10:g})"
        )


def _batches(m: int, size: int, seed: int) -> Iterator[Array | None]:
    """Column indices of each step's batch (``None``: all of them), epoch after epoch."""
    if size >= m:
        while True:
            yield None
    rng = np.random.default_rng([seed, 1])  # its own stream: init_params(seed) is unchanged
    while True:
        order = rng.permutation(m)
        for start in range(0, m - size + 1, size):
            yield np.sort(order[start : start + size])


# --- the `train` command ---------------------------------------------------------------------


def history_csv(training: Training) -> str:
    """``step,cost`` rows; each cost printed exactly (the shortest text that reads back equal)."""
    return "step,cost\n" + "".join(f"{step},{cost!r}\n" for step, cost in training.history)


def _check_writable(*paths: str | None) -> None:
    # Refused before training, so a bad -o never costs a run nor leaves one output of two.
    given = [p for p in paths if p is not None and p != "-"]
    for path in given:
        target = Path(path)
        if target.is_dir():
            raise UsageError(f"{path}:1:1: error: cannot write: is a directory")
        for folder in target.parents:
            if folder.exists():
                if not folder.is_dir():
                    raise UsageError(f"{path}:1:1: error: cannot write: {folder} is not a folder")
                break
    if len(set(given)) < len(given):
        raise UsageError(f"{given[0]}:1:1: error: -o and --history name the same file")


def train_files(
    spec: str,
    data_path: str,
    targets_path: str,
    output_path: str,
    *,
    steps: int = 1000,
    lr: float = 0.5,
    seed: int = 0,
    init_path: str | None = None,
    batch: int | None = None,
    momentum: float = 0.0,
    loss: str | None = None,
    history_path: str | None = None,
    on_step: StepCallback | None = None,
) -> Training:
    """The ``train`` command: read the spec, X.npy, Y.npy (and P0.npz); write P.npz (and H.csv).

    Everything is read and checked before the first step, and nothing is written unless the
    whole run succeeds.
    """
    from ..output import write_atomic
    from ..spec import load_spec
    from .backward import npz_bytes
    from .forward import load_input, load_params

    check_options(steps, lr, batch, momentum)
    require_seed(seed)
    _check_writable(output_path, history_path)
    network = load_spec(spec)
    require_valid(network, "cannot train", spec)
    chosen = loss_of(network, loss)
    X = load_input(data_path, network)
    m = X.shape[1]
    Y = training_targets(
        network, _load_targets(targets_path, network.n_outputs, m), m, chosen, source=targets_path
    )
    init = None if init_path is None else load_params(init_path, network)
    try:
        training = train(
            network, X, Y, steps=steps, lr=lr, seed=seed, init=init, batch=batch,
            momentum=momentum, loss=chosen, on_step=on_step,
        )  # fmt: skip
    except UsageError as error:
        raise UsageError(f"{spec}:1:1: error: {error}") from None
    write_atomic(output_path, npz_bytes(training.params))
    if history_path is not None:
        write_atomic(history_path, history_csv(training))
    return training


def _load_targets(path: str, units: int, m: int) -> Array:
    from .forward import _load

    loaded = _load(path)  # memory-mapped: its data is read only once its shape fits
    if not isinstance(loaded, np.ndarray):
        loaded.close()
        raise SpecError(f"expected a .npy array Y of shape ({units}, {m}), found .npz", path=path)
    if loaded.shape not in ((units, m), (m,), (1, m)):
        raise SpecError(
            f"Y has shape {loaded.shape} but the output has shape {(units, m)}", path=path
        )
    return np.array(loaded)
