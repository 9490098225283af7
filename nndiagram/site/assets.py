"""MathJax for offline math: the local ``tex-svg-full.js`` from npm, and its configuration.

MathJax is installed by ``npm ci`` into the project's ``node_modules`` and copied into the built
site; it is never committed. When the local copy is missing the plugin falls back to the CDN
and says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

ASSET_DIR = "assets/nndiagram"
MATHJAX_FILE = "tex-svg-full.js"
MATHJAX_PACKAGE_PATH = Path("node_modules/mathjax/es5") / MATHJAX_FILE
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg-full.js"
CONFIG_FILE = "mathjax-config.js"

# pymdownx.arithmatex (generic) wraps math in .arithmatex with \( \) and \[ \]; MathJax is told
# to look only there. Material's instant navigation swaps the page without reloading scripts,
# so every new document$ is typeset again, queued behind any typesetting still running. The
# first document$ comes before MathJax has loaded; MathJax typesets that page by itself.
# Spec descriptions are untrusted and may hold math: the html package (\href, \class, \style,
# \cssId) would turn $\href{javascript:…}{x}$ into a live link; require/autoload could load it.
# The one \class left (package nndclass) accepts only nndiagram's link names, nnd-w-1-0-2.
MATHJAX_CONFIG_JS = """\
// nndiagram: MathJax 3 configuration for pymdownx.arithmatex (generic mode).
window.MathJax = {
  tex: {
    inlineMath: [["\\\\(", "\\\\)"]],
    displayMath: [["\\\\[", "\\\\]"]],
    processEscapes: true,
    processEnvironments: true,
    packages: { "[-]": ["html", "require", "autoload"], "[+]": ["nndclass"] }
  },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" },
  svg: { fontCache: "local" },
  startup: {
    // nndiagram links its own symbols to the figure with \\class{nnd-...}{...}: this \\class
    // takes only such names (the html package, which takes any, stays off).
    ready: function () {
      try {
        var tex = MathJax._.input.tex;
        var Class = tex.html.HtmlMethods.default.Class;
        new tex.SymbolMap.CommandMap("nndclass", { "class": "NndClass" }, {
          NndClass: function (parser, name) {
            var at = parser.i;
            if (/^nnd-[a-z]+(-[0-9]+)+$/.test(parser.GetArgument(name))) {
              parser.i = at;
              Class(parser, name);
            } else {
              parser.Push(parser.ParseArg(name)); // any other class: the math, no class
            }
          }
        });
        tex.Configuration.Configuration.create("nndclass", { handler: { macro: ["nndclass"] } });
      } catch (error) {
        MathJax.config.tex.packages["[+]"] = []; // an unknown MathJax: no \\class at all
      }
      MathJax.startup.defaultReady();
    }
  }
};
(function () {
  function retypeset() {
    var mathjax = window.MathJax;
    if (!mathjax || !mathjax.startup || !mathjax.startup.promise || !mathjax.typesetPromise) {
      return;
    }
    mathjax.startup.promise = mathjax.startup.promise.then(function () {
      if (mathjax.startup.output && mathjax.startup.output.clearCache) {
        mathjax.startup.output.clearCache();
      }
      mathjax.typesetClear();
      mathjax.texReset();
      return mathjax.typesetPromise();
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(retypeset);
  }
})();
"""


def find_mathjax(starts: Iterable[Path]) -> Path | None:
    """``node_modules/mathjax/es5/tex-svg-full.js`` in a start folder or one of its parents
    (npm's own lookup), or ``$NNDIAGRAM_MATHJAX`` when it names the file."""
    override = os.environ.get("NNDIAGRAM_MATHJAX")
    if override:
        path = Path(override)
        return path if path.is_file() else None
    for start in starts:
        for folder in (start.resolve(), *start.resolve().parents):
            candidate = folder / MATHJAX_PACKAGE_PATH
            if candidate.is_file():
                return candidate
    return None


MATHJAX_MISSING = (
    "MathJax 3 was not found (node_modules/mathjax/es5/tex-svg-full.js beside mkdocs.yml or "
    "above it): run `npm install mathjax@3` there, or point NNDIAGRAM_MATHJAX at a "
    "tex-svg-full.js"
)


def mentions_katex(scripts: Iterable[object]) -> bool:
    """Whether the site renders math with KaTeX (then the plugin adds no MathJax)."""
    return any("katex" in str(script).lower() for script in scripts)


def mentions_mathjax(scripts: Iterable[object]) -> bool:
    """Whether the site already loads MathJax (then the plugin leaves math alone)."""
    return any("mathjax" in str(script).lower() for script in scripts)
