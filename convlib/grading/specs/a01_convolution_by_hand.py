"""Assignment 1: cross-correlation and convolution with loops, the output-size formula."""

from __future__ import annotations

import numpy as np

import convlib
from convlib.grading.judge import CaseTest, ValueTest
from convlib.grading.rules import has_loop, numpy_only
from convlib.grading.sandbox import Limits

MANUAL = {"q5": 2}
PROBES = []
# the rules forbid more than NumPy in answers: inside the sandbox nothing else is installed
LIMITS = Limits(allow=("numpy",), hide=("convlib",), cpu_seconds=240, total_seconds=300,
                cell_seconds=10, call_seconds=10)
# the functions (or variables) that answer each question: the rules judge these only
ANSWERS = {"q1": ("correlate2d_loops",), "q2": ("convolve2d_loops",),
           "q3": ("output_size",), "q4": ("ramp_result", "correlate2d_loops")}


def _hand(rng):
    return [((np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), np.array([[1, 0], [0, -1]])), {})]


def _rect(rng):
    return [((np.arange(12).reshape(3, 4), np.array([[1, 2, 3]])), {})]


def _random(rng):
    cases = []
    for _ in range(25):
        H, W = (int(v) for v in rng.integers(3, 9, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        cases.append(((rng.normal(size=(H, W)), rng.normal(size=(kh, kw))), {}))
    return cases


def _sizes_public(rng):  # exactly the notebook's public test (dilation is tested hidden)
    return [((5, 3), {}), ((32, 5), {"padding": 2}), ((7, 3), {"stride": 2})]


def _sizes_random(rng):
    cases = []
    for _ in range(200):
        k, s, p, d = (int(v) for v in rng.integers(1, 6, size=4))
        n = int(rng.integers(d * (k - 1) + 1, 40))
        cases.append(((n, k, s, p, d), {}))
    return cases


def _correlate(x, k):
    return convlib.correlate2d(x, k, mode="valid")


def _convolve(x, k):
    return convlib.convolve2d(x, k, mode="valid")


TESTS = [
    CaseTest("q1_hand_example", "q1", 1, False, func="correlate2d_loops", cases=_hand,
             reference=_correlate),
    CaseTest("q1_rectangular", "q1", 1, False, func="correlate2d_loops", cases=_rect,
             reference=_correlate),
    CaseTest("q1_random", "q1", 2, True, func="correlate2d_loops", cases=_random,
             reference=_correlate),
    CaseTest("q2_flip", "q2", 1, False, func="convolve2d_loops", cases=_hand,
             reference=_convolve),
    CaseTest("q2_random", "q2", 2, True, func="convolve2d_loops", cases=_random,
             reference=_convolve),
    CaseTest("q3_examples", "q3", 1, False, func="output_size", cases=_sizes_public,
             reference=convlib.output_size),
    CaseTest("q3_random", "q3", 2, True, func="output_size", cases=_sizes_random,
             reference=convlib.output_size),
    ValueTest("q4_values", "q4", 2, False, var="ramp_result",
              expected=lambda: _correlate(np.arange(1.0, 26).reshape(5, 5),
                                          np.array([[1, 0, -1], [0, 1, 0], [-1, 0, 1]]))),
]


def static_rules(cells: list[str]) -> dict[str, str]:
    """Questions whose points the rules take away, and why."""
    broken = numpy_only(cells, ANSWERS)
    if "q1" not in broken and not has_loop(cells, "correlate2d_loops"):
        broken["q1"] = "correlate2d_loops has no explicit loop"
    return broken
