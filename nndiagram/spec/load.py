"""Read a spec file (YAML, JSON or TOML), validate it, build the frozen ``Network``.

The only module that turns user text into a model. Pipeline: bytes -> text (``spec_readers``:
size, UTF-8, positions) -> plain data -> pydantic models (``spec_format``: types, allowed
values, limits) -> ``Network``. Every failure is one ``SpecError`` with path, line, column
and the key path (``layers[1].units``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..files import read_regular
from ..model import (
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
from . import readers as spec_readers
from .fast import FastLayer, FastSpec, accept
from .graph import (
    MAX_EDGES,
    analyse_layers,
    check_duplicates,
    edges_from_pairs,
    parse_edges,
)
from .limits import (
    DEFAULT_LEAKY_ALPHA,
    MAX_CUSTOM_ACTIVATIONS,
    MAX_DESCRIPTION_BRACKETS,
    MAX_LAYERS,
    MAX_UNITS,
    NAMES,
    closest,
    describe_value,
)
from .readers import KeyPath, Locations, format_key

if TYPE_CHECKING:  # pydantic is imported only when a spec needs the models (see fast.py)
    from pydantic import ValidationError

    from .format import CustomSpec, LayerSpec, LeakyReluSpec, SpecFile

__all__ = [
    "DEFAULT_LEAKY_ALPHA",
    "MAX_LAYERS",
    "MAX_UNITS",
    "NAMES",
    "load_spec",
    "load_spec_text",
    "parse_activation",
    "spec_json_schema",
]
SUFFIXES = tuple(spec_readers.READERS)


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
    # A FIFO or device named *.yaml is refused, not waited on; no more than the cap is read.
    raw = read_regular(path, spec_readers.MAX_BYTES, "a spec is a few lines")
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


def spec_from_dict(
    data: Mapping[str, Any], path: str = "<dict>", numbering: int | None = None
) -> Network:
    """A spec given as Python data (``{"inputs": 2, "layers": [{"units": 1}]}``), checked exactly
    like a file: it is written out as JSON and read back by the same reader and models, so every
    rule and message is the same (without file positions: the key path says where)."""
    import json

    def plain(value: Any) -> Any:  # NumPy scalars (np.int64(3)) are numbers too
        item = getattr(value, "item", None)
        if callable(item) and getattr(value, "ndim", None) == 0:
            return item()
        raise SpecError(
            f"a spec holds numbers, text, lists and dicts, not {type(value).__name__}", path=path
        )

    try:
        text = json.dumps(data, default=plain, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise SpecError(f"not a spec: {error}", path=path) from None
    try:
        return load_spec_text(text, path, fmt="json", numbering=numbering)
    except SpecError as error:  # positions in the JSON text would mean nothing to the caller
        raise SpecError(error.message, path=path, key=error.key) from None


def network_from_sizes(
    sizes: Sequence[int], activations: Any = "identity", **options: Any
) -> Network:
    """``Network.from_sizes``: the sizes and activations as a spec, through ``spec_from_dict``.

    ``activations`` is one activation for every layer or a list of one per layer, each as a
    spec writes it (``"relu"``, ``{"leaky_relu": {"alpha": 0.2}}``). Options that are spec
    keys (``loss``, ``view``, ``title`` …) are checked as such; model objects (``naming``,
    ``show=Show(...)``, ``source``) are set on the result.
    """
    where = "Network.from_sizes"
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise SpecError(
            "sizes is a list of the input count and at least one layer width, e.g. [2, 3, 1]",
            path=where,
        )
    count = len(sizes) - 1
    each = [activations] * count if isinstance(activations, str | Mapping) else activations
    if not isinstance(each, Sequence) or len(each) != count:
        given = len(each) if isinstance(each, Sequence) else each
        raise SpecError(
            f"give one activation, or one per layer: {count} layer(s), got {given!r}", path=where
        )
    data: dict[str, Any] = {
        "inputs": sizes[0],
        "layers": [
            {"units": units, "activation": a} for units, a in zip(sizes[1:], each, strict=True)
        ],
    }
    spec_keys = _SIZES_OPTIONS & set(options)
    data |= {key: options[key] for key in spec_keys if not _is_model_object(options[key])}
    network = spec_from_dict(data, path=where)
    # Errors name "Network.from_sizes"; the network itself has no file, as before.
    rest = {"source": "<spec>"} | {k: v for k, v in options.items() if k not in data}
    try:
        return dataclasses.replace(network, **rest) if rest else network
    except TypeError:
        fields = sorted(f.name for f in dataclasses.fields(network))
        raise SpecError(
            f"unknown option(s) {', '.join(sorted(rest))} (Network fields: {', '.join(fields)})",
            path=where,
        ) from None


# Spec keys that from_sizes also takes as options (numbering is a spec key, naming is not).
_SIZES_OPTIONS = frozenset(
    {"title", "description", "loss", "view", "show", "labels", "max_neurons", "numbering"}
)


def _is_model_object(value: Any) -> bool:
    return dataclasses.is_dataclass(value)


def _load(
    text: str,
    path: str,
    reader: Callable[[str, str], tuple[Any, Locations]],
    numbering: int | None,
) -> Network:
    data, locations = reader(text, path)
    spec_readers.check_text(data, locations, path)
    _check_description(data, locations, path)
    if not isinstance(data, dict):
        raise SpecError(
            f"a spec is a mapping of keys such as inputs and layers, not {type(data).__name__}",
            path=path,
            line=1,
            column=1,
        )
    spec: SpecFile | FastSpec | None = accept(data)
    if spec is None:
        from pydantic import ValidationError

        from ..expressions import analysis_budget
        from .format import SpecFile

        _check_custom_count(data, locations, path)
        try:
            with analysis_budget():  # one clock for all of the spec's custom activations
                spec = SpecFile.model_validate(data)
        except ValidationError as error:
            raise _spec_error(error, path, locations, text) from None
        except SpecError as error:  # the budget ran out between two expressions
            raise SpecError(error.message, path=path, key="layers") from None
    if numbering is not None and (isinstance(numbering, bool) or numbering not in (0, 1)):
        raise SpecError(f"numbering must be 0 or 1, got {numbering!r}", path=path)
    return _network(spec, path, locations, text, spec.numbering if numbering is None else numbering)


def _check_description(data: Any, locations: Locations, path: str) -> None:
    """A description is Markdown, and Python-Markdown scans to the end of the text for every
    '[' that might open a link: 10,000 of them took 24 s. Their number is capped."""
    description = data.get("description") if isinstance(data, dict) else None
    if isinstance(description, str) and description.count("[") > MAX_DESCRIPTION_BRACKETS:
        line, column = locations.of(("description",)) or (None, None)
        raise SpecError(
            f"at most {MAX_DESCRIPTION_BRACKETS} '[' characters (links and images), "
            f"got {description.count('['):,}",
            path=path,
            line=line,
            column=column,
            key="description",
        )


def _check_custom_count(data: dict[str, Any], locations: Locations, path: str) -> None:
    """At most ``MAX_CUSTOM_ACTIVATIONS`` distinct custom expressions, counted before any is
    analysed (each costs milliseconds to seconds of SymPy)."""
    layers = data.get("layers")
    seen: set[str] = set()
    for index, layer in enumerate(layers if isinstance(layers, list) else ()):
        activation = layer.get("activation") if isinstance(layer, dict) else None
        custom = activation.get("custom") if isinstance(activation, dict) else None
        if isinstance(custom, str) and custom not in seen:
            seen.add(custom)
            if len(seen) > MAX_CUSTOM_ACTIVATIONS:
                keypath: KeyPath = ("layers", index, "activation", "custom")
                line, column = locations.of(keypath) or (None, None)
                raise SpecError(
                    f"at most {MAX_CUSTOM_ACTIVATIONS} distinct custom activations in one spec",
                    path=path,
                    line=line,
                    column=column,
                    key=format_key(keypath),
                )


def parse_activation(source: str, path: str = "<activation>") -> ActivationChoice:
    """An ``activation:`` value on its own (``relu``, ``{custom: "max(0, z)"}``), as YAML."""
    from pydantic import ValidationError

    from .format import ACTIVATION_ADAPTER

    data, locations = spec_readers.read_yaml(source, path)
    spec_readers.check_text(data, locations, path)
    try:
        activation = ACTIVATION_ADAPTER.validate_python(data)
    except ValidationError as error:
        raise _spec_error(error, path, locations, source) from None
    return _choice(activation)


def _spec_error(error: ValidationError, path: str, locations: Locations, text: str) -> SpecError:
    """The error written first in the file (pydantic lists them in field order), as one line
    pointing at the key."""
    errors = error.errors(include_url=False)
    # `unit: 3` gives an unknown key and a missing `units`: the unknown key is the mistake.
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        errors = [e for e in errors if not _missing_beside(e, unknown)]
    first = min(errors, key=lambda e: locations.of(tuple(e["loc"])) or (0, 0))
    loc: KeyPath = tuple(first["loc"])
    kind = first["type"]
    ctx = first.get("ctx") or {}
    if kind == "spec":
        message = ctx["message"]
        loc = _extend(loc, ctx.get("subkey", ""))
    elif kind == "extra_forbidden":
        keys = _allowed_keys(loc[:-1])
        guess = closest(str(loc[-1]), keys)
        mean = f"did you mean {guess!r}? " if guess else ""
        message = f"unknown key {loc[-1]!r} ({mean}allowed keys: {', '.join(keys)})"
    elif kind == "model_type" and len(loc) == 2 and loc[0] == "layers":
        message = (
            f"a layer is a mapping such as {{units: 4, activation: relu}}, not "
            f"{describe_value(first['input'])} (write `- units: {first['input']}`)"
            if isinstance(first["input"], int) and not isinstance(first["input"], bool)
            else "a layer is a mapping such as {units: 4, activation: relu}, not "
            f"{describe_value(first['input'])}"
        )
    elif kind in ("model_type", "dict_type"):
        what = format_key(loc) or "a spec"
        message = f"{what} is a mapping of keys, not {describe_value(first['input'])}"
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r}"
    elif kind == "literal_error":
        choices = {"loss": LOSSES, "view": VIEWS, "labels": LABEL_STYLES, "numbering": ("0", "1")}
        field = str(loc[-1])
        options = sorted(choices.get(field, ()))
        guess = closest(str(first["input"]).lower(), options)
        mean = f"did you mean {guess!r}? " if guess else ""
        message = (
            f"unknown {field} {describe_value(first['input'])} "
            f"({mean}must be one of: {', '.join(options)})"
        )
    elif kind == "less_than_equal" and loc and loc[-1] == "units":
        message = f"at most {MAX_UNITS:,} units per layer, got {first['input']}"
    elif kind == "too_long" and loc == ("layers",):
        message = f"at most {MAX_LAYERS:,} layers, got {len(first['input'])}"
    elif kind == "too_short" and loc == ("layers",):
        message = "a network needs at least one layer"
    elif kind in ("too_short", "too_long") and loc[:1] == ("edges",) and len(loc) == 2:
        message = f"an edge is a [source, target] pair, got {describe_value(first['input'])}"
    elif kind in ("greater_than_equal", "less_than_equal"):
        bound = "at least" if kind == "greater_than_equal" else "at most"
        limit = ctx.get("ge", ctx.get("le"))
        message = f"must be {bound} {limit}, got {describe_value(first['input'])}"
    elif kind == "too_long" and loc == ("edges",):
        message = f"more than {MAX_EDGES:,} edges"
    else:
        text = str(first["msg"])
        message = f"{text[:1].lower()}{text[1:]}, got {describe_value(first['input'])}"
        if kind == "string_type" and not isinstance(first["input"], list | dict):
            message += " (YAML reads numbers, dates and yes/no/on/off; put text in quotes)"
    position = locations.of(loc, key=kind == "extra_forbidden")
    if position and ctx.get("column"):
        position = _inside(position, text, ctx["value"], ctx["column"])
    line, column = position if position else (None, None)
    return SpecError(message, path=path, line=line, column=column, key=format_key(loc))


def _missing_beside(error: Any, unknown: list[Any]) -> bool:
    """A missing-key error in a mapping that also has an unknown key (a misspelling of it)."""
    parent = tuple(error["loc"][:-1])
    return error["type"] == "missing" and any(tuple(u["loc"][:-1]) == parent for u in unknown)


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
    from pydantic import BaseModel

    from .format import LayerSpec, ShowSpec, SpecFile

    named = tuple(p for p in loc if isinstance(p, str))
    nested: dict[tuple[str, ...], type[BaseModel]] = {("show",): ShowSpec, ("layers",): LayerSpec}
    return sorted(nested.get(named, SpecFile).model_fields)


# --- the model ------------------------------------------------------------------------------


def _network(
    spec: SpecFile | FastSpec, path: str, locations: Locations, text: str, base: int
) -> Network:
    options: dict[str, Any] = {
        "title": spec.title,
        "description": spec.description,
        "loss": spec.loss,
        "view": spec.view,
        "show": spec.show
        if isinstance(spec.show, Show)
        else Show(**spec.show.model_dump(), asked=frozenset(spec.show.model_fields_set)),
        "labels": spec.labels,
        "max_neurons": spec.max_neurons,
        "source": path,
    }
    if spec.layers is None:
        return _graph_network(*_explicit_graph(spec, path, locations, text), base, options)
    names = tuple(spec.inputs) if isinstance(spec.inputs, list) else ()
    inputs = spec.inputs if isinstance(spec.inputs, int) else len(names)
    given: Sequence[LayerSpec | FastLayer] = spec.layers
    sources: list[tuple[int | None, tuple[int, ...]]] = [(None, ())] * len(given)
    if not isinstance(spec, FastSpec):  # fast.py declines every spec with skips
        from .format import layer_sources

        sources = layer_sources(spec.layers, inputs, spec.numbering)
    widths = [inputs]
    layers = []
    for index, layer in enumerate(given):
        add, concat = sources[index]
        fan_in = widths[-1] + sum(widths[source + 1] for source in concat)
        name = getattr(layer, "name", None)
        layers.append(
            Layer(index, layer.units, fan_in, _choice(layer.activation), name, add, concat)
        )
        widths.append(layer.units)
    return Network(inputs=inputs, layers=tuple(layers), naming=Naming(base, names), **options)


def _choice(activation: str | LeakyReluSpec | CustomSpec | ActivationChoice) -> ActivationChoice:
    if isinstance(activation, ActivationChoice):  # read by fast.py
        return activation
    from .format import CustomSpec, LeakyReluSpec

    if isinstance(activation, LeakyReluSpec):
        return ActivationChoice("leaky_relu", alpha=activation.leaky_relu.alpha)
    if isinstance(activation, CustomSpec):
        return ActivationChoice("custom", expression=activation.custom)
    alpha = DEFAULT_LEAKY_ALPHA if activation == "leaky_relu" else None
    return ActivationChoice(activation, alpha=alpha)


def _explicit_graph(
    spec: SpecFile | FastSpec, path: str, locations: Locations, text: str
) -> tuple[ExplicitGraph, tuple[tuple[str, ...], ...], tuple[bool, ...]]:
    if spec.graph is not None:
        line, column = locations.of(("graph",)) or (1, 1)
        source = text.splitlines()
        rest = source[line - 1][column - 1 :] if line <= len(source) else ""
        # A YAML block scalar (graph: |) or a TOML multi-line string (graph = """, where the
        # position is the key's) starts on the next line; a JSON string is one physical line.
        block = rest.startswith(("|", ">")) or rest.rstrip().endswith(('"""', "'''"))
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
    graph, columns, activated = analyse_layers(edges)
    if len(columns) - 1 > MAX_LAYERS:  # the same cap as for layers:
        where = locations.of((key,))
        raise SpecError(
            f"at most {MAX_LAYERS:,} layers, got {len(columns) - 1:,} (inferred from the {key})",
            path=path,
            line=where[0] if where else None,
            column=where[1] if where else None,
            key=key,
        )
    return graph, columns, activated


def _graph_network(
    graph: ExplicitGraph,
    columns: tuple[tuple[str, ...], ...],
    activated: tuple[bool, ...],
    base: int,
    options: dict[str, Any],
) -> Network:
    """A network with the sizes of the inferred columns, so later stages can still draw it."""
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


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format, for editors (``nndiagram schema``)."""
    from .format import spec_json_schema as schema

    return schema()
