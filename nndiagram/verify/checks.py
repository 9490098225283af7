"""Verification: every symbolic result checked against the NumPy evaluator, as a report.

``check(network)`` runs each function of ``CHECKS`` and collects named ``Check`` rows: a status
(pass, fail or skip), the measured error and the relative tolerance it was held to. A network
with the tutorial's ``generic`` g is checked once per concrete activation put in its place, so
the general statement is checked in every instance. ``check_files`` is the ``check`` command.

Errors are relative. Unless a row says otherwise the measure is ``max |Δ| / max |reference|``
over the whole batch (normwise: one tiny entry cannot dominate); activations are compared entry
by entry, ``|Δ| / max(|reference|, floor)``, so their tails are held to relative accuracy too.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from ..activations import (
    CONCRETE,
    DEFAULT_LEAKY_ALPHA,
    Activation,
    activation_for,
    sympy_symbol_z,
)
from ..errors import NNDiagramError, UsageError
from ..model import ActivationChoice, Network
from ..numeric.forward import (
    check_loss_fits,
    collapse_params,
    cost,
    forward,
    network_cost,
    require_seed,
)
from .custom_activation import custom_rows
from .framework import Reference, check_framework, framework_inputs
from .report import Check, Report, compare, relative_error, status_of
from .samples import random_batch, random_targets

CheckFunction = Callable[[Network, np.random.Generator], list["Check"]]

FORWARD_TOL = 1e-9
COLLAPSE_TOL = 1e-9
FORMULA_TOL = 1e-10
FD_TOL = 1e-6
COST_TOL = 1e-9
COUNTEREXAMPLE_TOL = 1e-6  # a difference of nearby outputs: some cancellation
REFERENCE_DIGITS = 400
COST_BATCH = 4  # J is built and evaluated by SymPy substitution, entry by entry
# symengine compiles the expanded W and B: 32-32-16 (16,384 paths × 2 layers) in a second;
# 4-4-4-4-4-4-4 (16,384 × 6) takes ten.
MAX_COLLAPSE_MONOMIALS = 2**15
MAX_PARAMETERS = 10_000_000  # 80 MB of float64 weights; a legal 10^6 x 10^6 layer has 10^12


# --- helpers ---------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _derive(network: Network) -> Any:
    from ..symbolic import derive

    return derive(network)


def _needs_numeric(network: Network) -> str | None:
    """Why the network cannot be evaluated numerically, or None."""
    if network.graph is not None and not network.graph.is_valid:
        return "not a valid network (see connectivity)"
    parameters = sum(layer.units * (layer.fan_in + 1) for layer in network.layers)
    if parameters > MAX_PARAMETERS:
        return f"too large to evaluate: {parameters:,} parameters (at most {MAX_PARAMETERS:,})"
    return None


# --- the checks ------------------------------------------------------------------------------


def check_forward(network: Network, rng: np.random.Generator) -> list[Check]:
    """The derived symbolic output, lambdified, vs the NumPy evaluator on a random batch."""
    from ..symbolic import output_function

    params, X = random_batch(network, rng)
    derivation = _derive(network)
    if not derivation.explicit:
        return [Check("forward", "skip", detail="skip (block form): layers too large for entries")]
    symbolic = output_function(derivation)(params, X)
    detail = f"symbolic a^[L] vs NumPy on {X.shape[1]} random samples"
    return [compare("forward", symbolic, forward(network, params, X), FORWARD_TOL, detail)]


def check_collapse(network: Network, rng: np.random.Generator) -> list[Check]:
    """Affine activations: ``W x + B`` vs the layer pass, and the proof. Otherwise the
    counterexample."""
    params, X = random_batch(network, rng)
    derivation = _derive(network)
    if not derivation.collapsible:
        return [_recheck_counterexample(network, derivation)]
    W, B = collapse_params(network, params)
    layered = forward(network, params, X)
    folded = derivation.affine_note()
    rows = [
        compare(
            "collapse",
            W @ X + B[:, None],
            layered,
            COLLAPSE_TOL,
            f"W x + B vs layer by layer on {X.shape[1]} samples"
            + (f"; {folded}" if folded else ""),
        )
    ]
    proof = bool(derivation.proof_holds)
    form = "entries" if derivation.explicit else "block form"
    rows.append(
        Check(
            "collapse proof",
            status_of(proof),
            detail=f"SymPy {'confirms' if proof else 'does NOT confirm'} a^[L] = W x + B ({form})",
        )
    )
    monomials = math.prod(network.sizes) * len(network.layers)  # what symengine compiles
    if derivation.explicit and monomials > MAX_COLLAPSE_MONOMIALS:
        reason = f"{monomials:,} monomial factors in W and B: too many to compile"
        rows.append(Check("collapse W, B", "skip", detail=reason))
    elif derivation.explicit:
        from ..symbolic import collapse_function

        W_sym, B_sym = collapse_function(derivation)(params)
        rows.append(
            compare(
                "collapse W, B",
                np.concatenate([np.ravel(W_sym), np.ravel(B_sym)]),
                np.concatenate([W.ravel(), B.ravel()]),
                COLLAPSE_TOL,
                "symbolic W = W[L-1]⋯W[0] and B vs the numeric product chain",
            )
        )
    return rows


def _recheck_counterexample(network: Network, derivation: Any) -> Check:
    """The exact counterexample's ``f(x¹) + f(x²) − 2 f((x¹+x²)/2)``, recomputed by NumPy."""
    example = derivation.counterexample
    if example is None:
        if derivation.constant is not None:  # constant, hence affine: no counterexample exists
            return Check("collapse", "pass", detail=f"constant output: {derivation.constant}")
        if derivation.undecided is not None:  # honest limit of the exact search, not a failure
            return Check("collapse", "skip", detail=f"nonlinear; {derivation.undecided}")
        return Check("collapse", "fail", detail="nonlinear, but no counterexample was derived")
    import sympy

    params = example.arrays()
    x1, x2 = example.input_arrays()
    y1, y2, y_mid = (forward(network, params, x) for x in (x1, x2, (x1 + x2) / 2))
    numeric = float((y1 + y2 - 2 * y_mid)[example.unit, 0])
    exact = float(sympy.N(example.difference, 30))
    error = abs(numeric - exact) / abs(exact)
    return Check(
        "collapse",
        status_of(error <= COUNTEREXAMPLE_TOL),
        error,
        COUNTEREXAMPLE_TOL,
        f"not affine: f(x¹) + f(x²) − 2 f((x¹+x²)/2) = {numeric:.6g} in NumPy, exact "
        f"{exact:.6g} ({example.method})",
    )


def check_cost(network: Network, rng: np.random.Generator) -> list[Check]:
    """The symbolic ``J`` (DESIGN's losses, summed over units) vs the NumPy cost on a batch.

    ``ŷ`` comes from the lambdified symbolic output (block form: from NumPy, and then the row
    checks the formula of ``J`` alone); ``J`` is evaluated by substituting numbers into the
    SymPy expression, a path that shares no code with ``numeric.cost``.
    """
    if network.loss is None:
        return [Check("cost", "skip", detail="the spec has no loss")]
    try:
        check_loss_fits(network, network.loss)
    except UsageError as refused:
        return [Check("cost", "fail", detail=str(refused))]
    import sympy

    from ..symbolic import cost_expression, output_function

    params, X = random_batch(network, rng)
    X = X[:, :COST_BATCH]
    Y_hat = forward(network, params, X)
    Y = random_targets(network.loss, Y_hat.shape, rng)
    derivation = _derive(network)
    explicit = derivation.explicit
    Y_sym = output_function(derivation)(params, X) if explicit else Y_hat
    J = cost_expression(network, X.shape[1])
    values = {s: sympy.Float(v) for s, v in zip(J.y_hat, Y_sym.ravel(), strict=True)}
    values |= {s: sympy.Float(v) for s, v in zip(J.y, Y.ravel(), strict=True)}
    symbolic = float(J.J.xreplace(values))
    # NumPy computes J twice: from ŷ (clipped logs) and from the logits (log domain).
    error = max(
        relative_error(cost(network.loss, Y_hat, Y), symbolic),
        relative_error(network_cost(network, params, X, Y), symbolic),
    )
    source = "symbolic ŷ" if explicit else "NumPy ŷ (block form)"
    detail = f"symbolic J ({network.loss}) at {source} vs NumPy's J from ŷ and from the logits"
    return [
        Check(
            "cost", status_of(error <= COST_TOL), error, COST_TOL, f"{detail}, {X.shape[1]} samples"
        )
    ]


def check_connectivity(network: Network, rng: np.random.Generator) -> list[Check]:
    """Explicit graphs: the network is fully connected, layer to layer; else every problem."""
    if network.graph is None:
        return [Check("connectivity", "skip", detail="layers are fully connected by definition")]
    problems = network.graph.problems()
    if not problems:
        return [Check("connectivity", "pass", detail="every node feeds every node of the next")]
    shown = "; ".join(problems[:8]) + (f"; … {len(problems) - 8} more" if len(problems) > 8 else "")
    return [Check("connectivity", "fail", detail=f"{len(problems)} problem(s): {shown}")]


# The activation grid: extremes where naive formulas overflow, and off-round points in between
# (a kink such as ReLU's sits at a round number; a finite difference across it means nothing).
_POSITIVE = [1e-3, 0.113, 0.731, 2.1, 7.3, 40.0, 800.0, 1e4]
GRID = np.array([*(-v for v in reversed(_POSITIVE)), 0.0, *_POSITIVE])
SMOOTH_GRID = GRID[GRID != 0.0]


def check_activations(network: Network, rng: np.random.Generator) -> list[Check]:
    """Each distinct activation: SymPy formula vs NumPy, and the derivative vs SymPy and FD."""
    rows: list[Check] = []
    seen: set[ActivationChoice] = set()
    for layer in network.layers:
        choice = layer.activation
        if choice in seen or choice.name == "generic":
            continue
        seen.add(choice)
        activation = activation_for(choice)
        if not activation.elementwise:
            rows += _check_softmax(activation)
        elif choice.name == "custom":  # the user's formula as written: see custom_activation
            rows += custom_rows(activation, choice.describe())
        else:
            rows += _check_elementwise(activation, choice.describe())
    return rows


def _entrywise_error(value: Any, reference: Any, floor: float) -> float:
    a = np.asarray(value, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape or not np.isfinite(a).all():
        return math.inf
    with np.errstate(over="ignore"):  # a huge error is measured as inf, not warned about
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


@lru_cache(maxsize=64)
def _sympy_values(expr_fn: Callable[[Any], Any], points: tuple[float, ...]) -> tuple[Any, Any]:
    """g and g' at ``points``, evaluated by SymPy (the reference).

    400 digits: 1 − tanh²(800) cancels to nothing at 30, and any exact value this precision
    cannot resolve is far below the smallest float64.
    """
    import mpmath
    import sympy

    z = sympy_symbol_z()
    expr = expr_fn(z)
    prime = sympy.diff(expr, z)

    def at(e: Any, value: float) -> float:
        # mpmath at 400 digits first: its absolute error (1e-400) is far below the smallest
        # float64, and it does not chase the relative digits of erfc(7071) ~ e^{-5e7} (SymPy's
        # evalf would ask for millions of digits). evalf where mpmath lacks a function.
        try:
            with mpmath.workdps(REFERENCE_DIGITS):
                return float(sympy.lambdify(z, e, "mpmath")(mpmath.mpf(value)))
        except (TypeError, NameError, AttributeError, ValueError, ZeroDivisionError):
            point = {z: sympy.Float(value, REFERENCE_DIGITS)}
            return float(e.evalf(REFERENCE_DIGITS, subs=point, maxn=4 * REFERENCE_DIGITS))

    values = np.array([at(expr, v) for v in points])
    smooth = [v for v in points if v != 0.0]
    return values, np.array([at(prime, v) for v in smooth])


def _quiet_eval(fn: Callable[[Any], Any], z: Any) -> Any:
    # A custom formula may overflow at ±1e4: the result, not a warning, decides the check.
    with np.errstate(all="ignore"):
        return np.asarray(fn(z.copy()), dtype=np.float64)


def _check_elementwise(activation: Activation, title: str) -> list[Check]:
    assert activation.numpy_fn is not None and activation.numpy_derivative is not None
    values, primes = _sympy_values(activation.sympy_expr, tuple(GRID.tolist()))
    tiny = np.finfo(np.float64).tiny
    numpy_values = _quiet_eval(activation.numpy_fn, GRID)
    error = _entrywise_error(numpy_values, values, tiny)
    if activation.numpy_inplace is not None:
        error = max(
            error, _entrywise_error(_quiet_eval(activation.numpy_inplace, GRID), values, tiny)
        )
    rows = [
        Check(
            f"activation {activation.name}",
            status_of(error <= FORMULA_TOL),
            error,
            FORMULA_TOL,
            f"{title}: NumPy vs SymPy at {GRID.size} points in [-1e4, 1e4], entrywise",
        )
    ]
    derivative = _quiet_eval(activation.numpy_derivative, SMOOTH_GRID)
    error = _entrywise_error(derivative, primes, tiny)
    rows.append(
        Check(
            f"derivative {activation.name}",
            status_of(error <= FORMULA_TOL),
            error,
            FORMULA_TOL,
            f"g' in NumPy vs SymPy's d/dz at {SMOOTH_GRID.size} points, entrywise",
        )
    )
    # Central differences resolve g' only to about max(|g'|, 1): measured relative to that.
    h = 1e-6 * np.maximum(np.abs(SMOOTH_GRID), 1.0)
    fd = (
        _quiet_eval(activation.numpy_fn, SMOOTH_GRID + h)
        - _quiet_eval(activation.numpy_fn, SMOOTH_GRID - h)
    ) / (2 * h)
    error = _entrywise_error(fd, derivative, 1.0)
    rows.append(
        Check(
            f"derivative {activation.name} (FD)",
            status_of(error <= FD_TOL),
            error,
            FD_TOL,
            "g' vs central differences of g, |Δ| / max(|g'|, 1)",
        )
    )
    return rows


def _check_softmax(activation: Activation) -> list[Check]:
    import sympy

    assert activation.numpy_fn is not None
    zs = sympy.symbols("z0:3", real=True)
    total = sum(sympy.exp(z) for z in zs)
    formula = [sympy.exp(z) / total for z in zs]
    columns = np.array([[1e4, -1e4, 0.0], [0.0, 1e4, -0.731], [-1e4, 40.0, 2.1]]).T

    def at(e: Any, column: Any) -> float:
        subs = {z: sympy.Float(float(v), REFERENCE_DIGITS) for z, v in zip(zs, column, strict=True)}
        return float(e.evalf(REFERENCE_DIGITS, subs=subs))

    reference = np.array([[at(f, col) for col in columns.T] for f in formula])
    value = _quiet_eval(activation.numpy_fn, columns)
    error = _entrywise_error(value, reference, np.finfo(np.float64).tiny)
    rows = [
        Check(
            "activation softmax",
            status_of(error <= FORMULA_TOL),
            error,
            FORMULA_TOL,
            "NumPy vs SymPy e^{z_j} / Σ e^{z_k}, columns with ±1e4, entrywise",
        )
    ]
    # The Jacobian s_j (δ_jk − s_k) that backpropagation uses, vs central differences.
    point = np.array([[0.3], [-1.2], [2.0]])
    s = activation.numpy_fn(point)[:, 0]
    jacobian = np.diag(s) - np.outer(s, s)
    h = 1e-6
    fd = np.column_stack(
        [
            (
                activation.numpy_fn(point + h * e[:, None])
                - activation.numpy_fn(point - h * e[:, None])
            )[:, 0]
            / (2 * h)
            for e in np.eye(3)
        ]
    )
    error = _entrywise_error(fd, jacobian, 1.0)
    rows.append(
        Check(
            "derivative softmax (FD)",
            status_of(error <= FD_TOL),
            error,
            FD_TOL,
            "Jacobian s_j (δ_jk − s_k) vs central differences",
        )
    )
    return rows


def check_gradients(network: Network, rng: np.random.Generator) -> list[Check]:
    """Backpropagation vs finite differences and vs SymPy's entry-level gradients."""
    from .gradients import check_gradients as gradient_rows

    return gradient_rows(network, rng)


# The registry: each takes a concrete network and a generator and returns its rows. Append to
# it (e.g. gradient checks) and `check` runs the new rows for every spec and every instance.
CHECKS: list[CheckFunction] = [
    check_forward,
    check_collapse,
    check_activations,
    check_cost,
    check_gradients,
]


def instances(network: Network) -> list[tuple[str | None, Network]]:
    """The network itself, or one copy per concrete activation in place of each generic g."""
    if not network.has_generic:
        return [(None, network)]
    out: list[tuple[str | None, Network]] = []
    for name in CONCRETE:
        concrete = ActivationChoice(
            name, alpha=DEFAULT_LEAKY_ALPHA if name == "leaky_relu" else None
        )
        layers = tuple(
            dataclasses.replace(layer, activation=concrete)
            if layer.activation.name == "generic"
            else layer
            for layer in network.layers
        )
        out.append((f"g = {name}", dataclasses.replace(network, layers=layers)))
    return out


def check(
    network: Network,
    seed: int = 0,
    *,
    params: Mapping[str, Any] | None = None,
    against: Reference | None = None,
    inputs: Any = None,
) -> Report:
    """Run every check on ``network``; the same seed gives the same report.

    With ``against`` (a model in its framework) and ``params`` (the spec's weights), a
    ``framework`` row compares the framework's output with the evaluator's on ``inputs``
    (columns; by default seeded random samples). ``nndiagram.check`` also takes a model itself.

    >>> from nndiagram import Network
    >>> report = check(Network.from_sizes([2, 2, 1], "relu"))
    >>> report.passed
    True
    >>> print(report.to_text())  # doctest: +SKIP
    """
    require_seed(seed)
    rows = check_connectivity(network, np.random.default_rng(seed))
    reason = _needs_numeric(network)
    if reason is not None:
        rows += [Check(fn.__name__.removeprefix("check_"), "skip", detail=reason) for fn in CHECKS]
        return Report(network.source, tuple(rows), seed)
    for instance, concrete in instances(network):
        for fn in CHECKS:
            rng = np.random.default_rng(seed)
            try:
                found = fn(concrete, rng)
            except NNDiagramError as error:  # a stage refused this network: that check fails
                found = [Check(fn.__name__.removeprefix("check_"), "fail", detail=str(error))]
            rows += [dataclasses.replace(row, instance=instance) for row in found]
    if against is not None:
        if params is None:
            raise UsageError("check against a model needs the spec's params")
        rows.append(check_framework(network, params, against, inputs, seed))
    return Report(network.source, tuple(rows), seed)


def check_files(
    paths: Iterable[str],
    fmt: str = "text",
    seed: int = 0,
    *,
    params: str | None = None,
    against: Reference | None = None,
    inputs: str | None = None,
) -> int:
    """The ``check`` command: 0 when every check of every spec passes, 1 when any fails.

    A spec that cannot be read raises ``SpecError`` (exit 2) before anything is printed.
    ``against`` (with ``params``, a ``P.npz``, and optionally ``inputs``, an ``X.npy``) adds
    the ``framework`` row to the one spec's report.
    """
    from ..numeric.forward import load_input, load_params
    from ..spec.load import load_spec

    networks = [load_spec(path) for path in paths]
    if against is None:
        reports = [check(network, seed) for network in networks]
    else:
        if len(networks) != 1 or params is None:
            raise UsageError("nndiagram check: --against takes one SPEC and --params P.npz")
        network = networks[0]
        weights = load_params(params, network)
        X = load_input(inputs, network) if inputs is not None else None
        framework_inputs(network, against, X, seed)  # a mismatch is bad input: before the checks
        reports = [check(network, seed, params=weights, against=against, inputs=X)]
    if fmt == "json":
        document = {
            "passed": all(r.passed for r in reports),
            "reports": [r.to_json() for r in reports],
        }
        sys.stdout.write(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    else:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        sys.stdout.write("\n".join(report.to_text(color) for report in reports))
    return 0 if all(report.passed for report in reports) else 1
