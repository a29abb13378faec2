"""Grading many submissions: each in its own sandbox, a few at a time."""

from __future__ import annotations

import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import harvest, judge, sandbox, specs


def grade_one(number: str, entry: str, lib: str, seed: int, label: str,
               limits: sandbox.Limits | None = None) -> judge.Grade:
    spec = specs.load(number)
    path = Path(entry)
    try:
        sub = harvest.read_submission(path, spec.NOTEBOOK)
    except (OSError, ValueError, RecursionError, UnicodeError, TypeError, KeyError) as error:
        return judge.Grade(harvest.read_id(path), spec.NAME, [
            judge.TestOutcome(t.name, t.question, 0, t.points, t.hidden, "no notebook")
            for t in spec.TESTS], [f"unreadable submission: {error}"], 0.0, label)
    return judge.grade_cells(spec, sub.student, sub.code, Path(lib), seed, label, limits)


def grade_entries(number: str, entries: list[Path], seed: int, label: str, workers: int = 2,
                  limits: sandbox.Limits | None = None) -> list[judge.Grade]:
    """Grade submissions, ``workers`` at a time, each in its own sandbox."""
    with tempfile.TemporaryDirectory(prefix="convlib-lib-") as tmp:
        lib = sandbox.make_public_lib(Path(tmp) / "lib")
        if workers <= 1 or len(entries) <= 1:
            return [grade_one(number, str(e), str(lib), seed, label, limits) for e in entries]
        # spawn, not fork: a process forked from one that runs threads (BLAS, torch, the
        # conv thread pool) can inherit a held lock and hang
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(grade_one, number, str(e), str(lib), seed, label, limits)
                       for e in entries]
            return [f.result() for f in futures]
