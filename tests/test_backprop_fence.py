"""The ```backprop fence and the two tutorial pages of this part, rendered through Markdown."""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
from conftest import ROOT
from pymdownx.superfences import SuperFencesException

from nndiagram.derivation.checker import derivation_fence_format, derivation_fence_validator
from nndiagram.model import Network
from nndiagram.site.backprop import backprop_fence_format, flow_dot


def _markdown() -> markdown.Markdown:
    fences = [
        {
            "name": "derivation",
            "class": "derivation",
            "format": derivation_fence_format,
            "validator": derivation_fence_validator,
        },
        {"name": "backprop", "class": "nndiagram-backprop", "format": backprop_fence_format},
    ]
    return markdown.Markdown(
        extensions=["pymdownx.superfences", "pymdownx.arithmatex", "pymdownx.snippets"],
        extension_configs={
            "pymdownx.arithmatex": {"generic": True},
            "pymdownx.snippets": {"base_path": [str(ROOT)], "check_paths": True},
            "pymdownx.superfences": {"custom_fences": fences},
        },
    )


def test_fence_shows_equations_and_proofs_without_the_flow() -> None:
    body = "sizes: [2, 2, 1]\nactivations: [generic, sigmoid]\nloss: bce\n"
    body += "include: [equations, proofs, entries]\n"
    out = _markdown().convert(f"```backprop\n{body}```\n")
    assert r"dz^{[1]} &amp;= a^{[1]} - y" in out  # escaped inside HTML, read by MathJax
    assert r"dW^{[0]} &amp;= \frac{1}{m} dz^{[0]} x^{T}" in out
    assert out.count('class="nnd-proof"') == 2 and out.count("✓") == 2
    assert "2-2-1 bce: every entry, m = 2 samples" in out
    assert "<svg" not in out


def test_fence_lists_the_concrete_derivatives_it_uses() -> None:
    body = "sizes: [2, 2, 1]\nactivations: [tanh, identity]\nloss: mse\ninclude: [equations]\n"
    out = _markdown().convert(f"```backprop\n{body}```\n")
    assert r"g'^{[0]}(z) = 1 - g(z)^{2}" in out
    assert r"da^{[1]} &amp;= 2 \left(a^{[1]} - y\right)" in out
    assert "nnd-proof" not in out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sizes: [2, 1]\n", "loss must be one of"),
        ("sizes: [2, 1]\nloss: hinge\n", "loss must be one of"),
        ("layers: [2, 1]\nloss: mse\n", "write sizes"),
        ("sizes: [2]\nloss: mse\n", "at least one layer"),
        ("sizes: [2, 1]\nloss: mse\ninclude: [pictures]\n", "include must list"),
    ],
)
def test_bad_fence_bodies_fail_the_build(body: str, message: str) -> None:
    with pytest.raises(SuperFencesException, match=message):
        _markdown().convert(f"```backprop\n{body}```\n")


def test_flow_diagram_runs_forward_and_back() -> None:
    source = flow_dot(Network.from_sizes([2, 2, 1], ["generic", "sigmoid"]), "bce")
    assert "x -> z0" in source and "a0 -> z1" in source and "a1 -> L" in source
    backward = [line for line in source.splitlines() if "dashed" in line]
    assert [line.split("[")[0].strip() for line in backward] == [
        "z0 -> W0",
        "z1 -> W1",
        "z1 -> a0",
        "a0 -> z0",
        "L -> z1",
    ]
    assert "label=<da<SUP>[0]</SUP> = <I>W</I><SUP>[1]T</SUP> dz<SUP>[1]</SUP>>" in source


@pytest.mark.exe
def test_flow_diagram_renders_as_inline_svg() -> None:
    body = "sizes: [2, 2, 1]\nactivations: [generic, sigmoid]\nloss: bce\ninclude: [flow]\n"
    out = _markdown().convert(f"```backprop\n{body}```\n")
    assert '<figure class="nnd-backprop-flow"><svg role="img"' in out
    assert "currentColor" in out and "#d84315" in out


def test_derivations_page_renders_every_fence() -> None:
    # Marked fences must fail and unmarked ones hold, or convert() raises.
    out = _markdown().convert((ROOT / "docs" / "tutorial" / "derivations.md").read_text())
    assert out.count('data-holds="true"') == 1  # the composition
    assert out.count('data-holds="false"') == 5  # the cost and the four slips
    assert out.count("Counterexample: at") == 5


@pytest.mark.exe
def test_backpropagation_page_renders() -> None:
    out = _markdown().convert((ROOT / "docs" / "tutorial" / "backpropagation.md").read_text())
    assert out.count("nnd-backprop-flow") == 1
    assert out.count('class="nnd-proof"') == 6  # 2 + 2 (the neuron) + 1 + 1


def test_plugin_runs_the_proofs_ahead_and_the_page_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugin finds every backprop fence of the site's pages and proves them in its worker
    pool (here: one worker) before pages render; the page then proves nothing itself and
    shows the same HTML as a page that proved everything on its own."""
    from mkdocs.structure.files import File, Files

    from nndiagram.site import backprop, fence, plugin
    from nndiagram.site.render import prerender

    body = "sizes: [2, 2, 1]\nactivations: [generic, sigmoid]\nloss: bce\n"
    page = f"# Page\n\n```backprop\n{body}```\n"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.md").write_text(page)
    files = Files([File("page.md", str(docs), str(tmp_path / "site"), False)])
    jobs = plugin._proof_jobs(files, tmp_path)
    assert [job.source for job in jobs] == [body]
    cache_dir = tmp_path / "cache"
    settings = fence.FenceSettings(root=tmp_path, cache_dir=cache_dir)
    assert prerender(jobs, settings.cache_for(tmp_path), workers=1) == 1
    assert prerender(jobs, settings.cache_for(tmp_path), workers=1) == 0  # cached

    def proving(*args: object) -> None:
        raise AssertionError("the page proved again what the plugin had proved")

    monkeypatch.setattr(backprop, "proofs", proving)
    monkeypatch.setattr(backprop, "sum_form_gradients", proving)
    fence.configure(settings)
    try:
        md = markdown.Markdown(
            extensions=["pymdownx.superfences"],
            extension_configs={"pymdownx.superfences": {"custom_fences": fence.custom_fences()}},
        )
        ahead = md.convert(page)
    finally:
        fence.configure(None)
    monkeypatch.undo()
    alone = _markdown().convert(page)
    assert ahead.count('class="nnd-proof"') == 2 and "proven by SymPy" in ahead
    assert re.sub(r"\s+", " ", ahead) == re.sub(r"\s+", " ", alone)


@pytest.mark.parametrize("alpha", ["0.2", "3"])
def test_leaky_relu_backprop_is_proven(alpha: str) -> None:
    """A leaky ReLU network stopped the build with 'SymPy does not confirm 2-2-1 mse: differs
    at dW0[0], …': SymPy's derivative writes Piecewise((x, c), (x/5, True)) where the matrix
    form has x·Piecewise((1, c), (1/5, True)), two opaque atoms that never cancelled. The
    proof now splits the comparisons case by case (sound: every case must give 0)."""
    leaky = "{leaky_relu: {alpha: " + alpha + "}}"
    body = f"sizes: [2, 2, 1]\nactivations: [{leaky}, {leaky}]\nloss: mse\n"
    out = _markdown().convert(f"```backprop\n{body}include: [equations, proofs, entries]\n```\n")
    assert "2-2-1 mse: every entry, m = 2 samples" in out
    assert out.count('class="nnd-proof"') == 2 and out.count("✓") == 2


def test_a_wrong_leaky_relu_gradient_is_still_refused() -> None:
    """The case split proves only what holds: a matrix form with the slope on the wrong side
    of zero differs in some case."""
    import sympy

    from nndiagram.symbolic.gradient_entries import (
        explicit_gradients,
        matrix_form,
        prove_matrix_form,
    )

    network = Network.from_sizes([2, 2, 1], [{"leaky_relu": {"alpha": 0.2}}, "identity"])
    gradients = explicit_gradients(network, "mse")
    right = matrix_form(gradients)
    assert prove_matrix_form(gradients, right).holds
    swapped = {
        name: matrix.applyfunc(
            lambda e: e.replace(
                lambda p: isinstance(p, sympy.Piecewise),
                lambda p: sympy.Piecewise((p.args[1][0], p.args[0][1]), (p.args[0][0], True)),
            )
        )
        for name, matrix in right.items()
    }
    assert not prove_matrix_form(gradients, swapped).holds


def test_a_custom_output_activation_is_proven_not_a_spec_error() -> None:
    """``activations: [{custom: …}]`` stopped the fence with '<spec>:1:1: error: custom
    activation needs an expression in z': the output-layer proof looked the activation up by
    its name alone (and leaky ReLU by name took the default alpha, not the fence's)."""
    body = "sizes: [1, 1]\nactivations: [{custom: 'z*sigmoid(z)'}]\nloss: mse\n"
    out = _markdown().convert(f"```backprop\n{body}include: [equations, proofs]\n```\n")
    assert out.count('class="nnd-proof"') == 1 and "✓" in out
    from nndiagram.model import ActivationChoice
    from nndiagram.symbolic.gradients import chain_rule_dz

    choice = ActivationChoice(name="leaky_relu", alpha=0.3)
    _, z, _, a = chain_rule_dz("leaky_relu", "mse", 1, choice)
    assert a[0].subs(z[0], -10) == -3


@pytest.mark.parametrize(
    ("sizes", "layers"),
    [("[2, 2, 2, 1]", "0, 1, 2"), ("[1, 1, 1, 1, 1]", "0, 1, 2, 3")],
    ids=["3 layers", "4 layers"],
)
def test_three_and_four_leaky_relu_layers_are_proven(sizes: str, layers: str) -> None:
    """With 3 or more leaky ReLU layers the build stopped with 'SymPy does not confirm 2-2-2-1
    mse: differs at dW0[0], …': the entry's derivative nests one Piecewise per layer, which the
    case split did not untangle. The activation is now an undefined g on both routes (its
    derivative goes by cases), so the identity is proven for every g, this one included."""
    leaky = "{leaky_relu: {alpha: 0.2}}"
    count = sizes.count(",")
    body = f"sizes: {sizes}\nactivations: [{', '.join([leaky] * count)}]\nloss: mse\n"
    out = _markdown().convert(f"```backprop\n{body}include: [equations, proofs, entries]\n```\n")
    name = sizes.strip("[]").replace(", ", "-")
    proven = f"{name} mse: every entry, m = 2 samples, with any differentiable g in layers"
    assert f"{proven} {layers}, proven by SymPy" in out
    assert out.count('class="nnd-proof"') == 2 and out.count("✓") == 2


@pytest.mark.parametrize(
    ("sizes", "activations", "loss", "proofs", "layers"),
    [
        ("[2, 1]", "[{custom: 'abs(z)'}]", "mse", 3, "layer 0"),  # the sum form too
        ("[2, 2, 1]", "[{custom: 'abs(z) - z/2'}, sigmoid]", "bce", 2, "layer 0"),
        ("[1, 2, 1]", "[{custom: 'abs(z)'}, {custom: 'abs(z)'}]", "mse", 2, "layers 0, 1"),
    ],
)
def test_a_custom_activation_with_abs_is_proven(
    sizes: str, activations: str, loss: str, proofs: int, layers: str
) -> None:
    """``custom: abs(z)`` stopped the build with 'SymPy does not confirm the sum form of …':
    the derivative sign(z) stayed an opaque atom that never cancelled."""
    body = f"sizes: {sizes}\nactivations: {activations}\nloss: {loss}\n"
    out = _markdown().convert(f"```backprop\n{body}include: [equations, proofs, entries]\n```\n")
    assert out.count('class="nnd-proof"') == proofs and out.count("✓") == proofs
    assert f"m = 2 samples, with any differentiable g in {layers}, proven by SymPy" in out


def test_a_backward_pass_without_the_activation_derivative_stops_the_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The proof with an undefined g still refuses a wrong matrix form: a hidden layer's
    dz = da (the factor g'(z) left out) is not the entry's derivative."""
    from nndiagram.site import fence
    from nndiagram.symbolic import gradient_entries

    right = gradient_entries._backward_dz

    def forgetful(name: str, fn: object, Z: object, A: object, dA: object) -> object:
        return dA if name == "generic" else right(name, fn, Z, A, dA)  # type: ignore[arg-type]

    monkeypatch.setattr(gradient_entries, "_backward_dz", forgetful)
    leaky = "{leaky_relu: {alpha: 0.2}}"
    body = f"sizes: [1, 1, 1, 1]\nactivations: [{leaky}, {leaky}, {leaky}]\nloss: mse\n"
    fence.configure(fence.FenceSettings(use_cache=False))  # no tampered proof in the cache
    try:
        with pytest.raises(SuperFencesException, match="not confirm 1-1-1-1 mse: differs at dW0"):
            _markdown().convert(f"```backprop\n{body}include: [proofs, entries]\n```\n")
    finally:
        fence.configure(None)
    monkeypatch.undo()
    out = _markdown().convert(f"```backprop\n{body}include: [proofs, entries]\n```\n")
    assert out.count("✓") == 2
