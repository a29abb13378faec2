"""Sphinx extension: keep notebook outputs from loading anything from the network.

HTML that a notebook output carries is copied into the page as it is. Matplotlib's
JavaScript animations (``anim.to_jshtml()``) begin with a stylesheet link to Font Awesome
4 on a CDN, for the icons of their play buttons. The theme already serves Font Awesome
itself (which also draws those ``fa fa-play`` icons), so that link is removed. Any
other reference to a remote script, stylesheet, image or frame in an output is reported
as a warning, which fails the book's build (``-W``).
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# matplotlib.animation's HTML template (matplotlib/_animation_data.py, JS_INCLUDE)
MATPLOTLIB_FONT_AWESOME = re.compile(
    r'<link\s+rel="stylesheet"\s+href="https?://[^"]*/font-awesome/[^"]*\.css"\s*/?>'
)
REMOTE = re.compile(
    r'<(script|link|img|iframe|source|video|audio)\b[^>]*\b(src|href)\s*=\s*["\']?'
    r'(https?:)?//[^"\'\s>]+',
    re.IGNORECASE,
)


def strip_remote(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(nodes.raw)):
        if "html" not in node.get("format", "").split():
            continue
        text = node.astext()
        cleaned = MATPLOTLIB_FONT_AWESOME.sub("", text)
        for match in REMOTE.finditer(cleaned):
            logger.warning(
                "output loads %r from the network; the book must work offline",
                match.group(0)[:120],
                location=node,
                type="offline",
            )
        if cleaned != text:
            node.replace_self(nodes.raw("", cleaned, format=node["format"]))
    for node in doctree.findall(nodes.image):
        uri = node.get("uri", "")
        if re.match(r"(https?:)?//", uri):
            logger.warning(
                "image %r is loaded from the network; the book must work offline",
                uri,
                location=node,
                type="offline",
            )


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", strip_remote)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
