"""The network model every stage shares: frozen dataclasses, built only by ``spec.py``.

All symbol names that diagrams and equations print come from :class:`Naming`, so the ``x_0``
on an edge and the ``x_0`` in a matrix are the same text by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

View = Literal["neuron", "network", "layers", "auto"]
LabelStyle = Literal["math", "plain"]
Loss = Literal["mse", "bce", "ce"]

VIEWS: tuple[str, ...] = ("neuron", "network", "layers", "auto")
LABEL_STYLES: tuple[str, ...] = ("math", "plain")
LOSSES: tuple[str, ...] = ("mse", "bce", "ce")
PROBABILITY_OUTPUTS: tuple[str, ...] = ("sigmoid", "softmax")  # outputs in (0, 1): bce, ce
# Output activation and loss pairs whose dz of the last layer simplifies to a - y.
SIMPLIFIED = frozenset({("sigmoid", "bce"), ("softmax", "ce")})


def decimal_text(value: float) -> str:
    """A number as a plain decimal with every digit it was written with: 0.00001 (not 1e-05),
    0.123456789 (not 0.123457), 2 (not 2.0)."""
    from decimal import Decimal

    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class ActivationChoice:
    """An activation as the spec names it; ``activations.py`` turns it into formulas."""

    name: str = "identity"  # identity|sigmoid|tanh|relu|leaky_relu|softmax|generic|custom
    alpha: float | None = None  # leaky_relu slope
    expression: str | None = None  # custom: the source text, already checked by the parser

    @property
    def is_identity(self) -> bool:
        return self.name == "identity"

    def describe(self) -> str:
        """Human name used in captions: 'ReLU', 'leaky ReLU (α=0.01)', 'g(z) = …'."""
        names = {
            "identity": "linear",
            "sigmoid": "sigmoid",
            "tanh": "tanh",
            "relu": "ReLU",
            "softmax": "softmax",
            "generic": "g",
        }
        if self.name == "leaky_relu":
            return f"leaky ReLU (α={decimal_text(self.alpha or 0.0)})"
        if self.name == "custom":
            return f"custom: {self.expression}"
        return names[self.name]


@dataclass(frozen=True)
class Show:
    bias: bool = True
    weights: bool = True
    activations: bool = True
    equations: bool = True
    # The keys the spec wrote: a figure that cannot draw a part the spec asked for says so.
    asked: frozenset[str] = field(default=frozenset(), compare=False)


# The source index of the network's input x in ``Layer.add`` and ``Layer.concat``.
INPUT = -1


@dataclass(frozen=True)
class Layer:
    """One layer: ``z = W a_prev + b`` with ``W`` of shape (units, fan_in), then ``a = g(z)``.

    Skip connections (issue 17): ``concat`` lists outputs stacked under the previous output,
    so the layer computes ``z = W [a_prev; a_k1; a_k2 …] + b`` and ``fan_in`` is the summed
    width (the columns of ``W`` follow that order); ``add`` names an output of the layer's own
    width added to ``z`` before the activation: ``z = W a_prev + b + a_k``. Sources are 0-based
    layer indices, or ``INPUT`` (-1) for the input ``x``; always earlier than the layer.
    """

    index: int  # 0-based position in the network, whatever the display numbering
    units: int
    fan_in: int
    activation: ActivationChoice = field(default_factory=ActivationChoice)
    name: str | None = None  # the spec's optional ``name:``
    add: int | None = None  # source whose output is added to z
    concat: tuple[int, ...] = ()  # sources stacked under the previous output, in order

    @property
    def sources(self) -> tuple[int, ...]:
        """What ``W`` multiplies, top to bottom: the previous output, then ``concat``."""
        return (self.index - 1, *self.concat)

    @property
    def has_skip(self) -> bool:
        return self.add is not None or bool(self.concat)

    @property
    def weight_shape(self) -> tuple[int, int]:
        return (self.units, self.fan_in)

    @property
    def parameter_count(self) -> int:
        """Entries of ``W`` and ``b``: units × fan_in + units."""
        return self.units * self.fan_in + self.units


@dataclass(frozen=True)
class Edge:
    """A directed edge of an explicit graph, with the 1-based line it was written on."""

    source: str
    target: str
    line: int | None = None


@dataclass(frozen=True)
class ExplicitGraph:
    """A hand-written graph (``graph:`` or ``edges:``) and what the connectivity check found.

    ``layers`` holds the node names of each inferred column, inputs first and outputs last.
    The three problem lists are empty exactly when the graph is a layered, fully connected
    feed-forward network.
    """

    edges: tuple[Edge, ...]
    layers: tuple[tuple[str, ...], ...]
    missing: tuple[Edge, ...] = ()  # edges a fully connected network would need
    skipping: tuple[Edge, ...] = ()  # edges that jump over a layer, or go back
    cycles: tuple[tuple[str, ...], ...] = ()

    @property
    def is_valid(self) -> bool:
        return not (self.missing or self.skipping or self.cycles)

    def problems(self) -> tuple[str, ...]:
        """One line per problem, for reports: 'missing edge x_0 -> z_0_1 (x_0 is on line 2,
        z_0_1 on line 4)', …: a missing edge has no line, the nodes it joins do."""
        first: dict[str, int] = {}
        for edge in self.edges:
            if edge.line is not None:
                first.setdefault(edge.source, edge.line)
                first.setdefault(edge.target, edge.line)

        def lines(e: Edge) -> str:
            known = [(n, first[n]) for n in (e.source, e.target) if n in first]
            if not known:
                return ""
            said = [
                f"{n} is on line {line}" if i == 0 else f"{n} on line {line}"
                for i, (n, line) in enumerate(known)
            ]
            return f" ({', '.join(said)})"

        out = [f"missing edge {e.source} -> {e.target}{lines(e)}" for e in self.missing]
        for e in self.skipping:
            where = f" (line {e.line})" if e.line else ""
            out.append(f"edge {e.source} -> {e.target} skips or goes back a layer{where}")
        out += ["cycle " + " -> ".join((*c, c[0])) for c in self.cycles]
        return tuple(out)


@dataclass(frozen=True)
class Naming:
    """The one place that spells symbols. ``base`` is 0 (the tutorial) or 1."""

    base: int = 0
    input_names: tuple[str, ...] = ()

    def index(self, i: int) -> int:
        return i + self.base

    def input(self, k: int) -> str:
        """Name of input k (0-based position): the spec's own name, or ``x_0``."""
        if self.input_names:
            return self.input_names[k]
        return f"x_{self.index(k)}"

    def neuron(self, layer: int, unit: int) -> str:
        """Node name of a pre-activation: ``z_0_1``."""
        return f"z_{self.index(layer)}_{self.index(unit)}"

    def activation(self, layer: int, unit: int) -> str:
        return f"a_{self.index(layer)}_{self.index(unit)}"

    def output(self, unit: int, units: int) -> str:
        return "output" if units == 1 else f"output_{self.index(unit)}"

    def layer(self, layer: int) -> str:
        """The bracketed superscript text: ``[0]``."""
        return f"[{self.index(layer)}]"


@dataclass(frozen=True)
class Network:
    """A validated network. Build it with ``spec.load_spec`` or ``Network.from_sizes``."""

    inputs: int
    layers: tuple[Layer, ...]
    naming: Naming = field(default_factory=Naming)
    title: str | None = None
    description: str | None = None
    loss: Loss | None = None
    view: View = "auto"
    show: Show = field(default_factory=Show)
    labels: LabelStyle = "math"
    max_neurons: int = 8
    graph: ExplicitGraph | None = None
    source: str = "<spec>"

    @classmethod
    def from_sizes(
        cls,
        sizes: list[int] | tuple[int, ...],
        activations: Any = "identity",
        **options: object,
    ) -> Network:
        """Convenience for Python users and tests: ``Network.from_sizes([2, 2, 1], "relu")``.

        ``sizes[0]`` is the input count; the others are layer widths. ``activations`` is one
        activation for every layer or one per layer, each as a spec writes it (``"relu"``,
        ``{"leaky_relu": {"alpha": 0.2}}``; leaky_relu alone gets the tutorial's 0.01). They
        are checked exactly as a spec file is: a mistake is a ``SpecError`` naming it.
        """
        # The one validation path of specs (nndiagram.spec), wired in by the package: the
        # core cannot import the stage above it.
        assert FROM_SIZES_HOOK is not None, "import nndiagram first"
        network: Network = FROM_SIZES_HOOK(sizes, activations, **options)
        return network

    @property
    def n_inputs(self) -> int:
        return self.inputs

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].units

    @property
    def sizes(self) -> tuple[int, ...]:
        """Input count followed by each layer's width: (2, 2, 1)."""
        return (self.inputs, *(layer.units for layer in self.layers))

    @property
    def has_skips(self) -> bool:
        """True when some layer adds or concatenates an output other than the previous one."""
        return any(layer.has_skip for layer in self.layers)

    def width(self, source: int) -> int:
        """Width of a source: the input count for ``INPUT``, else that layer's units."""
        return self.inputs if source == INPUT else self.layers[source].units

    def source_label(self, source: int) -> str:
        """How figures and messages print a source: ``x`` or ``a^[1]`` as plain text."""
        return "x" if source == INPUT else f"a{self.naming.layer(source)}"

    @property
    def parameter_count(self) -> int:
        """Every weight and bias: 109,386 for 784-128-64-10."""
        return sum(layer.parameter_count for layer in self.layers)

    @property
    def is_linear(self) -> bool:
        """True when every activation is the identity: the stack collapses to ``Wx + B``."""
        return all(layer.activation.is_identity for layer in self.layers)

    @property
    def has_generic(self) -> bool:
        return any(layer.activation.name == "generic" for layer in self.layers)

    @property
    def name(self) -> str:
        """A file-system-safe stem from the source path (``xor`` for ``diagrams/xor.yaml``)."""
        from pathlib import PurePath

        return PurePath(self.source).stem if self.source != "<spec>" else "network"

    def remarks(self) -> tuple[str, ...]:
        """Legal but surely unintended choices, one line each (``validate`` prints them)."""
        out = [
            f"layers[{layer.index}]: softmax over one unit is the constant 1 (it outputs 1 "
            "whatever z is); use sigmoid for one probability, or give the layer 2+ units"
            for layer in self.layers
            if layer.activation.name == "softmax" and layer.units == 1
        ]
        last = self.layers[-1].activation if self.layers else None
        if (
            self.loss in ("bce", "ce")
            and last is not None
            and last.name not in (*PROBABILITY_OUTPUTS, "generic")
        ):
            out.append(
                f"loss: {self.loss} takes logs of outputs in (0, 1), and the last layer's "
                f"{last.describe()} is not confined to them: check and train will refuse it; "
                "use sigmoid or softmax there, or loss mse"
            )
        return tuple(out)

    def layer_caption(self, layer: Layer) -> str:
        """'layer 0 · hidden · 128 · ReLU' / 'layer 2 · output · 10 · softmax': the number is
        the one the figure's superscripts print (``numbering``), so they never disagree."""
        last = layer.index == len(self.layers) - 1
        kind = "output" if last else "hidden"
        number = self.naming.index(layer.index)
        return f"layer {number} · {kind} · {layer.units} · {layer.activation.describe()}"

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None, **_: object
    ) -> dict[str, str]:
        """Jupyter: the network shows as its diagram (SVG); equations as LaTeX on request.

        The diagram and the equations live in stages above this one, so the package wires
        the display in (``nndiagram/__init__.py`` registers ``notebook.mimebundle``)."""
        if DISPLAY_HOOK is None:
            return {"text/plain": repr(self)}
        return DISPLAY_HOOK(self, include, exclude)


def require_valid(network: Network, consequence: str, path: str) -> None:
    """Refuse (exit 1) a hand-drawn graph that is not a valid network, naming its first problem:
    ``not a valid network, cannot train: missing edge x_0 -> z_0_1 … (and 2 more)``."""
    graph = network.graph
    if graph is None or graph.is_valid:
        return
    from .errors import InvalidNetworkError

    problems = graph.problems()
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise InvalidNetworkError(
        f"not a valid network, {consequence}: {problems[0]}{more}", path=path, problems=problems
    )


def require_chain(network: Network, what: str) -> None:
    """Refuse, as bad input naming the spec, a network with skips in a stage that does not
    handle them yet (issue 17 lands stage by stage: spec and numbers first)."""
    if network.has_skips:
        from .errors import SpecError

        raise SpecError(
            f"{what} of skip connections (add/concat) are not available yet; the spec, "
            "evaluate, gradients and train handle them",
            path=network.source,
        )


# How a notebook shows a Network: set once by nndiagram/__init__.py (see ``_repr_mimebundle_``).
DISPLAY_HOOK: Callable[[Network, object, object], dict[str, str]] | None = None
# Set by the package to spec's network_from_sizes: from_sizes validates like a spec file.
FROM_SIZES_HOOK: Callable[..., Network] | None = None
