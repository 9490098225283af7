"""The fence and the generated gallery without the plugin, under every generator that installs
here: MkDocs 1.6, ProperDocs and Zensical all build the same user site from `mkdocs.yml`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DIAGRAMS, ROOT, RunCli

pytestmark = [pytest.mark.exe, pytest.mark.site, pytest.mark.slow]

BIN = Path(sys.executable).parent
GENERATORS = {
    "mkdocs": [str(BIN / "mkdocs"), "build", "--strict"],
    "properdocs": [str(BIN / "properdocs"), "build", "--strict"],
    "zensical": [str(BIN / "zensical"), "build", "--strict"],
}

# The fence as a plain superfences custom fence, MathJax from the project's node_modules
# copied into docs/ (no plugin to copy it): what the guide tells users of other generators.
FENCE_CONFIG = """\
site_name: No plugin
theme:
  name: material
markdown_extensions:
  - pymdownx.arithmatex:
      generic: true
  - pymdownx.superfences:
      custom_fences:
        - name: nndiagram
          class: nndiagram
          format: !!python/name:nndiagram.site.fence.fence_format
          validator: !!python/name:nndiagram.site.fence.fence_validator
extra_javascript:
  - javascripts/mathjax-config.js
  - javascripts/tex-svg-full.js
"""

PAGE = """\
# Networks

Inline math $a = g(z)$.

```nndiagram
spec: diagrams/xor.yaml
```

```nndiagram
title: Inline spec
inputs: 2
layers:
  - units: 1
include: [diagram, equations]
```
"""


def available(name: str) -> bool:
    return Path(GENERATORS[name][0]).exists()


def make_site(root: Path, page: str = PAGE) -> Path:
    from nndiagram.site.assets import MATHJAX_CONFIG_JS

    (root / "docs" / "javascripts").mkdir(parents=True)
    (root / "diagrams").mkdir()
    shutil.copy(DIAGRAMS / "xor.yaml", root / "diagrams")
    (root / "docs" / "index.md").write_text(page)
    (root / "docs" / "javascripts" / "mathjax-config.js").write_text(MATHJAX_CONFIG_JS)
    mathjax = ROOT / "node_modules" / "mathjax" / "es5" / "tex-svg-full.js"
    shutil.copy(mathjax, root / "docs" / "javascripts")
    (root / "mkdocs.yml").write_text(FENCE_CONFIG)
    return root


def build(generator: str, project: Path) -> subprocess.CompletedProcess[str]:
    if not available(generator):
        pytest.fail(f"{generator} is not installed: `pip install -e '.[dev]'` installs it")
    return subprocess.run(
        GENERATORS[generator],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DISABLE_MKDOCS_2_WARNING": "true"},
    )


def page_html(project: Path, page: str = "index.html") -> str:
    return (project / "site" / page).read_text()


@pytest.mark.parametrize("generator", list(GENERATORS))
def test_fence_without_plugin(tmp_path: Path, generator: str) -> None:
    project = make_site(tmp_path / "site-project")
    done = build(generator, project)
    assert done.returncode == 0, done.stdout + done.stderr
    html = page_html(project)
    assert len(re.findall(r'nndiagram-light"><svg', html)) == 2
    assert len(re.findall(r'nndiagram-dark"><svg', html)) == 2
    assert re.search(r'<div class="arithmatex">\\\[.*?\\\]</div>', html)
    assert "measured error" in html  # xor's check report
    assert re.search(r'<script src="[^"]*javascripts/tex-svg-full\.js"', html)


@pytest.mark.parametrize("generator", list(GENERATORS))
def test_fence_error_fails_the_build(tmp_path: Path, generator: str) -> None:
    page = "# Bad\n\n```nndiagram\ninputs: 2\nlayers:\n  - units: 0\n```\n"
    project = make_site(tmp_path / "site-project", page=page)
    done = build(generator, project)
    assert done.returncode != 0
    assert re.search(r"docs/index\.md:6:\d+: error: layers\[0\]\.units", done.stdout + done.stderr)


@pytest.mark.parametrize("generator", list(GENERATORS))
def test_generated_gallery_builds(tmp_path: Path, generator: str, run_cli: RunCli) -> None:
    project = make_site(tmp_path / "site-project", page="# Home\n\n[Gallery](gallery/index.md)\n")
    shutil.copy(DIAGRAMS / "neuron.yaml", project / "diagrams")
    made = run_cli("generate", "diagrams", "-o", "docs/gallery", cwd=project)
    assert made.returncode == 0, made.stderr
    # no fence and no plugin needed: the pages are self-contained
    config = re.sub(
        r"  - pymdownx.superfences:.*?(?=extra_javascript)", "", FENCE_CONFIG, flags=re.S
    )
    assert "nndiagram" not in config
    (project / "mkdocs.yml").write_text(config)
    done = build(generator, project)
    assert done.returncode == 0, done.stdout + done.stderr
    xor = page_html(project, "gallery/xor/index.html")
    assert xor.count("<svg") >= 2 and '<div class="arithmatex">\\[' in xor
    assert re.search(r'href="(\.\./)?xor\.light\.svg"', xor)
    assert (project / "site" / "gallery" / "xor.light.svg").is_file()
    assert "XOR" in page_html(project, "gallery/index.html")


def test_plugin_under_properdocs(tmp_path: Path) -> None:
    """ProperDocs runs MkDocs plugins: `plugins: [search, nndiagram]` works there too."""
    project = make_site(tmp_path / "site-project")
    (project / "mkdocs.yml").write_text(
        "site_name: With plugin\ntheme: material\nplugins: [search, nndiagram]\n"
    )
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    done = build("properdocs", project)
    assert done.returncode == 0, done.stdout + done.stderr
    html = page_html(project)
    assert html.count("nndiagram-dark") >= 2 and '<div class="arithmatex">' in html
    assert "assets/nndiagram/tex-svg-full.js" in html
    assert "<svg" in page_html(project, "gallery/xor/index.html")
    (project / "docs" / "index.md").write_text(
        "```nndiagram\ninputs: 2\nlayers: [{units: 0}]\n```\n"
    )
    failed = build("properdocs", project)
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert re.search(r"docs/index\.md:3:\d+: error: layers\[0\]\.units", failed.stderr)
