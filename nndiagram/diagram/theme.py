"""Light and dark themes: muted textbook colours on a transparent background.

``light`` is for white pages and ``dark`` for dark ones (the site embeds both and shows the one
that matches). Fills are translucent, so they tint whatever page is behind them; the accent
colours (missing red, skipping orange) stay legible on either background.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True)
class Theme:
    name: str
    text: str  # labels and node outlines
    muted: str  # captions, bias circles, elided parts
    edge: str
    neuron_fill: str  # z boxes and neuron circles (translucent: works on any background)
    activation_fill: str
    missing: str  # edges a fully connected network would need
    skipping: str  # edges that skip or go back a layer
    background: str  # the page it is made for: under edge labels, and behind PNG/PDF
    # Weight signs (a colour-blind-safe pair from Okabe and Ito's palette, lighter on dark).
    positive: str = "#0072b2"
    negative: str = "#d55e00"
    # Graphviz measures with the first family; the generic one is the browser's fallback.
    font: str = "DejaVu Sans,sans-serif"
    math_font: str = "DejaVu Serif,serif"
    font_size: float = 12.0
    edge_font_size: float = 10.0
    pen: float = 0.8


THEMES: dict[str, Theme] = {
    "light": Theme(
        name="light",
        text="#262626",
        muted="#6b6b6b",
        edge="#4d4d4d",
        neuron_fill="#3b78b533",
        activation_fill="#3a9a5f33",
        missing="#c62828",
        skipping="#d9730d",
        background="#ffffff",
    ),
    "dark": Theme(
        name="dark",
        text="#e6e6e6",
        muted="#a6a6a6",
        edge="#bdbdbd",
        neuron_fill="#6fa8dc40",
        activation_fill="#6fcf9740",
        missing="#ff6b5e",
        skipping="#ffb04a",
        background="#1e2129",  # Material for MkDocs' slate scheme
        positive="#56b4e9",
        negative="#e69f00",
    ),
}


def theme_for(name: str) -> Theme:
    try:
        return THEMES[name]
    except KeyError:
        raise UsageError(
            f"unknown theme {name!r} (must be one of: {', '.join(sorted(THEMES))})"
        ) from None
