"""The Chinese edition: translations complete and intact, and stale ones reported.

The first tests need no built book: every committed catalog is fully translated with its
formulas, code and link targets intact, and a change to one English sentence is reported
by the Chinese build, shown on a small book built here with the book's own extension. The
tests marked ``browser`` read the built book (``make book``): every English page has its
Chinese page, the language switch links resolve both ways, in-page links land on an
anchor, both editions show the same outputs, and the served font holds every Chinese
character of the Chinese pages.
"""

from __future__ import annotations

import doctest
import importlib
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
EXT = ROOT / "docs" / "_ext"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(EXT))  # the book's Sphinx extensions: a folder, not a package

import i18n_markup  # noqa: E402

from tools import i18n  # noqa: E402


@pytest.mark.parametrize("module", ["i18n_markup", "editions", "check_cells"])
def test_extension_examples(module):
    failed, _ = doctest.testmod(importlib.import_module(module))
    assert failed == 0


def test_every_catalog_is_translated_and_keeps_its_markup(capsys):
    assert i18n.po_files(), "no catalogs in locales/zh_CN"
    assert i18n.check() == 0, capsys.readouterr().out


def test_markup_check_catches_damage():
    """The check behind `import` and `check` rejects each kind of damage, independently
    of how the parts are found: a dropped formula, an edited code span, a changed link or
    reference target."""
    english = ("See [Chapter 3](03_padding.ipynb) and {ref}`padding <sec-pad>`:"
               " $o = i - k + 1$ for `conv2d`.")
    good = ("见[第 3 章](03_padding.ipynb)和{ref}`填充 <sec-pad>`："
            "`conv2d` 的 $o = i - k + 1$。")
    assert i18n_markup.markup_problems(english, good) == []
    for broken in [
        good.replace("$o = i - k + 1$", "o = i - k + 1"),
        good.replace("`conv2d`", "`Conv2d`"),
        good.replace("03_padding.ipynb", "03.ipynb"),
        good.replace("<sec-pad>", "<sec-padding>"),
    ]:
        assert i18n_markup.markup_problems(english, broken), broken


# --- a changed English sentence makes the Chinese build complain ----------------------

CONF = """
extensions = ["myst_nb", "editions"]
import sys; sys.path.insert(0, {ext!r})
myst_enable_extensions = ["dollarmath", "colon_fence"]
nb_execution_mode = "off"
locale_dirs = ["locales"]
gettext_compact = False
gettext_location = False
"""
PAGE = """\
(sec-intro)=
# Padding

Output $i$ sees inputs $i$ to $i + k - 1$, see {ref}`the intro <sec-intro>`.

```{admonition} Solution
:class: dropdown
The output has $n - k + 1$ entries.
```
"""
NOTEBOOK_MARKDOWN = "A notebook paragraph about `conv2d`."
TRANSLATIONS = {
    "Padding": "填充",
    "Output $i$ sees inputs $i$ to $i + k - 1$, see {ref}`the intro <sec-intro>`.":
        "输出 $i$ 看到输入 $i$ 到 $i + k - 1$，见{ref}`引言 <sec-intro>`。",
    "Solution": "解答",
    "The output has $n - k + 1$ entries.": "输出有 $n - k + 1$ 个元素。",
    "Notebook": "笔记本",
    NOTEBOOK_MARKDOWN: "关于 `conv2d` 的一段笔记本文字。",
}


def _notebook(markdown: str) -> str:
    cells = [
        {"cell_type": "markdown", "id": "prose", "metadata": {},
         "source": "# Notebook\n\n" + markdown},
        {"cell_type": "code", "id": "code", "metadata": {}, "execution_count": 1,
         "source": "1 + 1",
         "outputs": [{"output_type": "execute_result", "execution_count": 1,
                      "metadata": {}, "data": {"text/plain": "2"}}]},
    ]
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                               "language": "python"},
                "language_info": {"name": "python"}}
    return json.dumps({"cells": cells, "metadata": metadata, "nbformat": 4,
                       "nbformat_minor": 5})


def _sphinx(book: Path, builder: str, out: str, *options: str):
    return subprocess.run(
        [BIN / "sphinx-build", "-b", builder, "-W", "--keep-going", "-q", *options,
         "-d", str(book.parent / "out" / f"doctrees-{out}"), str(book),
         str(book.parent / "out" / out)],
        capture_output=True, text=True,
    )


def _extract(book: Path) -> None:
    """What `make translations` does: gettext builder, then sphinx-intl."""
    extracted = _sphinx(book, "gettext", "gettext")
    assert extracted.returncode == 0, extracted.stderr
    subprocess.run([BIN / "sphinx-intl", "update", "-p", str(book.parent / "out" / "gettext"),
                    "-d", str(book / "locales"), "-l", "zh_CN", "-w", "0"],
                   check=True, capture_output=True)


@pytest.fixture
def small_book(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "conf.py").write_text(CONF.format(ext=str(EXT)))
    (book / "index.md").write_text(PAGE + "\n```{toctree}\nnotebook\n```\n")
    (book / "notebook.ipynb").write_text(_notebook(NOTEBOOK_MARKDOWN))
    _extract(book)
    catalogs = sorted((book / "locales").rglob("*.po"))
    assert [p.stem for p in catalogs] == ["index", "notebook"]
    for path in catalogs:
        catalog = i18n.read(path)
        for message in catalog:
            if message.id:
                message.string = TRANSLATIONS[message.id]
        i18n.write(catalog, path)
    return book


def test_changed_english_sentence_is_reported_until_translated(small_book):
    book = small_book
    zh = ["-D", "language=zh_CN"]
    built = _sphinx(book, "html", "zh", *zh)
    assert built.returncode == 0, built.stderr
    page = (book.parent / "out" / "zh" / "notebook.html").read_text(encoding="utf8")
    assert "一段笔记本文字" in page

    # one English sentence changes: the Chinese build fails and names it
    changed = "A notebook paragraph about `conv2d` and `conv1d`."
    (book / "notebook.ipynb").write_text(_notebook(changed))
    built = _sphinx(book, "html", "zh", *zh)
    assert built.returncode != 0
    assert "untranslated" in built.stderr and "notebook.ipynb" in built.stderr, built.stderr
    assert "and `conv1d`" in built.stderr

    # after `make translations` the old translation is kept but marked fuzzy: still reported
    _extract(book)
    catalog = i18n.read(book / "locales" / "zh_CN" / "LC_MESSAGES" / "notebook.po")
    entry = catalog.get(changed)
    assert entry is not None and entry.fuzzy and entry.string == TRANSLATIONS[NOTEBOOK_MARKDOWN]
    built = _sphinx(book, "html", "zh", *zh)
    assert built.returncode != 0 and "stale translation" in built.stderr, built.stderr

    # updating the translation (and dropping the fuzzy flag) makes the build clean again
    entry.string = "关于 `conv2d` 和 `conv1d` 的一段笔记本文字。"
    entry.flags.discard("fuzzy")
    i18n.write(catalog, book / "locales" / "zh_CN" / "LC_MESSAGES" / "notebook.po")
    built = _sphinx(book, "html", "zh", *zh)
    assert built.returncode == 0, built.stderr


# --- the built book: both editions ------------------------------------------------------

built = pytest.mark.skipif(
    not (HTML / "zh" / "index.html").exists(), reason="the book is not built: run `make book`"
)


def english_pages() -> list[Path]:
    """The pages of the book: those of _toc.yml, and the index and search pages."""
    from test_browser import toc_pages

    pages = [f"{page}.html" for page in toc_pages()] + ["genindex.html", "search.html"]
    return [Path(page) for page in pages]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.switch: list[str] = []
        self.text: list[str] = []
        self.images: list[str] = []
        self.lang = None
        self._in_switch = self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "nav" and "edition-switch" in (attrs.get("class") or ""):
            self._in_switch = 1
        if tag == "a" and attrs.get("href"):
            (self.switch if self._in_switch else self.links).append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_switch = 0
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf8"))
    return parser


@pytest.mark.browser
@built
def test_every_english_page_has_its_chinese_page_and_switch():
    pages = english_pages()
    assert len(pages) > 40
    for page in pages:
        english, chinese = HTML / page, HTML / "zh" / page
        assert chinese.exists(), f"no Chinese page for {page}"
        en, zh = parse(english), parse(chinese)
        assert zh.lang == "zh-CN" and en.lang == "en", (page, en.lang, zh.lang)
        assert [(english.parent / href).resolve() for href in en.switch] == [chinese.resolve()]
        assert [(chinese.parent / href).resolve() for href in zh.switch] == [english.resolve()]


@pytest.mark.browser
@built
def test_links_with_an_anchor_land_on_it_in_both_editions():
    """Translated headings keep the English anchors that links point to."""
    missing = []
    cache: dict[Path, set[str]] = {}
    for edition in (HTML, HTML / "zh"):
        for page in english_pages():
            source = edition / page
            for href in parse(source).links:
                if "://" in href or "#" not in href or href.startswith("#"):
                    continue
                target, anchor = href.split("#", 1)
                path = (source.parent / target).resolve()
                if path.suffix != ".html" or not anchor:
                    continue
                if path not in cache:
                    cache[path] = parse(path).ids if path.exists() else set()
                if anchor not in cache[path]:
                    missing.append(f"{source.relative_to(HTML)} -> {href}")
    assert not missing, "\n".join(missing[:20])


PRINTED = re.compile(r'<div class="output (?:stream|text_plain)[^"]*">(.*?)</div>', re.S)


def printed_digits_of(html: str) -> list[str]:
    """The digit runs of a page's printed outputs, in order."""
    return re.findall(r"\d+", re.sub(r"<[^>]*>", " ", "".join(PRINTED.findall(html))))


def chinese_renderings(chapter: Path) -> dict[bytes, bytes]:
    """A chapter's figures: English PNG bytes -> the Chinese rendering stored with them."""
    import base64

    from tools import figure_messages

    found = {}
    for output, chinese in figure_messages.renderings(chapter):
        english = output.get("data", {}).get("image/png")
        if english and chinese and chinese.get("image/png"):
            found[base64.b64decode(english)] = base64.b64decode(chinese["image/png"])
    return found


@pytest.mark.browser
@built
def test_both_editions_show_the_same_outputs():
    """One source of numbers: the Chinese page of a chapter shows, figure for figure, the
    Chinese rendering stored with the English figure (the same figure object drawn with
    Chinese words), and its printed outputs have the same numbers in the same order."""
    for rel in english_pages():
        if rel.parts[0] != "chapters":
            continue
        page = HTML / rel
        en, zh = parse(page), parse(HTML / "zh" / rel)
        assert len(en.images) == len(zh.images), rel
        renderings = chinese_renderings(ROOT / rel.with_suffix(".ipynb"))
        for en_src, zh_src in zip(en.images, zh.images, strict=True):
            if "_images/" not in en_src:  # the theme's logos
                assert Path(en_src).name == Path(zh_src).name, rel
                continue
            en_png = (page.parent / en_src).read_bytes()
            zh_png = (HTML / "zh" / rel).parent.joinpath(zh_src).read_bytes()
            assert renderings.get(en_png) == zh_png, (rel, en_src)
        assert printed_digits_of(page.read_text(encoding="utf8")) == printed_digits_of(
            (HTML / "zh" / rel).read_text(encoding="utf8")), rel


@pytest.mark.browser
@built
def test_the_served_font_holds_every_chinese_character_of_the_chinese_pages():
    from tools import cjk_font

    in_font = cjk_font.font_characters()
    missing: dict[str, str] = {}
    for page in english_pages():
        text = "".join(parse(HTML / "zh" / page).text)
        for char in set(cjk_font.CJK.findall(text)) - in_font:
            missing.setdefault(char, str(page))
    assert not missing, f"not in the font (run tools/cjk_font.py): {missing}"


@pytest.mark.browser
@built
def test_chinese_pages_are_translated():
    """Most of a chapter's words are Chinese in the Chinese edition (the build itself
    fails on any untranslated paragraph; this checks that the build used the catalogs)."""
    for rel in english_pages():
        if rel.parts[0] != "chapters":
            continue
        page = HTML / "zh" / rel
        text = "".join(parse(page).text)
        cjk = len(i18n.CJK.findall(text))
        assert cjk > 1000, f"{page.name}: only {cjk} Chinese characters"



# --- the assignments' Chinese student notebooks -------------------------------------------


def _assignments_tool():
    from tools import assignments

    return assignments


def _student_folder(out: Path, source: Path) -> None:
    """What otter assign hands out, as far as the translation is concerned: the
    instruction cells, otter's own cells, and a code cell."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text}
             for _, text in i18n.instruction_cells(source)]
    cells += [{"cell_type": "markdown", "metadata": {}, "source": text}
              for text in i18n.OTTER_CELLS]
    cells.append({"cell_type": "code", "metadata": {}, "execution_count": None,
                  "outputs": [], "source": "grader.check_all()"})
    (out / "student").mkdir(parents=True)
    (out / "student" / source.name).write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


@pytest.mark.parametrize("source", i18n.assignment_notebooks(),
                         ids=[p.parent.name for p in i18n.assignment_notebooks()])
def test_chinese_student_notebook_is_translated_and_refuses_a_stale_cell(
        source, tmp_path, monkeypatch):
    tool = _assignments_tool()
    _student_folder(tmp_path, source)
    path = tool.chinese_student_copy(source.parent, tmp_path)
    cells = json.loads(path.read_text(encoding="utf8"))["cells"]
    prose = [c for c in cells if c["cell_type"] == "markdown"]
    assert prose and all(i18n.CJK.search("".join(c["source"])) for c in prose)
    assert ["".join(c["source"]) for c in cells if c["cell_type"] == "code"] == [
        "grader.check_all()"]

    # one instruction changes its English text: the Chinese notebook is not built
    catalog = i18n.read(i18n.assignment_catalog(source))
    first = next(m for m in catalog if m.id)
    first.flags.add("fuzzy")
    stale = tmp_path / "stale.po"
    i18n.write(catalog, stale)
    monkeypatch.setattr(i18n, "assignment_catalog", lambda notebook: stale)
    with pytest.raises(SystemExit, match="no current Chinese translation"):
        tool.chinese_student_copy(source.parent, tmp_path)


@pytest.mark.browser
@built
def test_chinese_table_of_contents_is_translated():
    """The part captions of the sidebar come from _toc.yml, not from a page: translated
    by docs/_ext/editions.py."""
    page = (HTML / "zh" / "chapters" / "01_what_is_convolution.html").read_text("utf8")
    captions = re.findall(r'caption-text">([^<]*)<', page)
    assert len(captions) >= 5, captions
    assert all(i18n.CJK.search(caption) for caption in captions), captions


# --- the chapters as Chinese notebooks (tools/zh_notebooks.py) ----------------------------

CHAPTER_NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


def printed_digits(cell: dict) -> list[str]:
    """The digit runs of a cell's printed outputs, in order."""
    texts = []
    for output in cell.get("outputs", []):
        texts.append("".join(output.get("text", "")))
        texts.append("".join(output.get("data", {}).get("text/plain", "")))
    return re.findall(r"\d+", "".join(texts))


@pytest.mark.parametrize("chapter", CHAPTER_NOTEBOOKS, ids=[p.stem for p in CHAPTER_NOTEBOOKS])
def test_chinese_notebook_has_chinese_prose_and_the_same_code_and_outputs(chapter):
    import nbformat

    from tools import zh_notebooks

    english = json.loads(chapter.read_text(encoding="utf8"))
    chinese = zh_notebooks.chinese_notebook(chapter)
    nbformat.validate(nbformat.from_dict(chinese))
    assert len(chinese["cells"]) == len(english["cells"])
    first_code = True
    for en, zh in zip(english["cells"], chinese["cells"], strict=True):
        if en["cell_type"] != "markdown":
            source = "".join(zh["source"])
            if en["cell_type"] == "code" and first_code:  # it asks for Chinese figures
                assert source.endswith(zh_notebooks.CHINESE_FIGURES)
                source = source[: -len(zh_notebooks.CHINESE_FIGURES)].rstrip("\n")
                first_code = False
            assert source == "".join(en["source"]).rstrip("\n") or source == "".join(
                en["source"])
            # the same numbers in the printed results (consecutive prints may be joined):
            # only words were translated
            assert printed_digits(zh) == printed_digits(en)
            continue
        # fenced code in a markdown cell (a shell command) is code: it stays as it is
        text = re.sub(r"^```(?!\{).*?^```", "", "".join(zh["source"]), flags=re.S | re.M)
        for line in text.split("\n"):
            # no English sentence left: a line of prose holds Chinese
            prose = re.sub(r"\$[^$]*\$|`[^`]*`|\]\([^)]*\)|\{\w+\}", " ", line)
            if re.search(r"([A-Za-z]{2,}[ ,;:]+){5,}", prose):
                assert i18n.CJK.search(prose), (chapter.name, line)
    # the saved widgets are the same widgets, with their labels in Chinese
    zh_meta, en_meta = dict(chinese["metadata"]), dict(english["metadata"])
    zh_widgets, en_widgets = zh_meta.pop("widgets", {}), en_meta.pop("widgets", {})
    assert zh_meta == en_meta
    state = "application/vnd.jupyter.widget-state+json"
    assert zh_widgets.get(state, {}).get("state", {}).keys() == en_widgets.get(
        state, {}).get("state", {}).keys()


def test_chinese_notebook_refuses_a_stale_paragraph(monkeypatch):
    from tools import zh_notebooks

    chapter = CHAPTER_NOTEBOOKS[0]
    translations = i18n.translated_messages(
        i18n.MESSAGES / "chapters" / f"{chapter.stem}.po")
    dropped = next(m for m in translations if i18n.has_prose(m) and len(m) > 80)
    monkeypatch.setattr(i18n, "translated_messages",
                        lambda *paths: {k: v for k, v in translations.items() if k != dropped})
    with pytest.raises(zh_notebooks.Untranslated, match="without a current translation"):
        zh_notebooks.chinese_notebook(chapter)


@pytest.mark.browser
@built
def test_chinese_pages_download_the_chinese_notebook():
    for chapter in CHAPTER_NOTEBOOKS:
        served = HTML / "zh" / "_sources" / "chapters" / chapter.name
        text = "".join("".join(c["source"]) for c in json.loads(served.read_text("utf8"))["cells"]
                       if c["cell_type"] == "markdown")
        assert len(i18n.CJK.findall(text)) > 500, chapter.name
