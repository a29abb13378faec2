"""Build, check and grade the course's assignments.

    python tools/assignments.py build [NN ...]          student notebooks + otter autograder zips
    python tools/assignments.py seed FILE               make a secret grading seed (keep it private)
    python tools/assignments.py grade NN SUBMISSIONS/ -o grades.csv [--only STUDENT ...]
                                                        grade a folder (one folder/zip per student)
    python tools/assignments.py written NN SUBMISSIONS/ -o written/
                                                        hand-graded answers, one HTML per question
    python tools/assignments.py merge grades.csv written/manual_points.csv
    python tools/assignments.py check [NN ...]          what CI verifies (see below)

``build`` runs ``otter assign`` on ``assignments/NN_topic/<notebook>.ipynb`` into
``assignments/build/NN_topic/{student,autograder}`` (not committed): the student notebook
with its public tests for ``grader.check``, and the otter autograder zip.

``grade`` is the judge (``convlib.grading``): each submission runs in its own bubblewrap
sandbox, two at a time, and only the values of the student's functions come out; hidden
cases come from the secret seed (``$CONVLIB_GRADING_SEED`` or ``$CONVLIB_GRADING_SEED_FILE``;
``--demo`` uses the public demo seed). It writes or updates the CSV (one row per student,
one column per test, flags) and ``feedback/<student>.txt`` next to it. ``--only`` regrades
some students and leaves the other rows as they are.

``check`` grades, with the demo seed: the solution (full marks), the untouched student copy
(zero) and every sample in ``samples/expected.json`` (its exact score, no more than the
honest submission it imitates, its flags, and the solution graded right after it still
gets full marks). ``check --build`` also runs ``otter assign`` and checks the student copy
holds no solution or hidden test.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from convlib.grading import harvest, judge, report, sandbox, specs
from convlib.grading.batch import grade_entries

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str):
    """Another command of tools/, imported when needed (i18n needs Sphinx): as
    ``tools.NAME`` under ``python -m tools.assignments``, as ``NAME`` when this file runs
    as a script (its folder is then the first on sys.path)."""
    return importlib.import_module(f"{__package__}.{name}" if __package__ else name)

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


# --------------------------------------------------------------------------- otter


PINNED = ("numpy", "torch", "scikit-learn")
WHEEL_DIR = "/autograder/source/files"  # where Gradescope unpacks the zip's files/


def pins() -> list[str]:
    """The exact versions of the packages the tests need, from constraints.txt."""
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    found = [line.strip() for line in lines
             if line.split("==")[0].strip().lower() in PINNED and "==" in line]
    return sorted(found)


def convlib_wheel(destination: Path) -> Path:
    """Build convlib's wheel (pure Python, no dependencies resolved) into ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    for old in destination.glob("convolution_book-*.whl"):
        old.unlink()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(destination), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = destination.glob("convolution_book-*.whl")
    return wheel


def build(folder: Path) -> Path:
    """Run ``otter assign`` (which also runs the tests against the solutions).

    The autograder zip's environment (for ``otter run`` elsewhere and Gradescope) installs
    the pinned numpy, torch and scikit-learn and convlib's wheel, which the zip carries: the
    source notebook is copied into a staging folder with a ``requirements.txt`` and the
    wheel, and its configuration is told about both.
    """
    out = BUILD / folder.name
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="convlib-assign-"))
    wheel = convlib_wheel(stage)
    (stage / "requirements.txt").write_text(
        "\n".join(pins() + [f"{WHEEL_DIR}/{wheel.name}"]) + "\n")
    notebook = json.loads(source_notebook(folder).read_text())
    config = notebook["cells"][0]
    text = "".join(config["source"]) if isinstance(config["source"], list) else config["source"]
    config["source"] = (text.rstrip() + "\nrequirements: requirements.txt\n"
                        f"autograder_files:\n  - {wheel.name}\n")
    staged = stage / source_notebook(folder).name
    staged.write_text(json.dumps(notebook, indent=1))
    result = subprocess.run(
        OTTER + ["assign", "-v", str(staged), str(out)],
        cwd=stage, capture_output=True, text=True,
    )
    shutil.rmtree(stage, ignore_errors=True)
    if result.returncode != 0:
        raise SystemExit(
            f"otter assign failed for {folder.name}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    follow_renames(out / "student" / source_notebook(folder).name)
    chinese_student_copy(folder, out)
    print(f"built {out.relative_to(ROOT)} (student, student-zh, autograder)", flush=True)
    return out


INIT_CELL = """\
# Initialize Otter
import os

import otter

# this notebook's own file, also after "Save As" (JupyterLab and VS Code tell the kernel)
_this = os.path.basename(os.environ.get("JPY_SESSION_NAME", "")
                         or globals().get("__vsc_ipynb_file__", ""))
grader = otter.Notebook(_this if _this.endswith(".ipynb") and os.path.isfile(_this)
                        else "{notebook}")"""


def follow_renames(student: Path) -> Path:
    """Make the student notebook's otter cell name the notebook it runs in.

    ``otter assign`` writes ``otter.Notebook("topic.ipynb")``: a student who saved the
    notebook under another name would export the untouched original. The cell asks the
    notebook server (``$JPY_SESSION_NAME``) or VS Code for the file's name first.
    """
    notebook = json.loads(student.read_text())
    for cell in notebook["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and text.startswith("# Initialize Otter"):
            cell["source"] = INIT_CELL.format(notebook=student.name).splitlines(keepends=True)
            break
    else:
        raise SystemExit(f"{student}: no otter init cell to update")
    student.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return student


QUESTION_MARK = "<!-- BEGIN QUESTION -->\n\n"  # otter's wrapper of a hand-graded question


def chinese_student_copy(folder: Path, out: Path) -> Path:
    """The student notebook with its instructions in Chinese, in ``out/student-zh``.

    Every markdown cell is replaced by its translation (locales/zh_CN, tools/i18n.py);
    code cells stay as they are. A cell whose translation is missing or stale stops the
    build with the cell's text, as a stale translation stops ``make book``.
    """
    i18n = _tool("i18n")
    source = source_notebook(folder)
    translations = i18n.translated_messages(i18n.assignment_catalog(source),
                                            i18n.OTTER_CATALOG)
    english_dir, chinese_dir = out / "student", out / "student-zh"
    shutil.rmtree(chinese_dir, ignore_errors=True)
    shutil.copytree(english_dir, chinese_dir)
    path = chinese_dir / source.name
    notebook = json.loads(path.read_text(encoding="utf8"))
    missing = []
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] != "markdown" or text.strip() in ("", "<!-- END QUESTION -->"):
            continue
        marker = QUESTION_MARK if text.startswith(QUESTION_MARK) else ""
        body = text.removeprefix(marker)
        if body not in translations:
            missing.append(body)
            continue
        cell["source"] = (marker + translations[body]).splitlines(keepends=True)
    if missing:
        catalog = i18n.assignment_catalog(source)
        shown = catalog.relative_to(ROOT) if catalog.is_relative_to(ROOT) else catalog
        raise SystemExit(
            f"{folder.name}: {len(missing)} cell(s) of the student notebook have no current "
            f"Chinese translation (run `make translations`, then translate {shown}); "
            f"the first: {missing[0][:120]!r}")
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf8")
    return path


def solution_lines(source: Path) -> set[str]:
    """Distinctive lines that appear only inside solution blocks of the source notebook."""
    nb = json.loads(source.read_text())
    lines: set[str] = set()
    given = set()
    for cell in nb["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for block in re.findall(r"BEGIN SOLUTION(.*?)END SOLUTION", text, flags=re.S):
            lines.update(line.strip() for line in block.splitlines())
        lines.update(line.split("#")[0].strip() for line in text.splitlines()
                     if line.rstrip().endswith("# SOLUTION"))
        outside = re.sub(r"BEGIN SOLUTION.*?END SOLUTION", "", text, flags=re.S)
        given.update(line.strip() for line in outside.splitlines() if "# SOLUTION" not in line)
    return {line for line in lines - given
            if len(line) >= 25 and not line.startswith(("#", "-->", "<!--"))}


def check_student_copy(folder: Path, out: Path) -> None:
    """The handed-out folders (English and Chinese) hold the notebook only: no solution,
    no hidden test; the Chinese notebook's code cells are the English notebook's."""
    for student in (out / "student", out / "student-zh"):
        nb_path = student / source_notebook(folder).name
        text = nb_path.read_text(encoding="utf8")
        leaked = [line for line in solution_lines(source_notebook(folder)) if line in text]
        if leaked:
            raise AssertionError(f"{nb_path} contains solution text: {leaked[:3]}")
        if "BEGIN SOLUTION" in text or "hidden=True" in text or "hidden: true" in text:
            raise AssertionError(f"{nb_path} contains solution or hidden-test markers")
        for path in student.rglob("*.py"):
            if "hidden=True" in path.read_text():
                raise AssertionError(f"{path} contains a hidden test")

    def code_cells(path: Path) -> list[str]:
        cells = json.loads(path.read_text(encoding="utf8"))["cells"]
        return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]

    name = source_notebook(folder).name
    if code_cells(out / "student" / name) != code_cells(out / "student-zh" / name):
        raise AssertionError(f"{folder.name}: the Chinese notebook's code differs")


# --------------------------------------------------------------------------- judge


def grade_folder(number: str, submissions: Path, csv_path: Path, only: list[str] | None,
                 demo: bool, workers: int = 2) -> list[judge.Grade]:
    if not sandbox.bwrap_available():
        raise SystemExit("bubblewrap (bwrap) is needed: apt-get install bubblewrap")
    try:
        seed, label = judge.grading_seed(demo)
    except judge.NoSeedError as error:
        raise SystemExit(str(error)) from None
    spec = specs.load(number)
    entries = harvest.submissions(submissions, spec.NOTEBOOK)
    if only:
        entries = [e for e in entries if harvest.read_id(e) in set(only)]
        missing = set(only) - {harvest.read_id(e) for e in entries}
        if missing:
            raise SystemExit(f"no submission for {sorted(missing)}")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    feedback = csv_path.parent / "feedback"
    feedback.mkdir(parents=True, exist_ok=True)

    def write(grade: judge.Grade) -> None:  # as each grade arrives: a crash later loses none
        report.write_csv(csv_path, [grade])
        (feedback / f"{grade.student}.txt").write_text(report.feedback_text(grade))
        flags = f"  [{'; '.join(grade.flags)}]" if grade.flags else ""
        print(f"{grade.student}: {grade.total:g}/{grade.possible:g}{flags}", flush=True)

    start = time.perf_counter()
    grades = grade_entries(number, entries, seed, label, workers, on_grade=write)
    elapsed = time.perf_counter() - start
    print(f"graded {len(grades)} submission(s) in {elapsed:.1f} s with the {label} seed; "
          f"wrote {csv_path} and {feedback}/")
    return grades


def export_written(number: str, submissions: Path, out: Path) -> None:
    spec = specs.load(number)
    if not spec.MANUAL:
        print(f"assignment {number} has no hand-graded question")
        return
    answers = {q: {} for q in spec.MANUAL}
    for entry in harvest.submissions(submissions, spec.NOTEBOOK):
        sub = harvest.read_submission(entry, spec.NOTEBOOK)
        for q in spec.MANUAL:
            answers[q][sub.student] = harvest.written_answers(sub, int(q[1:]))
    for path in report.export_written(answers, spec.MANUAL, out):
        print(f"wrote {path}")


# --------------------------------------------------------------------------- check


def reference_submissions(folder: Path, tmp: Path) -> dict[str, Path]:
    """The solution and the untouched student copy, as submissions."""
    paths = {}
    for name, blank in (("solution", False), ("student", True)):
        cells = _tool("grading_samples").base_cells(folder, blank)
        paths[name] = harvest.write_notebook(cells, tmp / f"{name}.ipynb")
    return paths


def expected_samples(folder: Path) -> dict[str, dict]:
    path = folder / "samples" / "expected.json"
    if not path.exists():
        return {}
    expected = json.loads(path.read_text())
    return {k: (v if isinstance(v, dict) else {"score": v}) for k, v in expected.items()}


# the total time limit of a class checked by `check` (the many_short_cells sample uses it up)
CHECK_TOTAL_SECONDS = {"01": 60.0}


def check(folder: Path, samples: list[str] | None = None, limits=None,
          workers: int = 2) -> list[str]:
    """Grade the solution, the student copy and the samples; raise if any is off."""
    number = folder.name[:2]
    limits = limits or specs.load(number).LIMITS
    if number in CHECK_TOTAL_SECONDS:  # the samples that use up their time, in a minute
        limits = dataclasses.replace(limits, total_seconds=CHECK_TOTAL_SECONDS[number])
    expected = expected_samples(folder)
    if samples is not None:
        expected = {k: v for k, v in expected.items() if k in samples}
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        refs = reference_submissions(folder, Path(tmp))
        # one class: the samples, and after each exploit a copy of the solution, whose grade
        # must not move (a submission cannot reach the next one)
        order = [refs["solution"], refs["student"]]
        after: dict[str, int] = {}
        for name, want in expected.items():
            order.append(folder / "samples" / name)
            if want.get("flags"):
                copy = Path(tmp) / f"solution_after_{Path(name).stem}.ipynb"
                shutil.copy(refs["solution"], copy)
                after[name] = len(order)
                order.append(copy)
        csv_path = Path(tmp) / "grades" / "grades.csv"
        csv_path.parent.mkdir()
        grades = grade_entries(number, order, judge.DEMO_SEED, "demo", workers, limits,
                               on_grade=lambda g: report.write_csv(csv_path, [g]))
        _, rows = report.read_csv(csv_path)
    if len(rows) != len(order):
        raise AssertionError(f"{folder.name}: {len(rows)} CSV rows for {len(order)} students")
    solution, student = grades[0], grades[1]
    if solution.total != solution.possible:
        raise AssertionError(f"{folder.name}: solution scored {solution.total}/"
                             f"{solution.possible}:\n{report.feedback_text(solution)}")
    lines.append(f"{folder.name}: solution scores {solution.total:g}/{solution.possible:g}")
    if student.total != 0:
        raise AssertionError(f"{folder.name}: untouched student copy scored {student.total}")
    lines.append(f"{folder.name}: untouched student copy scores 0/{student.possible:g}")
    scores = {"solution": solution.total, "student": 0.0}
    for name, want in expected.items():
        grade = grades[order.index(folder / "samples" / name)]
        scores[name] = grade.total
        problems = []
        if abs(grade.total - want["score"]) > 1e-9:
            problems.append(f"scored {grade.total:g}, expected {want['score']:g}")
        like = want.get("like")
        if like and grade.total > scores.get(like, float("inf")):
            problems.append(f"beats the honest {like} ({scores[like]:g})")
        for flag in want.get("flags", []):
            if not any(f.startswith(flag) for f in grade.flags):
                problems.append(f"no flag {flag!r} (flags: {grade.flags})")
        if want.get("honest") and grade.flags:
            problems.append(f"an honest submission is flagged: {grade.flags}")
        if name in after and grades[after[name]].total != solution.total:
            problems.append(f"the solution graded next scored {grades[after[name]].total:g}")
        if problems:
            raise AssertionError(f"{folder.name}: sample {name}: {'; '.join(problems)}\n"
                                 f"{report.feedback_text(grade)}")
        lines.append(f"{folder.name}: sample {name} scores {grade.total:g}/"
                     f"{grade.possible:g} as expected ({grade.seconds:.1f} s)")
    return lines


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build, check and grade the assignments.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="student notebooks and autograder zips")
    p.add_argument("only", nargs="*", help="assignment numbers, e.g. 01 03")
    p = sub.add_parser("seed", help="write a new secret grading seed to a file")
    p.add_argument("file", type=Path)
    p = sub.add_parser("grade", help="grade a folder of submissions into a CSV")
    p.add_argument("assignment", help="assignment number, e.g. 01")
    p.add_argument("submissions", type=Path)
    p.add_argument("-o", "--output", type=Path, default=Path("grades.csv"))
    p.add_argument("--only", nargs="+", help="regrade these students only")
    p.add_argument("--demo", action="store_true", help="use the PUBLIC demo seed")
    p.add_argument("-j", "--jobs", type=int, default=2, help="submissions graded at once")
    p = sub.add_parser("written", help="hand-graded answers, one HTML per question")
    p.add_argument("assignment")
    p.add_argument("submissions", type=Path)
    p.add_argument("-o", "--output", type=Path, default=Path("written"))
    p = sub.add_parser("merge", help="merge a filled-in manual_points.csv into the grades")
    p.add_argument("grades", type=Path)
    p.add_argument("sheet", type=Path)
    p = sub.add_parser("check", help="solutions, student copies and samples grade as expected")
    p.add_argument("only", nargs="*")
    p.add_argument("--build", action="store_true", help="also run otter assign")
    args = parser.parse_args(argv)
    if args.command == "build":
        for folder in assignment_dirs(args.only):
            build(folder)
    elif args.command == "seed":
        if args.file.exists():
            raise SystemExit(f"{args.file} exists: keep the seed of a term for all its grades")
        args.file.write_text(f"{secrets.randbits(63)}\n")
        os.chmod(args.file, 0o600)
        print(f"wrote {args.file}: export CONVLIB_GRADING_SEED_FILE={args.file.resolve()}")
    elif args.command == "grade":
        (folder,) = assignment_dirs([args.assignment])
        grade_folder(folder.name[:2], args.submissions, args.output, args.only, args.demo,
                     args.jobs)
    elif args.command == "written":
        export_written(args.assignment, args.submissions, args.output)
    elif args.command == "merge":
        report.merge_manual(args.grades, args.sheet)
        print(f"merged {args.sheet} into {args.grades}")
    else:
        for folder in assignment_dirs(args.only):
            if args.build:
                out = build(folder)
                check_student_copy(folder, out)
                print(f"{folder.name}: student copy holds no solution or hidden test")
            for line in check(folder):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
