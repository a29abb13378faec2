"""Read submissions as an LMS or Gradescope exports them, without running anything.

A submissions folder holds one entry per student: a folder (the notebook anywhere inside),
a ``.zip`` (``grader.export()``'s, or the LMS's) or a bare ``.ipynb``. The student's id is
the entry's name without extension, so equal notebook names never collide.
"""

from __future__ import annotations

import json
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20 << 20
MAX_CELLS = 5000
MAX_ANSWER_CHARS = 20_000  # a written answer longer than this is cut (and says so)


@dataclass
class Submission:
    student: str
    source: Path
    cells: list[dict]  # {"cell_type", "source"} in notebook order

    @property
    def code(self) -> list[str]:
        return [c["source"] for c in self.cells if c["cell_type"] == "code"]


def _cells(text: str | bytes) -> list[dict]:
    """The cells of a notebook's JSON text; ``ValueError`` when it is not a notebook."""
    try:
        notebook = json.loads(text)
    except RecursionError as error:
        raise ValueError("the notebook's JSON is nested too deeply") from error
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells", []), list):
        raise ValueError("not a notebook (its JSON is not an object with a list of cells)")
    if len(notebook.get("cells", [])) > MAX_CELLS:
        raise ValueError(f"more than {MAX_CELLS} cells")
    cells = []
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict):
            raise ValueError("a cell is not a JSON object")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s if isinstance(s, str) else "" for s in source)
        elif not isinstance(source, str):
            source = ""
        cells.append({"cell_type": str(cell.get("cell_type", ""))[:20], "source": source})
    return cells


def read_regular(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """A regular file's bytes, without following a link or blocking on a FIFO or device."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{Path(path).name} is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{Path(path).name} is too large")
        return f.read(max_bytes + 1)


def _pick(names: list[str], notebook: str) -> str | None:
    exact = [n for n in names if Path(n).name == notebook and "__MACOSX" not in n]
    if exact:
        return sorted(exact, key=len)[0]
    any_nb = [n for n in names if n.endswith(".ipynb") and "checkpoint" not in n
              and "__MACOSX" not in n]
    return sorted(any_nb, key=len)[0] if len(any_nb) == 1 else None


def read_submission(entry: Path, notebook: str) -> Submission:
    """One student's notebook from a folder, a zip or a bare notebook."""
    student = entry.name[: -len(entry.suffix)] if entry.suffix in (".zip", ".ipynb") else entry.name
    if entry.is_dir():
        names = [str(p.relative_to(entry)) for p in entry.rglob("*.ipynb") if p.is_file()]
        name = _pick(names, notebook)
        if name is None:
            raise FileNotFoundError(f"{entry}: no {notebook}")
        path = entry / name
        return Submission(student, path, _cells(read_regular(path)))
    if entry.suffix == ".zip":
        try:
            with zipfile.ZipFile(entry) as archive:
                name = _pick(archive.namelist(), notebook)
                if name is None:
                    raise FileNotFoundError(f"{entry.name}: no {notebook} inside")
                if archive.getinfo(name).file_size > MAX_NOTEBOOK_BYTES:
                    raise ValueError(f"{entry.name}:{name} is too large")
                with archive.open(name) as member:
                    data = member.read(MAX_NOTEBOOK_BYTES + 1)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError,
                RuntimeError, zlib.error) as error:
            raise ValueError(f"{entry.name}: not a readable zip ({error})") from error
        if len(data) > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"{entry.name}:{name} is too large")
        return Submission(student, entry, _cells(data))
    if entry.suffix == ".ipynb":
        return Submission(student, entry, _cells(read_regular(entry)))
    raise ValueError(f"{entry}: not a folder, zip or notebook")


def submissions(folder: Path, notebook: str) -> list[Path]:
    """The entries of a submissions folder, one per student, sorted by name."""
    entries = [p for p in sorted(Path(folder).iterdir())
               if not p.name.startswith(".") and (p.is_dir() or p.suffix in (".zip", ".ipynb"))]
    ids = [read_id(p) for p in entries]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"two entries for the same student: {sorted(duplicates)}")
    return entries


def read_id(entry: Path) -> str:
    return entry.name[: -len(entry.suffix)] if entry.suffix in (".zip", ".ipynb") else entry.name


def written_answers(sub: Submission, question_number: int) -> str:
    """The Markdown a student wrote for a hand-graded question (cells after its prompt)."""
    prompt = re.compile(rf"\*\*Question {question_number}\b")
    answer, inside = [], False
    for cell in sub.cells:
        if cell["cell_type"] == "markdown" and prompt.search(cell["source"]):
            inside = True
            continue
        if inside:
            if cell["cell_type"] != "markdown" or re.search(r"\*\*Question \d", cell["source"]):
                break
            answer.append(strip_comments(cell["source"]).strip())
            if "END QUESTION" in cell["source"]:
                break
    text = "\n\n".join(a for a in answer if a)
    if len(text) > MAX_ANSWER_CHARS:
        text = text[:MAX_ANSWER_CHARS] + f"\n[... cut: the answer is {len(text)} characters]"
    return text


def strip_comments(text: str) -> str:
    """``text`` without its HTML comments (``<!-- ... -->``), in time linear in its length.

    >>> strip_comments("a<!-- b -->c<!-- d")
    'ac'
    """
    parts, position = [], 0
    while True:
        start = text.find("<!--", position)
        if start < 0:
            parts.append(text[position:])
            break
        parts.append(text[position:start])
        end = text.find("-->", start + 4)
        if end < 0:
            break
        position = end + 3
    return "".join(parts)


def solution_cells(source: Path) -> list[dict]:
    """The cells of an otter source notebook as its solution would be submitted.

    Raw cells (otter's markers) and the test cells between ``# BEGIN TESTS`` and
    ``# END TESTS`` are dropped; solution code stays.
    """
    cells, in_tests = [], False
    for cell in _cells(Path(source).read_text()):
        marker = cell["source"].strip().upper()
        if cell["cell_type"] == "raw":
            if marker.startswith("# BEGIN TESTS"):
                in_tests = True
            elif marker.startswith("# END TESTS"):
                in_tests = False
            continue
        if not in_tests:
            cells.append(cell)
    return cells


def write_notebook(cells: list[dict], path: Path) -> Path:
    """A minimal notebook holding ``cells`` (for samples and tests)."""
    notebook = {
        "cells": [
            {"cell_type": c["cell_type"], "id": f"cell-{i}", "metadata": {},
             "source": c["source"],
             **({"outputs": [], "execution_count": None} if c["cell_type"] == "code" else {})}
            for i, c in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    Path(path).write_text(json.dumps(notebook, indent=1) + "\n")
    return Path(path)
