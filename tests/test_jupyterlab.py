"""A chapter run as a student runs it: in JupyterLab, in a real browser, offline.

Starts ``jupyter lab`` on localhost (a token, a temporary copy of chapter 3, fresh
settings and a fresh trust database), trusts the copy as ``make lab`` does, and drives the
system's headless Chromium through it:

- on opening, before anything runs: the MyST markup is rendered by jupyterlab-myst (math
  typeset, no ``{admonition}`` or ``(label)=`` left as text), every exercise solution is
  folded, and the widget shows its saved state (the notebook is trusted);
- *Run All Cells* runs every cell without an error;
- moving a slider of the live widget changes what the widget shows.

Needs Chromium at /usr/bin/chromium (or $CHROMIUM), Playwright and jupyterlab-myst;
skipped, saying which is missing, otherwise. Run with ``make browser`` or
``pytest tests/test_jupyterlab.py -m browser``. About 30-60 s.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "03_padding_stride_dilation.ipynb"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
JUPYTER = Path(sys.executable).parent / "jupyter"
TOKEN = "convolution-book-test"
TIMEOUT_MS = 60_000
MIN_FORMULAS = 20  # chapter 3 typesets about 75: fewer means MyST math is not rendered

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the chapter; yields the notebook's URL."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    pytest.importorskip("jupyterlab_myst", reason="jupyterlab-myst renders MyST in JupyterLab")
    home = tmp_path_factory.mktemp("lab")
    work = home / "work"
    work.mkdir()
    shutil.copy(CHAPTER, work / CHAPTER.name)
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),  # the kernel imports this checkout's convlib
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),  # a fresh trust database (nbsignatures.db)
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
    )
    env.setdefault("OMP_NUM_THREADS", "2")
    # what `make lab` does before starting JupyterLab
    subprocess.run(
        [str(JUPYTER), "trust", str(work / CHAPTER.name)], env=env, check=True, capture_output=True
    )
    # Render every cell, not only those scrolled into view, so the page can be inspected.
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port = free_port()
    args = [
        str(JUPYTER), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    log = open(home / "server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("jupyter lab did not start:\n" + (home / "server.log").read_text())
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/lab/tree/{CHAPTER.name}?token={TOKEN}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def page(lab, chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})

    def only_localhost(route):
        # offline, as on a train: only the server on this machine answers (the chapter's
        # animation output links a CDN stylesheet, which the book strips; here it fails)
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_localhost)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(lab)
    yield page
    context.close()


MARKDOWN_REPORT = """() => {
  const cells = Array.from(document.querySelectorAll('.jp-MarkdownCell'));
  const rendered = cells.map(c => c.querySelector('.jp-RenderedMarkdown, .myst'))
                        .filter(r => r);
  const text = rendered.map(r => r.innerText).join('\\n');
  const solutions = Array.from(document.querySelectorAll('.jp-MarkdownCell details'))
    .filter(d => (d.querySelector('summary') || {}).innerText.includes('Solution'));
  return {
    cells: cells.length,
    rendered: rendered.length,
    math: document.querySelectorAll('.jp-MarkdownCell .katex, .jp-MarkdownCell mjx-container')
            .length,
    raw: ['{admonition}', ':class: dropdown', '{eq}', '{ref}', ')=\\n', '$$']
           .filter(m => text.includes(m)),
    solutions: solutions.length,
    open: solutions.filter(d => d.open).length,
    hidden: solutions.filter(d => {
      const body = Array.from(d.children).filter(c => c.tagName !== 'SUMMARY');
      return body.length > 0 && body.every(c => !c.checkVisibility());
    }).length,
  };
}"""

ALL_RAN = """() => {
  const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
                       .map(p => p.innerText.trim());
  return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
}"""


def expected_solutions() -> int:
    import nbformat

    nb = nbformat.read(CHAPTER, as_version=4)
    return sum(
        cell.source.count("{admonition} Solution")
        for cell in nb.cells
        if cell.cell_type == "markdown"
    )


def test_chapter_runs_in_jupyterlab(page):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_selector(".jp-Notebook .jp-MarkdownCell .myst")
    # wait for the kernel to be ready, the way a student waits for "Idle"
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   const k = w && w.sessionContext && w.sessionContext.session
                             && w.sessionContext.session.kernel;
                   return k && k.status === 'idle'; }"""
    )

    # opened fresh: MyST rendered, solutions folded, saved widget state shown.
    # jupyterlab-myst renders the cells and typesets their math asynchronously, on a busy
    # machine after the kernel is already idle: wait until they have all settled. A timeout
    # falls through to the asserts, which say what is missing.
    settled = f"""() => {{ const r = ({MARKDOWN_REPORT})();
                          return r.cells > 0 && r.rendered === r.cells
                                 && r.math > {MIN_FORMULAS}; }}"""
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(settled)
    report = page.evaluate(MARKDOWN_REPORT)
    assert report["rendered"] == report["cells"], report
    assert report["math"] > MIN_FORMULAS, f"math is not typeset: {report}"
    assert not report["raw"], f"MyST markup shown as text: {report['raw']}"
    assert report["solutions"] == expected_solutions() > 0, report
    assert report["open"] == 0 and report["hidden"] == report["solutions"], (
        f"solutions are not folded: {report}"
    )
    # the trusted notebook shows its saved widget (JupyterLab restores it once the kernel is up)
    page.wait_for_selector(".jp-OutputArea .widget-slider")

    # Run > Run All Cells (the menu's command)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_RAN, timeout=120_000)
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
    assert errors.count() == 0, errors.first.inner_text()

    # the live widget answers a slider
    widget = (
        page.locator(".jp-OutputArea .widget-vbox, .jp-OutputArea .widget-box")
        .filter(has=page.locator(".widget-html"))
        .last
    )
    text = widget.locator(".widget-html").first
    before = text.inner_text()
    handle = widget.locator(".noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([el, before]) => el.innerText !== before", arg=[text.element_handle(), before]
    )
    assert text.inner_text() != before
