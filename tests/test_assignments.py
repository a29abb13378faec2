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
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("assignments_tool", ROOT / "tools" / "assignments.py")
assignments_tool = importlib.util.module_from_spec(spec)
sys.modules["assignments_tool"] = assignments_tool
spec.loader.exec_module(assignments_tool)

from convlib.grading import sandbox, specs  # noqa: E402

needs_bwrap = pytest.mark.skipif(
    not sandbox.bwrap_available(), reason="bubblewrap (bwrap) is not installed or not usable"
)
FOLDERS = assignments_tool.assignment_dirs()
FAST = [f for f in FOLDERS if f.name[:2] in ("01", "02", "03")]


@needs_bwrap
@pytest.mark.timeout(300)
@pytest.mark.parametrize("folder", FAST, ids=[f.name for f in FAST])
def test_judge_grades_samples_as_expected(folder):
    limits = dataclasses.replace(specs.load(folder.name[:2]).LIMITS, cell_seconds=5,
                                 call_seconds=5)
    report = assignments_tool.check(folder, limits=limits)
    print("\n".join(report))
    expected = json.loads((folder / "samples" / "expected.json").read_text())
    assert len([line for line in report if "sample" in line]) == len(expected)


@needs_bwrap
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_finetune_assignment_grades_as_expected():
    (folder,) = [f for f in FOLDERS if f.name.startswith("04")]
    report = assignments_tool.check(folder)
    print("\n".join(report))


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_otter_build_and_student_copy(folder):
    """otter assign passes the solutions through their own tests; nothing leaks."""
    out = assignments_tool.build(folder)
    assignments_tool.check_student_copy(folder, out)
    assert list((out / "autograder").glob("*autograder*.zip"))
