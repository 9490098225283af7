"""Activation plots: the curves are the registry's functions, the SVG is safe to inline and
follows the page's colours, the output is deterministic, and the fence fails loudly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

from nndiagram.errors import SpecError
from nndiagram.model import ActivationChoice
from nndiagram.site.plots import (
    DERIVATIVE_COLOUR,
    FUNCTION_COLOUR,
    Z_RANGE,
    activation_choice,
    activation_fence_format,
    activation_plot_svg,
    plot_id,
)

SVG_NS = "{http://www.w3.org/2000/svg}"
LEAKY = ActivationChoice("leaky_relu", alpha=0.1)


@pytest.fixture(scope="module")
def plots() -> dict[str, str]:
    choices = {name: ActivationChoice(name) for name in ("sigmoid", "tanh", "relu", "identity")}
    choices["leaky_relu"] = LEAKY
    return {name: activation_plot_svg(choice) for name, choice in choices.items()}


def _paths_with(svg: str, needle: str) -> list[str]:
    """The ``d`` of every path whose style mentions ``needle`` (a colour or a dash pattern)."""
    root = ElementTree.fromstring(svg)
    return [
        p.get("d", "")
        for p in root.iter(f"{SVG_NS}path")
        if needle in (p.get("style") or "") and p.get("d")
    ]


def _segments(d: str) -> list[np.ndarray]:
    """A path's polylines (split at each M) as arrays of (x, y) in SVG pixels."""
    pieces = [p for p in re.split(r"(?=M)", d) if p.strip()]
    return [np.array(re.findall(r"[-\d.]+", piece), dtype=float).reshape(-1, 2) for piece in pieces]


def test_svg_is_well_formed_inlineable_and_titled(plots: dict[str, str]) -> None:
    for name, svg in plots.items():
        root = ElementTree.fromstring(svg)  # well-formed XML, no prolog or DOCTYPE left
        assert root.tag == f"{SVG_NS}svg"
        assert root.get("class") == "nndiagram-plot"
        assert root.get("viewBox") and root.get("width") is None  # scales with the column
        assert root.find(f"{SVG_NS}title") is not None, name
        assert "<metadata" not in svg and "<?xml" not in svg and "DOCTYPE" not in svg


def test_ids_are_prefixed_and_every_reference_resolves(plots: dict[str, str]) -> None:
    seen: set[str] = set()
    for svg in plots.values():
        ids = set(re.findall(r'\bid="([^"]+)"', svg))
        prefixes = {i.rsplit("-", 1)[0] for i in ids}
        assert len(prefixes) >= 1 and all(i.startswith("nnd-plot-") for i in ids)
        references = set(re.findall(r'(?:href="#|url\(#)([^")]+)', svg))
        assert references and references <= ids
        assert not ids & seen, "two plots on one page would share an id"
        seen |= ids


def test_colours_follow_the_page_and_styles_stay_scoped(plots: dict[str, str]) -> None:
    for svg in plots.values():
        assert "#010203" not in svg  # the sentinel foreground is gone...
        assert "currentColor" in svg  # ...replaced by the page's text colour
        assert "#ffffff" not in svg.lower()  # transparent: no white box on the dark palette
        for style in re.findall(r"<style[^>]*>(.*?)</style>", svg, flags=re.DOTALL):
            rules = re.findall(r"([^{}]+)\{", style)
            assert all(rule.strip().startswith(".nndiagram-plot") for rule in rules), style


def test_axes_are_dotted_and_curves_are_drawn(plots: dict[str, str]) -> None:
    for name, svg in plots.items():
        root = ElementTree.fromstring(svg)
        axes = [
            _segments(p.get("d", ""))[0]
            for p in root.iter(f"{SVG_NS}path")
            if "stroke-dasharray" in (style := p.get("style") or "")
            and "stroke: currentColor" in style
        ]
        assert len(axes) == 2, name  # y = 0 and z = 0, dotted, in the text colour
        horizontal, vertical = sorted(axes, key=lambda line: np.ptp(line[:, 0]), reverse=True)
        assert np.ptp(horizontal[:, 1]) == 0 and np.ptp(vertical[:, 0]) == 0
        assert _paths_with(svg, FUNCTION_COLOUR), name
        assert _paths_with(svg, DERIVATIVE_COLOUR), name


def test_the_function_curve_has_the_activation_shape(plots: dict[str, str]) -> None:
    # Pixel y grows downwards, so an increasing function has decreasing y.
    (sigmoid,) = _segments(max(_paths_with(plots["sigmoid"], FUNCTION_COLOUR), key=len))
    assert np.all(np.diff(sigmoid[:, 0]) >= 0) and np.all(np.diff(sigmoid[:, 1]) <= 1e-6)
    (relu,) = _segments(max(_paths_with(plots["relu"], FUNCTION_COLOUR), key=len))
    x_zero = np.interp(0.0, Z_RANGE, [relu[0, 0], relu[-1, 0]])
    left = relu[relu[:, 0] < x_zero - 1]
    kink = relu[np.argmin(np.abs(relu[:, 0] - x_zero))]
    assert np.ptp(left[:, 1]) < 1e-6  # flat at zero for z < 0 ...
    assert kink[1] == pytest.approx(left[0, 1])  # ... up to z = 0 ...
    assert relu[-1, 1] < kink[1] - 50  # ... then rising (pixel y grows downwards)


def test_a_derivative_that_jumps_is_drawn_with_a_gap(plots: dict[str, str]) -> None:
    for name, pieces in (("relu", 2), ("leaky_relu", 2), ("sigmoid", 1), ("tanh", 1)):
        d = max(_paths_with(plots[name], DERIVATIVE_COLOUR), key=len)
        assert len(_segments(d)) == pieces, name


def test_output_is_deterministic_across_processes() -> None:
    here = activation_plot_svg(LEAKY)
    assert activation_plot_svg(LEAKY) == here
    script = (
        "import sys; from nndiagram.model import ActivationChoice;"
        "from nndiagram.site.plots import activation_plot_svg;"
        "sys.stdout.write(activation_plot_svg(ActivationChoice('leaky_relu', alpha=0.1)))"
    )
    for seed in ("1",):
        other = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout
        assert other == here


def test_leaky_relu_with_another_alpha_gets_other_ids() -> None:
    assert plot_id(LEAKY) != plot_id(ActivationChoice("leaky_relu", alpha=0.01))


@pytest.mark.parametrize("name", ["softmax", "generic"])
def test_activations_without_a_curve_are_refused(name: str) -> None:
    with pytest.raises(SpecError, match=f"cannot plot activation '{name}'"):
        activation_plot_svg(ActivationChoice(name))


def test_fence_body_uses_the_spec_syntax() -> None:
    assert activation_choice("relu\n") == ActivationChoice("relu")
    choice = activation_choice("leaky_relu:\n  alpha: 0.1\n")
    assert choice.name == "leaky_relu" and choice.alpha == pytest.approx(0.1)
    with pytest.raises(SpecError, match="relu6"):
        activation_choice("relu6\n")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run where the fence's default cache folder (./.nndiagram-cache) is a throwaway one."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_fence_shows_the_registry_formulas_and_the_plot(in_tmp: Path) -> None:
    html = activation_fence_format("tanh\n", "activation", "nndiagram-activation", {}, None)
    assert html.startswith('<figure class="nndiagram-activation" style="width:100%">')
    blocks = re.findall(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', html)
    assert blocks == [
        r"g(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}",
        r"g'(z) = 1 - g(z)^{2}",
    ]
    assert '<svg class="nndiagram-plot"' in html


def test_a_bad_fence_fails_the_build_instead_of_printing_code(in_tmp: Path) -> None:
    from pymdownx.superfences import SuperFencesException

    with pytest.raises(SuperFencesException, match=r"```activation fence: .*softmax"):
        activation_fence_format("softmax\n", "activation", "nndiagram-activation", {}, None)


def test_fence_works_through_python_markdown(in_tmp: Path) -> None:
    import markdown

    page = markdown.markdown("```activation\nrelu\n```\n", extensions=["nndiagram"])
    assert '<figure class="nndiagram-activation"' in page
    assert r"g(z) = \max(0, z)" in page


def test_plot_scales_with_the_column_on_any_site(plots: dict[str, str]) -> None:
    # No width/height attributes (a fixed 300-odd points) but an inline style: the plot fills
    # the column up to a readable maximum even on a site without this project's stylesheet.
    root = ElementTree.fromstring(plots["relu"])
    style = root.get("style") or ""
    assert "width:100%" in style and "height:auto" in style and "max-width" in style


def test_an_unchanged_plot_comes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nndiagram.site import plots
    from nndiagram.site.cache import ArtefactCache

    first = plots.activation_figure_html(LEAKY, "c", ArtefactCache(tmp_path))
    assert list(tmp_path.rglob("*.json")), "the plot was not stored"

    def no_drawing(choice: ActivationChoice) -> str:
        raise AssertionError("drew again although the cache holds the plot")

    monkeypatch.setattr(plots, "activation_plot_svg", no_drawing)
    assert plots.activation_figure_html(LEAKY, "c", ArtefactCache(tmp_path)) == first
    with pytest.raises(AssertionError, match="drew again"):  # another alpha is another plot
        plots.activation_figure_html(
            ActivationChoice("leaky_relu", alpha=0.2), "c", ArtefactCache(tmp_path)
        )


def test_a_custom_activation_is_plotted_from_its_expression(in_tmp: Path) -> None:
    body = 'custom: "max(0.1*z, z) + sin(z)"\n'
    html = activation_fence_format(body, "activation", "nndiagram-activation", {}, None)
    assert r"\sin" in html and r"\cos" in html  # g and the derivative SymPy took of it
    svg = html[html.index("<svg") : html.index("</svg>") + 6]
    root = ElementTree.fromstring(svg)
    assert "Custom: max(0.1*z, z) + sin(z)" in (root.find(f"{SVG_NS}title").text or "")
    assert len(_segments(max(_paths_with(svg, DERIVATIVE_COLOUR), key=len))) == 2  # kink at 0
