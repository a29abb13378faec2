"""Every figure of every chapter has a text alternative written by hand (WCAG 1.1.1).

A figure's text is in its code cell's metadata, under ``alt`` (docs/_ext/alt_text.py): a
string, or a list with one text per figure of the cell. This test reads the notebooks
(no kernel, no build) and fails on a figure without a text, on a cell whose number of
texts is not its number of figures, and on a text that is a file name, a path or a hash,
or too short to say what the figure shows. The Chinese edition's texts are checked by
``tools/i18n.py check`` like every other message, and the browser tests run axe-core on
the built pages.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
from alt_text import alt_texts  # noqa: E402

# myst-nb's order of preference among an output's formats: the first present is shown
SHOWN_FIRST = (
    "application/vnd.jupyter.widget-view+json",
    "application/javascript",
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
)
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# what a text alternative must not be: a file name or path, a hex hash, a bare title
NOT_A_DESCRIPTION = re.compile(
    r"^\S+\.(png|jpe?g|svg|gif)$|^(\.\./|_images/|data:)|^[0-9a-f]{16,}$", re.IGNORECASE
)
MIN_WORDS = 12  # what it shows and what to notice


def draws_picture(model_id: str, state: dict) -> bool:
    """Whether the saved widget ``model_id`` is, or contains, an Image widget."""
    seen, todo = set(), [model_id]
    while todo:
        mid = todo.pop()
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        model = state[mid]
        if model.get("model_name") == "ImageModel":
            return True
        children = model.get("state", {}).get("children", [])
        todo.extend(child.removeprefix("IPY_MODEL_") for child in children)
    return False


def figures(cell, widget_state: dict) -> int:
    """The number of figures a code cell shows in the book."""
    count = 0
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        shown = next((mime for mime in SHOWN_FIRST if mime in data), None)
        if shown is None:
            continue
        if shown.startswith("image/"):
            count += 1
        elif shown == "text/html" and '<img id="_anim_img' in str(data[shown]):
            count += 1
        elif shown == SHOWN_FIRST[0]:
            count += draws_picture(data[shown]["model_id"], widget_state)
    return count


def problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        shown, texts = figures(cell, state), alt_texts(cell.metadata)
        if shown != len(texts):
            found.append(f"cell {index}: {shown} figures, {len(texts)} alt texts")
        for text in texts:
            if NOT_A_DESCRIPTION.search(text.strip()) or len(text.split()) < MIN_WORDS:
                found.append(f"cell {index}: alt text does not describe the figure: {text!r}")
    return found


def test_not_a_description_catches_file_names():
    for bad in ["../_images/45385a0e.png", "figure.png", "45385a0e9b1c2d3e4f5a", "_images/a"]:
        assert NOT_A_DESCRIPTION.search(bad), bad
    assert not NOT_A_DESCRIPTION.search("A 7 by 7 grid of input pixels with a 3 by 3 window.")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_has_a_hand_written_alt_text(path):
    found = problems(path)
    assert not found, f"{path.name}:\n" + "\n".join(found)
