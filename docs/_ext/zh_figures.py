"""Sphinx extension: the Chinese edition shows each figure drawn with Chinese words.

``tools/execute.py`` renders every figure (and animation) of a chapter a second time from
the same figure object with its texts translated (``convlib.teaching.figure_text``), and
stores that rendering and its ``[english, chinese]`` text pairs in the output's metadata.
In the Chinese build only, this swaps each output's English picture (``image/png``, or an
animation's ``text/html``) for the stored Chinese one, as the notebook is read. The
English build ignores the metadata (MyST-NB reads only an output's per-type metadata).

It warns (and ``-W`` fails the build) naming the chapter and the English text, for

* a figure without a Chinese rendering (the chapter was executed without it: run
  ``make execute`` for it);
* a text drawn in English because ``locales/zh_CN/LC_MESSAGES/results.po`` had no
  translation for it (``tools/i18n.py update``, translate, re-execute the chapter);
* a text whose translation has changed since the chapter was executed (re-execute it).
"""

from __future__ import annotations

import json
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

KINDS = ("image/png", "text/html")  # a figure's picture; an animation's player


def chinese_notebook(notebook: dict, catalog: dict[str, str]) -> list[str]:
    """Swap each output's picture for its Chinese rendering, in place; the problems.

    >>> nb = {"cells": [{"outputs": [{"data": {"image/png": "EN"}, "metadata": {
    ...     "convbook": {"zh_CN": {"image/png": "ZH", "texts": [["stride 2", "步幅 2"]]}}}}]}]}
    >>> chinese_notebook(nb, {"stride {0}": "步幅 {0}"}), nb["cells"][0]["outputs"][0]
    ([], {'data': {'image/png': 'ZH'}, 'metadata': {}})
    >>> chinese_notebook({"cells": [{"outputs": [{"data": {"image/png": "EN"}}]}]}, {})
    ['a figure without a Chinese rendering (re-execute the chapter)']
    """
    from convlib.teaching.figure_text import CHINESE, METADATA_KEY
    from convlib.teaching.translate import translate

    problems = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            chinese = output.get("metadata", {}).pop(METADATA_KEY, {}).get(CHINESE)
            if chinese is None:
                if "image/png" in data:
                    problems.append("a figure without a Chinese rendering "
                                    "(re-execute the chapter)")
                continue
            for kind in KINDS:
                if kind in chinese and kind in data:
                    data[kind] = chinese[kind]
            for english, drawn in chinese.get("texts", []):
                now = translate(english, catalog)
                if now is None:
                    problems.append(f"figure text without a translation in results.po: "
                                    f"{english!r}")
                elif drawn != now:
                    problems.append(f"figure text drawn with an older translation "
                                    f"(re-execute the chapter): {english!r}")
    return problems


def swap_figures(app: Sphinx, docname: str, source: list[str]) -> None:
    if not (app.config.language or "").startswith("zh"):
        return
    if Path(app.env.doc2path(docname)).suffix != ".ipynb":
        return
    from convlib.teaching.translate import RESULTS_CATALOG, load_catalog

    notebook = json.loads(source[0])
    path = RESULTS_CATALOG
    catalog = load_catalog(path) if path.exists() else {}
    for problem in dict.fromkeys(chinese_notebook(notebook, catalog)):
        logger.warning("%s", problem, location=docname, type="i18n", subtype="figure")
    source[0] = json.dumps(notebook, ensure_ascii=False)


def setup(app: Sphinx) -> dict:
    app.connect("source-read", swap_figures)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
