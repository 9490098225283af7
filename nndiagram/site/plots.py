"""Activation plots: each function and its derivative as an inline SVG, drawn by matplotlib.

The tutorial draws every activation with dotted x and y axes; so does this module, and it adds
the derivative (dashed) because that is what decides vanishing gradients and dying ReLU. The
plot follows the page's colour scheme: every foreground stroke and label is drawn in a sentinel
colour that becomes ``currentColor``, the background is transparent, and the two curve colours
read on white and on Material's slate. Output is byte-identical for the same input and library
versions (fixed hash salt, no date, ids derived from the activation).
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import io
import re
from typing import Any

import numpy as np

from ..activations import Activation, activation_for
from ..errors import NNDiagramError, SpecError
from ..model import ActivationChoice
from .cache import ArtefactCache, cache_key

Z_RANGE = (-5.0, 5.0)
SAMPLES = 401  # odd, so z = 0 (the kink of ReLU) is a sample
FUNCTION_COLOUR = "#3b82f6"
DERIVATIVE_COLOUR = "#f97316"
_FOREGROUND = "#010203"  # sentinel, replaced by currentColor after drawing
# Inline, so the plot is sized right on any site, with or without this project's stylesheet.
_SIZE = "display:block;width:100%;max-width:24rem;height:auto;margin:0 auto"
_JUMP = 0.2  # a derivative step larger than this between neighbours is a discontinuity


def activation_choice(source: str, path: str = "<activation fence>") -> ActivationChoice:
    """Read a fence body: ``relu``, ``{leaky_relu: {alpha: 0.1}}`` or ``{custom: "max(0, z)"}``.

    The body is the same text a spec's ``activation:`` key takes, so the spec parser reads it.
    """
    from ..spec.load import parse_activation

    return parse_activation(source, path)


def plotted_activation(choice: ActivationChoice) -> Activation:
    """The registry entry, refused when it has no element-wise function to draw."""
    activation = activation_for(choice)
    if activation.numpy_fn is None or activation.numpy_derivative is None:
        reason = "it is a vector function" if not activation.elementwise else "it has no formula"
        raise SpecError(f"cannot plot activation {choice.name!r}: {reason}")
    return activation


def plot_id(choice: ActivationChoice) -> str:
    """A stable id prefix, different for leaky ReLU with another alpha on the same page."""
    digest = hashlib.sha256(repr(choice).encode()).hexdigest()[:8]
    return f"nnd-plot-{choice.name}-{digest}"


def _break_jumps(z: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Insert NaN between samples where the curve jumps, so it is drawn with a gap."""
    jumps = np.flatnonzero(np.abs(np.diff(values)) > _JUMP) + 1
    return np.insert(z, jumps, np.nan), np.insert(values, jumps, np.nan)


def activation_plot_svg(choice: ActivationChoice) -> str:
    """One activation and its derivative, as an ``<svg>`` element ready to inline in HTML."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    activation = plotted_activation(choice)
    assert activation.numpy_fn is not None and activation.numpy_derivative is not None
    z = np.linspace(*Z_RANGE, SAMPLES)
    g = activation.numpy_fn(z)
    g_prime = activation.numpy_derivative(z)

    with matplotlib.rc_context(
        {
            "svg.hashsalt": plot_id(choice),
            "svg.fonttype": "none",  # real <text>, coloured and searchable, no glyph paths
            "font.family": "sans-serif",
            "font.size": 10,
            "text.color": _FOREGROUND,
            "axes.edgecolor": _FOREGROUND,
            "axes.labelcolor": _FOREGROUND,
            "xtick.color": _FOREGROUND,
            "ytick.color": _FOREGROUND,
        }
    ):
        figure = Figure(figsize=(4.4, 3.0))
        FigureCanvasAgg(figure)  # no pyplot: no global backend or figure state
        axes = figure.add_subplot()
        axes.axhline(0, color=_FOREGROUND, linestyle="dotted", linewidth=1)
        axes.axvline(0, color=_FOREGROUND, linestyle="dotted", linewidth=1)
        axes.plot(z, g, color=FUNCTION_COLOUR, linewidth=2, label="g(z)")
        axes.plot(
            *_break_jumps(z, g_prime),
            color=DERIVATIVE_COLOUR,
            linewidth=1.6,
            linestyle="dashed",
            label="g′(z)",
        )
        axes.set_title(activation.title)
        axes.set_xlabel("z")
        axes.set_xlim(*Z_RANGE)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.legend(frameon=False, loc="upper left")
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", transparent=True, metadata={"Date": None})
    return _inline_svg(buffer.getvalue(), plot_id(choice), activation.title)


def _inline_svg(document: str, prefix: str, title: str) -> str:
    return inline_plot_svg(document, prefix, f"{title}: the function g(z) and its derivative g′(z)")


def inline_plot_svg(document: str, prefix: str, label: str, max_width: str = "24rem") -> str:
    """Make a standalone SVG file safe to inline: no prolog, ids unique to this plot, colours
    that follow the page, a title for screen readers, and a size that fits the column."""
    svg = document[document.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'(href="#|url\(#)([^")]+)', rf"\1{prefix}-\2", svg)
    svg = svg.replace(_FOREGROUND, "currentColor")
    # matplotlib's stylesheet says `*{...}`; inlined, that would restyle every SVG on the page.
    svg = svg.replace('<style type="text/css">*{', '<style type="text/css">.nndiagram-plot *{')
    svg = re.sub(r'\swidth="[^"]+" height="[^"]+"', "", svg, count=1)
    label = html.escape(label)
    size = _SIZE.replace("24rem", max_width)
    return svg.replace(
        "<svg ",
        f'<svg class="nndiagram-plot" role="img" aria-label="{label}" style="{size}" ',
        1,
    ).replace(">", f"><title>{label}</title>", 1)


def formulas_html(activation: Activation) -> str:
    """The registry's LaTeX for g and g', as the arithmatex blocks MathJax typesets."""
    lines = (f"g(z) = {activation.latex}", f"g'(z) = {activation.derivative_latex}")
    return "".join(
        f'<div class="arithmatex">\\[{html.escape(line, quote=False)}\\]</div>' for line in lines
    )


def activation_figure_html(choice: ActivationChoice, css_class: str, cache: ArtefactCache) -> str:
    """Formulas and plot of one activation, from the cache when an identical one was drawn
    before (matplotlib takes about a second a plot; an unchanged page should cost nothing)."""
    key = cache_key(
        repr(choice).encode(),
        {"artefact": "activation-plot", "matplotlib": importlib.metadata.version("matplotlib")},
    )
    cached = cache.get(key)
    if cached is None:
        cached = {
            "formulas": formulas_html(plotted_activation(choice)),
            "svg": activation_plot_svg(choice),
        }
        cache.put(key, cached)
    # Material sizes a figure to its content, which would leave a 100%-wide plot at 300px.
    return (
        f'<figure class="{html.escape(css_class)}" style="width:100%">'
        f'<div class="nndiagram-formulas">{cached["formulas"]}</div>{cached["svg"]}</figure>'
    )


def activation_fence_format(
    source: str,
    language: str,
    css_class: str,
    options: dict[str, Any],
    md: Any,
    **kwargs: Any,
) -> str:
    """The ```` ```activation ```` fence (pymdownx.superfences custom-fence signature): the
    formula of g and g' from the registry, then the plot."""
    from . import fence

    settings = fence._settings(md)  # the plugin's settings and cache when it runs
    try:
        choice = activation_choice(source)
        root = fence.project_root(md, fence.page_context(md))
        return activation_figure_html(choice, css_class, settings.cache_for(root))
    except NNDiagramError as error:
        # superfences would print any other error's fence as a plain code block and go on.
        raise settings.error_type(f"```{language} fence: {error}") from error
