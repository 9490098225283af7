"""The network's symbols: entry matrices (``w_{00}`` …) and block symbols (``w^{[0]}`` as a whole).

Every SymPy name is a ``notation.Sym.key`` and every printed form comes from ``notation``, so the
equations spell symbols exactly as the diagrams do. This module builds symbols and forward passes;
it proves nothing (``collapse.py``) and prints nothing (``printing.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .. import notation
from ..activations import activation_for
from ..errors import SpecError
from ..model import Network
from .printing import Names

Term = tuple[sympy.Symbol, ...]  # one monomial as its factors, in the order a reader multiplies


def unmarked(sym: notation.Sym) -> notation.Sym:
    """An entry as the tutorial prints it inside its matrix: ``w^{[0]}`` holds ``w_{00}``."""
    return dataclasses.replace(sym, layer=None)


@dataclass(frozen=True)
class EntrySymbols:
    """``x``, ``w^{[l]}``, ``b^{[l]}`` with explicit entries (SymPy ``ImmutableMatrix``)."""

    x: sympy.ImmutableMatrix
    w: tuple[sympy.ImmutableMatrix, ...]
    b: tuple[sympy.ImmutableMatrix, ...]
    names: Names


def entry_symbols(network: Network, names: Names) -> EntrySymbols:
    def symbol(sym: notation.Sym) -> sympy.Symbol:
        return sympy.Symbol(names.add(sym))

    x = sympy.ImmutableMatrix(
        [[symbol(notation.layer_input(network, 0, k))] for k in range(network.inputs)]
    )
    ws, bs = [], []
    for layer in network.layers:
        ws.append(
            # Rows from Python ints: SymPy's (rows, cols, lambda) form passes SymPy Integers,
            # which made printing every index ten times slower.
            sympy.ImmutableMatrix(
                [
                    [
                        symbol(notation.weight(network, layer.index, j, k))
                        for k in range(layer.fan_in)
                    ]
                    for j in range(layer.units)
                ]
            )
        )
        bs.append(
            sympy.ImmutableMatrix(
                [
                    [symbol(notation.bias(network, layer.index, j, in_matrix=True))]
                    for j in range(layer.units)
                ]
            )
        )
    keys = [s.name for m in (x, *ws, *bs) for s in m]
    if len(set(keys)) != len(keys):
        clash = sorted({k for k in keys if keys.count(k) > 1})
        raise SpecError(
            f"input name(s) {', '.join(clash)} clash with the weight and bias symbols; rename them",
            path=network.source,
            key="inputs",
        )
    return EntrySymbols(x, tuple(ws), tuple(bs), names)


def layer_function(network: Network, layer: int, names: Names) -> Any:
    """The tutorial's unspecified ``g^{[l]}``: an undefined SymPy function printed by name."""
    sym = notation.vector(network, "g", layer)
    return sympy.Function(names.add(sym))


def activate(network: Network, layer: int, z: sympy.MatrixBase, names: Names) -> Any:
    """``a^{[l]} = g^{[l]}(z^{[l]})`` in the entries, with the layer's concrete formula."""
    choice = network.layers[layer].activation
    if choice.is_identity:
        return z
    if choice.name == "generic":
        g = layer_function(network, layer, names)
        return z.applyfunc(g)
    if choice.name == "softmax":
        exps = [sympy.exp(v) for v in z]
        total = sympy.Add(*exps)
        return sympy.ImmutableMatrix([[e / total] for e in exps])
    formula = activation_for(choice).sympy_expr
    return z.applyfunc(formula)


def layer_forward(
    network: Network,
    index: int,
    symbols: EntrySymbols,
    inputs: Sequence[Any],
    added: Sequence[Any] | None = None,
) -> sympy.ImmutableMatrix:
    """``a^{[l]} = g^{[l]}(w^{[l]} a^{[l-1]} + b^{[l]})`` in the entries, for given inputs
    (a concatenating layer's stacked ones); ``added`` is an ``add`` skip's output."""
    layer = network.layers[index]
    w, b = symbols.w[index], symbols.b[index]
    # Sums built directly: SymPy's symbolic matrix product is several times slower here.
    z = sympy.ImmutableMatrix(
        [
            [
                sympy.Add(
                    *(w[j, k] * inputs[k] for k in range(layer.fan_in)),
                    b[j],
                    *(() if added is None else (added[j],)),
                )
            ]
            for j in range(layer.units)
        ]
    )
    return sympy.ImmutableMatrix(activate(network, index, z, symbols.names))


def stacked(network: Network, index: int, outputs: Sequence[Any]) -> list[Any]:
    """Layer ``index``'s input entries, ``outputs[source + 1]`` stacked in ``sources`` order
    (``outputs[0]`` is the input): ``[a^{[l-1]}; a^{[k]} …]``."""
    return [v for source in network.layers[index].sources for v in outputs[source + 1]]


def forward(network: Network, symbols: EntrySymbols) -> sympy.ImmutableMatrix:
    """``a^{[L]}`` in the entries, layer after layer from ``x``."""
    outputs: list[Any] = [list(symbols.x)]
    a = symbols.x
    for layer in network.layers:
        added = None if layer.add is None else outputs[layer.add + 1]
        a = layer_forward(
            network, layer.index, symbols, stacked(network, layer.index, outputs), added
        )
        outputs.append(list(a))
    return a


def nested_entries(network: Network, symbols: EntrySymbols) -> list[Any]:
    """The output entries as the reader composes them: ``g^{[1]}(w^{[1]}_{00} g^{[0]}(…) + …)``.

    Terms stay in input order (built unevaluated); activations print as ``g^{[l]}``.
    """
    outputs: list[list[Any]] = [list(symbols.x)]
    for layer in network.layers:
        w, b = symbols.w[layer.index], symbols.b[layer.index]
        a = stacked(network, layer.index, outputs)
        added = [] if layer.add is None else outputs[layer.add + 1]
        z = [
            sympy.Add(
                *[sympy.Mul(w[j, k], a[k], evaluate=False) for k in range(layer.fan_in)],
                b[j],
                *added[j : j + 1],
                evaluate=False,
            )
            for j in range(layer.units)
        ]
        if not layer.activation.is_identity:
            g = layer_function(network, layer.index, symbols.names)
            z = [g(v) for v in z]
        outputs.append(z)
    return outputs[-1]


def path_terms(
    network: Network, symbols: EntrySymbols
) -> tuple[list[list[list[Term]]], list[list[Term]]]:
    """``W = w^{[L]}⋯w^{[0]}`` and ``B = Σ_l w^{[L]}⋯w^{[l+1]} b^{[l]} `` as monomials per entry.

    Each monomial lists its factors from the last layer back to the first (one path through
    the network), so a printed entry reads like the product ``w^{[1]} w^{[0]}`` it came from.
    """
    W: list[list[list[Term]]] = [[[(v,)] for v in row] for row in symbols.w[0].tolist()]
    B: list[list[Term]] = [[(v,)] for v in symbols.b[0]]
    for layer in network.layers[1:]:
        w, b = symbols.w[layer.index], symbols.b[layer.index]
        cols = len(W[0])
        W = [
            [[(w[j, i], *t) for i in range(layer.fan_in) for t in W[i][k]] for k in range(cols)]
            for j in range(layer.units)
        ]
        B = [
            [*((w[j, i], *t) for i in range(layer.fan_in) for t in B[i]), (b[j],)]
            for j in range(layer.units)
        ]
    return W, B


def polynomial(terms: list[Term], evaluate: bool = True) -> Any:
    """A sum of monomials; unevaluated keeps the path order for printing."""
    if not evaluate:
        if len(terms) == 1:
            return sympy.Mul(*terms[0], evaluate=False) if len(terms[0]) > 1 else terms[0][0]
        return sympy.Add(*(sympy.Mul(*t, evaluate=False) for t in terms), evaluate=False)
    return sympy.Add(*(sympy.Mul(*t) for t in terms))


@dataclass(frozen=True)
class BlockSymbols:
    """``x``, ``w^{[l]}``, ``b^{[l]}`` as ``MatrixSymbol`` of the right shapes: any size."""

    x: sympy.MatrixSymbol
    w: tuple[sympy.MatrixSymbol, ...]
    b: tuple[sympy.MatrixSymbol, ...]
    z: tuple[sympy.MatrixSymbol, ...]
    a: tuple[sympy.MatrixSymbol, ...]


def block_symbols(network: Network, names: Names) -> BlockSymbols:
    def block(base: str, layer: int, rows: int, cols: int) -> sympy.MatrixSymbol:
        return sympy.MatrixSymbol(names.add(notation.vector(network, base, layer)), rows, cols)

    x = sympy.MatrixSymbol(names.add(notation.Sym("x")), network.inputs, 1)
    return BlockSymbols(
        x,
        tuple(block("w", i.index, i.units, i.fan_in) for i in network.layers),
        tuple(block("b", i.index, i.units, 1) for i in network.layers),
        tuple(block("z", i.index, i.units, 1) for i in network.layers),
        tuple(block("a", i.index, i.units, 1) for i in network.layers),
    )


def apply_layer_function(network: Network, layer: int, arg: Any, names: Names) -> Any:
    """``g^{[l]}(arg)`` element-wise on a block expression (a SymPy ``MatrixExpr``)."""
    g = layer_function(network, layer, names)
    z = sympy.Symbol("z")
    return ElementwiseApplyFunction(sympy.Lambda(z, g(z)), arg)


def stacked_block(parts: Sequence[Any]) -> Any:
    """``[a^{[l-1]}; a^{[k]} …]``: column blocks stacked, or the one block alone."""
    if len(parts) == 1:
        return parts[0]
    return sympy.BlockMatrix([[part] for part in parts])


def nested_block(network: Network, blocks: BlockSymbols, names: Names, start: int = 0) -> Any:
    """``g^{[1]}(w^{[1]} g^{[0]}(w^{[0]} x + b^{[0]}) + b^{[1]})``, kept as written.

    A skip repeats the source's expression where it is read: ``w^{[1]} [⋯; x] + b^{[1]} + x``.
    From ``start`` on: the outputs of the layers before it stay symbols (``a^{[k]}``).
    """
    outputs: list[Any] = [blocks.x]
    for layer in network.layers[:start]:
        linear = layer.activation.is_identity
        outputs.append(blocks.z[layer.index] if linear else blocks.a[layer.index])
    for layer in network.layers[start:]:
        i = layer.index
        a = stacked_block([outputs[source + 1] for source in layer.sources])
        terms = [sympy.MatMul(blocks.w[i], a, evaluate=False), blocks.b[i]]
        if layer.add is not None:
            terms.append(outputs[layer.add + 1])
        a = sympy.MatAdd(*terms, evaluate=False)
        if not layer.activation.is_identity:
            a = apply_layer_function(network, i, a, names)
        outputs.append(a)
    return outputs[-1]
