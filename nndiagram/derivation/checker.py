"""Derivations checked step by step: the file format, the checker, its reports, the fence.

A derivation is YAML (DESIGN.md): ``symbols`` with shapes, optional ``definitions`` (names that
stand for an expression, as the tutorial writes ``W = w^{[1]} w^{[0]}``) and ``steps``, each of
which must equal the one before it. Each step is checked three ways (``derivation_eval``):
numerically at random values (the verdict), then proven by the canonical non-commutative
form (any shapes) or else by explicit symbolic entries (the declared shapes). A false step is
reported with a counterexample: small integer matrices at which the two sides differ.

``check_derivation_file`` is the ``check-derivation`` command; ``derivation_fence_format`` and
``derivation_fence_validator`` render a ```` ```derivation ```` fence for pymdownx.superfences.
"""

from __future__ import annotations

import contextlib
import html
import json
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from ..errors import SpecError
from .evaluation import (
    EXPLICIT,
    canonical,
    evaluate,
    explicit_values,
    numpy_algebra,
    same_canonical,
)
from .expr import (
    GENERIC,
    RESERVED,
    Node,
    Ref,
    Scope,
    Shape,
    Sym,
    parse_expression,
    shape_text,
    symbol_latex,
    to_latex,
)

TRIALS = 6  # random draws per generic assignment
TOLERANCE = 1e-9  # relative, in float64
MAX_EXPLICIT_ENTRIES = 120  # beyond this, entry-wise proofs are too slow to attempt
# Bounds that keep any file quick to check (the tutorial's derivations are far below them).
MAX_BYTES = 50_000  # PyYAML composes ~50,000 nodes a second; the tutorial's files are 1 KB
MAX_STEPS = 100
MAX_ENTRIES = 1_000_000  # of all declared symbols together: random values for each
MAX_FLOPS = 20_000_000  # multiply-adds of one numeric evaluation of a step
PROOF_BUDGET_S = 3.0  # symbolic proofs of one derivation; later steps are checked numerically
CONCRETE_FOR_GENERIC = ("identity", "sigmoid", "tanh", "relu", "leaky_relu")


@dataclass(frozen=True)
class Step:
    number: int  # 1-based
    source: str
    expression: Node
    line: int | None
    note: str | None = None


@dataclass(frozen=True)
class Derivation:
    path: str
    symbols: dict[str, Shape]
    definitions: dict[str, Node]
    steps: tuple[Step, ...]
    latex_names: dict[str, str] = field(default_factory=dict)
    title: str | None = None

    def latex(self, node: Node) -> str:
        return to_latex(node, lambda name: self.latex_names.get(name) or symbol_latex(name))


@dataclass(frozen=True)
class Counterexample:
    values: dict[str, Any]  # symbol -> float or 2-D array
    generic: dict[str, str]  # g -> the concrete activation it stood for
    before: Any
    after: Any


@dataclass(frozen=True)
class StepResult:
    step: Step
    holds: bool
    proof: str  # how it was established, or why it fails
    max_error: float
    counterexample: Counterexample | None = None


# --- reading ----------------------------------------------------------------------------------


def parse_derivation(text: str, path: str = "<derivation>") -> Derivation:
    """Read the YAML text of a derivation; every problem is a ``SpecError`` with its line."""
    # The same cap as for files, here so that a fence's text is bounded too.
    if len(text) > MAX_BYTES:
        raise SpecError(f"derivation is longer than {MAX_BYTES:,} characters", path=path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SpecError(
            f"not valid YAML: {getattr(error, 'problem', error)}", path=path, line=line
        ) from None
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise SpecError("a derivation is a mapping with 'symbols' and 'steps'", path=path)
    lines = {key.value: value for key, value in _pairs(root, path)}
    unknown = sorted(set(data) - {"title", "symbols", "definitions", "steps"})
    if unknown:
        raise SpecError(
            f"unknown key(s) {', '.join(map(str, unknown))} (allowed: title, symbols, "
            "definitions, steps)",
            path=path,
            line=_line(lines.get(unknown[0])),
        )
    symbols, latex_names = _symbols(data.get("symbols") or {}, lines.get("symbols"), path)
    scope = Scope(symbols, {})
    definitions: dict[str, Node] = {}
    raw_definitions = data.get("definitions") or {}
    if not isinstance(raw_definitions, dict):
        raise SpecError("definitions must map names to expressions", path=path, key="definitions")
    for (key_node, value_node), (name, source) in zip(
        _pairs(lines.get("definitions"), path), raw_definitions.items(), strict=True
    ):
        line = _line(key_node)
        _check_name(name, path, line, "definitions")
        if name in symbols or name in definitions:
            raise SpecError(f"{name!r} is declared twice", path=path, line=line, key="definitions")
        definitions[name] = parse_expression(
            str(source), scope, path=path, line=_line(value_node), column=_column(value_node)
        )
        scope = Scope(symbols, dict(definitions))
    steps = _steps(data.get("steps"), lines.get("steps"), scope, path)
    title = data.get("title")
    return Derivation(path, symbols, definitions, steps, latex_names, str(title) if title else None)


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _column(node: yaml.Node) -> int:
    # A quoted scalar's text starts one column after its quote.
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    return int(node.start_mark.column) + 1 + quoted


def _pairs(node: yaml.Node | None, path: str) -> list[tuple[yaml.Node, yaml.Node]]:
    pairs = list(node.value) if isinstance(node, yaml.MappingNode) else []
    seen: set[str] = set()
    for key, _ in pairs:
        if key.value in seen:
            raise SpecError(f"{key.value!r} is given twice", path=path, line=_line(key))
        seen.add(key.value)
    return pairs


def _check_name(name: object, path: str, line: int | None, key: str) -> None:
    if (
        not isinstance(name, str)
        or not name.isidentifier()
        or name in RESERVED
        or GENERIC.match(name)
    ):
        raise SpecError(
            f"{name!r} cannot name a symbol (identifiers only; hadamard, sum, T, activation "
            "names and g, g0, g1, … are reserved)",
            path=path,
            line=line,
            key=key,
        )


def _symbols(
    raw: Any, node: yaml.Node | None, path: str
) -> tuple[dict[str, Shape], dict[str, str]]:
    if not isinstance(raw, dict):
        raise SpecError("symbols must map names to shapes like [2, 1]", path=path, key="symbols")
    entries = 0
    symbols: dict[str, Shape] = {}
    latex_names: dict[str, str] = {}
    for (key_node, _), (name, value) in zip(_pairs(node, path), raw.items(), strict=True):
        line = _line(key_node)
        _check_name(name, path, line, "symbols")
        if isinstance(value, dict):
            latex = value.get("latex")
            if latex is not None:
                latex_names[name] = str(latex)
            extra = sorted(set(value) - {"shape", "latex"})
            if extra:
                raise SpecError(
                    f"unknown key {extra[0]!r} (allowed: shape, latex)",
                    path=path,
                    line=line,
                    key=name,
                )
            value = value.get("shape")
        symbols[name] = _shape(value, path, line, name)
        entries += (symbols[name] or (1, 1))[0] * (symbols[name] or (1, 1))[1]
        if entries > MAX_ENTRIES:
            message = f"the symbols have more than {MAX_ENTRIES:,} entries together"
            raise SpecError(message, path=path, line=line, key=name)
    return symbols, latex_names


def _shape(value: Any, path: str, line: int | None, name: str) -> Shape:
    if value is None or value == []:
        return None
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(type(n) is int and 1 <= n <= 10_000 for n in value)
    )
    if not ok:
        raise SpecError(
            f"shape {value!r} must be [rows, cols] of positive integers, or [] for a scalar",
            path=path,
            line=line,
            key=name,
        )
    return (value[0], value[1])


def _steps(raw: Any, node: yaml.Node | None, scope: Scope, path: str) -> tuple[Step, ...]:
    if not isinstance(raw, list) or len(raw) < 2 or not isinstance(node, yaml.SequenceNode):
        raise SpecError("steps must be a list of at least two expressions", path=path, key="steps")
    if len(raw) > MAX_STEPS:
        message = f"at most {MAX_STEPS} steps, got {len(raw):,}"
        raise SpecError(message, path=path, line=_line(node), key="steps")
    steps: list[Step] = []
    for number, (item, item_node) in enumerate(zip(raw, node.value, strict=True), start=1):
        line = _line(item_node)
        note = None
        text_node = item_node
        if isinstance(item, dict):
            extra = sorted(set(item) - {"expr", "why"})
            if "expr" not in item or extra:
                message = "a step is an expression, or {expr: …, why: …}"
                raise SpecError(message, path=path, line=line)
            text_node = next(v for k, v in _pairs(item_node, path) if k.value == "expr")
            note = str(item["why"]) if item.get("why") is not None else None
            item = item["expr"]
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise SpecError(f"step {number} is not an expression", path=path, line=line)
        expression = parse_expression(
            str(item), scope, path=path, line=_line(text_node), column=_column(text_node)
        )
        if _flops(expression) > MAX_FLOPS:
            message = f"step {number} takes more than {MAX_FLOPS:,} multiplications to evaluate"
            raise SpecError(message, path=path, line=line)
        if steps and expression.shape != steps[-1].expression.shape:
            raise SpecError(
                f"step {number} has shape {shape_text(expression.shape)} but step {number - 1} "
                f"has {shape_text(steps[-1].expression.shape)}",
                path=path,
                line=line,
            )
        steps.append(Step(number, str(item).strip(), expression, line, note))
    return tuple(steps)


def _flops(node: Node) -> int:
    """Multiply-adds of evaluating ``node`` at its declared shapes (matrix products only)."""
    from .expr import BinOp, Pow

    total = 0
    if isinstance(node, BinOp) and node.op == "*" and node.left.shape and node.right.shape:
        total = node.left.shape[0] * node.left.shape[1] * node.right.shape[1]
    elif isinstance(node, Pow) and node.base.shape:
        total = node.base.shape[0] ** 3 * (node.exponent - 1)
    children = [v for v in vars(node).values() if isinstance(v, Node)]
    children += [a for a in getattr(node, "args", ()) if isinstance(a, Node)]
    return total + sum(_flops(child) for child in children)


# --- checking ---------------------------------------------------------------------------------


class _OutOfTime(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise ``_OutOfTime`` after ``seconds`` (main thread only: elsewhere there is no limit)."""
    if seconds <= 0:
        raise _OutOfTime
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum: int, frame: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check(derivation: Derivation, seed: int = 0) -> list[StepResult]:
    """Check every step against the one before it (step 1 is the start and always holds)."""
    first = derivation.steps[0]
    results = [StepResult(first, True, "start", 0.0)]
    deadline = time.monotonic() + PROOF_BUDGET_S
    for before, after in zip(derivation.steps, derivation.steps[1:], strict=False):
        results.append(check_step(derivation, before.expression, after, seed, deadline))
    return results


def _used(node: Node, out: set[str]) -> set[str]:
    if isinstance(node, Sym):
        out.add(node.name)
    elif isinstance(node, Ref):
        _used(node.body, out)
    else:
        for value in vars(node).values():
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, Node):
                    _used(child, out)
    return out


def _generics(node: Node, out: set[str]) -> set[str]:
    from .expr import Call

    if isinstance(node, Call) and GENERIC.match(node.function):
        out.add(node.function)
    for value in vars(node).values():
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, Node):
                _generics(child, out)
    return out


def _assignments(generics: list[str]) -> list[dict[str, str]]:
    # Each g in turn takes every concrete activation, rotated so that two g's differ.
    n = len(CONCRETE_FOR_GENERIC)
    if not generics:
        return [{}]
    return [
        {g: CONCRETE_FOR_GENERIC[(shift + i) % n] for i, g in enumerate(generics)}
        for shift in range(n)
    ]


def _draw(
    symbols: dict[str, Shape], names: list[str], rng: np.random.Generator, integers: bool
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        shape = symbols[name] or (1, 1)
        if integers:  # small non-zero integers: a counterexample a reader can check by hand
            drawn = rng.integers(1, 4, size=shape) * rng.choice([-1, 1], size=shape)
        else:  # magnitudes in [0.5, 2]: no division by almost zero
            drawn = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape)
        array = drawn.astype(np.float64)
        values[name] = float(array[0, 0]) if symbols[name] is None else array
    return values


def _relative_error(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")
    scale = max(1.0, float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    return float(np.max(np.abs(a - b))) / scale


def check_step(
    derivation: Derivation, before: Node, step: Step, seed: int = 0, deadline: float | None = None
) -> StepResult:
    """Does ``step`` equal ``before``? Numbers decide; the proof says how sure that is.

    Symbolic proofs can grow without bound (a power of a long sum): past ``deadline``
    (``time.monotonic()``) a step that holds numerically is reported as unproven.
    """
    after = step.expression
    names = sorted(_used(before, set()) | _used(after, set()))
    generics = sorted(_generics(before, set()) | _generics(after, set()))
    rng = np.random.default_rng(seed + step.number)
    worst = 0.0
    for generic in _assignments(generics):
        algebra = numpy_algebra(generic)
        for _ in range(TRIALS):
            values = _draw(derivation.symbols, names, rng, integers=False)
            error = _relative_error(
                _evaluate(before, values, algebra), _evaluate(after, values, algebra)
            )
            if np.isnan(error):
                continue
            worst = max(worst, error)
            if error > TOLERANCE:
                example = _counterexample(derivation, before, after, names, generic, values, rng)
                return StepResult(step, False, "differs at the values below", error, example)
    try:
        with _time_limit(PROOF_BUDGET_S if deadline is None else deadline - time.monotonic()):
            proof = _proof(derivation, before, after, names)
    except _OutOfTime:
        proof = "holds numerically (the symbolic proof ran out of time)"
    return StepResult(step, True, proof, worst)


def _evaluate(node: Node, values: dict[str, Any], algebra: Any) -> Any:
    """``evaluate``, with overflow as a non-finite value (skipped as a trial) and no warning."""
    with np.errstate(all="ignore"):
        try:
            return evaluate(node, values, algebra)
        except (OverflowError, ZeroDivisionError):  # Python floats raise where NumPy gives inf
            return float("nan")


def _counterexample(
    derivation: Derivation,
    before: Node,
    after: Node,
    names: list[str],
    generic: dict[str, str],
    fallback: dict[str, Any],
    rng: np.random.Generator,
) -> Counterexample:
    algebra = numpy_algebra(generic)
    for _ in range(200):
        values = _draw(derivation.symbols, names, rng, integers=True)
        a, b = _evaluate(before, values, algebra), _evaluate(after, values, algebra)
        if _relative_error(a, b) > TOLERANCE:
            return Counterexample(values, generic, a, b)
    a, b = _evaluate(before, fallback, algebra), _evaluate(after, fallback, algebra)
    return Counterexample(fallback, generic, a, b)


def _proof(derivation: Derivation, before: Node, after: Node, names: list[str]) -> str:
    if same_canonical(canonical(before), canonical(after)):
        return "proven: matrix algebra, any shapes"
    entries = sum(int(np.prod(derivation.symbols[n] or (1, 1))) for n in names)
    if entries <= MAX_EXPLICIT_ENTRIES:
        import sympy

        symbols = {n: derivation.symbols[n] for n in names}
        values = explicit_values(symbols)
        difference = sympy.Matrix([evaluate(before, values, EXPLICIT)]) - sympy.Matrix(
            [evaluate(after, values, EXPLICIT)]
        )
        if all(sympy.expand(d) == 0 or sympy.simplify(d) == 0 for d in difference):
            return "proven: entry by entry at the declared shapes"
    return "holds numerically (not proven symbolically)"


# --- reports ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [[_number(v) for v in row] for row in np.atleast_2d(value)]
    return _number(float(value))


def _number(value: float) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else float(f"{value:.6g}")


def report_json(derivation: Derivation, results: list[StepResult]) -> dict[str, Any]:
    failures = [r.step.number for r in results if not r.holds]
    steps = []
    for r in results:
        ce = r.counterexample
        steps.append(
            {
                "step": r.step.number,
                "line": r.step.line,
                "expression": r.step.source,
                "latex": derivation.latex(r.step.expression),
                "holds": r.holds,
                "proof": r.proof,
                "max_relative_error": float(f"{r.max_error:.3g}"),
                "counterexample": None
                if ce is None
                else {
                    "values": {k: _plain(v) for k, v in ce.values.items()},
                    "generic": ce.generic,
                    "previous_step": _plain(ce.before),
                    "this_step": _plain(ce.after),
                },
            }
        )
    return {
        "path": derivation.path,
        "title": derivation.title,
        "holds": not failures,
        "first_failure": failures[0] if failures else None,
        "steps": steps,
    }


def _text_value(value: Any) -> str:
    plain = _plain(value)
    return json.dumps(plain).replace("], [", "; ").replace("[[", "[").replace("]]", "]")


def report_text(derivation: Derivation, results: list[StepResult]) -> str:
    failures = [r for r in results if not r.holds]
    verdict = (
        "every step holds" if not failures else f"step {failures[0].step.number} does not hold"
    )
    lines = [f"{derivation.path}: {len(results)} steps: {verdict}"]
    for r in results:
        mark = " " if r.step.number == 1 else ("✓" if r.holds else "✗")
        where = "" if r.step.number == 1 else f"   [{r.proof}]"
        lines.append(f"  {r.step.number:>2} {mark} {r.step.source}{where}")
    for r in failures:
        ce = r.counterexample
        assert ce is not None
        at = f"{derivation.path}:{r.step.line}" if r.step.line else derivation.path
        lines.append(f"{at}: step {r.step.number} ≠ step {r.step.number - 1}; counterexample:")
        for name, value in ce.values.items():
            lines.append(f"    {name} = {_text_value(value)}")
        for g, concrete in ce.generic.items():
            lines.append(f"    {g} = {concrete}")
        lines.append(f"    step {r.step.number - 1} gives {_text_value(ce.before)}")
        lines.append(f"    step {r.step.number} gives {_text_value(ce.after)}")
    return "\n".join(lines) + "\n"


def check_derivation_file(path: str, fmt: str = "text") -> int:
    """The ``check-derivation`` command: 0 when every step holds, 1 otherwise (2 raised)."""
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise SpecError(f"file is larger than {MAX_BYTES:,} bytes", path=path)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", path=path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read: {error}", path=path) from None
    derivation = parse_derivation(text, path)
    results = check(derivation)
    if fmt == "json":
        print(json.dumps(report_json(derivation, results), indent=2, ensure_ascii=False))
    else:
        print(report_text(derivation, results), end="")
    return 0 if all(r.holds for r in results) else 1


# --- the Markdown fence -----------------------------------------------------------------------

FENCE_OPTIONS = {"expect": ("pass", "fail")}


def derivation_fence_validator(
    language: str, inputs: dict[str, str], options: dict[str, str], attrs: dict[str, str], md: Any
) -> bool:
    """Accept ``expect="fail"`` (a deliberately wrong example); any other option is an error."""
    from pymdownx.superfences import SuperFencesException

    for key, value in inputs.items():
        if key not in FENCE_OPTIONS or value not in FENCE_OPTIONS[key]:
            raise SuperFencesException(
                f"derivation fence: unknown option {key}={value!r} (allowed: expect=pass|fail)"
            )
        options[key] = value
    return True


def derivation_fence_format(
    source: str, language: str, css_class: str, options: dict[str, str], md: Any, **kwargs: Any
) -> str:
    """The fence as HTML: each step with ✓ or its counterexample; raises on a false step
    unless the fence says ``expect="fail"`` (and then raises if every step holds)."""
    from pymdownx.superfences import SuperFencesException

    try:
        derivation = parse_derivation(source, "derivation fence")
    except SpecError as error:
        raise SuperFencesException(str(error)) from error
    results = check(derivation)
    holds = all(r.holds for r in results)
    expect_fail = options.get("expect") == "fail"
    if not holds and not expect_fail:
        first = next(r for r in results if not r.holds)
        raise SuperFencesException(
            f"derivation fence: step {first.step.number} ({first.step.source}) does not hold; "
            'mark the fence expect="fail" if it is a deliberate wrong example'
        )
    if holds and expect_fail:
        raise SuperFencesException('derivation fence is marked expect="fail" but every step holds')
    return render_html(derivation, results, css_class or "derivation")


def _math(latex: str) -> str:
    return f'<span class="arithmatex">\\({html.escape(latex, quote=False)}\\)</span>'


def _latex_value(value: Any) -> str:
    plain = _plain(value)
    if not isinstance(plain, list):
        return str(plain)
    rows = r" \\ ".join(" & ".join(str(v) for v in row) for row in plain)
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"


def render_html(derivation: Derivation, results: list[StepResult], css_class: str) -> str:
    holds = all(r.holds for r in results)
    out = [
        f'<div class="{html.escape(css_class)} nnd-derivation" data-holds="{str(holds).lower()}">'
    ]
    if derivation.title:
        out.append(f'<p class="nnd-derivation-title">{html.escape(derivation.title)}</p>')
    out.append('<table class="nnd-derivation-steps"><tbody>')
    for r in results:
        expr = derivation.latex(r.step.expression)
        if r.step.number == 1:
            row_class, mark, math = "nnd-step-start", "", expr
        elif r.holds:
            row_class, mark, math = "nnd-step-holds", "✓", f"= {expr}"
        else:
            row_class, mark, math = "nnd-step-fails", "✗", rf"\ne {expr}"
        note = html.escape(r.step.note) if r.step.note else ""
        detail = "" if r.step.number == 1 else html.escape(r.proof)
        out.append(
            f'<tr class="nnd-step {row_class}"><td class="nnd-step-mark" title="{detail}">{mark}'
            f'</td><td>{_math(math)}</td><td class="nnd-step-why">{note}</td></tr>'
        )
        if r.counterexample is not None:
            detail = _counterexample_html(derivation, r)
            out.append(
                f'<tr class="nnd-counterexample"><td></td><td colspan="2">{detail}</td></tr>'
            )
    out.append("</tbody></table>")
    if derivation.definitions:
        where = ", ".join(
            _math(
                f"{derivation.latex(Ref(body.shape, False, name, body))} = {derivation.latex(body)}"
            )
            for name, body in derivation.definitions.items()
        )
        out.append(f'<p class="nnd-derivation-where">where {where}</p>')
    out.append("</div>")
    return "\n".join(out)


def _counterexample_html(derivation: Derivation, result: StepResult) -> str:
    ce = result.counterexample
    assert ce is not None
    names = lambda name: derivation.latex_names.get(name) or symbol_latex(name)  # noqa: E731
    values = [f"{names(n)} = {_latex_value(v)}" for n, v in ce.values.items()]
    values += [f"{symbol_latex(g)} = \\operatorname{{{c}}}" for g, c in ce.generic.items()]
    number = result.step.number
    return (
        "Counterexample: at "
        + ", ".join(_math(v) for v in values)
        + f", step {number - 1} gives {_math(_latex_value(ce.before))}"
        + f" but step {number} gives {_math(_latex_value(ce.after))}."
    )
