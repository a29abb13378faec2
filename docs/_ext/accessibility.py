"""Sphinx extension: accessible names for the controls the theme and myst-nb write.

The book is checked against WCAG 2.1 AA with axe-core in tests/test_browser.py. What the
page templates can fix is fixed in ``_templates/`` (the search and colour-mode buttons);
this extension fixes the HTML that Python code writes:

* myst-nb's folded cells (``hide-input``, and the ``check`` cells of check_cells.py) open
  with a ``<summary aria-label="Toggle hidden content">`` whose name hides its visible
  label ("Show checks"): the summary is written without it, so its name is what it shows;
* the theme's sidebar opens a page's sub-pages with a ``<summary>`` holding only a chevron
  icon: it gets a name, "Pages under <page title>";
* matplotlib's JavaScript animations (``anim.to_jshtml()``, copied from the notebook's
  output) have a frame slider without a label: it gets one ("Frame"), in the page's
  language.

Figures' text alternatives are docs/_ext/alt_text.py's.
"""

from __future__ import annotations

import html
import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

# The words this extension adds, in each edition (docs/_ext/editions.py)
WORDS = {
    "en": {"pages_under": "Pages under {title}", "frame": "Frame"},
    "zh": {"pages_under": "{title}的下级页面", "frame": "帧"},
}


def words(language: str | None) -> dict[str, str]:
    """The extension's words for a book in ``language``.

    >>> words("zh_CN")["frame"]
    '帧'
    """
    return WORDS.get((language or "en").split("_")[0], WORDS["en"])


# --- folded cells: the summary's name is its visible label ----------------------------


def visit_hidden_cell(self: Any, node: nodes.Element) -> None:
    """myst-nb's ``visit_HideCellInput``, less the summary's ``aria-label``."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(
        f'<p class="collapsed admonition-title">{html.escape(node["prompt_show"])}</p>\n'
    )
    self.body.append(
        f'<p class="expanded admonition-title">{html.escape(node["prompt_hide"])}</p>\n'
    )
    self.body.append("</summary>\n")


def depart_hidden_cell(self: Any, node: nodes.Element) -> None:
    self.body.append("</details>\n")


# --- the sidebar: a name for each chevron that opens a page's sub-pages ----------------

# pydata-sphinx-theme's toctree.add_collapse_checkboxes: <a>title</a><details><summary>
# holding only the chevron icon (the link of the page being shown is also "current")
_NAMELESS_SUMMARY = re.compile(
    r'(<a class="(?:current )?reference internal" href="[^"]*">(?P<title>[^<]*)</a>'
    r'\s*<details[^>]*>\s*)'
    r"<summary>"
)


def name_summaries(toc_html: str, template: str) -> str:
    """Give each name-less sidebar ``<summary>`` the name ``template`` (with the title of the
    page whose sub-pages it opens).

    >>> name_summaries('<a class="reference internal" href="a.html">API</a><details>'
    ...                '<summary><span></span></summary>', "Under {title}")[-55:]
    '<summary aria-label="Under API"><span></span></summary>'
    >>> name_summaries('<a class="current reference internal" href="#">API</a><details open>'
    ...                '<summary><span></span></summary>', "Under {title}")[-55:]
    '<summary aria-label="Under API"><span></span></summary>'
    """

    def named(match: re.Match) -> str:
        title = html.unescape(match["title"]).strip()
        label = html.escape(template.format(title=title), quote=True)
        return f'{match[1]}<summary aria-label="{label}">'

    return _NAMELESS_SUMMARY.sub(named, toc_html)


def wrap_toctree(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "names_summaries", False):
        return
    template = words(app.config.language)["pages_under"]

    def generate_named(*args: Any, **kwargs: Any) -> str:
        return name_summaries(str(generate(*args, **kwargs)), template)

    generate_named.names_summaries = True  # type: ignore[attr-defined]
    context["generate_toctree_html"] = generate_named


# --- animations: the frame slider's label ---------------------------------------------

_ANIMATION_SLIDER = re.compile(r'(<input id="_anim_slider\w+" type="range")(?![^>]*aria-label)')


def label_animations(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    label = html.escape(words(app.config.language)["frame"], quote=True)
    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if "_anim_slider" not in text:
            continue
        labelled = _ANIMATION_SLIDER.sub(rf'\1 aria-label="{label}"', text)
        if labelled != text:
            node.replace_self(nodes.raw("", labelled, format=node["format"]))


def setup(app: Sphinx) -> dict:
    from myst_nb.sphinx_ import HideCodeCellNode

    app.add_node(
        HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_hidden_cell)
    )
    # after pydata-sphinx-theme's own handler (priority 500) has defined the function
    app.connect("html-page-context", wrap_toctree, priority=900)
    app.connect("doctree-resolved", label_animations)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
