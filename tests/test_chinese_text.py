"""The Chinese edition's words: one term per concept, typeset as Chinese, in a Chinese
interface.

The first tests read the catalogs (``locales/zh_CN``) and need no built book:

* every concept of the table of terms (``locales/zh_CN/terms.yml``) has one term, and no
  translation uses a banned variant, except to mention it ("步幅（也称步长）") or in a
  quotation; the glossary lists every term and other name, and the Chinese search keeps
  them whole;
* no space between Chinese text and a cross-reference, an inserted title in 《》, numbers
  in 万, full-width punctuation (``tools/i18n.py check`` runs the same checks);
* the Chinese home page says that the other edition is the English one.

The tests marked ``browser`` read the built book (``make book``): no English string of
the theme's or an extension's interface is left on a Chinese page.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))

import i18n  # noqa: E402  (tools/i18n.py)
from i18n_markup import typesetting_problems  # noqa: E402

TERMS = i18n.terms()


def translations():
    """(catalog, message) for every translated message that is not its own English."""
    for path in i18n.po_files():
        for message in i18n.read(path):
            if message.id and message.string and message.string != message.id:
                yield path, message


# --- terms ------------------------------------------------------------------------------


def test_the_table_of_terms_has_one_term_per_concept():
    keys = {"concept", "term", "aliases", "banned"}
    assert all(set(entry) == keys for entry in TERMS), "each entry: " + ", ".join(keys)
    terms = [entry["term"] for entry in TERMS]
    assert len(set(terms)) == len(terms), "a term names two concepts"
    for entry in TERMS:
        for variant in entry["banned"]:
            pattern = re.compile(variant)
            # a concept's own term is never one of its banned variants, nor any other's
            for term in terms:
                assert not pattern.search(term), f"{variant} bans the term {term}"


def test_no_translation_uses_a_banned_variant():
    found = [f"{path.relative_to(i18n.MESSAGES)}: {problem}: {message.string[:60]!r}"
             for path, message in translations()
             for problem in i18n.variant_problems(message.string)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "text, problem",
    [("在每类 5 个标注时", "标注: write 标签"),
     ("完全微调", "完全微调: write 全量微调"),
     ("从头训练的网络", "从头训练: write 从零训练"),
     ("一个源任务从未展示过的域", "域: write 领域"),
     ("每个特征映射", "特征映射: write 特征图"),
     ("用批归一化", "批归一化: write 批量规范化")],
)
def test_the_check_finds_a_variant(text, problem):
    assert i18n.variant_problems(text) == [problem]


@pytest.mark.parametrize(
    "text",
    ["步幅（stride，也称步长）", "特征图（也称特征映射）", "**汇聚**（pooling，也常译作池化）",
     "“初始化卷积核、卷积、激活函数、池化”", "哪些图像被标注", "已标注的样本", "区域、邻域、频域",
     "标题同为《从零开始大模型开发与微调》", "d2l-zh 称之为特征映射"],
)
def test_the_check_allows_a_mention_a_quotation_and_other_words(text):
    assert i18n.variant_problems(text) == []


def glossary_text() -> str:
    catalog = i18n.MESSAGES / "docs" / "glossary.po"
    return i18n.GLOSSARY.read_text(encoding="utf8") + "".join(
        message.string for message in i18n.read(catalog) if message.id)


@pytest.mark.parametrize("entry", TERMS, ids=[entry["concept"] for entry in TERMS])
def test_the_glossary_lists_the_term_and_its_other_names_and_search_keeps_them(entry):
    glossary, words = glossary_text(), i18n.search_words()
    for word in [entry["term"], *entry["aliases"]]:
        assert word in glossary, f"the glossary does not mention {word}"
        assert word in words, f"the Chinese search would split {word}"


# --- typesetting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, problems",
    [("附录 {ref}`errata` 逐一重新计算了", 2),  # two spaces, and the title is not in 《》
     ("而 {doc}`running_locally` 介绍了", 2),
     ("附录{ref}`errata`逐一重新计算了", 1),  # no spaces, but not in 《》
     ("附录《{ref}`errata`》逐一重新计算了", 0),
     ("{ref}`第 9 章 <sec-x>` 会在", 1),  # an explicit text: no 《》, but no space either
     ("本章在 [第 9 章](09_training_a_cnn.ipynb) 的", 1), ("本章在[第 9 章](09.ipynb)的", 0),
     ("可以在 [Binder](https://mybinder.org) 上打开", 0),
     ("它的 52k 个权重", 1), ("它的 5.2 万个权重", 0), ("卷积核 `k=3` 与 $O(n^2)$", 0),
     ("输出相同.", 1), ("输出相同。见 convlib.conv", 0)],
)
def test_the_typesetting_check(text, problems):
    assert len(typesetting_problems(text)) == problems, typesetting_problems(text)


def test_every_translation_is_typeset_as_chinese():
    found = [f"{path.relative_to(i18n.MESSAGES)}: {problem}"
             for path, message in translations()
             for problem in typesetting_problems(message.string)]
    assert not found, "\n".join(found)


def test_the_chinese_home_page_names_the_english_edition():
    """The home page's sentence about the other edition: on the Chinese edition, the
    other one is English."""
    catalog = i18n.read(i18n.MESSAGES / "intro.po")
    [message] = [m for m in catalog if m.id.startswith("The whole book also exists in")]
    assert "英文版" in message.string and "中文版，" not in message.string, message.string


def test_the_helpers_examples():
    import doctest

    assert doctest.testmod(i18n).failed == 0


# --- the interface of the built Chinese edition -----------------------------------------

# English interface strings: sphinx-book-theme's search field and buttons, its logo's alt
# text, sphinx-togglebutton's hints, the edition switch's name, Sphinx's heading links;
# and the theme's Taiwanese "列印" for the print button.
ENGLISH_INTERFACE = ["Search this book", "Click to show", "Click to hide",
                     "Toggle primary sidebar", "Toggle secondary sidebar",
                     'aria-label="Main"', 'aria-label="Edition"', " - Home\"",
                     "Link to this heading", ' logo" src=', "列印"]


@pytest.mark.browser
def test_chinese_pages_have_no_english_interface_strings():
    pages = sorted((HTML / "zh").rglob("*.html")) if (HTML / "zh").exists() else []
    if not pages:
        pytest.skip(f"the Chinese edition is not built ({HTML / 'zh'}): run `make book`")
    found = {}
    for page in pages:
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf8")
        left = [s for s in ENGLISH_INTERFACE if s in text]
        if left:
            found[str(page.relative_to(HTML))] = left
    assert not found, found
    # the English edition has them: the test looks for the strings the build writes
    english = (HTML / "intro.html").read_text(encoding="utf8")
    assert "Search this book" in english and 'aria-label="Main"' in english
