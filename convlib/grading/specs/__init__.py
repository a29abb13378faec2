"""What the judge tests in each assignment: one module per assignment folder.

A spec module defines ``NAME`` (the assignment folder), ``NOTEBOOK`` (the notebook's file
name), ``TESTS`` (:class:`convlib.grading.judge.Test` objects; their points match the
otter source notebook's), ``PROBES`` (extra probe functions run inside the sandbox),
``LIMITS`` (:class:`convlib.grading.sandbox.Limits`), ``MANUAL`` (hand-graded questions
and their points) and optionally ``static_rules(cells) -> {question: reason}``.
"""

from __future__ import annotations

import importlib

SPECS = {
    "01": "a01_convolution_by_hand",
    "02": "a02_padding_stride_pooling",
    "03": "a03_fast_conv_backprop",
    "04": "a04_finetune",
}


def load(number: str):
    """The spec module of assignment ``number`` (``"01"`` or a folder name)."""
    key = number[:2]
    if key not in SPECS:
        raise KeyError(f"no assignment {number!r}; known: {sorted(SPECS)}")
    return importlib.import_module(f"convlib.grading.specs.{SPECS[key]}")
