"""Skip connections in the derivation (issue 17): proofs, counterexample and collapse equations.

A layer with skips computes ``z^{[l]} = w^{[l]} [a^{[l-1]}; a^{[k_1]}; …] + b^{[l]} + a^{[m]}``
(``concat`` stacks, ``add`` adds). Splitting ``w^{[l]}`` by columns into one block per stacked
output, ``w^{[l]}_{(s)}``, the product is the sum ``Σ_s w^{[l]}_{(s)} a^{[s]}``. When every
activation is the identity, every output is affine in ``x``: ``a^{[s]} = W^{[s]} x + B^{[s]}``
with ``W^{[x]} = I`` and ``B^{[x]} = 0`` for the input itself, so

    W^{[l]} = w^{[l]} [W^{[l-1]}; W^{[k_1]}; …] + W^{[m]}
    B^{[l]} = w^{[l]} [B^{[l-1]}; B^{[k_1]}; …] + b^{[l]} + B^{[m]}

and ``a^{[L]} = W x + B`` with ``W = W^{[L]}``, ``B = B^{[L]}``. An affine activation
``g(z) = c z + d`` (``2*z + 1``; ``activations.affine_form``) scales the whole pre-activation,
the added output included: ``W^{[l]} = c (…)``, ``B^{[l]} = c (…) + d``, so its ``c`` cannot be
folded into ``w`` and ``b`` alone as in a chain; ``forms`` (one per layer, None: all the
identity) carries it through every step below. That recursion is proved twice:
in the entries (symengine expands the layer-by-layer output minus ``W x + B``) and in block
algebra, one induction step per layer with fresh ``MatrixSymbol`` s for the sources' ``W``, ``B``.
A nonlinear network gets the chain counterexample of ``collapse.py``, with the skips followed:
every other unit of an output holds one common value, so two scalars per output suffice.

Kept apart from ``collapse.py`` (the plain chain) so both can change independently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sympy

from .. import notation
from ..activations import Affine, activation_for
from ..model import INPUT, ActivationChoice, Network
from . import printing as pr
from .collapse import Counterexample, midpoint_counterexample, too_deep
from .entries import BlockSymbols, EntrySymbols

if TYPE_CHECKING:
    from .equations import Context


# --- proofs ----------------------------------------------------------------------------------


def _scaled(form: Affine | None) -> tuple[Any, Any] | None:
    """``(c, d)`` of a layer's ``g(z) = c z + d``; None for the identity (nothing to apply)."""
    if form is None or form.is_identity:
        return None
    return form.c, form.d


def _maps_symengine(
    network: Network, ws: list[Any], bs: list[Any], forms: Sequence[Affine] | None = None
) -> tuple[Any, Any]:
    """``W^{[L]}``, ``B^{[L]}`` by the recursion above, as symengine matrices (no ``x``)."""
    import symengine as se

    maps: dict[int, tuple[Any, Any]] = {
        INPUT: (se.eye(network.inputs), se.zeros(network.inputs, 1))
    }
    for layer in network.layers:
        parts = [maps[source] for source in layer.sources]
        M = parts[0][0]
        c = parts[0][1]
        for more in parts[1:]:
            M = M.col_join(more[0])
            c = c.col_join(more[1])
        W = ws[layer.index] * M
        B = ws[layer.index] * c + bs[layer.index]
        if layer.add is not None:
            W = W + maps[layer.add][0]
            B = B + maps[layer.add][1]
        scale = _scaled(forms[layer.index] if forms else None)
        if scale is not None:
            c, d = se.sympify(scale[0]), se.sympify(scale[1])
            W, B = W * c, B * c + se.ones(B.rows, 1) * d
        maps[layer.index] = (W, B)
    return maps[len(network.layers) - 1]


def prove_entries(network: Network, forms: Sequence[Affine] | None = None) -> bool:
    """symengine: the output computed layer by layer (stacking and adding the entries of ``x``
    and the earlier outputs, applying each ``g(z) = c z + d``) minus ``W x + B`` expands to
    zero in every entry."""
    import symengine as se

    def matrix(base: str, rows: int, cols: int) -> Any:
        names = [se.Symbol(f"{base}_{i}_{j}") for i in range(rows) for j in range(cols)]
        return se.Matrix(rows, cols, names)

    x = matrix("x", network.inputs, 1)
    ws = [matrix(f"w{i.index}", i.units, i.fan_in) for i in network.layers]
    bs = [matrix(f"b{i.index}", i.units, 1) for i in network.layers]
    outputs: dict[int, Any] = {INPUT: x}
    for layer in network.layers:
        stacked = outputs[layer.sources[0]]
        for source in layer.sources[1:]:
            stacked = stacked.col_join(outputs[source])
        z = ws[layer.index] * stacked + bs[layer.index]
        if layer.add is not None:
            z = z + outputs[layer.add]
        scale = _scaled(forms[layer.index] if forms else None)
        if scale is not None:  # g applied entry by entry: c z_j + d
            c, d = se.sympify(scale[0]), se.sympify(scale[1])
            z = se.Matrix(z.rows, 1, [c * entry + d for entry in z])
        outputs[layer.index] = z
    W, B = _maps_symengine(network, ws, bs, forms)
    difference = (outputs[len(network.layers) - 1] - (W * x + B)).expand()
    return all(entry == 0 for entry in difference)


def column_blocks(
    network: Network, blocks: BlockSymbols, index: int, names: pr.Names | None = None
) -> list[Any]:
    """``w^{[l]}_{(s)}``: the columns of ``w^{[l]}`` that multiply source ``s``, one per source
    (``(x)`` for the input, ``(k)`` for layer k's output), registered in ``names`` to print."""
    layer = network.layers[index]
    if not layer.concat:
        return [blocks.w[index]]
    whole = notation.vector(network, "w", index)
    out = []
    for source in layer.sources:
        tag = "x" if source == INPUT else str(network.naming.index(source))
        name = f"{blocks.w[index].name}_from_{tag}"
        if names is not None:
            names.latex[name] = f"{whole.latex()}_{{({tag})}}"
            names.text[name] = f"{whole.text()}₍{tag}₎" if tag != "x" else f"{whole.text()}₍ₓ₎"
        out.append(sympy.MatrixSymbol(name, layer.units, network.width(source)))
    return out


def prove_blocks(
    network: Network, blocks: BlockSymbols, forms: Sequence[Affine] | None = None
) -> bool:
    """SymPy, by induction on the layers: if every source is ``W^{[s]} x + B^{[s]}`` (fresh
    symbols; ``I x + 0`` for the input), then ``c (Σ_s w_{(s)} a^{[s]} + b + a^{[m]}) + d``
    expands to ``c (Σ_s w_{(s)} W^{[s]} + W^{[m]}) x + (c (Σ_s w_{(s)} B^{[s]} + b + B^{[m]})
    + d)`` (``c = 1``, ``d = 0`` for the identity). The step holds for any sizes, so each
    layer's shape signature (with its ``c``, ``d``) is proved once."""
    x = blocks.x
    n = network.inputs
    proved: dict[tuple[Any, ...], bool] = {}

    def affine(source: int, tag: str) -> tuple[Any, Any]:
        if source == INPUT:
            return sympy.Identity(n), sympy.ZeroMatrix(n, 1)
        width = network.width(source)
        return (
            sympy.MatrixSymbol(f"W_{tag}", width, n),
            sympy.MatrixSymbol(f"B_{tag}", width, 1),
        )

    for layer in network.layers:
        signature = (
            layer.units,
            tuple((s == INPUT, network.width(s)) for s in layer.sources),
            None if layer.add is None else (layer.add == INPUT, network.width(layer.add)),
            _scaled(forms[layer.index] if forms else None),
        )
        if signature in proved:
            if not proved[signature]:
                return False
            continue
        parts = column_blocks(network, blocks, layer.index)
        maps = [affine(s, f"s{i}") for i, s in enumerate(layer.sources)]
        b = blocks.b[layer.index]
        layered: Any = sympy.MatAdd(
            *(w * (W * x + B) for w, (W, B) in zip(parts, maps, strict=True)), b
        )
        W_total: Any = sympy.MatAdd(*(w * W for w, (W, _) in zip(parts, maps, strict=True)))
        B_total: Any = sympy.MatAdd(*(w * B for w, (_, B) in zip(parts, maps, strict=True)), b)
        if layer.add is not None:
            W_add, B_add = affine(layer.add, "added")
            layered = layered + (W_add * x + B_add)
            W_total, B_total = W_total + W_add, B_total + B_add
        scale = _scaled(forms[layer.index] if forms else None)
        if scale is not None:
            c, d = scale
            ones = d * sympy.OneMatrix(layer.units, 1)
            layered = c * layered + ones
            W_total, B_total = c * W_total, c * B_total + ones
        difference = (sympy.expand(layered) - (W_total * x + B_total)).doit()
        difference = sympy.expand(difference).doit()
        proved[signature] = bool(difference == sympy.ZeroMatrix(*difference.shape))
        if not proved[signature]:
            return False
    return True


# --- the counterexample ----------------------------------------------------------------------


def find_counterexample(network: Network) -> Counterexample | None:
    """``collapse.find_counterexample`` with skips: ``w^{[l]}_{00} = 1``, all else 0, so unit 0
    of ``z^{[l]}`` is unit 0 of the previous output plus unit 0 of an ``add`` source, and every
    other unit of ``z^{[l]}`` is the ``add`` source's (0 without one). Each output is tracked as
    (unit 0, the common value of the others), exactly."""
    if too_deep(network) is not None:
        return None
    substituted = {i.index: "relu" for i in network.layers if i.activation.name == "generic"}
    choices = [
        ActivationChoice("relu") if i.index in substituted else i.activation for i in network.layers
    ]
    params: dict[str, Any] = {}
    for layer in network.layers:
        params[f"W{layer.index}"] = sympy.ImmutableSparseMatrix(
            layer.units, layer.fan_in, {(0, 0): sympy.Integer(1)}
        )
        params[f"b{layer.index}"] = sympy.ImmutableSparseNDimArray({}, (layer.units,))

    def h(t: Any) -> Any:
        values: dict[int, tuple[Any, Any]] = {INPUT: (t, sympy.Integer(0))}
        for layer, choice in zip(network.layers, choices, strict=True):
            z0, rest = values[layer.index - 1][0], sympy.Integer(0)
            if layer.add is not None:
                z0, rest = z0 + values[layer.add][0], values[layer.add][1]
            if choice.name == "softmax":
                e0, er = sympy.exp(z0), sympy.exp(rest)
                total = e0 + (layer.units - 1) * er
                values[layer.index] = (e0 / total, er / total)
            else:
                g = activation_for(choice).sympy_expr
                values[layer.index] = (g(z0), g(rest))
        return values[len(network.layers) - 1][0]

    return midpoint_counterexample(h, network.inputs, params, substituted)


# --- W and B -----------------------------------------------------------------------------------


def collapse_entries(
    network: Network, entries: EntrySymbols, forms: Sequence[Affine] | None = None
) -> tuple[Any, Any]:
    """``W`` and ``B`` in the entries (SymPy, expanded): the recursion on explicit matrices."""
    n = network.inputs
    maps: dict[int, tuple[Any, Any]] = {INPUT: (sympy.eye(n), sympy.zeros(n, 1))}
    for layer in network.layers:
        parts = [maps[source] for source in layer.sources]
        M = sympy.Matrix.vstack(*(part[0] for part in parts))
        c = sympy.Matrix.vstack(*(part[1] for part in parts))
        w = sympy.Matrix(entries.w[layer.index])
        W = w * M
        B = w * c + sympy.Matrix(entries.b[layer.index])
        if layer.add is not None:
            W, B = W + maps[layer.add][0], B + maps[layer.add][1]
        scale = _scaled(forms[layer.index] if forms else None)
        if scale is not None:
            W, B = W * scale[0], B * scale[0] + sympy.ones(B.rows, 1) * scale[1]
        maps[layer.index] = (W.applyfunc(sympy.expand), B.applyfunc(sympy.expand))
    W, B = maps[len(network.layers) - 1]
    return sympy.ImmutableMatrix(W), sympy.ImmutableMatrix(B)


def _affine_symbols(network: Network, source: int) -> tuple[str, str, str, str]:
    """``W^{[s]}``, ``B^{[s]}`` as (LaTeX, LaTeX, text, text); ``I``, ``0`` for the input."""
    if source == INPUT:
        return "I", "0", "I", "0"
    mark = network.naming.index(source)
    return rf"W^{{[{mark}]}}", rf"B^{{[{mark}]}}", f"W^[{mark}]", f"B^[{mark}]"


def _stack(parts: list[str], latex: bool) -> str:
    if len(parts) == 1:
        return parts[0]
    if latex:
        return r"\begin{bmatrix} " + r" \\ ".join(parts) + r" \end{bmatrix}"
    return "[" + "; ".join(parts) + "]"


def _activation_line(net: Network, index: int, form: Affine) -> pr.Equation:
    """``g^{[l]}(z) = 2 z + 1 (affine, proven)``: it scales the whole pre-activation."""
    g = notation.vector(net, "g", index)
    kind = "constant" if form.is_constant else "affine"
    layer = net.layers[index]
    scope = ", the added output included" if layer.add is not None else ""
    scope_latex = rf"\text{{{scope}}}" if scope else ""
    return pr.Equation(
        f"affine{net.naming.layer(index)}",
        "Collapse",
        rf"{g.latex()}(z) = {form.latex()} \quad \text{{({kind}, proven): it applies to all of"
        rf" }} z{scope_latex}",
        f"{g.text()}(z) = {form.text()}  ({kind}, proven): it applies to all of z{scope}",
        pr.srepr(sympy.Tuple(form.c, form.d)),
    )


def _apply(
    form: Affine, W_latex: str, W_text: str, B_latex: str, B_text: str
) -> tuple[str, str, str, str]:
    """``c (W) ``, ``c (B) + d``: the step's maps through ``g(z) = c z + d``."""
    c, d = form.c, form.d
    if form.is_constant:
        return "0", "0", sympy.latex(d), sympy.sstr(d)
    if c != 1:
        cl, ct = sympy.latex(c), sympy.sstr(c)

        def times(latex: str, text: str) -> tuple[str, str]:
            if " " not in text:  # one symbol: no parentheses
                return f"{cl} {latex}", f"{ct}·{text}"
            return rf"{cl} \left({latex}\right)", f"{ct}·({text})"

        W_latex, W_text = times(W_latex, W_text)
        B_latex, B_text = times(B_latex, B_text)
    if d != 0:
        sign = "-" if d.is_negative else "+"
        dl, dt = sympy.latex(abs(d)), sympy.sstr(abs(d))
        B_latex, B_text = f"{B_latex} {sign} {dl}", f"{B_text} {sign} {dt}"
    return W_latex, W_text, B_latex, B_text


def collapse_equations(
    ctx: Context,
    proof_holds: bool,
    W_B: tuple[Any, Any] | None,
    forms: Sequence[Affine] | None = None,
) -> list[pr.Equation]:
    """The recursion written out layer by layer (identity blocks and stacked blocks shown; an
    affine activation's ``c`` and ``d`` around the whole step), ``W`` and ``B`` (entries when
    small), and the proof line."""
    net, names = ctx.network, ctx.names
    section = "Collapse"
    out: list[pr.Equation] = []
    for layer in net.layers:
        l = layer.index  # noqa: E741 (the tutorial's layer index)
        w = notation.vector(net, "w", l)
        b = notation.vector(net, "b", l)
        Ws = [_affine_symbols(net, s) for s in layer.sources]
        if layer.sources == (INPUT,):  # w I = w
            W_latex, W_text = w.latex(), w.text()
        else:
            W_latex = rf"{w.latex()} {_stack([p[0] for p in Ws], True)}"
            W_text = f"{w.text()}·{_stack([p[2] for p in Ws], False)}"
        all_zero = all(p[1] == "0" for p in Ws)
        B_latex, B_text = b.latex(), b.text()
        if not all_zero:
            B_latex = rf"{w.latex()} {_stack([p[1] for p in Ws], True)} + {b.latex()}"
            B_text = f"{w.text()}·{_stack([p[3] for p in Ws], False)} + {b.text()}"
        if layer.add is not None:
            added = _affine_symbols(net, layer.add)
            W_latex, W_text = f"{W_latex} + {added[0]}", f"{W_text} + {added[2]}"
            if added[1] != "0":
                B_latex, B_text = f"{B_latex} + {added[1]}", f"{B_text} + {added[3]}"
        form = forms[l] if forms else None
        if form is not None and not form.is_identity:
            out.append(_activation_line(net, l, form))
            W_latex, W_text, B_latex, B_text = _apply(form, W_latex, W_text, B_latex, B_text)
        own = _affine_symbols(net, l)
        out_sym = notation.source_vector(net, l)
        out.append(
            pr.Equation(
                f"W,B{net.naming.layer(l)}",
                section,
                rf"{out_sym.latex()} = {own[0]} x + {own[1]}, \quad {own[0]} = {W_latex},"
                rf" \quad {own[1]} = {B_latex}",
                f"{out_sym.text()} = {own[2]}·x + {own[3]},  {own[2]} = {W_text},  "
                f"{own[3]} = {B_text}",
                None,
            )
        )
    last = _affine_symbols(net, len(net.layers) - 1)
    out_sym = notation.source_vector(net, len(net.layers) - 1)
    verdict = ("=", "=") if proof_holds else (r"\neq", "≠")
    level = (
        "proved in the entries with symengine and in block algebra, layer by layer"
        if ctx.entries is not None
        else "proved in block algebra, layer by layer"
    )
    if not proof_holds:
        level = "the proof did NOT hold"
    out.append(
        pr.Equation(
            "collapsed",
            section,
            rf"{out_sym.latex()} {verdict[0]} W x + B, \quad W = {last[0]}, \quad B = {last[1]}"
            rf" \quad \text{{({level})}}",
            f"{out_sym.text()} {verdict[1]} W·x + B,  W = {last[2]},  B = {last[3]}  ({level})",
            None,
        )
    )
    if W_B is not None and ctx.small:
        for name, entries in (("W", W_B[0]), ("B", W_B[1])):
            body_latex, body_text = pr.matrix_of(entries, names)
            out.append(
                pr.Equation(
                    name,
                    section,
                    f"{name} = {body_latex}",
                    f"{name} = {body_text}",
                    entries,
                )
            )
    return out
