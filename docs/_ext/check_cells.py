"""Sphinx extension: fold the chapters' check cells into a labelled "checks" toggle.

A chapter keeps its prose honest with cells that assert what the text says (against
torch, against an independent computation). They run under nbval like every cell, but a
reader follows the argument, not the asserts: a code cell tagged ``check`` is shown in the
book folded, behind a toggle labelled "Show checks" ("Hide checks" once open), its source
and output together. It is myst-nb's own ``hide-cell`` mechanism with the label set per
cell, so the toggle looks and works like every other folded cell of the book. A cell that
already carries a ``hide-*`` tag keeps that mode and only gets the label.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

TAG = "check"
# The toggle's labels in each edition of the book (docs/_ext/editions.py)
LABELS = {"en": ("Show checks", "Hide checks"), "zh": ("显示检查", "隐藏检查")}


def labels(language: str | None) -> tuple[str, str]:
    """The toggle's (show, hide) labels for a book in ``language``.

    >>> labels("zh_CN")
    ('显示检查', '隐藏检查')
    """
    return LABELS.get((language or "en").split("_")[0], LABELS["en"])


def fold_checks(app: Sphinx, doctree: nodes.document) -> None:
    show, hide = labels(app.config.language)
    for node in doctree.findall(nodes.container):
        if node.get("nb_element") != "cell_code":
            continue
        if f"tag_{TAG}" not in node["classes"]:
            continue
        node.setdefault("hide_mode", "all")
        node["prompt_show"] = show
        node["prompt_hide"] = hide
        node["classes"].append("checks")


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", fold_checks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
