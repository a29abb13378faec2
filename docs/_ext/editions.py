"""Sphinx extension: the English and Chinese editions of the book, built from one source.

The Chinese edition is the English book built again with ``language = "zh_CN"``: Sphinx
replaces every paragraph, heading and caption by its translation from
``locales/zh_CN/LC_MESSAGES/<page>.po`` and keeps everything else (code, executed
outputs, figures, widgets) as it is. ``make book`` puts it in ``_build/html/zh/``.
This extension adds what Sphinx does not:

* a language switch at the top of every page, linking to the same page in the other
  edition (and a ``<link rel="alternate" hreflang>`` for search engines);
* in the Chinese build, the interface strings that no catalog reaches: the theme's
  buttons and search field, sphinx-togglebutton's hints, messages missing from the
  zh_CN catalogs of Sphinx and the theme;
* in the Chinese build, a warning for every message of a page that is shown in English
  because its translation is missing, or stale: ``make translations`` (sphinx-intl)
  marks a translation *fuzzy* when its English paragraph changed, and a fuzzy
  translation is not used. The book is built with ``-W``, so a stale translation fails
  the build, and the warning names the page, the line and the English text.

A message without prose (a display equation, a code name) may be its own translation;
see ``i18n_markup.has_prose``. The API reference pages, generated from the docstrings,
stay in English in both editions.
"""

from __future__ import annotations

import fnmatch
import html
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from docutils import nodes
from i18n_markup import has_prose, translation_state
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain
from sphinx.util.nodes import LITERAL_TYPE_NODES, extract_messages

logger = logging.getLogger(__name__)

# The editions, in the order the switch lists them: (language, folder, switch label).
ENGLISH, CHINESE = "en", "zh_CN"
FOLDER = {ENGLISH: "", CHINESE: "zh/"}
LABEL = {ENGLISH: "English", CHINESE: "中文"}
HREFLANG = {ENGLISH: "en", CHINESE: "zh-CN"}
# Pages whose text is generated from docstrings: in English in both editions.
UNTRANSLATED_PAGES = ["docs/api/generated/*"]


def edition(app: Sphinx) -> str:
    return CHINESE if (app.config.language or "").startswith("zh") else ENGLISH


def other_page(pagename: str, this: str, other: str) -> str:
    """The relative link from ``pagename`` of edition ``this`` to it in edition ``other``.

    >>> other_page("chapters/01_what_is_convolution", "en", "zh_CN")
    '../zh/chapters/01_what_is_convolution.html'
    >>> other_page("index", "zh_CN", "en")
    '../index.html'
    """
    up = "../" * pagename.count("/")
    site_root = up + ("../" if FOLDER[this] else "")
    return f"{site_root}{FOLDER[other]}{pagename}.html"


# The theme's buttons whose labels its own zh_CN catalog lacks
BUTTONS_ZH = {
    "Repository": "代码仓库",
    "Source repositories": "源代码仓库",
    "Suggest edit": "建议修改",
    "Open issue": "提交问题",
    "Open an issue": "提交问题",
    "Show source": "查看源码",
    "Launch interactive content": "启动交互式内容",
}


# The interface strings that no catalog of ours reaches, in the Chinese edition.
# Options that Jupyter Book or an extension sets in English (the search field's
# placeholder, sphinx-togglebutton's hints on folded content):
OPTIONS_ZH = {
    "togglebutton_hint": "点击显示",
    "togglebutton_hint_hide": "点击隐藏",
}
SEARCH_BAR_ZH = "搜索本书……"
HOME_ZH = "首页"
# Messages that the zh_CN catalogs of Sphinx and sphinx-book-theme leave out, or give in
# Taiwanese wording: catalog -> {English: Chinese}. (The strings of our own templates,
# _templates/, are translated in locales/zh_CN/LC_MESSAGES/sphinx.po.)
MESSAGES_ZH = {
    "sphinx": {"Link to this heading": "链接到此标题"},
    "booktheme": {"Print to PDF": "打印为 PDF", "logo": "标志"},
}
BOOK_THEME = "sphinx_book_theme"
# The language switch's accessible name
SWITCH_NAME = {ENGLISH: "Edition", CHINESE: "版本"}


def translate_options(app: Sphinx, config) -> None:
    """In the Chinese edition, the options that carry interface text, in Chinese."""
    if edition(app) != CHINESE:
        return
    for name, value in OPTIONS_ZH.items():
        if name in config:  # (the extension that reads it is loaded)
            setattr(config, name, value)
    if config.html_theme != BOOK_THEME:
        return
    options = dict(config.html_theme_options or {})
    options["search_bar_text"] = SEARCH_BAR_ZH
    logo = dict(options.get("logo") or {})
    if not logo.get("text"):  # the theme's alt text is "<title> - Home"
        logo.setdefault("alt_text", f"{config.html_title or config.project} - {HOME_ZH}")
    options["logo"] = logo
    config.html_theme_options = options


def translate_messages(app: Sphinx) -> None:
    """Add MESSAGES_ZH to the message catalogs Sphinx has loaded (Chinese edition)."""
    if edition(app) != CHINESE:
        return
    from sphinx.locale import translators

    for catalog, messages in MESSAGES_ZH.items():
        if catalog == "booktheme" and app.config.html_theme != BOOK_THEME:
            continue
        table = getattr(translators.get(("general", catalog)), "_catalog", None)
        if table is None:
            logger.warning("no %s message catalog to add the Chinese interface strings to",
                           catalog, type="i18n")
            continue
        table.update(messages)


def translate_buttons(buttons: list) -> None:
    """Translate the labels of sphinx-book-theme's header buttons, in place.

    >>> buttons = [{"text": "Repository", "tooltip": "Launch on Binder", "buttons": []}]
    >>> translate_buttons(buttons); buttons[0]["text"], buttons[0]["tooltip"]
    ('代码仓库', '在 Binder 上启动')
    """
    for button in buttons:
        for key in ("text", "tooltip", "label"):
            value = button.get(key)
            if isinstance(value, str):
                if value.startswith("Launch on "):
                    value = f"在 {value.removeprefix('Launch on ')} 上启动"
                button[key] = BUTTONS_ZH.get(value, value)
        translate_buttons(button.get("buttons") or [])


def add_switch(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    this = edition(app)
    links, alternates = [], []
    for language in (ENGLISH, CHINESE):
        href = html.escape(other_page(pagename, this, language))
        code = HREFLANG[language]
        if language == this:
            links.append(f'<span class="edition-current" lang="{code}">{LABEL[language]}</span>')
        else:
            links.append(f'<a href="{href}" hreflang="{code}" lang="{code}">{LABEL[language]}</a>')
            alternates.append(f'<link rel="alternate" hreflang="{code}" href="{href}" />')
    # shown by _templates/layout.html, above the article
    context["edition_switch"] = (
        f'<nav class="edition-switch" aria-label="{SWITCH_NAME[this]}">'
        + " · ".join(links) + "</nav>"
    )
    context["metatags"] = context.get("metatags", "") + "\n".join(alternates)
    if this == CHINESE:
        translate_buttons(context.get("header_buttons") or [])


@cache
def _catalog(path: Path, mtime: float) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as file:
        return read_po(file)


def catalog_for(app: Sphinx, docname: str) -> Catalog | None:
    domain = docname_to_domain(docname, app.config.gettext_compact)
    for folder in app.config.locale_dirs:
        path = Path(app.srcdir, folder, app.config.language, "LC_MESSAGES", f"{domain}.po")
        if path.exists():
            return _catalog(path, path.stat().st_mtime)
    return None


def why_untranslated(catalog: Catalog | None, message: str) -> str | None:
    """Why ``message`` is shown in English, or None when it may be (its own translation)."""
    entry = catalog.get(message) if catalog is not None else None
    state = translation_state(entry)
    if state == "untranslated":
        return "untranslated (new or changed English text)" if has_prose(message) else None
    if state == "stale":
        return "stale translation (its English text changed; update and unmark fuzzy)"
    if entry.string == message:
        return None  # translated as itself on purpose (a name, a formula)
    return "translation not applied (check its markup)"


class ReportUntranslated(SphinxTransform):
    """Warn about each message of a Chinese page that is still shown in English."""

    default_priority = 26  # after sphinx.transforms.i18n.Locale (20) and its totaliser

    def apply(self, **kwargs) -> None:
        if edition(self.app) != CHINESE or self.app.builder.name == "gettext":
            return
        docname = self.env.docname
        if any(fnmatch.fnmatch(docname, pattern) for pattern in UNTRANSLATED_PAGES):
            return
        catalog = catalog_for(self.app, docname)
        for node, message in extract_messages(self.document):
            if node.get("translated", True) or isinstance(node, LITERAL_TYPE_NODES):
                continue
            reason = why_untranslated(catalog, message)
            if reason:
                shown = message if len(message) < 90 else message[:87] + "..."
                logger.warning("%s: %r", reason, shown, location=node, type="i18n",
                               subtype="untranslated")


def translate_toc_captions(app: Sphinx, doctree: nodes.document) -> None:
    """The part captions of the table of contents (_toc.yml), in the Chinese edition.

    sphinx-external-toc inserts the root page's toctrees after Sphinx has translated the
    page, so their captions ("Part I: ...") are translated here, from the root page's
    catalog, where the gettext builder put them.
    """
    if edition(app) != CHINESE:
        return
    toctrees = list(doctree.findall(addnodes.toctree))
    if not toctrees:
        return
    catalog = catalog_for(app, app.env.docname)
    for toctree in toctrees:
        caption = toctree.get("caption")
        if not caption:
            continue
        entry = catalog.get(caption) if catalog is not None else None
        state = translation_state(entry)
        if state != "translated":
            # missing or stale: Sphinx has not tried it, so why_untranslated cannot say
            reason = "stale translation" if state == "stale" else "untranslated"
            logger.warning("%s: %r", reason, caption, location=toctree, type="i18n",
                           subtype="untranslated")
            continue
        toctree["caption"] = entry.string


def setup(app: Sphinx) -> dict:
    # after sphinx-book-theme has added its header buttons (priority 500)
    app.connect("html-page-context", add_switch, priority=900)
    app.connect("doctree-read", translate_toc_captions)
    # before sphinx-togglebutton writes its hints into the pages (at config-inited, 500)
    app.connect("config-inited", translate_options, priority=100)
    app.connect("builder-inited", translate_messages)
    app.add_transform(ReportUntranslated)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
