"""The cost ``J = \\frac{1}{m}\\sum_{i=1}^{m} L(\\hat{y}^{(i)}, y^{(i)})`` with ``L`` spelled out.

The losses are summed over the output units k, exactly as DESIGN.md's Notation section writes
them; ``cost_expression`` builds the same ``J`` in explicit SymPy symbols for m samples, so it can
be evaluated and checked against the NumPy cost.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sympy

from ..errors import UsageError
from ..model import LOSSES, Network

J_LATEX = r"J = \frac{1}{m}\sum_{i=1}^{m} L(\hat{y}^{(i)}, y^{(i)})"
J_TEXT = "J = (1/m) Σᵢ₌₁ᵐ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾)"
LOSS_LATEX = {
    "mse": r"L(\hat{y}, y) = \sum_k (\hat{y}_k - y_k)^2",
    "bce": r"L(\hat{y}, y) = -\sum_k [y_k \log \hat{y}_k + (1 - y_k)\log(1 - \hat{y}_k)]",
    "ce": r"L(\hat{y}, y) = -\sum_k y_k \log \hat{y}_k",
}
LOSS_TEXT = {
    "mse": "L(ŷ, y) = Σₖ (ŷₖ − yₖ)²",
    "bce": "L(ŷ, y) = −Σₖ [yₖ log ŷₖ + (1 − yₖ) log(1 − ŷₖ)]",
    "ce": "L(ŷ, y) = −Σₖ yₖ log ŷₖ",
}


def _check(loss: str) -> None:
    if loss not in LOSSES:
        raise UsageError(f"unknown loss {loss!r} (must be one of: {', '.join(LOSSES)})")


def cost_latex(loss: str | None) -> str:
    """``J = …`` and, for a known loss, ``L(ŷ, y) = …`` as one LaTeX line."""
    if loss is None:
        return J_LATEX
    _check(loss)
    return rf"{J_LATEX}, \quad {LOSS_LATEX[loss]}"


def cost_text(loss: str | None) -> str:
    if loss is None:
        return J_TEXT
    _check(loss)
    return f"{J_TEXT},  {LOSS_TEXT[loss]}"


def loss_expression(loss: str, y_hat: list[Any], y: list[Any]) -> Any:
    """``L(ŷ, y)`` for one sample, summed over the output units."""
    _check(loss)
    if loss == "mse":
        return sympy.Add(*((p - t) ** 2 for p, t in zip(y_hat, y, strict=True)))
    if loss == "bce":
        return -sympy.Add(
            *(t * sympy.log(p) + (1 - t) * sympy.log(1 - p) for p, t in zip(y_hat, y, strict=True))
        )
    return -sympy.Add(*(t * sympy.log(p) for p, t in zip(y_hat, y, strict=True)))


class Cost(NamedTuple):
    """``J`` in the symbols ``ŷ_k^{(i)}`` (``y_hat``) and ``y_k^{(i)}`` (``y``), both units × m."""

    J: Any
    y_hat: sympy.ImmutableMatrix
    y: sympy.ImmutableMatrix


def cost_expression(network: Network, m: int, loss: str | None = None) -> Cost:
    """The cost of ``network`` over ``m`` samples, for ``loss`` (default: the spec's)."""
    loss = loss or network.loss
    if loss is None:
        raise UsageError("the network has no loss: give one (mse, bce or ce)")
    units = network.n_outputs
    n = network.naming

    def symbols(base: str) -> sympy.ImmutableMatrix:
        return sympy.ImmutableMatrix(
            units,
            m,
            lambda k, i: sympy.Symbol(f"{base}_{n.index(k)}^({i + 1})", real=True),
        )

    y_hat, y = symbols("yhat"), symbols("y")
    samples = [loss_expression(loss, list(y_hat[:, i]), list(y[:, i])) for i in range(m)]
    return Cost(sympy.Add(*samples) / m, y_hat, y)
