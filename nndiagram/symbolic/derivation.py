"""``derive(network)``: the whole derivation, wired in one place, and its printed forms.

spec → ``Network`` → symbols (entries or blocks) → equations → proof (collapse or
counterexample) → LaTeX / text / JSON. Explicit entries are used up to ``EXPLICIT_MAX_WIDTH``
units per layer (and a bounded number of paths through the network, which is what the
entry-level proof costs); larger networks get the same equations with shapes, proved at block
level.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cached_property
from typing import Any

import sympy

from .. import notation
from ..activations import affine_form, network_affine
from ..errors import InvalidNetworkError
from ..model import ActivationChoice, Network
from . import equations as eqs
from . import printing as pr
from . import skips
from .collapse import (
    DEEP_LAYERS,
    Counterexample,
    find_counterexample,
    nonzero,
    prove_blocks,
    prove_entries,
    too_deep,
)
from .entries import (
    BlockSymbols,
    EntrySymbols,
    block_symbols,
    entry_symbols,
    forward,
    path_terms,
    polynomial,
)

EXPLICIT_MAX_WIDTH = 32  # entries beyond this are unreadable and the proof grows fast
EXPLICIT_MAX_PATHS = 2**16  # product of the sizes: monomials the entry-level proof expands
SMALL_MAX_PATHS = 32  # expanded output and W, B entry by entry up to this many paths
JSON_MAX_PATHS = 2**12  # JSON spells W and B entry by entry up to 16-16-8; products beyond
BLOCK_LIMIT = 4  # block form: neurons 0, 1, ⋮, last; sums w_0 x_0 + w_1 x_1 + ⋯ + last


def wants_entries(network: Network) -> bool:
    return (
        max(network.sizes) <= EXPLICIT_MAX_WIDTH and math.prod(network.sizes) <= EXPLICIT_MAX_PATHS
    )


def is_small(network: Network) -> bool:
    return math.prod(network.sizes) <= SMALL_MAX_PATHS


class Derivation:
    """The derived equations of one network, with the collapse proof or a counterexample.

    ``explicit`` tells entries from block form. ``input_symbols``, ``weight_symbols`` and
    ``bias_symbols`` are SymPy matrices of entries (block form: ``MatrixSymbol`` s); ``output`` is
    ``a^{[L]}`` in the entries with the concrete activations (explicit only, else None).
    ``collapsible`` is True when every activation is the identity; then ``collapse_W`` and
    ``collapse_B`` give the single ``W x + B`` (entries, or block products). ``undecided`` says why
    a nonlinear network got no counterexample when the search was not attempted. ``proof_holds`` is
    True when the derivation's conclusion is proved: for a linear stack, the identity
    ``a^{[L]} = W x + B``; otherwise, that ``counterexample`` certifies the output is not affine.
    """

    def __init__(self, network: Network, *, explicit: bool | None = None) -> None:
        if network.graph is not None and not network.graph.is_valid:
            problems = network.graph.problems()
            raise InvalidNetworkError(
                f"not a valid network, no equations: {'; '.join(problems)}",
                path=network.source,
                problems=problems,
            )
        self.network = network
        self.explicit = wants_entries(network) if explicit is None else explicit
        self.names = pr.Names()
        self.blocks: BlockSymbols = block_symbols(network, self.names)
        self.entries: EntrySymbols | None = (
            entry_symbols(network, self.names) if self.explicit else None
        )
        # Affine activations (g(z) = c z + d, proven) fold into w and b: the network collapses.
        self.affine = network_affine(network)
        self.collapsible = self.affine is not None
        self.counterexample: Counterexample | None = None
        self.constant: str | None = None  # a constant layer, said in words
        self.undecided: str | None = None  # why the search stopped short, when it did
        if self.collapsible and network.has_skips:
            self.proof_holds = skips.prove_blocks(network, self.blocks, self.affine) and (
                not self.explicit or skips.prove_entries(network, self.affine)
            )
        elif self.collapsible:
            self.proof_holds = prove_blocks(network, self.blocks) and (
                not self.explicit or prove_entries(network)
            )
        elif network.has_skips:
            self.counterexample = skips.find_counterexample(network)
            if self.counterexample is None:
                self.undecided = too_deep(network)
            self.proof_holds = self.counterexample is not None
        else:
            self.counterexample = find_counterexample(network)
            if self.counterexample is None:
                self.undecided = too_deep(network)
            self.constant = _constant_layer(network)
            if self.counterexample is None and self.constant is not None:
                self.undecided = self.constant
            self.proof_holds = self.counterexample is not None

    @cached_property
    def equations(self) -> list[pr.Equation]:
        """The printed equations, built on first use (``check`` needs only the proof)."""
        net = self.network
        ctx = eqs.Context(
            net,
            self.names,
            self.blocks,
            self.entries,
            small=is_small(net),
            limit=max(net.max_neurons, 3) if self.explicit else BLOCK_LIMIT,
        )
        out = eqs.inputs(ctx)
        # Spell out layers 0, 1 and the last only; with skips every layer (its skip shows).
        deep = len(net.layers) > DEEP_LAYERS and not net.has_skips
        shown = pr.elided(len(net.layers), 4) if deep else range(len(net.layers))
        for index in shown:
            if index is None:
                out += eqs.hidden_layers(ctx, 2, len(net.layers) - 2)
            else:
                out += eqs.layer(ctx, index)
        if len(net.layers) > 1:
            out += eqs.composition(ctx)
        if self.collapsible and net.has_skips:
            W_B = self._collapse if self.explicit and is_small(net) else None
            out += skips.collapse_equations(ctx, self.proof_holds, W_B, self.affine)
        elif self.collapsible and self._folds:
            assert self.affine is not None
            out += eqs.affine_folding(ctx, self.affine)
            folded = dataclasses.replace(
                ctx,
                network=_linear_copy(net),
                blocks=self._folded_blocks(),
                entries=self._folded_entries(),
            )
            out += eqs.collapse(folded, self.proof_holds, output=eqs.output_sym(net))
        elif self.collapsible:
            out += eqs.collapse(ctx, self.proof_holds)
        else:
            out += eqs.nonlinear(ctx, self.counterexample, self.undecided)
        out += eqs.activations(ctx)
        out += eqs.cost(ctx)
        return out

    # --- the agreed attributes --------------------------------------------------------------

    @property
    def input_symbols(self) -> Any:
        return self.entries.x if self.entries else self.blocks.x

    @property
    def weight_symbols(self) -> list[Any]:
        return list(self.entries.w if self.entries else self.blocks.w)

    @property
    def bias_symbols(self) -> list[Any]:
        return list(self.entries.b if self.entries else self.blocks.b)

    @cached_property
    def output(self) -> sympy.ImmutableMatrix | None:
        return forward(self.network, self.entries) if self.entries else None

    @property
    def _folds(self) -> bool:
        """Some activation is affine but not the identity: its c, d fold into w and b."""
        return self.affine is not None and not all(f.is_identity for f in self.affine)

    def affine_note(self) -> str:
        """What the collapse folded in, for reports: '' when every activation is the identity."""
        if not self._folds:
            return ""
        assert self.affine is not None
        parts = []
        for layer, form in zip(self.network.layers, self.affine, strict=True):
            if form.is_constant:
                number = self.network.naming.index(layer.index)
                parts.append(f"layer {number}'s activation is the constant {form.text()}")
            elif not form.is_identity:
                number = self.network.naming.index(layer.index)
                parts.append(f"layer {number}: g(z) = {form.text()} folded into W, B")
        return "; ".join(parts)

    def _folded_blocks(self) -> BlockSymbols:
        """``c w^{[l]}`` and ``c b^{[l]} + d`` for each layer's ``g(z) = c z + d``."""
        assert self.affine is not None
        ws, bs = [], []
        for w, b, form in zip(self.blocks.w, self.blocks.b, self.affine, strict=True):
            ws.append(w if form.c == 1 else sympy.MatMul(form.c, w, evaluate=False))
            scaled = b if form.c == 1 else sympy.MatMul(form.c, b, evaluate=False)
            if form.c == 0:
                scaled = sympy.ZeroMatrix(*b.shape)
            if form.d != 0:
                ones = sympy.OneMatrix(*b.shape)
                constant = sympy.MatMul(form.d, ones, evaluate=False) if form.d != 1 else ones
                scaled = constant if form.c == 0 else sympy.MatAdd(scaled, constant, evaluate=False)
            bs.append(scaled)
        return dataclasses.replace(self.blocks, w=tuple(ws), b=tuple(bs))

    def _folded_entries(self) -> EntrySymbols | None:
        if self.entries is None:
            return None
        assert self.affine is not None
        ws, bs = [], []
        for w, b, form in zip(self.entries.w, self.entries.b, self.affine, strict=True):
            ws.append(sympy.ImmutableMatrix(w * form.c))
            bs.append(sympy.ImmutableMatrix(b * form.c + sympy.ones(*b.shape) * form.d))
        return dataclasses.replace(self.entries, w=tuple(ws), b=tuple(bs))

    def _block_collapse(self) -> tuple[Any, Any]:
        blocks = self._folded_blocks() if self._folds else self.blocks
        if self.network.has_skips:  # W^{[L]}, B^{[L]} of the recursion (skips.py)
            net = self.network
            return (
                sympy.MatrixSymbol("W", net.n_outputs, net.inputs),
                sympy.MatrixSymbol("B", net.n_outputs, 1),
            )
        W = sympy.MatMul(*reversed(blocks.w)) if len(blocks.w) > 1 else blocks.w[0]
        B = sympy.MatAdd(*eqs.collapse_terms(blocks)[1:])
        return W, B

    @cached_property
    def _collapse(self) -> tuple[Any, Any] | None:
        if not self.collapsible:
            return None
        if self.entries is None:
            return self._block_collapse()
        if self.network.has_skips:
            return skips.collapse_entries(self.network, self.entries, self.affine)
        if self._folds:
            folded = self._folded_entries()
            assert folded is not None
            W_f, B_f = None, None
            for w, b in zip(folded.w, folded.b, strict=True):
                W_f = w if W_f is None else w * W_f
                B_f = b if B_f is None else w * B_f + b
            assert W_f is not None and B_f is not None
            return (
                sympy.ImmutableMatrix(W_f.applyfunc(sympy.expand)),
                sympy.ImmutableMatrix(B_f.applyfunc(sympy.expand)),
            )
        W_terms, B_terms = path_terms(self.network, self.entries)
        W = sympy.ImmutableMatrix([[polynomial(e) for e in row] for row in W_terms])
        B = sympy.ImmutableMatrix([[polynomial(e)] for e in B_terms])
        return W, B

    @property
    def collapse_W(self) -> Any:
        return self._collapse[0] if self._collapse else None

    @property
    def collapse_B(self) -> Any:
        return self._collapse[1] if self._collapse else None

    # --- printed forms ----------------------------------------------------------------------

    def _sections(self) -> list[tuple[str, list[pr.Equation]]]:
        sections: list[tuple[str, list[pr.Equation]]] = []
        for eq in self.equations:
            if not sections or sections[-1][0] != eq.section:
                sections.append((eq.section, []))
            sections[-1][1].append(eq)
        return sections

    def _heading(self) -> str:
        net = self.network
        shown = [str(s) for s in net.sizes]
        if len(shown) > DEEP_LAYERS + 1:  # 1,001 sizes would make a page-wide heading
            shown = [*shown[:3], "…", shown[-1]]
        sizes = "-".join(shown)
        # One line: a title's line break would end the LaTeX comment and make the rest live TeX.
        title = " ".join((net.title or net.name).split())
        return f"{title} ({sizes}, {'entries' if self.explicit else 'block form'})"

    def to_latex(self) -> str:
        """Display equations ``\\[ … \\]``, one per line, under ``% Section`` comments."""
        lines = [f"% {self._heading()}"]
        for title, equations in self._sections():
            lines += ["", f"% {title}"]
            lines += [rf"\[ {eq.latex} \]" for eq in equations]
        return "\n".join(lines) + "\n"

    def to_text(self) -> str:
        lines = [self._heading(), "", "Parameters"]
        lines += [f"  {line}" for line in self._parameter_lines()]
        for title, equations in self._sections():
            lines += ["", title]
            lines += [f"  {eq.text}" for eq in equations]
        return "\n".join(lines) + "\n"

    def _parameter_lines(self) -> list[str]:
        """``w⁽⁰⁾ 128×784 + b⁽⁰⁾ 128 = 100,480`` per layer, then the total."""
        net = self.network
        lines = []
        for index, layer in enumerate(net.layers):
            if len(net.layers) > DEEP_LAYERS and 2 <= index < len(net.layers) - 1:
                if index == 2:
                    lines.append("⋮")
                continue
            w, b = (notation.vector(net, base, layer.index).text() for base in ("w", "b"))
            lines.append(
                f"{w} {layer.units}×{layer.fan_in} + {b} {layer.units} = {layer.parameter_count:,}"
            )
        return [*lines, f"total {net.parameter_count:,}"]

    def parameters_json(self) -> dict[str, Any]:
        """Shapes and counts per layer and the total, for ``to_json``."""
        net = self.network
        layers = [
            {"W": list(layer.weight_shape), "b": [layer.units], "count": layer.parameter_count}
            for layer in net.layers
        ]
        return {"layers": layers, "total": net.parameter_count}

    def _matrix_json(self, value: Any) -> dict[str, str]:
        if isinstance(value, sympy.MatrixBase):
            body_latex, body_text = pr.matrix_of(value, self.names)
            return {"latex": body_latex, "text": body_text, "srepr": pr.srepr(value)}
        return {
            "latex": pr.latex(value, self.names),
            "text": pr.text(value, self.names),
            "srepr": pr.srepr(value),
        }

    def to_json(self) -> dict[str, Any]:
        net = self.network
        out: dict[str, Any] = {
            "network": {
                "title": net.title,
                "sizes": list(net.sizes),
                "activations": [layer.activation.name for layer in net.layers],
                "loss": net.loss,
                "numbering": net.naming.base,
            },
            "explicit": self.explicit,
            "collapsible": self.collapsible,
            "affine": None
            if self.affine is None
            else [{"c": str(f.c), "d": str(f.d), "proof": f.proof} for f in self.affine],
            "proof_holds": self.proof_holds,
            "equations": [eq.to_json() for eq in self.equations],
            "counterexample": None,
            "undecided": self.undecided,
            "parameters": self.parameters_json(),
        }
        if self.collapsible:
            # Entry by entry while that stays readable (16-16-8: 16 terms each), else products.
            entries = self.explicit and math.prod(net.sizes) <= JSON_MAX_PATHS
            W, B = (self.collapse_W, self.collapse_B) if entries else self._block_collapse()
            out["W"] = self._matrix_json(W)
            out["B"] = self._matrix_json(B)
        example = self.counterexample
        if example is not None:
            out["counterexample"] = {
                # Sparse: a 784-wide layer has one non-zero weight here, not 100 352 zeros.
                "params": {name: _sparse_json(v) for name, v in example.params.items()},
                "inputs": [_sparse_json(x) for x in example.inputs],
                "outputs": [str(y) for y in example.outputs],
                "unit": example.unit,
                "difference": str(example.difference),
                "value": example.value,
                "method": example.method,
                "substituted": {str(k): v for k, v in sorted(example.substituted.items())},
            }
        return out

    def _repr_latex_(self) -> str:
        return "\n".join(f"$${eq.latex}$$" for eq in self.equations)

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.network.sizes))
        form = "entries" if self.explicit else "block form"
        if self.collapsible:
            verdict = "collapses to W x + B" + ("" if self.proof_holds else " (not proven)")
        elif self.counterexample is not None:
            verdict = "not affine (exact counterexample)"
        else:
            verdict = "nonlinear"
        return f"<Derivation {self.network.name} {sizes}, {form}: {verdict}>"


def _constant_layer(network: Network) -> str | None:
    """The last layer whose activation is a constant, said in words: the output after it does
    not depend on x (W = 0), whatever the layers before it compute."""
    for layer in reversed(network.layers):
        form = affine_form(layer.activation, layer.units)
        if form is not None and form.is_constant:
            return (
                f"layer {network.naming.index(layer.index)}'s activation is the constant "
                f"{form.text()} ({form.proof}): "
                "the output does not depend on x"
            )
    return None


def _linear_copy(network: Network) -> Network:
    """``network`` with every activation the identity: the layers after folding ``c``, ``d``."""
    layers = tuple(
        dataclasses.replace(layer, activation=ActivationChoice()) for layer in network.layers
    )
    return dataclasses.replace(network, layers=layers)


def _sparse_json(value: Any) -> dict[str, Any]:
    """A parameter as its shape and non-zero entries: ``[[i, j, "1"]]`` (``[[i, "1"]]`` for b)."""
    entries = [[*index, str(v)] for index, v in nonzero(value)]
    return {"shape": [int(s) for s in value.shape], "nonzero": entries}


def derive(network: Network, *, explicit: bool | None = None) -> Derivation:
    """Derive ``network``'s equations; ``explicit`` forces entries (True) or block form (False)."""
    return Derivation(network, explicit=explicit)
