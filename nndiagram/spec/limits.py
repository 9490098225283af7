"""The spec format's limits and name rules, shared by the pydantic models (``format``) and
the pydantic-free reader of plain specs (``fast``)."""

from __future__ import annotations

import re
from typing import Any

# activations.NAMES and DEFAULT_LEAKY_ALPHA (equal by test); not imported, because that
# module loads NumPy and `validate` needs no NumPy.
NAMES = ("custom", "generic", "identity", "leaky_relu", "relu", "sigmoid", "softmax", "tanh")
DEFAULT_LEAKY_ALPHA = 0.01
MAX_UNITS = 10**6
MAX_LAYERS = 1_000  # for layers: and for an explicit graph's inferred layers alike
# Distinct custom expressions in one spec: each is analysed with SymPy (a derivative, LaTeX,
# NumPy forms), milliseconds to a second apiece.
MAX_CUSTOM_ACTIVATIONS = 32
MAX_TEXT = 10_000  # title, description
# '[' in a description: Markdown scans the rest of the text for each (5 ms apiece at 10,000).
MAX_DESCRIPTION_BRACKETS = 100
# Input names end up as DOT node names and LaTeX symbols; a plain identifier needs no quoting
# in either, so names are restricted rather than escaped.
INPUT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
# Names the tool generates for other nodes; an input called z_0_0 would merge with a neuron.
# The notation's own symbols, with or without subscripts: an input called b printed exactly
# as the bias b of a one-unit layer (and w_01 as a weight).
NOTATION_NAME = re.compile(r"[wbzagyWBJL](_\d+)*")
GENERATED_NAME = re.compile(r"([za]_\d+_\d+)|(output(_\d+)?)")


def describe_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def closest(word: str, choices: Any) -> str | None:
    """The choice nearest to ``word`` (difflib's ratio ≥ 0.6), for "did you mean"."""
    import difflib

    found = difflib.get_close_matches(word, sorted(choices), n=1)
    return found[0] if found else None
