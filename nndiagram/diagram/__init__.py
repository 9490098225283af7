"""Diagrams: a ``Network`` as DOT, then SVG/PNG/PDF through Graphviz.

The whole pipeline is :func:`build_dot` (pick the view, draw it with quoted text, return
deterministic DOT) and :func:`render` (run ``dot`` once through ``backend``). Views are a table;
``auto`` picks the one a reader would want (thresholds below).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SpecError, UsageError
from . import elide, explicit, layers, network, neuron, numbers, svg
from .backend import MAX_PNG_SIDE, png_size, run_dot
from .dot import Drawing
from .jupyter import DotSource, gv
from .numbers import Numbers
from .svg import tidy
from .theme import theme_for

if TYPE_CHECKING:
    from ..model import Network

__all__ = [
    "DotSource",
    "Numbers",
    "build_dot",
    "choose_view",
    "draw",
    "gv",
    "render",
    "render_file",
    "render_svg_inline",
    "tidy",
]

View = Callable[[Drawing, "Network"], None]
VIEWS: dict[str, View] = {
    "neuron": neuron.draw,
    "network": network.draw,
    "layers": layers.draw,
    "explicit": explicit.draw,
}
OUTPUT_FORMATS = ("svg", "png", "pdf", "dot")
_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

# `auto`: the neuron view for one small layer (the tutorial's first figures); the network view
# while the elided drawing stays legible; else the layers view, whose size is one node a layer.
AUTO_NEURON_MAX_UNITS = 2
AUTO_NEURON_MAX_INPUTS = 4
AUTO_NETWORK_MAX_LAYERS = 6
AUTO_NETWORK_MAX_EDGES = 300
DPI_RANGE = (36, 1200)  # --dpi: from a thumbnail to print
SVG_SCRIPT_SCALE = 0.72  # sub/superscript size in SVG, as a fraction of the label's


def choose_view(network: Network, view: str | None = None) -> str:
    """The view that will be drawn. Explicit graphs are always drawn as written."""
    if network.graph is not None:
        return "explicit"
    view = view or network.view
    if view == "auto":
        small_layer = network.layers[0].units <= AUTO_NEURON_MAX_UNITS
        small = (
            len(network.layers) == 1 and small_layer and network.inputs <= AUTO_NEURON_MAX_INPUTS
        )
        if small:
            return "neuron"
        drawn = elide.drawn_edges(network.sizes, network.max_neurons)
        if len(network.layers) <= AUTO_NETWORK_MAX_LAYERS and drawn <= AUTO_NETWORK_MAX_EDGES:
            return "network"
        return "layers"
    if view not in VIEWS or view == "explicit":
        raise UsageError(f"unknown view {view!r} (must be one of: auto, layers, network, neuron)")
    return view


def _check_drawable(network: Network, view: str) -> None:
    """Refuse, before any DOT is built, a drawing Graphviz could not lay out in seconds."""
    units = elide.drawn_units(network.sizes, network.max_neurons)
    edges = elide.drawn_edges(network.sizes, network.max_neurons)
    if units > elide.MAX_DRAWN_UNITS or edges > elide.MAX_DRAWN_EDGES:
        raise SpecError(
            f"the {view} view would draw {units:,} neurons and {edges:,} edges, at most "
            f"{elide.MAX_DRAWN_UNITS:,} and {elide.MAX_DRAWN_EDGES:,}: lower max_neurons "
            f"(now {network.max_neurons}) or use view: layers",
            path=network.source,
        )


def build_dot(
    network: Network,
    view: str | None = None,
    theme: str = "light",
    labels: str | None = None,
    fmt: str = "svg",
    *,
    numbers: Numbers | None = None,
    legend: bool = False,
    transparent: bool = False,
    links: bool = False,
) -> str:
    """The DOT source of ``network``; ``None`` means the spec's own view and label style.

    ``fmt`` is the format it will be rendered to: Graphviz's SVG prints sub- and superscripts
    at full size, so for SVG (and DOT) they get an explicit smaller size; cairo (PNG, PDF)
    shrinks them by itself. ``numbers`` (checked weights, optionally one sample's values)
    colours and sizes the edges and fills the neurons; ``legend`` adds the symbolic legend.
    PNG and PDF get the theme's page colour behind them (an image viewer shows a transparent
    dark figure as blank), unless ``transparent``; SVG stays transparent for web pages.
    """
    drawing = draw(network, view, theme, labels, fmt, numbers=numbers, legend=legend, links=links)
    if fmt in ("png", "pdf") and not transparent:
        drawing.background = drawing.theme.background
    return drawing.source()


LABEL_STYLES = ("math", "plain", "values")


def draw(
    network: Network,
    view: str | None = None,
    theme: str = "light",
    labels: str | None = None,
    fmt: str = "svg",
    *,
    numbers: Numbers | None = None,
    legend: bool = False,
    links: bool = False,
) -> Drawing:
    """The drawing itself, which also knows how many nodes and edges it drew. ``links`` gives
    every neuron, bias, activation and edge an ``id`` and ``nnd-…`` class naming its place in
    the equations (see ``dot.link_key``)."""
    style = labels or network.labels
    if style not in LABEL_STYLES:
        raise UsageError(
            f"unknown label style {style!r} (must be one of: {', '.join(LABEL_STYLES)})"
        )
    if style == "values" and numbers is None:
        raise UsageError("labels 'values' print the weights: give the parameters (--params)")
    drawing = Drawing(
        theme_for(theme),
        "math" if style == "values" else style,
        script_scale=SVG_SCRIPT_SCALE if fmt in ("svg", "dot") else None,
    )
    drawing.links = links
    chosen = choose_view(network, view)
    if chosen in ("network", "neuron"):
        _check_drawable(network, chosen)
    graph = network.graph
    if numbers is not None and graph is not None and not graph.is_valid:
        raise UsageError(
            f"not a valid network, so it has no weights to draw: {graph.problems()[0]}"
        )
    drawing.numbers = numbers
    drawing.values_only = style == "values"
    VIEWS[chosen](drawing, network)
    if chosen == "explicit" and network.graph is not None:
        drawing.label = explicit.legend(drawing, network.graph)
    _add_legend(drawing, network, chosen, numbers, legend)
    return drawing


def _add_legend(
    drawing: Drawing, network: Network, view: str, values: Numbers | None, symbolic: bool
) -> None:
    """The legend under the figure: always when colour and width carry numbers (not in the
    layers view, which prints its numbers as text), on request for what the shapes mean."""
    t = drawing.theme
    filled = values is not None and values.has_sample  # circles coloured by the sample
    rows = numbers.symbolic_legend(t, view, network, filled) if symbolic else []
    if values is not None and view in ("neuron", "network", "explicit"):
        rows += numbers.numbers_legend(t, values)
    if not rows:
        return
    if drawing.label is not None:
        rows.insert(0, f"<TR><TD>{drawing.label}</TD></TR>")
    drawing.label = numbers.table(rows)


def render(
    network: Network,
    fmt: str = "svg",
    view: str | None = None,
    theme: str = "light",
    labels: str | None = None,
    *,
    numbers: Numbers | None = None,
    legend: bool = False,
    dpi: float | None = None,
    transparent: bool = False,
) -> bytes:
    """The diagram as ``svg``, ``png``, ``pdf`` (through Graphviz) or ``dot`` bytes; ``dpi``
    sets a PNG's resolution (default ``PNG_DPI``)."""
    if dpi is not None and not (DPI_RANGE[0] <= dpi <= DPI_RANGE[1]):
        raise UsageError(f"--dpi must be between {DPI_RANGE[0]} and {DPI_RANGE[1]}, got {dpi:g}")
    source = build_dot(
        network, view, theme, labels, fmt, numbers=numbers, legend=legend, transparent=transparent
    )
    if fmt == "dot":
        return source.encode("utf-8")
    if fmt not in OUTPUT_FORMATS:
        raise UsageError(f"unknown format {fmt!r} (must be one of: {', '.join(OUTPUT_FORMATS)})")
    return tidy(run_dot(source, fmt, dpi=dpi if fmt == "png" else None), fmt)


def describe(network: Network) -> str:
    """Alt text: the spec's title, or the layer sizes."""
    sizes = "-".join(str(s) for s in network.sizes)
    return network.title or f"neural network {sizes}"


def render_svg_inline(
    network: Network,
    view: str | None = None,
    theme: str = "light",
    labels: str | None = None,
    *,
    numbers: Numbers | None = None,
    legend: bool = False,
    links: bool = False,
) -> str:
    """SVG to paste into HTML: no XML prolog or DOCTYPE, ids unique to this diagram and theme,
    and a title and ``aria-label`` for screen readers. ``links``: see :func:`draw`."""
    source = build_dot(network, view, theme, labels, numbers=numbers, legend=legend, links=links)
    return svg.embeddable(tidy(run_dot(source, "svg"), "svg"), source, describe(network))


def format_for(output: str | None, fmt: str | None) -> str:
    """``--format`` wins; else the output's suffix; else SVG."""
    if fmt is not None:
        if fmt not in OUTPUT_FORMATS:
            raise UsageError(
                f"unknown format {fmt!r} (must be one of: {', '.join(OUTPUT_FORMATS)})"
            )
        return fmt
    if output is None or output == "-":
        return "svg"
    suffix = Path(output).suffix.lower()
    if suffix not in _SUFFIXES:
        raise UsageError(
            f"cannot tell the format from {output!r}; use --format svg|png|pdf|dot "
            f"or a suffix {', '.join(_SUFFIXES)}"
        )
    return _SUFFIXES[suffix]


def render_file(
    spec_path: str,
    output: str | None = None,
    view: str | None = None,
    fmt: str | None = None,
    theme: str = "light",
    labels: str | None = None,
    *,
    legend: bool = False,
    dpi: float | None = None,
    transparent: bool = False,
    note: Callable[[str], None] | None = None,
) -> Path | None:
    """``nndiagram render``: load the spec, draw it, write atomically; ``note`` hears what
    the spec asked for but the figure leaves out, and why (one line each).

    ``output`` ``None`` writes ``<spec stem>.<format>`` in the current directory; ``-`` is
    stdout (returns ``None``). (With ``--params`` the command goes through
    ``nndiagram.notebook.render_numbers_file``, which reads and evaluates the numbers.)
    """
    from ..output import write_atomic
    from ..spec.load import load_spec

    chosen = format_for(output, fmt)
    network = load_spec(spec_path)
    data = render(
        network, chosen, view, theme, labels, legend=legend, dpi=dpi, transparent=transparent
    )
    if note is not None:
        for line in draw(network, view, theme, labels, chosen).notes:
            note(line)
        width, height = png_size(data) if chosen == "png" else (0, 0)
        if max(width, height) >= MAX_PNG_SIDE - 1:
            note(
                f"the PNG is scaled down to {width:,} × {height:,} px (at most {MAX_PNG_SIDE:,} "
                "a side); SVG or PDF keep every detail"
            )
    target = output if output is not None else f"{Path(spec_path).stem}.{chosen}"
    write_atomic(target, data)
    return None if target == "-" else Path(target)
