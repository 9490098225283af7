"""The derivation's equations, in the tutorial's order, as printed ``Equation`` s.

One builder per part of the tutorial: the matrix representation of every layer (``layer``), the
composition (``composition``), the collapse of a linear stack (``collapse``), the statement
that a nonlinear one does not collapse (``nonlinear``), the activations (``activations``) and the
cost (``cost``). Entries are printed when ``ctx.entries`` (small enough), shapes otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy

from .. import notation
from ..activations import activation_for
from ..model import Network
from . import printing as pr
from .collapse import Counterexample, collapse_terms, describe_counterexample
from .cost import cost_latex, cost_text
from .entries import (
    BlockSymbols,
    EntrySymbols,
    nested_block,
    nested_entries,
    path_terms,
    polynomial,
    unmarked,
)

ORDINALS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth")


@dataclass(frozen=True)
class Context:
    network: Network
    names: pr.Names
    blocks: BlockSymbols
    entries: EntrySymbols | None  # None: block form, shapes only
    small: bool  # print the expanded output and W, B entry by entry
    limit: int  # matrices and sums wider than this are elided


def layer_title(network: Network, layer: int) -> str:
    if len(network.layers) == 1:
        return "Layer"
    if layer < len(ORDINALS):
        return f"{ORDINALS[layer]} layer"
    return f"Layer {network.naming.index(layer)}"


def output_sym(network: Network) -> notation.Sym:
    """``a^{[L]}``, or ``z^{[L]}`` when the last layer is linear (the tutorial's ``z^{[1]}``)."""
    last = len(network.layers) - 1
    base = "z" if network.layers[last].activation.is_identity else "a"
    return notation.vector(network, base, last)


def _matrix_equation(
    ctx: Context,
    section: str,
    name: str,
    block: Any,
    entries: Any,
    sym_of: Callable[[int, int], notation.Sym],
) -> pr.Equation:
    rows, cols = entries.shape
    lhs_latex, lhs_text = pr.latex(block, ctx.names), pr.text(block, ctx.names)
    body_latex = pr.matrix_latex(rows, cols, lambda i, j: sym_of(i, j).latex(), ctx.limit)
    body_text = pr.matrix_text(rows, cols, lambda i, j: sym_of(i, j).text(), ctx.limit)
    return pr.Equation(
        name,
        section,
        f"{lhs_latex} = {body_latex}",
        f"{lhs_text} = {body_text}",
        pr.srepr(sympy.Eq(block, entries, evaluate=False)),
    )


def _shape_equation(ctx: Context, section: str, name: str, block: Any) -> pr.Equation:
    rows, cols = block.shape
    space_latex = (
        rf"\mathbb{{R}}^{{{rows}}}" if cols == 1 else rf"\mathbb{{R}}^{{{rows} \times {cols}}}"
    )
    space_text = f"ℝ^{rows}" if cols == 1 else f"ℝ^({rows}×{cols})"
    return pr.Equation(
        name,
        section,
        rf"{pr.latex(block, ctx.names)} \in {space_latex}",
        f"{pr.text(block, ctx.names)} ∈ {space_text}",
        pr.srepr(block),
    )


def inputs(ctx: Context) -> list[pr.Equation]:
    net = ctx.network
    if ctx.entries is None:
        return [_shape_equation(ctx, "Inputs", "x", ctx.blocks.x)]
    return [
        _matrix_equation(
            ctx,
            "Inputs",
            "x",
            ctx.blocks.x,
            ctx.entries.x,
            lambda i, _: notation.layer_input(net, 0, i),
        )
    ]


def _neuron(ctx: Context, section: str, layer: int, unit: int) -> pr.Equation:
    fan_in = ctx.network.layers[layer].fan_in
    eq = notation.neuron_equation(
        ctx.network, layer, unit, max_terms=3 if fan_in > ctx.limit else None
    )
    rhs = sympy.Add(
        *(sympy.Mul(sympy.Symbol(w.key), sympy.Symbol(x.key), evaluate=False) for w, x in eq.terms),
        *([sympy.Symbol(eq.bias.key)] if eq.bias else []),
        evaluate=False,
    )
    return pr.Equation(
        f"{eq.lhs.key}",
        section,
        eq.latex(),
        eq.text(),
        pr.srepr(sympy.Eq(sympy.Symbol(eq.lhs.key), rhs, evaluate=False)),
    )


def layer(ctx: Context, index: int) -> list[pr.Equation]:
    """``w^{[l]}``, ``b^{[l]}``, ``z^{[l]} = w^{[l]} a^{[l-1]} + b^{[l]}``, neurons, ``a^{[l]}``."""
    net, names, blocks = ctx.network, ctx.names, ctx.blocks
    section = layer_title(net, index)
    mark = net.naming.layer(index)
    w, b, z = blocks.w[index], blocks.b[index], blocks.z[index]
    if ctx.entries is None:
        out = [
            _shape_equation(ctx, section, f"w{mark}", w),
            _shape_equation(ctx, section, f"b{mark}", b),
        ]
    else:
        out = [
            _matrix_equation(
                ctx,
                section,
                f"w{mark}",
                w,
                ctx.entries.w[index],
                lambda j, k: unmarked(notation.weight(net, index, j, k)),
            ),
            _matrix_equation(
                ctx,
                section,
                f"b{mark}",
                b,
                ctx.entries.b[index],
                lambda j, _: unmarked(notation.bias(net, index, j, in_matrix=True)),
            ),
        ]
    if index == 0:
        previous: Any = blocks.x
    else:
        base = notation.layer_input_base(net, index)
        previous = blocks.z[index - 1] if base == "z" else blocks.a[index - 1]
    rhs = sympy.MatAdd(sympy.MatMul(w, previous, evaluate=False), b, evaluate=False)
    out.append(pr.equation(section, f"z{mark}", z, rhs, names))
    units = net.layers[index].units
    for unit in pr.elided(units, ctx.limit):
        if unit is None:
            out.append(pr.Equation(f"z{mark}_…", section, r"\vdots", "⋮", pr.srepr(None)))
        else:
            out.append(_neuron(ctx, section, index, unit))
    if not net.layers[index].activation.is_identity:
        g_of_z = pr.latex(z, names), pr.text(z, names)
        g = notation.vector(net, "g", index)
        out.append(
            pr.Equation(
                f"a{mark}",
                section,
                rf"{pr.latex(blocks.a[index], names)} = {g.latex()}({g_of_z[0]})",
                f"{pr.text(blocks.a[index], names)} = {g.text()}({g_of_z[1]})",
                pr.srepr(sympy.Eq(blocks.a[index], sympy.Function(g.key)(z), evaluate=False)),
            )
        )
    return out


def composition(ctx: Context) -> list[pr.Equation]:
    """The output as one nested expression, and (small networks) expanded in the entries."""
    net, names = ctx.network, ctx.names
    section = "Composition"
    out_sym = output_sym(net)
    lhs = sympy.MatrixSymbol(out_sym.key, net.n_outputs, 1)
    out = [pr.equation(section, "composition", lhs, nested_block(net, ctx.blocks, names), names)]
    if ctx.entries is None or not ctx.small:
        return out
    if net.is_linear:
        W, B = path_terms(net, ctx.entries)
        x = list(ctx.entries.x)
        rows = [
            polynomial([(*t, x[k]) for k in range(net.inputs) for t in W[j][k]] + B[j], False)
            for j in range(net.n_outputs)
        ]
    else:
        rows = nested_entries(net, ctx.entries)
    last = len(net.layers) - 1
    for j, row in enumerate(rows):
        base = "z" if net.layers[last].activation.is_identity else "a"
        entry = (notation.pre_activation if base == "z" else notation.activation)(net, last, j)
        out.append(
            pr.Equation(
                f"{entry.key}",
                section,
                f"{entry.latex()} = {pr.latex(row, names)}",
                f"{entry.text()} = {pr.text(row, names)}",
                pr.srepr(sympy.Eq(sympy.Symbol(entry.key), row, evaluate=False)),
            )
        )
    return out


def collapse(ctx: Context, proof_holds: bool) -> list[pr.Equation]:
    """Distribute, associate, substitute ``W`` and ``B``; their entries; the proof."""
    net, names, blocks = ctx.network, ctx.names, ctx.blocks
    section = "Collapse"
    out_sym = output_sym(net)
    lhs = sympy.MatrixSymbol(out_sym.key, net.n_outputs, 1)
    terms = collapse_terms(blocks)
    W_sym = sympy.MatrixSymbol(names.add(notation.Sym("W")), net.n_outputs, net.inputs)
    B_sym = sympy.MatrixSymbol(names.add(notation.Sym("B")), net.n_outputs, 1)
    W_expr = terms[0].args[0] if len(net.layers) == 1 else sympy.MatMul(*reversed(blocks.w))
    B_expr = sympy.MatAdd(*terms[1:], evaluate=False) if len(terms) > 2 else terms[1]
    collapsed = sympy.MatAdd(sympy.MatMul(W_sym, blocks.x), B_sym, evaluate=False)
    out: list[pr.Equation] = []
    if len(net.layers) == 1:  # already one W x + B
        out.append(pr.equation(section, "W=", W_sym, W_expr, names))
        out.append(pr.equation(section, "B=", B_sym, B_expr, names))
        out.append(pr.equation(section, "collapsed", lhs, collapsed, names))
    else:
        # The tutorial's steps: distribute; associate the weights; substitute W, then B.
        nested = nested_block(net, blocks, names)
        distributed = sympy.MatAdd(*terms, evaluate=False)
        out.append(pr.chain(section, "distribute", [lhs, nested, distributed], names))
        x_latex, x_text = pr.latex(blocks.x, names), pr.text(blocks.x, names)
        B_latex, B_text = pr.latex(B_expr, names), pr.text(B_expr, names)
        associated = (
            rf"\left({pr.latex(W_expr, names)}\right) {x_latex} + {B_latex}",
            f"({pr.text(W_expr, names)})·{x_text} + {B_text}",
        )
        equal = sympy.Eq(lhs, distributed, evaluate=False)
        out.append(pr.chain(section, "associate", [lhs, associated], names, equal))
        out.append(pr.equation(section, "W=", W_sym, W_expr, names))
        if len(terms) > 2:
            B_latex, B_text = rf"\left({B_latex}\right)", f"({B_text})"
        substituted = (
            f"{pr.latex(W_sym, names)} {x_latex} + {B_latex}",
            f"{pr.text(W_sym, names)}·{x_text} + {B_text}",
        )
        chain = [lhs, substituted, collapsed]
        out.append(pr.chain(section, "collapsed", chain, names, sympy.Eq(lhs, collapsed)))
        out.append(pr.equation(section, "B=", B_sym, B_expr, names))
    if ctx.entries is not None and ctx.small:
        W, B = path_terms(net, ctx.entries)
        W_entries = sympy.ImmutableMatrix(
            [[polynomial(W[j][k], False) for k in range(net.inputs)] for j in range(net.n_outputs)]
        )
        B_entries = sympy.ImmutableMatrix([[polynomial(B[j], False)] for j in range(net.n_outputs)])
        for name, block, entries in (("W", W_sym, W_entries), ("B", B_sym, B_entries)):
            body_latex, body_text = pr.matrix_of(entries, names)
            out.append(
                pr.Equation(
                    name,
                    section,
                    f"{pr.latex(block, names)} = {body_latex}",
                    f"{pr.text(block, names)} = {body_text}",
                    pr.srepr(sympy.Eq(block, entries, evaluate=False)),
                )
            )
    level = (
        "proved in the entries with symengine"
        if ctx.entries is not None
        else "proved in block algebra"
    )
    verdict = ("= 0", "= 0") if proof_holds else (r"\neq 0", "≠ 0")
    out.append(
        pr.Equation(
            "proof",
            section,
            rf"{pr.latex(lhs, names)} - \left({pr.latex(collapsed, names)}\right) {verdict[0]}"
            rf" \quad \text{{({level})}}",
            f"{pr.text(lhs, names)} − ({pr.text(collapsed, names)}) {verdict[1]}  ({level})",
            pr.srepr(sympy.Eq(lhs, collapsed, evaluate=False)),
        )
    )
    return out


def nonlinear(ctx: Context, example: Counterexample | None) -> list[pr.Equation]:
    """The output is not ``W x + B``, shown by an exact counterexample."""
    net = ctx.network
    out_sym = output_sym(net)
    if example is None:
        # e.g. an affine custom g, or a one-unit softmax (constant 1): claim nothing false.
        return [
            pr.Equation(
                "undecided",
                "Collapse",
                rf"{out_sym.latex()} \overset{{?}}{{=}} W x + B \quad \text{{(not every activation"
                r" is the identity, and no counterexample was found)}",
                f"{out_sym.text()} =? W x + B  (not every activation is the identity, and no "
                "counterexample was found)",
                pr.srepr(None),
            )
        ]
    section = "No collapse"
    claim = pr.Equation(
        "nonlinear",
        section,
        rf"{out_sym.latex()} \neq W x + B \quad \text{{(not affine in }} x\text{{)}}",
        f"{out_sym.text()} ≠ W x + B  (not affine in x)",
        pr.srepr(None),
    )
    latex, text = describe_counterexample(net, example)
    if example.substituted:
        layers = ", ".join(notation.vector(net, "g", i).latex() for i in example.substituted)
        latex = rf"\text{{taking ReLU for }} {layers},\ " + latex
        text = "taking ReLU for the generic g, " + text
    return [
        claim,
        pr.Equation("counterexample", section, latex, text, pr.srepr(example.difference)),
    ]


def activations(ctx: Context) -> list[pr.Equation]:
    """Each concrete activation's formula and derivative, as the tutorial lists them."""
    net = ctx.network
    out = []
    section = "Activation functions"
    z = sympy.Symbol("z", real=True)
    for layer in net.layers:
        choice = layer.activation
        if choice.is_identity or choice.name == "generic":
            continue
        act = activation_for(choice)
        g = notation.vector(net, "g", layer.index)
        mark = net.naming.layer(layer.index)
        formula: Any = act.sympy_expr(z) if act.elementwise else sympy.Symbol("softmax")
        # Softmax reads the whole layer: g_j(z) and the Jacobian ∂g_j/∂z_k.
        lhs = f"{g.latex()}(z)" if act.elementwise else f"{g.latex()}_j(z)"
        prime = "g'" if g.layer is None else rf"g^{{[{g.layer}]\prime}}"
        if not act.elementwise:
            prime = rf"\frac{{\partial {g.latex()}_j}}{{\partial z_k}}"
        derivative = act.derivative_latex
        for unit in ("", "_j", "_k"):
            derivative = derivative.replace(f"g{unit}(z)", f"{g.latex()}{unit}(z)")
        out.append(
            pr.Equation(
                f"g{mark}",
                section,
                f"{lhs} = {act.latex}",
                f"{g.text()}(z) = "
                + (pr.text(formula, ctx.names) if act.elementwise else "exp(z_j) / Σₖ exp(z_k)"),
                pr.srepr(formula),
            )
        )
        out.append(
            pr.Equation(
                f"g'{mark}",
                section,
                f"{prime}{'(z)' if act.elementwise else ''} = {derivative}",
                f"{g.text()}′(z) = "
                + (
                    pr.text(sympy.diff(formula, z), ctx.names)
                    if act.elementwise
                    else "g_j (δ_jk − g_k)"
                ),
                pr.srepr(sympy.diff(formula, z) if act.elementwise else formula),
            )
        )
    return out


def cost(ctx: Context) -> list[pr.Equation]:
    loss = ctx.network.loss
    if loss is None:
        return []
    return [pr.Equation("cost", "Cost", cost_latex(loss), cost_text(loss), pr.srepr(loss))]
