"""Read a spec file (YAML, JSON or TOML), validate it, build the frozen ``Network``.

The only module that turns user text into a model. Pipeline: bytes -> text (``spec_readers``:
size, UTF-8, positions) -> plain data -> pydantic models (types, allowed values, limits) ->
``Network``. Every failure is one ``SpecError`` with path, line, column and the key path
(``layers[1].units``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from . import spec_readers
from .errors import SpecError
from .graph import (
    MAX_EDGES,
    analyse_layers,
    check_duplicates,
    edges_from_pairs,
    neuron_columns,
    parse_edges,
)
from .model import (
    LABEL_STYLES,
    LOSSES,
    VIEWS,
    ActivationChoice,
    ExplicitGraph,
    Layer,
    Naming,
    Network,
    Show,
)
from .spec_readers import KeyPath, Locations, format_key

# activations.NAMES and DEFAULT_LEAKY_ALPHA (equal by test); not imported, because that
# module loads NumPy and `validate` needs no NumPy.
NAMES = ("custom", "generic", "identity", "leaky_relu", "relu", "sigmoid", "softmax", "tanh")
DEFAULT_LEAKY_ALPHA = 0.01
MAX_UNITS = 10**6
MAX_LAYERS = 1_000
MAX_TEXT = 10_000  # title, description
# Input names end up as DOT node names and LaTeX symbols; a plain identifier needs no quoting
# in either, so names are restricted rather than escaped.
INPUT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
# Names the tool generates for other nodes; an input called z_0_0 would merge with a neuron.
_GENERATED_NAME = re.compile(r"([za]_\d+_\d+)|(output(_\d+)?)")
SUFFIXES = tuple(spec_readers.READERS)


def _fail(message: str, subkey: str = "", **inside: Any) -> PydanticCustomError:
    """A validation error whose text is used as is; ``subkey`` extends the key path.

    ``inside`` may give ``value`` (text) and ``column`` (1-based, in that text) to point at a
    character inside a value, such as the bad token of a custom expression.
    """
    return PydanticCustomError(
        "spec", "{message}", {"message": message, "subkey": subkey, **inside}
    )


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- the format, as pydantic models (also the JSON Schema) ----------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ShowSpec(_Model):
    """Which parts of the network the diagram and page show."""

    bias: bool = Field(True, description="Draw bias nodes and terms.")
    weights: bool = Field(True, description="Label edges with their weights (w_0,0 ...).")
    activations: bool = Field(True, description="Draw the a = g(z) activation nodes.")
    equations: bool = Field(True, description="Show the matrix equations under the diagram.")


class LeakyReluParams(_Model):
    alpha: float = Field(
        DEFAULT_LEAKY_ALPHA,
        gt=0,
        le=100,
        allow_inf_nan=False,
        description="Slope for z <= 0; the tutorial's max(0.01z, z) has alpha = 0.01.",
    )


class LeakyReluSpec(_Model):
    leaky_relu: LeakyReluParams = LeakyReluParams.model_validate({})


class CustomSpec(_Model):
    custom: str = Field(
        min_length=1,
        max_length=500,
        description="An expression in z: numbers, + - * / **, max, min, exp, log, tanh, ...",
        examples=["max(0.01*z, z)"],
    )


ActivationName = Literal["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", "generic"]
_NAMED = ActivationName.__args__  # type: ignore[attr-defined]


def _check_activation(value: Any) -> Any:
    """Clear messages for the activation forms, before the union tries each of them."""
    if isinstance(value, str):
        if value == "custom":
            raise _fail('a custom activation is written {custom: "<expression in z>"}')
        if value not in _NAMED:
            raise _fail(f"unknown activation {value!r} (must be one of: {', '.join(NAMES)})")
        return value
    if not isinstance(value, dict):
        raise _fail(
            f"an activation is a name or a mapping like {{leaky_relu: {{alpha: 0.01}}}}, "
            f"not {_describe(value)}"
        )
    if len(value) != 1 or next(iter(value)) not in ("leaky_relu", "custom"):
        keys = ", ".join(repr(k) for k in value) or "none"
        raise _fail(f"an activation mapping has one key, leaky_relu or custom (got {keys})")
    ((name, argument),) = value.items()
    if name == "custom":
        return _check_custom(argument)
    if argument is None:
        return {"leaky_relu": {}}
    if not isinstance(argument, dict) or set(argument) - {"alpha"}:
        raise _fail("leaky_relu takes {alpha: <number>}", "leaky_relu")
    alpha = argument.get("alpha", DEFAULT_LEAKY_ALPHA)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha <= 100:
        raise _fail(
            f"alpha must be a number in (0, 100], got {_describe(alpha)}", "leaky_relu.alpha"
        )
    return value


def _check_custom(expression: Any) -> Any:
    from .expressions import compile_activation

    if not isinstance(expression, str):
        raise _fail(
            f"a custom activation is an expression in z, not {_describe(expression)}", "custom"
        )
    try:
        compile_activation(expression)
    except SpecError as error:
        raise _fail(
            f"bad custom activation: {error.message}",
            "custom",
            value=expression,
            column=error.column,
        ) from None
    return {"custom": expression}


Activation = Annotated[
    ActivationName | LeakyReluSpec | CustomSpec,
    BeforeValidator(_check_activation),
    Field(
        description="identity (default), sigmoid, tanh, relu, leaky_relu, softmax, generic, "
        '{leaky_relu: {alpha: 0.01}} or {custom: "max(0.01*z, z)"}'
    ),
]

_ACTIVATION: TypeAdapter[Any] = TypeAdapter(Activation)


class LayerSpec(_Model):
    """One layer: z = W a_prev + b, then a = g(z)."""

    units: int = Field(ge=1, le=MAX_UNITS, description="Number of neurons.")
    activation: Activation = "identity"


def _check_inputs(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | list):
        raise _fail(f"inputs is a count or a list of names, not {_describe(value)}")
    if isinstance(value, int):
        if not 1 <= value <= MAX_UNITS:
            raise _fail(f"inputs must be between 1 and {MAX_UNITS:,}, got {value}")
        return value
    if not value:
        raise _fail("inputs needs at least one name")
    if len(value) > MAX_UNITS:
        raise _fail(f"at most {MAX_UNITS:,} inputs")
    for index, name in enumerate(value):
        if not isinstance(name, str) or not INPUT_NAME.fullmatch(name):
            raise _fail(
                f"input name {_describe(name)} must be a letter followed by up to 31 letters, "
                "digits or '_'",
                f"[{index}]",
            )
        if _GENERATED_NAME.fullmatch(name):
            raise _fail(f"input name {name!r} is reserved for a neuron or output", f"[{index}]")
        if name in value[:index]:
            raise _fail(f"duplicate input name {name!r}", f"[{index}]")
    return value


EdgePair = Annotated[list[str], Field(min_length=2, max_length=2)]


class SpecFile(_Model):
    """A network spec, version 1: inputs and layers, or an explicit graph (or edges)."""

    title: str | None = Field(None, max_length=MAX_TEXT, description="Shown above the diagram.")
    description: str | None = Field(
        None, max_length=MAX_TEXT, description="Markdown shown on the page."
    )
    inputs: Annotated[
        Annotated[int, Field(ge=1, le=MAX_UNITS)]
        | list[Annotated[str, Field(pattern=f"^{INPUT_NAME.pattern}$")]]
        | None,
        BeforeValidator(lambda v: v if v is None else _check_inputs(v)),
        Field(description="A count, or a list of input names such as [x_0, x_1]."),
    ] = None
    layers: list[LayerSpec] | None = Field(
        None, min_length=1, max_length=MAX_LAYERS, description="The layers, input side first."
    )
    graph: str | None = Field(
        None,
        description="An explicit graph: DOT edge statements such as 'x_0 -> z_0_0', one per line.",
    )
    edges: list[EdgePair] | None = Field(
        None, max_length=MAX_EDGES, description="An explicit graph as [source, target] pairs."
    )
    loss: Literal["mse", "bce", "ce"] | None = Field(None, description="mse | bce | ce")
    view: Literal["neuron", "network", "layers", "auto"] = Field(
        "auto", description="How the diagram draws the network."
    )
    show: ShowSpec = ShowSpec.model_validate({})
    labels: Literal["math", "plain"] = Field(
        "math", description="math: real sub/superscripts; plain: the tutorial's text labels."
    )
    max_neurons: int = Field(
        8, ge=2, le=1_000, description="Larger layers are drawn elided: first units, ⋮, last."
    )
    numbering: Literal[0, 1] = Field(0, description="Number layers and units from 0 or 1.")

    @model_validator(mode="after")
    def _one_network(self) -> SpecFile:
        given = [k for k in ("layers", "graph", "edges") if getattr(self, k) is not None]
        if not given:
            raise _fail("a spec needs layers (with inputs), or an explicit graph or edges")
        if len(given) > 1:
            raise _fail(
                f"give only one of layers, graph and edges (got {', '.join(given)})", given[1]
            )
        if given == ["layers"] and self.inputs is None:
            raise _fail("missing required key 'inputs' (a count or a list of names)", "inputs")
        if given != ["layers"] and self.inputs is not None:
            raise _fail("inputs are inferred from the graph; remove 'inputs'", "inputs")
        return self


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format, for editors (``nndiagram schema``)."""
    schema = SpecFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "nndiagram network spec",
        **schema,
    }


# --- loading --------------------------------------------------------------------------------


def load_spec(path: str | Path, numbering: int | None = None) -> Network:
    """Read, validate and build the network of a spec file; the suffix picks the format."""
    name = str(path)
    suffix = Path(name).suffix.lower()
    if suffix not in spec_readers.READERS:
        raise SpecError(
            f"unknown spec file type {suffix or '(none)'!r} "
            f"(must be one of: {', '.join(SUFFIXES)})",
            path=name,
        )
    try:
        with open(path, "rb") as file:
            raw = file.read(spec_readers.MAX_BYTES + 1)
    except OSError as error:
        raise SpecError(f"cannot read: {error.strerror or error}", path=name) from None
    text = spec_readers.decode(raw, name)
    return _load(text, name, spec_readers.READERS[suffix], numbering)


def load_spec_text(
    text: str, path: str = "<spec>", fmt: str = "yaml", numbering: int | None = None
) -> Network:
    """Like ``load_spec`` for text already in memory (the Markdown fence's inline specs)."""
    reader = spec_readers.FORMATS.get(fmt)
    if reader is None:
        raise SpecError(
            f"unknown spec format {fmt!r} (must be one of: {', '.join(spec_readers.FORMATS)})",
            path=path,
        )
    if len(text) > spec_readers.MAX_BYTES:
        raise SpecError(f"spec is longer than {spec_readers.MAX_BYTES:,} characters", path=path)
    if "\0" in text:
        raise SpecError("contains a NUL character: this is not a text file", path=path)
    return _load(text, path, reader, numbering)


def _load(
    text: str,
    path: str,
    reader: Callable[[str, str], tuple[Any, Locations]],
    numbering: int | None,
) -> Network:
    data, locations = reader(text, path)
    if not isinstance(data, dict):
        raise SpecError(
            f"a spec is a mapping of keys such as inputs and layers, not {type(data).__name__}",
            path=path,
            line=1,
            column=1,
        )
    try:
        spec = SpecFile.model_validate(data)
    except ValidationError as error:
        raise _spec_error(error, path, locations, text) from None
    if numbering is not None and numbering not in (0, 1):
        raise SpecError(f"numbering must be 0 or 1, got {numbering!r}", path=path)
    return _network(spec, path, locations, text, spec.numbering if numbering is None else numbering)


def parse_activation(source: str, path: str = "<activation>") -> ActivationChoice:
    """An ``activation:`` value on its own (``relu``, ``{custom: "max(0, z)"}``), as YAML."""
    data, locations = spec_readers.read_yaml(source, path)
    try:
        activation = _ACTIVATION.validate_python(data)
    except ValidationError as error:
        raise _spec_error(error, path, locations, source) from None
    return _choice(activation)


def _spec_error(error: ValidationError, path: str, locations: Locations, text: str) -> SpecError:
    """The first pydantic error, as one line pointing at the key."""
    first = error.errors(include_url=False)[0]
    loc: KeyPath = tuple(first["loc"])
    kind = first["type"]
    ctx = first.get("ctx") or {}
    if kind == "spec":
        message = ctx["message"]
        loc = _extend(loc, ctx.get("subkey", ""))
    elif kind == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc[:-1]))
        message = f"unknown key {loc[-1]!r} (allowed keys: {allowed})"
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r}"
    elif kind == "literal_error":
        choices = {"loss": LOSSES, "view": VIEWS, "labels": LABEL_STYLES, "numbering": ("0", "1")}
        field = str(loc[-1])
        allowed = ", ".join(sorted(choices.get(field, ())))
        message = f"unknown {field} {_describe(first['input'])} (must be one of: {allowed})"
    elif kind == "less_than_equal" and loc and loc[-1] == "units":
        message = f"at most {MAX_UNITS:,} units per layer, got {first['input']}"
    elif kind == "too_long" and loc == ("layers",):
        message = f"at most {MAX_LAYERS:,} layers, got {len(first['input'])}"
    elif kind == "too_short" and loc == ("layers",):
        message = "a network needs at least one layer"
    elif kind in ("too_short", "too_long") and loc[:1] == ("edges",) and len(loc) == 2:
        message = f"an edge is a [source, target] pair, got {_describe(first['input'])}"
    elif kind in ("greater_than_equal", "less_than_equal"):
        bound = "at least" if kind == "greater_than_equal" else "at most"
        limit = ctx.get("ge", ctx.get("le"))
        message = f"must be {bound} {limit}, got {_describe(first['input'])}"
    elif kind == "too_long" and loc == ("edges",):
        message = f"more than {MAX_EDGES:,} edges"
    else:
        text = str(first["msg"])
        message = f"{text[:1].lower()}{text[1:]}, got {_describe(first['input'])}"
        if kind == "string_type" and isinstance(first["input"], int | float | bool):
            message += " (put text that looks like a number or yes/no in quotes)"
    position = locations.of(loc, key=kind == "extra_forbidden")
    if position and ctx.get("column"):
        position = _inside(position, text, ctx["value"], ctx["column"])
    line, column = position if position else (None, None)
    return SpecError(message, path=path, line=line, column=column, key=format_key(loc))


def _inside(position: tuple[int, int], text: str, value: str, column: int) -> tuple[int, int]:
    """The file position of character ``column`` of ``value``, when the value is written out
    verbatim on one line (plain or simply quoted); else the value's own position."""
    line, start = position
    lines = text.splitlines()
    source = lines[line - 1] if line <= len(lines) else ""
    start += source[start - 1 : start] in ("'", '"')
    if "\n" in value or source[start - 1 : start - 1 + len(value)] != value:
        return position
    return line, start + column - 1


def _extend(loc: KeyPath, subkey: str) -> KeyPath:
    for part in re.findall(r"\[(\d+)\]|([^.\[\]]+)", subkey):
        loc = (*loc, int(part[0]) if part[0] else part[1])
    return loc


def _allowed_keys(loc: KeyPath) -> list[str]:
    named = tuple(p for p in loc if isinstance(p, str))
    nested: dict[tuple[str, ...], type[BaseModel]] = {("show",): ShowSpec, ("layers",): LayerSpec}
    return sorted(nested.get(named, SpecFile).model_fields)


# --- the model ------------------------------------------------------------------------------


def _network(spec: SpecFile, path: str, locations: Locations, text: str, base: int) -> Network:
    options: dict[str, Any] = {
        "title": spec.title,
        "description": spec.description,
        "loss": spec.loss,
        "view": spec.view,
        "show": Show(**spec.show.model_dump()),
        "labels": spec.labels,
        "max_neurons": spec.max_neurons,
        "source": path,
    }
    if spec.layers is None:
        return _graph_network(*_explicit_graph(spec, path, locations, text), base, options)
    names = tuple(spec.inputs) if isinstance(spec.inputs, list) else ()
    inputs = spec.inputs if isinstance(spec.inputs, int) else len(names)
    fan_in = inputs
    layers = []
    for index, layer in enumerate(spec.layers):
        layers.append(Layer(index, layer.units, fan_in, _choice(layer.activation)))
        fan_in = layer.units
    return Network(inputs=inputs, layers=tuple(layers), naming=Naming(base, names), **options)


def _choice(activation: str | LeakyReluSpec | CustomSpec) -> ActivationChoice:
    if isinstance(activation, LeakyReluSpec):
        return ActivationChoice("leaky_relu", alpha=activation.leaky_relu.alpha)
    if isinstance(activation, CustomSpec):
        return ActivationChoice("custom", expression=activation.custom)
    alpha = DEFAULT_LEAKY_ALPHA if activation == "leaky_relu" else None
    return ActivationChoice(activation, alpha=alpha)


def _explicit_graph(
    spec: SpecFile, path: str, locations: Locations, text: str
) -> tuple[ExplicitGraph, tuple[bool, ...]]:
    if spec.graph is not None:
        line, column = locations.of(("graph",)) or (1, 1)
        source_line = text.splitlines()[line - 1] if text.count("\n") >= line - 1 else ""
        # A block scalar (graph: |) or TOML multi-line string starts on the next line; a JSON
        # string is one physical line.
        block = source_line[column - 1 : column + 2].startswith(("|", ">", '"""', "'''"))
        edges = parse_edges(
            spec.graph,
            path=path,
            line_of=(lambda i: line + 1 + i) if block else (lambda i: line),
        )
        key = "graph"
    else:
        assert spec.edges is not None
        lines = [(locations.of(("edges", i)) or (None, None))[0] for i in range(len(spec.edges))]
        edges = edges_from_pairs(spec.edges, lines, path=path)
        key = "edges"
    check_duplicates(edges, path=path, key=key)
    return analyse_layers(edges)


def _graph_network(
    graph: ExplicitGraph, activated: tuple[bool, ...], base: int, options: dict[str, Any]
) -> Network:
    """A network with the sizes of the inferred columns, so later stages can still draw it."""
    columns = neuron_columns(graph)
    inputs = columns[0]
    default = tuple(f"x_{i + base}" for i in range(len(inputs)))
    names = () if inputs == default else inputs
    layers = []
    for index, column in enumerate(columns[1:]):
        choice = ActivationChoice("generic" if activated[index] else "identity")
        layers.append(Layer(index, len(column), len(columns[index]), choice))
    return Network(
        inputs=len(inputs),
        layers=tuple(layers),
        naming=Naming(base, tuple(names)),
        graph=graph,
        **options,
    )
