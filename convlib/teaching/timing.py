"""Timings that a busy machine cannot fake: repeats, medians, and where one method overtakes
another.

One run of a timing is a sample from a noisy distribution (other processes, frequency
scaling, caches). The book therefore times every call several times, summarises the
samples by their median and quartiles, and computes any claim it makes from those
summaries, never from one run.

* :func:`time_per_call` -- seconds per call, one value per repeat.
* :class:`Spread` / :func:`spread` -- median and quartiles of such samples.
* :func:`crossover` -- the smallest size from which one method's median stays below
  another's.
* :func:`clearly_less` -- ``a`` below ``b`` with no overlap of their quartile ranges.

>>> samples = time_per_call(lambda: sum(range(100)), repeat=5, budget=1e-4)
>>> len(samples), bool(samples.min() > 0)
(5, True)
>>> crossover([3, 5, 7, 9], slow=[[1.0], [2.0], [3.0], [4.0]], fast=[[2.5]] * 4)
7
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = ["time_per_call", "Spread", "spread", "crossover", "clearly_less"]


def time_per_call(fn: Callable[[], Any], repeat: int = 7, budget: float = 0.005) -> np.ndarray:
    """Seconds per call of ``fn``: ``repeat`` samples, each the mean over a block of calls.

    One call first (it warms caches and measures how long a call takes); then each block
    holds enough calls to fill about ``budget`` seconds, so that fast functions are not
    drowned by the timer's resolution.

    >>> t = time_per_call(lambda: None, repeat=3, budget=1e-4)
    >>> t.shape
    (3,)
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    number = max(1, int(budget / max(once, 1e-7)))
    return np.array(timeit.repeat(fn, number=number, repeat=repeat)) / number


class Spread(NamedTuple):
    """Median and quartiles of a set of timings (seconds)."""

    median: float
    low: float  # 25th percentile
    high: float  # 75th percentile


def spread(samples: Sequence[float]) -> Spread:
    """Median and quartiles of ``samples``.

    >>> spread([1.0, 2.0, 3.0, 4.0, 100.0])
    Spread(median=3.0, low=2.0, high=4.0)
    """
    a = np.asarray(samples, dtype=float)
    if a.size == 0:
        raise ValueError("samples is empty")
    low, median, high = np.percentile(a, [25, 50, 75])
    return Spread(float(median), float(low), float(high))


def crossover(
    sizes: Sequence[Any], slow: Sequence[Sequence[float]], fast: Sequence[Sequence[float]]
) -> Any:
    """The smallest size from which ``fast``'s median time is below ``slow``'s at that size
    and at every larger one; ``None`` if there is no such size.

    ``slow[i]`` and ``fast[i]`` are the timing samples at ``sizes[i]`` (sizes ascending).
    A size where ``fast`` wins but loses again later does not count: the crossover is
    where it wins for good, within the sizes measured.

    >>> crossover([1, 2, 3, 4], slow=[[1], [5], [2], [6]], fast=[[3]] * 4)
    4
    >>> crossover([1, 2], slow=[[1], [1]], fast=[[2], [2]]) is None
    True
    """
    if not len(sizes) == len(slow) == len(fast):
        raise ValueError(f"sizes, slow and fast must have the same length, got "
                         f"{len(sizes)}, {len(slow)} and {len(fast)}")
    wins = [spread(f).median < spread(s).median for s, f in zip(slow, fast)]
    found = None
    for size, win in zip(reversed(list(sizes)), reversed(wins)):
        if not win:
            break
        found = size
    return found


def clearly_less(a: Sequence[float], b: Sequence[float]) -> bool:
    """``True`` if the upper quartile of ``a`` is below the lower quartile of ``b``.

    A claim "A is faster than B" that holds this way does not hinge on one lucky sample.

    >>> clearly_less([1.0, 1.1, 1.2], [2.0, 2.1, 2.2]), clearly_less([1, 3], [2, 4])
    (True, False)
    """
    return spread(a).high < spread(b).low
