"""The figures' words, from the executed chapters into the results catalog.

``tools/execute.py`` renders every figure of a chapter a second time with its texts in
Chinese, and stores the ``[english, chinese]`` pairs in the output's metadata
(:mod:`convlib.teaching.figure_text`). This collects the English texts, as number
templates (:func:`convlib.teaching.translate.number_template`), into
``locales/zh_CN/LC_MESSAGES/results.po``: a new one comes in empty, each with a comment
naming the chapters that draw it. ``tools/i18n.py update`` calls :func:`update`; its
``check`` then names every figure message still empty or fuzzy.

A message that no figure draws any more is removed, unless something else (a printed
result) also uses it: only messages whose every comment is a figure's are the figures'.

    python tools/figure_messages.py          the figure texts of each chapter, and whether
                                             the catalog translates them
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
from zh_figures import widget_pictures  # noqa: E402

from convlib.teaching.figure_text import CHINESE, METADATA_KEY  # noqa: E402
from convlib.teaching.translate import (  # noqa: E402
    RESULTS_CATALOG,
    SLOT,
    number_template,
)
from tools.catalogs import read_catalog, write_catalog  # noqa: E402

CHAPTERS = ROOT / "chapters"
COMMENT = "figure in "  # the auto comment of a figure's message: "figure in 03_padding..."


def renderings(notebook: Path) -> Iterator[tuple[dict, dict | None]]:
    """Each figure or animation output of an executed chapter, and each picture of its
    saved widgets (as an output), with its Chinese rendering (None if it has none)."""
    nb = json.loads(notebook.read_text(encoding="utf8"))
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            chinese = output.get("metadata", {}).get(METADATA_KEY, {}).get(CHINESE)
            if "image/png" in data or chinese is not None:
                yield output, chinese
    for model, chinese in widget_pictures(nb):
        buffers = {tuple(b.get("path", ())): b.get("data") for b in model.get("buffers", [])}
        yield {"data": {"image/png": buffers.get(("value",))}}, chinese


def figure_texts(notebook: Path) -> list[list[str | None]]:
    """The ``[english, chinese]`` pairs of a chapter's figures, in order, once each."""
    pairs: list[list[str | None]] = []
    for _, chinese in renderings(notebook):
        for pair in (chinese or {}).get("texts", []):
            if pair not in pairs:
                pairs.append(pair)
    return pairs


def templates(chapters: list[Path]) -> dict[str, list[str]]:
    """Each figure text's number template -> the chapters (stems) that draw it."""
    found: dict[str, list[str]] = {}
    for notebook in chapters:
        for english, _ in figure_texts(notebook):
            where = found.setdefault(number_template(str(english).strip())[0], [])
            if notebook.stem not in where:
                where.append(notebook.stem)
    return found


def update(path: Path = RESULTS_CATALOG, chapters: list[Path] | None = None) -> None:
    """Merge the chapters' figure templates into the catalog at ``path``."""
    found = templates(chapters or sorted(CHAPTERS.glob("*.ipynb")))
    catalog = read_catalog(path, CHINESE, "convolution-book results")
    for message in list(catalog):
        if not message.id:
            continue
        others = [c for c in message.auto_comments if not c.startswith(COMMENT)]
        if message.id not in found and not others and message.auto_comments:
            del catalog[message.id]  # no figure draws it any more
    for template, where in found.items():
        # one comment per chapter: a long joined comment would be wrapped, and a
        # wrapped line read back is a comment of its own (not idempotent)
        comments = [COMMENT + chapter for chapter in where]
        message = catalog.get(template)
        if message is None:
            catalog.add(template, auto_comments=comments)
        else:
            others = [c for c in message.auto_comments if not c.startswith(COMMENT)]
            message.auto_comments = [*others, *comments]
    write_catalog(catalog, path)


def slot_problems(english: str, chinese: str) -> list[str]:
    """A translation of a template must keep every number slot, each once.

    >>> slot_problems("stride {0}, k = {1}", "步幅 {0}，k = {1}")
    []
    >>> slot_problems("stride {0}", "步幅")
    ['number slots {0} changed to ']
    """
    before, after = sorted(SLOT.findall(english)), sorted(SLOT.findall(chinese))
    if before == after:
        return []
    shown = " ".join("{" + s + "}" for s in after)
    return [f"number slots {' '.join('{' + s + '}' for s in before)} changed to {shown}"]


def main() -> int:
    for notebook in sorted(CHAPTERS.glob("*.ipynb")):
        outputs = list(renderings(notebook))
        missing = sum(chinese is None for _, chinese in outputs)
        pairs = figure_texts(notebook)
        untranslated = [english for english, chinese in pairs if chinese is None]
        print(f"{notebook.stem}: {len(outputs)} figures, {missing} without a Chinese "
              f"rendering, {len(pairs)} texts, {len(untranslated)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
