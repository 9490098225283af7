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
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import yaml

from ..errors import SpecError
from ..files import read_regular
from ..quoting import inert_tex
from ..spec import readers as spec_readers
from .exact import difference_text, scalar_text, to_float
from .expr import (
    GENERIC,
    RESERVED,
    BinOp,
    Call,
    Node,
    Pow,
    Ref,
    Scope,
    Shape,
    Sym,
    deep_recursion,
    parse_expression,
    same_shape,
    shape_text,
    symbol_latex,
    to_latex,
)
from .proof import (
    MAX_EXPLICIT_ENTRIES,
    Evidence,
    Found,
    numeric_evidence,
    prove_canonical,
    prove_entries,
    search,
    zero_denominator,
)

# Bounds that keep any file quick to check (the tutorial's derivations are far below them).
MAX_BYTES = 50_000  # PyYAML composes ~50,000 nodes a second; the tutorial's files are 1 KB
MAX_STEPS = 100
MAX_ENTRIES = 1_000_000  # of all declared symbols together: random values for each
MAX_FLOPS = 20_000_000  # multiply-adds of one numeric evaluation of a step
MAX_TOTAL_FLOPS = 200_000_000  # of all steps together: each is evaluated many times
MAX_EXPANDED_NODES = 20_000  # parts of a step or definition with its definitions written out
PROOF_BUDGET_S = 8.0  # proofs and searches of one derivation; later steps are "not proven"
CANONICAL_S = 2.0  # the canonical form of one step (a power of a long sum grows fast)


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
    """Exact values at which two steps differ: rationals (``Fraction``; object arrays for
    matrices), and each side's value, exact or a certified interval."""

    values: dict[str, Any]
    generic: dict[str, str]  # g -> how the function it stood for reads ("g0(t) = t**2")
    before: Any
    after: Any
    method: str  # "exact rational arithmetic" or "certified 400-bit interval arithmetic"
    gap: str | None = None  # for intervals: the certified least difference


@dataclass(frozen=True)
class StepResult:
    step: Step
    status: str  # start | proven | false | not proven
    proof: str  # how it was proven, why it is false, or why it is not proven
    evidence: Evidence | None = None  # numeric agreement, for steps not proven
    counterexample: Counterexample | None = None

    @property
    def holds(self) -> bool:
        """Proven (a ✓); numeric agreement alone never makes a step hold."""
        return self.status in ("start", "proven")

    @property
    def numerically_plausible(self) -> bool:
        """Not proven, but float64 agrees at every finite trial (and there were some)."""
        ev = self.evidence
        return (
            self.status == "not proven"
            and ev is not None
            and ev.finite > 0
            and ev.agree == ev.finite
        )


# --- reading ----------------------------------------------------------------------------------


def parse_derivation(text: str, path: str = "<derivation>") -> Derivation:
    """Read the YAML text of a derivation; every problem is a ``SpecError`` with its line."""
    # The same cap as for files, here so that a fence's text is bounded too.
    if len(text) > MAX_BYTES:
        raise SpecError(f"derivation is longer than {MAX_BYTES:,} characters", path=path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SpecError(
            f"not valid YAML: {getattr(error, 'problem', error)}", path=path, line=line
        ) from None
    if not isinstance(root, yaml.MappingNode):
        raise SpecError("a derivation is a mapping with 'symbols' and 'steps'", path=path)
    # The spec reader's conversion: node and number budgets, and text that is safe to show.
    data, locations = spec_readers.read_yaml(text, path)
    spec_readers.check_text(data, locations, path)
    if not isinstance(data, dict):
        raise SpecError("a derivation is a mapping with 'symbols' and 'steps'", path=path)
    lines = {key.value: value for key, value in _pairs(root, path)}
    unknown = sorted(set(data) - {"title", "symbols", "definitions", "steps"})
    if unknown:
        spec_keys = {"inputs", "layers", "graph", "edges"} & set(unknown)
        hint = (
            "; this is a network spec: `nndiagram validate` or `nndiagram check` reads it"
            if spec_keys
            else ""
        )
        raise SpecError(
            f"unknown key(s) {', '.join(map(str, unknown))} (allowed: title, symbols, "
            f"definitions, steps){hint}",
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
        name = _normalised(name, {**symbols, **definitions}, path, line, "definitions")
        if name in symbols or name in definitions:
            raise SpecError(f"{name!r} is declared twice", path=path, line=line, key="definitions")
        text = value_node.value if isinstance(value_node, yaml.ScalarNode) else str(source)
        definitions[name] = parse_expression(
            str(text), scope, path=path, line=_line(value_node), column=_column(value_node)
        )
        if _expanded_size(definitions[name]) > MAX_EXPANDED_NODES:
            raise SpecError(
                f"{name!r} stands for more than {MAX_EXPANDED_NODES:,} parts once the "
                "definitions it uses are written out",
                path=path,
                line=line,
                key="definitions",
            )
        scope = Scope(symbols, dict(definitions))
    steps = _steps(data.get("steps"), lines.get("steps"), scope, path)
    title = data.get("title")
    title_text = inert_tex(str(title)) if title else None
    return Derivation(path, symbols, definitions, steps, latex_names, title_text)


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


def _normalised(
    name: str, declared: Mapping[str, object], path: str, line: int | None, key: str
) -> str:
    """``name`` as Python's parser reads it in the steps (NFKC: fullwidth ``ａ`` is ``a``);
    two declarations that are one name once normalised are an error, not one symbol."""
    normal = unicodedata.normalize("NFKC", name)
    if normal in declared and (normal != name or key == "symbols"):
        raise SpecError(
            f"{name!r} is the same name as {normal!r} once Unicode-normalised (NFKC, as the "
            "expressions read names); rename one",
            path=path,
            line=line,
            key=key,
        )
    return normal


def _symbols(
    raw: Any, node: yaml.Node | None, path: str
) -> tuple[dict[str, Shape], dict[str, str]]:
    if not isinstance(raw, dict):
        raise SpecError("symbols must map names to shapes like [2, 1]", path=path, key="symbols")
    entries = 0
    symbols: dict[str, Shape] = {}
    latex_names: dict[str, str] = {}
    for (key_node, _), (written, value) in zip(_pairs(node, path), raw.items(), strict=True):
        line = _line(key_node)
        _check_name(written, path, line, "symbols")
        name = _normalised(written, symbols, path, line, "symbols")
        if isinstance(value, dict):
            latex = value.get("latex")
            if latex is not None:
                latex_names[name] = inert_tex(str(latex))
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
    total_flops = 0
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
            note = inert_tex(str(item["why"])) if item.get("why") is not None else None
            item = item["expr"]
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise SpecError(f"step {number} is not an expression", path=path, line=line)
        # The text as written: a number YAML read as a float keeps every digit.
        if isinstance(text_node, yaml.ScalarNode):
            item = text_node.value
        expression = parse_expression(
            str(item), scope, path=path, line=_line(text_node), column=_column(text_node)
        )
        size, flops = _measure(expression, {})
        if size > MAX_EXPANDED_NODES:
            message = (
                f"step {number} has more than {MAX_EXPANDED_NODES:,} parts once its "
                "definitions are written out"
            )
            raise SpecError(message, path=path, line=line)
        if flops > MAX_FLOPS:
            message = f"step {number} takes more than {MAX_FLOPS:,} multiplications to evaluate"
            raise SpecError(message, path=path, line=line)
        total_flops += flops
        if total_flops > MAX_TOTAL_FLOPS:
            message = (
                f"the steps up to step {number} take more than {MAX_TOTAL_FLOPS:,} "
                "multiplications to evaluate together"
            )
            raise SpecError(message, path=path, line=line)
        if steps and not same_shape(expression.shape, steps[-1].expression.shape):
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
    return _measure(node, {})[1]


def _expanded_size(node: Node) -> int:
    """Parts of ``node`` with every definition it uses written out (``d1: d0 + d0`` has 3
    parts more than ``d0``, so forty doublings stand for 2^40 parts)."""
    return _measure(node, {})[0]


def _measure(node: Node, memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(parts, multiply-adds) of ``node`` written out, each shared node measured once: the
    expression as a tree can be exponentially larger than the graph of definitions."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size, flops = 1, 0
    if isinstance(node, BinOp) and node.op == "*" and node.left.shape and node.right.shape:
        flops = node.left.shape[0] * node.left.shape[1] * node.right.shape[1]
    elif isinstance(node, Pow) and node.base.shape:
        flops = node.base.shape[0] ** 3 * (node.exponent - 1)
    for child in _children(node):
        child_size, child_flops = _measure(child, memo)
        size, flops = size + child_size, flops + child_flops
    memo[id(node)] = (size, flops)
    return size, flops


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
    """Check every step against the one before it (step 1 is the start)."""
    first = derivation.steps[0]
    results = [StepResult(first, "start", "start")]
    deadline = time.monotonic() + PROOF_BUDGET_S
    with deep_recursion():
        for before, after in zip(derivation.steps, derivation.steps[1:], strict=False):
            results.append(check_step(derivation, before.expression, after, seed, deadline))
    return results


def _children(node: Node) -> list[Node]:
    out = [v for v in vars(node).values() if isinstance(v, Node)]
    return out + [a for a in getattr(node, "args", ()) if isinstance(a, Node)]


def _used(node: Node, out: set[str]) -> set[str]:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Sym):
            out.add(n.name)
        stack += _children(n)
    return out


def _generics(node: Node, out: set[str]) -> set[str]:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Call) and GENERIC.match(n.function):
            out.add(n.function)
        stack += _children(n)
    return out


def check_step(
    derivation: Derivation, before: Node, step: Step, seed: int = 0, deadline: float | None = None
) -> StepResult:
    """Is ``step`` equal to ``before``? Proven, false (an exact counterexample), or not proven.

    ``deadline`` (``time.monotonic()``) bounds the symbolic work: past it, a step that was
    neither proven nor refuted is reported as not proven, with its numeric evidence.
    """
    after = step.expression
    names = sorted(_used(before, set()) | _used(after, set()))
    generics = sorted(_generics(before, set()) | _generics(after, set()))
    rng = np.random.default_rng(seed + step.number)
    if deadline is None:
        deadline = time.monotonic() + PROOF_BUDGET_S

    def left() -> float:
        return deadline - time.monotonic()

    if zero_denominator(before) or zero_denominator(after):
        return StepResult(
            step, "false", "divides by an expression that is 0 for every value: undefined"
        )
    timed_out = False
    try:
        with _time_limit(min(left(), CANONICAL_S)):
            if prove_canonical(before, after):
                return StepResult(step, "proven", "proven: matrix algebra, any shapes")
    except _OutOfTime:
        timed_out = True
    symbols = {n: derivation.symbols[n] for n in names}
    found = None
    try:
        with _time_limit(left()):
            found = search(
                before,
                after,
                symbols,
                names,
                generics,
                rng,
                _flops(before) + _flops(after),
                lambda: left() <= 0,
            )
    except _OutOfTime:
        timed_out = True
    if found is not None:
        return StepResult(step, "false", f"differs: {found.method}", None, _counterexample(found))
    entries = sum(int(np.prod(shape or (1, 1))) for shape in symbols.values())
    reason = "no proof found"
    if entries > MAX_EXPLICIT_ENTRIES:
        reason = f"no proof for every shape, and {entries} entries are too many to prove one by one"
    else:
        try:
            with _time_limit(left()):
                regions = prove_entries(before, after, symbols, lambda: left() <= 0)
            if regions is not None:
                how = "proven: entry by entry at the declared shapes"
                if regions > 1:
                    how += f", in each of {regions} sign regions"
                return StepResult(step, "proven", how)
        except _OutOfTime:
            timed_out = True
    if timed_out or left() <= 0:
        reason = "the symbolic proof ran out of time"
    evidence = numeric_evidence(before, after, symbols, names, generics, rng)
    return StepResult(step, "not proven", f"not proven: {reason}", evidence)


def _counterexample(found: Found) -> Counterexample:
    generic = {g: f.describe(g) for g, f in found.functions.items()}
    gap = difference_text(found.before, found.after)
    return Counterexample(found.point, generic, found.before, found.after, found.method, gap)


def passes(results: list[StepResult], accept_numeric: bool = False) -> bool:
    """Every step proven (or, with ``accept_numeric``, not proven but agreeing numerically)."""
    return all(r.holds or (accept_numeric and r.numerically_plausible) for r in results)


# --- reports ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """An exact value for JSON: whole numbers as numbers, fractions as "p/q", intervals as the
    nearest float."""
    if isinstance(value, np.ndarray):
        return [[_plain(v) for v in row] for row in np.atleast_2d(value)]
    if isinstance(value, Fraction | int):
        value = Fraction(value)
        if value.denominator == 1:
            return int(value) if abs(value) < 2**53 else str(value)
        return str(value)
    return to_float(value)


def _mark(result: StepResult, accept_numeric: bool) -> str:
    if result.status == "start":
        return " "
    if result.status == "proven":
        return "✓"
    if result.status == "false":
        return "✗"
    return "≈" if accept_numeric and result.numerically_plausible else "?"


def report_json(
    derivation: Derivation, results: list[StepResult], accept_numeric: bool = False
) -> dict[str, Any]:
    failures = [r.step.number for r in results if not r.holds]
    steps = []
    for r in results:
        ce = r.counterexample
        ev = r.evidence
        steps.append(
            {
                "step": r.step.number,
                "line": r.step.line,
                "expression": r.step.source,
                "latex": derivation.latex(r.step.expression),
                "status": r.status,
                "holds": r.holds,
                "accepted_numerically": accept_numeric and not r.holds and r.numerically_plausible,
                "proof": r.proof,
                "evidence": None
                if ev is None
                else {
                    "trials": ev.trials,
                    "finite": ev.finite,
                    "agree": ev.agree,
                    "max_relative_difference": float(f"{ev.worst:.3g}"),
                },
                "counterexample": None
                if ce is None
                else {
                    "values": {k: _plain(v) for k, v in ce.values.items()},
                    "generic": ce.generic,
                    "previous_step": _plain(ce.before),
                    "this_step": _plain(ce.after),
                    "method": ce.method,
                    "certified_gap": ce.gap,
                },
            }
        )
    return {
        "path": derivation.path,
        "title": derivation.title,
        "holds": passes(results, accept_numeric),
        "proven": not failures,
        "first_failure": failures[0] if failures else None,
        "steps": steps,
    }


def _text_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        rows = ["[" + ", ".join(scalar_text(v) for v in row) + "]" for row in value]
        return rows[0] if len(rows) == 1 else "[" + "; ".join(r[1:-1] for r in rows) + "]"
    return scalar_text(value)


def verdict(results: list[StepResult], accept_numeric: bool = False) -> str:
    false = [r for r in results if r.status == "false"]
    if false:
        return f"step {false[0].step.number} does not hold"
    open_ = [r for r in results if r.status == "not proven"]
    if not open_:
        return "every step is proven"
    numbers = ", ".join(str(r.step.number) for r in open_)
    if accept_numeric and passes(results, True):
        return f"every step holds; step(s) {numbers} accepted numerically, NOT proven"
    return f"step(s) {numbers} not proven"


def report_text(
    derivation: Derivation, results: list[StepResult], accept_numeric: bool = False
) -> str:
    lines = [f"{derivation.path}: {len(results)} steps: {verdict(results, accept_numeric)}"]
    for r in results:
        mark = _mark(r, accept_numeric)
        where = ""
        if r.step.number > 1:
            proof = r.proof
            if r.evidence is not None:
                accepted = accept_numeric and r.numerically_plausible
                proof += ("; accepted numerically: " if accepted else "; ") + r.evidence.text()
            where = f"   [{proof}]"
        lines.append(f"  {r.step.number:>2} {mark} {r.step.source}{where}")
    for r in results:
        if r.status != "false":
            continue
        at = f"{derivation.path}:{r.step.line}" if r.step.line else derivation.path
        ce = r.counterexample
        if ce is None:
            lines.append(f"{at}: step {r.step.number} {r.proof}")
            continue
        lines.append(
            f"{at}: step {r.step.number} ≠ step {r.step.number - 1}; counterexample ({ce.method}):"
        )
        for name, value in ce.values.items():
            lines.append(f"    {name} = {_text_value(value)}")
        for description in ce.generic.values():
            lines.append(f"    {description}")
        lines.append(f"    step {r.step.number - 1} gives {_text_value(ce.before)}")
        lines.append(f"    step {r.step.number} gives {_text_value(ce.after)}")
        if ce.gap is not None:
            exact = ce.method.startswith("exact")
            lines.append(f"    they differ by {'' if exact else 'more than '}{ce.gap}")
    return "\n".join(lines) + "\n"


def read_derivation(path: str) -> Derivation:
    """Read and parse a derivation file (``SpecError`` for any problem)."""
    raw = read_regular(path, MAX_BYTES)  # a FIFO is refused, not waited on
    text = spec_readers.decode(raw, path)
    return parse_derivation(text, path)


def check_derivation_file(path: str, fmt: str = "text", accept_numeric: bool = False) -> int:
    """The ``check-derivation`` command: 0 when every step is proven (or, with
    ``accept_numeric``, at least agrees numerically), 1 otherwise (2 raised)."""
    derivation = read_derivation(path)
    results = check(derivation)
    if fmt == "json":
        document = report_json(derivation, results, accept_numeric)
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(report_text(derivation, results, accept_numeric), end="")
    return 0 if passes(results, accept_numeric) else 1


# --- the Markdown fence -----------------------------------------------------------------------

FENCE_OPTIONS = {"expect": ("pass", "fail"), "accept": ("numeric",)}


def derivation_fence_validator(
    language: str, inputs: dict[str, str], options: dict[str, str], attrs: dict[str, str], md: Any
) -> bool:
    """Accept ``expect="fail"`` (a deliberately wrong example) and ``accept="numeric"`` (steps
    that are not proven pass when they agree numerically); any other option is an error."""
    from pymdownx.superfences import SuperFencesException

    for key, value in inputs.items():
        if key not in FENCE_OPTIONS or value not in FENCE_OPTIONS[key]:
            raise SuperFencesException(
                f"derivation fence: unknown option {key}={value!r} "
                "(allowed: expect=pass|fail, accept=numeric)"
            )
        options[key] = value
    return True


def fence_failure(derivation: Derivation, results: list[StepResult], accept_numeric: bool) -> str:
    """Why a fence fails the build: the step, its line in the fence and the counterexample."""
    first = next(
        r for r in results if not (r.holds or (accept_numeric and r.numerically_plausible))
    )
    where = f"line {first.step.line} of the fence" if first.step.line else "the fence"
    message = f"step {first.step.number} ({first.step.source}, {where}) "
    ce = first.counterexample
    if first.status == "false" and ce is not None:
        values = ", ".join(f"{k} = {_text_value(v)}" for k, v in ce.values.items())
        values += "".join(f", {d}" for d in ce.generic.values())
        message += (
            f"does not hold: at {values}, step {first.step.number - 1} gives "
            f"{_text_value(ce.before)} but step {first.step.number} gives {_text_value(ce.after)}"
        )
    elif first.status == "false":
        message += first.proof
    else:
        evidence = f" ({first.evidence.text()})" if first.evidence else ""
        message += f"is {first.proof}{evidence}"
    return message


def derivation_fence_format(
    source: str, language: str, css_class: str, options: dict[str, str], md: Any, **kwargs: Any
) -> str:
    """The fence as HTML: each step with ✓, ✗ and its counterexample, or ? (not proven); raises
    when a step is not proven unless the fence says ``expect="fail"`` (and then raises if every
    step holds)."""
    from pymdownx.superfences import SuperFencesException

    try:
        derivation = parse_derivation(source, "derivation fence")
    except SpecError as error:
        failure = SuperFencesException(str(error))
        failure.fence_line = error.line  # the site adds the page's line
        raise failure from error
    results = check(derivation)
    accept_numeric = options.get("accept") == "numeric"
    holds = passes(results, accept_numeric)
    expect_fail = options.get("expect") == "fail"
    if not holds and not expect_fail:
        failure = SuperFencesException(
            "derivation fence: "
            + fence_failure(derivation, results, accept_numeric)
            + '; mark the fence expect="fail" if it is a deliberate wrong example'
        )
        first = next(r for r in results if not r.holds)
        failure.fence_line = first.step.line
        raise failure
    if holds and expect_fail:
        raise SuperFencesException('derivation fence is marked expect="fail" but every step holds')
    return render_html(derivation, results, css_class or "derivation", accept_numeric)


def _math(latex: str) -> str:
    return f'<span class="arithmatex">\\({html.escape(latex, quote=False)}\\)</span>'


def _latex_scalar(value: Any) -> str:
    if isinstance(value, Fraction | int):
        value = Fraction(value)
        if value.denominator == 1:
            return str(value.numerator)
        sign = "-" if value < 0 else ""
        return rf"{sign}\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"
    return r"\approx " + scalar_text(value).removeprefix("≈ ")


def _latex_value(value: Any) -> str:
    if not isinstance(value, np.ndarray):
        return _latex_scalar(value)
    rows = r" \\ ".join(" & ".join(_latex_scalar(v) for v in row) for row in value)
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"


_ROWS = {
    "proven": ("nnd-step-holds", "✓", "= "),
    "false": ("nnd-step-fails", "✗", r"\ne "),
    "not proven": ("nnd-step-unproven", "?", r"\overset{?}{=} "),
}


def render_html(
    derivation: Derivation,
    results: list[StepResult],
    css_class: str,
    accept_numeric: bool = False,
) -> str:
    holds = passes(results, accept_numeric)
    out = [
        f'<div class="{html.escape(css_class)} nnd-derivation" data-holds="{str(holds).lower()}">'
    ]
    if derivation.title:
        out.append(f'<p class="nnd-derivation-title">{html.escape(derivation.title)}</p>')
    out.append('<table class="nnd-derivation-steps"><tbody>')
    for r in results:
        expr = derivation.latex(r.step.expression)
        if r.status == "start":
            row_class, mark, math = "nnd-step-start", "", expr
        else:
            row_class, mark, relation = _ROWS[r.status]
            if r.status == "not proven" and accept_numeric and r.numerically_plausible:
                row_class, mark, relation = "nnd-step-numeric", "≈", r"\approx "
            math = relation + expr
        note = html.escape(r.step.note) if r.step.note else ""
        detail = ""
        if r.step.number > 1:
            detail = r.proof + (f"; {r.evidence.text()}" if r.evidence else "")
        out.append(
            f'<tr class="nnd-step {row_class}"><td class="nnd-step-mark" '
            f'title="{html.escape(detail)}">{mark}'
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
    number = result.step.number
    generic = "".join(f", {html.escape(d)}" for d in ce.generic.values())
    gap = ""
    if ce.gap:
        exact = ce.method.startswith("exact")
        gap = f" (they differ by {'' if exact else 'more than '}{html.escape(ce.gap)})"
    return (
        "Counterexample: at "
        + ", ".join(_math(v) for v in values)
        + generic
        + f", step {number - 1} gives {_math(_latex_value(ce.before))}"
        + f" but step {number} gives {_math(_latex_value(ce.after))}{gap}."
    )
