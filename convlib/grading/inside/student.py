"""What a student notebook may import from ``convlib.grading`` while they work.

These helpers make the public tests that ``grader.check`` runs informative; they decide no
grade (the judge does, outside the student's process, see :mod:`convlib.grading.judge`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

import numpy as np

__all__ = ["GradingTimeout", "time_limit", "assert_close"]


class GradingTimeout(AssertionError):
    """Raised inside a block that ran longer than its :func:`time_limit`."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail the enclosed block with :class:`GradingTimeout` after ``seconds`` of wall time.

    A convenience for public tests and long cells: code inside the block can catch the
    exception, so the judge does not rely on it (it kills the sandbox from outside).

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
        raise GradingTimeout(f"this block ran longer than its limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def close_message(got, expected, rtol: float = 1e-5, what: str = "result",
                  detail: bool = True) -> str | None:
    """None when ``got`` matches ``expected``; otherwise a message with both and the error.

    The tolerance accepts a correct float32 answer: relative ``rtol`` plus an absolute
    part scaled to the size of the expected values. With ``detail=False`` (the judge's
    hidden tests) the message gives the error's size and place, not the values.

    >>> close_message([1.0, 2.0], [1.0, 2.0]) is None
    True
    >>> print(close_message([[1.0, 2.0]], [[1.0, 2.5]]))
    result is wrong: largest error 0.5 at index (0, 1)
      expected: [[1.  2.5]]
      got:      [[1. 2.]]
    """
    expected = np.asarray(expected, dtype=float)
    try:
        if np.iscomplexobj(got):
            return f"{what} should hold real numbers, got complex ones"
        got_array = np.asarray(got, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return f"{what} should be an array of numbers, got {type(got).__name__}"
    if got_array.shape != expected.shape:
        return f"{what} has shape {got_array.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(got_array)):
        return f"{what} holds NaN or infinite values"
    scale = float(np.max(np.abs(expected), initial=1.0))
    error = np.abs(got_array - expected)
    if np.all(error <= rtol * np.abs(expected) + rtol * scale):
        return None
    where = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
    if not detail:
        at = f" at index {tuple(int(i) for i in where)}" if where else ""
        return f"{what} is wrong: largest error {float(np.max(error)):.3g}{at}"
    shown = ""
    if expected.ndim > 2:  # show the 2-D slice that holds the largest error
        shown = f"  (showing [{', '.join(str(int(i)) for i in where[:-2])}, :, :])\n"
        expected, got_array = expected[where[:-2]], got_array[where[:-2]]
    with np.printoptions(precision=4, threshold=50, edgeitems=3, linewidth=88):
        at = f" at index {tuple(int(i) for i in where)}" if where else ""
        return (
            f"{what} is wrong: largest error {float(np.max(error)):.3g}{at}\n"
            f"{shown}"
            f"  expected: {np.array2string(expected, prefix='  expected: ')}\n"
            f"  got:      {np.array2string(got_array, prefix='  got:      ')}"
        )


def assert_close(got, expected, rtol: float = 1e-5, what: str = "result") -> None:
    """Assert that ``got`` matches ``expected``; on failure show both and the error size.

    >>> assert_close([1.0, 2.0], [1.0, 2.0 + 1e-9])
    """
    message = close_message(got, expected, rtol=rtol, what=what)
    if message is not None:
        raise AssertionError(message)
