"""Sphinx extension: one chapter number in the book, not two.

A chapter notebook's title carries its number (``# 7. Backpropagation ...``), which is
what a reader sees in JupyterLab. In the book, ``_toc.yml`` numbers the chapters itself
(``numbered: true``, continuously across parts), so the title would read "7. 7. ...".
This transform removes the number written in the title of every numbered page, after
checking that it is the number the table of contents gives the page; if the two differ,
the build warns (and fails, with ``-W``), so a renumbered chapter cannot go unnoticed.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

NUMBER = re.compile(r"^(\d+)\.\s+")


def toc_numbers(site_map) -> dict[str, int]:
    """Chapter numbers as the book shows them: the pages of the numbered parts of the
    root, counted continuously (``use_multitoc_numbering``)."""
    numbers: dict[str, int] = {}
    for tree in site_map[site_map.root.docname].subtrees:
        if tree.numbered:
            for item in tree.items:
                if isinstance(item, str):
                    numbers[item] = len(numbers) + 1
    return numbers


class StripChapterNumber(SphinxTransform):
    default_priority = 500

    def apply(self, **kwargs) -> None:
        site_map = getattr(self.config, "external_site_map", None)
        if site_map is None:
            return
        expected = toc_numbers(site_map).get(self.env.docname)
        if expected is None:
            return
        section = self.document.next_node(nodes.section)
        if section is None or not section.children:
            return
        title = section[0]
        if not isinstance(title, nodes.title) or not title.children:
            return
        first = title[0]
        if not isinstance(first, nodes.Text):
            return
        match = NUMBER.match(str(first))
        if match is None:
            return
        if int(match.group(1)) != expected:
            logger.warning(
                "the title says chapter %s, but _toc.yml makes this chapter %d",
                match.group(1),
                expected,
                location=title,
                type="chapter-number",
            )
            return
        title.replace(first, nodes.Text(str(first)[match.end() :]))


def setup(app: Sphinx) -> dict:
    app.add_transform(StripChapterNumber)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
