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
* :func:`interleaved` -- several functions timed round-robin (one call of each per round,
  in a new shuffled order), so that a change of the machine's load hits all of them alike.
* :class:`Ratio` / :func:`ratio_interval` -- how many times slower one function is than
  another over paired rounds, with a 95 % t interval (``convlib.stats``).
* :func:`ranking` -- functions ordered by median time, each step tested (Holm).

>>> samples = time_per_call(lambda: sum(range(100)), repeat=5, budget=1e-4)
>>> len(samples), bool(samples.min() > 0)
(5, True)
>>> crossover([3, 5, 7, 9], slow=[[1.0], [2.0], [3.0], [4.0]], fast=[[2.5]] * 4)
7
>>> r = ratio_interval([2.0, 4.1, 2.1, 3.9], [1.0, 2.0, 1.0, 2.0])
>>> round(r.ratio, 1), r.verdict("a", "b")
(2.0, 'b is faster than a')
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..stats import holm, paired_interval, paired_p

__all__ = ["time_per_call", "Spread", "spread", "crossover", "clearly_less", "interleaved",
           "Ratio", "ratio_interval", "Step", "ranking"]


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


def interleaved(fns: Mapping[str, Callable[[], Any]], rounds: int, warmup: int = 3,
                seed: int = 0) -> Iterator[dict[str, float]]:
    """Time ``fns`` round-robin: each round calls every function once, in a new shuffled
    order, and yields ``{name: seconds}`` for that round (in the order they ran).

    ``warmup`` untimed rounds come first. Because the functions take turns, a change of
    the machine's load (another process starting, the clock frequency changing) falls on
    all of them alike, and the rounds pair the measurements: the ratio of two functions'
    times within a round is far less noisy than either time.

    >>> out = list(interleaved({"a": lambda: None, "b": lambda: None}, rounds=3, warmup=1))
    >>> len(out), sorted(out[0])
    (3, ['a', 'b'])
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    if warmup < 0:
        raise ValueError(f"warmup must be at least 0, got {warmup}")
    if not fns:
        raise ValueError("fns is empty")
    names = list(fns)
    rng = np.random.default_rng(seed)
    for r in range(warmup + rounds):
        times = {}
        for i in rng.permutation(len(names)):
            name = names[i]
            start = time.perf_counter()
            fns[name]()
            times[name] = time.perf_counter() - start
        if r >= warmup:
            yield times


class Ratio(NamedTuple):
    """``a`` / ``b`` over paired rounds: the geometric mean of the per-round ratios and
    its confidence interval (``low``, ``high``), from ``rounds`` rounds."""

    ratio: float
    low: float
    high: float
    rounds: int

    def verdict(self, a: str, b: str) -> str:
        """What the interval supports about ``a`` and ``b`` (times ``a`` / ``b``): one
        is faster only if the whole interval lies on one side of 1."""
        if self.high < 1:
            return f"{a} is faster than {b}"
        if self.low > 1:
            return f"{b} is faster than {a}"
        return f"cannot tell {a} and {b} apart"


def ratio_interval(a: Sequence[float], b: Sequence[float], confidence: float = 0.95
                   ) -> Ratio:
    """Times ``a`` over times ``b`` measured in the same rounds (``a[i]`` and ``b[i]``
    from round ``i``): ``exp`` of the mean log ratio and of its t interval
    (``convlib.stats.paired_interval``). Timings are skewed and ratios multiply, so
    the interval is computed on the log scale.

    >>> ratio_interval([2.0, 2.0], [1.0, 1.0])
    Ratio(ratio=2.0, low=2.0, high=2.0, rounds=2)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D of the same length (paired rounds), got "
                         f"shapes {a.shape} and {b.shape}")
    if (a <= 0).any() or (b <= 0).any():
        raise ValueError("times must be positive")
    mean, low, high = paired_interval(np.log(a) - np.log(b), confidence)
    return Ratio(float(np.exp(mean)), float(np.exp(low)), float(np.exp(high)), len(a))


class Step(NamedTuple):
    """One step of a :func:`ranking`: ``faster`` against the next one, ``slower``."""

    faster: str
    slower: str
    ratio: Ratio  # times of `slower` / times of `faster`
    p_holm: float  # Holm-adjusted over all the steps of the ranking
    separated: bool  # p_holm < alpha: the data rank these two


def ranking(times: Mapping[str, Sequence[float]], alpha: float = 0.05) -> list[Step]:
    """The functions ordered by median time, and for each neighbouring pair whether the
    paired rounds separate them: a paired t-test of the log ratio, Holm-adjusted over the
    ``len(times) - 1`` steps (the ranking is one conclusion drawn from all of them).

    >>> steps = ranking({"slow": [3.0, 3.1, 2.9], "fast": [1.0, 1.1, 0.9]})
    >>> [(s.faster, s.slower, s.separated) for s in steps]
    [('fast', 'slow', True)]
    """
    if len(times) < 2:
        raise ValueError(f"times needs at least 2 functions, got {len(times)}")
    order = sorted(times, key=lambda name: spread(times[name]).median)
    pairs = list(zip(order, order[1:]))
    logs = [np.log(np.asarray(times[s], float)) - np.log(np.asarray(times[f], float))
            for f, s in pairs]
    adjusted = holm([paired_p(d) for d in logs])
    return [Step(f, s, ratio_interval(times[s], times[f]), float(p), bool(p < alpha))
            for (f, s), p in zip(pairs, adjusted)]
