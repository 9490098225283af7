"""Jupyter: display by table (mimetype → the method that produces it, as ``graphviz`` does),
and ``gv`` for the tutorial's own cells. A ``Network``'s own display is ``nndiagram.notebook``."""

from __future__ import annotations

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
