"""A hostile spec and derivation in a real site, in a real browser, after MathJax has run.

The same project is built twice: with the plugin's MathJax (its configuration turns the html,
require and autoload packages off) and with a site's own MathJax that processes every page in
full with every package (a site may load MathJax any way it likes; the plugin then leaves it
alone). In every built page, once MathJax has typeset it, no element may carry a
``javascript:``/``data:``/``vbscript:`` URL, an ``on*`` handler, a style with a URL, or an id
a spec chose: user text reaches pages with its TeX link, id, class, style and loading macros
made inert (``quoting.inert_tex``), whatever MathJax the site loads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.site, pytest.mark.exe, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Debian chromium not installed (run `make test`)", allow_module_level=True)
playwright_sync = pytest.importorskip("playwright.sync_api")

# Each macro that can make a link, id, class or style, or load code, written the ways a
# description can hide it: plain, after \require, as an HTML entity, through a Markdown
# escape (\\ becomes \), and MathJax's base \mmlToken, which even the plugin's MathJax obeys.
MACROS = [
    r"$\href{javascript:alert(11)}{a}$",
    r"$\require{html}\href{javascript:alert(12)}{b}$",
    r'$\class{x" onclick="alert(13)}{c}$',
    r"$\style{background:url(javascript:alert(14))}{d}$",
    r"$\cssId{evil-id}{e}$",
    r"$\mmlToken{mi}[href='javascript:alert(15)']{f}$",
    r"$\bbox[background:url(javascript:alert(16))]{g}$",
    r"$\unicode{x41}$ and $w_0 x_0$",
    r"&#92;(&#92;href{javascript:alert(17)}{h}&#92;)",
    r"\\(\\href{data:text/html,alert(18)}{i}\\)",
    r"\(\href{javascript:alert(19)}{k}\)",
]
SPEC = {
    "title": r"Title \(\href{javascript:alert(20)}{t}\) \(\cssId{evil-title}{u}\)",
    "description": "\n\n".join(MACROS),
    "inputs": 2,
    "layers": [{"units": 2, "activation": "relu"}, {"units": 1, "activation": "sigmoid"}],
}
DERIVATION = r"""```derivation
title: 'Steps \(\href{javascript:alert(21)}{x}\)'
symbols:
  W: {shape: [1, 2], latex: '\href{javascript:alert(22)}{W}\cssId{evil-symbol}{}'}
  x: {shape: [2, 1], latex: '\mmlToken{mi}[href="javascript:alert(23)"]{x}'}
steps:
  - W*x
  - expr: W*x
    why: '\(\style{background:url(javascript:alert(24))}{why}\)'
```
"""
MATHJAX = ROOT / "node_modules" / "mathjax" / "es5" / "tex-svg-full.js"
# A site's own MathJax: every text node of the page, $…$ too, every package of the full build.
SITE_MATHJAX_CONFIG = """window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]],
        processEscapes: true, processEnvironments: true},
};
"""
LIVE = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const value = attr.value.replace(/[\\u0000-\\u0020]+/g, '').toLowerCase();
      if (attr.name.startsWith('on') ||
          /^(javascript|data|vbscript):/.test(value) ||
          (attr.name === 'style' && /url\\(|javascript:/.test(value)) ||
          (attr.name === 'id' && value.startsWith('evil'))) {
        found.push(`<${el.tagName.toLowerCase()} ${attr.name}="${attr.value}">`);
      }
    }
  }
  return found;
}"""


# The explorer (issue 18) at work: every linked part of the figure and every linked typeset
# symbol pointed at, every step taken; its tooltips must stay text.
EXPLORE = """() => {
  const over = el => el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  document.querySelectorAll('.nndiagram-svg g.nnd-link').forEach(over);
  document.querySelectorAll('mjx-container [class*="nnd-"]').forEach(over);
  document.querySelectorAll('button.nnd-next').forEach(b => { b.click(); b.click(); });
  return [...document.querySelectorAll('.nnd-tip')].map(t => t.children.length);
}"""


def _project(folder: Path, own_mathjax: bool) -> Path:
    (folder / "docs").mkdir(parents=True)
    (folder / "diagrams").mkdir()
    (folder / "diagrams" / "evil.json").write_text(json.dumps(SPEC), encoding="utf-8")
    inline = "\n".join(f"{key}: {json.dumps(value)}" for key, value in SPEC.items())
    (folder / "docs" / "index.md").write_text(
        f"# Home\n\n```nndiagram\n{inline}\ninclude: [diagram, equations]\n```\n\n{DERIVATION}",
        encoding="utf-8",
    )
    config = "site_name: hostile\ntheme:\n  name: material\n  font: false\n"
    config += "plugins:\n  - search\n  - nndiagram\n"
    if own_mathjax:
        (folder / "docs" / "js").mkdir()
        (folder / "docs" / "js" / "config.js").write_text(SITE_MATHJAX_CONFIG, encoding="utf-8")
        shutil.copy(MATHJAX, folder / "docs" / "js" / "mathjax.js")
        config += "extra_javascript:\n  - js/config.js\n  - js/mathjax.js\n"
    (folder / "mkdocs.yml").write_text(config, encoding="utf-8")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "nndiagram"), "build"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CI": "1", "NNDIAGRAM_MATHJAX": str(MATHJAX)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "site"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.mark.parametrize("own_mathjax", [False, True], ids=["plugin-mathjax", "site-mathjax"])
def test_no_built_page_has_a_live_url_after_mathjax_ran(
    own_mathjax: bool, browser: Any, tmp_path: Path
) -> None:
    if not MATHJAX.is_file():
        pytest.skip("needs node_modules/mathjax (npm ci)")
    site = _project(tmp_path / "project", own_mathjax)
    # 404.html links its scripts from the server root, which a file: URL cannot serve.
    pages = sorted(p for p in site.rglob("*.html") if p.name != "404.html")
    assert {p.relative_to(site).as_posix() for p in pages} >= {
        "index.html",
        "gallery/index.html",
        "gallery/evil/index.html",
    }
    context = browser.new_context()
    # Nothing leaves the machine: MathJax must be the local copy, or the test says so.
    outside: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file:")
            else (outside.append(route.request.url), route.abort())
        ),
    )
    typeset = explored = 0
    try:
        page = context.new_page()
        for path in pages:
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_function("() => window.MathJax && window.MathJax.startup", timeout=30_000)
            page.evaluate("() => MathJax.startup.promise")
            found = page.evaluate(LIVE)
            assert found == [], (path.relative_to(site).as_posix(), found)
            if page.evaluate("() => !!document.querySelector('.nndiagram-svg g.nnd-link')"):
                page.wait_for_selector(".nnd-steps", timeout=30_000)
                assert set(page.evaluate(EXPLORE)) <= {0}  # tooltips hold text, no element
                found = page.evaluate(LIVE)
                assert found == [], (path.relative_to(site).as_posix(), "explored", found)
                explored += 1
            typeset += page.evaluate("() => document.querySelectorAll('mjx-container').length")
    finally:
        context.close()
    assert outside == []
    assert typeset >= 2 * len(MACROS)  # MathJax ran on the gallery page and the home page
    assert explored >= 2  # the explorer ran on the gallery page and the home page
