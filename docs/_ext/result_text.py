"""Sphinx extension: the printed results and the widgets' labels of the Chinese edition.

The Chinese edition shows the outputs of the same executed notebooks as the English one;
the catalogs of the pages translate the prose, not the outputs. In the Chinese build this
extension rewrites each notebook as Sphinx reads it (``source-read``), before myst-nb
parses it:

* the printed text: every ``stdout`` stream (consecutive streams of a cell taken together,
  as ``nb_merge_streams`` shows them) and every ``text/plain`` result that the page shows
  (one without a richer representation) and that is not the repr of an object
  (``<Figure ...>``, ``VBox(...)``, ``tensor(...)``), nor a printed listing of code.
  Arrays, shapes and numbers have no words, so they stay as they are; a line with words
  is translated, a table cell by cell (``convlib.teaching.translate.translate_output``),
  its columns re-aligned;
* the saved state of the widgets (notebook metadata ``widgets``): descriptions, the
  labels of a dropdown's options, a label's text, tooltips.

The translations come from ``locales/zh_CN/LC_MESSAGES/results.po``, whose message ids are
number templates: a number is a slot, put back unchanged, so the Chinese table has the
English table's numbers. ``tools/i18n.py update`` extracts the templates from the
committed notebooks (``tools/result_catalog.py``). A line with words but no translation
is a warning naming the chapter and the English text; the book is built with ``-W``.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections.abc import Iterator, Mapping

from zh_figures import TWIN

from convlib.teaching.translate import (
    RESULTS_CATALOG,
    english_words,
    load_catalog,
    number_template,
    translate,
    translate_output,
)

REPR = re.compile(r"^\s*(<[^\n]*>|[A-Za-z_][\w.]*\(.*)\s*$", re.S)
# The mime types that myst-nb shows before text/plain (its default priority for HTML)
RICHER = ("application/vnd.jupyter.widget-view+json", "text/html", "image/svg+xml",
          "image/png", "image/jpeg", "text/markdown", "text/latex")
# The widget models' fields that a reader sees as text
WIDGET_FIELDS = ("description", "tooltip", "description_tooltip", "placeholder")
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def merge_streams(cell: dict) -> None:
    """Join consecutive stdout streams of a cell into one output, as myst-nb shows them."""
    merged: list[dict] = []
    for output in cell.get("outputs", []):
        last = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and output.get("name") == "stdout"
                and last is not None and last.get("output_type") == "stream"
                and last.get("name") == "stdout"):
            last["text"] = _text(last["text"]) + _text(output["text"])
        else:
            merged.append(output)
    cell["outputs"] = merged


def is_code_listing(text: str) -> bool:
    """Whether a printed text is a listing of Python code (three lines or more that parse):
    code is the same in both editions.

    >>> is_code_listing("x = 1\\nfor i in range(3):\\n    x += i\\n"), is_code_listing("loss 0.5")
    (True, False)
    """
    if text.count("\n") < 2:
        return False
    try:
        ast.parse(textwrap.dedent(text))
    except SyntaxError:
        return False
    return True


def printed_texts(nb: dict) -> Iterator[tuple[int, dict, str]]:
    """(cell number, output, key) of each printed text of the notebook that is prose.

    ``output[key]`` (a stream's ``text``) or ``output["data"][key]`` (``text/plain``) is
    the text; the notebook's streams are merged first.
    """
    for number, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        merge_streams(cell)
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stdout":
                if not is_code_listing(_text(output["text"])):
                    yield number, output, "text"
            elif kind in ("execute_result", "display_data"):
                data = output.get("data", {})
                if "text/plain" in data and not any(m in data for m in RICHER):
                    if not REPR.match(_text(data["text/plain"])):
                        yield number, output, "text/plain"


def _get(output: dict, key: str) -> str:
    return _text(output[key] if key == "text" else output["data"][key])


def _set(output: dict, key: str, value: str) -> None:
    if key == "text":
        output["text"] = value
    else:
        output["data"][key] = value


def widget_texts(nb: dict) -> Iterator[tuple[dict, str | tuple[str, int]]]:
    """(model state, field) of each text of the saved widget state that a reader sees;
    a field ``("_options_labels", i)`` is a dropdown's i-th label."""
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for model in state.values():
        fields = model.get("state", {})
        if any(c.startswith(TWIN) for c in fields.get("_dom_classes") or []):
            continue  # a picture's Chinese twin: its texts are zh_figures' concern
        for field in WIDGET_FIELDS:
            if isinstance(fields.get(field), str) and english_words(fields[field]):
                yield fields, field
        if model.get("model_name") == "LabelModel" and english_words(fields.get("value", "")):
            yield fields, "value"
        for i, label in enumerate(fields.get("_options_labels") or []):
            if english_words(label):
                yield fields, ("_options_labels", i)


def _field(fields: dict, field: str | tuple[str, int]) -> str:
    return fields[field[0]][field[1]] if isinstance(field, tuple) else fields[field]


def notebook_messages(nb: dict) -> list[str]:
    """The templates a notebook's printed results and saved widgets need translated."""
    found = []
    for _, output, key in printed_texts(nb):
        english = translate_output(_get(output, key), {})[1]
        found += [number_template(text)[0] for text in english]
    for fields, field in widget_texts(nb):
        found.append(number_template(_field(fields, field).strip())[0])
    return list(dict.fromkeys(found))


def translate_notebook(nb: dict, catalog: Mapping[str, str]) -> list[str]:
    """Translate a notebook's printed results and saved widget labels in place.

    Returns the English lines and labels that had no translation (left in English).
    """
    missing = []
    for number, output, key in printed_texts(nb):
        english = _get(output, key)
        text, lacking = translate_output(english, catalog)
        _set(output, key, text)
        missing += [f"cell {number}: {line!r}" for line in dict.fromkeys(lacking)]
    for fields, field in widget_texts(nb):
        english = _field(fields, field)
        text = translate(english, catalog)
        if text is None:
            missing.append(f"widget label {english!r}")
            continue
        if isinstance(field, tuple):
            fields[field[0]][field[1]] = text
        else:
            fields[field] = text
    return missing


def rewrite_source(app, docname: str, source: list[str]) -> None:
    """``source-read``: the Chinese edition's notebook, its outputs in Chinese."""
    from editions import CHINESE, edition  # beside this file
    from sphinx.util import logging

    if edition(app) != CHINESE or app.builder.name == "gettext":
        return
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    nb = json.loads(source[0])
    missing = translate_notebook(nb, load_catalog(RESULTS_CATALOG))
    logger = logging.getLogger(__name__)
    for what in missing:
        logger.warning("printed result without translation in results.po: %s", what,
                       location=docname, type="i18n", subtype="results")
    source[0] = json.dumps(nb, ensure_ascii=False)


def setup(app) -> dict:
    app.connect("source-read", rewrite_source)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
