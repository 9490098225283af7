"""The MkDocs plugin as a user site uses it: `theme: material`, `plugins: [search, nndiagram]`.

Every build here is a real `mkdocs build` / `nndiagram build` subprocess on a throwaway project.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CONSOLE_SCRIPT, DIAGRAMS, ROOT, RunCli

from nndiagram.output import write_atomic

pytestmark = [pytest.mark.exe, pytest.mark.site, pytest.mark.slow]

MKDOCS = Path(sys.executable).parent / "mkdocs"
USER_CONFIG = "site_name: My site\ntheme: material\nplugins: [search, nndiagram]\n"

PAGE = """\
# Networks

Some text with math $a = g(z)$.

```nndiagram
spec: diagrams/xor.yaml
include: [diagram, equations, check]
```

```nndiagram
title: Inline
inputs: 2
layers:
  - units: 1
```
"""

HOSTILE_SPEC = """\
title: "<script>alert('title')</script>"
description: |
  <img src=x onerror="alert('img')"> <script>alert('desc')</script>
  [click](javascript:alert('link'))
inputs: 2
layers:
  - units: 1
"""


def make_project(
    root: Path,
    page: str = PAGE,
    config: str = USER_CONFIG,
    specs: tuple[str, ...] = ("xor.yaml", "neuron.yaml"),
    mathjax: bool = True,
) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "diagrams").mkdir()
    for name in specs:
        shutil.copy(DIAGRAMS / name, root / "diagrams" / name)
    (root / "docs" / "index.md").write_text(page)
    (root / "mkdocs.yml").write_text(config)
    if mathjax:  # as `npm ci` would have installed it in the project
        (root / "node_modules").symlink_to(ROOT / "node_modules")
    return root


def mkdocs(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MKDOCS), "build", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"},
    )


def test_user_site_builds_strict_with_diagrams_math_and_mathjax(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    done = mkdocs(project, "--strict")
    assert done.returncode == 0, done.stderr
    html = (project / "site" / "index.html").read_text()
    assert len(re.findall(r'<div class="nndiagram-svg nndiagram-light"><svg', html)) == 2
    assert len(re.findall(r'<div class="nndiagram-svg nndiagram-dark"><svg', html)) == 2
    assert re.search(r'<div class="arithmatex">\\\[.*?\\\]</div>', html)  # fence equations
    assert '<span class="arithmatex">\\(a = g(z)\\)</span>' in html  # arithmatex was added
    assert "measured error" in html
    # MathJax: the local copy and the re-typeset config, in that order, copied into the site
    scripts = re.findall(r'<script src="([^"]+)"', html)
    config_js, mathjax_js = "assets/nndiagram/mathjax-config.js", "assets/nndiagram/tex-svg-full.js"
    assert scripts.index(config_js) < scripts.index(mathjax_js)
    copied = project / "site" / mathjax_js
    assert copied.read_bytes() == (ROOT / "node_modules/mathjax/es5/tex-svg-full.js").read_bytes()
    assert "document$.subscribe" in (project / "site" / config_js).read_text()
    # the gallery: one page per spec, SVG files beside them, an index
    gallery = project / "site" / "gallery"
    assert {"xor", "neuron"} <= {p.name for p in gallery.iterdir() if p.is_dir()}
    xor = (gallery / "xor" / "index.html").read_text()
    assert "<svg" in xor and 'class="arithmatex"' in xor and "activation: sigmoid" in xor
    assert (gallery / "xor.dark.svg").read_text().startswith("<svg")
    assert 'href="xor/"' in (gallery / "index.html").read_text()


def test_spec_html_cannot_reach_the_page(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", specs=())
    (project / "diagrams" / "hostile.yaml").write_text(HOSTILE_SPEC)
    (project / "docs" / "index.md").write_text(
        "# Hi\n\n```nndiagram\nspec: diagrams/hostile.yaml\n```\n"
    )
    done = mkdocs(project, "--strict")
    assert done.returncode == 0, done.stderr
    for page in (project / "site").rglob("*.html"):
        html = page.read_text()
        assert not re.search(r"<script[^>]*>\s*alert", html), page
        assert not re.search(r"<img[^>]*\sonerror", html), page  # shown as text only
        assert 'href="javascript:' not in html, page
    gallery = (project / "site" / "gallery" / "hostile" / "index.html").read_text()
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in gallery


def test_spec_error_fails_the_build_with_file_and_line(tmp_path: Path) -> None:
    page = "# Title\n\nText.\n\n```nndiagram\ninputs: 2\nlayers:\n  - units: 0\n```\n"
    project = make_project(tmp_path / "project", page=page, specs=())
    done = mkdocs(project)
    assert done.returncode != 0
    assert re.search(r"docs/index\.md:8:\d+: error: layers\[0\]\.units", done.stderr)
    assert "Traceback" not in done.stderr  # a PluginError, reported in one line


def test_bad_gallery_spec_fails_the_build_with_its_line(tmp_path: Path, run_cli: RunCli) -> None:
    project = make_project(tmp_path / "project", page="# Hi\n")
    (project / "diagrams" / "broken.yaml").write_text("inputs: 2\nlayers:\n  - units: two\n")
    done = run_cli("build", cwd=project)
    assert done.returncode == 1
    assert "diagrams/broken.yaml:3:" in done.stderr


def test_existing_superfences_config_is_extended(tmp_path: Path) -> None:
    config = USER_CONFIG + (
        "markdown_extensions:\n"
        "  - pymdownx.superfences:\n"
        "      custom_fences:\n"
        "        - {name: mermaid, class: mermaid}\n"
    )
    project = make_project(tmp_path / "project", config=config)
    done = mkdocs(project, "--strict")
    assert done.returncode == 0, done.stderr
    assert "<svg" in (project / "site" / "index.html").read_text()


def test_missing_mathjax_falls_back_to_the_cdn_without_failing_strict(tmp_path: Path) -> None:
    # mathjax: auto (the default): a new site builds --strict; the fallback is said, as info.
    project = make_project(tmp_path / "project", mathjax=False)
    done = mkdocs(project, "--strict")
    assert done.returncode == 0, done.stderr
    assert "MathJax 3 was not found" in done.stderr and "npm install mathjax@3" in done.stderr
    assert "NNDIAGRAM_MATHJAX" in done.stderr and "`mathjax: cdn`" in done.stderr
    assert "npm ci" not in done.stderr
    assert (
        "cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg-full.js"
        in (project / "site" / "index.html").read_text()
    )


def test_mathjax_local_without_a_local_copy_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    config = USER_CONFIG.replace("[search, nndiagram]", "[search, {nndiagram: {mathjax: local}}]")
    project = make_project(tmp_path / "project", config=config, mathjax=False)
    done = mkdocs(project)
    assert done.returncode != 0
    assert "mathjax: local, but MathJax 3 was not found" in done.stderr
    assert "npm install mathjax@3" in done.stderr and "Traceback" not in done.stderr
    assert not (project / "site" / "index.html").exists()


def test_a_katex_site_is_left_alone(tmp_path: Path) -> None:
    config = USER_CONFIG + "extra_javascript:\n  - https://cdn.example.org/katex.min.js\n"
    project = make_project(tmp_path / "project", config=config, mathjax=False)
    done = mkdocs(project, "--strict")
    assert done.returncode == 0, done.stderr
    assert "the site loads KaTeX" in done.stderr
    assert "mathjax" not in (project / "site" / "index.html").read_text().lower()


def test_cost_and_backprop_fences_work_in_a_user_site(tmp_path: Path) -> None:
    page = (
        "# Fences\n\n```cost\nmse bce\n```\n\n"
        "```backprop\nsizes: [2, 1]\nactivations: [sigmoid]\nloss: bce\n```\n"
    )
    project = make_project(tmp_path / "project", page=page)
    done = mkdocs(project, "--strict")
    assert done.returncode == 0, done.stderr
    html = (project / "site" / "index.html").read_text()
    assert 'class="nndiagram-cost' in html or "nndiagram-cost" in html
    assert "nndiagram-backprop" in html
    assert "<code>sizes:" not in html and "language-backprop" not in html  # not a code block


def test_second_build_renders_nothing(tmp_path: Path, run_cli: RunCli) -> None:
    project = make_project(tmp_path / "project")
    assert run_cli("build", "--strict", cwd=project).returncode == 0
    cache = project / ".nndiagram-cache"
    entries = {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")}
    # Bundles: xor, neuron (gallery and fence share xor) and the inline spec; and the HTML of
    # the page's two fences.
    assert len(entries) == 5
    first = (project / "site" / "index.html").read_text()
    assert run_cli("build", "--strict", cwd=project).returncode == 0
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")} == entries
    assert (project / "site" / "index.html").read_text() == first
    # one spec changed: exactly one new bundle, and the new HTML of the fence that shows it
    xor = project / "diagrams" / "xor.yaml"
    xor.write_text(xor.read_text().replace("title: XOR", "title: XOR, again"))
    assert run_cli("build", "--strict", cwd=project).returncode == 0
    after = {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")}
    new = [json.loads(p.read_text()) for p in set(after) - set(entries)]
    assert sorted("html" in entry for entry in new) == [False, True], new
    assert all(after[p] == entries[p] for p in entries)


SLOW_HOOK = """\
import os, pathlib, time

def on_post_build(config):
    if os.environ.get("SLOW_BUILD"):
        pathlib.Path(config.config_file_path).parent.joinpath("built.marker").touch()
        time.sleep(120)
"""


def test_killed_or_failed_build_leaves_the_old_site(tmp_path: Path, run_cli: RunCli) -> None:
    project = make_project(tmp_path / "project", page="# First version\n")
    (project / "slow.py").write_text(SLOW_HOOK)
    (project / "mkdocs.yml").write_text(USER_CONFIG + "hooks: [slow.py]\n")
    assert run_cli("build", cwd=project).returncode == 0
    index = project / "site" / "index.html"
    old = index.read_text()
    assert "First version" in old

    (project / "docs" / "index.md").write_text("# Second version\n")
    env = {**os.environ, "SLOW_BUILD": "1", "CI": "1"}
    process = subprocess.Popen([str(CONSOLE_SCRIPT), "build"], cwd=project, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (project / "built.marker").exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)  # the new site is complete but not swapped in
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert index.read_text() == old

    (project / "docs" / "index.md").write_text("```nndiagram\ninputs: 0\n```\n")
    failed = run_cli("build", cwd=project)
    assert failed.returncode == 1
    assert index.read_text() == old
    assert not list(project.glob(".site.*"))  # the failed build cleaned up after itself

    (project / "docs" / "index.md").write_text("# Third version\n")
    assert run_cli("build", cwd=project).returncode == 0
    assert "Third version" in index.read_text()
    assert not list(project.glob(".site.*"))  # the killed build's leftovers are gone


def test_progress_in_a_terminal_quiet_in_ci(tmp_path: Path) -> None:
    import pty

    project = make_project(tmp_path / "project", specs=("xor.yaml",))

    def run(env: dict[str, str]) -> str:
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "build"],
            cwd=project,
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=env,
        )
        os.close(follower)
        chunks = []
        with contextlib.suppress(OSError):  # EIO once the build has exited and all is read
            while chunk := os.read(leader, 65536):  # read as it comes: a full pty blocks
                chunks.append(chunk)
        os.close(leader)
        assert process.wait(timeout=300) == 0
        return b"".join(chunks).decode("utf-8", "replace")

    terminal = {k: v for k, v in os.environ.items() if k != "CI"} | {"TERM": "xterm"}
    shown = run(terminal)
    assert "rendering pages" in shown and re.search(r"built .*site in [\d.]+ s", shown)
    assert run({**os.environ, "CI": "true"}).strip() == ""


def test_serve_rebuilds_when_a_spec_changes(tmp_path: Path) -> None:
    import socket
    import urllib.request

    project = make_project(tmp_path / "project", specs=("xor.yaml",))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path / "serve.log").open("w")
    command = [str(CONSOLE_SCRIPT), "serve", "-a", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, cwd=project, stdout=log, stderr=subprocess.STDOUT)

    def page(path: str, needle: str) -> str:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            with contextlib.suppress(OSError):
                url = f"http://127.0.0.1:{port}/{path}"
                with urllib.request.urlopen(url, timeout=10) as response:
                    text: str = response.read().decode()
                if needle in text:
                    return text
            time.sleep(0.5)
        log_text = (tmp_path / "serve.log").read_text()[-3000:]
        raise AssertionError(f"{needle!r} never appeared at /{path}; the server said:\n{log_text}")

    try:
        assert "<svg" in page("", "nndiagram-light")
        assert "XOR" in page("gallery/xor/", "<svg")
        spec = project / "diagrams" / "xor.yaml"
        # atomically, as an editor saves: no rebuild may catch the file half-written
        write_atomic(spec, spec.read_text().replace("title: XOR", "title: Exclusive or"))
        page("gallery/xor/", "Exclusive or")  # the specs folder is watched
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def test_strict_comes_from_the_flag_or_the_config(tmp_path: Path, run_cli: RunCli) -> None:
    project = make_project(tmp_path / "project", page="# Hi\n\n[broken](missing.md)\n", specs=())
    assert run_cli("build", cwd=project).returncode == 0  # a warning, not an error
    strict = run_cli("build", "--strict", cwd=project)
    assert strict.returncode == 1
    assert "missing.md" in strict.stderr and "build failed" in strict.stderr
    (project / "mkdocs.yml").write_text(USER_CONFIG + "strict: true\n")
    assert run_cli("build", cwd=project).returncode == 1


def test_a_site_with_its_own_mathjax_keeps_it(tmp_path: Path) -> None:
    config = (
        USER_CONFIG + "extra_javascript:\n  - js/mathjax-setup.js\n  - js/MathJax/tex-chtml.js\n"
    )
    project = make_project(tmp_path / "project", page="# Hi\n\n$x$\n", specs=())
    (project / "mkdocs.yml").write_text(config)
    (project / "docs" / "js" / "MathJax").mkdir(parents=True)
    (project / "docs" / "js" / "mathjax-setup.js").write_text("// the site's own\n")
    (project / "docs" / "js" / "MathJax" / "tex-chtml.js").write_text("// the site's own\n")
    done = mkdocs(project, "--strict")
    assert done.returncode == 0, done.stderr
    html = (project / "site" / "index.html").read_text()
    assert "js/MathJax/tex-chtml.js" in html
    assert "mathjax-config.js" not in html and "tex-svg-full.js" not in html
    assert not (project / "site" / "assets" / "nndiagram" / "tex-svg-full.js").exists()
    assert "assets/nndiagram/nndiagram-explore.js" in html  # the explorer is not MathJax


def test_cache_folders_of_other_versions_are_removed(tmp_path: Path, run_cli: RunCli) -> None:
    project = make_project(tmp_path / "project", page="# Hi\n", specs=("neuron.yaml",))
    cache = project / ".nndiagram-cache"
    old = cache / "v1-0123456789ab-abcdef" / "00" / "00.json"
    old.parent.mkdir(parents=True)
    old.write_text("{}")
    unrelated = cache / "notes"
    unrelated.mkdir()
    assert run_cli("build", cwd=project).returncode == 0
    folders = {p.name for p in cache.iterdir()}
    assert "v1-0123456789ab-abcdef" not in folders and "notes" in folders
    assert len(folders) == 2 and len(list(cache.rglob("*.json"))) == 1  # neuron, current version


@pytest.mark.parametrize("command", ["build", "serve"])
def test_missing_config_file_is_a_usage_error(
    tmp_path: Path, run_cli: RunCli, command: str
) -> None:
    done = run_cli(command, "-f", "nowhere.yml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("config file not found: nowhere.yml (run in your site")
    assert len(done.stderr.strip().splitlines()) == 1


def test_fences_of_other_stages_registered_by_the_site_are_cached(
    tmp_path: Path, run_cli: RunCli
) -> None:
    config = USER_CONFIG + (
        "markdown_extensions:\n"
        "  - pymdownx.superfences:\n"
        "      custom_fences:\n"
        "        - name: activation\n"
        "          class: nndiagram-activation\n"
        "          format: !!python/name:nndiagram.site.plots.activation_fence_format\n"
    )
    project = make_project(tmp_path / "project", page="# g\n\n```activation\ntanh\n```\n")
    (project / "mkdocs.yml").write_text(config)
    (project / "diagrams" / "xor.yaml").unlink()
    (project / "diagrams" / "neuron.yaml").unlink()
    assert run_cli("build", "--strict", cwd=project).returncode == 0
    cache = project / ".nndiagram-cache"
    entries = {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")}
    pages = [p for p in entries if '"html"' in p.read_text()]
    assert len(pages) >= 1 and "<svg" in pages[0].read_text()
    assert "<svg" in (project / "site" / "index.html").read_text()
    assert run_cli("build", "--strict", cwd=project).returncode == 0
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")} == entries


def test_false_derivation_fails_the_build_with_page_line_and_counterexample(
    tmp_path: Path,
) -> None:
    page = (
        "# Title\n\nText.\n\n```derivation\nsymbols: {x: []}\nsteps:\n  - relu(x*x - 4)\n"
        "  - 0\n```\n"
    )
    project = make_project(tmp_path / "project", page=page, specs=())
    done = mkdocs(project)
    assert done.returncode != 0
    assert re.search(
        r"docs/index\.md:9: derivation fence: step 2 \(0, line 4 of the fence\)", done.stderr
    )
    assert re.search(
        r"does not hold: at x = -?\d+, step 1 gives \d+ but step 2 gives 0", done.stderr
    )
    assert "Traceback" not in done.stderr
