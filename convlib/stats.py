"""The book's one statistical standard: intervals over seeds or splits, and Holm's
adjustment for a family of comparisons.

Every headline comparison of Part II is made over at least ten paired seeds (or repeated
splits): the per-seed differences ``d`` get their mean and a 95 % t interval
(:func:`paired_interval`, ``scipy.stats``, ddof = 1); a family of comparisons from which
the prose draws one conclusion gets its p-values adjusted with :func:`holm`. A claim is
asserted by its interval ("the whole interval lies above zero"), never by the digits of one
run.

>>> mean, low, high = paired_interval([1.0, 2.0, 3.0])
>>> mean, round(low, 3), round(high, 3)
(2.0, -0.484, 4.484)
>>> paired_p([1.0, 2.0, 3.0]) < 0.1
True
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["mean_std", "paired_interval", "paired_p", "holm"]


def _differences(d: Iterable[float]) -> np.ndarray:
    d = np.asarray(list(d) if not isinstance(d, np.ndarray) else d, dtype=float)
    if d.ndim != 1 or len(d) < 2:
        raise ValueError(f"d must be 1-D with at least 2 values, got shape {d.shape}")
    return d


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1) over seeds; one value has spread 0.

    >>> mean_std([1.0, 2.0, 3.0])
    (2.0, 1.0)
    """
    v = np.asarray(list(values), dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def paired_interval(d: Iterable[float], confidence: float = 0.95
                    ) -> tuple[float, float, float]:
    """Mean of the paired differences ``d`` and its t confidence interval
    (``scipy.stats.ttest_1samp``, ddof = 1): ``(mean, low, high)``. Identical differences
    give a zero-width interval. Applied to plain values instead of differences, it is the
    interval of their mean.

    >>> paired_interval([0.5, 0.5])
    (0.5, 0.5, 0.5)
    >>> paired_interval([1.0])
    Traceback (most recent call last):
    ...
    ValueError: d must be 1-D with at least 2 values, got shape (1,)
    """
    from scipy import stats

    d = _differences(d)
    if np.ptp(d) == 0:
        return float(d[0]), float(d[0]), float(d[0])
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(confidence)
    return float(d.mean()), float(ci.low), float(ci.high)


def paired_p(d: Iterable[float]) -> float:
    """Two-sided p-value of the paired t-test that the differences ``d`` have mean 0
    (``scipy.stats.ttest_1samp``); identical differences give 0 (or 1 if all are 0).

    >>> paired_p([0.0, 0.0, 0.0])
    1.0
    """
    from scipy import stats

    d = _differences(d)
    if np.ptp(d) == 0:
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def holm(pvalues: Iterable[float]) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (controls the chance of any
    false claim in the family): the k-th smallest is multiplied by ``m - k + 1`` and the
    results made non-decreasing, capped at 1.

    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(list(pvalues), dtype=float)
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p)))))
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out
