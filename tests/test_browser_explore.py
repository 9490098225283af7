"""The figure and the equations as one (issue 18), in Chromium: the XOR gallery page of this
repository's site (built with the plugin). Pointing at an edge shows its tooltip and marks the
typeset symbols; pointing at a typeset symbol marks the edge; the step control walks the layers
forward and back; all of it by keyboard alone, after an instant navigation and in the dark
palette; no console error, no request off 127.0.0.1. Screenshots go to test-artifacts/.

The checks are functions so that the other generators (test_site_generators.py) and the
Jupyter HTML (test_explore.py) run the same ones.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import test_browser
from conftest import DIAGRAMS, ROOT
from test_browser import Watch, screenshot, wait_for_typesetting

import nndiagram

pytestmark = [pytest.mark.browser, pytest.mark.site, pytest.mark.exe]

# The site's browser, page and server fixtures, shared.
browser = test_browser.browser
page_and_watch = test_browser.page_and_watch
server = test_browser.server

XOR_PAGE = "gallery/xor/"
XOR_LAYERS = 2  # steps: the inputs, then each layer
TIMEOUT_MS = 30_000


def wait_ready(page: Any, expected_math: int | None = None) -> None:
    """The explorer has run and MathJax has typeset the linked symbols."""
    page.wait_for_selector(".nndiagram .nnd-steps", timeout=TIMEOUT_MS)
    if expected_math is not None:
        wait_for_typesetting(page, expected_math)
    page.wait_for_function(
        "document.querySelectorAll('.nndiagram-equations mjx-container g.nnd-w-0-0-0').length >= 2",
        timeout=TIMEOUT_MS,
    )


def point_at_edge(page: Any, link: str) -> str:
    """Move the pointer to the middle of the shown figure's edge ``link`` (a straight line:
    the middle of its box is on it); returns the edge's id."""
    where: dict[str, Any] = page.evaluate(
        """link => {
            const block = document.querySelector('.nndiagram');
            const g = [...block.querySelectorAll('.nndiagram-svg g.' + link)]
                      .find(g => g.getClientRects().length);
            const box = g.querySelector('path').getBoundingClientRect();
            return {id: g.id, x: box.x + box.width / 2, y: box.y + box.height / 2};
        }""",
        link,
    )
    page.mouse.move(where["x"], where["y"])
    return str(where["id"])


def shown_links(page: Any, css: str) -> list[str]:
    """The link classes of the shown figure's elements with class ``css`` (in the page's first
    diagram block, as in all these checks)."""
    found: list[str] = page.evaluate(
        """css => [...document.querySelector('.nndiagram')
                   .querySelectorAll('.nndiagram-svg g.' + css)]
                 .filter(g => g.getClientRects().length)
                 .map(g => [...g.classList].find(c => /^nnd-[a-z]+-\\d/.test(c)))""",
        css,
    )
    return found


def math_marked(page: Any, css: str) -> list[str]:
    found: list[str] = page.evaluate(
        """css => [...document.querySelector('.nndiagram')
                   .querySelectorAll('.nndiagram-equations mjx-container .' + css)]
                 .map(g => [...g.classList].find(c => /^nnd-[a-z]+-\\d/.test(c)))""",
        css,
    )
    return found


def tooltip(page: Any) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(
        """() => {
            const tip = [...document.querySelectorAll('[role=tooltip]')].find(t => !t.hidden);
            return tip ? {text: tip.textContent, id: tip.id,
                          shown: tip.getClientRects().length > 0} : {text: null};
        }"""
    )
    return info


def check_hover_both_ways(page: Any, name: str) -> None:
    """Edge -> tooltip and typeset symbols; typeset symbol -> edge."""
    edge = point_at_edge(page, "nnd-w-0-0-0")
    page.wait_for_function("document.querySelector('.nnd-tip:not([hidden])') !== null")
    tip = tooltip(page)
    assert tip["shown"] and "w" in tip["text"] and "z" in tip["text"], tip
    described = page.evaluate(
        "id => document.getElementById(id).getAttribute('aria-describedby')", edge
    )
    assert described == tip["id"], (described, tip)
    assert shown_links(page, "nnd-highlight") == ["nnd-w-0-0-0"]
    marked = math_marked(page, "nnd-highlight")
    assert marked and set(marked) == {"nnd-w-0-0-0"}, marked
    screenshot(page, f"{name}-edge-hover")
    page.mouse.move(0, 0)
    page.wait_for_function("document.querySelector('.nnd-tip:not([hidden])') === null")
    assert not shown_links(page, "nnd-highlight")
    # The reverse: the matrix entry w_{00} of w^[0] marks the edge it belongs to.
    entry = ".nndiagram-equations mjx-container g.nnd-w-0-0-0 >> nth=0"
    page.locator(entry).evaluate("el => el.scrollIntoView({block: 'center'})")
    page.hover(entry)
    page.wait_for_function(
        "document.querySelector('.nndiagram-svg g.nnd-w-0-0-0.nnd-highlight') !== null"
    )
    assert shown_links(page, "nnd-highlight") == ["nnd-w-0-0-0"]
    screenshot(page, f"{name}-math-hover")
    page.mouse.move(0, 0)


def active_layers(page: Any) -> set[str]:
    """The steps (``x``, ``0``, ``1``) of the shown figure's nnd-active elements."""
    return {
        "x" if link.startswith("nnd-x-") else link.split("-")[2]
        for link in shown_links(page, "nnd-active")
    }


def check_steps(page: Any, name: str, layers: int = XOR_LAYERS) -> None:
    """Next through the inputs and every layer, then previous back to the start."""
    expected = ["x", *map(str, range(layers))]
    assert not active_layers(page)
    for step in expected:
        page.click("button[aria-label='next step']")
        assert active_layers(page) == {step}, shown_links(page, "nnd-active")
        assert math_marked(page, "nnd-active"), f"no typeset symbol active at step {step}"
    assert page.get_attribute("button[aria-label='next step']", "aria-disabled") == "true"
    screenshot(page, f"{name}-last-step")
    for step in reversed(expected[:-1]):
        page.click("button[aria-label='previous step']")
        assert active_layers(page) == {step}
    page.click("button[aria-label='previous step']")
    assert not active_layers(page)


def check_keyboard(page: Any, name: str, layers: int = XOR_LAYERS) -> None:
    """Tab to a neuron or edge (tooltip and highlight), Enter, then Tab to the step control
    and walk it with Enter and the arrow keys."""
    # Tab from the top: clicking the heading (or the page) moves the focus starting point there.
    page.evaluate("window.scrollTo(0, 0)")
    if page.locator("h1").count():
        page.locator("h1").first.click(position={"x": 2, "y": 2})
    else:
        page.mouse.click(1, 1)
    page.mouse.move(0, 0)
    for _ in range(400):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('.nndiagram-svg g.nnd-link')"):
            break
    else:
        pytest.fail("Tab never reached the figure")
    page.keyboard.press("Enter")
    assert tooltip(page)["shown"]
    focused = page.evaluate("document.activeElement.getAttribute('class')")
    assert shown_links(page, "nnd-highlight"), focused
    screenshot(page, f"{name}-keyboard-focus")
    for _ in range(400):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label') === 'next step'"):
            break
    else:
        pytest.fail("Tab never reached the step control")
    page.keyboard.press("Enter")
    assert active_layers(page) == {"x"}
    for step in map(str, range(layers)):
        page.keyboard.press("ArrowRight")
        assert active_layers(page) == {step}
    for step in ["x", *map(str, range(layers - 1))][::-1]:
        page.keyboard.press("ArrowLeft")
        assert active_layers(page) == {step}
    check_keyboard_math(page, name)


def check_keyboard_math(page: Any, name: str) -> None:
    """Tab on to a typeset symbol (a matrix entry or a term): the focus shows on it, it marks
    its part of the figure and shows the tooltip that describes it (aria-describedby)."""
    focused = "document.activeElement"
    for _ in range(400):
        page.keyboard.press("Tab")
        if page.evaluate(
            f"!!{focused}.closest('mjx-container svg') && "
            f"/^nnd-[xwbzag]-\\d/.test({focused}.getAttribute('class') || '')"
        ):
            break
    else:
        pytest.fail("Tab never reached a typeset symbol")
    symbol = page.evaluate(
        f"""() => ({{link: {focused}.getAttribute('class').split(' ')[0],
                    described: {focused}.getAttribute('aria-describedby'),
                    name: {focused}.getAttribute('aria-label'),
                    role: {focused}.getAttribute('role'),
                    hidden: {focused}.closest('svg').getAttribute('aria-hidden'),
                    focusStyle: getComputedStyle({focused}).filter}})"""
    )
    tip = tooltip(page)
    assert tip["shown"] and symbol["described"] == tip["id"], (symbol, tip)
    assert symbol["name"] and symbol["role"] == "button" and symbol["hidden"] is None, symbol
    assert "drop-shadow" in symbol["focusStyle"], symbol  # visible focus, not only colour
    assert symbol["link"] in shown_links(page, "nnd-highlight"), symbol
    screenshot(page, f"{name}-keyboard-math")
    page.keyboard.press("Tab")  # on to the next symbol: the marks follow the focus
    following = page.evaluate(f"{focused}.getAttribute('class').split(' ')[0]")
    if following != symbol["link"] and re.match(r"nnd-[xwbzag]-\d", following):
        assert symbol["link"] not in shown_links(page, "nnd-highlight")


def test_xor_page_links_figure_and_equations(
    page_and_watch: tuple[Any, Watch], server: str
) -> None:
    page, _ = page_and_watch
    page.goto(server + XOR_PAGE, wait_until="load")
    wait_ready(page)
    check_hover_both_ways(page, "xor")
    check_steps(page, "xor")
    check_keyboard(page, "xor")


def test_after_instant_navigation_in_dark_mode(
    page_and_watch: tuple[Any, Watch], server: str
) -> None:
    page, _ = page_and_watch
    page.goto(server, wait_until="load")
    page.click('form[data-md-component="palette"] label[title="Switch to dark mode"]')
    page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
    page.evaluate("window.__sameDocument = true")
    page.click('nav.md-nav--primary a.md-nav__link[href$="gallery/"]')
    page.wait_for_url(re.compile(r"gallery/$"))
    page.click('article a[href$="xor/"]')
    page.wait_for_url(re.compile(re.escape(XOR_PAGE) + "$"))
    assert page.evaluate("window.__sameDocument === true"), "instant navigation was not used"
    wait_ready(page)
    assert page.evaluate("document.body.dataset.mdColorScheme") == "slate"
    check_hover_both_ways(page, "xor-dark")
    check_steps(page, "xor-dark")
    check_keyboard(page, "xor-dark")
    # The highlight is drawn in the dark palette's colour, on the dark figure.
    colour = page.evaluate(
        """() => getComputedStyle(document.querySelector(
               '.nndiagram-dark g.nnd-link.nnd-active > ellipse')).stroke"""
    )
    assert colour == "rgb(116, 192, 252)", colour


# --- the Jupyter HTML in Chromium --------------------------------------------------------------

JUPYTER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>notebook</title>
<script>window.MathJax = {{tex: {{inlineMath: [["\\\\(", "\\\\)"]],
  displayMath: [["\\\\[", "\\\\]"]]}}, svg: {{fontCache: "local"}}}};</script>
<script src="tex-svg-full.js"></script></head>
<body><div class="jp-OutputArea-output">{cell}</div></body></html>
"""


@pytest.fixture
def notebook_page(tmp_path: Path) -> Iterator[str]:
    """A page like a notebook's output area (MathJax with its default packages, as JupyterLab
    loads it) holding ``explore(xor)``'s HTML, served from 127.0.0.1."""
    from nndiagram.site.assets import find_mathjax

    mathjax = find_mathjax([ROOT])
    if mathjax is None:
        pytest.skip("MathJax not installed (npm ci)")
    (tmp_path / "tex-svg-full.js").write_bytes(mathjax.read_bytes())
    cell = nndiagram.explore(nndiagram.load_spec(DIAGRAMS / "xor.yaml"))._repr_html_()
    (tmp_path / "index.html").write_text(JUPYTER_PAGE.format(cell=cell), encoding="utf-8")
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_jupyter_html(notebook_page: str, page_and_watch: tuple[Any, Watch]) -> None:
    page, _ = page_and_watch
    page.goto(notebook_page, wait_until="load")
    wait_ready(page)
    check_hover_both_ways(page, "jupyter")
    check_steps(page, "jupyter")
    check_keyboard(page, "jupyter")


# --- the same on pages built by other generators, with the fence and no plugin ----------------


@pytest.mark.slow
@pytest.mark.parametrize("generator", ["properdocs", "zensical"])
def test_fence_page_of_other_generators(
    generator: str, tmp_path: Path, page_and_watch: tuple[Any, Watch]
) -> None:
    """The fence carries the explorer inline; ProperDocs and Zensical build the page as they
    would a user's (tests/test_site_generators.py), the first block on it is XOR."""
    from test_site_generators import build, make_site

    project = make_site(tmp_path / "project")
    config = (project / "mkdocs.yml").read_text()  # offline: no Google Fonts
    config = config.replace(
        "theme:\n  name: material\n", "theme:\n  name: material\n  font: false\n"
    )
    (project / "mkdocs.yml").write_text(config)
    done = build(generator, project)
    assert done.returncode == 0, done.stdout + done.stderr
    handler = functools.partial(_Quiet, directory=str(project / "site"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        page, _ = page_and_watch
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html", wait_until="load")
        wait_ready(page)
        check_hover_both_ways(page, generator)
        check_steps(page, generator)
        check_keyboard(page, generator)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_figure_links_to_the_equations_of_another_fence(
    page_and_watch: tuple[Any, Watch], server: str
) -> None:
    """A tutorial page shows a network's equations in one fence and its figure in a later one:
    the figure still marks the equations, and the equations the figure."""
    page, _ = page_and_watch
    page.goto(server + "tutorial/matrix-form-activations/", wait_until="load")
    page.wait_for_selector(".nnd-steps", timeout=TIMEOUT_MS)
    page.wait_for_function(
        "document.querySelectorAll('.nndiagram-equations mjx-container g.nnd-w-1-0-1').length",
        timeout=TIMEOUT_MS,
    )
    where = page.evaluate(
        """() => {
            const g = [...document.querySelectorAll('.nndiagram-svg g.nnd-w-1-0-1')]
                      .find(g => g.getClientRects().length);
            g.scrollIntoView({block: 'center'});
            const box = g.querySelector('path').getBoundingClientRect();
            return {x: box.x + box.width / 2, y: box.y + box.height / 2};
        }"""
    )
    page.mouse.move(where["x"], where["y"])
    marked = page.evaluate(
        """() => [...document.querySelectorAll('.nndiagram-equations .nnd-highlight')]
                 .map(el => el.getAttribute('class'))"""
    )
    assert marked and all("nnd-w-1-0-1" in m for m in marked), marked
    page.mouse.move(0, 0)
    entry = ".nndiagram-equations mjx-container g.nnd-z-1-0 >> nth=0"
    page.locator(entry).evaluate("el => el.scrollIntoView({block: 'center'})")
    page.hover(entry)
    assert page.evaluate("!!document.querySelector('.nndiagram-svg g.nnd-z-1-0.nnd-highlight')")


# --- the backward pass (the backprop fence with its figure) -------------------------------------

BACKPROP_PAGE = "tutorial/backpropagation/"
BACKPROP_BLOCK = ".nnd-backprop.nndiagram"
# The tutorial's 2-2-1 network: after the forward steps, each layer's dz, dW, db, last first.
BACKWARD_STEPS = [
    ("dz[1]", {"z-1-0", "a-1-0", "g-1-0"}, {"dz-1"}),
    ("dW[1]", {"w-1-0-0", "w-1-0-1"}, {"dw-1"}),
    ("db[1]", {"b-1-0", "bias-1"}, {"db-1"}),
    ("dz[0]", {"z-0-0", "z-0-1", "a-0-0", "a-0-1", "g-0-0", "g-0-1"}, {"dz-0"}),
    ("dW[0]", {"w-0-0-0", "w-0-0-1", "w-0-1-0", "w-0-1-1"}, {"dw-0"}),
    ("db[0]", {"b-0-0", "b-0-1", "bias-0"}, {"db-0"}),
]


def backprop_state(page: Any, block: str = BACKPROP_BLOCK) -> dict[str, Any]:
    """The step label, the shown figure's active links and the active typeset symbols."""
    state: dict[str, Any] = page.evaluate(
        r"""css => {
            const block = document.querySelector(css);
            const key = el => [...el.classList].find(c => /^nnd-[a-z]+-\d/.test(c)).slice(4);
            const figure = [...block.querySelectorAll('.nndiagram-svg g.nnd-active')]
                           .filter(g => g.getClientRects().length).map(key);
            const math = [...block.querySelectorAll('mjx-container svg .nnd-active')].map(key);
            return {label: block.querySelector('.nnd-step-label').textContent,
                    figure: [...new Set(figure)], math: [...new Set(math)]};
        }""",
        block,
    )
    return {"label": state["label"], "figure": set(state["figure"]), "math": set(state["math"])}


def test_backprop_page_steps_forward_then_backward(
    page_and_watch: tuple[Any, Watch], server: str
) -> None:
    """On the backpropagation tutorial the step control goes on past the output layer, back
    through dz, dW, db of each layer (equations and figure together), and back again; the
    gradients link to the figure both ways; the arrow keys do the same; both palettes."""
    page, _ = page_and_watch
    page.goto(server + BACKPROP_PAGE, wait_until="load")
    page.wait_for_selector(f"{BACKPROP_BLOCK} .nnd-steps", timeout=TIMEOUT_MS)
    page.wait_for_function(
        f"document.querySelectorAll('{BACKPROP_BLOCK} mjx-container svg g.nnd-db-0').length",
        timeout=TIMEOUT_MS,
    )
    assert backprop_state(page)["label"] == "forward and backward pass: 9 steps"
    next_button = f"{BACKPROP_BLOCK} button[aria-label='next step']"
    page.locator(next_button).scroll_into_view_if_needed()
    forward = []
    for _ in range(3):  # the inputs, layer 0, layer 1
        page.click(next_button)
        forward.append(backprop_state(page))
    assert forward[0]["figure"] == {"x-0", "x-1"}
    assert {link.split("-")[1] for link in forward[2]["figure"]} == {"1"}
    assert not any(link.startswith("d") for state in forward for link in state["math"])
    for number, (name, figure, math) in enumerate(BACKWARD_STEPS):
        page.click(next_button)
        state = backprop_state(page)
        assert state["label"] == f"step {number + 4} of 9: backward, {name}", state
        assert state["figure"] == figure and state["math"] == math, (name, state)
        if name == "dW[1]":
            screenshot(page, "backprop-dW1")
    assert page.get_attribute(next_button, "aria-disabled") == "true"
    # Back with the keyboard: the arrow keys from the focused control.
    page.focus(next_button)
    for name, figure, math in reversed(BACKWARD_STEPS[:-1]):
        page.keyboard.press("ArrowLeft")
        state = backprop_state(page)
        assert name in state["label"] and state["figure"] == figure and state["math"] == math
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    assert backprop_state(page)["figure"] == set()
    # The gradients and the figure, both ways.
    symbol = f"{BACKPROP_BLOCK} mjx-container svg g.nnd-dz-1 >> nth=0"
    page.locator(symbol).evaluate("el => el.scrollIntoView({block: 'center'})")
    page.hover(symbol)
    highlighted = page.evaluate(
        f"""() => [...document.querySelectorAll('{BACKPROP_BLOCK} .nndiagram-svg g.nnd-highlight')]
                 .filter(g => g.getClientRects().length).map(g => g.getAttribute('class'))"""
    )
    assert highlighted and all("-1-0" in c for c in highlighted), highlighted
    assert "\u2202L/\u2202z[1]" in (tooltip(page)["text"] or "")
    page.mouse.move(0, 0)
    where = page.evaluate(
        f"""() => {{
            const g = [...document.querySelectorAll('{BACKPROP_BLOCK} .nndiagram-svg g.nnd-z-0-1')]
                      .find(g => g.getClientRects().length);
            g.scrollIntoView({{block: 'center'}});
            const box = g.getBoundingClientRect();
            return {{x: box.x + box.width / 2, y: box.y + box.height / 2}};
        }}"""
    )
    page.mouse.move(where["x"], where["y"])
    marked = page.evaluate(
        rf"""() => [...document.querySelectorAll('{BACKPROP_BLOCK} mjx-container svg g')]
                 .filter(el => el.classList.contains('nnd-highlight'))
                 .map(el => [...el.classList].find(c => /^nnd-[a-z]+-\d/.test(c)))"""
    )
    assert "nnd-dz-0" in marked and "nnd-dz-1" not in marked, marked
    page.mouse.move(0, 0)
    # The dark palette: the same block, drawn in its colours.
    page.evaluate("window.scrollTo(0, 0)")
    page.click('form[data-md-component="palette"] label[title="Switch to dark mode"]')
    page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
    page.locator(next_button).scroll_into_view_if_needed()
    for _ in range(4):
        page.click(next_button)
    assert backprop_state(page)["math"] == {"dz-1"}
    style = page.evaluate(
        f"""() => {{
            const s = getComputedStyle(document.querySelector(
                '{BACKPROP_BLOCK} mjx-container svg g.nnd-dz-1.nnd-active'));
            return {{fill: s.fill, width: s.strokeWidth}};
        }}"""
    )
    # The palette's colour, and bolder: colour is not the only cue.
    assert style == {"fill": "rgb(116, 192, 252)", "width": "25px"}, style
    screenshot(page, "backprop-dz1-dark")


def test_jupyter_html_with_the_backward_pass(
    tmp_path: Path, page_and_watch: tuple[Any, Watch]
) -> None:
    """``explore(xor, loss="bce")`` in a notebook-like page: the steps go on backwards through
    each layer's dz, dW, db, by keyboard (arrows from the step control)."""
    from nndiagram.site.assets import find_mathjax

    mathjax = find_mathjax([ROOT])
    if mathjax is None:
        pytest.skip("MathJax not installed (npm ci)")
    (tmp_path / "tex-svg-full.js").write_bytes(mathjax.read_bytes())
    xor = nndiagram.load_spec(DIAGRAMS / "xor.yaml")
    cell = nndiagram.explore(xor, loss="bce")._repr_html_()
    (tmp_path / "index.html").write_text(JUPYTER_PAGE.format(cell=cell), encoding="utf-8")
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        page, _ = page_and_watch
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html", wait_until="load")
        wait_ready(page)
        page.wait_for_function(
            "document.querySelectorAll('mjx-container svg g.nnd-db-0').length", timeout=TIMEOUT_MS
        )
        assert backprop_state(page, ".nndiagram")["label"] == "forward and backward pass: 9 steps"
        page.focus("button[aria-label='next step']")
        for _ in range(3):  # the inputs, layer 0, layer 1
            page.keyboard.press("ArrowRight")
        for number, (name, figure, math) in enumerate(BACKWARD_STEPS):
            page.keyboard.press("ArrowRight")
            state = backprop_state(page, ".nndiagram")
            assert state["label"] == f"step {number + 4} of 9: backward, {name}", state
            assert state["figure"] == figure and state["math"] == math, (name, state)
        screenshot(page, "jupyter-backward-db0")
        page.keyboard.press("ArrowLeft")
        assert backprop_state(page, ".nndiagram")["math"] == {"dw-0"}
    finally:
        httpd.shutdown()
        httpd.server_close()
