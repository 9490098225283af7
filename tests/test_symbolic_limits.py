"""Legal but extreme networks: the derivation and the checks stay bounded, and say so honestly.

A 10⁶-wide layer costs the counterexample search nothing (only unit 0's chain is evaluated), a
1,000-layer linear stack is proved by induction, a stack too deep for exact evaluation is
declared undecided (never nonlinear without proof), and gradient checks probe a bounded number
of entries. The console-script timings are covered by tests/test_hostile.py (worst legal specs).
"""

from __future__ import annotations

import numpy as np
import pytest

from nndiagram.model import ActivationChoice, Layer, Network
from nndiagram.numeric.forward import forward
from nndiagram.symbolic import derive
from nndiagram.symbolic.collapse import (
    DEEP_LAYERS,
    EXACT_MAX_DEPTH,
    exact_depth,
    find_counterexample,
    prove_blocks,
    prove_by_induction,
)
from nndiagram.symbolic.entries import block_symbols
from nndiagram.symbolic.printing import Names
from nndiagram.verify.checks import check
from nndiagram.verify.gradients import (
    FD_MAX_PARAMETERS,
    _probes,
    relative_gradient_error,
)


def statuses(network: Network) -> dict[str, tuple[str, str]]:
    return {row.name: (row.status, row.detail) for row in check(network).checks}


def test_a_million_wide_layer_gets_a_sparse_exact_counterexample() -> None:
    network = Network.from_sizes([10**6, 10**6], "relu")
    example = find_counterexample(network)
    assert example is not None and example.difference == 1
    assert example.inputs[0].shape == (10**6, 1) and example.inputs[0].row_list() == [(0, 0, -1)]
    data = derive(network).to_json()["counterexample"]
    assert data["params"]["W0"] == {"shape": [10**6, 10**6], "nonzero": [[0, 0, "1"]]}
    assert data["params"]["b0"] == {"shape": [10**6], "nonzero": []}
    assert data["inputs"][1] == {"shape": [10**6, 1], "nonzero": [[0, 0, "1"]]}
    assert data["outputs"] == ["0", "1", "0"]  # ReLU at -1, 1 and the midpoint 0


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softmax"])
def test_the_scalar_chain_agrees_with_numpy_on_every_output(activation: str) -> None:
    """Other units are constants (softmax: 1/(e^t + n - 1)): unit 0 carries the defect."""
    network = Network.from_sizes([3, 4, 3], ["tanh", activation])
    example = find_counterexample(network)
    assert example is not None
    x1, x2 = example.input_arrays()
    ys = [forward(network, example.arrays(), x) for x in (x1, x2, (x1 + x2) / 2)]
    for exact, numeric in zip(example.outputs, ys, strict=True):
        assert float(exact) == pytest.approx(numeric[0, 0], rel=1e-12)
    gap = ys[0] + ys[1] - 2 * ys[2]
    assert gap[0, 0] == pytest.approx(float(example.difference), rel=1e-9)


def test_too_deep_for_exact_evaluation_is_undecided_not_claimed() -> None:
    shallow = Network.from_sizes([2] * (EXACT_MAX_DEPTH + 1), "sigmoid")
    assert find_counterexample(shallow) is not None  # the limit itself is still searched
    network = Network.from_sizes([2] * 1001, "sigmoid")
    derivation = derive(network)
    assert derivation.counterexample is None and not derivation.proof_holds
    assert derivation.undecided is not None and "1000 nested" in derivation.undecided
    names = [eq.name for eq in derivation.equations]
    assert "undecided" in names and "nonlinear" not in names
    assert derivation.to_json()["undecided"] == derivation.undecided
    found = statuses(network)
    assert found["collapse"][0] == "skip" and "1000 nested" in found["collapse"][1]


def test_relu_stacks_stay_exact_at_any_depth() -> None:
    network = Network.from_sizes([2] * 1001, "relu")
    assert exact_depth(network) == 0
    example = find_counterexample(network)
    assert example is not None and example.difference == 1


def test_custom_activations_count_their_nested_functions() -> None:
    custom = ActivationChoice("custom", expression="sigmoid(sigmoid(sigmoid(z)))")
    network = Network(inputs=2, layers=tuple(Layer(i, 2, 2, custom) for i in range(3)))
    assert exact_depth(network) == 9 > EXACT_MAX_DEPTH
    assert derive(network).undecided is not None


@pytest.mark.parametrize(
    "sizes", [[3, 4, 5, 2, 2, 2, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9], [2, 2, 2, 2, 2]]
)
def test_induction_agrees_with_the_direct_block_proof(sizes: list[int]) -> None:
    network = Network.from_sizes(sizes)
    blocks = block_symbols(network, Names())
    assert prove_by_induction(blocks)
    assert prove_blocks(network, blocks)  # direct expansion up to DEEP_LAYERS, induction above


def test_a_thousand_layer_linear_stack_is_proved_and_printed_short() -> None:
    network = Network.from_sizes([10**6] * 1001)
    assert len(network.layers) > DEEP_LAYERS
    derivation = derive(network)
    assert derivation.proof_holds and not derivation.explicit
    latex = derivation.to_latex()
    assert len(latex) < 5000  # layers 0, 1, the last, one line for the rest
    assert "% Layers 2 to 998" in latex
    assert r"z^{[l]} = w^{[l]} z^{[l-1]} + b^{[l]} \quad \text{for } l = 2, \dots, 998" in latex
    assert r"W = w^{[999]} w^{[998]} \cdots w^{[0]}" in latex
    assert "proved by induction on the layers" in latex
    assert "1000000-1000000-1000000-…-1000000, block form)" in latex.splitlines()[0]


def test_single_layer_says_it_is_already_affine_in_one_line() -> None:
    derivation = derive(Network.from_sizes([2, 3]))
    collapse = [eq for eq in derivation.equations if eq.section == "Collapse"]
    assert [eq.name for eq in collapse] == ["collapsed"]
    assert "already of the form" in collapse[0].latex and derivation.proof_holds


def test_counterexample_is_laid_out_as_short_lines() -> None:
    derivation = derive(Network.from_sizes([2, 2, 1], "sigmoid"))
    lines = [eq for eq in derivation.equations if eq.section == "No collapse"]
    assert [eq.name for eq in lines] == [
        "nonlinear",
        "parameters",
        "f",
        "f(t1)",
        "f(t2)",
        "f(mid)",
        "counterexample",
    ]
    assert all(len(eq.latex) < 300 for eq in lines)
    assert lines[-1].latex.endswith(
        r"\neq 0 \quad \text{(nonzero: 60 digits certified by SymPy's strict evalf)}"
    )
    text = derivation.to_text()
    assert "  f(-1) = " in text and "≠ 0  (nonzero" in text


def test_generic_layers_name_the_relu_they_were_given() -> None:
    network = Network.from_sizes([2, 2, 1], ["generic", "identity"])
    lines = {eq.name: eq for eq in derive(network).equations}
    assert r"\operatorname{ReLU}" in lines["substituted"].latex
    assert lines["counterexample"].latex.startswith(r"f(-1) + f(1) - 2\,f(0) = 1 \neq 0")


def test_finite_differences_are_skipped_beyond_the_parameter_bound() -> None:
    network = Network.from_sizes([2, 10**6, 1])
    found = statuses(network)
    assert found["gradients (mse)"][0] == "skip"
    assert f"{FD_MAX_PARAMETERS:,}" in found["gradients (mse)"][1]


def test_deep_stacks_probe_a_bounded_number_of_entries_last_layer_first() -> None:
    network = Network.from_sizes([2] * 1001, "sigmoid")
    params = {
        f"{kind}{i}": np.zeros((2, 2) if kind == "W" else (2,))
        for i in range(1000)
        for kind in "Wb"
    }
    probes = _probes(network, params, np.random.default_rng(0))
    assert sum(len(v) for v in probes.values()) == 8
    assert len(probes["W999"]) == 4 and len(probes["b999"]) == 2
    found = statuses(network)
    assert found["gradients (mse)"][0] == "pass"
    assert "on 8 entries" in found["gradients (mse)"][1]


def test_gradient_error_is_measured_at_the_resolution_of_the_reference() -> None:
    value = {"dW0": np.array([1e-150, 0.0])}
    reference = {"dW0": np.array([0.0, 0.0])}
    assert relative_gradient_error(value, reference) > 1e6  # relative to ~0: meaningless
    assert relative_gradient_error(value, reference, floor=1e-11) < 1e-100
    off = {"dW0": np.array([1e-3, 0.0])}
    assert relative_gradient_error(off, reference, floor=1e-11) > 1e6  # a real error still shows


def test_equations_of_a_nonlinear_spec_do_not_import_numpy() -> None:
    """Start-up matters for ``nndiagram equations``: NumPy (a tenth of a second) is loaded only
    by numeric work (symengine, used by the entry-level proof of linear stacks, loads it too)."""
    import subprocess
    import sys

    from conftest import DIAGRAMS

    script = (
        "import sys; from nndiagram.cli import main; "
        f"sys.argv = ['nndiagram', 'equations', {str(DIAGRAMS / 'xor.yaml')!r}, '-o', '-']; "
        "code = main(); assert code == 0, code; "
        "print(sorted(m for m in ('numpy', 'symengine') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_collapse_functions_too_large_to_compile_are_skipped() -> None:
    from nndiagram.verify.checks import MAX_COLLAPSE_MONOMIALS

    deep = Network.from_sizes([4] * 7)  # explicit entries, 16,384 paths through 6 layers
    assert MAX_COLLAPSE_MONOMIALS < 4**7 * 6
    status, detail = statuses(deep)["collapse W, B"]
    assert status == "skip" and "too many to compile" in detail
    assert statuses(deep)["collapse"][0] == "pass"  # W x + B vs layer by layer, numerically
    assert statuses(Network.from_sizes([3, 3, 2]))["collapse W, B"][0] == "pass"


def test_the_proof_does_not_wait_for_the_printed_equations() -> None:
    """``check`` reads only the proof: the equations are printed on first use."""
    derivation = derive(Network.from_sizes([2] * 1001, "relu"))
    assert derivation.proof_holds and "equations" not in vars(derivation)
    assert derivation.equations[0].name == "x" and "equations" in vars(derivation)
