"""Regenerate the book's Chinese font: Noto Sans CJK SC cut down to the characters it uses.

The book writes Chinese terms beside the English ones (互相关, 步幅, ...). A reader's
machine without CJK fonts would draw them as empty boxes, so the book serves its own font
(``_static/fonts/cjk-subset.woff2``, used by ``_static/cjk.css`` for CJK characters only).
It holds only the characters that the book's sources, the Chinese edition's catalogs and
its interface contain (a few hundred kilobytes instead of the full font's 16 MB). Run
this after adding Chinese text to a chapter, page or translation; the test
``tests/test_notebook_style.py`` fails while a character is missing from the font.

Needs the full font, only here (not to build or read the book): on Debian/Ubuntu
``apt-get install fonts-noto-cjk``; and fontTools with brotli (requirements.txt).

    python tools/cjk_font.py            # rewrite the font if the characters changed
    python tools/cjk_font.py --check    # exit 1 if a character is missing from the font
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / "_static" / "fonts" / "cjk-subset.woff2"
SOURCE_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_FONT_NAME = "Noto Sans CJK SC"  # one face of the collection
# The ranges of _static/cjk.css's unicode-range: CJK punctuation, ideographs, full-width forms
CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# The English edition's sources, the Chinese edition's catalogs (tools/i18n.py), and the
# Chinese edition's interface text: the buttons, labels and search messages that Sphinx and
# the theme translate themselves (in its zh_CN catalogs, found relative to each package).
SOURCES = ["intro.md", "_toc.yml", "docs/**/*.md", "chapters/*.ipynb", "convlib/**/*.py",
           "locales/**/*.po", "tools/i18n.py", "docs/_ext/*.py"]
INTERFACE = [("sphinx", "locale/zh_CN/LC_MESSAGES/sphinx.po"),
             ("sphinx", "locale/zh_CN/LC_MESSAGES/sphinx.js"),
             ("sphinx_book_theme",
              "theme/sphinx_book_theme/static/locales/zh_CN/LC_MESSAGES/booktheme.po")]


def notebook_text(path: Path) -> str:
    """Everything of a notebook the book shows: cell sources and text outputs."""
    nb = json.loads(path.read_text(encoding="utf8"))
    parts = []
    for cell in nb["cells"]:
        parts.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            for value in output.get("data", {}).values():
                if isinstance(value, (str, list)):
                    parts.append("".join(value))
    return "\n".join(parts)


def interface_text() -> str:
    """The zh_CN translations of Sphinx's and the theme's interface (msgstr only)."""
    import importlib.util

    parts = []
    for package, name in INTERFACE:
        path = Path(importlib.util.find_spec(package).origin).parent / name
        if path.suffix == ".js":  # "English": "\u4e2d\u6587" pairs, escaped
            text = path.read_text(encoding="utf8")
            text = text.encode("ascii", "backslashreplace").decode("unicode_escape")
            parts += re.findall(r'": "(.*)",?$', text, re.M)
        else:  # a gettext catalog: every translation, however many lines it spans
            from babel.messages.pofile import read_po

            with path.open("rb") as file:
                parts += [m.string for m in read_po(file) if isinstance(m.string, str)]
    return "\n".join(parts)


def book_characters(root: Path = ROOT) -> set[str]:
    """The CJK characters in the book's sources and the Chinese edition's interface."""
    chars: set[str] = set(CJK.findall(interface_text()))
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            text = notebook_text(path) if path.suffix == ".ipynb" else path.read_text("utf8")
            chars.update(CJK.findall(text))
    return chars


def font_characters(path: Path = FONT) -> set[str]:
    from fontTools.ttLib import TTFont

    if not path.exists():
        return set()
    with TTFont(path) as font:
        return {chr(code) for code in font.getBestCmap()}


def build(chars: set[str], out: Path = FONT) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    collection = TTCollection(SOURCE_FONT)
    names = [f["name"].getDebugName(4) for f in collection.fonts]
    index = names.index(SOURCE_FONT_NAME)
    options = subset.Options()
    options.flavor = "woff2"
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.font_number = index
    font = subset.load_font(str(SOURCE_FONT), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars)))
    subsetter.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(out), options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report missing characters")
    args = parser.parse_args(argv)
    wanted = book_characters()
    missing = wanted - font_characters()
    if args.check:
        if missing:
            print(f"{len(missing)} characters missing from {FONT.name}: {''.join(sorted(missing))}")
            print("run: python tools/cjk_font.py")
            return 1
        print(f"{FONT.name} has all {len(wanted)} CJK characters of the book")
        return 0
    if font_characters() == wanted:
        print(f"{FONT.name} is up to date ({len(wanted)} characters)")
        return 0
    if not SOURCE_FONT.exists():
        print(f"{SOURCE_FONT} not found: apt-get install fonts-noto-cjk", file=sys.stderr)
        return 2
    build(wanted)
    size = FONT.stat().st_size
    print(f"wrote {FONT.relative_to(ROOT)}: {len(wanted)} characters, {size / 1024:.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
