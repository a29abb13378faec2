"""Build, check and grade the course's otter-grader assignments.

    python tools/assignments.py build              student notebooks + autograder zips
    python tools/assignments.py check              what CI verifies (see below)
    python tools/assignments.py grade 01 subs/ -o grades.csv
                                                   grade a folder of submissions into a CSV

Each assignment is a folder ``assignments/NN_topic/`` holding one otter-format source
notebook with solutions, and optionally ``samples/`` with submissions whose expected
scores are listed in ``samples/expected.json``. ``build`` writes
``assignments/build/NN_topic/{autograder,student}`` (not committed).

``check`` verifies, for every assignment: the solutions pass their own tests (otter assign
runs them), the solution notebook graded with the autograder zip scores full marks, the
untouched student notebook scores 0 on the autograded questions, each sample submission
gets exactly its expected score, and no solution text or hidden test reaches the student
folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "assignments"
BUILD = SOURCES / "build"
OTTER = [sys.executable, "-m", "otter"]


def assignment_dirs(selected: list[str] | None = None) -> list[Path]:
    dirs = sorted(p for p in SOURCES.iterdir() if p.is_dir() and re.match(r"\d\d_", p.name))
    if selected:
        dirs = [d for d in dirs if any(d.name.startswith(s) for s in selected)]
        if not dirs:
            raise SystemExit(f"no assignment matches {selected}")
    return dirs


def source_notebook(folder: Path) -> Path:
    (nb,) = [p for p in folder.glob("*.ipynb")]
    return nb


def build(folder: Path) -> Path:
    """Run ``otter assign`` (which also runs the tests against the solutions)."""
    out = BUILD / folder.name
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        OTTER + ["assign", "-v", str(source_notebook(folder)), str(out)],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(
            f"otter assign failed for {folder.name}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    print(f"built {out.relative_to(ROOT)}", flush=True)
    return out


def autograder_zip(out: Path) -> Path:
    (zip_path,) = (out / "autograder").glob("*autograder*.zip")
    return zip_path


def grade(zip_path: Path, submission: Path, timeout: float = 900) -> dict:
    """Grade one submission with ``otter run``; return otter's results dictionary.

    Each test has its own time limit, but code at the top level of a submission is not
    inside any test: a submission that runs longer than ``timeout`` seconds in all is
    stopped and gets no points, with ``"timed_out": True`` in the result.
    """
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / submission.name
        shutil.copy(submission, copy)
        command = OTTER + ["run", "--no-logo", "-a", str(zip_path.resolve()), "-o", tmp, str(copy)]
        # a new session, so that a timeout stops the submission's kernel too
        process = subprocess.Popen(
            command,
            cwd=tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return {"tests": [], "timed_out": True}
        results_file = Path(tmp) / "results.json"
        if not results_file.exists():
            raise RuntimeError(
                f"otter run produced no results for {submission}:\n"
                f"{stdout[-3000:]}\n{stderr[-3000:]}"
            )
        return json.loads(results_file.read_text())


def autograded_score(results: dict) -> tuple[float, float]:
    tests = results.get("tests", [])
    return sum(t.get("score", 0) for t in tests), sum(t.get("max_score", 0) for t in tests)


def solution_lines(source: Path) -> set[str]:
    """Distinctive lines that appear only inside solution blocks of the source notebook."""
    nb = nbformat.read(source, as_version=4)
    lines: set[str] = set()
    for cell in nb.cells:
        text = cell.source
        for block in re.findall(r"BEGIN SOLUTION(.*?)END SOLUTION", text, flags=re.S):
            lines.update(line.strip() for line in block.splitlines())
        lines.update(
            line.split("#")[0].strip()
            for line in text.splitlines()
            if line.rstrip().endswith("# SOLUTION")
        )
    # lines that also occur in the handed-out code, and short or generic lines (a bare
    # `return out`), prove nothing
    given = set()
    for cell in nb.cells:
        outside = re.sub(r"BEGIN SOLUTION.*?END SOLUTION", "", cell.source, flags=re.S)
        given.update(line.strip() for line in outside.splitlines() if "# SOLUTION" not in line)
    return {
        line
        for line in lines - given
        if len(line) >= 25 and not line.startswith(("#", "-->", "<!--"))
    }


def check_student_copy(folder: Path, out: Path) -> None:
    student = out / "student"
    nb_path = student / source_notebook(folder).name
    text = nb_path.read_text()
    leaked = [line for line in solution_lines(source_notebook(folder)) if line in text]
    if leaked:
        raise AssertionError(f"{nb_path} contains solution text: {leaked[:3]}")
    if "BEGIN SOLUTION" in text or "hidden: true" in text:
        raise AssertionError(f"{nb_path} contains solution or hidden-test markers")
    for test_file in (student / "tests").glob("*.py"):
        if "hidden=True" in test_file.read_text():
            raise AssertionError(f"{test_file} contains a hidden test")


def check(folder: Path) -> list[str]:
    out = build(folder)
    zip_path = autograder_zip(out)
    name = source_notebook(folder).name
    report = []
    check_student_copy(folder, out)
    report.append(f"{folder.name}: student copy holds no solution or hidden test")

    score, possible = autograded_score(grade(zip_path, out / "autograder" / name))
    if possible == 0 or score != possible:
        raise AssertionError(
            f"{folder.name}: solution scored {score}/{possible}, expected full marks"
        )
    report.append(f"{folder.name}: solution scores {score:g}/{possible:g}")

    score, possible = autograded_score(grade(zip_path, out / "student" / name))
    if score != 0:
        raise AssertionError(
            f"{folder.name}: untouched student copy scored {score}/{possible}, expected 0"
        )
    report.append(f"{folder.name}: untouched student copy scores 0/{possible:g}")

    expected_file = folder / "samples" / "expected.json"
    if expected_file.exists():
        for sample, expected in json.loads(expected_file.read_text()).items():
            score, possible = autograded_score(grade(zip_path, folder / "samples" / sample))
            if abs(score - expected) > 1e-9:
                raise AssertionError(
                    f"{folder.name}: sample {sample} scored {score}/{possible}, expected {expected}"
                )
            report.append(
                f"{folder.name}: sample {sample} scores {score:g}/{possible:g} as expected"
            )
    return report


def grade_folder(folder: Path, submissions: Path, csv_path: Path) -> None:
    out = BUILD / folder.name
    if not out.exists():
        build(folder)
    zip_path = autograder_zip(out)
    rows = []
    for submission in sorted(submissions.glob("*.ipynb")):
        results = grade(zip_path, submission)
        row = {"submission": submission.name}
        for t in results.get("tests", []):
            row[t["name"]] = t.get("score", 0)
        row["total"], row["possible"] = autograded_score(results)
        if results.get("timed_out"):
            row["note"] = "stopped: ran longer than the grading time limit"
        rows.append(row)
        print(f"{submission.name}: {row['total']:g}/{row['possible']:g}", flush=True)
    fields = sorted(
        {k for r in rows for k in r},
        key=lambda k: (k not in ("submission",), k in ("total", "possible"), k),
    )
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {csv_path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build, check and grade the assignments.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="student notebooks and autograder zips")
    p_build.add_argument("only", nargs="*", help="assignment numbers, e.g. 01 03")
    p_check = sub.add_parser(
        "check", help="solutions, student copies and samples grade as expected"
    )
    p_check.add_argument("only", nargs="*")
    p_grade = sub.add_parser("grade", help="grade a folder of submitted notebooks into a CSV")
    p_grade.add_argument("assignment", help="assignment number, e.g. 01")
    p_grade.add_argument("submissions", type=Path)
    p_grade.add_argument("-o", "--output", type=Path, default=Path("grades.csv"))
    args = parser.parse_args(argv)
    if args.command == "build":
        for folder in assignment_dirs(args.only):
            build(folder)
    elif args.command == "check":
        for folder in assignment_dirs(args.only):
            for line in check(folder):
                print(line, flush=True)
    else:
        (folder,) = assignment_dirs([args.assignment])
        grade_folder(folder, args.submissions, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
