"""The derivation's equations, in the tutorial's order, as printed ``Equation`` s.

One builder per part of the tutorial: the matrix representation of every layer (``layer``), the
composition (``composition``), the collapse of a linear stack (``collapse``), the statement
that a nonlinear one does not collapse (``nonlinear``), the activations (``activations``) and the
cost (``cost``). Entries are printed when ``ctx.entries`` (small enough), shapes otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from .. import notation
from ..activations import Affine, activation_for
from ..model import ActivationChoice, Network
from . import printing as pr
from .collapse import DEEP_LAYERS, Counterexample, collapse_terms, describe_counterexample
from .cost import cost_latex, cost_text
from .entries import (
    BlockSymbols,
    EntrySymbols,
    nested_block,
    nested_entries,
    path_terms,
    polynomial,
    stacked_block,
    unmarked,
)
from .skips import column_blocks

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
        sympy.Eq(block, entries, evaluate=False),
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
        block,
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
        sympy.Eq(sympy.Symbol(eq.lhs.key), rhs, evaluate=False),
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

    def output_block(source: int) -> Any:
        if source < 0:
            return blocks.x
        base = notation.source_base(net, source)
        return blocks.z[source] if base == "z" else blocks.a[source]

    spec_layer = net.layers[index]
    previous = stacked_block([output_block(source) for source in spec_layer.sources])
    terms = [sympy.MatMul(w, previous, evaluate=False), b]
    if spec_layer.add is not None:
        terms.append(output_block(spec_layer.add))
    rhs = sympy.MatAdd(*terms, evaluate=False)
    out.append(pr.equation(section, f"z{mark}", z, rhs, names))
    if spec_layer.concat:  # the stacked product as one product per stacked output
        parts = column_blocks(net, blocks, index, names)
        products = [
            sympy.MatMul(part, output_block(source), evaluate=False)
            for part, source in zip(parts, spec_layer.sources, strict=True)
        ]
        split = sympy.MatAdd(*products, *terms[1:], evaluate=False)
        out.append(pr.equation(section, f"z{mark} split", z, split, names))
    units = net.layers[index].units
    for unit in pr.elided(units, ctx.limit):
        if unit is None:
            out.append(pr.Equation(f"z{mark}_…", section, r"\vdots", "⋮", None))
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
                sympy.Eq(blocks.a[index], sympy.Function(g.key)(z), evaluate=False),
            )
        )
    return out


def hidden_layers(ctx: Context, first: int, last: int) -> list[pr.Equation]:
    """One line for the layers a deep stack does not spell out, ``first`` to ``last``."""
    net = ctx.network
    n = net.naming
    a, b = n.index(first), n.index(last)
    linear = all(layer.activation.is_identity for layer in net.layers[first - 1 : last + 1])
    base = "z" if linear else "a"  # the tutorial's z^{[l]} for layers without activation
    latex = rf"z^{{[l]}} = w^{{[l]}} {base}^{{[l-1]}} + b^{{[l]}}"
    text = f"z^[l] = w^[l]·{base}^[l-1] + b^[l]"
    if not linear:
        latex += r", \quad a^{[l]} = g^{[l]}(z^{[l]})"
        text += ", a^[l] = g^[l](z^[l])"
    latex += rf" \quad \text{{for }} l = {a}, \dots, {b}"
    text += f" for l = {a}, …, {b}"
    section = f"Layers {a} to {b}"
    return [pr.Equation("hidden", section, latex, text, None)]


def composition(ctx: Context) -> list[pr.Equation]:
    """The output as one nested expression, and (small networks) expanded in the entries."""
    net, names = ctx.network, ctx.names
    section = "Composition"
    out_sym = output_sym(net)
    lhs = sympy.MatrixSymbol(out_sym.key, net.n_outputs, 1)
    if len(net.layers) > DEEP_LAYERS and net.has_skips:
        # The last two layers over the outputs they read: a skip would repeat whole subtrees.
        start = len(net.layers) - 2
        rhs = nested_block(net, ctx.blocks, names, start)
        return [pr.equation(section, "composition", lhs, rhs, names)]
    if len(net.layers) > DEEP_LAYERS:
        return [_deep_composition(ctx, lhs)]
    out = [pr.equation(section, "composition", lhs, nested_block(net, ctx.blocks, names), names)]
    if ctx.entries is None or not ctx.small:
        return out
    if net.is_linear and not net.has_skips:
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
                sympy.Eq(sympy.Symbol(entry.key), row, evaluate=False),
            )
        )
    return out


def _deep_composition(ctx: Context, lhs: Any) -> pr.Equation:
    """``a^{[L]} = g^{[L]}(w^{[L]} ⋯ g^{[1]}(w^{[1]} g^{[0]}(w^{[0]} x + b^{[0]}) + b^{[1]}) ⋯ +
    b^{[L]})``: the first two layers and the last, so the line stays short at any depth."""
    net, names, blocks = ctx.network, ctx.names, ctx.blocks
    first = dataclasses.replace(net, layers=net.layers[:2])
    inner = nested_block(first, blocks, names)
    last = len(net.layers) - 1
    w, b = blocks.w[last], blocks.b[last]
    latex = rf"{pr.latex(w, names)} \cdots {pr.latex(inner, names)} \cdots + {pr.latex(b, names)}"
    text = f"{pr.text(w, names)} ⋯ {pr.text(inner, names)} ⋯ + {pr.text(b, names)}"
    if not net.layers[last].activation.is_identity:
        g = notation.vector(net, "g", last)
        latex, text = rf"{g.latex()}\left({latex}\right)", f"{g.text()}({text})"
    return pr.Equation(
        "composition",
        "Composition",
        f"{pr.latex(lhs, names)} = {latex}",
        f"{pr.text(lhs, names)} = {text}",
        None,
    )


def _deep_collapse(ctx: Context, lhs: Any, proof_holds: bool) -> list[pr.Equation]:
    """``W``, ``B`` by their recursion and their products with ⋯, proved by induction."""
    net, names, blocks = ctx.network, ctx.names, ctx.blocks
    last = len(net.layers) - 1
    w = [pr.latex(m, names) for m in blocks.w]
    b = [pr.latex(m, names) for m in blocks.b]
    wt = [pr.text(m, names) for m in blocks.w]
    bt = [pr.text(m, names) for m in blocks.b]
    out_latex, out_text = pr.latex(lhs, names), pr.text(lhs, names)
    verdict = ("=", "=") if proof_holds else (r"\neq", "≠")
    how = "proved by induction on the layers, one block identity per layer shape"
    if not proof_holds:
        how = "the induction step did NOT hold"
    W_l, B_l = r"W^{[l]}", r"B^{[l]}"
    equations = [
        (
            "collapsed",
            rf"{out_latex} {verdict[0]} W x + B \quad \text{{({how})}}",
            f"{out_text} {verdict[1]} W x + B  ({how})",
        ),
        (
            "recursion",
            rf"{W_l} = w^{{[l]}} W^{{[l-1]}}, \quad {B_l} = w^{{[l]}} B^{{[l-1]}} + b^{{[l]}}"
            rf", \quad W^{{[0]}} = {w[0]}, \quad B^{{[0]}} = {b[0]}",
            f"W^[l] = w^[l]·W^[l-1], B^[l] = w^[l]·B^[l-1] + b^[l], W^[0] = {wt[0]}, "
            f"B^[0] = {bt[0]}",
        ),
        (
            "W=",
            rf"W = {w[last]} {w[last - 1]} \cdots {w[0]}",
            f"W = {wt[last]}·{wt[last - 1]}⋯{wt[0]}",
        ),
        (
            "B=",
            rf"B = {w[last]} \cdots {w[1]} {b[0]} + \dots + {w[last]} {b[last - 1]} + {b[last]}",
            f"B = {wt[last]}⋯{wt[1]}·{bt[0]} + … + {wt[last]}·{bt[last - 1]} + {bt[last]}",
        ),
    ]
    return [pr.Equation(name, "Collapse", latex, text, None) for name, latex, text in equations]


def affine_folding(ctx: Context, forms: Sequence[Affine]) -> list[pr.Equation]:
    """Each activation that is affine but not the identity, and how it folds into w and b."""
    net, names = ctx.network, ctx.names
    out = []
    for layer, form in zip(net.layers, forms, strict=True):
        if form.is_identity:
            continue
        g = notation.vector(net, "g", layer.index)
        w, b = (
            pr.latex(ctx.blocks.w[layer.index], names),
            pr.latex(ctx.blocks.b[layer.index], names),
        )
        wt, bt = (
            pr.text(ctx.blocks.w[layer.index], names),
            pr.text(ctx.blocks.b[layer.index], names),
        )
        kind = "constant" if form.is_constant else "affine"
        c, d = sympy.latex(form.c), sympy.latex(form.d)
        ct, dt = sympy.sstr(form.c), sympy.sstr(form.d)
        weight = "" if form.c == 1 else rf"{w} \to {c}\, {w}, \quad "
        weight_text = "" if form.c == 1 else f"{wt} → {ct}·{wt}, "
        scale = "" if form.c == 1 else rf"{c}\, "
        scale_text = "" if form.c == 1 else f"{ct}·"
        out.append(
            pr.Equation(
                f"affine{net.naming.layer(layer.index)}",
                "Collapse",
                rf"{g.latex()}(z) = {form.latex()} \quad \text{{({kind}, proven): }} "
                rf"{weight}{b} \to {scale}{b} + {d}",
                f"{g.text()}(z) = {form.text()}  ({kind}, proven): "
                f"{weight_text}{bt} → {scale_text}{bt} + {dt}",
                sympy.Tuple(form.c, form.d),
            )
        )
    return out


def collapse(
    ctx: Context, proof_holds: bool, output: notation.Sym | None = None
) -> list[pr.Equation]:
    """Distribute, associate, substitute ``W`` and ``B``; their entries; the proof.

    ``output``: the symbol on the left (``a^{[L]}``) when ``ctx`` holds the folded weights of
    affine activations and an all-linear copy of the network."""
    net, names, blocks = ctx.network, ctx.names, ctx.blocks
    section = "Collapse"
    out_sym = output or output_sym(net)
    lhs = sympy.MatrixSymbol(out_sym.key, net.n_outputs, 1)
    if len(net.layers) > DEEP_LAYERS:
        return _deep_collapse(ctx, lhs, proof_holds)
    terms = collapse_terms(blocks)
    W_sym = sympy.MatrixSymbol(names.add(notation.Sym("W")), net.n_outputs, net.inputs)
    B_sym = sympy.MatrixSymbol(names.add(notation.Sym("B")), net.n_outputs, 1)
    W_expr = terms[0].args[0] if len(net.layers) == 1 else sympy.MatMul(*reversed(blocks.w))
    B_expr = sympy.MatAdd(*terms[1:], evaluate=False) if len(terms) > 2 else terms[1]
    collapsed = sympy.MatAdd(sympy.MatMul(W_sym, blocks.x), B_sym, evaluate=False)
    out: list[pr.Equation] = []
    if len(net.layers) == 1:  # nothing to collapse: say so in one line
        z = pr.latex(lhs, names), pr.text(lhs, names)
        rhs = pr.latex(W_expr, names), pr.text(W_expr, names)
        x, b = (pr.latex(blocks.x, names), pr.text(blocks.x, names)), terms[1]
        return [
            pr.Equation(
                "collapsed",
                section,
                rf"{z[0]} = {rhs[0]} {x[0]} + {pr.latex(b, names)} \quad"
                r" \text{(a single linear layer is already of the form } W x + b\text{)}",
                f"{z[1]} = {rhs[1]}·{x[1]} + {pr.text(b, names)}  (a single linear layer is "
                "already of the form W x + b)",
                sympy.Eq(lhs, sympy.MatAdd(terms[0], b, evaluate=False), evaluate=False),
            )
        ]
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
                    sympy.Eq(block, entries, evaluate=False),
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
            sympy.Eq(lhs, collapsed, evaluate=False),
        )
    )
    return out


def nonlinear(
    ctx: Context, example: Counterexample | None, undecided: str | None = None
) -> list[pr.Equation]:
    """The output is not ``W x + B``, shown by an exact counterexample, one short line a step."""
    net = ctx.network
    out_sym = output_sym(net)
    if example is None:
        # e.g. an affine custom g, a one-unit softmax (constant 1), or too deep to search.
        why = undecided or "no counterexample was found"
        return [
            pr.Equation(
                "undecided",
                "Collapse",
                rf"{out_sym.latex()} \overset{{?}}{{=}} W x + B \quad \text{{(not every activation"
                rf" is the identity, and {why})}}",
                f"{out_sym.text()} =? W x + B  (not every activation is the identity, and {why})",
                None,
            )
        ]
    section = "No collapse"
    out = [
        pr.Equation(
            "nonlinear",
            section,
            rf"{out_sym.latex()} \neq W x + B \quad \text{{(not affine in }} x\text{{): take}}",
            f"{out_sym.text()} ≠ W x + B  (not affine in x): take",
            None,
        )
    ]
    if example.substituted:
        layers = [notation.vector(net, "g", i) for i in example.substituted]
        out.append(
            pr.Equation(
                "substituted",
                section,
                rf"{', '.join(g.latex() for g in layers)} = \operatorname{{ReLU}}"
                r" \quad \text{(a concrete activation for the generic one)}",
                f"{', '.join(g.text() for g in layers)} = ReLU  (a concrete activation for the "
                "generic one)",
                None,
            )
        )
    lines = describe_counterexample(net, example)
    names = ["parameters", "f", "f(t1)", "f(t2)", "f(mid)", "counterexample"]
    for name, (latex, text) in zip(names, lines, strict=True):
        source = example.difference if name == "counterexample" else None
        out.append(pr.Equation(name, section, latex, text, source))
    return out


def activations(ctx: Context) -> list[pr.Equation]:
    """Each concrete activation's formula and derivative, as the tutorial lists them."""
    net = ctx.network
    out = []
    section = "Activation functions"
    z = sympy.Symbol("z", real=True)
    seen: set[ActivationChoice] = set()
    for layer in net.layers:
        choice = layer.activation
        if len(net.layers) > DEEP_LAYERS and choice in seen:
            continue  # a deep stack lists each activation once, at its first layer
        seen.add(choice)
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
                + (
                    act.text or pr.text(formula, ctx.names)
                    if act.elementwise
                    else "exp(z_j) / Σₖ exp(z_k)"
                ),
                formula,
            )
        )
        out.append(
            pr.Equation(
                f"g'{mark}",
                section,
                f"{prime}{'(z)' if act.elementwise else ''} = {derivative}",
                f"{g.text()}′(z) = "
                + (
                    act.derivative_text or pr.text(sympy.diff(formula, z), ctx.names)
                    if act.elementwise
                    else "g_j (δ_jk − g_k)"
                ),
                sympy.diff(formula, z) if act.elementwise else formula,
            )
        )
    return out


def cost(ctx: Context) -> list[pr.Equation]:
    loss = ctx.network.loss
    if loss is None:
        return []
    return [pr.Equation("cost", "Cost", cost_latex(loss), cost_text(loss), loss)]
