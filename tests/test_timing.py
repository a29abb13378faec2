"""convlib.teaching.timing: repeats, medians, crossover."""

import numpy as np
import pytest

from convlib.teaching.timing import clearly_less, crossover, spread, time_per_call


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
