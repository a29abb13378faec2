"""Grading many submissions: each in its own process and sandbox, a few at a time.

Each submission is graded in a fresh process (``spawn``) watched by the parent: a process
that has not answered by its deadline (the submission's total time limit plus the judge's
own margin) is killed, its sandbox with it (``bwrap --die-with-parent``), and the student
gets a zero flagged ``judge error: watchdog``. A process that dies or raises gives a zero
flagged with the cause. Grades are handed to ``on_grade`` as they arrive, so a CSV row is
written for every student graded so far whatever happens later.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from . import harvest, judge, sandbox, specs

JUDGE_MARGIN_SECONDS = 120.0  # the judge's own work per submission (references, timing)
PROBE_CELL = '''
import sys
found = []
def usable(name):  # an empty folder imports as a namespace package, with no code
    try:
        return getattr(__import__(name), "__file__", None) is not None
    except BaseException:
        return False
    finally:
        sys.modules.pop(name, None)
found += [name for name in NAMES if usable(name)]
for folder in FOLDERS:  # a forbidden package must not come back through sys.path either
    sys.path.append(folder)
    found += [name + "@" + folder for name in NAMES if usable(name)]
found = " ".join(found)
'''


def _packages(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists()}


def _forbidden_names(limits: sandbox.Limits) -> list[str]:
    """Packages the sandbox must not import: hidden or not allowed ones of the virtual
    environment, and a few that only the base interpreter or the system has."""
    names = set(limits.hide)
    venv = set().union(*[_packages(d) for d in sandbox._venv_site_packages()])
    if limits.allow is not None:
        names.update(venv - set(limits.allow))
    foreign = set().union(*[_packages(d) for d in sandbox._foreign_site_packages()])
    names.update(sorted(foreign - venv)[:10])
    return sorted(n for n in names if n.isidentifier())


def check_isolation(lib: Path, limits: sandbox.Limits) -> list[str]:
    """Start one sandbox and try to import every package it must not see (also after adding
    the base interpreter's and the system's package folders to ``sys.path``).

    Returns what could be imported (empty when the sandbox holds); :func:`grade_entries`
    refuses to grade otherwise.
    """
    names = _forbidden_names(limits)[:40]
    folders = [str(p) for p in sandbox._foreign_site_packages()]
    cell = f"NAMES = {names!r}\nFOLDERS = {folders!r}\n" + PROBE_CELL
    session = judge.Session(lib, [cell], judge.probes_source(judge.COMMON_PROBES), limits)
    try:
        result = session.call("values", {}, {"names": ["found"]})
    finally:
        session.close()
    if not result.ok or "found" not in result.scalars:
        return [f"the probe did not run ({result.error})"]
    return result.scalars["found"].split()


def grade_one(number: str, entry: str, lib: str, seed: int, label: str,
              limits: sandbox.Limits | None = None) -> judge.Grade:
    spec = specs.load(number)
    path = Path(entry)
    student = harvest.read_id(path)
    try:
        sub = harvest.read_submission(path, spec.NOTEBOOK)
    except Exception as error:  # noqa: BLE001 - any unreadable submission is that student's
        return judge.zero_grade(spec, student, f"unreadable submission: {error}"[:300],
                                "no notebook", label)
    return judge.grade_cells(spec, sub.student, sub.code, Path(lib), seed, label, limits)


def _worker(connection, *args) -> None:
    try:
        grade = grade_one(*args)
    except BaseException as error:  # noqa: BLE001 - reported to the parent, then exit
        connection.send(("error", f"{type(error).__name__}: {error}"[:300]))
    else:
        connection.send(("grade", grade))
    connection.close()


def grade_entries(number: str, entries: list[Path], seed: int, label: str, workers: int = 2,
                  limits: sandbox.Limits | None = None,
                  on_grade: Callable[[judge.Grade], None] | None = None) -> list[judge.Grade]:
    """Grade submissions, ``workers`` at a time, each in its own process and sandbox.

    Returns the grades in the order of ``entries``; ``on_grade`` gets each as it arrives.
    """
    spec = specs.load(number)
    limits = limits or spec.LIMITS
    deadline = limits.total_seconds * 1.5 + JUDGE_MARGIN_SECONDS
    grades: list[judge.Grade | None] = [None] * len(entries)
    # spawn, not fork: a process forked from one that runs threads (BLAS, torch, the
    # conv thread pool) can inherit a held lock and hang
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="convlib-lib-") as tmp:
        lib = sandbox.make_public_lib(Path(tmp) / "lib")
        leaks = check_isolation(lib, limits)
        if leaks:
            raise RuntimeError(f"the sandbox is not isolated here, refusing to grade: {leaks}")
        waiting = list(range(len(entries)))
        running: dict[int, tuple] = {}

        def finish(index: int, grade: judge.Grade) -> None:
            grades[index] = grade
            if on_grade is not None:
                on_grade(grade)

        def fail(index: int, why: str) -> judge.Grade:
            return judge.zero_grade(spec, harvest.read_id(Path(entries[index])),
                                    f"judge error: {why}",
                                    "not graded: the judge failed on this submission", label)

        while waiting or running:
            while waiting and len(running) < max(1, workers):
                index = waiting.pop(0)
                parent, child = context.Pipe(duplex=False)
                process = context.Process(
                    target=_worker,
                    args=(child, number, str(entries[index]), str(lib), seed, label, limits),
                    daemon=True)
                process.start()
                child.close()
                running[index] = (process, parent, time.monotonic() + deadline)
            for index, (process, connection, ends) in list(running.items()):
                message = None
                if connection.poll(0.2 / max(1, len(running))):
                    try:
                        message = connection.recv()
                    except (EOFError, OSError):
                        message = ("error", f"grading process died (exit {process.exitcode})")
                elif not process.is_alive() and not connection.poll(0):
                    process.join(1)
                    message = ("error", f"grading process died (exit {process.exitcode})")
                elif time.monotonic() > ends:
                    message = ("error", f"watchdog: no grade after {deadline:.0f} s")
                if message is None:
                    continue
                kind, value = message
                process.join(5)
                if process.is_alive():
                    process.kill()
                    process.join()
                connection.close()
                del running[index]
                finish(index, value if kind == "grade" else fail(index, value))
    return grades
