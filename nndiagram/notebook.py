"""How a notebook shows a ``Network``: its diagram as SVG and, on request, its equations as
LaTeX. It composes two stages (``diagram`` and ``symbolic``) that never import each other, so
it sits above both; ``nndiagram/__init__.py`` hands ``mimebundle`` to ``model.DISPLAY_HOOK``."""

from __future__ import annotations

from .diagram.jupyter import mimebundle as _mimebundle
from .model import Network


def mimebundle(network: Network, include: object = None, exclude: object = None) -> dict[str, str]:
    """``Network._repr_mimebundle_``: the requested types of ``NetworkDisplay(network)``."""
    return _mimebundle(NetworkDisplay(network), include, exclude)


class NetworkDisplay:
    """A network as a notebook shows it: its diagram, and on request its equations."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def _repr_image_svg_xml(self) -> str:
        from .diagram import render

        return render(self.network, "svg").decode("utf-8")

    def _repr_latex_(self) -> str:
        from .symbolic import derive

        # Notebooks typeset the \[ … \] blocks and would print TeX comments as text.
        lines = derive(self.network).to_latex().splitlines()
        return "\n".join(line for line in lines if not line.lstrip().startswith("%")).strip()
