"""What the instructor gets: the grades CSV, feedback files, written answers to grade.

* :func:`write_csv` keeps one row per student; grading again some students replaces only
  their rows (a regrade leaves everyone else's untouched).
* :func:`feedback_text` is the per-student file: every test, its points, and for a failed
  test the case, the expected and the obtained values and the error size.
* :func:`export_written` writes one HTML page per hand-graded question (every student's
  answer) and a points sheet to fill in; :func:`merge_manual` adds those points to the CSV.
"""

from __future__ import annotations

import csv
import html
from pathlib import Path

from convlib.grading.judge import Grade

FIXED = ["student", "total", "possible", "flags", "seconds", "seed"]


def grade_row(grade: Grade) -> dict:
    row = {
        "student": grade.student,
        "total": f"{grade.total:g}",
        "possible": f"{grade.possible:g}",
        "flags": "; ".join(grade.flags),
        "seconds": f"{grade.seconds:.1f}",
        "seed": grade.seed_label,
    }
    for outcome in grade.outcomes:
        row[outcome.name] = f"{outcome.points:g}"
    return row


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    if not Path(path).exists():
        return [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write_csv(path: Path, grades: list[Grade]) -> None:
    """Write or update ``path``: rows of these students replaced, other rows kept."""
    fields, rows = read_csv(path)
    by_student = {r["student"]: r for r in rows}
    for grade in grades:
        new = grade_row(grade)
        old = by_student.get(grade.student, {})
        # hand-graded columns merged earlier survive a regrade
        by_student[grade.student] = {**{k: v for k, v in old.items() if k.startswith("manual_")},
                                     **new}
    columns = list(dict.fromkeys(
        FIXED + [k for g in grades for k in grade_row(g) if k not in FIXED]
        + [f for f in fields if f not in FIXED]
    ))
    columns += sorted({k for r in by_student.values() for k in r} - set(columns))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for student in sorted(by_student):
            writer.writerow(by_student[student])


def feedback_text(grade: Grade) -> str:
    manual = sum(grade.manual.values())
    lines = [f"Assignment {grade.assignment}: {grade.student}",
             f"Autograded score: {grade.total:g} / {grade.possible:g}"]
    if grade.manual:
        questions = ", ".join(f"{q} ({p:g} points)" for q, p in grade.manual.items())
        lines.append(f"Graded by hand, not included above: {questions}; the assignment is "
                     f"out of {grade.possible + manual:g} in all.")
    lines.append("")
    for o in grade.outcomes:
        kind = "hidden" if o.hidden else "public"
        status = "passed" if o.points == o.max_points else "FAILED"
        lines.append(f"[{status}] {o.name} ({kind}): {o.points:g}/{o.max_points:g}")
        if o.feedback:
            lines += ["    " + line for line in o.feedback.splitlines()]
    if grade.flags:
        lines += ["", "Notes from the grader:"] + [f"  - {f}" for f in grade.flags]
    return "\n".join(lines) + "\n"


def export_written(answers: dict[str, dict[str, str]], manual: dict[str, float],
                   folder: Path) -> list[Path]:
    """``answers[question][student]`` to ``folder/written_<q>.html``, plus a points sheet."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for question, by_student in answers.items():
        parts = [f"<h1>Question {question[1:]} ({manual[question]:g} points, graded by hand)</h1>"]
        for student in sorted(by_student):
            text = by_student[student] or "(no answer)"
            parts.append(f"<h2>{html.escape(student)}</h2>"
                         f"<pre style='white-space: pre-wrap'>{html.escape(text)}</pre>")
        path = folder / f"written_{question}.html"
        path.write_text("<!doctype html><meta charset='utf-8'>\n" + "\n".join(parts) + "\n")
        written.append(path)
    sheet = folder / "manual_points.csv"
    if not sheet.exists():
        students = sorted({s for by in answers.values() for s in by})
        with open(sheet, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["student"] + [f"manual_{q}" for q in answers])
            for student in students:
                writer.writerow([student] + [""] * len(answers))
    written.append(sheet)
    return written


def merge_manual(grades_csv: Path, sheet: Path) -> None:
    """Copy the points of a filled-in ``manual_points.csv`` into the grades CSV."""
    fields, rows = read_csv(grades_csv)
    _, manual = read_csv(sheet)
    points = {r["student"]: r for r in manual}
    extra = [k for r in manual for k in r if k.startswith("manual_")]
    columns = list(dict.fromkeys(fields + extra + ["grand_total"]))
    for row in rows:
        given = points.get(row["student"], {})
        for key in extra:
            if given.get(key, "") != "":
                row[key] = given[key]
        manual_sum = sum(float(row[k]) for k in extra if row.get(k, "") != "")
        row["grand_total"] = f"{float(row['total']) + manual_sum:g}"
    with open(grades_csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
