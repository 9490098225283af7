"""Properties over random shapes: every linear stack collapses, every nonlinear one has a
counterexample that the NumPy evaluator confirms."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nndiagram.model import Network
from nndiagram.numeric.forward import forward
from nndiagram.symbolic import derive

sizes = st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=5)
nonlinear = st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu"])


@settings(max_examples=15, deadline=None)
@given(sizes)
def test_every_linear_stack_collapses(sizes: list[int]) -> None:
    derivation = derive(Network.from_sizes(sizes))
    assert derivation.explicit and derivation.collapsible and derivation.proof_holds


@settings(max_examples=15, deadline=None)
@given(sizes, st.data())
def test_every_nonlinear_stack_has_a_counterexample(sizes: list[int], data: st.DataObject) -> None:
    activations = ["identity"] * (len(sizes) - 1)  # linear except one random layer
    activations[data.draw(st.integers(0, len(activations) - 1))] = data.draw(nonlinear)
    network = Network.from_sizes(sizes, activations)
    example = derive(network).counterexample
    assert example is not None
    # NumPy agrees: the output at the midpoint is not the midpoint of the outputs.
    params = example.arrays()
    x1, x2 = (np.asarray(x.tolist(), dtype=np.float64) for x in example.inputs)
    gap = forward(network, params, x1) + forward(network, params, x2)
    gap -= 2 * forward(network, params, (x1 + x2) / 2)
    assert abs(gap[example.unit, 0]) > 1e-9
