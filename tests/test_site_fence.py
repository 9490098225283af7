"""The ```nndiagram fence in plain Python-Markdown: output, options, errors, escaping, cache."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import markdown
import pytest
from conftest import DIAGRAMS, ROOT

from nndiagram.errors import SpecError
from nndiagram.site import fence, render, request
from nndiagram.site.html import PALETTE_STYLE, inline_svg, safe_url
from nndiagram.site.interactive import inline_assets

pytestmark = pytest.mark.exe

INLINE = """\
```nndiagram
title: Two-two-one
inputs: 2
layers:
  - units: 2
    activation: relu
  - units: 1
include: [diagram, equations, check, source]
```
"""


def convert(text: str, root: Path = ROOT, cache_dir: Path | None = None) -> str:
    extension = fence.NNDiagramExtension(root=str(root), cache_dir=str(cache_dir or ""))
    return markdown.Markdown(extensions=[extension]).convert(text)


def as_superfences_custom_fence(text: str) -> str:
    """The way a mkdocs.yml without the plugin configures it."""
    md = markdown.Markdown(
        extensions=["pymdownx.superfences"],
        extension_configs={
            "pymdownx.superfences": {
                "custom_fences": [
                    {
                        "name": "nndiagram",
                        "class": "nndiagram",
                        "format": fence.fence_format,
                        "validator": fence.fence_validator,
                    }
                ]
            }
        },
    )
    return md.convert(text)


def test_inline_spec_renders_light_and_dark_svg_equations_check_and_source() -> None:
    out = convert(INLINE)
    light = re.search(r'<div class="nndiagram-svg nndiagram-light"><svg\b', out)
    dark = re.search(r'<div class="nndiagram-svg nndiagram-dark"><svg\b', out)
    assert light and dark
    assert '[data-md-color-scheme="slate"] .nndiagram-light{display:none}' in out
    assert "<figcaption>Two-two-one</figcaption>" in out
    # equations as arithmatex-generic blocks, one per display equation
    assert re.search(r'<div class="arithmatex">\\\[.*W.*\\\]</div>', out)
    assert "measured error" in out and "all checks pass" in out
    assert '<details class="nndiagram-source"><summary>Spec: inline</summary>' in out
    assert "units: 2" in out  # the source is shown …
    assert "include: [diagram" not in out  # … without the fence's own options


def test_file_spec_renders_and_include_selects_parts() -> None:
    out = convert("```nndiagram\nspec: diagrams/xor.yaml\ninclude: [source]\n```\n")
    assert "Spec: diagrams/xor.yaml" in out
    assert "activation: sigmoid" in out
    assert "<svg" not in out and "arithmatex" not in out and "measured error" not in out
    out = convert("```nndiagram\nspec: diagrams/xor.yaml\ninclude: [diagram]\n```\n")
    assert out.count("<svg") == 2 and "arithmatex" not in out.split("</figure>", 1)[1][:50]


def test_header_options_and_single_theme() -> None:
    out = convert('```nndiagram include="diagram" theme="dark"\nspec: diagrams/xor.yaml\n```\n')
    assert out.count("<svg") == 1
    assert "nndiagram-only" in out and "nndiagram-light" not in out.replace(".nndiagram-light", "")


def test_works_as_a_plain_superfences_custom_fence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # no generator, no root option: the working directory is the root
    out = as_superfences_custom_fence("```nndiagram\nspec: diagrams/neuron.yaml\n```\n")
    assert out.count("<svg") == 2 and 'class="arithmatex"' in out


def test_view_option_changes_the_diagram() -> None:
    neuron = convert(
        "```nndiagram\nspec: diagrams/layer.yaml\nview: neuron\ninclude: [diagram]\n```"
    )
    network = convert(
        "```nndiagram\nspec: diagrams/layer.yaml\nview: layers\ninclude: [diagram]\n```"
    )
    assert neuron != network


def test_invalid_network_shows_its_missing_edges() -> None:
    out = convert("```nndiagram\nspec: diagrams/not-fully-connected.yaml\n```\n")
    assert "<svg" in out
    assert "missing edge x_0 -&gt; z_0_1" in out


def test_spec_file_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "diagrams").mkdir()
    (tmp_path / "diagrams" / "bad.yaml").write_text("inputs: 2\nlayers:\n  - units: 0\n")
    with pytest.raises(fence.FenceError, match=r"^diagrams/bad\.yaml:3:12: error: layers\[0\]"):
        convert("```nndiagram\nspec: diagrams/bad.yaml\n```\n", root=tmp_path)


def test_inline_error_names_the_line(tmp_path: Path) -> None:
    text = "```nndiagram\ninputs: 2\nlayers:\n  - units: -1\n```\n"
    with pytest.raises(fence.FenceError, match=r":3:\d+: error: layers\[0\]\.units"):
        convert(text, root=tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("spec: ../outside.yaml", "leaves the project root"),
        ("spec: /etc/passwd", "must be relative to the project root"),
        ("spec: diagrams/missing.yaml", "spec file not found"),
        ("spec: diagrams/xor.yaml\ninclude: [diagram, pictures]", "unknown include 'pictures'"),
        ("spec: diagrams/xor.yaml\ntheme: sepia", "theme 'sepia'"),
        ("spec: diagrams/xor.yaml\ncolour: red", "unknown option 'colour'"),
    ],
)
def test_bad_fence_options_fail_clearly(tmp_path: Path, body: str, message: str) -> None:
    project = tmp_path / "project"
    (project / "diagrams").mkdir(parents=True)
    shutil.copy(DIAGRAMS / "xor.yaml", project / "diagrams")
    (tmp_path / "outside.yaml").write_text("inputs: 1\nlayers: [{units: 1}]\n")
    with pytest.raises(fence.FenceError, match=re.escape(message)):
        convert(f"```nndiagram\n{body}\n```\n", root=project)


HOSTILE = """\
```nndiagram
title: "<script>alert('title')</script>"
description: |
  <img src=x onerror="alert('img')"> and <script>alert('desc')</script>
  [click](javascript:alert('link')) [entity](&#106;avascript:alert('x'))
  [fine](https://example.org) with *emphasis* and math $z = w x$.
inputs: 2
layers:
  - units: 1
include: [diagram, equations, check, source]
```
"""


def test_spec_text_cannot_inject_html() -> None:
    out = convert(HOSTILE)
    assert "<script" not in out.replace(inline_assets(), "")  # nndiagram's own script only
    assert not re.search(r"<[^>]*\son\w+\s*=", out)  # no event handler inside any tag
    assert 'href="javascript' not in out.lower() and 'href="&#106;' not in out.lower()
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in out  # shown, not obeyed
    assert "&lt;img src=x" in out
    assert '<a href="https://example.org">fine</a>' in out
    assert "<em>emphasis</em>" in out and '<span class="arithmatex">\\(z = w x\\)</span>' in out


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org", True),
        ("page.md#anchor", True),
        ("mailto:a@b.c", True),
        ("javascript:alert(1)", False),
        (" JaVaScRiPt:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("&#106;avascript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("vbscript:msgbox", False),
    ],
)
def test_safe_url(url: str, safe: bool) -> None:
    assert safe_url(url) is safe


def test_inline_svg_drops_scripts_and_handlers_and_prefixes_ids() -> None:
    svg = (
        '<?xml version="1.0"?><!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg" '
        'onload="alert(1)"><script>alert(2)</script><g id="node1" onclick=\'x()\'>'
        '<a xlink:href="javascript:alert(3)"><text>hi</text></a>'
        '<use href="#node1"/></g></svg>'
    )
    out = inline_svg(svg, "p")
    assert out.startswith("<svg") and "alert" not in out
    assert 'id="p-node1"' in out and 'href="#p-node1"' in out


def test_unchanged_spec_is_not_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = render.compute_bundle

    def counting(job: render.RenderJob) -> dict[str, object]:
        calls.append(job.path)
        return real(job)

    monkeypatch.setattr(render, "compute_bundle", counting)
    cache = tmp_path / "cache"
    text = "```nndiagram\nspec: diagrams/xor.yaml\n```\n"
    first = convert(text, cache_dir=cache)
    assert calls == ["diagrams/xor.yaml"]
    entries = {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")}
    assert len(entries) == 2  # the rendered bundle and the block's HTML
    made: list[str] = []
    real_html = fence.bundle_html
    monkeypatch.setattr(
        fence, "bundle_html", lambda *a, **k: made.append("html") or real_html(*a, **k)
    )
    second = convert(text, cache_dir=cache)  # a new Markdown instance: only the disk cache helps
    assert calls == ["diagrams/xor.yaml"] and made == []  # nothing rendered, no HTML made
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")} == entries
    assert first == second  # the same page gives the same bytes
    convert("```nndiagram\nspec: diagrams/xor.yaml\nview: layers\n```\n", cache_dir=cache)
    assert len(calls) == 2  # another view is another artefact


def test_activation_fence_is_registered() -> None:
    out = convert("```activation\nrelu\n```\n")
    assert "<svg" in out and "nndiagram-plot" in out


DERIVATION = """\
```derivation
symbols:
  W0: [2, 2]
  W1: [1, 2]
  x: [2, 1]
  b0: [2, 1]
  b1: [1, 1]
steps:
  - W1*(W0*x + b0) + b1
  - W1*W0*x + W1*b0 + b1
```
"""


def test_derivation_fence_is_registered_with_its_options() -> None:
    out = convert(DERIVATION)
    assert 'data-holds="true"' in out
    wrong = DERIVATION.replace("W1*W0*x + W1*b0 + b1", "W1*W0*x + b1").replace(
        "```derivation", '```derivation expect="fail"'
    )
    assert 'data-holds="false"' in convert(wrong)
    with pytest.raises(fence.FenceError, match="does not hold"):
        convert(wrong.replace(' expect="fail"', ""))


def test_other_fences_are_cached_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nndiagram.site import plots

    calls: list[str] = []
    real = plots.activation_fence_format

    def counting(source: str, *args: object, **kwargs: object) -> str:
        calls.append(source)
        return real(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plots, "activation_fence_format", counting)
    first = convert("```activation\ntanh\n```\n", cache_dir=tmp_path)
    second = convert("```activation\ntanh\n```\n", cache_dir=tmp_path)
    assert calls == ["tanh"] and first == second


def test_inline_errors_count_lines_from_the_top_of_the_page(tmp_path: Path) -> None:
    page = (
        "# Page\n\n```nndiagram\ninputs: 2\nlayers:\n  - units: 1\n```\n\n"
        "Text.\n\n~~~nndiagram\ninputs: 2\nlayers:\n  - units: 1\n    activation: relu6\n~~~\n"
    )
    context = request.PageContext(tmp_path, "docs/page.md", page)
    good = request.parse_fence("inputs: 2\nlayers:\n  - units: 1\n", {}, tmp_path, context)
    assert good.first_line == 4
    body = "inputs: 2\nlayers:\n  - units: 1\n    activation: relu6\n"
    bad = request.parse_fence(body, {}, tmp_path, context)
    assert bad.first_line == 12
    with pytest.raises(SpecError) as raised:
        render.compute_bundle(bad.job)
    relocated = request.relocated(raised.value, bad)
    assert str(relocated).startswith("docs/page.md:15:")
    assert "unknown activation 'relu6'" in str(relocated)


@pytest.mark.parametrize("include", ["equations", "check", "equations, check"])
def test_invalid_network_explains_itself_once(include: str) -> None:
    out = convert(
        f"```nndiagram\nspec: diagrams/not-fully-connected.yaml\ninclude: [{include}]\n```"
    )
    assert out.count("Not a valid network") == 1
    assert "missing edge x_1 -&gt; z_0_0" in out and "<svg" not in out


def test_palette_rules_come_once_per_page() -> None:
    page = "".join(
        f"```nndiagram\nspec: diagrams/{name}.yaml\n```\n\n" for name in ("xor", "neuron")
    )
    out = convert(page)
    assert out.count(PALETTE_STYLE) == 1 and out.count('nndiagram-dark"><svg') == 2
    assert out.count(inline_assets()) == 1  # the explorer too, once
    ids = re.findall(r'\bid="([^"]+)"', out)
    assert len(ids) == len(set(ids))  # two diagrams, light and dark: no id twice on the page


def test_one_markdown_instance_many_documents() -> None:
    md = markdown.Markdown(extensions=[fence.NNDiagramExtension(root=str(ROOT), cache=False)])
    text = "```nndiagram\nspec: diagrams/neuron.yaml\ninclude: [diagram]\n```\n"
    first = md.convert(text)
    md.reset()
    assert md.convert(text) == first and "<style>" in first


def _xor_project(tmp_path: Path) -> Path:
    import numpy as np

    project = tmp_path / "project"
    (project / "diagrams").mkdir(parents=True)
    (project / "docs").mkdir()
    shutil.copy(DIAGRAMS / "xor.yaml", project / "diagrams")
    np.savez(project / "docs" / "P.npz", W0=[[6.0, 6.0], [-4.0, -4.0]], b0=[-3.0, 6.0],
             W1=[[9.0, 9.0]], b1=[-13.0])  # fmt: skip
    np.save(project / "docs" / "X.npy", np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]]))
    return project


def test_params_and_input_options_draw_the_numbers(tmp_path: Path) -> None:
    project = _xor_project(tmp_path)
    body = "spec: diagrams/xor.yaml\nparams: docs/P.npz\ninput: docs/X.npy\nsample: 2\n"
    out = convert(f"```nndiagram\n{body}include: [diagram]\n```\n", root=project)
    assert "positive weight" in out and "sample 2" in out
    assert "x = 1" in out and "a = 0.997" not in out  # sample 2 is (1, 0)
    symbolic = convert("```nndiagram\nspec: diagrams/xor.yaml\ninclude: [diagram]\n```\n",
                       root=project)  # fmt: skip
    assert "positive weight" not in symbolic


def test_changed_params_file_is_drawn_again(tmp_path: Path) -> None:
    import numpy as np

    project = _xor_project(tmp_path)
    text = "```nndiagram\nspec: diagrams/xor.yaml\nparams: docs/P.npz\ninclude: [diagram]\n```\n"
    cache = tmp_path / "cache"
    first = convert(text, root=project, cache_dir=cache)
    with np.load(project / "docs" / "P.npz") as old:
        params = {k: old[k] for k in old.files}
    params["W1"] = -params["W1"]
    np.savez(project / "docs" / "P.npz", **params)
    second = convert(text, root=project, cache_dir=cache)
    assert first != second and "−9" not in first


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("params: ../P.npz", "params path '../P.npz' leaves the project root"),
        ("params: docs/missing.npz", "params file not found: docs/missing.npz"),
        ("input: docs/X.npy", "input and sample are drawn through the weights: add params"),
        ("params: docs/P.npz\nsample: 1", "sample picks a column of input: add input"),
        ("params: docs/P.npz\ninput: docs/X.npy\nsample: -1", "sample must be a column number"),
        ("params: docs/P.npz\ninput: docs/X.npy\nsample: 9",
         "docs/X.npy:1:1: error: sample 9 is out of range: X has 4 sample(s)"),
        ("params: docs/X.npy", "docs/X.npy:1:1: error: expected a .npz archive of W0, b0, W1, b1"),
    ],
)  # fmt: skip
def test_bad_numbers_options_fail_naming_the_file(
    tmp_path: Path, options: str, message: str
) -> None:
    project = _xor_project(tmp_path)
    (tmp_path / "P.npz").write_bytes((project / "docs" / "P.npz").read_bytes())
    with pytest.raises(fence.FenceError, match=re.escape(message)):
        convert(f"```nndiagram\nspec: diagrams/xor.yaml\n{options}\n```\n", root=project)


XOR_TRAINING = """\
```training
spec: diagrams/xor.yaml
data: [[0, 0, 1, 1], [0, 1, 0, 1]]
targets: [[0, 1, 1, 0]]
steps: 300
lr: 2
seed: 1
layer: 1
```
"""


def test_training_fence_trains_and_shows_every_part(tmp_path: Path) -> None:
    import numpy as np

    from nndiagram.model import Network
    from nndiagram.numeric.train import train

    out = convert(XOR_TRAINING, cache_dir=tmp_path)
    run = train(Network.from_sizes([2, 2, 1], "sigmoid", loss="bce"),
                [[0, 0, 1, 1], [0, 1, 0, 1]], [[0, 1, 1, 0]], steps=300, lr=2, seed=1)  # fmt: skip
    assert f"{run.final_cost:.4g} in 300 steps" in out
    command = "nndiagram train diagrams/xor.yaml --data X.npy --targets Y.npy --steps 300 --lr 2"
    assert command in out
    assert out.count('class="nndiagram-plot"') == 2  # the cost curve and the decision boundary
    assert out.count('class="tabbed-block"') == 4 and "x = (1, 0)" in out
    assert out.count("positive weight") == 2 * 5  # learned network + 4 samples, light and dark
    W1 = run.params["W1"]
    assert f"{W1[0, 0]:.3g}" in out and r"z^{[1]} = \left[\begin{matrix}" in out
    assert 'data-agree="true"' in out
    assert len(re.findall(r"<td>[0-9.e-]+</td>", out)) >= 8
    assert np.isfinite(run.final_cost)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("spec: diagrams/xor.yaml\ndata: [[0, 1]]", "targets: is required"),
        ("spec: diagrams/xor.yaml\ndata: [[0, 1]]\ntargets: [[1, 0]]\nspeed: 2",
         "unknown key 'speed'"),
        ("spec: diagrams/xor.yaml\ndata: [[0, 0], [1, 1]]\ntargets: [[1, 2]]",
         "Y[0, 1] = 2 is outside [0, 1]"),
        ("spec: diagrams/xor.yaml\ndata: [[0, 0], [1, 1]]\ntargets: [[1, 0]]\nlayer: 5",
         "layer: 5 is not a layer"),
        ("spec: ../x.yaml\ndata: [[0]]\ntargets: [[0]]", "leaves the project root"),
    ],
)  # fmt: skip
def test_bad_training_fences_stop_the_build(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(fence.FenceError, match=re.escape(message)):
        convert(f"```training\n{body}\n```\n", cache_dir=tmp_path)


def test_params_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    project = _xor_project(tmp_path)
    (project / "docs" / "P.npz").unlink()
    os.mkfifo(project / "docs" / "P.npz")
    refused = re.escape("docs/P.npz:1:1: error: not a regular file")
    with pytest.raises(fence.FenceError, match=refused):
        convert("```nndiagram\nspec: diagrams/xor.yaml\nparams: docs/P.npz\n```\n", root=project)


def test_training_fence_takes_a_loss_and_names_its_keys_in_errors(tmp_path: Path) -> None:
    body = "spec: diagrams/multilayer.yaml\ndata: [[0, 1], [1, 0]]\ntargets: [[1, 0]]\n"
    out = convert(f"```training\n{body}loss: mse\nsteps: 20\n```\n", cache_dir=tmp_path)
    assert "--loss mse" in out and 'data-agree="true"' in out
    with pytest.raises(fence.FenceError, match=re.escape("no loss to differentiate")):
        convert(f"```training\n{body}\n```\n", cache_dir=tmp_path)
    with pytest.raises(fence.FenceError, match=re.escape("training fence: data: X has shape")):
        convert(f"```training\n{body.replace('[[0, 1], [1, 0]]', '[[0, 1]]')}loss: mse\n```\n",
                cache_dir=tmp_path)  # fmt: skip


def test_fence_options_that_are_not_yaml_are_one_line() -> None:
    """PyYAML's message spans several lines (context, caret); the fence error is one."""
    from nndiagram.errors import SpecError
    from nndiagram.site.request import PageContext, parse_fence

    with pytest.raises(SpecError) as raised:
        parse_fence("spec: [diagrams/xor.yaml\ninclude: {x\n", {}, ROOT, PageContext())
    assert "\n" not in str(raised.value) and "fence options are not YAML" in str(raised.value)
