"""The classroom assignments grade as they should, under the judge (convlib.grading).

For each assignment: the solution scores full marks, the untouched student copy scores 0,
and every sample in ``samples/expected.json`` (honest mistakes and exploits) gets exactly
its score, no more than the honest submission it imitates, its flags, and leaves the grade
of the solution graded right after it untouched. See tools/assignments.py ``check``.

Assignments 1-3 run unmarked, with short time limits for the samples that hang (honest
code answers in milliseconds, so a few seconds is ample); assignment 4 trains a network
per submission (about 30 s) and the ``otter assign`` build runs every test of the source
notebooks, so those are marked ``slow``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from convlib.grading import sandbox, specs
from tools import assignments as assignments_tool

ROOT = Path(__file__).resolve().parent.parent

needs_bwrap = pytest.mark.skipif(
    not sandbox.bwrap_available(), reason="bubblewrap (bwrap) is not installed or not usable"
)
FOLDERS = assignments_tool.assignment_dirs()
FAST = [f for f in FOLDERS if not getattr(specs.load(f.name[:2]), "SLOW", False)]


@needs_bwrap
@pytest.mark.timeout(300)
@pytest.mark.parametrize("folder", FAST, ids=[f.name for f in FAST])
def test_judge_grades_samples_as_expected(folder):
    # honest code answers in milliseconds (a pixel loop in under a second): the limits keep
    # a margin of 10 or more and make the samples that hang cost seconds, not minutes
    seconds = 10 if folder.name.startswith("03") else 5
    limits = dataclasses.replace(specs.load(folder.name[:2]).LIMITS, cell_seconds=seconds,
                                 call_seconds=seconds)
    report = assignments_tool.check(folder, limits=limits)
    print("\n".join(report))
    expected = json.loads((folder / "samples" / "expected.json").read_text())
    assert len([line for line in report if "sample" in line]) == len(expected)


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_points_match_the_otter_notebook(folder):
    """Each question's points in the judge's spec (tests, or MANUAL for a hand-graded one)
    are the points its otter notebook announces."""
    import re

    notebook = json.loads(assignments_tool.source_notebook(folder).read_text())
    announced = {}
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw" and text.startswith("# BEGIN QUESTION"):
            name = re.search(r"^name:\s*(\S+)", text, re.M).group(1)
            announced[name] = float(re.search(r"^points:\s*([\d.]+)", text, re.M).group(1))
    spec = specs.load(folder.name[:2])
    judged = dict(spec.MANUAL)
    for test in spec.TESTS:
        judged[test.question] = judged.get(test.question, 0) + test.points
    assert judged == announced


@needs_bwrap
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_slow_assignments_grade_as_expected():
    for folder in [f for f in FOLDERS if f not in FAST]:
        print("\n".join(assignments_tool.check(folder)))


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_otter_build_and_student_copy(folder):
    """otter assign passes the solutions through their own tests; nothing leaks."""
    out = assignments_tool.build(folder)
    assignments_tool.check_student_copy(folder, out)
    assert list((out / "autograder").glob("*autograder*.zip"))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_otter_run_with_the_autograder_zip(tmp_path):
    """The zip still grades with ``otter run``, and its environment pins what it needs.

    Installing that environment into a fresh virtual environment downloads torch (about
    1 GB): not done here. The check is that the zip lists the pinned numpy, torch and
    scikit-learn and carries the convlib wheel it installs.
    """
    import subprocess
    import zipfile

    (folder,) = [f for f in FOLDERS if f.name.startswith("01")]
    out = assignments_tool.build(folder)
    (zip_path,) = (out / "autograder").glob("*autograder*.zip")
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        environment = z.read("environment.yml").decode()
    assert any(n.startswith("files/convolution_book-") and n.endswith(".whl") for n in names)
    for pin in assignments_tool.pins():
        assert pin in environment, pin
    assert assignments_tool.WHEEL_DIR in environment
    notebook = out / "autograder" / source_name(folder)
    result = subprocess.run(
        assignments_tool.OTTER + ["run", "--no-logo", "-a", str(zip_path), "-o", str(tmp_path),
                                  str(notebook)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    tests = [t for t in results["tests"] if "max_score" in t]  # not the public summary
    assert sum(t["score"] for t in tests) == sum(t["max_score"] for t in tests) > 0


def source_name(folder):
    return assignments_tool.source_notebook(folder).name


def _otter_notebook(path: Path) -> None:
    """A minimal otter source notebook: one question, a public and a hidden test."""
    def cell(kind, text):
        return {"cell_type": kind, "metadata": {}, "source": text,
                **({"outputs": [], "execution_count": None} if kind == "code" else {})}

    hidden = '""" # BEGIN TEST CONFIG\nhidden: true\npoints: 1\n""" # END TEST CONFIG\n'
    cells = [
        cell("raw", "# ASSIGNMENT CONFIG\nname: double\ninit_cell: true\n"),
        cell("markdown", "# Assignment 5: doubling"),
        cell("code", "import numpy as np"),
        cell("raw", "# BEGIN QUESTION\nname: q1\npoints: 2"),
        cell("markdown", "**Question 1 (2 points).** Write `double(x)`."),
        cell("raw", "# BEGIN SOLUTION"),
        cell("code", "def double(x):\n    # BEGIN SOLUTION\n    return 2 * np.asarray(x)\n"
                     "    # END SOLUTION"),
        cell("raw", "# END SOLUTION"),
        cell("raw", "# BEGIN TESTS"),
        cell("code", "def test_q1_example(double):\n    assert list(double([1.0, 2.0])) == [2, 4]"),
        cell("code", hidden + "def test_q1_random(double):\n    assert double(3) == 6"),
        cell("raw", "# END TESTS"),
        cell("raw", "# END QUESTION"),
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))


@needs_bwrap
@pytest.mark.timeout(300)
def test_a_fifth_assignment_is_a_folder_and_one_spec(tmp_path, monkeypatch):
    """CONTRIBUTING's "Adding an assignment": the folder, the spec from the template, and the
    judge grades its solution full and its blank copy zero; its points match the notebook's."""
    import shutil

    folder = tmp_path / "assignments" / "05_double"
    folder.mkdir(parents=True)
    _otter_notebook(folder / "double.ipynb")
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    shutil.copy(ROOT / "convlib" / "grading" / "specs" / "_template.py",
                spec_dir / "a05_double.py")
    monkeypatch.setenv(specs.EXTRA_DIRS, str(spec_dir))  # the grading processes read it
    monkeypatch.setattr(specs, "__path__", [*specs.__path__, str(spec_dir)])
    assert specs.load("05").NOTEBOOK == "double.ipynb"
    test_points_match_the_otter_notebook(folder)
    report = assignments_tool.check(folder, workers=1)
    assert report == ["05_double: solution scores 2/2",
                      "05_double: untouched student copy scores 0/2"]


def test_the_otter_cell_follows_a_renamed_notebook(tmp_path, monkeypatch):
    """A student who saved the notebook under another name exports that file, not the blank
    original (the cell asks the notebook server for the file's name)."""
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": '# Initialize Otter\nimport otter\ngrader = otter.Notebook("a.ipynb")'}]
    student = tmp_path / "a.ipynb"
    student.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                   "nbformat_minor": 5}))
    assignments_tool.follow_renames(student)
    (tmp_path / "my copy.ipynb").write_text(student.read_text())
    init = "".join(json.loads(student.read_text())["cells"][0]["source"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "my copy.ipynb"))
    namespace: dict = {}
    exec(init, namespace)
    assert namespace["grader"]._notebook == "my copy.ipynb"
    monkeypatch.delenv("JPY_SESSION_NAME")
    exec(init, namespace)
    assert namespace["grader"]._notebook == "a.ipynb"
