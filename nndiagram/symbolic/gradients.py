"""Backpropagation derived with SymPy: matrix-form equations, proofs, and entry-level gradients.

- ``backprop_equations`` states, per layer, ``dz^{[L]}``, ``dW^{[l]}``, ``db^{[l]}`` and
  ``dz^{[l]}`` as SymPy matrix expressions (printed as LaTeX) for a network's activations and loss.
- ``prove_output_gradient`` proves the output-layer ``dz`` by the chain rule for generic entries:
  ``a - y`` for sigmoid + bce and for softmax + ce (given ``Σ_k y_k = 1``), ``2 (a - y) ⊙ g'(z)``
  for mse with any g.
- ``explicit_gradients`` differentiates ``J`` entry by entry for a small network and evaluates
  the matrix-form equations on the same explicit entries; ``prove_matrix_form`` shows the two
  are equal, and ``gradient_function`` lambdifies the entry-level gradients for ``check``.

``dz`` is the derivative of one sample's loss, ``∂L/∂z``; the ``1/m`` of ``J`` enters in
``dW`` and ``db``, as in the NumPy backward pass of ``backprop.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter

from ..activations import activation_for
from ..model import INPUT, SIMPLIFIED, Network


class _BackpropPrinter(LatexPrinter):
    """``a^{[0]T}`` rather than ``(a^{[0]})^T``, ``⊙`` for Hadamard, ``\\mathbf{1}`` for ones."""

    def _print_Transpose(self, expr: Any) -> str:
        arg = expr.arg
        if isinstance(arg, sympy.MatrixSymbol):
            return f"{arg.name}^{{T}}" if "^" not in arg.name else arg.name[:-1] + "T}"
        return str(super()._print_Transpose(expr))

    def _print_HadamardProduct(self, expr: Any) -> str:
        # A factor to the Hadamard power -1 is element-wise division: print it as a fraction.
        over = [f.base for f in expr.args if isinstance(f, sympy.HadamardPower) and f.exp == -1]
        if over:
            top = [f for f in expr.args if not isinstance(f, sympy.HadamardPower) or f.exp != -1]
            num = self._print(sympy.HadamardProduct(*top) if len(top) > 1 else top[0])
            den = self._print(sympy.HadamardProduct(*over) if len(over) > 1 else over[0])
            return rf"\frac{{{num}}}{{{den}}}"
        return str(super()._print_HadamardProduct(expr)).replace(r"\circ", r"\odot")

    def _print_MatAdd(self, expr: Any) -> str:
        # The written order: positive terms first, so ``a - y`` rather than ``-y + a``.
        terms = sorted(expr.args, key=lambda t: bool(t.could_extract_minus_sign()))
        out = self._print(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                out += " - " + self._factor(-term)
            else:
                out += " + " + self._print(term)
        return str(out)

    def _print_MatMul(self, expr: Any) -> str:
        coeff, factors = expr.as_coeff_matrices()
        parts = [self._factor(f) for f in factors]
        if coeff == -1:
            return "-" + " ".join(parts)
        if coeff != 1:
            parts.insert(0, self._print(coeff))
        return " ".join(parts)

    def _factor(self, expr: Any) -> str:
        text = str(self._print(expr))
        fraction = text.startswith(r"\frac")
        if isinstance(expr, sympy.MatAdd | sympy.HadamardProduct) and not fraction:
            return rf"\left({text}\right)"
        return text

    def _print_OneMatrix(self, expr: Any) -> str:
        return r"\mathbf{1}"


def latex(expr: Any) -> str:
    return str(_BackpropPrinter().doprint(expr))


# --- matrix-form equations --------------------------------------------------------------------


@dataclass(frozen=True)
class Equation:
    lhs: str
    rhs: str
    note: str = ""

    def to_latex(self) -> str:
        return f"{self.lhs} &= {self.rhs}"


def backprop_equations(network: Network, loss: str) -> list[Equation]:
    """The backward pass of ``network`` under ``loss``, output layer first."""
    if network.has_skips:
        return _skip_backprop_equations(network, loss)
    m = sympy.Symbol("m", positive=True)
    naming = network.naming

    def sym(base: str, layer: int, rows: int, cols: Any = m) -> sympy.MatrixSymbol:
        return sympy.MatrixSymbol(f"{base}^{{{naming.layer(layer)}}}", rows, cols)

    equations = _output_equations(network, loss, sym, m)
    for layer in reversed(network.layers):
        index = layer.index
        dz = sym("dz", index, layer.units)
        a_prev = (
            sympy.MatrixSymbol("x", layer.fan_in, m)
            if index == 0
            else sym("a", index - 1, layer.fan_in)
        )
        equations.append(
            Equation(
                latex(sym("dW", index, layer.units, layer.fan_in)),
                latex(sympy.MatMul(1 / m, dz, a_prev.T)),
            )
        )
        ones = sympy.OneMatrix(m, 1)
        equations.append(
            Equation(
                latex(sym("db", index, layer.units, 1)),
                latex(sympy.MatMul(1 / m, dz, ones)),
                r"\mathbf{1}: m ones, so db sums dz over the samples",
            )
        )
        if index > 0:
            below = network.layers[index - 1]
            W = sym("W", index, layer.units, layer.fan_in)
            da_prev = sympy.MatMul(W.T, dz)
            act = activation_for(below.activation).name
            if act == "softmax":  # name da first: the Jacobian product reads better on it
                equations.append(Equation(latex(sym("da", index - 1, below.units)), latex(da_prev)))
                da_prev = sym("da", index - 1, below.units)
            a_below = sym("a", index - 1, below.units)
            mark = naming.layer(index - 1)
            rhs = _through_activation(act, index - 1, below.units, da_prev, a_below, mark, m)
            equations.append(Equation(latex(sym("dz", index - 1, below.units)), latex(rhs)))
    return equations


def _skip_backprop_equations(network: Network, loss: str) -> list[Equation]:
    """The backward pass with skips: ``da^{[k]}`` sums what every layer reading ``a^{[k]}``
    sends back — ``w^{[l]T}_{(k)} dz^{[l]}`` through a weight block (the next layer, or one
    that concatenates it) and ``dz^{[l]}`` itself along an ``add`` skip, untouched by any
    weight — and ``dW^{[l]}`` multiplies ``dz^{[l]}`` by the stacked input it read."""
    m = sympy.Symbol("m", positive=True)
    naming = network.naming

    def sym(base: str, layer: int, rows: int, cols: Any = m) -> sympy.MatrixSymbol:
        return sympy.MatrixSymbol(f"{base}^{{{naming.layer(layer)}}}", rows, cols)

    def output(source: int) -> sympy.MatrixSymbol:
        if source == INPUT:
            return sympy.MatrixSymbol("x", network.inputs, m)
        return sym("a", source, network.width(source))

    equations = _output_equations(network, loss, sym, m)
    received: dict[int, list[tuple[Any, str]]] = {}
    for layer in reversed(network.layers):
        index = layer.index
        if index != network.layers[-1].index:
            terms = received.pop(index)[::-1]  # the next layer's weights first, then skips
            da_k = sympy.MatAdd(*(t for t, _ in terms)) if len(terms) > 1 else terms[0][0]
            paths = "; ".join(why for _, why in terms)
            equations.append(
                Equation(latex(sym("da", index, layer.units)), latex(da_k), f"along {paths}")
            )
            act = activation_for(layer.activation).name
            rhs = _through_activation(
                act, index, layer.units, sym("da", index, layer.units),
                sym("a", index, layer.units), naming.layer(index), m,
            )  # fmt: skip
            equations.append(Equation(latex(sym("dz", index, layer.units)), latex(rhs)))
        dz = sym("dz", index, layer.units)
        parts = [output(source) for source in layer.sources]
        if len(parts) == 1:
            a_in_T: Any = parts[0].T
        else:  # named by its printed form: the printer would put ^T inside the bracket
            stacked = r" \\ ".join(latex(part) for part in parts)
            a_in_T = sympy.MatrixSymbol(
                rf"\begin{{bmatrix}} {stacked} \end{{bmatrix}}^{{T}}", m, layer.fan_in
            )
        equations.append(
            Equation(
                latex(sym("dW", index, layer.units, layer.fan_in)),
                latex(sympy.MatMul(1 / m, dz, a_in_T)),
                "the stacked input, in W's column order" if len(parts) > 1 else "",
            )
        )
        equations.append(
            Equation(
                latex(sym("db", index, layer.units, 1)),
                latex(sympy.MatMul(1 / m, dz, sympy.OneMatrix(m, 1))),
                r"\mathbf{1}: m ones, so db sums dz over the samples",
            )
        )
        W = sym("W", index, layer.units, layer.fan_in)
        for source in layer.sources:
            if source == INPUT:
                continue
            if layer.concat:
                tag = naming.index(source)
                block_T = sympy.MatrixSymbol(
                    f"W^{{{naming.layer(index)}T}}_{{({tag})}}", network.width(source), layer.units
                )
                why = f"the weights of layer {naming.index(index)} (its columns for a^[{tag}])"
            else:
                block_T, why = W.T, f"the weights of layer {naming.index(index)}"
            received.setdefault(source, []).append((sympy.MatMul(block_T, dz), why))
        if layer.add is not None and layer.add != INPUT:
            why = f"the skip into layer {naming.index(index)}, through no weight"
            received.setdefault(layer.add, []).append((dz, why))
    return equations


def _output_equations(
    network: Network, loss: str, sym: Callable[[str, int, int], Any], m: sympy.Symbol
) -> list[Equation]:
    """``dz`` of the output layer: ``a - y`` where it simplifies, else ``da`` then ``dz``."""
    last = network.layers[-1]
    L, n = last.index, last.units
    a, y = sym("a", L, n), sympy.MatrixSymbol("y", n, m)
    name = activation_for(last.activation).name
    if (name, loss) in SIMPLIFIED:
        note = "proven equal to the chain rule" + (" for one-hot y" if loss == "ce" else "")
        return [Equation(latex(sym("dz", L, n)), latex(a - y), note)]
    da = _loss_derivative(loss, a, y)
    rhs = _through_activation(name, L, n, sym("da", L, n), a, network.naming.layer(L), m)
    return [
        Equation(latex(sym("da", L, n)), latex(da), _loss_note(loss)),
        Equation(latex(sym("dz", L, n)), latex(rhs)),
    ]


def _loss_derivative(loss: str, a: Any, y: Any) -> Any:
    if loss == "mse":
        return sympy.MatMul(2, a - y)
    if loss == "bce":
        one_minus_a = sympy.OneMatrix(*a.shape) - a
        return sympy.HadamardProduct(
            a - y, sympy.HadamardPower(sympy.HadamardProduct(a, one_minus_a), -1)
        )
    return -sympy.HadamardProduct(y, sympy.HadamardPower(a, -1))


def _loss_note(loss: str) -> str:
    return {
        "mse": "the factor 2 comes from the square; it is not absorbed into the cost",
        "bce": "element-wise division",
        "ce": "element-wise division",
    }[loss]


def _through_activation(
    name: str, layer: int, units: int, da: Any, a: Any, mark: str, m: Any
) -> Any:
    if name == "identity":
        return da
    if name == "softmax":  # the Jacobian diag(a) - a a^T, applied to every column at once
        return sympy.HadamardProduct(
            a, da - sympy.OneMatrix(units, units) * sympy.HadamardProduct(da, a)
        )
    derivative = sympy.MatrixSymbol(f"g'^{{{mark}}}(z^{{{mark}}})", units, m)
    return sympy.HadamardProduct(da, derivative)


def derivative_notes(network: Network, loss: str) -> list[str]:
    """``g'^{[l]}(z) = …`` for each layer whose equations use ``g'``, from the registry."""
    notes = []
    for layer in network.layers:
        activation = activation_for(layer.activation)
        simplified = layer is network.layers[-1] and (activation.name, loss) in SIMPLIFIED
        if activation.name not in ("identity", "softmax", "generic") and not simplified:
            mark = network.naming.layer(layer.index)
            notes.append(f"g'^{{{mark}}}(z) = {activation.derivative_latex}")
    return notes


def equations_latex(network: Network, loss: str) -> str:
    """The equations as one ``aligned`` block for the site."""
    rows = r" \\ ".join(e.to_latex() for e in backprop_equations(network, loss))
    return rf"\begin{{aligned}} {rows} \end{{aligned}}"


# --- proofs of the output-layer gradient ------------------------------------------------------


@dataclass(frozen=True)
class Proof:
    """A statement SymPy proved (or failed to prove) for generic entries."""

    name: str
    statement: str  # LaTeX
    holds: bool
    detail: str


def _entries(units: int) -> tuple[list[sympy.Symbol], list[sympy.Symbol]]:
    z = [sympy.Symbol(f"z_{k}", real=True) for k in range(units)]
    y = [sympy.Symbol(f"y_{k}", real=True) for k in range(units)]
    return z, y


def _loss(loss: str, a: list[Any], y: list[Any]) -> Any:
    if loss == "mse":
        return sum((ak - yk) ** 2 for ak, yk in zip(a, y, strict=True))
    if loss == "bce":
        return -sum(
            yk * sympy.log(ak) + (1 - yk) * sympy.log(1 - ak) for ak, yk in zip(a, y, strict=True)
        )
    return -sum(yk * sympy.log(ak) for ak, yk in zip(a, y, strict=True))


def _outputs(activation: str, z: list[sympy.Symbol], choice: Any = None) -> list[Any]:
    if activation == "softmax":
        total = sum(sympy.exp(zk) for zk in z)
        return [sympy.exp(zk) / total for zk in z]
    if activation == "generic":
        return [sympy.Function("g")(zk) for zk in z]
    # choice: the spec's own activation, when the name alone does not say it (custom, alpha)
    return [activation_for(choice or activation).sympy_expr(zk) for zk in z]


def chain_rule_dz(
    activation: str, loss: str, units: int, choice: Any = None
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """``∂L/∂z_j = Σ_k ∂L/∂a_k · ∂a_k/∂z_j`` for generic entries: (dz, z, y, a)."""
    z, y = _entries(units)
    a_symbols = [sympy.Symbol(f"a_{k}", positive=True) for k in range(units)]
    a = _outputs(activation, z, choice)
    dL_da = [sympy.diff(_loss(loss, a_symbols, y), ak) for ak in a_symbols]
    at_a = dict(zip(a_symbols, a, strict=True))
    dz = [
        sum(dL_da[k].subs(at_a) * sympy.diff(a[k], z[j]) for k in range(units))
        for j in range(units)
    ]
    return dz, z, y, a


def prove_output_gradient(activation: str, loss: str, units: int = 3, choice: Any = None) -> Proof:
    """Prove the simplified ``dz^{[L]}`` of a pair by the chain rule, for ``units`` outputs.
    ``choice``: the layer's ``ActivationChoice`` (a custom expression, leaky ReLU's alpha)."""
    dz, z, y, a = chain_rule_dz(activation, loss, units, choice)
    if (activation, loss) == ("sigmoid", "bce"):
        claimed = [ak - yk for ak, yk in zip(a, y, strict=True)]
        statement, detail = r"dz^{[L]} = a^{[L]} - y", "any targets y"
    elif (activation, loss) == ("softmax", "ce"):
        # In general dz_j = a_j Σ_k y_k - y_j; with Σ_k y_k = 1 (one-hot or probabilities) a - y.
        general = [a[j] * sum(y) - y[j] for j in range(units)]
        if not all(sympy.simplify(d - g) == 0 for d, g in zip(dz, general, strict=True)):
            return Proof(f"{activation} + {loss}", "", False, "general form not proven")
        last = {y[-1]: 1 - sum(y[:-1])}
        dz = [d.subs(last) for d in dz]
        claimed = [(a[j] - y[j]).subs(last) for j in range(units)]
        statement = r"dz^{[L]} = a^{[L]} - y \quad \text{when } \textstyle\sum_k y_k = 1"
        detail = "in general dz_j = a_j Σ_k y_k − y_j"
    elif loss == "mse":
        derivative = [sympy.diff(ak, zk) for ak, zk in zip(a, z, strict=True)]
        if activation == "softmax":
            raise ValueError("mse through softmax has no element-wise form")
        claimed = [2 * (a[j] - y[j]) * derivative[j] for j in range(units)]
        statement = r"dz^{[L]} = 2\,(a^{[L]} - y) \odot g'^{[L]}(z^{[L]})"
        detail = "the factor 2 of the square stays"
    else:
        raise ValueError(f"no simplified form for {activation} + {loss}")
    holds = all(sympy.simplify(d - c) == 0 for d, c in zip(dz, claimed, strict=True))
    plural = "s" if units != 1 else ""
    return Proof(
        f"{activation} + {loss}", statement, holds, f"{detail} ({units} output unit{plural})"
    )
