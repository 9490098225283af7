"""The spec format, version 1, as pydantic models: types, allowed values, limits, schema.

``spec.py`` reads files and maps the errors these models raise to ``SpecError`` s; the JSON
Schema (``nndiagram schema``) is generated from the same models, so editors and the loader
agree. Validators raise ``_fail`` errors whose message is shown as written.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator
from pydantic_core import PydanticCustomError

from ..errors import SpecError
from ..model import INPUT
from .graph import MAX_EDGES
from .limits import (
    DEFAULT_LEAKY_ALPHA,
    GENERATED_NAME,
    INPUT_NAME,
    MAX_LAYERS,
    MAX_TEXT,
    MAX_UNITS,
    NAMES,
    NOTATION_NAME,
    closest,
    describe_value,
)

_GENERATED_NAME = GENERATED_NAME


def _fail(message: str, subkey: str = "", **inside: Any) -> PydanticCustomError:
    """A validation error whose text is used as is; ``subkey`` extends the key path.

    ``inside`` may give ``value`` (text) and ``column`` (1-based, in that text) to point at a
    character inside a value, such as the bad token of a custom expression.
    """
    return PydanticCustomError(
        "spec", "{message}", {"message": message, "subkey": subkey, **inside}
    )


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
    """Parameters of leaky ReLU: g(z) = z for z > 0, alpha * z otherwise."""

    alpha: float = Field(
        DEFAULT_LEAKY_ALPHA,
        gt=0,
        le=100,
        allow_inf_nan=False,
        description="Slope for z <= 0; the tutorial's max(0.01z, z) has alpha = 0.01.",
    )


class LeakyReluSpec(_Model):
    """Leaky ReLU with its slope: {leaky_relu: {alpha: 0.01}}."""

    leaky_relu: LeakyReluParams = LeakyReluParams.model_validate({})


class CustomSpec(_Model):
    """A custom activation g(z), written as an expression in z: {custom: "max(0.01*z, z)"}."""

    custom: str = Field(
        min_length=1,
        max_length=500,
        description="An expression in z: numbers, + - * / **, parentheses and abs, cos, erf, "
        "exp, log, max, min, sigmoid, sin, sqrt, tanh; finite for every real z.",
        examples=["max(0.01*z, z)"],
    )


ActivationName = Literal["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", "generic"]
_NAMED = ActivationName.__args__  # type: ignore[attr-defined]


# Names people write (the tool itself prints "linear" and "ReLU") and the spelling to use.
_SPELLINGS = {
    "linear": "identity",
    "none": "identity",
    "logistic": "sigmoid",
    "leakyrelu": "leaky_relu",
    "lrelu": "leaky_relu",
    "g": "generic",
}
_AS_CUSTOM = {
    "softplus": "log(1 + exp(z))",
    "swish": "z*sigmoid(z)",
    "silu": "z*sigmoid(z)",
    "gelu": "0.5*z*(1 + erf(z/sqrt(2)))",
    "mish": "z*tanh(log(1 + exp(z)))",
    "elu": "max(z, 0) + min(0, exp(z) - 1)",
    "selu": "1.0507*(max(z, 0) + min(0, 1.67326*(exp(z) - 1)))",
    "softsign": "z/(1 + abs(z))",
    "relu6": "min(max(z, 0), 6)",
}


def activation_hint(value: str) -> str:
    """`` (did you mean 'relu'? …)``: the accepted spelling of a name, or the custom form."""
    key = re.sub(r"[\s_-]+", "", value.strip().lower())
    named = {re.sub(r"_", "", name): name for name in _NAMED}
    allowed = f"must be one of: {', '.join(NAMES)}"
    if key in _AS_CUSTOM:
        return f' (write it as {{custom: "{_AS_CUSTOM[key]}"}}; {allowed})'
    spelling = named.get(key) or _SPELLINGS.get(key) or closest(value.lower(), _NAMED)
    return f" (did you mean {spelling!r}? {allowed})" if spelling else f" ({allowed})"


def _check_activation(value: Any) -> Any:
    """Clear messages for the activation forms, before the union tries each of them."""
    if isinstance(value, str):
        if value == "custom":
            raise _fail('a custom activation is written {custom: "<expression in z>"}')
        if value not in _NAMED:
            raise _fail(f"unknown activation {value!r}{activation_hint(value)}")
        return value
    if not isinstance(value, dict):
        raise _fail(
            f"an activation is a name or a mapping like {{leaky_relu: {{alpha: 0.01}}}}, "
            f"not {describe_value(value)}"
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
            f"alpha must be a number in (0, 100], got {describe_value(alpha)}", "leaky_relu.alpha"
        )
    return value


def _check_custom(expression: Any) -> Any:
    from ..expressions import compile_activation

    if not isinstance(expression, str):
        raise _fail(
            f"a custom activation is an expression in z, not {describe_value(expression)}", "custom"
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

ACTIVATION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Activation)


def _check_name(value: Any) -> Any:
    if not isinstance(value, str) or not INPUT_NAME.fullmatch(value):
        raise _fail(
            f"a layer name is a letter followed by up to 31 letters, digits or '_', "
            f"not {describe_value(value)}"
        )
    if value == "input" or _GENERATED_NAME.fullmatch(value):
        raise _fail(f"the layer name {value!r} is reserved; choose another")
    return value


def _check_ref(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(
            f"a reference is input, a layer's name or a layer number, not {describe_value(value)}"
        )
    return value


def _check_concat(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise _fail(
            "concat is a list of one or more references such as [input] or [0, hidden], "
            f"not {describe_value(value)}"
        )
    return value


Ref = Annotated[
    str | int,
    BeforeValidator(_check_ref),
    Field(
        description="input, a layer's name, or a layer number as the figures print it "
        "(counting from numbering)"
    ),
]


class LayerSpec(_Model):
    """One layer: z = W [a_prev; concat…] + b (+ add), then a = g(z)."""

    units: int = Field(ge=1, le=MAX_UNITS, description="Number of neurons.")
    activation: Activation = "identity"
    name: Annotated[str | None, BeforeValidator(lambda v: v if v is None else _check_name(v))] = (
        Field(None, description="A name that add and concat of later layers can refer to.")
    )
    add: Ref | None = Field(
        None,
        description="A skip connection: this earlier output (of the layer's own width) is "
        "added to z before the activation: z = W a_prev + b + a_ref.",
    )
    concat: Annotated[list[Ref] | None, BeforeValidator(_check_concat)] = Field(
        None,
        min_length=1,
        max_length=MAX_LAYERS,
        description="Earlier outputs stacked under the previous output, in this order: "
        "z = W [a_prev; a_ref1; a_ref2 …] + b, so W has the summed fan-in and its columns "
        "follow the same order.",
    )


def layer_sources(
    layers: list[LayerSpec], inputs: int, numbering: int
) -> list[tuple[int | None, tuple[int, ...]]]:
    """Each layer's resolved ``(add, concat)``: 0-based layer indices, ``INPUT`` for the input.

    References are read in the spec's own ``numbering``; every rule of issue 17 is checked
    here and fails naming the key: a reference to the layer itself or a later one, an unknown
    name (with the nearest names), a duplicate name, an ``add`` of another width, a reference
    listed twice in ``concat`` (the previous output is always its first part).
    """
    names: dict[str, int] = {}
    for index, layer in enumerate(layers):
        if layer.name is not None:
            if layer.name in names:
                raise _fail(
                    f"duplicate layer name {layer.name!r} (layer {names[layer.name] + numbering} "
                    "has it already)",
                    f"layers[{index}].name",
                )
            names[layer.name] = index

    def width(source: int) -> int:
        return inputs if source == INPUT else layers[source].units

    def resolve(ref: str | int, index: int, key: str) -> int:
        own = index + numbering
        if ref == "input":
            return INPUT
        if isinstance(ref, int):
            source = ref - numbering
            if source < 0:
                raise _fail(
                    f"there is no layer {ref}: layers are numbered from {numbering} "
                    "(write input for the network's input)",
                    key,
                )
        elif ref in names:
            source = names[ref]
        else:
            close = difflib.get_close_matches(ref, [*names, "input"], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(["input", *names])
            raise _fail(f"unknown layer name {ref!r} (known: {known}){hint}", key)
        if source >= index:
            which = (
                "its own output"
                if source == index
                else f"the output of layer {source + numbering}, a later layer"
            )
            raise _fail(
                f"layer {own} cannot take {which}: add and concat refer to input or an "
                "earlier layer",
                key,
            )
        return source

    resolved = []
    for index, layer in enumerate(layers):
        add = None
        if layer.add is not None:
            key = f"layers[{index}].add"
            add = resolve(layer.add, index, key)
            if width(add) != layer.units:
                what = "the input" if add == INPUT else f"layer {add + numbering}"
                raise _fail(
                    f"add needs equal widths: layer {index + numbering} has {layer.units} "
                    f"unit(s) but {what} has {width(add)}",
                    key,
                )
        concat: list[int] = []
        for position, ref in enumerate(layer.concat or ()):
            key = f"layers[{index}].concat[{position}]"
            source = resolve(ref, index, key)
            if source == index - 1 or source in concat:
                what = "the input" if source == INPUT else f"layer {source + numbering}"
                why = (
                    "it is the previous output, always the first part of the layer's input"
                    if source == index - 1
                    else "it is listed twice"
                )
                raise _fail(f"concat of {what} again: {why}", key)
            concat.append(source)
        resolved.append((add, tuple(concat)))
    return resolved


def _check_inputs(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | list):
        raise _fail(f"inputs is a count or a list of names, not {describe_value(value)}")
    if isinstance(value, int):
        if not 1 <= value <= MAX_UNITS:
            raise _fail(f"inputs must be between 1 and {MAX_UNITS:,}, got {value}")
        return value
    if not value:
        raise _fail("inputs needs at least one name")
    if len(value) > MAX_UNITS:
        raise _fail(f"at most {MAX_UNITS:,} inputs")
    for index, name in enumerate(value):
        if isinstance(name, bool):
            raise _fail(
                f"input name {name} is not text: YAML reads yes/no/on/off as true/false; "
                "put the name in quotes",
                f"[{index}]",
            )
        if not isinstance(name, str) or not INPUT_NAME.fullmatch(name):
            raise _fail(
                f"input name {describe_value(name)} must be a letter followed by up to 31 letters, "
                "digits or '_'",
                f"[{index}]",
            )
        if _GENERATED_NAME.fullmatch(name):
            raise _fail(f"input name {name!r} is reserved for a neuron or output", f"[{index}]")
        if NOTATION_NAME.fullmatch(name):
            raise _fail(
                f"input name {name!r} would print as one of the equations' own symbols (w, b, "
                "z, a, g, y, W, B, J, L, with or without subscripts); choose another",
                f"[{index}]",
            )
        if name in value[:index]:
            raise _fail(f"duplicate input name {name!r}", f"[{index}]")
    return value


EdgePair = Annotated[list[str], Field(min_length=2, max_length=2)]


def _not_a_bool(value: Any) -> Any:
    # Literal[0, 1] accepts True and False (they equal 1 and 0), even in strict mode.
    if isinstance(value, bool):
        raise _fail(f"unknown numbering {str(value).lower()} (must be one of: 0, 1)")
    return value


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
    loss: Literal["mse", "bce", "ce"] | None = Field(
        None,
        description="The loss L summed over the output units (mse, bce or ce); adds the cost "
        "J to the equations and lets gradients and checks run.",
    )
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
    numbering: Annotated[Literal[0, 1], BeforeValidator(_not_a_bool)] = Field(
        0, description="Number layers and units from 0 or 1."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_skips_in_graphs(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("graph" in data or "edges" in data):
            for key in ("add", "concat", "name"):
                if key in data:
                    raise _fail(
                        f"{key} belongs to a layer, and an explicit graph has no layers: for "
                        "skip connections write inputs and layers with add: or concat: instead",
                        key,
                    )
        return data

    @model_validator(mode="after")
    def _skips(self) -> SpecFile:
        if self.layers is not None and isinstance(self.inputs, int | list):
            count = self.inputs if isinstance(self.inputs, int) else len(self.inputs)
            layer_sources(self.layers, count, self.numbering)
        return self

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
