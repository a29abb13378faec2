"""Grading many submissions: each in its own sandbox, a few at a time, under a watchdog.

Submissions are graded in a few long-lived processes (``spawn``) watched by the parent: a
process that has not answered by its deadline (the submission's total time limit plus the
judge's own margin) is killed, its sandbox with it (``bwrap --die-with-parent``), another
takes its place, and the student gets a zero flagged ``judge error: watchdog``. A process
that dies or raises gives a zero flagged with the cause. Grades are handed to ``on_grade``
as they arrive, so a CSV row is written for every student graded so far whatever happens
later.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from . import harvest, judge, sandbox, session, specs

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
    probe_session = session.Session(lib, [cell], judge.probes_source(judge.COMMON_PROBES), limits)
    try:
        result = probe_session.call("values", {}, {"names": ["found"]})
    finally:
        probe_session.close()
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


def _worker(connection) -> None:
    """A grading process: grades the submissions it is sent, one at a time, until ``None``.

    It lives for many submissions (importing NumPy, torch and the specs once); the parent
    kills it, and starts another, when one submission overruns its deadline.
    """
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            grade = grade_one(*task)
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            connection.send(("error", f"{type(error).__name__}: {error}"[:300]))
        else:
            connection.send(("grade", grade))


class _Worker:
    def __init__(self, context):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.index: int | None = None  # the submission it grades now
        self.ends = 0.0

    def send(self, index: int, task: tuple, deadline: float) -> None:
        self.index, self.ends = index, time.monotonic() + deadline
        self.connection.send(task)

    def stop(self, kill: bool = False) -> None:
        if not kill:
            try:
                self.connection.send(None)
            except OSError:
                pass
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()  # its sandbox dies with it (bwrap --die-with-parent)
        self.process.join()
        sandbox.remove_cgroups_of(self.process.pid)
        self.connection.close()


def grade_entries(number: str, entries: list[Path], seed: int, label: str, workers: int = 2,
                  limits: sandbox.Limits | None = None,
                  on_grade: Callable[[judge.Grade], None] | None = None,
                  watchdog_seconds: float | None = None) -> list[judge.Grade]:
    """Grade submissions, ``workers`` at a time, each in its own sandbox, under a watchdog.

    Returns the grades in the order of ``entries``; ``on_grade`` gets each as it arrives.
    ``watchdog_seconds`` (default: the total time limit, half again, plus the judge's
    margin) bounds the grading of one submission.
    """
    spec = specs.load(number)
    limits = limits or spec.LIMITS
    deadline = watchdog_seconds or limits.total_seconds * 1.5 + JUDGE_MARGIN_SECONDS
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
        pool = [_Worker(context) for _ in range(max(1, min(workers, len(entries))))]

        def finish(index: int, kind: str, value) -> None:
            if kind != "grade":
                value = judge.zero_grade(spec, harvest.read_id(Path(entries[index])),
                                         f"judge error: {value}",
                                         "not graded: the judge failed on this submission",
                                         label)
            grades[index] = value
            if on_grade is not None:
                on_grade(value)

        try:
            while waiting or any(w.index is not None for w in pool):
                for i, worker in enumerate(pool):
                    if worker.index is None and waiting:
                        index = waiting.pop(0)
                        worker.send(index, (number, str(entries[index]), str(lib), seed, label,
                                            limits), deadline)
                    if worker.index is None:
                        continue
                    message = None
                    if worker.connection.poll(0.1):
                        try:
                            message = worker.connection.recv()
                        except (EOFError, OSError):
                            worker.process.join(1)
                            message = ("error", "grading process died "
                                       f"(exit {worker.process.exitcode})")
                    elif not worker.process.is_alive():
                        worker.process.join(1)
                        message = ("error", "grading process died "
                                   f"(exit {worker.process.exitcode})")
                    elif time.monotonic() > worker.ends:
                        message = ("error", f"watchdog: no grade after {deadline:.0f} s")
                    if message is None:
                        continue
                    index = worker.index
                    worker.index = None
                    if message[0] != "grade":  # a fresh process for the next submission
                        worker.stop(kill=True)
                        pool[i] = _Worker(context)
                    finish(index, *message)
        finally:
            for worker in pool:
                worker.stop(kill=worker.index is not None)
    return grades
