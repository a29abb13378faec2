"""Sphinx extension: every figure of a chapter says what it shows (its ``alt`` text).

A figure's text alternative is written by hand, once, beside the code that draws it: in
the metadata of the code cell, under ``alt`` -- a string for a cell that shows one figure,
a list of strings for a cell that shows several, in the order of its outputs::

    {"alt": "Two curves of the loss against the epoch: ... notice that ..."}

A figure is a picture output (PNG, SVG, JPEG), a matplotlib JavaScript animation
(``anim.to_jshtml()``) or a saved widget that draws a picture. (myst-nb's own cell
option ``mystnb.image.alt`` gives the same text to every picture of a cell and does not
reach animations or widgets, hence this key.) The texts are set before Sphinx translates
the page, so they are messages of the page's catalog like its paragraphs, and the
Chinese edition shows their translations (``tools/i18n.py update`` extracts them; for
that the gettext builder keeps the pictures of notebook outputs, see
``nb_mime_priority_overrides`` in ``_config.yml``):

* a picture's text becomes the ``alt`` of its ``<img>``, which Sphinx translates itself;
* an animation's or widget's text is carried through translation by a paragraph placed
  after its output, which the HTML writer then turns into the ``alt`` of the animation's frame
  (``<img id="_anim_img...">``), or into ``<span class="widget-alt" data-alt="...">``,
  from which ``_static/widgets-offline.js`` names the widget's picture once it is drawn.

A cell whose number of texts differs from its number of figures is reported (the book is
built with ``-W``, so the build fails). tests/test_notebook_style.py fails on a figure of
a chapter notebook without a text, or with one that is a file name.
"""

from __future__ import annotations

import html
import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

KEY = "alt"
CARRIER = "figure-alt"  # class of the paragraph that carries an animation's or widget's text
_ANIMATION = re.compile(r'<img id="_anim_img\w+"')
_WIDGET_VIEW = 'type="application/vnd.jupyter.widget-view+json"'


def alt_texts(metadata: dict) -> list[str]:
    """The alt texts a cell's metadata gives, one per figure.

    >>> alt_texts({"alt": "A grid."}), alt_texts({"alt": ["One.", "Two."]}), alt_texts({})
    (['A grid.'], ['One.', 'Two.'], [])
    """
    value = metadata.get(KEY)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def is_figure(node: nodes.Node) -> bool:
    """A picture, an animation or a widget view: what needs a text alternative."""
    if isinstance(node, nodes.image):
        return True
    if isinstance(node, nodes.raw) and "html" in node.get("format", "").split():
        text = node.astext()
        return bool(_ANIMATION.search(text)) or _WIDGET_VIEW in text
    return False


class FigureAltText(SphinxTransform):
    """Give each figure of a code cell its text, before the Locale transform (20)."""

    default_priority = 15

    def apply(self, **kwargs) -> None:
        for cell in self.document.findall(nodes.container):
            if cell.get("nb_element") != "cell_code":
                continue
            texts = alt_texts(cell.get("cell_metadata") or {})
            if not texts:
                continue
            figures = [n for n in cell.findall(is_figure)]
            if len(figures) != len(texts):
                logger.warning(
                    "cell %s gives %d alt texts for %d figures",
                    cell.get("cell_index"), len(texts), len(figures),
                    location=cell, type="alt_text",
                )
                continue
            for figure, text in zip(figures, texts):
                if isinstance(figure, nodes.image):
                    figure["alt"] = figure["alt_source"] = text
                    continue
                # after the output's bundle of formats, which builders other than HTML
                # (gettext) drop with everything in it
                bundle = output_bundle(figure)
                carrier = nodes.paragraph(text, text, classes=[CARRIER])
                carrier.source, carrier.line = cell.source, cell.line
                bundle.parent.insert(bundle.parent.index(bundle) + 1, carrier)


class MarkTranslatedAltText(SphinxTransform):
    """Mark a picture whose alt text the Locale transform translated as translated.

    Sphinx swaps in the translation of an image's alt text but leaves the image marked
    untranslated, so editions.ReportUntranslated (26) would report it: mark it here,
    after Locale (20), when its text is no longer the English one.
    """

    default_priority = 22

    def apply(self, **kwargs) -> None:
        for image in self.document.findall(nodes.image):
            source = image.get("alt_source")
            if source is not None and image.get("alt") != source:
                image["translated"] = True


def output_bundle(node: nodes.Node) -> nodes.Node:
    """The outermost container of ``node`` below its output (myst-nb's mime bundle)."""
    while node.parent is not None and node.parent.get("nb_element") != "cell_code_output":
        if node.get("nb_element") == "mime_bundle":
            return node
        node = node.parent
    return node


def place_texts(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """In HTML, turn each carrier paragraph into its figure's text alternative."""
    if app.builder.format != "html":
        return  # (the gettext builder reads the carriers as messages)
    for carrier in list(doctree.findall(nodes.paragraph)):
        if CARRIER not in carrier["classes"]:
            continue
        text = html.escape(carrier.astext(), quote=True)
        siblings = carrier.parent.children[: carrier.parent.index(carrier)]
        figure = next(
            (found[-1] for sibling in reversed(siblings)
             if (found := list(sibling.findall(is_figure)))),
            None,
        )
        if figure is not None and _ANIMATION.search(raw := figure.astext()):
            named = _ANIMATION.sub(lambda m, alt=text: f'{m[0]} alt="{alt}"', raw, count=1)
            figure.replace_self(nodes.raw("", named, format="html"))
            carrier.parent.remove(carrier)
        else:
            carrier.replace_self(
                nodes.raw("", f'<span class="widget-alt" hidden data-alt="{text}"></span>',
                          format="html")
            )


def setup(app: Sphinx) -> dict:
    app.add_transform(FigureAltText)
    app.add_transform(MarkTranslatedAltText)
    app.connect("doctree-resolved", place_texts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
