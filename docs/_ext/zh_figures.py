"""Sphinx extension: the Chinese edition shows each figure drawn with Chinese words.

``tools/execute.py`` renders every figure (and animation) of a chapter a second time from
the same figure object with its texts translated (``convlib.teaching.figure_text``), and
stores that rendering and its ``[english, chinese]`` text pairs in the output's metadata.
In the Chinese build only, this swaps each output's English picture (``image/png``, or an
animation's ``text/html``) for the stored Chinese one, as the notebook is read. The pictures
of the saved widgets are swapped the same way, for the Chinese twin that
``convlib.teaching.widgets.Picture`` draws while the chapter is executed. The
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
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
TWIN = "convbook-zh-of-"  # convlib.teaching.widgets.CHINESE_TWIN (no convlib import here)


def widget_pictures(notebook: dict) -> list[tuple[dict, dict | None]]:
    """Each picture of the notebook's saved widgets (an Image model), with its Chinese
    rendering in the form of an output's (``{"image/png": ..., "texts": pairs}``), or
    None if the picture has no Chinese twin (``convlib.teaching.widgets.Picture``).

    >>> state = {"p": {"model_name": "ImageModel", "state": {"_dom_classes": []},
    ...                "buffers": [{"path": ["value"], "data": "EN"}]},
    ...          "t": {"model_name": "ImageModel", "state": {"_dom_classes": [TWIN + "p"],
    ...                "tooltip": '[["image", "图像"]]'},
    ...                "buffers": [{"path": ["value"], "data": "ZH"}]}}
    >>> widget_pictures({"metadata": {"widgets": {WIDGET_STATE: {"state": state}}}})
    [({'model_name': 'ImageModel', 'state': {'_dom_classes': []}, \
'buffers': [{'path': ['value'], 'data': 'EN'}]}, {'image/png': 'ZH', 'texts': [['image', '图像']]})]
    """
    state = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {})
    models = state.get("state", {})
    twins = {}
    for model in models.values():
        for name in model.get("state", {}).get("_dom_classes") or []:
            if name.startswith(TWIN):
                twins[name[len(TWIN):]] = model
    pictures = []
    for model_id, model in models.items():
        classes = model.get("state", {}).get("_dom_classes") or []
        if model.get("model_name") != "ImageModel" or any(c.startswith(TWIN) for c in classes):
            continue
        twin = twins.get(model_id)
        chinese = None
        if twin is not None:
            chinese = {"image/png": _value(twin),
                       "texts": json.loads(twin["state"].get("tooltip") or "[]")}
        pictures.append((model, chinese))
    return pictures


def _value(model: dict) -> str | None:
    """The base64 picture of a saved Image model."""
    for buffer in model.get("buffers", []):
        if buffer.get("path") == ["value"]:
            return buffer.get("data")
    return None


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
            problems += text_problems(chinese.get("texts", []), catalog)
    for model, chinese in widget_pictures(notebook):
        if chinese is None:
            problems.append("a widget's picture without a Chinese twin (re-execute the chapter)")
            continue
        for buffer in model.get("buffers", []):
            if buffer.get("path") == ["value"] and chinese["image/png"]:
                buffer["data"] = chinese["image/png"]
        problems += text_problems(chinese["texts"], catalog)
    return problems


def text_problems(pairs: list, catalog: dict[str, str]) -> list[str]:
    """What is wrong with a Chinese rendering's ``[english, chinese]`` text pairs."""
    from convlib.teaching.translate import translate

    problems = []
    for english, drawn in pairs:
        now = translate(english, catalog)
        if now is None:
            problems.append(f"figure text without a translation in results.po: {english!r}")
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
