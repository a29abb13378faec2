"""The Chinese edition: extract, translate, check and build.

The Chinese edition is not a second copy of the book. It is the same sources built with
``language = "zh_CN"``, where Sphinx swaps each English message (a paragraph, heading,
list item, caption) for its translation in ``locales/zh_CN/LC_MESSAGES/<page>.po``.
Code, executed outputs, figures and widgets come from the one set of notebooks.

    python tools/i18n.py update              extract the English messages (gettext builder)
                                             and merge them into the .po files (sphinx-intl):
                                             new messages come in empty, changed ones fuzzy
    python tools/i18n.py status              per page: messages, untranslated, fuzzy
    python tools/i18n.py check [PAGE.po ...] exit 1 on a problem in any .po file: untranslated
                                             or fuzzy message, a translation that lost a
                                             formula, code span or link target, or one
                                             whose typesetting is wrong (a space around a
                                             cross-reference, an inserted title not in
                                             《》, 52k for 5.2 万, a half-width full stop),
                                             or that uses a variant the table of terms
                                             (locales/zh_CN/terms.yml) bans
    python tools/i18n.py export PAGE.po      the messages still to translate, as blocks
                                             (--all: every message, to revise)
    python tools/i18n.py import PAGE.po F    write translated blocks back (checked)
    python tools/i18n.py config              write the Chinese edition's _config.yml
                                             (used by ``make book``)

The printed results (tables, verdicts) and the widgets' labels are translated in
``locales/zh_CN/LC_MESSAGES/results.po``, whose messages are number templates
(``convlib.teaching.translate``); ``update`` extracts them from the committed notebooks
(``tools/result_catalog.py``) and the Chinese build puts them in (``docs/_ext/result_text.py``).

The assignments' instructions are translated the same way, a markdown cell per message,
in ``locales/zh_CN/LC_MESSAGES/assignments/<NN_topic>.po`` (``update`` extracts them; the
cells of solution blocks are left out, so a translation cannot leak a solution).
``tools/assignments.py build`` writes the Chinese student notebook next to the English
one, and refuses while a cell's translation is missing or stale.

A block of ``export`` is the message's number, its English text, and the translation
(empty, or the old one for a stale message) after a ``@@ zh`` line::

    @@ 12
    Output $i$ averages `k` inputs.
    @@ zh
    输出 $i$ 是 `k` 个输入的平均。

Fill in the translations and ``import`` the file. A message whose translation is
identical to its English text (a name such as ``im2col``) counts as translated; a
message without prose (a display equation) is filled in by ``update`` itself.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
sys.path.insert(0, str(ROOT))
try:  # python -m tools.i18n
    from . import figure_messages, result_catalog
    from .cjk_font import CJK
except ImportError:  # python tools/i18n.py: tools/ is first on sys.path
    import figure_messages  # noqa: E402
    import result_catalog  # noqa: E402
    from cjk_font import CJK  # noqa: E402
RESULTS_CATALOG, slot_problems = figure_messages.RESULTS_CATALOG, figure_messages.slot_problems
from editions import CHINESE as LANGUAGE  # noqa: E402
from editions import UNTRANSLATED_PAGES  # noqa: E402
from i18n_markup import has_prose, markup_problems, typesetting_problems  # noqa: E402

from tools.catalogs import read_catalog, write_catalog  # noqa: E402

LOCALES = ROOT / "locales"
MESSAGES = LOCALES / LANGUAGE / "LC_MESSAGES"
# Each build has its own output folder (and doctrees: the builders cannot share them).
GETTEXT_OUTPUT = ROOT / "_build" / "_gettext"
GETTEXT = GETTEXT_OUTPUT / "_build" / "gettext"
ZH_BUILD = ROOT / "_build" / "zh"
# Words the Chinese search must keep whole, besides the glossary's terms and the table of
# terms' aliases (TERMS): words of other Chinese texts that are not terms (卷积运算, ...).
SEARCH_WORDS = LOCALES / LANGUAGE / "search_words.txt"
# One term per concept, the other names readers know, and the variants no translation may
# use (tests/test_terms.py checks the catalogs against it).
TERMS = LOCALES / LANGUAGE / "terms.yml"
GLOSSARY = ROOT / "docs" / "glossary.md"
BIN = Path(sys.executable).parent


read, write = read_catalog, write_catalog  # the one layout of every catalog: tools/catalogs.py


def po_files() -> list[Path]:
    return sorted(MESSAGES.rglob("*.po"))


ASSIGNMENTS = ROOT / "assignments"


def assignment_notebooks() -> list[Path]:
    return sorted(ASSIGNMENTS.glob("[0-9][0-9]_*/*.ipynb"))


def instruction_cells(notebook: Path) -> list[tuple[str, str]]:
    """(cell id, text) of an assignment's markdown cells, except those of solution blocks
    (between otter's ``# BEGIN SOLUTION`` and ``# END SOLUTION`` raw cells)."""
    cells, in_solution = [], False
    for cell in json.loads(notebook.read_text(encoding="utf8"))["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw" and text.startswith("# BEGIN SOLUTION"):
            in_solution = True
        elif cell["cell_type"] == "raw" and text.startswith("# END SOLUTION"):
            in_solution = False
        elif cell["cell_type"] == "markdown" and not in_solution and text.strip():
            cells.append((cell.get("id", ""), text))
    return cells


def assignment_catalog(notebook: Path) -> Path:
    return MESSAGES / "assignments" / f"{notebook.parent.name}.po"


# The cells that otter assign writes into every student notebook (otter-grader 6; the last
# one ends with the `export_cell: instructions` of the assignments' configuration). If
# otter's wording changes, building the Chinese notebooks says which cell has no
# translation, and this list is where to update it.
OTTER_CELLS = [
    "_Type your answer here, replacing this text._",
    "---\n\nTo double-check your work, the cell below will rerun all of the autograder tests.",
    "## Submission\n\nMake sure you have run all cells in your notebook in order before running"
    " the cell below, so that all images/graphs appear in the output. The cell below will"
    " generate a zip file for you to submit. **Please save before exporting!**\n\n"
    "Run this cell to save your work as a zip file, then submit that zip.",
]
OTTER_CATALOG = MESSAGES / "assignments" / "otter.po"


def update_assignments() -> None:
    """The assignments' markdown cells, merged into their catalogs as sphinx-intl would:
    a new cell comes in empty, a changed one keeps its old translation, marked fuzzy."""
    for notebook in assignment_notebooks():
        template = Catalog(locale=None, project=notebook.parent.name)
        for cell_id, text in instruction_cells(notebook):
            template.add(text, auto_comments=[f"cell {cell_id}"])
        path = assignment_catalog(notebook)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read(path) if path.exists() else Catalog(locale=LANGUAGE,
                                                             project=notebook.parent.name)
        catalog.update(template, update_creation_date=False)
        write(catalog, path)
    template = Catalog(locale=None, project="otter")
    for text in OTTER_CELLS:
        template.add(text, auto_comments=["written by otter assign"])
    catalog = read(OTTER_CATALOG) if OTTER_CATALOG.exists() else Catalog(locale=LANGUAGE)
    catalog.update(template, update_creation_date=False)
    write(catalog, OTTER_CATALOG)


def update() -> None:
    """Extract the English messages and merge them into the catalogs."""
    shutil.rmtree(GETTEXT, ignore_errors=True)
    subprocess.run(
        [BIN / "jupyter-book", "build", str(ROOT), "--path-output", str(GETTEXT_OUTPUT),
         "--builder", "custom",
         "--custom-builder", "gettext", "-W", "-n", "--keep-going", "-q"],
        check=True,
    )
    for pattern in UNTRANSLATED_PAGES:  # generated from docstrings: stay in English
        for template in GETTEXT.glob(f"{pattern}.pot"):
            template.unlink()
    subprocess.run(
        [BIN / "sphinx-intl", "update", "-p", str(GETTEXT), "-d", str(LOCALES),
         "-l", LANGUAGE, "-w", "0"],
        check=True, stdout=subprocess.DEVNULL,
    )
    update_assignments()
    result_catalog.update()  # the printed results' and widgets' words: results.po
    figure_messages.update()  # the figures' words, from the executed chapters' outputs
    templates = {p.relative_to(GETTEXT).with_suffix(".po") for p in GETTEXT.rglob("*.pot")}
    templates |= {assignment_catalog(nb).relative_to(MESSAGES) for nb in assignment_notebooks()}
    templates.add(OTTER_CATALOG.relative_to(MESSAGES))
    templates.add(RESULTS_CATALOG.relative_to(MESSAGES))
    for path in po_files():
        if path.relative_to(MESSAGES) not in templates:
            print(f"removed {path.relative_to(ROOT)} (its page is gone)")
            path.unlink()
            continue
        catalog = read(path)
        catalog.obsolete.clear()  # a removed paragraph's translation is not kept
        for message in catalog:
            if message.id and not message.string and not has_prose(message.id):
                message.string = message.id
        write(catalog, path)
    for mo in MESSAGES.rglob("*.mo"):
        mo.unlink()  # Sphinx compiles the catalogs itself; stale .mo files would mislead
    status()


# Where a translation may name another term's variant: a mention beside the term
# ("步幅（也称步长）", "也常译作池化", "d2l-zh 称之为迭代周期") and a quotation (a source's
# own words). The glossary lists the other names this way too.
_MENTION = re.compile(r"(?:(?:也|又|或)常?(?:称|叫|译作|译为|写作)|称之为)[^，。；：）)]*")
_QUOTED = re.compile("“[^”]*”|《[^》]*》|\u300c[^\u300d]*\u300d")  # “…”, 《…》, corner brackets


@functools.cache
def banned_variants() -> list[tuple[re.Pattern, str]]:
    """(pattern of a banned variant, the term to write instead), from the table of terms."""
    return [(re.compile(variant), entry["term"])
            for entry in terms() for variant in entry["banned"]]


def variant_problems(translation: str) -> list[str]:
    """The banned variants of the table of terms that ``translation`` uses.

    >>> variant_problems("全量微调和完全微调")
    ['完全微调: write 全量微调']
    >>> variant_problems("特征图（也称特征映射）；d2l-zh 称之为迭代周期；“池化操作”")
    []
    """
    text = _QUOTED.sub("", _MENTION.sub("", translation))
    return [f"{match}: write {term}" for pattern, term in banned_variants()
            for match in pattern.findall(text)]


def problems(path: Path) -> list[str]:
    """What is wrong with one catalog: missing, stale or damaged translations, a wrong
    typesetting, a term's banned variant."""
    found = []
    for message in read(path):
        if not message.id:
            continue
        where = f"{path.relative_to(ROOT)}: {message.id[:70]!r}"
        if not message.string:
            found.append(f"{where}: untranslated")
        elif message.fuzzy:
            found.append(f"{where}: stale (fuzzy)")
        else:
            found += [f"{where}: {p}" for p in markup_problems(message.id, message.string)]
            if message.string != message.id:  # (a message that is its own translation is
                # the English page's text, Chinese words included)
                found += [f"{where}: {p}" for p in typesetting_problems(message.string)]
                found += [f"{where}: {p}" for p in variant_problems(message.string)]
            if path == RESULTS_CATALOG:
                found += [f"{where}: {p}" for p in slot_problems(message.id, message.string)]
    return found


def status() -> None:
    for path in po_files():
        catalog = [m for m in read(path) if m.id]
        empty = sum(not m.string for m in catalog)
        fuzzy = sum(bool(m.string) and m.fuzzy for m in catalog)
        print(f"{str(path.relative_to(MESSAGES)):48} {len(catalog):5} messages "
              f"{empty:5} untranslated {fuzzy:4} fuzzy")


def check(paths: list[Path] | None = None) -> int:
    paths = [p.resolve() for p in paths] if paths else po_files()
    found = [problem for path in paths for problem in problems(path)]
    print("\n".join(found) or f"{len(paths)} catalogs: every message translated")
    return 1 if found else 0


def export(path: Path, everything: bool = False) -> None:
    for number, message in enumerate(read(path)):
        if everything and message.id and has_prose(message.id):
            print(f"@@ {number}\n{message.id}\n@@ zh\n{message.string}")
        elif message.id and (not message.string or message.fuzzy):
            print(f"@@ {number}{' stale' if message.fuzzy else ''}\n{message.id}\n"
                  f"@@ zh\n{message.string if message.fuzzy else ''}")


BLOCK = re.compile(r"^@@ (\d+)(?: stale)?\n(.*?)\n@@ zh\n(.*?)(?=\n@@ \d|\Z)", re.S | re.M)


def import_blocks(path: Path, blocks: Path) -> int:
    catalog = read(path)
    messages = list(catalog)
    errors = 0
    for number, english, chinese in BLOCK.findall(blocks.read_text(encoding="utf8")):
        message = messages[int(number)]
        chinese = chinese.rstrip("\n")
        if message.id != english:
            print(f"block {number}: its English text is not message {number}'s")
            errors += 1
            continue
        if not chinese.strip():
            continue
        damage = markup_problems(message.id, chinese)
        if damage:
            print(f"block {number}: {', '.join(damage)}")
            errors += 1
            continue
        message.string = chinese
        message.flags.discard("fuzzy")
    write(catalog, path)
    return 1 if errors else 0


def terms() -> list[dict]:
    """The table of terms: for each concept its term, aliases and banned variants."""
    return yaml.safe_load(TERMS.read_text(encoding="utf8"))


def search_words() -> list[str]:
    """The Chinese terms of the glossary (its entries' term lines), the terms and aliases
    of the table of terms, and the extra words."""
    text = GLOSSARY.read_text(encoding="utf8")
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    words = [line.strip() for line in body.splitlines()
             if line and not line[0].isspace() and CJK.search(line)]
    for entry in terms():
        words += [entry["term"], *entry["aliases"]]
    words += SEARCH_WORDS.read_text(encoding="utf8").split()
    return sorted(set(words))


def translated_messages(*paths: Path) -> dict[str, str]:
    """English text -> translation, for the messages translated and not stale."""
    return {m.id: m.string for path in paths if path.exists() for m in read(path)
            if m.id and m.string and not m.fuzzy}


def config() -> Path:
    """The Chinese edition's Jupyter Book configuration: the English one, in Chinese."""
    settings = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
    settings["title"] = "卷积神经网络中的卷积"
    settings["author"] = "convolution-book 作者"
    settings["html"]["extra_footer"] = (
        '© 2026 convolution-book 作者。文字与图片：'
        '<a href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA 4.0</a>；代码：MIT。'
    )
    sphinx = settings["sphinx"]
    # local extensions are found relative to this file's folder
    sphinx["local_extensions"] = {
        name: str(ROOT / folder) for name, folder in sphinx["local_extensions"].items()
    }
    sphinx["config"]["templates_path"] = [
        str(ROOT / folder) for folder in sphinx["config"].get("templates_path", [])
    ]
    sphinx["config"].update(
        language=LANGUAGE,
        locale_dirs=[str(LOCALES)],
        html_search_language="zh",
        # the theme's copyright line has no Chinese; the footer above says it
        html_show_copyright=False,
        nb_code_prompt_show="显示代码单元格",
        nb_code_prompt_hide="隐藏代码单元格",
        # jieba splits the pages' text into words for the search index; this list
        # keeps the book's terms whole (步幅, 感受野, 批量规范化, ...)
        html_search_options={"dict": str(ZH_BUILD / "search_words.txt")},
    )
    ZH_BUILD.mkdir(parents=True, exist_ok=True)
    # jieba's user dictionary: a word per line, with a frequency high enough to win
    words = "".join(f"{word} 100000\n" for word in search_words() if " " not in word)
    (ZH_BUILD / "search_words.txt").write_text(words, encoding="utf8")
    path = ZH_BUILD / "_config.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), "utf8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update")
    sub.add_parser("status")
    checker = sub.add_parser("check")
    checker.add_argument("po", type=Path, nargs="*")
    sub.add_parser("config")
    exporter = sub.add_parser("export")
    exporter.add_argument("po", type=Path)
    exporter.add_argument("--all", action="store_true",
                          help="every message with prose, translated or not (to revise)")
    importer = sub.add_parser("import")
    importer.add_argument("po", type=Path)
    importer.add_argument("blocks", type=Path)
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    elif args.command == "status":
        status()
    elif args.command == "check":
        return check(args.po)
    elif args.command == "config":
        print(config())
    elif args.command == "export":
        export(args.po, args.all)
    elif args.command == "import":
        return import_blocks(args.po, args.blocks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
