"""Helpers for the autograded assignments (otter-grader).

* :func:`time_limit` bounds a test so that an infinite loop in a submission fails that
  test instead of hanging the grading of a whole class.
* :class:`TestIntegrityPlugin` is an otter plugin: it fingerprints the autograder's test
  files before a submission runs and, if the submission changed them, gives that
  submission zero with a message saying why.
"""

from __future__ import annotations

import contextlib
import hashlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["GradingTimeout", "time_limit", "fingerprint", "TestIntegrityPlugin"]


class GradingTimeout(AssertionError):
    """Raised inside a test that ran longer than its time limit.

    It is an ``AssertionError`` so that otter reports the test as failed, not errored.
    """


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail the enclosed block with :class:`GradingTimeout` after ``seconds`` of wall time.

    Uses ``SIGALRM``, so it works in the main thread on POSIX systems (where otter runs
    tests); elsewhere it does not limit anything.

    >>> with time_limit(1):
    ...     total = sum(range(1000))
    >>> total
    499500
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise GradingTimeout(f"this test ran longer than its limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fingerprint(directory: str | Path) -> dict[str, str]:
    """SHA-256 of every file under ``directory``, keyed by relative path.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "q1.py").write_text("x = 1")
    >>> list(fingerprint(d))
    ['q1.py']
    """
    root = Path(directory)
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


try:  # otter is needed only where assignments are graded
    from otter.plugins import AbstractOtterPlugin
except ImportError:  # pragma: no cover
    AbstractOtterPlugin = object


class TestIntegrityPlugin(AbstractOtterPlugin):
    """Otter plugin: a submission that rewrites the autograder's tests scores zero.

    otter runs a submission's cells and then reads the test files from disk, so code in
    a submission could overwrite them. The fingerprint is taken in the grading process
    before the submission executes (``before_execution``) and compared after grading.
    Enable it in an assignment's config with ``plugins: [convlib.grading.TestIntegrityPlugin]``.
    """

    __test__ = False  # not a pytest test class, despite the name
    tests_dir = "tests"

    def before_execution(self, submission):
        self._before = fingerprint(self.tests_dir)
        return submission

    def after_grading(self, results):
        after = fingerprint(self.tests_dir)
        changed = sorted(
            set(self._before) ^ set(after)
            | {k for k in self._before if k in after and self._before[k] != after[k]}
        )
        if changed:
            for name in results.test_files:
                results.update_score(name, 0)
            results.set_plugin_data(type(self).__name__, {"changed": changed})
            self._changed = changed

    def generate_report(self):
        changed = getattr(self, "_changed", None)
        if changed:
            return (
                "The submission modified the autograder's test files "
                f"({', '.join(changed)}); every question was given 0 points."
            )
        return "Test files unchanged during grading."
