"""The classroom assignments grade as they should (otter-grader, no Docker).

For each assignment: solutions pass their own tests, the solution notebook scores full
marks with the autograder zip, the untouched student copy scores 0, committed sample
submissions get exactly their expected partial scores, and student copies hold no
solution or hidden test. See tools/assignments.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("assignments_tool", ROOT / "tools" / "assignments.py")
assignments_tool = importlib.util.module_from_spec(spec)
sys.modules["assignments_tool"] = assignments_tool
spec.loader.exec_module(assignments_tool)

FOLDERS = assignments_tool.assignment_dirs()


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_assignment_grades_as_expected(folder):
    report = assignments_tool.check(folder)
    print("\n".join(report))
    assert any("solution scores" in line for line in report)
    assert any("untouched student copy scores 0" in line for line in report)
