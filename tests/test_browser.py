"""The built site in a real browser: Debian's Chromium, headless, driven by Playwright.

The site is served from 127.0.0.1 by a stdlib HTTP server. Checked on the matrix-representation
page: every equation typeset by MathJax (one ``mjx-container`` with a non-empty SVG per
arithmatex element of the page's HTML), whether the page is loaded directly or reached by
clicking the nav through Material's instant navigation; every diagram visible with a non-zero
size; the dark palette showing the dark diagrams and hiding the light ones; no console error;
no request leaving 127.0.0.1. Also: search and the code copy buttons work offline, and the
"Learning XOR" page shows its plots and learned network and its tabs switch samples.
Screenshots go to test-artifacts/screenshots/ (the run's summary prints the path).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import SCREENSHOTS, SiteServer

pytestmark = [pytest.mark.browser, pytest.mark.site, pytest.mark.exe]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MATRIX_PAGE = "tutorial/matrix-representation/"
TYPESET_TIMEOUT_MS = 30_000

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Debian chromium not installed (run `make test`)", allow_module_level=True)
playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(site_server: SiteServer) -> str:
    """Base URL of the built site, served from 127.0.0.1 (built for that address)."""
    return site_server.url


@dataclass
class Watch:
    """Everything the page did that a test must not allow."""

    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_and_watch(browser: Any) -> Iterator[tuple[Any, Watch]]:
    watch = Watch()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")

    def only_local(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname != "127.0.0.1":
            watch.outside_requests.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
    page.on("pageerror", lambda e: watch.console_errors.append(f"uncaught: {e}"))
    try:
        yield page, watch
    finally:
        context.close()
    assert not watch.console_errors, watch.console_errors
    assert not watch.outside_requests, watch.outside_requests


def equation_count(html: str) -> int:
    """Arithmatex elements in the served HTML: each must become one typeset equation."""
    return len(re.findall(r'<(?:span|div) class="arithmatex"', html))


def wait_for_typesetting(page: Any, expected: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('article .arithmatex mjx-container').length === n",
        arg=expected,
        timeout=TYPESET_TIMEOUT_MS,
    )


def typeset_sizes(page: Any) -> list[dict[str, float]]:
    """Width and height of the SVG inside each typeset equation of the article."""
    sizes: list[dict[str, float]] = page.eval_on_selector_all(
        "article .arithmatex",
        """els => els.map(el => {
            const svg = el.querySelector('mjx-container svg');
            const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
            return {width: box.width, height: box.height, containers:
                    el.querySelectorAll('mjx-container').length};
        })""",
    )
    return sizes


def diagram_boxes(page: Any, variant: str) -> list[dict[str, Any]]:
    boxes: list[dict[str, Any]] = page.eval_on_selector_all(
        f"article .nndiagram-{variant} > svg",
        """els => els.map(el => {
            const box = el.getBoundingClientRect();
            return {width: box.width, height: box.height,
                    shown: getComputedStyle(el.parentElement).display !== 'none'};
        })""",
    )
    return boxes


def assert_fully_typeset(page: Any, built_site: Path, path: str) -> int:
    expected = equation_count((built_site / path / "index.html").read_text())
    assert expected >= 12, "the matrix page should hold x, w, b and z for each example"
    wait_for_typesetting(page, expected)
    sizes = typeset_sizes(page)
    assert len(sizes) == expected
    for number, size in enumerate(sizes):
        assert size["containers"] == 1, f"equation {number} typeset {size['containers']} times"
        assert size["width"] > 0 and size["height"] > 0, f"equation {number} has no size"
    return expected


def assert_diagrams_follow_palette(page: Any, shown: str, hidden: str) -> None:
    visible = diagram_boxes(page, shown)
    assert len(visible) == 4  # neuron, layer, layer-3, multilayer
    assert all(b["shown"] and b["width"] > 0 and b["height"] > 0 for b in visible), visible
    others = diagram_boxes(page, hidden)
    assert len(others) == len(visible)
    assert not any(b["shown"] or b["width"] or b["height"] for b in others), others


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def test_matrix_page_loaded_directly_typesets_every_equation(
    page_and_watch: tuple[Any, Watch], server: str, built_site: Path
) -> None:
    page, _ = page_and_watch
    page.goto(server + MATRIX_PAGE, wait_until="load")
    assert_fully_typeset(page, built_site, MATRIX_PAGE)
    assert_diagrams_follow_palette(page, shown="light", hidden="dark")
    screenshot(page, "matrix-representation-light")


def test_instant_navigation_to_the_matrix_page_still_typesets(
    page_and_watch: tuple[Any, Watch], server: str, built_site: Path
) -> None:
    page, _ = page_and_watch
    page.goto(server, wait_until="load")
    assert diagram_boxes(page, "light"), "the home page shows a diagram"
    screenshot(page, "home")
    page.evaluate("window.__sameDocument = true")  # survives only a same-document navigation
    page.click(f'nav.md-nav--primary a.md-nav__link[href$="{MATRIX_PAGE}"]')
    page.wait_for_url(re.compile(re.escape(MATRIX_PAGE) + "$"))
    assert page.evaluate("window.__sameDocument === true"), "instant navigation was not used"
    assert_fully_typeset(page, built_site, MATRIX_PAGE)
    assert_diagrams_follow_palette(page, shown="light", hidden="dark")


def test_dark_palette_shows_the_dark_diagrams(
    page_and_watch: tuple[Any, Watch], server: str, built_site: Path
) -> None:
    page, _ = page_and_watch
    page.goto(server + MATRIX_PAGE, wait_until="load")
    page.click('form[data-md-component="palette"] label[title="Switch to dark mode"]')
    page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
    assert_diagrams_follow_palette(page, shown="dark", hidden="light")
    assert_fully_typeset(page, built_site, MATRIX_PAGE)
    screenshot(page, "matrix-representation-dark")
    # The choice is remembered: the next page, reached by instant navigation, is dark too.
    page.click('nav.md-nav--primary a.md-nav__link[href$="tutorial/activations/"]')
    page.wait_for_url(re.compile(r"tutorial/activations/$"))
    page.wait_for_selector("article svg.nndiagram-plot")
    assert page.evaluate("document.body.dataset.mdColorScheme") == "slate"
    # The plots' labels and axes are drawn in the page's text colour, so they are light here.
    colours = page.evaluate(
        """() => [getComputedStyle(document.querySelector('article')).color,
                  ...[...document.querySelectorAll('article svg.nndiagram-plot text')]
                     .map(t => getComputedStyle(t).fill)]"""
    )
    assert len(colours) > 10 and set(colours[1:]) == {colours[0]}, colours[:3]
    expected = equation_count((built_site / "tutorial/activations/index.html").read_text())
    wait_for_typesetting(page, expected)
    screenshot(page, "activations-dark")


def test_search_and_code_copy_work_offline(page_and_watch: tuple[Any, Watch], server: str) -> None:
    page, _ = page_and_watch
    page.goto(server, wait_until="load")
    copy_buttons = page.locator('article pre [data-md-type="copy"]')  # content.code.copy
    copy_buttons.first.wait_for(timeout=TYPESET_TIMEOUT_MS)
    assert copy_buttons.count() >= 2
    page.click("input.md-search__input")
    page.keyboard.type("vanishing gradient")
    # The search index and its worker come from the site itself; results appear as you type.
    page.wait_for_function(
        """() => [...document.querySelectorAll('.md-search-result__item a')]
                  .some(a => a.href.includes('tutorial/activations/'))""",
        timeout=TYPESET_TIMEOUT_MS,
    )


XOR_PAGE = "tutorial/learning-xor/"


def test_learning_xor_shows_its_figures_and_its_tabs_switch(
    page_and_watch: tuple[Any, Watch], server: str, built_site: Path
) -> None:
    page, _ = page_and_watch
    page.goto(server + XOR_PAGE, wait_until="load")
    training = "article .nndiagram-training"
    plots = page.eval_on_selector_all(
        f"{training} svg.nndiagram-plot",
        "els => els.map(e => { const b = e.getBoundingClientRect(); return b.width * b.height })",
    )
    assert len(plots) == 2 and all(area > 0 for area in plots), plots  # cost, boundary
    learned = page.eval_on_selector_all(
        f"{training} > figure.nndiagram-diagram .nndiagram-light > svg",
        "els => els.map(e => e.getBoundingClientRect().width * e.getBoundingClientRect().height)",
    )
    assert len(learned) == 1 and learned[0] > 0, learned  # the learned network, outside tabs
    blocks = f"{training} .tabbed-content > .tabbed-block"

    def shown() -> list[bool]:
        result: list[bool] = page.eval_on_selector_all(
            blocks,
            """els => els.map(e => getComputedStyle(e).display !== 'none'
                              && e.querySelector('.nndiagram-light svg')
                                  .getBoundingClientRect().width > 0)""",
        )
        return result

    assert shown() == [True, False, False, False]
    page.click(f"{training} .tabbed-labels > label:nth-of-type(3)")
    page.wait_for_function(
        f"getComputedStyle(document.querySelectorAll('{blocks}')[2]).display !== 'none'"
    )
    assert shown() == [False, False, True, False]
    expected = equation_count((built_site / XOR_PAGE / "index.html").read_text())
    wait_for_typesetting(page, expected)
    assert page.locator(f'{training} [data-agree="true"]').count() == 1
    screenshot(page, "learning-xor")


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots() -> None:
    # Old screenshots of pages that no longer exist would mislead whoever looks at them.
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
