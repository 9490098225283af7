"""Property tests: whatever text arrives, the loader and the expression parser either succeed
or raise SpecError — never any other exception (hypothesis)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndiagram.errors import SpecError
from nndiagram.expressions import FUNCTIONS, compile_activation
from nndiagram.model import Network
from nndiagram.spec.limits import NOTATION_NAME
from nndiagram.spec.load import load_spec, load_spec_text

# A few hundred examples per property in CI; NNDIAGRAM_EXAMPLES=5000 for a long local hunt.
EXAMPLES = int(os.environ.get("NNDIAGRAM_EXAMPLES", "200"))
PROPERTY = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _loads_or_spec_error(text: str, fmt: str) -> None:
    try:
        network = load_spec_text(text, fmt=fmt)
    except SpecError as error:
        assert error.message
        assert "\n" not in str(error) and "\r" not in str(error)
        return
    assert isinstance(network, Network)


# --- random text ----------------------------------------------------------------------------

SPEC_ALPHABET = st.sampled_from(
    [
        *"{}[]:,-&*!|>'\"#\n\t %@`?=.\\0123456789abz_xyé\x00\x07\ufeff",
        *["inputs", "layers", "units", "activation", "graph", "->", "custom", "<<", "---", "\n  "],
    ]
)


@PROPERTY
@given(st.text(), st.sampled_from(["yaml", "json", "toml"]))
def test_random_text_never_escapes_as_anything_but_spec_error(text: str, fmt: str) -> None:
    _loads_or_spec_error(text, fmt)


@PROPERTY
@given(st.lists(SPEC_ALPHABET, max_size=60).map("".join), st.sampled_from(["yaml", "json", "toml"]))
def test_spec_like_token_soup(text: str, fmt: str) -> None:
    _loads_or_spec_error(text, fmt)


@settings(
    max_examples=EXAMPLES * 3 // 4, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.binary(max_size=300), st.sampled_from([".yaml", ".json", ".toml"]))
def test_random_bytes_in_a_file(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"spec{suffix}"
        path.write_bytes(data)
        with contextlib.suppress(SpecError):
            load_spec(path)


# --- random structured specs ----------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**7), max_value=10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["relu", "sigmoid", "leaky_relu", "custom", "generic", "x_0", "1"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ACTIVATIONS = st.one_of(
    st.sampled_from(["identity", "relu", "softmax", "relu6", "custom", "leaky_relu"]),
    st.builds(lambda a: {"leaky_relu": {"alpha": a}}, SCALARS),
    st.builds(lambda e: {"custom": e}, st.text(max_size=20) | st.just("max(0.01*z, z)")),
    VALUES,
)
LAYER = st.fixed_dictionaries(
    {"units": st.one_of(st.integers(min_value=-2, max_value=5), SCALARS)},
    optional={"activation": ACTIVATIONS, "extra": VALUES},
)
SPEC = st.fixed_dictionaries(
    {},
    optional={
        "inputs": st.one_of(st.integers(min_value=-1, max_value=4), st.lists(SCALARS, max_size=3)),
        "layers": st.one_of(st.lists(LAYER, max_size=4), VALUES),
        "graph": st.one_of(st.just("x_0 -> z_0_0\nx_1 -> z_0_0"), st.text(max_size=30)),
        "edges": st.lists(
            st.lists(st.sampled_from(["x_0", "z", "a_0", "1"]), max_size=3), max_size=4
        ),
        "loss": st.one_of(st.sampled_from(["mse", "bce", "ce", "hinge"]), SCALARS),
        "view": st.one_of(st.sampled_from(["auto", "neuron"]), SCALARS),
        "show": st.one_of(
            st.dictionaries(st.sampled_from(["bias", "weights", "x"]), SCALARS), VALUES
        ),
        "max_neurons": SCALARS,
        "numbering": st.one_of(st.sampled_from([0, 1, 2]), SCALARS),
        "title": SCALARS,
        "other": VALUES,
    },
)


def _dump(spec: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(spec)  # NaN/Infinity included on purpose: they are not JSON
    return yaml.safe_dump(spec, allow_unicode=True)


@PROPERTY
@given(SPEC, st.sampled_from(["yaml", "json"]))
def test_random_structured_specs(spec: dict[str, Any], fmt: str) -> None:
    _loads_or_spec_error(_dump(spec, fmt), fmt)


@PROPERTY
@given(st.lists(LAYER, min_size=1, max_size=4), st.integers(min_value=1, max_value=4))
def test_valid_looking_layer_stacks_build_consistent_networks(
    layers: list[dict[str, Any]], inputs: int
) -> None:
    try:
        network = load_spec_text(_dump({"inputs": inputs, "layers": layers}, "yaml"))
    except SpecError:
        return
    assert network.sizes == (inputs, *(layer["units"] for layer in layers))
    assert [layer.fan_in for layer in network.layers] == list(network.sizes[:-1])


# --- random expressions ---------------------------------------------------------------------

EXPRESSION_TOKENS = st.sampled_from(
    [
        *FUNCTIONS,
        "z",
        "z",
        "0",
        "1",
        "2",
        "0.5",
        "1e9",
        "1e400",
        "9",
        "(",
        ")",
        ",",
        "+",
        "-",
        "*",
        "/",
        "**",
        "//",
        ".",
        "_",
        "__class__",
        "lambda",
        ":",
        "[",
        "]",
        "'",
        "x",
        " ",
        "=",
    ]
)


@PROPERTY
@given(st.lists(EXPRESSION_TOKENS, max_size=25).map("".join))
def test_random_expressions_from_tokens(text: str) -> None:
    try:
        compiled = compile_activation(text)
    except SpecError:
        return
    import numpy as np

    z = np.array([-1.0, 0.0, 0.5, 2.0])
    assert compiled.numpy_fn(z).shape == compiled.numpy_derivative(z).shape == (4,)
    assert compiled.latex and compiled.derivative_latex


@PROPERTY
@given(st.text(max_size=60))
def test_random_expression_text(text: str) -> None:
    with contextlib.suppress(SpecError):
        compile_activation(text)


# --- valid specs load to the network they describe, in every format ------------------------

NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: not n.startswith(("output", "z_", "a_")) and not NOTATION_NAME.fullmatch(n)
)
VALID_ACTIVATIONS = st.one_of(
    st.sampled_from(["identity", "sigmoid", "tanh", "relu", "softmax", "generic", "leaky_relu"]),
    st.builds(
        lambda a: {"leaky_relu": {"alpha": a}},
        st.floats(min_value=0.001, max_value=100, allow_nan=False),
    ),
    st.builds(lambda e: {"custom": e}, st.sampled_from(["max(0.01*z, z)", "z**2", "tanh(z)"])),
)
VALID_SPECS = st.fixed_dictionaries(
    {
        "inputs": st.integers(1, 1000) | st.lists(NAMES, min_size=1, max_size=4, unique=True),
        "layers": st.lists(
            st.fixed_dictionaries(
                {"units": st.integers(1, 10**6)}, optional={"activation": VALID_ACTIVATIONS}
            ),
            min_size=1,
            max_size=5,
        ),
    },
    optional={
        "title": st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20),
        "loss": st.sampled_from(["mse", "bce", "ce"]),
        "numbering": st.sampled_from([0, 1]),
        "max_neurons": st.integers(2, 1000),
    },
)


def _toml(spec: dict[str, Any]) -> str:
    """The spec as TOML (json.dumps writes valid TOML strings, numbers and arrays of them)."""

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        return json.dumps(v, ensure_ascii=False)

    head = "".join(f"{k} = {value(v)}\n" for k, v in spec.items() if k != "layers")
    return head + "".join(
        "[[layers]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in layer.items())
        for layer in spec["layers"]
    )


@PROPERTY
@given(VALID_SPECS)
def test_valid_specs_load_identically_from_yaml_json_and_toml(spec: dict[str, Any]) -> None:
    networks = [
        load_spec_text(yaml.safe_dump(spec, allow_unicode=True), fmt="yaml"),
        load_spec_text(json.dumps(spec), fmt="json"),
        load_spec_text(_toml(spec), fmt="toml"),
    ]
    assert networks[0] == networks[1] == networks[2]
    network = networks[0]
    inputs = spec["inputs"]
    count = inputs if isinstance(inputs, int) else len(inputs)
    assert network.sizes == (count, *(layer["units"] for layer in spec["layers"]))
    assert network.naming.base == spec.get("numbering", 0)
    assert network.title == spec.get("title")
    for layer, written in zip(network.layers, spec["layers"], strict=True):
        activation = written.get("activation", "identity")
        name = activation if isinstance(activation, str) else next(iter(activation))
        assert layer.activation.name == name


UNARY = ["abs", "cos", "erf", "exp", "log", "sigmoid", "sin", "sqrt", "tanh"]
EXPRESSIONS = st.recursive(
    st.sampled_from(["z", "z", "1", "2", "0.5", "0.01", "3"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(inner, st.sampled_from(["2", "3", "0.5", "-1"])).map(
            lambda t: f"({t[0]})**{t[1]}"
        ),
        st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["max", "min"]), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        inner.map(lambda x: f"-{x}"),
    ),
    max_leaves=8,
)


@PROPERTY
@given(EXPRESSIONS)
def test_well_formed_expressions_agree_in_sympy_and_numpy(text: str) -> None:
    import math

    import numpy as np
    import sympy

    try:
        compiled = compile_activation(text)
    except SpecError:
        return  # e.g. undefined (log(0)) or no z
    z = sympy.Symbol("z", real=True)
    expr = compiled.sympy_expr(z)
    points = np.array([-1.3, 0.7, 2.1])
    values = compiled.numpy_fn(points)
    for point, value in zip(points, values, strict=True):
        exact = complex(expr.evalf(30, subs={z: sympy.Float(point, 30)}))
        if abs(exact.imag) > 1e-12 or not math.isfinite(exact.real) or abs(exact.real) > 1e12:
            continue  # outside the real domain: NumPy gives nan there, SymPy a complex number
        assert math.isclose(value, exact.real, rel_tol=1e-9, abs_tol=1e-9), (text, point)
