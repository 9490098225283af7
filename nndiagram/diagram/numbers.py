"""Real numbers on a figure: weights as edge colour and width, activations as fills, a legend.

The diagram stage never computes a number: it receives them, already checked, as
:class:`Numbers` (``nndiagram.notebook`` composes the evaluator and the diagram). From them:

- a weight edge's colour is the sign of ``w`` (a colour-blind-safe blue/orange pair, a lighter
  pair on dark pages) and its pen width ``|w|`` scaled within its layer, from a floor that
  keeps the smallest weights visible up to ``MAX_PEN``;
- with a sample, each drawn neuron is filled by its activation ``a`` on viridis (perceptually
  uniform and colour-blind-safe), its text black or white by the fill's luminance;
- printed values have 3 significant digits (``fmt``);
- the legend, a table under the figure, says what colour, width and fill mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model import Network
from ..quoting import Html, escape_html
from .theme import Theme

if TYPE_CHECKING:  # the arrays come from the caller; a symbolic figure never loads NumPy
    import numpy as np

MIN_PEN = 0.5  # the smallest |w| of a layer: thin, never invisible
MAX_PEN = 3.6  # the largest |w| of a layer
# viridis at 0, 1/8, …, 1 (matplotlib's table); fills interpolate between these.
VIRIDIS = (
    "#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187",
    "#4ac16d", "#a0da39", "#fde725",
)  # fmt: skip


@dataclass(frozen=True)
class Numbers:
    """Checked parameters and, optionally, one sample's values, in the evaluator's shapes.

    ``params`` maps ``W0, b0, …`` to arrays of ``P.npz`` shapes. With a sample, ``x`` is its
    input (n_inputs,), and ``z[l]``, ``a[l]`` are layer l's values (units_l,); ``sample`` is its
    column in ``X``.
    """

    params: Mapping[str, np.ndarray]
    x: np.ndarray | None = None
    z: tuple[np.ndarray, ...] = ()
    a: tuple[np.ndarray, ...] = ()
    sample: int | None = None
    _largest: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def largest(self, name: str) -> float:
        """The largest ``|entry|`` of ``W{l}`` or ``b{l}``: its layer's width scale (cached)."""
        if name not in self._largest:
            self._largest[name] = float(abs(self.params[name]).max())
        return self._largest[name]

    @property
    def has_sample(self) -> bool:
        return self.x is not None

    def weight(self, layer: int, unit: int, k: int) -> float:
        return float(self.params[f"W{layer}"][unit, k])

    def bias(self, layer: int, unit: int) -> float:
        return float(self.params[f"b{layer}"][unit])

    def activation_range(self) -> tuple[float, float]:
        """The fill scale: from the sample's smallest ``a`` over every layer to its largest,
        widened to include 0 (so 0.88 and 0.97 look alike, as they are next to 0)."""
        low = min(float(a.min()) for a in self.a)
        high = max(float(a.max()) for a in self.a)
        return min(low, 0.0), max(high, 0.0)


def fmt(value: float) -> str:
    """3 significant digits, a true minus sign: ``fmt(-0.012345) == '−0.0123'``."""
    text = f"{value:.3g}"
    return text.replace("-", "−")


def sign_colour(theme: Theme, value: float) -> str:
    return theme.negative if value < 0 else theme.positive


def pen_width(value: float, largest: float) -> float:
    """``MIN_PEN`` for 0, ``MAX_PEN`` for the layer's largest ``|w|``, linear in between."""
    if largest <= 0:
        return MIN_PEN
    return round(MIN_PEN + (MAX_PEN - MIN_PEN) * abs(value) / largest, 2)


def weight_style(theme: Theme, numbers: Numbers, layer: int, unit: int, k: int) -> dict[str, str]:
    """Colour and pen width of the edge carrying ``W{layer}[unit, k]``."""
    value = numbers.weight(layer, unit, k)
    largest = numbers.largest(f"W{layer}")
    return {"color": sign_colour(theme, value), "penwidth": f"{pen_width(value, largest):g}"}


def bias_style(theme: Theme, numbers: Numbers, layer: int, unit: int) -> dict[str, str]:
    """Colour and width of a bias edge, scaled among the layer's biases."""
    value = numbers.bias(layer, unit)
    largest = numbers.largest(f"b{layer}")
    return {"color": sign_colour(theme, value), "penwidth": f"{pen_width(value, largest):g}"}


def fill(value: float, low: float, high: float) -> tuple[str, str]:
    """Fill colour of an activation on viridis over [low, high], and the legible text colour."""
    t = 0.5 if high <= low else (value - low) / (high - low)
    t = min(max(t, 0.0), 1.0) * (len(VIRIDIS) - 1)
    i = min(int(t), len(VIRIDIS) - 2)
    left, right = _rgb(VIRIDIS[i]), _rgb(VIRIDIS[i + 1])
    rgb = tuple(round(a + (b - a) * (t - i)) for a, b in zip(left, right, strict=True))
    luminance = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255
    return "#{:02x}{:02x}{:02x}".format(*rgb), "#000000" if luminance > 0.45 else "#ffffff"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def neuron_fill(numbers: Numbers, layer: int, unit: int) -> dict[str, str]:
    """``fillcolor`` and ``fontcolor`` of a drawn neuron, by its activation."""
    low, high = numbers.activation_range()
    colour, text = fill(float(numbers.a[layer][unit]), low, high)
    return {"style": "filled", "fillcolor": colour, "fontcolor": text}


# --- the legend ------------------------------------------------------------------------------


def _row(theme: Theme, cells: str) -> str:
    size = f"{theme.edge_font_size:g}"
    return f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="{size}">{cells}</FONT></TD></TR>'


def _text(theme: Theme, text: str, colour: str | None = None) -> str:
    return f'<FONT COLOR="{colour or theme.muted}">{escape_html(text)}</FONT>'


def numbers_legend(theme: Theme, numbers: Numbers) -> list[str]:
    """Rows saying what colour, width and fill mean (the values' range included)."""
    t = theme
    signs = (
        _text(t, "━━ ", t.positive) + _text(t, "positive weight   ")
        + _text(t, "━━ ", t.negative) + _text(t, "negative weight   ")
        + _text(t, "width: |w| within its layer, thin at 0, thick at the layer's largest")
    )  # fmt: skip
    rows = [_row(t, signs)]
    if numbers.has_sample:
        low, high = numbers.activation_range()
        steps = [low + (high - low) * i / 4 for i in range(5)]
        swatches = "".join(f'<FONT COLOR="{fill(v, low, high)[0]}">██</FONT>' for v in steps)
        where = "" if numbers.sample is None else f" of sample {numbers.sample}"
        rows.append(
            _row(
                t,
                _text(t, f"fill: activation a{where}, {fmt(low)} ")
                + swatches
                + _text(t, f" {fmt(high)}"),
            )
        )
    return rows


def symbolic_items(view: str, network: Network, filled: bool = False) -> list[str]:
    """What the shapes and lines of this figure stand for: only the ones it draws. ``filled``:
    a sample's activations fill the circles (viridis), so they are not named by colour."""
    activations = network.show.activations and not network.is_linear
    blue, green = ("", "") if filled else ("blue ", "green ")
    elided = any(size > network.max_neurons for size in network.sizes)
    items: list[str] = []
    if view == "neuron":
        items.append("box z: a neuron's z = w·x + b")
        if network.show.bias:
            items.append("small circle 1: the bias input, its edge weighted b")
        if activations:
            items.append(f"{green}circle a: the activation a = g(z)")
        if activations and any(layer.activation.name == "softmax" for layer in network.layers):
            items.append("softmax box: every a of the layer depends on every z")
    elif view == "network":
        items.append(f"circle x: an input;  {blue}circle z: a neuron's z = w·a + b")
        if activations:
            items.append(f"{green}circle a: the activation a = g(z)")
        if activations and any(layer.activation.name == "softmax" for layer in network.layers):
            items.append("softmax box: every a of the layer depends on every z")
        if network.show.bias:
            items.append("small circle b: the layer's biases, one edge per neuron")
    elif view == "layers":
        items += ["box: one layer, its shapes, equations and parameter count",
                  "edge: the vector one layer passes to the next"]  # fmt: skip
    adds = any(layer.add is not None for layer in network.layers)
    concats = any(layer.concat for layer in network.layers)
    if adds and view in ("neuron", "network"):
        items.append(
            "dashed line into ⊕: a skip, the earlier output added to z;  double outline: "
            "every z_j of that layer gets its own entry"
        )
    if concats and view in ("neuron", "network"):
        items.append("dashed circles: the concatenated units, stacked under the layer's input")
    if (adds or concats) and view == "layers":
        items.append("dashed edge: a skip, into ⊕ (added to z) or a cell of the stacked input")
    if elided and view in ("neuron", "network"):
        items.append("⋮ and dashed edges: the units not drawn, and their many edges")
    return items


def symbolic_legend(theme: Theme, view: str, network: Network, filled: bool = False) -> list[str]:
    """The ``--legend`` rows of a symbolic figure."""
    return [_row(theme, _text(theme, item)) for item in symbolic_items(view, network, filled)]


def table(rows: list[str]) -> Html:
    return Html(f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>')
