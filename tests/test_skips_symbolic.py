"""Skip connections in the derivation (issue 17): layer equations with the skip terms, the
collapse of linear networks with skips to W x + B (identity and stacked blocks written out,
proved in the entries and in block algebra), counterexamples for nonlinear ones, and the
backward equations with the gradient arriving along both paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import RunCli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_skips_numeric import Plan, skip_networks

from nndiagram.model import ActivationChoice, Layer, Network
from nndiagram.numeric.forward import collapse_params, forward, init_params
from nndiagram.spec.load import load_spec_text
from nndiagram.symbolic import derive, skips
from nndiagram.symbolic.functions import collapse_function, output_function
from nndiagram.symbolic.gradient_entries import explicit_gradients, prove_matrix_form
from nndiagram.symbolic.gradients import backprop_equations

LINEAR = """
inputs: 2
layers:
  - units: 2
    name: h
  - units: 2
    add: input
  - units: 1
    concat: [h, input]
"""

RESIDUAL = """
inputs: 2
loss: mse
layers:
  - units: 2
    activation: tanh
    name: h
  - units: 2
    activation: relu
  - units: 2
    activation: relu
    add: h
  - units: 1
    concat: [input]
"""


def test_layer_equations_carry_the_skip_terms_at_block_and_entry_level() -> None:
    latex = derive(load_spec_text(LINEAR)).to_latex()
    assert r"z^{[1]} = w^{[1]} z^{[0]} + b^{[1]} + x \]" in latex
    assert (
        r"z^{[1]}_0 = w^{[1]}_{00} z^{[0]}_0 + w^{[1]}_{01} z^{[0]}_1 + b^{[1]}_0 + x_0 \]" in latex
    )
    # concat: the stacked input, then one product per column block of w^{[2]}
    assert r"z^{[2]} = w^{[2]} \left[\begin{matrix}z^{[1]}\\z^{[0]}\\x\end{matrix}\right]" in latex
    assert r"w^{[2]}_{(1)} z^{[1]} + w^{[2]}_{(0)} z^{[0]} + w^{[2]}_{(x)} x + b^{[2]}" in latex
    assert r"w^{[2]}_{03} z^{[0]}_1 + w^{[2]}_{04} x_0 + w^{[2]}_{05} x_1" in latex


def test_linear_skips_collapse_with_identity_and_stacked_blocks_proved_twice() -> None:
    derivation = derive(load_spec_text(LINEAR))
    assert derivation.collapsible and derivation.explicit and derivation.proof_holds
    latex = derivation.to_latex()
    assert r"W^{[1]} = w^{[1]} W^{[0]} + I" in latex
    stacked = r"W^{[2]} = w^{[2]} \begin{bmatrix} W^{[1]} \\ W^{[0]} \\ I \end{bmatrix}"
    assert stacked in latex
    assert (
        r"B^{[2]} = w^{[2]} \begin{bmatrix} B^{[1]} \\ B^{[0]} \\ 0 \end{bmatrix} + b^{[2]}"
        in latex
    )
    assert "proved in the entries with symengine and in block algebra" in latex
    assert r"W = \begin{bmatrix}" in latex  # small: entries written out


def test_the_entry_proof_rejects_a_collapse_that_forgets_the_skip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    network = load_spec_text(LINEAR)
    assert skips.prove_entries(network)
    chain = Network(
        inputs=2,
        layers=tuple(
            Layer(lay.index, lay.units, lay.fan_in, lay.activation, None, None, lay.concat)
            for lay in network.layers
        ),
    )
    real = skips._maps_symengine
    monkeypatch.setattr(
        skips, "_maps_symengine", lambda net, ws, bs, forms=None: real(chain, ws, bs, forms)
    )
    assert not skips.prove_entries(network)


def test_collapsed_w_and_b_equal_the_numbers() -> None:
    network = load_spec_text(LINEAR)
    derivation = derive(network)
    params = init_params(network, 7)
    W_sym, B_sym = collapse_function(derivation)(params)
    W, B = collapse_params(network, params)
    np.testing.assert_allclose(W_sym, W, rtol=1e-12)
    np.testing.assert_allclose(B_sym, B, rtol=1e-12)
    X = np.random.default_rng(0).normal(size=(2, 5))
    np.testing.assert_allclose(output_function(derivation)(params, X), forward(network, params, X))


def test_block_level_proof_of_a_deep_wide_residual_net() -> None:
    text = "inputs: 40\nlayers:\n" + "".join(
        "  - units: 40\n" + (f"    add: {i - 2 if i > 1 else 'input'}\n" if i % 2 else "")
        for i in range(8)
    )
    derivation = derive(load_spec_text(text))
    assert not derivation.explicit and derivation.proof_holds
    latex = derivation.to_latex()
    assert "Layers 2 to" not in latex  # every layer is shown: each may have its skip
    assert r"z^{[7]} = w^{[7]} z^{[6]} + b^{[7]} + z^{[5]} \]" in latex
    assert r"W^{[7]} = w^{[7]} W^{[6]} + W^{[5]}" in latex


def test_nonlinear_skip_network_gets_a_verified_counterexample(
    run_cli: RunCli, tmp_path: Path
) -> None:
    spec = tmp_path / "residual.yaml"
    spec.write_text(RESIDUAL)
    result = run_cli("check", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not affine" in result.stdout
    for row in ("forward", "collapse", "cost", "gradients (mse)", "gradients symbolic (mse)"):
        assert any(
            line.startswith(row + " ") and " pass " in line for line in result.stdout.splitlines()
        ), row


def test_backward_equations_show_the_gradient_along_both_paths() -> None:
    equations = {e.lhs: e for e in backprop_equations(load_spec_text(RESIDUAL), "mse")}
    da0 = equations["da^{[0]}"]
    assert da0.rhs == r"W^{[1]T} dz^{[1]} + dz^{[2]}"
    assert "the skip into layer 2, through no weight" in da0.note
    assert equations["da^{[2]}"].rhs == r"W^{[3]T}_{(2)} dz^{[3]}"
    assert (
        equations["dW^{[3]}"].rhs
        == r"\frac{1}{m} dz^{[3]} \begin{bmatrix} a^{[2]} \\ x \end{bmatrix}^{T}"
    )


def test_matrix_form_backward_pass_is_proved_entry_by_entry_with_skips() -> None:
    network = load_spec_text(RESIDUAL)
    assert prove_matrix_form(explicit_gradients(network, "mse")).holds


def test_equations_command_writes_the_skip_derivation(run_cli: RunCli, tmp_path: Path) -> None:
    spec = tmp_path / "linear.yaml"
    spec.write_text(LINEAR)
    result = run_cli("equations", str(spec), "-o", str(tmp_path / "eq.tex"))
    assert result.returncode == 0, result.stderr
    assert r"W^{[1]} = w^{[1]} W^{[0]} + I" in (tmp_path / "eq.tex").read_text()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(skip_networks(), st.booleans())
def test_random_skip_networks_collapse_or_get_a_counterexample(plan: Plan, linear: bool) -> None:
    network = plan.network
    if linear:
        layers = tuple(
            Layer(lay.index, lay.units, lay.fan_in, ActivationChoice(), None, lay.add, lay.concat)
            for lay in network.layers
        )
        network = Network(inputs=network.inputs, layers=layers)
    derivation = derive(network)
    if network.is_linear:
        assert derivation.proof_holds
        return
    example = derivation.counterexample
    if example is None:  # e.g. sigmoid/tanh stacks where every candidate pair stays affine
        assert derivation.undecided is not None or not derivation.proof_holds
        return
    params = example.arrays()
    x1, x2 = example.input_arrays()
    y1, y2, ym = (forward(network, params, x) for x in (x1, x2, (x1 + x2) / 2))
    numeric = float((y1 + y2 - 2 * ym)[example.unit, 0])
    assert numeric == pytest.approx(float(example.difference), rel=1e-6, abs=1e-12)
    assert abs(numeric) > 1e-9


# --- affine (non-identity) activations with skips ---------------------------------------------

AFFINE = """
inputs: 2
layers:
  - units: 2
    activation: {custom: "2*z + 1"}
  - units: 2
    activation: {custom: "3*z - 2"}
    add: input
  - units: 1
    concat: [0]
"""


def test_the_entry_proof_rejects_a_collapse_that_ignores_the_affine_activations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    network = load_spec_text(AFFINE)
    forms = derive(network).affine
    assert forms is not None and skips.prove_entries(network, forms)
    real = skips._maps_symengine
    monkeypatch.setattr(
        skips, "_maps_symengine", lambda net, ws, bs, forms=None: real(net, ws, bs, None)
    )
    assert not skips.prove_entries(network, forms)


def affine_agrees(network: Network, seed: int) -> None:
    """The derivation collapses with a proof, and its W, B (symengine, from the recursion)
    map inputs as the evaluator does, layer by layer with the real activations."""
    derivation = derive(network)
    assert derivation.collapsible and derivation.proof_holds
    params = init_params(network, seed)
    W, B = collapse_function(derivation)(params)
    X = np.random.default_rng(seed).normal(size=(network.inputs, 5))
    expected = forward(network, params, X)
    np.testing.assert_allclose(W @ X + B[:, None], expected, rtol=1e-10, atol=1e-10)
    W_n, B_n = collapse_params(network, params)
    np.testing.assert_allclose(W, W_n, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(B, B_n, rtol=1e-10, atol=1e-12)


def test_affine_activations_with_skips_collapse_with_c_around_the_whole_step() -> None:
    network = load_spec_text(AFFINE)
    derivation = derive(network)
    text = derivation.to_text()
    assert "g⁽¹⁾(z) = 3*z - 2  (affine, proven): it applies to all of z, the added output" in text
    assert "W^[1] = 3·(w⁽¹⁾·W^[0] + I),  B^[1] = 3·(w⁽¹⁾·B^[0] + b⁽¹⁾) - 2" in text
    assert "W^[0] = 2·w⁽⁰⁾,  B^[0] = 2·b⁽⁰⁾ + 1" in text
    assert r"W^{[1]} = 3 \left(w^{[1]} W^{[0]} + I\right)" in derivation.to_latex()
    affine_agrees(network, 0)


def test_a_constant_activation_with_a_skip_zeroes_its_map() -> None:
    network = load_spec_text(
        "inputs: 2\nlayers:\n  - {units: 2}\n"
        "  - {units: 2, add: 0, activation: {custom: 'sigmoid(z) + sigmoid(-z)'}}\n"
        "  - {units: 1, concat: [input]}\n"
    )
    assert "W^[1] = 0,  B^[1] = 1" in derive(network).to_text()
    affine_agrees(network, 1)


AFFINE_CHOICES = ["identity", "2*z + 1", "-z/2 + 3", "z - 1", "-3*z"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    skip_networks(),
    st.lists(st.sampled_from(AFFINE_CHOICES), min_size=4, max_size=4),
    st.integers(0, 99),
)
def test_random_affine_skip_networks_collapse_with_a_proof(
    plan: Plan, picks: list[str], seed: int
) -> None:
    layers = tuple(
        Layer(
            lay.index,
            lay.units,
            lay.fan_in,
            ActivationChoice()
            if pick == "identity"
            else ActivationChoice("custom", expression=pick),
            None,
            lay.add,
            lay.concat,
        )
        for lay, pick in zip(plan.network.layers, picks, strict=False)
    )
    affine_agrees(Network(inputs=plan.network.inputs, layers=layers), seed)


def test_the_equations_command_derives_an_affine_skip_network(
    run_cli: RunCli, tmp_path: Path
) -> None:
    spec = tmp_path / "affine.yaml"
    spec.write_text(AFFINE)
    result = run_cli("equations", str(spec), "--format", "text")
    assert result.returncode == 0, result.stderr
    assert "(proved in the entries with symengine and in block algebra" in result.stdout
    check = run_cli("check", str(spec))
    assert check.returncode == 0, check.stdout
    assert any(
        line.startswith("collapse proof ") and " pass " in line
        for line in check.stdout.splitlines()
    )


def test_the_text_form_writes_a_stacked_input_on_one_line() -> None:
    text = derive(load_spec_text(LINEAR)).to_text()
    assert "z⁽²⁾ = w⁽²⁾·[z⁽¹⁾; z⁽⁰⁾; x] + b⁽²⁾" in text  # linear: the outputs are z
    assert "Matrix(" not in text
