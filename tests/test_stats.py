"""convlib.stats against independent computations: the t interval from the t quantile by
hand, the p-value from the t distribution's tail, Holm's adjustment by its definition."""

import itertools

import numpy as np
import pytest
from scipy import stats as sps

from convlib import stats


def test_paired_interval_is_the_t_interval_by_hand():
    d = np.array([0.5, 1.5, -0.2, 2.0, 0.7])
    m, lo, hi = stats.paired_interval(d)
    half = sps.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    assert abs(m - d.mean()) < 1e-12
    assert abs(lo - (m - half)) < 1e-9 and abs(hi - (m + half)) < 1e-9
    m90, lo90, hi90 = stats.paired_interval(d, 0.9)
    assert lo < lo90 < m90 < hi90 < hi  # a lower confidence gives a narrower interval
    assert stats.paired_interval([1.0, 1.0]) == (1.0, 1.0, 1.0)


def test_paired_p_is_the_two_sided_t_tail():
    d = np.array([0.3, 1.1, -0.4, 0.9, 0.6, 1.4])
    t = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))
    assert abs(stats.paired_p(d) - 2 * sps.t.sf(abs(t), len(d) - 1)) < 1e-12
    assert stats.paired_p([0.0, 0.0]) == 1.0 and stats.paired_p([2.0, 2.0]) == 0.0


def test_holm_rejects_what_the_step_down_procedure_rejects():
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.uniform(0, 0.1, size=rng.integers(2, 7))
        adjusted = stats.holm(p)
        for alpha in (0.01, 0.05):
            # Holm by definition: walk up the sorted p-values, stop at the first
            # p_(k) > alpha / (m - k); everything before it is rejected.
            rejected = set()
            for k, i in enumerate(np.argsort(p)):
                if p[i] > alpha / (len(p) - k):
                    break
                rejected.add(int(i))
            assert {int(i) for i in np.flatnonzero(adjusted <= alpha)} == rejected
        assert (adjusted >= p).all() and (adjusted <= 1).all()


def test_holm_of_one_p_value_is_itself():
    for p in itertools.product([0.2, 0.01]):
        assert stats.holm(p).tolist() == list(p)


@pytest.mark.parametrize("bad", [[1.0], [[1.0, 2.0]]])
def test_bad_differences_are_named(bad):
    with pytest.raises(ValueError, match="d must be 1-D"):
        stats.paired_interval(bad)
    with pytest.raises(ValueError, match="d must be 1-D"):
        stats.paired_p(bad)


def test_mean_std_uses_ddof_1():
    assert stats.mean_std([2.0, 4.0]) == (3.0, np.std([2.0, 4.0], ddof=1))
    assert stats.mean_std([5.0]) == (5.0, 0.0)
