"""The common case without pydantic: a plain ``inputs`` + ``layers`` spec, read in microseconds.

Importing pydantic and building the spec models costs about 0.1 s, more than everything else
``nndiagram validate`` or ``render`` does. Most specs are small and valid, so ``accept`` reads
them directly and returns their values, or ``None`` the moment anything is unusual: an unknown
key or spelling, a value near a limit's edge, text with characters outside the printable set, a
custom activation, an explicit graph. ``None`` sends the data to the pydantic models in
``format.py``, which remain the one definition of the format: every error message and the JSON
Schema come from there. ``tests/test_spec_fast.py`` holds this reader to giving exactly the
models' result on every spec of the test corpora and on generated ones.

A rule added to ``format.py`` that refuses something this module accepts must be mirrored
here (the corpus test fails until it is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import LABEL_STYLES, LOSSES, VIEWS, ActivationChoice, Show
from .limits import (
    DEFAULT_LEAKY_ALPHA,
    GENERATED_NAME,
    INPUT_NAME,
    MAX_LAYERS,
    MAX_TEXT,
    MAX_UNITS,
    NOTATION_NAME,
)

KEYS = frozenset(
    {"title", "description", "inputs", "layers", "loss", "view", "show", "labels"}
    | {"max_neurons", "numbering"}
)
SHOW_KEYS = frozenset({"bias", "weights", "activations", "equations"})
NAMED = frozenset({"identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", "generic"})


@dataclass(frozen=True)
class FastLayer:
    units: int
    activation: ActivationChoice


@dataclass(frozen=True)
class FastSpec:
    """The values of an accepted spec, with the attributes ``load._network`` reads."""

    inputs: int | list[str]
    layers: list[FastLayer]
    title: str | None = None
    description: str | None = None
    loss: str | None = None
    view: str = "auto"
    show: Show = field(default_factory=Show)
    labels: str = "math"
    max_neurons: int = 8
    numbering: int = 0
    graph: None = None
    edges: None = None


def _int(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _text(value: Any, newlines: bool) -> bool:
    if value is None:
        return True
    if type(value) is not str or len(value) > MAX_TEXT:
        return False
    plain = value.replace("\n", "") if newlines else value
    return (plain.isprintable() and plain.isascii()) or _printable_unicode(plain)


def _printable_unicode(text: str) -> bool:
    # Letters, digits, punctuation and symbols of any script; no format or private-use
    # characters (str.isprintable already excludes controls, C1, bidi marks and unassigned).
    return text.isprintable() and all(
        not (0xFDD0 <= ord(ch) <= 0xFDEF or (ord(ch) & 0xFFFE) == 0xFFFE) for ch in text
    )


def _inputs(value: Any) -> bool:
    if type(value) is int:
        return 1 <= value <= MAX_UNITS
    if type(value) is not list or not 1 <= len(value) <= 64:
        return False
    return len(set(value)) == len(value) and all(
        type(name) is str
        and INPUT_NAME.fullmatch(name)
        and not GENERATED_NAME.fullmatch(name)
        and not NOTATION_NAME.fullmatch(name)
        for name in value
    )


def _activation(value: Any) -> ActivationChoice | None:
    if type(value) is str:
        if value not in NAMED:
            return None
        alpha = DEFAULT_LEAKY_ALPHA if value == "leaky_relu" else None
        return ActivationChoice(value, alpha=alpha)
    if type(value) is dict and list(value) == ["leaky_relu"]:
        argument = value["leaky_relu"]
        if type(argument) is dict and list(argument) == ["alpha"]:
            alpha = argument["alpha"]
            if type(alpha) in (int, float) and 0 < alpha <= 100:
                return ActivationChoice("leaky_relu", alpha=float(alpha))
    return None


def accept(data: dict[str, Any]) -> FastSpec | None:
    """The spec's values when ``data`` is plainly valid; ``None`` to let the models decide."""
    if not KEYS.issuperset(data) or "inputs" not in data or "layers" not in data:
        return None
    layers_data = data["layers"]
    if type(layers_data) is not list or not 1 <= len(layers_data) <= MAX_LAYERS:
        return None
    layers = []
    for layer in layers_data:
        if type(layer) is not dict or not {"units"} <= set(layer) <= {"units", "activation"}:
            return None
        activation = _activation(layer.get("activation", "identity"))
        if activation is None or not _int(layer["units"], 1, MAX_UNITS):
            return None
        layers.append(FastLayer(layer["units"], activation))
    show = data.get("show", {})
    if type(show) is not dict or not SHOW_KEYS.issuperset(show):
        return None
    if not all(type(flag) is bool for flag in show.values()):
        return None
    options = {key: data[key] for key in ("loss", "view", "labels") if key in data}
    if not (
        _inputs(data["inputs"])
        and _text(data.get("title"), newlines=False)
        and _text(data.get("description"), newlines=True)
        and options.get("loss") in (None, *LOSSES)
        and options.get("view", "auto") in VIEWS
        and options.get("labels", "math") in LABEL_STYLES
        and _int(data.get("max_neurons", 8), 2, 1_000)
        and _int(data.get("numbering", 0), 0, 1)
    ):
        return None
    return FastSpec(
        inputs=data["inputs"],
        layers=layers,
        title=data.get("title"),
        description=data.get("description"),
        show=Show(**show, asked=frozenset(show)),
        max_neurons=data.get("max_neurons", 8),
        numbering=data.get("numbering", 0),
        **options,
    )
