"""The pydantic-free reader of plain specs (spec/fast.py) agrees with the pydantic models.

Wherever ``fast.accept`` takes a spec, the models must take it too and build the same
``Network``; wherever the models refuse one, ``fast.accept`` must have declined it. Checked on
every spec file of the test corpora and the gallery, and on generated specs. Commands that
need no validation errors must not import pydantic, and none of validate/render may import
SymPy or NumPy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import DIAGRAMS, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from nndiagram.errors import SpecError
from nndiagram.spec import fast, readers
from nndiagram.spec.format import SpecFile
from nndiagram.spec.load import _network

CORPORA = [DIAGRAMS, ROOT / "tests" / "malformed", ROOT / "tests" / "hostile", ROOT / "docs"]
SPEC_FILES = sorted(
    path
    for folder in CORPORA
    for path in folder.rglob("*")
    if path.suffix in readers.READERS and path.stat().st_size < 200_000
)


def _both(data: Any) -> tuple[Any, Any]:
    """(fast network or None, models' network or the ValidationError)."""
    quick = fast.accept(data) if isinstance(data, dict) else None
    try:
        spec = SpecFile.model_validate(data)
    except ValidationError as error:
        return quick, error
    except SpecError as error:  # a custom activation's own error, raised inside the model
        return quick, error
    return quick, spec


def _agree(data: Any) -> bool:
    """True when the fast reader accepted ``data``; fails the test when the readers disagree."""
    quick, slow = _both(data)
    if quick is None:
        return False
    assert not isinstance(slow, Exception), f"fast accepted what the models refuse: {slow}"
    for base in (0, 1):
        assert _network(quick, "s.yaml", readers.Locations(), "", base) == _network(
            slow, "s.yaml", readers.Locations(), "", base
        )
    return True


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_corpus_spec_reads_the_same_both_ways(path: Path) -> None:
    try:
        text = readers.decode(path.read_bytes(), str(path))
        data, _ = readers.READERS[path.suffix](text, str(path))
    except SpecError:
        return  # refused before validation: neither reader sees it
    _agree(data)


def test_the_gallery_takes_the_fast_path() -> None:
    taken = []
    for path in sorted(DIAGRAMS.glob("*.yaml")):
        data, _ = readers.read_yaml(path.read_text(), str(path))
        taken.append(_agree(data))
    assert sum(taken) >= len(taken) - 3  # the explicit-graph specs go to the models


NAMES = st.sampled_from(["x_0", "x_1", "area", "rooms", "b", "z_0_0", "output", "Age", "a b", ""])
TEXT = st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["XOR", "ünïcode", "a\nb"]))
ACTIVATION = st.one_of(
    st.sampled_from(["identity", "relu", "ReLU", "softmax", "leaky_relu", "linear", "generic"]),
    st.sampled_from(["sigmoid", "tanh", "custom", "relu6"]),
    st.builds(
        lambda a: {"leaky_relu": {"alpha": a}},
        st.one_of(st.floats(allow_nan=True), st.integers(-2, 200), st.booleans()),
    ),
    st.just({"leaky_relu": None}),
    st.just({"custom": "max(0.01*z, z)"}),
)
LAYER = st.fixed_dictionaries(
    {"units": st.one_of(st.integers(-1, 12), st.booleans(), st.just(1.0), st.just(10**6 + 1))},
    optional={"activation": ACTIVATION, "unit": st.just(3)},
)
SPEC = st.fixed_dictionaries(
    {
        "inputs": st.one_of(st.integers(-1, 9), st.booleans(), st.lists(NAMES, max_size=4)),
        "layers": st.lists(LAYER, max_size=4),
    },
    optional={
        "title": TEXT,
        "description": TEXT,
        "loss": st.sampled_from(["mse", "bce", "ce", "hinge", None, 1]),
        "view": st.sampled_from(["auto", "neuron", "network", "layers", "box", None]),
        "labels": st.sampled_from(["math", "plain", "fancy"]),
        "show": st.dictionaries(
            st.sampled_from(["bias", "weights", "activations", "equations", "x"]),
            st.one_of(st.booleans(), st.just(1), st.none()),
        ),
        "max_neurons": st.one_of(st.integers(0, 1_001), st.booleans()),
        "numbering": st.one_of(st.integers(-1, 2), st.booleans()),
        "graph": st.just("x_0 -> z_0_0"),
    },
)


# Plain valid specs, so the fast path is exercised too, not only its refusals.
VALID_LAYER = st.fixed_dictionaries(
    {"units": st.integers(1, 12)},
    optional={
        "activation": st.one_of(
            st.sampled_from(sorted(fast.NAMED)),
            st.builds(lambda a: {"leaky_relu": {"alpha": a}}, st.floats(1e-6, 100)),
        )
    },
)
VALID = st.fixed_dictionaries(
    {
        "inputs": st.one_of(
            st.integers(1, 9),
            st.lists(st.sampled_from(["x_0", "x_1", "area", "Age"]), unique=True, min_size=1),
        ),
        "layers": st.lists(VALID_LAYER, min_size=1, max_size=4),
    },
    optional={
        "title": st.text(max_size=20),
        "loss": st.sampled_from(["mse", "bce", "ce"]),
        "view": st.sampled_from(["auto", "neuron", "network", "layers"]),
        "labels": st.sampled_from(["math", "plain"]),
        "show": st.dictionaries(st.sampled_from(sorted(fast.SHOW_KEYS)), st.booleans()),
        "max_neurons": st.integers(2, 1_000),
        "numbering": st.integers(0, 1),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPEC)
def test_generated_specs_read_the_same_both_ways(data: dict[str, Any]) -> None:
    _agree(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALID)
def test_plain_valid_specs_take_the_fast_path(data: dict[str, Any]) -> None:
    title = data.get("title", "")
    assert _agree(data) or not title.isprintable()


@pytest.mark.parametrize(
    ("command", "absent"),
    [
        (["validate", "diagrams/mnist-mlp.yaml"], ("pydantic", "sympy", "numpy")),
        (["render", "diagrams/mnist-mlp.yaml", "-o", "{tmp}/n.dot"], ("pydantic", "sympy")),
        (["render", "diagrams/xor.yaml", "-o", "{tmp}/x.svg"], ("pydantic", "sympy", "numpy")),
        (["--version"], ("pydantic", "sympy", "numpy", "yaml")),
    ],
)
def test_commands_import_only_what_they_use(
    command: list[str], absent: tuple[str, ...], tmp_path: Path
) -> None:
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in command]
    script = (
        "import sys, runpy\n"
        f"sys.argv = ['nndiagram', *{argv!r}]\n"
        "try:\n    runpy.run_module('nndiagram', run_name='__main__')\n"
        "except SystemExit as done:\n    assert not done.code, done.code\n"
        f"print('loaded:', ','.join(m for m in {absent!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().splitlines()[-1].rstrip() == "loaded:", done.stdout
