"""The chapters as Chinese notebooks, to download from the Chinese edition and run.

The Chinese edition translates the book paragraph by paragraph (``locales/zh_CN``, see
``tools/i18n.py``). This writes each chapter notebook again with its markdown cells in
Chinese: every paragraph, heading, list item, table cell and admonition (title and body)
is replaced by its translation from the chapter's catalog, found the way Sphinx finds it
(the block's source text, its lines joined by spaces). Code cells, outputs and widget
state are the English notebook's, unchanged: one source of numbers. The first code cell
also sets ``CONVBOOK_LANGUAGE=zh_CN``, so that a reader who runs the notebook gets the
figures and widgets drawn with Chinese words (``convlib.teaching.figure_text``); the saved
figure outputs, printed results and widget labels are those the Chinese edition shows
(``docs/_ext/zh_figures.py``, ``docs/_ext/result_text.py``): the same numbers.

    python tools/zh_notebooks.py OUT_DIR      write OUT_DIR/<chapter>.ipynb for every chapter

``make book`` writes them over the copies that the Chinese pages' download button serves
(``_build/html/zh/_sources/chapters/``). A paragraph without a current translation stops
the script with its text, as it stops the book's build.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:  # python -m tools.zh_notebooks
    from . import i18n
except ImportError:  # python tools/zh_notebooks.py: tools/ is first on sys.path
    import i18n
import result_text  # noqa: E402  (docs/_ext, on the path that i18n sets)
import zh_figures  # noqa: E402

from convlib.teaching.translate import load_catalog  # noqa: E402

CHAPTERS = ROOT / "chapters"
# Appended to the first code cell: figures drawn in Chinese when the reader runs the cells
CHINESE_FIGURES = """
import os  # 中文版：图中的文字用中文
os.environ["CONVBOOK_LANGUAGE"] = "zh_CN"
from convlib.teaching import figure_text
figure_text.install()"""


@cache
def markdown_parser():
    """MyST's Markdown parser with the book's extensions (_config.yml)."""
    import yaml
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
    extensions = set(config["parse"]["myst_enable_extensions"])
    return create_md_parser(MdParserConfig(enable_extensions=extensions), RendererHTML)


class Untranslated(Exception):
    """Blocks of a chapter with prose and no current translation."""


def translate_markdown(text: str, translations: dict[str, str], missing: list[str]) -> str:
    """``text`` with each of its blocks replaced by its translation.

    >>> translate_markdown("## Padding\\n\\nSome\\ntext.", {"Padding": "填充",
    ...                    "Some text.": "一些文字。"}, [])
    '## 填充\\n\\n一些文字。'
    """
    lines = text.split("\n")
    tokens = markdown_parser().parse(text)
    edits: list[tuple[int, int, list[str]]] = []

    def translated(message: str) -> str | None:
        message = message.replace("\n", " ").strip()
        if message in translations:
            return translations[message]
        if i18n.has_prose(message):
            missing.append(message)
        return None

    for i, token in enumerate(tokens):
        if token.type in ("paragraph_open", "heading_open") and token.map:
            inline = tokens[i + 1]
            new = translated(inline.content)
            if new is None:
                continue
            start, end = token.map
            first = inline.content.split("\n")[0]
            prefix = lines[start][: max(lines[start].find(first), 0)]  # "## ", "- ", "> "
            edits.append((start, end, [prefix + new]))
        elif token.type == "tr_open" and token.map:
            row, column = token.map[0], 0
            line = lines[row]
            for cell in tokens[i + 1:]:
                if cell.type == "tr_close":
                    break
                if cell.type == "inline" and cell.content:
                    new = translated(cell.content)
                    at = line.find(cell.content, column)
                    if new is not None and at >= 0:
                        line = line[:at] + new + line[at + len(cell.content):]
                        column = at + len(new)
            edits.append((row, row + 1, [line]))
        elif token.type == "fence" and token.info.startswith("{") and token.map:
            edits.append((*token.map, directive(lines, token, translated, translations,
                                                missing)))
    for start, end, new_lines in sorted(edits, reverse=True):
        lines[start:end] = new_lines
    return "\n".join(lines)


def directive(lines, token, translated, translations, missing) -> list[str]:
    """A ```{name} argument``` block: its argument (an admonition's title) and its
    Markdown body translated, its options (``:class: dropdown``) kept."""
    start, end = token.map
    opening, body = lines[start], lines[start + 1:end - 1]
    argument = token.info.partition(" ")[2].strip()
    if argument:
        new = translated(argument)
        if new is not None:
            opening = opening.replace(argument, new, 1)
    options = 0
    while options < len(body) and body[options].startswith(":"):
        options += 1
    content = translate_markdown("\n".join(body[options:]), translations, missing)
    return [opening, *body[:options], *content.split("\n"), lines[end - 1]]


def chinese_notebook(chapter: Path) -> dict:
    """The chapter notebook with its markdown in Chinese; raises Untranslated."""
    catalog = i18n.MESSAGES / "chapters" / f"{chapter.stem}.po"
    translations = i18n.translated_messages(catalog)
    notebook = json.loads(chapter.read_text(encoding="utf8"))
    missing: list[str] = []
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    # figures, printed results and widget labels as the Chinese pages show them (the
    # book's build has reported any that lack a translation)
    zh_figures.chinese_notebook(notebook, load_catalog())
    result_text.translate_notebook(notebook, load_catalog())
    if code:
        source = "".join(code[0]["source"]).rstrip("\n") + "\n" + CHINESE_FIGURES
        code[0]["source"] = source.splitlines(keepends=True)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = translate_markdown("".join(cell["source"]), translations, missing)
            cell["source"] = text.splitlines(keepends=True)
    if missing:
        raise Untranslated(f"{chapter.name}: {len(missing)} block(s) without a current "
                           f"translation in {catalog.relative_to(ROOT)}; the first: "
                           f"{missing[0][:120]!r}")
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        for chapter in sorted(CHAPTERS.glob("*.ipynb")):
            notebook = chinese_notebook(chapter)
            (args.out / chapter.name).write_text(
                json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf8")
    except Untranslated as problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
