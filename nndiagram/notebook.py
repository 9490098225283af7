"""How a notebook shows a ``Network``: its diagram as SVG and, on request, its equations as
LaTeX; and a ``Figure`` of it with real weights and one sample's values. It composes stages
(``diagram``, ``symbolic``, ``numeric``) that never import each other, so it sits above them;
``nndiagram/__init__.py`` hands ``mimebundle`` to ``model.DISPLAY_HOOK``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .diagram.jupyter import mimebundle as _mimebundle
from .model import Network, require_valid

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .diagram.numbers import Numbers


def mimebundle(network: Network, include: object = None, exclude: object = None) -> dict[str, str]:
    """``Network._repr_mimebundle_``: the requested types of ``NetworkDisplay(network)``."""
    return _mimebundle(NetworkDisplay(network), include, exclude)


_shown = 0  # SVGs handed to a notebook by this process


def unique_ids(svg: str) -> str:
    """``svg`` with every id (and every reference to one) given a prefix no other display of
    this process has: a notebook inlines its outputs into one page, where two figures of one
    network would otherwise share Graphviz's ``node1``, ``edge1`` …"""
    import re

    global _shown
    _shown += 1
    prefix = f"nndfig{_shown}-"
    svg = re.sub(r'\bid="([^"]*)"', lambda m: f'id="{prefix}{m[1]}"', svg)
    return re.sub(r'(href="#|url\(#)([^")]*)', lambda m: f"{m[1]}{prefix}{m[2]}", svg)


class NetworkDisplay:
    """A network as a notebook shows it: its diagram, and on request its equations."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def _repr_image_svg_xml(self) -> str:
        from .diagram import render

        return unique_ids(render(self.network, "svg").decode("utf-8"))

    def _repr_latex_(self) -> str:
        from .symbolic import derive

        # Notebooks typeset the \[ … \] blocks and would print TeX comments as text.
        lines = derive(self.network).to_latex().splitlines()
        return "\n".join(line for line in lines if not line.lstrip().startswith("%")).strip()


# --- figures with real numbers: the evaluator's values drawn by the diagram ------------------


def figure_numbers(
    network: Network,
    params: Mapping[str, ArrayLike],
    X: ArrayLike | None = None,
    sample: int = 0,
    *,
    params_source: str | None = None,
    input_source: str | None = None,
) -> Numbers:
    """Checked ``params`` and, with ``X``, column ``sample``'s ``x``, ``z`` and ``a`` from the
    NumPy evaluator (``forward_pass`` on that column), ready for the diagram to draw."""
    import numpy as np

    from .diagram.numbers import Numbers
    from .errors import SpecError, UsageError
    from .numeric.forward import check_input, check_params, forward_pass

    checked = check_params(network, params, source=params_source)
    if X is None:
        return Numbers(checked)
    inputs = check_input(network, X, source=input_source)
    m = inputs.shape[1]
    if not 0 <= sample < m:
        message = f"sample {sample} is out of range: X has {m} sample(s), numbered 0 to {m - 1}"
        raise SpecError(message, path=input_source) if input_source else UsageError(message)
    column = np.array(inputs[:, sample : sample + 1])
    caches = forward_pass(network, checked, column)
    return Numbers(
        checked,
        x=column[:, 0],
        z=tuple(Z[:, 0].copy() for Z, _ in caches),
        a=tuple(A[:, 0].copy() for _, A in caches),
        sample=sample,
    )


class Figure:
    """A network drawn with its real weights (and one sample's values): SVG in Jupyter.

    >>> from nndiagram import load_spec
    >>> xor = load_spec("diagrams/xor.yaml")
    >>> params = {"W0": [[6, 6], [-4, -4]], "b0": [-3, 6], "W1": [[9, 9]], "b1": [-13]}
    >>> figure = Figure(xor, params, [[0, 1], [1, 1]], sample=0, labels="values")
    >>> "9" in figure.source() and "#0072b2" in figure.source()
    True
    """

    def __init__(
        self,
        network: Network,
        params: Mapping[str, ArrayLike] | None = None,
        input: ArrayLike | None = None,
        sample: int = 0,
        *,
        view: str | None = None,
        theme: str = "light",
        labels: str | None = None,
        legend: bool = False,
    ) -> None:
        from .errors import UsageError

        if params is None and input is not None:
            raise UsageError("an input is drawn through the network's weights: give params too")
        self.network = network
        self.numbers = None if params is None else figure_numbers(network, params, input, sample)
        self.view, self.theme, self.labels, self.legend = view, theme, labels, legend

    def source(self) -> str:
        """The DOT source."""
        from .diagram import build_dot

        return build_dot(
            self.network,
            self.view,
            self.theme,
            self.labels,
            numbers=self.numbers,
            legend=self.legend,
        )

    def pipe(self, fmt: str = "svg") -> bytes:
        """``svg``, ``png``, ``pdf`` or ``dot`` bytes."""
        from .diagram import render

        return render(
            self.network,
            fmt,
            self.view,
            self.theme,
            self.labels,
            numbers=self.numbers,
            legend=self.legend,
        )

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None, **_: object
    ) -> dict[str, str]:
        return _mimebundle(self, include, exclude)

    def _repr_image_svg_xml(self) -> str:
        return self.pipe("svg").decode("utf-8")


def render_numbers_file(
    spec_path: str,
    output: str | None,
    params_path: str,
    input_path: str | None = None,
    sample: int | None = None,
    *,
    view: str | None = None,
    fmt: str | None = None,
    theme: str = "light",
    labels: str | None = None,
    legend: bool = False,
    dpi: float | None = None,
    transparent: bool = False,
) -> None:
    """``nndiagram render SPEC --params P.npz [--input X.npy [--sample I]]``: read, check and
    evaluate, then draw and write atomically like ``render_file``."""
    from .diagram import format_for, render
    from .errors import UsageError
    from .numeric.forward import load_input, load_params
    from .output import write_atomic
    from .spec.load import load_spec

    if sample is not None and input_path is None:
        raise UsageError("--sample picks a column of --input X.npy: give --input too")
    chosen = format_for(output, fmt)
    network = load_spec(spec_path)
    require_valid(network, "so it has no weights to draw", spec_path)
    params = load_params(params_path, network)
    X = None if input_path is None else load_input(input_path, network)
    numbers = figure_numbers(
        network, params, X, sample or 0, params_source=params_path, input_source=input_path
    )
    data = render(
        network,
        chosen,
        view,
        theme,
        labels,
        numbers=numbers,
        legend=legend,
        dpi=dpi,
        transparent=transparent,
    )
    write_atomic(output if output is not None else f"{Path(spec_path).stem}.{chosen}", data)
