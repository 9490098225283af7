"""The cost J with L spelled out: LaTeX as DESIGN.md writes it, values as NumPy computes them."""

from __future__ import annotations

import numpy as np
import pytest

from nndiagram.model import Network
from nndiagram.numeric.forward import cost, forward, init_params
from nndiagram.symbolic import cost_expression, cost_function, cost_latex, derive

J = r"J = \frac{1}{m}\sum_{i=1}^{m} L(\hat{y}^{(i)}, y^{(i)})"


@pytest.mark.parametrize(
    ("loss", "L"),
    [
        ("mse", r"L(\hat{y}, y) = \sum_k (\hat{y}_k - y_k)^2"),
        ("bce", r"L(\hat{y}, y) = -\sum_k [y_k \log \hat{y}_k + (1 - y_k)\log(1 - \hat{y}_k)]"),
        ("ce", r"L(\hat{y}, y) = -\sum_k y_k \log \hat{y}_k"),
    ],
)
def test_cost_latex_is_designs(loss: str, L: str) -> None:
    assert cost_latex(loss) == rf"{J}, \quad {L}"


def test_cost_without_loss_is_j_alone() -> None:
    assert cost_latex(None) == J


@pytest.mark.parametrize(
    ("loss", "activation"), [("mse", "identity"), ("bce", "sigmoid"), ("ce", "softmax")]
)
def test_symbolic_cost_equals_numpy(loss: str, activation: str) -> None:
    network = Network.from_sizes([2, 3, 2], ["tanh", activation], loss=loss)
    params = init_params(network, seed=7)
    rng = np.random.default_rng(7)
    X = rng.normal(size=(2, 5))
    Y = rng.uniform(size=(2, 5)) if loss != "ce" else np.eye(2)[:, [0, 1, 1, 0, 1]]
    symbolic = cost_function(derive(network))(params, X, Y)
    assert symbolic == pytest.approx(cost(loss, forward(network, params, X), Y), rel=1e-12)


def test_cost_expression_shapes_and_terms() -> None:
    network = Network.from_sizes([2, 2], loss="mse")
    J_expr, y_hat, y = cost_expression(network, 3)
    assert y_hat.shape == (2, 3) and y.shape == (2, 3)
    values = {s: 1.0 for s in y_hat} | {s: 0.0 for s in y}
    assert float(J_expr.subs(values)) == pytest.approx(2.0)  # (1/3) * 3 samples * 2 units * 1²
