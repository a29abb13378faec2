"""What the judge tests in each assignment: one module per assignment folder.

The spec of ``assignments/NN_topic/topic.ipynb`` is the module ``aNN_topic`` here, found by
its name (no table to update): ``NAME`` (``NN_topic``) and ``NOTEBOOK`` (``topic.ipynb``) are
set when it is loaded. It defines ``TESTS`` (:class:`convlib.grading.judge.Test` objects;
their points match the otter notebook's, which a test checks), ``PROBES`` (its own probe
functions, each marked :func:`convlib.grading.judge.probe`), ``LIMITS``
(:class:`convlib.grading.sandbox.Limits`), ``MANUAL`` (hand-graded questions and their
points) and optionally ``ANSWERS`` and ``static_rules(cells) -> {question: reason}``, and
``SLOW = True`` when grading one submission takes more than a few seconds (CI then marks its
checks ``slow``). ``_template.py`` is a starting point for a new assignment. Folders named in
``$CONVLIB_GRADING_SPECS`` are searched too.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from types import ModuleType

PATTERN = re.compile(r"a(\d\d)_\w+")
# more folders of spec modules (a course's private assignments, a test's): colon-separated
EXTRA_DIRS = "CONVLIB_GRADING_SPECS"
for _folder in filter(None, os.environ.get(EXTRA_DIRS, "").split(os.pathsep)):
    if _folder not in __path__:
        __path__.append(_folder)


def available() -> dict[str, str]:
    """``{"01": "a01_convolution_by_hand", ...}``: every spec module of this package."""
    found = {}
    for module in pkgutil.iter_modules(__path__):
        match = PATTERN.fullmatch(module.name)
        if match:
            found[match.group(1)] = module.name
    return dict(sorted(found.items()))


def load(number: str) -> ModuleType:
    """The spec module of assignment ``number`` (``"01"`` or a folder name)."""
    key = number[:2]
    specs = available()
    if key not in specs:
        raise KeyError(f"no assignment {number!r}; known: {sorted(specs)}")
    module = importlib.import_module(f"{__name__}.{specs[key]}")
    module.NAME = specs[key][1:]
    module.NOTEBOOK = f"{module.NAME[3:]}.ipynb"
    return module
