"""convlib.teaching.timing: repeats, medians, crossover, interleaved rounds, ratios."""

import numpy as np
import pytest
from scipy import stats as sps

from convlib.teaching.timing import (
    clearly_less,
    crossover,
    interleaved,
    ranking,
    ratio_interval,
    spread,
    time_per_call,
)


def test_time_per_call_counts_and_positive():
    calls = []
    t = time_per_call(lambda: calls.append(1), repeat=4, budget=1e-4)
    assert t.shape == (4,) and np.all(t > 0)
    assert len(calls) >= 5  # one warm-up call, then at least one per repeat


def test_time_per_call_rejects_zero_repeats():
    with pytest.raises(ValueError, match="repeat"):
        time_per_call(lambda: None, repeat=0)


def test_spread_ignores_one_outlier():
    s = spread([1.0, 1.0, 1.0, 1.0, 1e6])
    assert s.median == 1.0 and s.low == 1.0 and s.high == 1.0
    with pytest.raises(ValueError):
        spread([])


@pytest.mark.parametrize(
    "slow, fast, expected",
    [
        ([1, 2, 3, 4, 5], [3, 3, 3, 3, 3], 9),  # a tie is not a win
        ([1, 5, 2, 6, 7], [3, 3, 3, 3, 3], 9),  # an early win that is lost again
        ([5, 5, 5], [1, 1, 1], 3),  # wins everywhere: the first size
        ([1, 1, 1], [2, 2, 2], None),  # never
        ([1, 1, 9], [2, 2, 2], 7),  # only the last size
    ],
)
def test_crossover_on_medians(slow, fast, expected):
    sizes = [3, 5, 7, 9, 11][: len(slow)]
    rng = np.random.default_rng(0)
    # five samples per size around each value, one wild outlier each: medians decide
    noisy = lambda v: list(v + 0.01 * rng.standard_normal(4)) + [100.0 * v]  # noqa: E731
    got = crossover(sizes, [noisy(v) for v in slow], [noisy(v) for v in fast])
    assert got == expected


def test_crossover_length_mismatch():
    with pytest.raises(ValueError, match="same length"):
        crossover([1, 2], [[1]], [[1], [2]])


def test_clearly_less_needs_separated_quartiles():
    assert clearly_less([1.0, 1.1, 1.2, 1.3], [2.0, 2.1, 2.2, 2.3])
    assert not clearly_less([1.0, 2.0, 3.0, 4.0], [2.5, 3.5, 4.5, 5.5])


def test_interleaved_calls_each_once_per_round_in_shuffled_orders():
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in "abcd"}
    rounds = list(interleaved(fns, rounds=20, warmup=2, seed=1))
    assert len(rounds) == 20 and len(calls) == 22 * 4
    for r in range(22):  # every round (warm-up included) calls each function once
        assert sorted(calls[4 * r : 4 * r + 4]) == list("abcd")
    timed_orders = {tuple(calls[4 * r : 4 * r + 4]) for r in range(2, 22)}
    assert len(timed_orders) > 5  # shuffled: not one fixed order
    assert [tuple(t) for t in rounds] == [tuple(calls[4 * r : 4 * r + 4]) for r in range(2, 22)]
    assert all(v >= 0 for t in rounds for v in t.values())
    with pytest.raises(ValueError, match="rounds"):
        next(interleaved(fns, rounds=0))
    with pytest.raises(ValueError, match="empty"):
        next(interleaved({}, rounds=1))


def test_ratio_interval_is_the_t_interval_of_the_log_ratio_by_hand():
    rng = np.random.default_rng(0)
    b = rng.uniform(1.0, 2.0, 12)
    a = b * np.exp(rng.normal(0.3, 0.1, 12))
    d = np.log(a / b)
    half = sps.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    r = ratio_interval(a, b)
    assert r.rounds == 12
    assert abs(r.ratio - np.exp(d.mean())) < 1e-12
    assert abs(r.low - np.exp(d.mean() - half)) < 1e-9
    assert abs(r.high - np.exp(d.mean() + half)) < 1e-9
    assert r.verdict("a", "b") == "b is faster than a"
    assert ratio_interval(b, a).verdict("b", "a") == "b is faster than a"
    assert ratio_interval([1.0, 2.0], [2.0, 1.0]).verdict("a", "b").startswith("cannot tell")
    with pytest.raises(ValueError, match="shapes"):
        ratio_interval([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="positive"):
        ratio_interval([1.0, 0.0], [1.0, 1.0])


def test_ranking_orders_by_median_and_separates_only_real_steps():
    rng = np.random.default_rng(2)
    base = rng.uniform(1.0, 3.0, 30)  # the load of each round, shared by all three
    times = {
        "slow": 2.0 * base * np.exp(rng.normal(0, 0.05, 30)),
        "fast": base * np.exp(rng.normal(0, 0.05, 30)),
        "twin": 2.0 * base * np.exp(rng.normal(0, 0.05, 30)),  # the same speed as slow
    }
    steps = ranking(times)
    assert steps[0].faster == "fast" and steps[0].separated
    assert {steps[1].faster, steps[1].slower} == {"slow", "twin"} and not steps[1].separated
    # Holm over the two steps, by its definition: the smaller p doubled, then monotone
    raw = [sps.ttest_1samp(np.log(times[s.slower] / times[s.faster]), 0).pvalue
           for s in steps]
    first = min(1.0, 2 * min(raw))
    expected = [first, max(first, max(raw))] if raw[0] < raw[1] else [max(first, raw[0]),
                                                                      first]
    assert np.allclose([s.p_holm for s in steps], expected)
    with pytest.raises(ValueError, match="at least 2"):
        ranking({"a": [1.0, 2.0]})
