"""Jupyter display by table: mimetype → the method that produces it (as ``graphviz`` does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import Network

MIME_TYPES: dict[str, str] = {
    "image/svg+xml": "_repr_image_svg_xml",
    "text/latex": "_repr_latex_",
}
DEFAULT_MIME_TYPES = frozenset({"image/svg+xml"})


def mimebundle(obj: object, include: object = None, exclude: object = None) -> dict[str, str]:
    """The ``_repr_mimebundle_`` answer for ``obj``: the requested types it can produce."""
    wanted = set(include) if isinstance(include, list | tuple | set | frozenset) else set()
    wanted = wanted or set(DEFAULT_MIME_TYPES)
    wanted -= set(exclude) if isinstance(exclude, list | tuple | set | frozenset) else set()
    return {
        mimetype: getattr(obj, method)()
        for mimetype, method in MIME_TYPES.items()
        if mimetype in wanted and hasattr(obj, method)
    }


class NetworkDisplay:
    """A network as a notebook shows it: its diagram, and on request its equations."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def _repr_image_svg_xml(self) -> str:
        from . import render

        return render(self.network, "svg").decode("utf-8")

    def _repr_latex_(self) -> str:
        from ..symbolic import derive

        # Notebooks typeset the \[ … \] blocks and would print TeX comments as text.
        lines = derive(self.network).to_latex().splitlines()
        return "\n".join(line for line in lines if not line.lstrip().startswith("%")).strip()
