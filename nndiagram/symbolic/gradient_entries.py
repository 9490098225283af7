"""Entry-level gradients of a small network, and the proof that backpropagation computes them.

``explicit_gradients`` writes every weight, bias, input and target as its own SymPy symbol,
builds ``J = 1/m Σ_i L`` for m samples, and differentiates it by each entry (``∂J/∂w_{jk}``).
It also runs the matrix-form equations of ``gradients_symbolic`` on the same explicit matrices.
``prove_matrix_form`` simplifies the difference entry by entry; ``gradient_function``
lambdifies ``∂J/∂entry`` so ``check`` can compare them with the NumPy pass. It differentiates
``J`` by the chain rule over its common subexpressions (``reverse_derivatives``): SymPy's own
``diff`` of each small node, summed backwards through the expression graph. That is the same
derivative as ``diff(J, w)`` entry by entry (the proofs still use those) at a fraction of the
cost: a 3-4-3-2 softmax network takes 0.3 s instead of 4 s.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import sympy
from sympy.functions.elementary.piecewise import ExprCondPair

from ..activations import activation_for
from ..expressions import lambdify_modules, steps_as_calls
from ..model import INPUT, Network, require_chain
from .gradients import Proof

STATEMENT = (
    r"\frac{\partial J}{\partial w^{[l]}_{jk}}"
    r" = \left(\frac{1}{m} dz^{[l]} a^{[l-1]T}\right)_{jk}"
)
MAX_EXPLICIT_PARAMS = 40  # entry-level differentiation beyond this is too slow to be useful


@dataclass(frozen=True)
class ExplicitGradients:
    network: Network
    loss: str
    params: dict[str, sympy.Matrix]  # W0, b0 (a column), …
    X: sympy.Matrix
    Y: sympy.Matrix
    cost: Any
    caches: tuple[tuple[Any, ...], ...]  # per layer: (Z, A, g, activation name)
    opaque: tuple[int, ...] = ()  # layers whose activation is an undefined g (by cases)

    @cached_property
    def entry(self) -> dict[str, sympy.Matrix]:
        """dW0, db0, …: ``∂J`` by each entry, differentiated on first use (the proofs need it;
        ``check`` does not)."""
        J = self.cost
        return {f"d{k}": v.applyfunc(lambda w: sympy.diff(J, w)) for k, v in self.params.items()}


def _matrix(name: str, rows: int, cols: int) -> sympy.Matrix:
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{name}_{i}_{j}", real=True))


def _activation(
    network: Network, index: int, opaque: bool = False
) -> tuple[Callable[[Any], Any], str]:
    """The layer's activation as a SymPy function and its name. ``opaque``: an element-wise
    activation whose derivative is written by cases (leaky ReLU, ``abs(z)``) becomes an
    undefined function ``g``, as the tutorial's generic layer (see ``prove_matrix_form``)."""
    choice = network.layers[index].activation
    if choice.name == "generic":  # the tutorial's g^{[l]}, one undefined function per layer
        g = sympy.Function(f"g{network.naming.index(index)}")
        return g, "generic"
    activation = activation_for(choice)
    if opaque and _by_cases(activation.sympy_expr, activation.name):
        return sympy.Function(f"g{network.naming.index(index)}"), "generic"
    return activation.sympy_expr, activation.name


BY_CASES = (sympy.Piecewise, sympy.sign, sympy.Heaviside, sympy.Abs, sympy.Max, sympy.Min)


def _by_cases(fn: Callable[[Any], Any], name: str) -> bool:
    """Is ``fn`` element-wise with a derivative written by cases (Piecewise, sign, …)?"""
    if name == "softmax":
        return False
    t = sympy.Dummy("t", real=True)
    return bool(sympy.diff(fn(t), t).has(*BY_CASES))


def _apply(fn: Callable[[Any], Any], name: str, Z: sympy.Matrix) -> sympy.Matrix:
    if name == "softmax" and Z.shape[0] == 1:
        return sympy.ones(*Z.shape)  # one unit: e^z / e^z is the constant 1, exactly
    if name == "softmax":
        E = Z.applyfunc(sympy.exp)
        return sympy.Matrix.hstack(*(E[:, j] / sum(E[:, j]) for j in range(Z.shape[1])))
    return Z.applyfunc(fn)


def _derivative(fn: Callable[[Any], Any], Z: sympy.Matrix) -> sympy.Matrix:
    t = sympy.Dummy("t", real=True)
    d = sympy.diff(fn(t), t)
    return Z.applyfunc(lambda z: d.subs(t, z))


def _loss(loss: str, A: sympy.Matrix, Y: sympy.Matrix) -> Any:
    pairs = zip(A, Y, strict=True)
    if loss == "mse":
        return sum((a - y) ** 2 for a, y in pairs)
    if loss == "bce":
        return -sum(y * sympy.log(a) + (1 - y) * sympy.log(1 - a) for a, y in pairs)
    return -sum(y * sympy.log(a) for a, y in pairs)


def _backward_dz(name: str, fn: Callable[[Any], Any], Z: Any, A: Any, dA: Any) -> sympy.Matrix:
    if name == "softmax":
        ones = sympy.ones(A.shape[0], A.shape[0])
        return A.multiply_elementwise(dA - ones * dA.multiply_elementwise(A))
    return dA.multiply_elementwise(_derivative(fn, Z))


def explicit_gradients(
    network: Network, loss: str, m: int = 2, opaque: bool = False
) -> ExplicitGradients:
    """Both routes to the gradient for ``network`` on m symbolic samples. ``opaque``: every
    activation whose derivative is written by cases is an undefined function ``g`` instead
    (what ``prove_matrix_form`` proves; the numbers of ``check`` need the real one)."""
    params: dict[str, sympy.Matrix] = {}
    for layer in network.layers:
        params[f"W{layer.index}"] = _matrix(f"W{layer.index}", layer.units, layer.fan_in)
        params[f"b{layer.index}"] = _matrix(f"b{layer.index}", layer.units, 1)
    X = _matrix("x", network.n_inputs, m)
    Y = _matrix("y", network.n_outputs, m)
    caches = []
    outputs = {INPUT: X}
    for layer in network.layers:
        A_in = sympy.Matrix.vstack(*(outputs[source] for source in layer.sources))
        Z = params[f"W{layer.index}"] * A_in + params[f"b{layer.index}"] * sympy.ones(1, m)
        if layer.add is not None:
            Z = Z + outputs[layer.add]
        fn, name = _activation(network, layer.index, opaque)
        A = _apply(fn, name, Z)
        outputs[layer.index] = A
        caches.append((Z, A, fn, name))
    J = _loss(loss, A, Y) / m
    made_opaque = tuple(
        layer.index
        for layer, cache in zip(network.layers, caches, strict=True)
        if cache[3] == "generic" and layer.activation.name != "generic"
    )
    return ExplicitGradients(network, loss, params, X, Y, J, tuple(caches), made_opaque)


def matrix_form(gradients: ExplicitGradients) -> dict[str, sympy.Matrix]:
    """The backpropagation equations evaluated on the explicit entries of ``gradients``."""
    caches, X, Y, loss = gradients.caches, gradients.X, gradients.Y, gradients.loss
    m = X.shape[1]
    Z, A, fn, name = caches[-1]
    if (name, loss) == ("sigmoid", "bce"):
        dZ = A - Y
    elif (name, loss) == ("softmax", "ce"):
        dZ = (
            A.multiply_elementwise(
                sympy.ones(*A.shape) * sympy.diag(*(sum(Y[:, j]) for j in range(m)))
            )
            - Y
        )
    else:
        a_sym = sympy.Symbol("a", positive=True)
        y_sym = sympy.Symbol("y", real=True)
        dL = sympy.diff(_loss(loss, sympy.Matrix([a_sym]), sympy.Matrix([y_sym])), a_sym)
        dA = sympy.Matrix(*A.shape, lambda i, j: dL.subs({a_sym: A[i, j], y_sym: Y[i, j]}))
        dZ = _backward_dz(name, fn, Z, A, dA)
    out: dict[str, sympy.Matrix] = {}
    network = gradients.network
    # received[k]: what every layer reading a[k] sends back (skips too), as numeric/backward.
    received: dict[int, sympy.Matrix] = {}
    for layer in reversed(network.layers):
        index = layer.index
        if index != len(network.layers) - 1:
            Z_k, A_k, fn_k, name_k = caches[index]
            dZ = _backward_dz(name_k, fn_k, Z_k, A_k, received.pop(index))
        sources = layer.sources
        A_in = sympy.Matrix.vstack(*(X if s == INPUT else caches[s][1] for s in sources))
        out[f"dW{index}"] = dZ * A_in.T / m
        out[f"db{index}"] = dZ * sympy.ones(m, 1) / m
        back = gradients.params[f"W{index}"].T * dZ
        row = 0
        for source in sources:
            width = network.width(source)
            if source != INPUT:
                part = back[row : row + width, :]
                received[source] = received[source] + part if source in received else part
            row += width
        if layer.add is not None and layer.add != INPUT:
            add = layer.add
            received[add] = received[add] + dZ if add in received else dZ
    return {k: out[k] for k in gradients.entry}


def is_zero(expr: Any) -> bool:
    """``expr == 0`` as a rational identity, with each exponential written as a power of one
    symbol per exponent direction (``e^{-z}``, ``e^{2z}`` → ``u^{-1}``, ``u^2``) and every other
    function application (``tanh(z)``, ``g'(z)``, ``Heaviside(z)``) as an opaque symbol. Far
    faster than ``simplify`` on these sums, and sound: a rational function that cancels to 0
    is 0 for every value of its symbols.
    """
    cases = _piecewise_cases(expr)
    if cases is not None:
        return all(is_zero(case) for case in cases)
    bases: dict[Any, sympy.Dummy] = {}

    def power(e: Any) -> Any:
        content, direction = sympy.expand(e.args[0]).as_content_primitive()
        if direction.could_extract_minus_sign():
            content, direction = -content, -direction
        return bases.setdefault(direction, sympy.Dummy("u", positive=True)) ** content

    expr = expr.replace(lambda e: isinstance(e, sympy.exp), power)
    opaque = expr.atoms(sympy.Function, sympy.Derivative, sympy.Subs)
    return bool(sympy.cancel(expr.xreplace({a: sympy.Dummy() for a in opaque})) == 0)


MAX_PIECEWISE_CONDITIONS = 8  # 2**8 cases at most; beyond, Piecewise stays opaque


def _piecewise_cases(expr: Any) -> list[Any] | None:
    """``expr`` once for each truth assignment of the innermost conditions of its
    ``Piecewise`` parts (those with no ``Piecewise`` inside), each condition replaced by its
    value, so that every part whose conditions are settled becomes its branch; ``is_zero``
    splits what is left, a layer further out, in turn. None when there is nothing to split or
    too much. Leaky ReLU's two routes differ in form only: ``Piecewise((x, c), (x/5, True))``
    from SymPy's derivative of the entry, ``x·Piecewise((1, c), (1/5, True))`` from the matrix
    form, two opaque atoms that never cancel. Every assignment, even one no value can meet,
    must give 0, so this is sound."""
    if not expr.has(sympy.Piecewise):
        return None
    found = {
        _key(r)
        for piece in expr.atoms(sympy.Piecewise)
        for _, condition in piece.args
        for r in _deciding(condition)
        if not r.has(sympy.Piecewise, sympy.ITE)
    }
    keys = sorted(found, key=sympy.default_sort_key)
    if not keys or len(keys) > MAX_PIECEWISE_CONDITIONS:
        return None
    # Every comparison of the same difference is decided together, wherever it stands: the
    # two routes write one condition in different forms ((a + b)/5 > 0, a/5 + b/5 > 0).
    comparisons = [
        (r, *_signed_key(r))
        for r in expr.atoms(sympy.core.relational.Relational)
        if not r.has(sympy.Piecewise, sympy.ITE)
    ]
    cases = []
    for values in itertools.product((True, False), repeat=len(keys)):
        truth = dict(zip(keys, values, strict=True))
        settled = {
            r: sympy.true if truth[key] == positive else sympy.false
            for r, key, positive in comparisons
            if key in truth
        }
        cases.append(expr.xreplace(settled))
    return cases


def _signed_key(r: Any) -> tuple[Any, bool]:
    """``r`` as (d, s): r holds exactly when ``d > 0`` is ``s``, d expanded and divided by its
    positive rational content, so that one difference written differently ((a + b)/5,
    a/5 + b/5, a + b) has one key; an equality is its own key."""
    rel = sympy.core.relational
    if isinstance(r, rel.StrictGreaterThan):
        d, holds = r.lhs - r.rhs, True
    elif isinstance(r, rel.LessThan):  # a <= b: not (a - b > 0)
        d, holds = r.lhs - r.rhs, False
    elif isinstance(r, rel.StrictLessThan):  # a < b: b - a > 0
        d, holds = r.rhs - r.lhs, True
    elif isinstance(r, rel.GreaterThan):  # a >= b: not (b - a > 0)
        d, holds = r.rhs - r.lhs, False
    else:
        return r, True
    content, primitive = sympy.expand(d).as_content_primitive()
    if content.is_negative:
        return sympy.expand(-primitive), holds
    return primitive, holds


def _key(r: Any) -> Any:
    return _signed_key(r)[0]


def _deciding(condition: Any) -> Iterator[Any]:
    """The comparisons that decide ``condition``: through and/or/not, and only the test of an
    if-then-else (SymPy's derivative writes a later layer's condition as ``ITE(c0 & c1, R1,
    …)``; R1 is decided once c0 and c1 are, and then compared with the other route's)."""
    if isinstance(condition, sympy.core.relational.Relational):
        yield condition
    elif isinstance(condition, sympy.ITE):
        yield from _deciding(condition.args[0])
    elif isinstance(condition, (sympy.And, sympy.Or, sympy.Not)):
        for part in condition.args:
            yield from _deciding(part)


def prove_matrix_form(
    gradients: ExplicitGradients, claimed: Mapping[str, sympy.Matrix] | None = None
) -> Proof:
    """Every entry of the matrix-form gradient (or ``claimed``) minus ``∂J/∂entry`` is 0.

    Without ``claimed``, an activation whose derivative goes by cases (leaky ReLU, ``abs(z)``)
    is proven as an undefined function ``g`` on both routes: the entry's derivative then has
    ``g'(z)`` where the matrix form multiplies by it, so the identity holds for every
    differentiable ``g``, hence for this one (wherever it is differentiable, as every proof
    here), and the matrix form takes ``g'`` as SymPy's derivative of the activation. Written
    out instead, the two routes give one function in two forms (``Piecewise((x, c), (x/5,
    True))`` and ``x·Piecewise((1, c), (1/5, True))``, nested a layer deeper per layer), which
    the case split of ``is_zero`` confirms only for one or two such layers, and ``sign(z)``
    (of ``abs``) not at all. With ``claimed``, the entries are those of ``gradients``.
    """
    if claimed is None and not gradients.opaque:
        network, m = gradients.network, gradients.X.shape[1]
        opaque = explicit_gradients(network, gradients.loss, m, opaque=True)
        if opaque.opaque:
            gradients = opaque
    form = matrix_form(gradients) if claimed is None else claimed
    failing = [
        f"{name}[{i}]"
        for name, matrix in gradients.entry.items()
        for i, (d, e) in enumerate(zip(matrix, form[name], strict=True))
        if not is_zero(d - e)
    ]
    sizes = "-".join(map(str, gradients.network.sizes))
    m = gradients.X.shape[1]
    detail = f"every entry, m = {m} samples"
    if gradients.opaque:
        layers = ", ".join(str(gradients.network.naming.index(i)) for i in gradients.opaque)
        plural = "s" if len(gradients.opaque) > 1 else ""
        detail += f", with any differentiable g in layer{plural} {layers}"
    return Proof(
        f"{sizes} {gradients.loss}",
        STATEMENT,
        not failing,
        detail if not failing else f"differs at {', '.join(failing)}",
    )


def _select(condlist: list[Any], choicelist: list[Any], default: Any = np.nan) -> Any:
    # Lambdified Piecewise calls select([c, True], …): NumPy 2 wants boolean arrays, not bools.
    conditions = [np.asarray(c, dtype=bool) for c in condlist]
    return np.select(conditions, choicelist, default)


def gradient_function(
    gradients: ExplicitGradients,
) -> Callable[[Mapping[str, Any], Any, Any], dict[str, np.ndarray]]:
    """Numbers in, the entry-level gradients out: ``f(params, X, Y) -> {"dW0": …}``."""
    entries = [s for matrix in gradients.params.values() for s in matrix]
    symbols = [*entries, *gradients.X, *gradients.Y]
    names = [f"d{name}" for name in gradients.params]
    assignments, flat = reverse_derivatives(gradients.cost, entries)
    # Heaviside steps (max, min, abs) as plain calls: printed as Piecewise they took minutes.
    assignments = [(symbol, steps_as_calls(value)) for symbol, value in assignments]
    flat = [steps_as_calls(value) for value in flat]
    fn = sympy.lambdify(
        symbols,
        flat,
        modules=[{"select": _select}, *lambdify_modules()],
        cse=lambda exprs: (assignments, exprs),  # already in common-subexpression form
    )

    def evaluate(params: Mapping[str, Any], X: Any, Y: Any) -> dict[str, np.ndarray]:
        arrays = [*(np.ravel(params[name]) for name in gradients.params), np.ravel(X), np.ravel(Y)]
        out = iter(float(o) for o in fn(*np.concatenate(arrays).astype(np.float64)))
        result = {}
        for n in names:
            shape = np.shape(params[n[1:]])
            result[n] = np.array([next(out) for _ in range(int(np.prod(shape)))]).reshape(shape)
        return result

    return evaluate


def reverse_derivatives(
    expr: Any, wrt: list[sympy.Symbol]
) -> tuple[list[tuple[sympy.Symbol, Any]], list[Any]]:
    """``∂expr/∂w`` for each ``w``, as assignments and results for ``lambdify(cse=…)``.

    ``expr`` is written as a graph of one-operation nodes ``t_i = f(t_j, …, w, …)`` (each
    distinct subexpression once). Walking it backwards, each node's adjoint is the sum over the
    nodes that use it of their adjoint times SymPy's ``diff`` of that node by it (the chain
    rule); each ``w`` collects the same sum. Every ``diff`` is of one small node, so the cost is
    linear in the size of the graph, where ``diff(expr, w)`` for each ``w`` walks the whole
    expression once per entry.
    """
    replacements, final = _graph(expr)
    result = sympy.Dummy("J")
    nodes = [*replacements, (result, final)]
    # A condition (x > 0 of a Piecewise) is a node too, but it is constant almost everywhere.
    inner = {symbol for symbol, node in nodes if not isinstance(node, sympy.logic.boolalg.Boolean)}
    wanted = set(wrt)
    terms: dict[Any, list[Any]] = {result: [sympy.Integer(1)]}
    adjoints: list[tuple[sympy.Symbol, Any]] = []
    for symbol, node in reversed(nodes):
        uses = terms.pop(symbol, None)
        if not uses:
            continue
        adjoint = sympy.Dummy(f"d{symbol}")
        adjoints.append((adjoint, sympy.Add(*uses)))
        for argument in node.free_symbols & (inner | wanted):
            slope = _partial(node, argument)
            terms.setdefault(argument, []).append(adjoint * slope)
    derivatives = [sympy.Add(*terms.get(w, [sympy.Integer(0)])) for w in wrt]
    return [*replacements, *adjoints], derivatives


def _partial(node: Any, argument: Any) -> Any:
    """``∂node/∂argument`` for a one-operation node: sums and products (of arguments that appear
    once) and numeric powers directly, every other node by ``sympy.diff`` (which would give the
    same, after an assumptions query per call that costs most of the time)."""
    args = node.args
    if args.count(argument) == 1 and all(
        a == argument or argument not in a.free_symbols for a in args
    ):
        if isinstance(node, sympy.Add):
            return sympy.Integer(1)
        if isinstance(node, sympy.Mul):
            return sympy.Mul(*(a for a in args if a != argument))
        if isinstance(node, sympy.Pow) and args[0] == argument and args[1].is_Number:
            return args[1] * argument ** (args[1] - 1)
        if isinstance(node, sympy.exp):
            return node
    return sympy.diff(node, argument)


def _graph(expr: Any) -> tuple[list[tuple[sympy.Symbol, Any]], Any]:
    """``expr`` as assignments of one operation each (leaves first) and the final symbol.

    Unlike ``cse``, which names only repeated subexpressions (none at all in a ReLU network's
    ``J``), every operation gets its own node, so no node is larger than one operation.
    """
    names: dict[Any, Any] = {}
    nodes: list[tuple[sympy.Symbol, Any]] = []

    def visit(e: Any) -> Any:
        if e.is_Atom:
            return e
        if isinstance(e, ExprCondPair):  # a (value, condition) pair is part of its Piecewise
            return e.func(*(visit(argument) for argument in e.args))
        if e not in names:
            node = e.func(*(visit(argument) for argument in e.args))
            symbol = sympy.Dummy(f"t{len(nodes)}", real=True)  # diff(Abs(t), t) is sign(t)
            nodes.append((symbol, node))
            names[e] = symbol
        return names[e]

    return nodes, visit(expr)


# --- one layer: each entry's gradient as a sum over the samples --------------------------------


@dataclass(frozen=True)
class EntryGradient:
    """``∂J/∂w_{jk} = 1/m Σ_i dz_j^{(i)} x_k^{(i)}`` for one entry, and whether SymPy agrees."""

    lhs: str
    rhs: str
    holds: bool


def sum_form_gradients(network: Network, loss: str) -> list[EntryGradient]:
    """For a one-layer network: differentiate ``J = 1/m Σ_{i=1}^{m} L`` by each weight and bias
    (m symbolic, samples indexed by i) and prove the summand is ``dz_j^{(i)}`` times the
    entry's input. Softmax with mse is left out: its ``dz`` couples the units."""
    require_chain(network, "gradient entries")
    (layer,) = network.layers
    # A derivative by cases (abs: sign(z), opaque to is_zero) as an undefined g: the summand
    # then has g'(z) where dz has it, and holds for every g (see prove_matrix_form).
    fn, name = _activation(network, 0, opaque=True)
    if name == "softmax" and loss != "ce":
        return []
    i = sympy.Symbol("i", integer=True, positive=True)
    m = sympy.Symbol("m", integer=True, positive=True)
    x, y = sympy.IndexedBase("x"), sympy.IndexedBase("y")
    units, fan_in = layer.units, layer.fan_in
    one = units == 1  # the tutorial's neuron: w_k and b, no unit index

    comma = max(units, fan_in) > 10  # notation's index rule: w_{01}, but w_{10,3}

    def sub(j: int, k: int | None = None) -> str:
        parts = ([] if one else [str(j)]) + ([] if k is None else [str(k)])
        return ("," if comma else "").join(parts)

    w = [[sympy.Symbol(f"w_{sub(j, k)}") for k in range(fan_in)] for j in range(units)]
    b = [sympy.Symbol(f"b_{sub(j)}" if not one else "b") for j in range(units)]
    z = [sum(w[j][k] * x[k, i] for k in range(fan_in)) + b[j] for j in range(units)]
    a = _apply(fn, name, sympy.Matrix(z))
    target = sympy.Matrix([y[j, i] for j in range(units)])
    J = sympy.Sum(_loss(loss, a, target), (i, 1, m)) / m
    if name == "softmax":  # one-hot or probability targets: the last is 1 minus the others
        constraint = {target[-1]: 1 - sum(target[:-1])}
        # xreplace: subs would leave the summand alone, since i is bound by the Sum.
        J, target = J.xreplace(constraint), target.xreplace(constraint)
    t = sympy.Dummy("t", real=True)
    out: list[EntryGradient] = []
    for j in range(units):
        a_shown, y_shown = _shown(f"a{_sup(sub(j))}"), _shown(f"y{_sup(sub(j))}")
        if (name, loss) in {("sigmoid", "bce"), ("softmax", "ce")}:
            dz = a[j] - target[j]
            shown = a_shown - y_shown
        else:
            a_sym = sympy.Symbol("a", positive=True)
            dL = sympy.diff(_loss(loss, sympy.Matrix([a_sym]), sympy.Matrix([target[j]])), a_sym)
            dz = dL.subs(a_sym, a[j]) * sympy.diff(fn(t), t).subs(t, z[j])
            prime = [] if name == "identity" else [_shown(f"g'(z{_sup(sub(j))})")]
            if loss == "mse":
                shown = sympy.Mul(2, a_shown - y_shown, *prime, evaluate=False)
            else:
                shown = _shown(f"dz{_sup(sub(j))}")
        inputs = [(w[j][k], x[k, i], _shown(f"x_{{{k}}}^{{(i)}}")) for k in range(fan_in)]
        for param, factor, factor_shown in [*inputs, (b[j], sympy.Integer(1), None)]:
            (summed,) = sympy.diff(J, param).atoms(sympy.Sum)
            holds = is_zero(summed.function - dz * factor)
            term = shown if factor_shown is None else sympy.Mul(shown, factor_shown, evaluate=False)
            rhs = sympy.Mul(1 / m, sympy.Sum(term, (i, 1, m)), evaluate=False)
            lhs = rf"\frac{{\partial J}}{{\partial {sympy.latex(param)}}}"
            out.append(EntryGradient(lhs, sympy.latex(rhs, order="none", long_frac_ratio=0), holds))
    return out


def _sup(sub: str) -> str:
    return (f"_{{{sub}}}" if sub else "") + "^{(i)}"


def _shown(name: str) -> sympy.Symbol:
    return sympy.Symbol(name)
