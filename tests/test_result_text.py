"""The Chinese edition's printed results and widget labels (docs/_ext/result_text.py).

Read from the committed notebooks, as the Chinese build reads them: every printed line
with words has a translation in results.po, the translation has no English words left
(beyond ``translate.KEPT_WORDS``, code, mathematics and single letters), and it shows
the same numbers in the same order as the English line. The numbers are read from the
whole English and Chinese lines, independently of the templates' slots, twice: with
``translate.NUMBER`` and as plain runs of digits.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from convlib.teaching import translate as T

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import result_text  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
DIGITS = re.compile(r"\d+")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf8"))


def _pairs(nb: dict):
    """(cell, English text, Chinese text) of each printed result of the notebook."""
    english = copy.deepcopy(nb)
    chinese = copy.deepcopy(nb)
    missing = result_text.translate_notebook(chinese, T.load_catalog())
    assert not missing, missing
    before = list(result_text.printed_texts(english))
    after = list(result_text.printed_texts(chinese))
    assert len(before) == len(after)
    for (number, out_en, key), (_, out_zh, _) in zip(before, after):
        yield number, result_text._get(out_en, key), result_text._get(out_zh, key)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_printed_results_are_chinese_with_the_same_numbers(path):
    checked = 0
    for number, english, chinese in _pairs(_load(path)):
        en_lines, zh_lines = english.split("\n"), chinese.split("\n")
        assert len(en_lines) == len(zh_lines), f"cell {number}: lines added or lost"
        for en, zh in zip(en_lines, zh_lines):
            assert T.english_words(zh) == [], f"cell {number}: {zh!r} (from {en!r})"
            assert T.NUMBER.findall(zh) == T.NUMBER.findall(en), f"cell {number}: {en!r} -> {zh!r}"
            assert DIGITS.findall(zh) == DIGITS.findall(en), f"cell {number}: {en!r} -> {zh!r}"
            checked += bool(T.english_words(en))
    assert checked > 0, path.stem  # every chapter prints words


def test_every_english_line_of_the_chapters_is_covered():
    """The words each chapter prints: a line left in English would fail the build."""
    catalog = T.load_catalog()
    lacking = [f"{path.stem}: {t}" for path in CHAPTERS
               for t in result_text.notebook_messages(_load(path)) if t not in catalog]
    assert not lacking, lacking


def test_table_columns_stay_aligned():
    """Chapter 11's result table: the strategy codes in Chinese, columns re-padded."""
    nb = _load(ROOT / "chapters" / "11_fine_tuning.ipynb")
    tables = [zh for _, en, zh in _pairs(nb) if "discriminative" in en and "±" in en
              and "52,357" in en]
    assert tables
    lines = [line for line in tables[0].split("\n") if "52,357" in line or "645" in line]
    assert any(line.startswith("分层学习率") for line in lines)
    ends = {T.display_width(line) for line in lines}
    assert len(ends) == 1, lines  # right-aligned last column: every row ends together
    codes = ("从零训练", "线性探测", "仅训练分类头", "部分冻结", "全量微调", "分层学习率", "LoRA")
    assert all(code in tables[0] for code in codes)


def test_result_translations_keep_the_slots_in_order():
    """A number's position in a line is part of what the test above compares."""
    with T.RESULTS_CATALOG.open("rb") as file:
        catalog = read_po(file)
    for message in catalog:
        if message.id and any(c.startswith("output of") for c in message.auto_comments):
            assert T.SLOT.findall(message.string) == T.SLOT.findall(message.id), message.id


def test_saved_widget_labels_have_translations():
    catalog = T.load_catalog()
    found = 0
    for path in CHAPTERS:
        nb = _load(path)
        for fields, field in result_text.widget_texts(nb):
            text = result_text._field(fields, field)
            found += 1
            zh = T.translate(text, catalog)
            assert zh is not None and not T.english_words(zh), f"{path.stem}: {text!r}"
    assert found >= 10


def test_widgets_show_chinese_labels_live(monkeypatch):
    from convlib.teaching import widgets

    monkeypatch.setenv("CONVBOOK_LANGUAGE", "zh_CN")
    box = widgets.output_size_explorer(7, 3)
    sliders = box.children[0].children[0].children
    assert [s.description for s in sliders] == ["输入尺寸 n", "卷积核大小 k", "步幅 s", "填充 p",
                                                "扩张率 d"]
    import numpy as np

    explorer = widgets.kernel_explorer(np.eye(8), {"identity": np.eye(3)})
    choice = explorer.children[0]
    assert choice.description == "卷积核"
    assert choice.options == (("恒等", "identity"), ("自定义 3x3", "custom 3x3"))
    assert choice.value == "identity"
    monkeypatch.setenv("CONVBOOK_LANGUAGE", "en")
    assert widgets.output_size_explorer(7, 3).children[0].children[0].children[0].description \
        == "input size n"


def test_a_missing_translation_names_the_cell_and_the_english_text():
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "probe  0.5\n"},
        {"output_type": "stream", "name": "stdout", "text": "stride 2 gives 3 ms\n"}]}]}
    missing = result_text.translate_notebook(nb, {"probe": "线性探测"})
    assert missing == ["cell 0: 'stride 2 gives 3 ms'"]
    assert nb["cells"][0]["outputs"][0]["text"] == "线性探测  0.5\nstride 2 gives 3 ms\n"
    assert result_text.notebook_messages(nb) == ["stride {0} gives {1} ms"]


def test_code_listings_and_reprs_are_left_alone():
    assert result_text.is_code_listing("a = 1\nif a:\n    b = 2\n")
    assert not result_text.is_code_listing("loss 0.5\nstride 2\n")
    assert result_text.REPR.match("<Figure size 640x480 with 1 Axes>")
    assert result_text.REPR.match("VBox(children=(IntSlider(value=7),))")


def test_results_catalog_is_checked_by_i18n_check():
    """``tools/i18n.py check`` covers results.po: an empty or fuzzy message there fails it."""
    sys.path.insert(0, str(ROOT / "tools"))
    import i18n

    assert T.RESULTS_CATALOG in i18n.po_files()
    assert i18n.problems(T.RESULTS_CATALOG) == []


def test_timing_tables_of_another_run_are_still_translated():
    """The timing cells (tag nbval-ignore-output) print other numbers on every run, of other
    widths, which can move a table's columns: their words are found all the same."""
    import random

    rng = random.Random(0)
    catalog = T.load_catalog()

    def other_run(match: re.Match) -> str:
        text = match.group()
        return f"{rng.uniform(0, 2000):.{rng.randint(1, 3)}f}" if "." in text else text

    timing = [cell for path in CHAPTERS for cell in _load(path)["cells"]
              if "nbval-ignore-output" in cell.get("metadata", {}).get("tags", [])]
    assert timing
    for _ in range(3):
        for cell in copy.deepcopy(timing):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    output["text"] = T.NUMBER.sub(other_run, "".join(output["text"]))
            assert result_text.translate_notebook({"cells": [cell]}, catalog) == []


def test_the_catalog_reader_agrees_with_babel():
    """convlib reads results.po without babel (a student's install has none)."""
    with T.RESULTS_CATALOG.open("rb") as file:
        catalog = read_po(file)
    expected = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    assert T.read_messages(T.RESULTS_CATALOG.read_text(encoding="utf8")) == expected
    for path in sorted((ROOT / "locales").rglob("chapters/*.po"))[:3]:
        with path.open("rb") as file:
            catalog = read_po(file)
        expected = {m.id: m.string for m in catalog
                    if m.id and m.string and not m.fuzzy and not m.context}
        assert T.read_messages(path.read_text(encoding="utf8")) == expected, path.name
