"""The Chinese edition's figures: the same figure, Chinese words, the same numbers.

``convlib.teaching.figure_text`` renders each figure of an executed chapter a second time
with its texts translated from ``locales/zh_CN/LC_MESSAGES/results.po``; the Chinese build
shows that rendering (``docs/_ext/zh_figures.py``).
"""

from __future__ import annotations

import io
import sys
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

from convlib.teaching import figure_text  # noqa: E402
from convlib.teaching.translate import (  # noqa: E402
    NUMBER,
    RESULTS_CATALOG,
    SLOT,
    english_words,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import figure_messages  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CATALOG = {"stride {0}, k = {1}": "步幅 {0}，k = {1}", "probe": "线性探测",
           "full": "全量微调", "test accuracy": "测试准确率", "epoch": "轮次",
           "feature map": "特征图"}


def small_figure():
    fig, (bars, image) = plt.subplots(1, 2, figsize=(6, 2.5))
    bars.bar(["probe", "full"], [0.5, 0.75], label="test accuracy")
    bars.legend()
    bars.set_xlabel("epoch")
    shown = image.imshow(np.eye(3))
    fig.colorbar(shown, label="feature map")
    fig.suptitle("stride 2, k = 3")
    return fig, bars


def test_a_figure_is_rendered_in_chinese_and_left_in_english():
    fig, bars = small_figure()
    english = figure_text.png(fig)
    formatter = bars.xaxis.get_major_formatter()
    chinese, pairs = figure_text.chinese_png(fig, CATALOG)
    assert sorted(map(tuple, pairs)) == sorted([
        ("stride 2, k = 3", "步幅 2，k = 3"), ("probe", "线性探测"), ("full", "全量微调"),
        ("test accuracy", "测试准确率"), ("epoch", "轮次"), ("feature map", "特征图")])
    assert chinese[:8] == b"\x89PNG\r\n\x1a\n" and chinese != english
    # the figure is as it was: texts, tick formatter, fonts, and its English picture
    assert fig.get_suptitle() == "stride 2, k = 3" and bars.get_xlabel() == "epoch"
    assert bars.xaxis.get_major_formatter() is formatter
    assert [t.get_text() for t in bars.get_xticklabels()] == ["probe", "full"]
    assert figure_text.png(fig) == english
    plt.close(fig)


def test_a_text_without_translation_is_drawn_in_english_and_reported():
    fig, ax = plt.subplots()
    ax.set_title("window position 3")
    _, pairs = figure_text.chinese_png(fig, {})
    assert pairs == [["window position 3", None]]
    plt.close(fig)


def test_the_chinese_font_draws_the_characters():
    if figure_text.cjk_font() is None:
        pytest.skip("Noto Sans CJK is not installed (Debian: fonts-noto-cjk)")
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.ft2font import FT2Font

    path = findfont(FontProperties(family=figure_text.CJK_FONT))
    font = FT2Font(path)
    assert all(font.get_char_index(ord(c)) for c in "步幅卷积核特征图轮次")


def results_messages():
    if not RESULTS_CATALOG.exists():
        return []
    with RESULTS_CATALOG.open("rb") as file:
        return [m for m in read_po(file) if m.id]


def test_every_figure_message_is_chinese_with_the_same_number_slots():
    figure_messages_ = [m for m in results_messages()
                        if any(c.startswith(figure_messages.COMMENT) for c in m.auto_comments)]
    problems = [f"{m.id!r}: {'fuzzy' if m.fuzzy else 'untranslated'}"
                for m in figure_messages_ if not m.string or m.fuzzy]
    problems += [f"{m.id!r} -> {m.string!r}: English words {english_words(m.string)}"
                 for m in figure_messages_ if m.string and english_words(m.string)]
    problems += [f"{m.id!r} -> {m.string!r}: number slots differ"
                 for m in figure_messages_ if m.string
                 and Counter(SLOT.findall(m.id)) != Counter(SLOT.findall(m.string))]
    assert not problems, "\n".join(problems)


def chapter_renderings():
    return {nb.stem: list(figure_messages.renderings(nb)) for nb in CHAPTERS}


def test_every_figure_of_the_chapters_has_a_chinese_rendering_with_the_same_numbers():
    renderings = chapter_renderings()
    if not any(chinese for outputs in renderings.values() for _, chinese in outputs):
        pytest.skip("the committed chapters were executed without the Chinese renderings "
                    "(run `make execute`)")
    problems = []
    for chapter, outputs in renderings.items():
        for number, (output, chinese) in enumerate(outputs):
            if chinese is None:
                problems.append(f"{chapter}: figure {number + 1} has no Chinese rendering")
                continue
            if "image/png" in output.get("data", {}) and "image/png" not in chinese:
                problems.append(f"{chapter}: figure {number + 1} has no Chinese picture")
            for english, zh in chinese["texts"]:
                if zh is None:
                    problems.append(f"{chapter}: {english!r} has no translation")
                elif english_words(zh):
                    problems.append(f"{chapter}: {english!r} -> {zh!r} keeps English "
                                    f"words {english_words(zh)}")
                elif Counter(NUMBER.findall(english)) != Counter(NUMBER.findall(zh)):
                    problems.append(f"{chapter}: {english!r} -> {zh!r}: other numbers")
    assert not problems, "\n".join(problems)


def test_widgets_draw_in_the_readers_language(monkeypatch):
    from convlib.teaching import translate

    def render(fig):  # the label as drawn (the texts are translated while saving)
        drawn = []
        fig.canvas.mpl_connect("draw_event", lambda _: drawn.append(ax.get_xlabel()))
        fig.savefig(io.BytesIO(), format="png")
        return drawn[0].encode()

    fig, ax = plt.subplots()
    ax.set_xlabel("epoch")
    monkeypatch.setattr(translate, "load_catalog", lambda: CATALOG)
    monkeypatch.setattr(figure_text, "load_catalog", lambda: CATALOG)
    assert figure_text.in_reader_language(render)(fig) == b"epoch"
    monkeypatch.setenv("CONVBOOK_LANGUAGE", "zh_CN")
    assert figure_text.in_reader_language(render)(fig).decode() == "轮次"
    assert ax.get_xlabel() == "epoch"
    plt.close(fig)


def test_the_figure_texts_are_merged_into_the_results_catalog(tmp_path):
    """New figure texts come in empty, as templates; a message that something else uses
    (a printed result) is kept; a figure message that no figure draws is dropped."""
    import json

    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    def notebook(name, texts):
        output = {"output_type": "display_data", "data": {"image/png": ""},
                  "metadata": {"convbook": {"zh_CN": {"image/png": "", "texts": texts}}}}
        path = tmp_path / f"{name}.ipynb"
        path.write_text(json.dumps({"cells": [{"cell_type": "code", "outputs": [output]}]}))
        return path

    catalog = Catalog(locale="zh_CN")
    catalog.add("stride {0}", "步幅 {0}", auto_comments=["figure in 03_x"])
    catalog.add("gone {0}", "没了 {0}", auto_comments=["figure in 03_x"])
    catalog.add("accuracy {0}", "准确率 {0}", auto_comments=["printed in 09_x"])
    po = tmp_path / "results.po"
    with po.open("wb") as file:
        write_po(file, catalog)
    chapters = [notebook("03_x", [["stride 2", "步幅 2"], ["epoch 7 of 10", None]])]
    figure_messages.update(po, chapters)
    with po.open("rb") as file:
        merged = {m.id: m.string for m in read_po(file) if m.id}
    assert merged == {"stride {0}": "步幅 {0}", "accuracy {0}": "准确率 {0}",
                      "epoch {0} of {1}": ""}


# --- the Chinese build shows the Chinese rendering, and fails without one ---------------

CONF = """
extensions = ["myst_nb", "zh_figures"]
import sys; sys.path.insert(0, {ext!r})
nb_execution_mode = "off"
"""


def _png(color: str) -> bytes:
    fig = plt.figure(figsize=(0.2, 0.2), facecolor=color)
    data = figure_text.png(fig)
    plt.close(fig)
    return data


def _book(tmp_path, chinese):
    import base64
    import json

    book = tmp_path / "book"
    book.mkdir(exist_ok=True)
    (book / "conf.py").write_text(CONF.format(ext=str(ROOT / "docs" / "_ext")))
    (book / "index.md").write_text("# Book\n\n```{toctree}\nfigures\n```\n")
    metadata = {} if chinese is None else {"convbook": {"zh_CN": chinese}}
    output = {"output_type": "display_data", "metadata": metadata,
              "data": {"image/png": base64.b64encode(_png("red")).decode(),
                       "text/plain": "<Figure>"}}
    cells = [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# Figures"},
             {"cell_type": "code", "id": "fig", "metadata": {}, "execution_count": 1,
              "source": "plot()", "outputs": [output]}]
    (book / "figures.ipynb").write_text(json.dumps({
        "cells": cells, "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}}}))
    return book


def _build(book, out, *options):
    import subprocess

    return subprocess.run(
        [Path(sys.executable).parent / "sphinx-build", "-b", "html", "-W", "--keep-going",
         "-q", *options, "-d", str(book.parent / f"doctrees-{out}"), str(book),
         str(book.parent / out)], capture_output=True, text=True)


def _images(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted((folder / "_images").glob("*.png"))]


@pytest.mark.slow
def test_the_chinese_build_shows_the_chinese_rendering_and_names_what_is_missing(tmp_path):
    import base64

    chinese = {"image/png": base64.b64encode(_png("blue")).decode(),
               "texts": [["training loss", "训练损失"]]}
    if figure_text.load_catalog().get("training loss") != "训练损失":
        pytest.skip("results.po does not translate 'training loss' as the test expects")
    book = _book(tmp_path, chinese)
    english = _build(book, "en")
    assert english.returncode == 0, english.stderr
    assert _images(tmp_path / "en") == [_png("red")]
    built = _build(book, "zh", "-D", "language=zh_CN")
    assert built.returncode == 0, built.stderr
    assert _images(tmp_path / "zh") == [_png("blue")]

    chinese["texts"] = [["training loss", None]]  # drawn before it was translated
    built = _build(_book(tmp_path, chinese), "zh2", "-D", "language=zh_CN")
    assert built.returncode != 0 and "figures" in built.stderr, built.stderr
    assert "'training loss'" in built.stderr and "older translation" in built.stderr

    built = _build(_book(tmp_path, None), "zh3", "-D", "language=zh_CN")
    assert built.returncode != 0 and "without a Chinese rendering" in built.stderr


def test_the_book_loads_the_extension():
    """Jupyter Book loads the extensions that _config.yml's `extensions` list names: a
    local extension missing there would silently leave the figures in English."""
    import yaml

    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))["sphinx"]
    assert "zh_figures" in sphinx["local_extensions"]
    assert "zh_figures" in sphinx["config"]["extensions"]


def test_a_widget_picture_has_a_chinese_twin_while_the_book_is_executed(monkeypatch):
    """While a chapter is executed, each widget picture is drawn a second time with
    Chinese words into an undisplayed twin, which the Chinese build shows instead."""
    import json as json_
    import sys

    import matplotlib.pyplot as plt

    from convlib.teaching import figure_text, widgets

    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    import zh_figures

    monkeypatch.setattr(figure_text, "_recording", True)
    picture = widgets.Picture()
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_title("feature map")
    picture.show(fig)
    assert picture.twin is not None
    assert picture.twin._dom_classes == (widgets.CHINESE_TWIN + picture.widget.model_id,)
    assert json_.loads(picture.twin.tooltip) == [["feature map", "特征图"]]
    assert bytes(picture.twin.value[:4]) == b"\x89PNG"
    assert bytes(picture.twin.value) != bytes(picture.widget.value)
    assert zh_figures.TWIN == widgets.CHINESE_TWIN
