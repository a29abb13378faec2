"""The built book in a real browser, offline.

Serves ``_build/html`` on localhost and drives the system's headless Chromium through
the intro, every page of ``_toc.yml`` that was built (each chapter included) and the
search page. Every request to a host other than localhost is blocked and recorded, so a
page that needs the network fails here. On each page: no console errors, no failed
requests, math typeset by MathJax, no broken images, every widget and animation
rendered, folded solutions and cells open on click; no serious or critical violation of
WCAG 2.1 A and AA found by axe-core (served from ``_vendor_tests/``, fetched by
tools/fetch_static.py, injected into the page: nothing from the network), with every
toggle open; and at 320 CSS px (a 1280-px window zoomed to 400 %) the page is no wider
than the window (WCAG 1.4.10, reflow). A full-page screenshot of each page goes to
``screenshots/`` (not committed) for a person to look at.

Needs ``make book`` first and Chromium at /usr/bin/chromium (or $CHROMIUM); skipped,
saying which is missing, otherwise. Run with ``make browser`` or
``pytest tests/test_browser.py -m browser``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
TIMEOUT_MS = 30_000
# The widget modules that ship inside the self-hosted embed manager (embed-amd.js);
# any other module would have to be fetched from a CDN.
BUILTIN_WIDGET_MODULES = {
    "@jupyter-widgets/base",
    "@jupyter-widgets/controls",
    "@jupyter-widgets/output",
}

pytestmark = pytest.mark.browser


def toc_pages() -> list[str]:
    """Every page of _toc.yml (root first), as paths without suffix; globs expanded
    against the built book."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(str(Path(entry["file"]).with_suffix("")))
            if "glob" in entry:
                built = sorted(HTML.glob(entry["glob"] + ".html"))
                pages.extend(str(p.relative_to(HTML).with_suffix("")) for p in built)
            walk(entry.get("sections"))

    for part in toc.get("parts", [{"chapters": toc.get("chapters")}]):
        walk(part.get("chapters"))
    return pages


PAGES = toc_pages()
CHAPTERS = [page for page in PAGES if page.startswith("chapters/")]
# The Chinese edition (docs/_ext/editions.py): the same pages under zh/
ZH_PAGES = [f"zh/{page}" for page in PAGES]

# Accessibility: the pages audited are every page of both editions (PAGES + ZH_PAGES, in
# test_page_renders_offline); the rules are axe-core's for these WCAG levels, and a
# violation of these impacts fails the page.
AXE = ROOT / "_vendor_tests" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_FAILING_IMPACTS = {"serious", "critical"}
REFLOW_WIDTH = 320


def check_labels(path: str) -> tuple[str, str]:
    """The (show, hide) labels of a check cell's toggle on the page at ``path``."""
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    from check_cells import labels

    return labels("zh_CN" if path.startswith("zh/") else "en")


# --- fixtures: a local server and a browser that can reach nothing else ---------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def server_url():
    if not (HTML / "index.html").exists():
        pytest.skip(f"the book is not built ({HTML} has no index.html): run `make book`")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser(server_url, chromium):
    return chromium


class Visit:
    """One page in a fresh browser context, with everything that went wrong recorded."""

    def __init__(self, browser, server_url: str):
        self.server = urlsplit(server_url).netloc
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._only_localhost)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)

    def _only_localhost(self, route):
        url = route.request.url
        if urlsplit(url).netloc == self.server:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location})")

    def _failed(self, request):
        if urlsplit(request.url).netloc == self.server:
            self.errors.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server_url):
    opened = []

    def open_page(path: str, mode: str | None = None) -> Visit:
        v = Visit(browser, server_url)
        opened.append(v)
        if mode:  # the theme's colour mode, as its switch stores it
            v.context.add_init_script(f"localStorage.setItem('mode', '{mode}')")
        v.page.goto(f"{server_url}/{path}", wait_until="load")
        return v

    yield open_page
    for v in opened:
        v.close()


# --- what every page must do ----------------------------------------------------------

WAIT_FOR_MATHJAX = """async () => {
  if (!document.querySelector('script[src*="mathjax"]')) return 'no MathJax on page';
  // MathJax is loaded with `defer`; wait until it exists, then until it has typeset.
  for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  await MathJax.startup.promise;
  return 'typeset';
}"""

MATH_REPORT = """() => {
  const math = Array.from(document.querySelectorAll('.math'));
  return {
    math: math.length,
    untypeset: math.filter(m => !m.querySelector('mjx-container'))
                   .map(m => m.textContent.slice(0, 80)),
    containers: document.querySelectorAll('mjx-container').length,
    // MathJax's assistive MathML: what a screen reader reads for each formula
    assistive: document.querySelectorAll('mjx-container > mjx-assistive-mml > math').length,
    errors: Array.from(document.querySelectorAll('mjx-merror'))
                 .map(e => e.getAttribute('data-mjx-error') || e.textContent),
  };
}"""

WAIT_FOR_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(img => img.complete ? null :
    new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  return imgs.filter(img => img.naturalWidth === 0)
             .map(img => img.id || (img.getAttribute('src') || '').slice(0, 80));
}"""

WIDGETS_RENDERED = """() => {
  const views = Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]'));
  const rendered = views.filter(v => {
    const area = v.previousElementSibling;
    return area && area.classList.contains('widget-subarea') && area.children.length > 0
      && area.getBoundingClientRect().height > 0;
  });
  return rendered.length === views.length;
}"""

ANIMATION_REPORT = """() => Array.from(document.querySelectorAll('.animation')).map(a => {
  const img = a.querySelector('img');
  return {id: img ? img.id : null, src: img ? img.src.slice(0, 40) : '',
          width: img ? img.naturalWidth : 0};
})"""


# Cells tagged `check` (docs/_ext/check_cells.py): folded behind a "Show checks" toggle.
CHECKS_REPORT = """() => Array.from(document.querySelectorAll('article .cell.tag_check'))
.map(cell => {
  const details = cell.querySelector('details');
  const label = details && details.querySelector('summary .collapsed');
  return {folded: !!details && !details.open,
          label: label ? label.innerText.trim() : null,
          code: (cell.innerText || '').slice(0, 60)};
})"""

# Every visible code block and text output fits its box (no horizontal scrollbar).
WIDE_BLOCKS = """() => Array.from(document.querySelectorAll('article pre'))
  .filter(pre => pre.getClientRects().length > 0 && pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => ({width: pre.scrollWidth, box: pre.clientWidth,
                line: pre.innerText.split('\\n')
                        .reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 100)}))"""


def saved_widget_modules(path: str) -> set[str]:
    """The widget model modules whose state the built page carries."""
    text = (HTML / f"{path}.html").read_text(encoding="utf8")
    marker = '<script type="application/vnd.jupyter.widget-state+json">'
    modules = set()
    start = text.find(marker)
    if start >= 0:
        body = text[start + len(marker) : text.index("</script>", start)]
        for model in json.loads(body)["state"].values():
            modules.add(model["model_module"])
            modules.add(model.get("view_module") or model["model_module"])
    return modules


def check_page(v: Visit, path: str) -> dict:
    """The checks every page passes; returns what was found, for the caller's asserts."""
    page = v.page
    found = {"mathjax": page.evaluate(WAIT_FOR_MATHJAX)}
    report = page.evaluate(MATH_REPORT)
    found["math"] = report["math"]
    assert not report["untypeset"], f"{path}: math left untypeset: {report['untypeset']}"
    assert not report["errors"], f"{path}: MathJax errors: {report['errors']}"
    if report["math"]:
        assert report["containers"] >= report["math"], f"{path}: {report}"
    assert report["assistive"] == report["containers"], f"{path}: formulas without MathML {report}"

    broken = page.evaluate(WAIT_FOR_IMAGES)
    assert not broken, f"{path}: broken images {broken}"

    modules = saved_widget_modules(path)
    assert modules <= BUILTIN_WIDGET_MODULES, (
        f"{path}: widgets from {modules - BUILTIN_WIDGET_MODULES} cannot render offline"
    )
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    found["widgets"] = views
    if views:
        page.wait_for_function(WIDGETS_RENDERED, timeout=TIMEOUT_MS)
        assert page.locator(".jupyter-widgets").count() > 0

    animations = page.evaluate(ANIMATION_REPORT)
    found["animations"] = len(animations)
    for anim in animations:
        assert anim["width"] > 0, f"{path}: animation {anim['id']} shows no frame"
    if animations:
        # stepping the first animation changes its frame
        first = page.locator(".animation").first
        before = first.locator("img").get_attribute("src")
        first.get_by_role("button", name="Next frame").click()
        page.wait_for_function(
            "([id, before]) => document.getElementById(id).getAttribute('src') !== before",
            arg=[animations[0]["id"], before],
        )

    checks = page.evaluate(CHECKS_REPORT)
    found["checks"] = len(checks)
    for check in checks:
        assert check["folded"] and check["label"] == check_labels(path)[0], (
            f"{path}: check cell {check}"
        )

    found["toggles"] = open_every_toggle(page, path)

    # with every toggle open, no code block or output scrolls sideways
    wide = page.evaluate(WIDE_BLOCKS)
    assert not wide, f"{path}: blocks wider than the page at 1280 px: {wide}"

    violations = axe_violations(page)
    assert not violations, f"{path}: accessibility violations (axe-core): {violations}"

    screenshot(page, path.replace("/", "__"))

    found["width_at_320"] = reflow_width(page)
    assert found["width_at_320"] <= REFLOW_WIDTH, (
        f"{path}: at {REFLOW_WIDTH} px the page is {found['width_at_320']} px wide"
    )

    assert not v.blocked, f"{path}: tried to reach other hosts: {v.blocked}"
    assert not v.errors, f"{path}: " + "\n".join(v.errors)
    return found


RUN_AXE = """tags => axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(result => result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.html.slice(0, 160))})))"""


RUN_CONTRAST = """() => axe.run(document, {
    runOnly: {type: 'rule', values: ['color-contrast']},
    resultTypes: ['violations', 'passes', 'incomplete']})
  .then(result => ({
    checked: result.passes.reduce((n, r) => n + r.nodes.length, 0),
    incomplete: result.incomplete.reduce((n, r) => n + r.nodes.length, 0),
    failing: result.violations.flatMap(v => v.nodes.slice(0, 8).map(n => ({
      impact: v.impact, html: n.html.slice(0, 120),
      summary: (n.failureSummary || '').split('\\n').slice(-1)[0].slice(0, 160)})))}))"""


def axe_violations(page) -> list[dict]:
    """axe-core's violations of the WCAG levels in AXE_TAGS of AXE_FAILING_IMPACTS."""
    assert AXE.exists(), f"{AXE} is missing: run `python tools/fetch_static.py`"
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(content=AXE.read_text(encoding="utf8"))
    found = page.evaluate(RUN_AXE, AXE_TAGS)
    return [v for v in found if v["impact"] in AXE_FAILING_IMPACTS]


def contrast_report(page) -> dict:
    """axe-core's colour-contrast rule (WCAG 1.4.3, 4.5:1 for text) on the page as it is:
    the text elements it checked, those it could not decide (text over an image, say) and
    the failing ones."""
    assert AXE.exists(), f"{AXE} is missing: run `python tools/fetch_static.py`"
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(content=AXE.read_text(encoding="utf8"))
    return page.evaluate(RUN_CONTRAST)


def reflow_width(page) -> int:
    """The page's width, in CSS px, once the window is REFLOW_WIDTH px wide."""
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": 900})
    # two frames: the theme's resize handlers and the new layout have run
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return page.evaluate("() => document.documentElement.scrollWidth")


def screenshot(page, name: str) -> None:
    """Full page, from the top (so the theme's sticky header and sidebar sit there),
    with no focus ring or "skip to content" link left over from clicking."""
    page.evaluate(
        "() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }"
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_every_toggle(page, path: str) -> int:
    """Folded solutions (dropdown admonitions) and folded cells (<details>) open on click."""
    count = 0
    dropdowns = page.locator("article .admonition.dropdown")
    for i in range(dropdowns.count()):
        item = dropdowns.nth(i)
        assert "toggle-hidden" in (item.get_attribute("class") or ""), (
            f"{path}: dropdown {i} is not folded"
        )
        item.locator(".admonition-title").first.click()
        page.wait_for_function(
            "el => !el.classList.contains('toggle-hidden')", arg=item.element_handle()
        )
        body = item.locator(":scope > :not(.admonition-title)").first
        assert body.is_visible(), f"{path}: dropdown {i} opened but its content is hidden"
        count += 1
    details = page.locator("article details")
    for i in range(details.count()):
        item = details.nth(i)
        assert item.get_attribute("open") is None, f"{path}: <details> {i} is not folded"
        item.locator("summary").first.click()
        page.wait_for_function("el => el.open", arg=item.element_handle())
        body = item.locator(":scope > :not(summary)").first
        assert body.is_visible(), f"{path}: <details> {i} opened but its content is hidden"
        count += 1
    # the toggles fade in (togglebutton.css: opacity over 0.3 s): axe must see the page
    # after the fade, not text half-way to its colour
    page.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished))")
    return count


# --- the tests ------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES + ZH_PAGES)
def test_page_renders_offline(visit, path):
    if not (HTML / f"{path}.html").exists():
        pytest.skip(f"{path} is listed in _toc.yml but not built")
    found = check_page(visit(f"{path}.html"), path)
    if path.removeprefix("zh/") in CHAPTERS:
        # every chapter has math and folded exercise solutions
        assert found["math"] > 0, f"{path}: no math on the page"
        assert found["toggles"] > 0, f"{path}: no folded solution"


def test_notation_page_typesets_display_math(visit):
    v = visit("docs/notation.html")
    assert v.page.evaluate(WAIT_FOR_MATHJAX) == "typeset"
    displayed = v.page.locator('mjx-container[display="true"]').count()
    assert displayed >= 5, f"only {displayed} displayed equations typeset"


def search_results(visit, query: str, edition: str = "", shot: str | None = None) -> list[str]:
    """The links the built search page lists for ``query`` once the search has finished."""
    v = visit(f"{edition}search.html?q={query}")
    # Sphinx adds the results one by one, then fills in the summary line ("Search finished,
    # found ..." or "did not match"): until then the line is empty, so not visible.
    v.page.locator("#search-results p.search-summary").wait_for(timeout=TIMEOUT_MS)
    links = [a.get_attribute("href") or ""
             for a in v.page.locator("#search-results ul.search li a").all()]
    if shot:
        screenshot(v.page, shot)
    assert not v.blocked, v.blocked
    assert not v.errors, v.errors
    return links


def test_search_finds_padding(visit):
    links = search_results(visit, "padding", shot="search")
    assert any("padding" in href or "glossary" in href for href in links), links


def check_cells_in_notebooks() -> dict[str, int]:
    """The number of code cells tagged `check` in each chapter notebook."""
    import nbformat

    counts = {}
    for path in CHAPTERS:
        nb = nbformat.read(ROOT / f"{path}.ipynb", as_version=4)
        counts[path] = sum(
            "check" in cell.metadata.get("tags", [])
            for cell in nb.cells
            if cell.cell_type == "code"
        )
    return counts


@pytest.mark.parametrize("edition", ["", "zh/"])
def test_check_cells_are_folded_and_labelled(visit, edition):
    """Every check cell of the notebooks is in the book, folded behind "Show checks"
    (显示检查 in the Chinese edition), and opens on click."""
    counts = {page: n for page, n in check_cells_in_notebooks().items() if n}
    if not counts:
        pytest.skip("no chapter has a cell tagged `check`")
    for page, expected in counts.items():
        path = edition + page
        show, hide = check_labels(path)
        v = visit(f"{path}.html")
        checks = v.page.evaluate(CHECKS_REPORT)
        assert len(checks) == expected, f"{path}: {len(checks)} check cells, {expected} tagged"
        assert all(c["folded"] and c["label"] == show for c in checks), checks
        first = v.page.locator("article .cell.tag_check details").first
        first.locator("summary").click()
        v.page.wait_for_function("el => el.open", arg=first.element_handle())
        assert first.locator("summary .expanded").inner_text().strip() == hide
        assert first.locator("pre").first.is_visible()


CJK_TERM = "互相关"
MARK_CJK = """term => {
  const walker = document.createTreeWalker(document.querySelector('article'),
                                           NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent.includes(term)) {
      node.parentElement.id = node.parentElement.id || 'cjk-probe';
      return node.parentElement.id;
    }
  }
  return null;
}"""


@pytest.mark.parametrize(
    "path, term", [("docs/glossary", CJK_TERM), ("zh/chapters/03_padding_stride_dilation", "步幅")]
)
def test_chinese_glyphs_are_drawn_with_the_served_font(visit, path, term):
    """Chinese text (the glossary's 互相关; a whole page of the Chinese edition) is drawn
    with the font the book serves (_static/fonts/cjk-subset.woff2), whatever fonts the
    machine has: Chromium reports which font drew the glyphs of an element."""
    v = visit(f"{path}.html")
    page = v.page
    loaded = page.evaluate(
        "t => document.fonts.load('16px \"Convolution Book CJK\"', t).then(f => f.length)",
        term,
    )
    assert loaded >= 1, "the CJK font did not load"
    probe = page.evaluate(MARK_CJK, term)
    assert probe, f"{term} is not on {path}"
    cdp = v.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f"#{probe}"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    served = [f for f in fonts if f.get("isCustomFont")]
    assert served and sum(f["glyphCount"] for f in served) >= len(term), fonts
    assert not v.blocked, v.blocked
    assert not v.errors, v.errors


# --- the Chinese edition ----------------------------------------------------------------

# The words of the Chinese articles readers come from: each must lead somewhere.
ARTICLE_WORDS = ["批标准化", "正则化", "零初始化", "卷积运算", "一维卷积", "二维卷积",
                 "三维卷积", "大模型", "池化"]


@pytest.mark.parametrize("query, page", [("步幅", "03_padding_stride_dilation"),
                                         ("卷积", "01_what_is_convolution"),
                                         ("感受野", "03_padding_stride_dilation"),
                                         ("读者指南", "readers_guide")])
def test_chinese_search_finds_the_chapter(visit, query, page):
    links = search_results(visit, query, "zh/")
    assert any(page in link for link in links), (query, links)


# Other names of the book's terms (locales/zh_CN/terms.yml): the chapter that introduces
# the term mentions the other name there ("步幅（也称步长）"), so searching for it finds the
# chapter, and the glossary lists it.
@pytest.mark.parametrize("query, page", [("步长", "03_padding_stride_dilation"),
                                         ("特征映射", "04_channels"),
                                         ("过滤器", "02_cross_correlation")])
def test_chinese_search_finds_the_chapter_for_another_name(visit, query, page):
    links = search_results(visit, query, "zh/")
    assert any(f"chapters/{page}" in link for link in links), (query, links)
    assert any("glossary" in link for link in links), (query, links)


@pytest.mark.parametrize("query", ARTICLE_WORDS)
def test_chinese_search_finds_the_articles_words(visit, query):
    links = search_results(visit, query, "zh/")
    assert links, f"searching the Chinese edition for {query} finds nothing"


def test_language_switch_goes_to_the_same_page_and_back(visit):
    page = "chapters/03_padding_stride_dilation.html"
    v = visit(page)
    v.page.locator("nav.edition-switch a", has_text="中文").click()
    v.page.wait_for_url(f"**/zh/{page}")
    assert "填充" in v.page.locator("article h1").first.inner_text()
    v.page.locator("nav.edition-switch a", has_text="English").click()
    # (a glob "**/{page}" would match the Chinese page's URL too, and return at once)
    v.page.wait_for_url(lambda url: url.endswith(page) and "/zh/" not in url)
    assert "Padding" in v.page.locator("article h1").first.inner_text()
    assert not v.blocked, v.blocked
    assert not v.errors, v.errors


FOCUS_BEFORE = """target => {
  const focusable = Array.from(document.querySelectorAll(
    'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])'))
    .filter(el => !el.disabled && el.getClientRects().length > 0);
  focusable[focusable.indexOf(target) - 1].focus();
}"""


def test_chapter_3_slider_works_with_the_keyboard(visit):
    """The output-size explorer's sliders: named by their visible description, reachable
    with Tab, moved by the arrow keys, and announcing their value."""
    v = visit("chapters/03_padding_stride_dilation.html")
    page = v.page
    page.wait_for_function(WIDGETS_RENDERED, timeout=TIMEOUT_MS)
    handle = page.get_by_role("slider", name="input size n")
    before = int(float(handle.get_attribute("aria-valuenow")))
    readout = page.locator(".widget-slider", has=handle).locator(".widget-readout")
    assert readout.inner_text().strip() == str(before)
    # reached with Tab from the control before it in the page's focus order
    page.evaluate(FOCUS_BEFORE, handle.element_handle())
    page.keyboard.press("Tab")
    assert handle.evaluate("el => el === document.activeElement"), "Tab does not reach it"
    page.keyboard.press("ArrowRight")
    expected = before + 1
    page.wait_for_function(
        "([el, value]) => Number(el.getAttribute('aria-valuenow')) === value",
        arg=[handle.element_handle(), expected],
    )
    assert handle.get_attribute("aria-valuetext") == str(expected)
    assert readout.inner_text().strip() == str(expected)
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "([el, value]) => Number(el.getAttribute('aria-valuenow')) === value",
        arg=[handle.element_handle(), before],
    )
    assert not v.blocked, v.blocked
    assert not v.errors, v.errors


# --- dark mode --------------------------------------------------------------------------

# Pages read in the theme's dark colour mode: the home page, chapters with figures,
# animations, widgets and tables, a page of prose and a page of the Chinese edition.
DARK_PAGES = ["intro", "chapters/02_cross_correlation", "chapters/03_padding_stride_dilation",
              "chapters/10_deep_networks", "docs/instructor_guide",
              "zh/chapters/05_pooling"]

# Every figure, animation frame and widget image of the article, with the colour of the
# box it is drawn on (its own background, or the nearest ancestor's) and its filter.
FIGURE_BACKGROUNDS = """() => Array.from(document.querySelectorAll('article img'))
.filter(img => img.getClientRects().length > 0)
.map(img => {
  let el = img, bg = 'rgba(0, 0, 0, 0)';
  while (el && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
    bg = getComputedStyle(el).backgroundColor;
    el = el.parentElement;
  }
  return {src: (img.getAttribute('src') || '').slice(0, 60), background: bg,
          filter: getComputedStyle(img).filter};
})"""


# Text inside the light boxes the theme gives outputs and widgets in dark mode, against
# the colour of the box (axe-core leaves some of it undecided): [ratio, element] below 4.5.
LOW_CONTRAST_IN_OUTPUTS = """() => {
  const lum = css => {
    const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(x => Number(x) / 255)
      .map(c => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const opaque = css => !/^rgba\\(.*, 0\\)$/.test(css) && css !== 'transparent';
  const low = [];
  for (const el of document.querySelectorAll(
      'article .cell_output *, article .widget-subarea *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.getClientRects().length === 0) continue;
    let box = el, bg = getComputedStyle(el).backgroundColor;
    while (!opaque(bg) && box.parentElement) {
      box = box.parentElement;
      bg = getComputedStyle(box).backgroundColor;
    }
    const [a, b] = [lum(getComputedStyle(el).color), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push([Math.round(ratio * 100) / 100, el.outerHTML.slice(0, 100)]);
  }
  return low;
}"""


def _luminance(css_rgb: str) -> float:
    """WCAG relative luminance of a computed ``rgb(...)``/``rgba(...)`` colour."""
    r, g, b = (float(x) / 255 for x in re.findall(r"[\d.]+", css_rgb)[:3])
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@pytest.mark.parametrize("path", DARK_PAGES)
def test_dark_mode_text_contrast_and_figures(visit, path):
    """In the dark colour mode, text keeps 4.5:1 (axe-core's color-contrast rule, with
    every toggle open), and every figure sits on a light box, undimmed: the figures are
    drawn on white with the colours tests/test_colours.py checks."""
    if not (HTML / f"{path}.html").exists():
        pytest.skip(f"{path} is not built")
    v = visit(f"{path}.html", mode="dark")
    page = v.page
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    page.evaluate(WAIT_FOR_MATHJAX)
    assert not page.evaluate(WAIT_FOR_IMAGES)
    if page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count():
        page.wait_for_function(WIDGETS_RENDERED, timeout=TIMEOUT_MS)
    open_every_toggle(page, path)
    contrast = contrast_report(page)
    assert contrast["checked"] > 20, f"{path} (dark): axe checked too little text: {contrast}"
    assert not contrast["failing"], f"{path} (dark): text below 4.5:1: {contrast['failing']}"
    low = page.evaluate(LOW_CONTRAST_IN_OUTPUTS)
    assert not low, f"{path} (dark): output or widget text below 4.5:1: {low[:8]}"
    print(f"{path} (dark): {contrast['checked']} text elements at 4.5:1 or more, "
          f"{contrast['incomplete']} undecided")
    figures = page.evaluate(FIGURE_BACKGROUNDS)
    dark_boxes = [f for f in figures if _luminance(f["background"]) < 0.6]
    assert not dark_boxes, f"{path} (dark): figures on a dark box: {dark_boxes}"
    dimmed = [f for f in figures if f["filter"] != "none"]
    assert not dimmed, f"{path} (dark): figures dimmed by a filter: {dimmed}"
    screenshot(page, "dark__" + path.replace("/", "__"))
    assert not v.blocked, v.blocked
    assert not v.errors, v.errors
