"""Assignment 2: padding modes, stride, dilation, max and average pooling in NumPy."""

from __future__ import annotations

import numpy as np

import convlib
from convlib.grading.judge import CaseTest
from convlib.grading.rules import numpy_only
from convlib.grading.sandbox import Limits

MANUAL = {}
PROBES = []
LIMITS = Limits(allow=("numpy",), hide=("convlib",), cpu_seconds=240, total_seconds=300,
                cell_seconds=10, call_seconds=10)
ANSWERS = {"q1": ("pad2d",), "q2": ("conv2d_single",), "q3": ("max_pool2d",),
           "q4": ("avg_pool2d",)}
MODES = ["constant", "reflect", "replicate", "circular"]
X4 = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 2, 1, 1]], dtype=float)


def _pad_reference(x, p, mode="constant"):
    return convlib.pad(x, (p, p, p, p), mode=mode)


def _pad_examples(rng):
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    return [((x, 1, mode), {}) for mode in MODES]


def _pad_random(rng):
    cases = []
    for _ in range(60):
        H, W = (int(v) for v in rng.integers(2, 7, size=2))
        mode = MODES[int(rng.integers(4))]
        p = int(rng.integers(0, min(H, W)))
        cases.append(((rng.normal(size=(H, W)), p, mode), {}))
    return cases


def _conv_reference(x, k, stride=1, padding=0, dilation=1):
    return convlib.conv2d(x[None, None], k[None, None], stride=stride, padding=padding,
                          dilation=dilation)[0, 0]


def _conv_public(rng):
    x = np.arange(16.0).reshape(4, 4)
    k = np.array([[1.0, 0.0], [0.0, -1.0]])
    x7 = np.arange(49.0).reshape(7, 7)
    k3 = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    return [((x, k), {}), ((x7, k3), {"stride": 2, "padding": 1})]


def _dilation_public(rng):
    x7 = np.arange(49.0).reshape(7, 7)
    k3 = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    return [((x7, k3), {"dilation": 2}), ((x7, k3), {"stride": 2, "padding": 2, "dilation": 2})]


def _conv_stride_padding(rng):
    cases = []
    while len(cases) < 60:
        H, W = (int(v) for v in rng.integers(3, 10, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        x, k = rng.normal(size=(H, W)), rng.normal(size=(kh, kw))
        if min(H, W) + 2 * p >= max(kh, kw):
            cases.append(((x, k), {"stride": s, "padding": p}))
    return cases


def _conv_dilation(rng):
    cases = _dilation_public(rng)  # the examples students see, then hidden ones
    for _ in range(38):
        d, s, p = int(rng.integers(2, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
        n = int(rng.integers(2 * d + 1, 12))
        x, k = rng.normal(size=(n, n + 1)), rng.normal(size=(3, 3))
        cases.append(((x, k), {"stride": s, "padding": p, "dilation": d}))
    return cases


def _pool_public(rng):  # the notebook's public test; other strides are tested hidden
    return [((X4, 2), {})]


def _pool_random(rng):
    cases = []
    for _ in range(60):
        H, W = (int(v) for v in rng.integers(2, 10, size=2))
        k = int(rng.integers(1, min(H, W) + 1))
        s = None if rng.random() < 0.5 else int(rng.integers(1, 4))
        cases.append(((rng.normal(size=(H, W)), k), {"stride": s}))
    return cases


def _max_reference(x, k, stride=None):
    return convlib.max_pool2d(x[None, None], k, stride=stride)[0, 0]


def _avg_reference(x, k, stride=None):
    return convlib.avg_pool2d(x[None, None], k, stride=stride)[0, 0]


TESTS = [
    CaseTest("q1_examples", "q1", 1, False, func="pad2d", cases=_pad_examples,
             reference=_pad_reference),
    CaseTest("q1_bad_mode", "q1", 1, False, func="pad2d", raises="ValueError",
             cases=lambda rng: [((np.zeros((2, 2)), 1, "mirror"), {}),
                                ((np.zeros((2, 2)), 1, "zeros"), {})]),
    CaseTest("q1_random", "q1", 2, True, func="pad2d", cases=_pad_random,
             reference=_pad_reference),
    CaseTest("q2_examples", "q2", 1, False, func="conv2d_single", cases=_conv_public,
             reference=_conv_reference),
    CaseTest("q2_stride_padding", "q2", 2, True, func="conv2d_single",
             cases=_conv_stride_padding, reference=_conv_reference),
    CaseTest("q2_dilation", "q2", 1, True, func="conv2d_single", cases=_conv_dilation,
             reference=_conv_reference),
    CaseTest("q3_example", "q3", 1, False, func="max_pool2d", cases=_pool_public,
             reference=_max_reference),
    CaseTest("q3_random", "q3", 2, True, func="max_pool2d", cases=_pool_random,
             reference=_max_reference),
    CaseTest("q4_example", "q4", 1, False, func="avg_pool2d", cases=_pool_public,
             reference=_avg_reference),
    CaseTest("q4_random", "q4", 2, True, func="avg_pool2d", cases=_pool_random,
             reference=_avg_reference),
]


def static_rules(cells: list[str]) -> dict[str, str]:
    return numpy_only(cells, ANSWERS)
