"""Assignment NN: a template. Copy to ``aNN_topic.py`` for ``assignments/NN_topic/topic.ipynb``.

One test per otter test of the notebook, with its points; hidden cases drawn from ``rng``
(the grading seed and the student's id), public ones exactly the notebook's public cases.
"""

from __future__ import annotations

import numpy as np

from convlib.grading.judge import CaseTest
from convlib.grading.rules import numpy_only
from convlib.grading.sandbox import Limits

MANUAL = {}  # hand-graded questions: {"q3": 2}
PROBES = []  # probes of its own, each decorated with @convlib.grading.judge.probe
LIMITS = Limits(allow=("numpy",), hide=("convlib",), cell_seconds=10, call_seconds=10,
                total_seconds=300)
ANSWERS = {"q1": ("double",)}  # the functions that answer each question (for the rules)


def _double_public(rng):
    return [((np.array([1.0, 2.0]),), {})]


def _double_hidden(rng):
    return [((rng.normal(size=int(rng.integers(1, 9))),), {}) for _ in range(10)]


TESTS = [
    CaseTest("q1_example", "q1", 1, False, func="double", cases=_double_public,
             reference=lambda x: 2 * x),
    CaseTest("q1_random", "q1", 1, True, func="double", cases=_double_hidden,
             reference=lambda x: 2 * x),
]


def static_rules(cells: list[str]) -> dict[str, str]:
    return numpy_only(cells, ANSWERS)
