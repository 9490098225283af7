"""Jupyter: display by table (mimetype → the method that produces it, as ``graphviz`` does),
and ``gv`` for the tutorial's own cells."""

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


def gv(source: str) -> DotSource:
    """``fastbook.gv``: wrap a DOT body as ``digraph G{ rankdir="LR" … }``, shown as SVG in
    Jupyter, so the tutorial's cells run unchanged after swapping the import."""
    return DotSource('digraph G{ rankdir="LR" ' + source + "}")


class DotSource:
    """Finished DOT text that renders itself: the part of ``graphviz.Source`` notebooks use."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"DotSource({self.source!r})"

    def pipe(self, format: str = "svg") -> bytes:
        from .backend import run_dot
        from .svg import tidy

        if format == "dot":
            return self.source.encode("utf-8")
        return tidy(run_dot(self.source, format), format)

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None, **_: object
    ) -> dict[str, str]:
        return mimebundle(self, include, exclude)

    def _repr_image_svg_xml(self) -> str:
        return self.pipe("svg").decode("utf-8")
