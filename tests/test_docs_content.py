"""The documentation: what the pages promise is what the tool does, and nothing is pasted.

The first group reads the Markdown sources (fast); the `site` group looks at the built pages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DIAGRAMS, ROOT, RunCli

DOCS = ROOT / "docs"
TUTORIAL_FIGURES = (  # DESIGN.md: one spec per tutorial figure, in order of first appearance
    "neuron",
    "layer",
    "multilayer",
    "not-fully-connected",
    "layer-3",
    "neuron-activation",
    "multilayer-activation",
)
FENCE = re.compile(r"^```(?P<name>[\w-]+)[^\n]*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


def mkdocs_config() -> dict[str, Any]:
    # MkDocs' own tags (``!!python/name:`` formatters, ``!ENV`` values) read as plain strings
    # and lists once the tag is dropped, so the file loads with safe_load.
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    text = text.replace("!!python/name:", "").replace("!ENV ", "")
    config: dict[str, Any] = yaml.safe_load(text)
    return config


def nav_pages(nav: list[Any]) -> list[str]:
    pages: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def tutorial_pages() -> list[Path]:
    return [DOCS / p for p in nav_pages(mkdocs_config()["nav"]) if p.startswith("tutorial/")]


def fences(path: Path, name: str) -> list[str]:
    return [m["body"] for m in FENCE.finditer(path.read_text()) if m["name"] == name]


# --- the sources ------------------------------------------------------------------------------


def test_every_nav_page_exists_and_every_page_is_in_the_nav() -> None:
    config = mkdocs_config()
    listed = nav_pages(config["nav"])
    generated = [p for p in listed if p.startswith("gallery/")]
    assert generated == ["gallery/index.md"]  # the plugin writes it; nothing else is generated
    hand_written = [p for p in listed if p not in generated]
    missing = [p for p in hand_written if not (DOCS / p).is_file()]
    assert not missing
    on_disk = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(hand_written) == on_disk


def test_site_config_keeps_the_features_the_browser_test_relies_on() -> None:
    config = mkdocs_config()
    theme = config["theme"]
    assert theme["font"] is False  # Google Fonts would be a request leaving the machine
    for feature in ("navigation.instant", "content.code.copy", "search.highlight"):
        assert feature in theme["features"]
    assert {p["scheme"] for p in theme["palette"]} == {"default", "slate"}
    plugins = [p if isinstance(p, str) else next(iter(p)) for p in config["plugins"]]
    assert "search" in plugins and "nndiagram" in plugins


def test_the_tutorial_shows_each_reference_figure_in_the_reference_order() -> None:
    first_seen: list[str] = []
    for page in tutorial_pages():
        if not page.exists():  # the backpropagation pages come from another part
            continue
        for body in fences(page, "nndiagram"):
            match = re.search(r"^spec:\s*diagrams/([\w-]+)\.yaml", body, re.MULTILINE)
            if match and match[1] not in first_seen:
                first_seen.append(match[1])
    shown = [name for name in first_seen if name in TUTORIAL_FIGURES]
    assert shown == list(TUTORIAL_FIGURES)


def test_every_spec_a_page_names_exists() -> None:
    for page in DOCS.rglob("*.md"):
        for body in fences(page, "nndiagram"):
            for spec in re.findall(r"^spec:\s*(\S+)", body, re.MULTILINE):
                assert (ROOT / spec).is_file(), f"{page}: {spec}"


def test_no_displayed_equation_is_pasted_into_the_tutorial() -> None:
    # Display math comes from fences (specs, derivations, the activation registry); the prose
    # may only name symbols inline.
    own_pages = [p for p in tutorial_pages() if p.exists() and p.parent == DOCS / "tutorial"]
    for page in own_pages:
        if page.name in ("backpropagation.md", "derivations.md"):
            continue
        text = FENCE.sub("", page.read_text())
        assert "\\[" not in text and "$$" not in text and "\\begin" not in text, page


def test_activation_fences_name_real_activations() -> None:
    from nndiagram.site.plots import activation_choice, plotted_activation

    bodies = fences(DOCS / "tutorial" / "activations.md", "activation")
    names = [activation_choice(body).name for body in bodies]
    assert {"sigmoid", "tanh", "relu", "leaky_relu"} <= set(names)
    for body in bodies:
        plotted_activation(activation_choice(body))


def test_the_collapse_derivation_holds_on_the_command_line(run_cli: RunCli) -> None:
    done = run_cli("check-derivation", "docs/tutorial/linear-collapse.derivation.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every step is proven" in done.stdout


def test_the_cli_guide_documents_every_command_and_option() -> None:
    from nndiagram.cli import build_parser

    guide = (DOCS / "guide" / "cli.md").read_text()
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands
    for name, sub in commands.items():
        assert re.search(rf"^## .*\b{re.escape(name)}\b", guide, re.MULTILINE), name
        assert f"nndiagram {name}" in guide, name
        for action in sub._actions:
            flags = [f for f in action.option_strings if f.startswith("--")]
            if flags and flags[0] != "--help":
                assert any(f in guide for f in action.option_strings), f"{name} {flags[0]}"


def test_cli_guide_lists_the_contract_exit_codes() -> None:
    guide = (DOCS / "guide" / "cli.md").read_text()
    for code in ("`0`", "`1`", "`2`"):
        assert re.search(rf"^\| {code} \|", guide, re.MULTILINE), code


def test_results_file_has_a_section_for_every_benchmark() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    assert spec and spec.loader
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    assert "make bench" in results
    for script, heading in run_all.BENCHMARKS:
        assert f"### {heading}" in results and script in results
    assert '--8<-- "benchmarks/RESULTS.md"' in (DOCS / "performance.md").read_text()


def test_python_api_examples_run_as_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    import doctest

    monkeypatch.chdir(ROOT)  # the examples load diagrams/ relative to the repository
    guide = DOCS / "guide" / "python-api.md"
    examples = "\n\n".join(fences(guide, "pycon"))
    assert examples.count(">>>") >= 10
    test = doctest.DocTestParser().get_doctest(examples, {}, guide.name, str(guide), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=lambda text: print(text, end=""))
    assert runner.summarize(verbose=False).failed == 0


# --- the built pages --------------------------------------------------------------------------


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text()


@pytest.mark.site
@pytest.mark.exe
def test_counterexample_page_names_the_missing_edges(built_site: Path) -> None:
    page = _page(built_site, "tutorial/multilayer")
    for edge in ("x_0 -&gt; z_0_1", "x_1 -&gt; z_0_0"):
        assert f"missing edge {edge}" in page


@pytest.mark.site
@pytest.mark.exe
def test_collapse_page_shows_the_checked_derivation(built_site: Path) -> None:
    page = _page(built_site, "tutorial/linear-collapse")
    assert 'data-holds="true"' in page
    assert "nndiagram-check-passed" in page  # the deep-linear check report


@pytest.mark.site
@pytest.mark.exe
def test_spec_format_page_documents_every_schema_key(built_site: Path) -> None:
    from nndiagram.spec.load import spec_json_schema

    page = _page(built_site, "guide/spec-format")
    schema = spec_json_schema()
    for key in schema["properties"]:
        assert f"<td><code>{key}</code>" in page, key
    for name in schema.get("$defs", {}):
        assert f'id="schema-{name.lower()}"' in page, name


@pytest.mark.site
@pytest.mark.exe
def test_activation_page_has_every_plot_and_formula(built_site: Path) -> None:
    page = _page(built_site, "tutorial/activations")
    assert page.count('<svg class="nndiagram-plot"') == len(
        fences(DOCS / "tutorial" / "activations.md", "activation")
    )
    assert r"g(z) = \frac{1}{1 + e^{-z}}" in page


@pytest.mark.site
@pytest.mark.exe
def test_performance_page_includes_the_results_file(built_site: Path) -> None:
    page = _page(built_site, "performance")
    first_heading = re.search(r"^### (.+)$", (ROOT / "benchmarks" / "RESULTS.md").read_text(), re.M)
    assert first_heading
    assert first_heading[1].split(":")[0] in page


@pytest.mark.site
@pytest.mark.exe
def test_no_page_shows_a_failed_check(built_site: Path) -> None:
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) > 20
    reports = 0
    for page in pages:
        html = page.read_text()
        # (A derivation that does not hold is allowed only as a marked counterexample: the
        # derivation fence fails the build otherwise.)
        assert "nndiagram-check-failed" not in html, page
        reports += html.count("nndiagram-check-passed")
    assert reports >= 10  # the gallery's and the tutorial's check reports


@pytest.mark.site
@pytest.mark.exe
def test_gallery_has_a_page_per_spec(built_site: Path) -> None:
    for spec in sorted(DIAGRAMS.glob("*.yaml")):
        assert (built_site / "gallery" / spec.stem / "index.html").is_file(), spec.name


# --- the schema reference generator -----------------------------------------------------------


def test_schema_reference_lays_out_types_defaults_and_links() -> None:
    from nndiagram.site.schema_doc import schema_reference_html

    schema = {
        "description": "A <b>spec</b> with ``inputs``.",
        "properties": {
            "units": {"type": "integer", "minimum": 1, "description": "Neurons."},
            "view": {"enum": ["neuron", "auto"], "default": "auto"},
            "layers": {
                "anyOf": [{"type": "array", "items": {"$ref": "#/$defs/Layer"}}, {"type": "null"}]
            },
        },
        "required": ["units"],
        "$defs": {"Layer": {"properties": {"units": {"type": "integer"}}}},
    }
    out = schema_reference_html(schema)
    assert "A &lt;b&gt;spec&lt;/b&gt; with <code>inputs</code>." in out  # escaped, literals as code
    assert "<td><code>units</code> (required)</td><td>integer, ≥ 1</td>" in out
    assert '<code>"neuron"</code> | <code>"auto"</code>' in out.replace("&quot;", '"')
    assert 'list of <a href="#schema-layer">Layer</a> or null' in out
    assert '<h3 id="schema-layer">Layer</h3>' in out
    only = schema_reference_html(schema, ["Layer"])
    assert 'id="schema-spec"' not in only and 'id="schema-layer"' in only


def test_schema_reference_rejects_unknown_definitions() -> None:
    from nndiagram.errors import UsageError
    from nndiagram.site.schema_doc import schema_reference_html

    with pytest.raises(UsageError, match="Nope"):
        schema_reference_html({"properties": {}}, ["Nope"])


def test_schema_fence_renders_the_real_schema() -> None:
    import markdown

    from nndiagram.site.schema_doc import schema_fence_format

    html = schema_fence_format("", "nndiagram-schema", "nndiagram-schema", {}, None)
    assert html.startswith('<div class="nndiagram-schema">') and "<td><code>layers</code>" in html
    page = markdown.markdown(
        "```nndiagram-schema\nLayerSpec\n```\n",
        extensions=["pymdownx.superfences"],
        extension_configs={
            "pymdownx.superfences": {
                "custom_fences": [
                    {"name": "nndiagram-schema", "class": "x", "format": schema_fence_format}
                ]
            }
        },
    )
    assert 'id="schema-layerspec"' in page and 'id="schema-spec"' not in page


def test_home_page_example_is_the_spec_it_renders() -> None:
    home = DOCS / "index.md"
    (shown,) = [m["body"] for m in FENCE.finditer(home.read_text()) if m["name"] == "yaml"]
    rendered = [b for b in fences(home, "nndiagram") if not b.startswith("spec:")]
    assert len(shown.strip().splitlines()) == 5
    assert [b.replace("include: [diagram]\n", "") for b in rendered] == [shown]


# --- the cost fence ---------------------------------------------------------------------------


def test_cost_fence_prints_the_library_formulas() -> None:
    from nndiagram.site.formulas import cost_fence_format
    from nndiagram.symbolic.cost import J_LATEX, LOSS_LATEX

    def blocks(body: str) -> list[str]:
        html = cost_fence_format(body, "cost", "nndiagram-cost", {}, None)
        return re.findall(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', html)

    assert blocks("") == [J_LATEX.replace("<", "&lt;")]
    assert blocks("mse\nce\n") == [LOSS_LATEX["mse"], LOSS_LATEX["ce"]]


def test_cost_fence_rejects_an_unknown_loss() -> None:
    from pymdownx.superfences import SuperFencesException

    from nndiagram.site.formulas import cost_fence_format

    with pytest.raises(SuperFencesException, match=r"unknown loss 'hinge' \(must be one of"):
        cost_fence_format("hinge\n", "cost", "nndiagram-cost", {}, None)


def test_cost_page_shows_every_loss() -> None:
    from nndiagram.model import LOSSES

    bodies = [b.strip() for b in fences(DOCS / "tutorial" / "cost.md", "cost")]
    assert sorted(bodies) == sorted(["", *LOSSES])


def test_every_benchmark_script_is_run_and_explained() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    assert spec and spec.loader
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    listed = {script for script, _ in run_all.BENCHMARKS}
    on_disk = {p.name for p in (ROOT / "benchmarks").glob("bench_*.py")}
    assert on_disk <= listed, "a benchmark script that make bench would not run"
    page = (DOCS / "performance.md").read_text()
    for script in listed:
        assert re.search(rf"^\| `{re.escape(script)}` \|", page, re.MULTILINE), script


def _commands(block: str) -> list[tuple[list[str], int]]:
    """Each command of a shell example with the exit code its comment promises (default 0)."""
    import shlex

    commands: list[tuple[list[str], int]] = []
    pending = ""
    for line in block.splitlines():
        pending += line + "\n"
        try:
            argv = shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        expected = re.search(r"#\s*exit (\d)", pending)
        if argv:
            commands.append((argv, int(expected[1]) if expected else 0))
        pending = ""
    return commands


@pytest.mark.exe
@pytest.mark.slow
def test_cli_guide_examples_run_with_the_documented_exit_codes(
    tmp_path: Path, run_cli: RunCli
) -> None:
    import glob
    import shutil
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    shutil.copytree(DIAGRAMS, tmp_path / "diagrams")
    shutil.copytree(DOCS / "tutorial", tmp_path / "docs" / "tutorial")
    examples: list[tuple[list[str], list[str], str | None, int]] = []
    for block in fences(DOCS / "guide" / "cli.md", "sh"):
        for argv, expected in _commands(block):
            if argv[0] == "python":  # the example's input files, needed by what follows
                subprocess.run([sys.executable, *argv[1:]], cwd=tmp_path, check=True)
                continue
            assert argv[0] == "nndiagram", argv
            if argv[1] in ("build", "serve", "generate"):
                continue  # the whole site: covered by the site and plugin tests
            stdout_file = None
            if ">" in argv:
                argv, stdout_file = argv[: argv.index(">")], argv[argv.index(">") + 1]
            args: list[str] = []
            for arg in argv[1:]:
                args += sorted(glob.glob(arg, root_dir=tmp_path)) if "*" in arg else [arg]
            examples.append((argv, args, stdout_file, expected))
    assert len(examples) >= 12

    # Independent commands, each mostly SymPy's start-up: run a few at a time.
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda e: run_cli(*e[1], cwd=tmp_path), examples))
    for (argv, _, stdout_file, expected), done in zip(examples, runs, strict=True):
        assert done.returncode == expected, f"{argv}: {done.stderr}"
        if stdout_file:
            assert done.stdout.strip()
    for made in ("neuron.svg", "mnist.png", "Y.npy", "G.npz"):
        assert (tmp_path / made).stat().st_size > 0, made


def test_plugin_guide_names_real_formatters_and_every_option() -> None:
    import importlib

    from nndiagram.site.plugin import NNDiagramConfig

    guide = (DOCS / "guide" / "plugin.md").read_text()
    names = re.findall(r"!!python/name:([\w.]+)", guide)
    assert len(names) >= 4
    for dotted in names:
        module, _, attr = dotted.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attr)), dotted
    options = re.search(r"- nndiagram:\n((?:\s{6}\w+:.*\n)+)", guide)
    assert options
    documented = set(re.findall(r"^\s{6}(\w+):", options[1], re.MULTILINE))
    assert documented == {name for name, _ in NNDiagramConfig._schema}


@pytest.mark.exe
@pytest.mark.site
@pytest.mark.slow
def test_the_guides_no_plugin_setup_builds_under_zensical(tmp_path: Path) -> None:
    """The mkdocs.yml and the commands of "The fence without the plugin", exactly as written,
    with a page using each fence, built by Zensical (which runs no MkDocs plugin)."""
    import os
    import shutil
    import subprocess
    import sys

    zensical = Path(sys.executable).parent / "zensical"
    if not zensical.exists():
        pytest.fail("zensical is not installed: `pip install -e '.[dev]'` installs it")
    guide = (DOCS / "guide" / "plugin.md").read_text()
    section = guide[guide.index("## The fence without the plugin") :]
    (config,) = [m["body"] for m in FENCE.finditer(section) if m["name"] == "yaml"][:1]
    setup = fences(DOCS / "guide" / "plugin.md", "sh")
    (copy_commands,) = [b for b in setup if "tex-svg-full.js docs/javascripts" in b]

    (tmp_path / "diagrams").mkdir()
    shutil.copy(DIAGRAMS / "xor.yaml", tmp_path / "diagrams")
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    (tmp_path / "mkdocs.yml").write_text("site_name: Mine\ntheme:\n  name: material\n" + config)
    for argv, _ in _commands(copy_commands):
        if argv[0] == "mkdir":
            (tmp_path / argv[-1]).mkdir(parents=True)
        elif argv[0] == "cp":
            shutil.copy(tmp_path / argv[1], tmp_path / argv[2])
        else:
            assert argv[0] == "python" and argv[-2] == ">", argv
            out = subprocess.run(
                [sys.executable, *argv[1:-2]], capture_output=True, text=True, check=True
            )
            (tmp_path / argv[-1]).write_text(out.stdout)
    (tmp_path / "docs" / "index.md").write_text(
        "# Mine\n\n```nndiagram\nspec: diagrams/xor.yaml\n```\n\n```activation\ntanh\n```\n\n"
        "```derivation\nsymbols:\n  A: [2, 2]\n  x: [2, 1]\nsteps:\n  - A*(x + x)\n"
        "  - A*x + A*x\n```\n"
    )
    done = subprocess.run(
        [str(zensical), "build", "--strict"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert 'nndiagram-dark"><svg' in page and "measured error" in page
    assert '<svg class="nndiagram-plot"' in page
    assert 'data-holds="true"' in page
    assert re.search(r'<script src="[^"]*javascripts/tex-svg-full\.js"', page)
    assert "window.MathJax" in (tmp_path / "site" / "javascripts" / "mathjax-config.js").read_text()


def test_spec_guide_lists_every_custom_activation_function() -> None:
    from nndiagram.expressions import FUNCTIONS

    guide = (DOCS / "guide" / "spec-format.md").read_text()
    listed = re.search(r"functions (.*?)\.\n", guide, re.DOTALL)
    assert listed
    assert set(re.findall(r"`(\w+)`", listed[1])) == set(FUNCTIONS)


def test_run_all_collects_each_scripts_output_without_the_blas_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    assert spec and spec.loader
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    script = (
        "import os\nprint('| n | ms |')\nprint('| 1 |', os.environ.get('OPENBLAS_CORETYPE'), '|')\n"
    )
    (tmp_path / "bench_numeric.py").write_text(script)
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    results = tmp_path / "RESULTS.md"
    assert run_all.main(["-o", str(results), "bench_numeric.py"]) == 0
    text = results.read_text()
    assert "| 1 | None |" in text  # the variable was removed for the benchmark process only
    assert "### Numbers" in text and "```text" in text
    assert "bench_site.py" not in text  # only the script asked for
    (tmp_path / "bench_numeric.py").write_text("raise SystemExit(3)\n")
    assert run_all.main(["-o", str(results), "bench_numeric.py"]) == 1
    assert "failed with exit code 3" in results.read_text()


def test_a_partial_benchmark_run_leaves_the_results_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    assert spec and spec.loader
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    (tmp_path / "bench_spec.py").write_text("print('| spec | 1 ms |')\n")
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setattr(run_all, "RESULTS", tmp_path / "RESULTS.md")
    assert run_all.main(["bench_spec.py"]) == 0
    assert "| spec | 1 ms |" in capsys.readouterr().out
    assert not (tmp_path / "RESULTS.md").exists()
