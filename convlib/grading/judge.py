"""The trusted judge: run a submission in the sandbox, compare its outputs with references.

An assignment's *spec* (a module in :mod:`convlib.grading.specs`) lists its tests. A test
builds its inputs in the trusted process (hidden tests draw them from the grading seed),
a *probe* running inside the sandbox calls the student's function on them and returns the
values as data, and the test compares those values with what its reference computes here.
Nothing the submission does inside the sandbox can reach the references, the seed, the
comparison or another submission.
"""

from __future__ import annotations

import inspect
import json
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from convlib.grading.inside import probes as common_probes
from convlib.grading.inside.student import close_message
from convlib.grading.sandbox import Limits
from convlib.grading.session import Session

SEED_ENV = "CONVLIB_GRADING_SEED"
SEED_FILE_ENV = "CONVLIB_GRADING_SEED_FILE"
DEMO_SEED = 2024  # public: only for the repository's own tests and trying things out
MAX_FLAGS = 30


class NoSeedError(RuntimeError):
    pass


def grading_seed(demo: bool = False) -> tuple[int, str]:
    """The secret seed of the hidden cases, and a label saying where it came from.

    Read from ``$CONVLIB_GRADING_SEED`` or the file named by ``$CONVLIB_GRADING_SEED_FILE``
    (keep it out of the repository). Without either, grading refuses unless ``demo`` is
    set, in which case the public demo seed is used and labelled as such.
    """
    if os.environ.get(SEED_ENV):
        return int(os.environ[SEED_ENV]), "secret (environment)"
    if os.environ.get(SEED_FILE_ENV):
        return int(Path(os.environ[SEED_FILE_ENV]).read_text().split()[0]), "secret (file)"
    if demo:
        return DEMO_SEED, "PUBLIC DEMO SEED (not for real grades)"
    raise NoSeedError(
        f"no grading seed: set {SEED_ENV} or {SEED_FILE_ENV} (see the instructor guide), "
        "or pass --demo to use the public demo seed"
    )


def test_rng(seed: int, assignment: str, test: str, student: str = "") -> np.random.Generator:
    """The generator of one test's hidden cases for one student.

    Each submission gets its own draw (seed, assignment, test and student id), so a table of
    answers leaked or shared by one student is worth nothing to another, and a regrade of the
    same student sees the same cases.
    """
    return np.random.default_rng([seed, zlib.crc32(f"{assignment}/{test}".encode()),
                                  zlib.crc32(student.encode())])


# --------------------------------------------------------------------------- tests


@dataclass
class Test:
    """One graded test. Subclasses say how to build inputs and judge the outputs."""

    name: str
    question: str
    points: float
    hidden: bool

    probe: str = field(default="call_cases", init=False)

    def build(self, rng: np.random.Generator) -> tuple[dict, dict, Any]:
        """(arrays for the sandbox, JSON params for the probe, context kept here)."""
        raise NotImplementedError

    def judge(self, arrays: dict, scalars: dict, context: Any) -> str | None:
        """None if the test passes, else feedback for the student."""
        raise NotImplementedError


Case = tuple[tuple, dict]


def _describe(args: tuple, kwargs: dict) -> str:
    parts = [f"shape {a.shape}" if isinstance(a, np.ndarray) else repr(a) for a in args]
    parts += [f"{k}={v!r}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


@dataclass
class CaseTest(Test):
    """Call ``func`` on each case; compare with ``reference`` on the same inputs."""

    func: str = ""
    cases: Callable[[np.random.Generator], list[Case]] = None
    reference: Callable[..., Any] = None
    rtol: float = 1e-5
    parts: tuple[int, ...] | None = None  # for tuple results: the parts compared in full
    raises: str = ""  # the exception every case must raise, e.g. "ValueError"

    def build(self, rng):
        cases = self.cases(rng)
        arrays, specs, expected = {}, [], []
        for i, (args, kwargs) in enumerate(cases):
            spec_args = []
            for j, a in enumerate(args):
                if isinstance(a, np.ndarray):
                    arrays[f"c{i}a{j}"] = a
                    spec_args.append({"a": f"c{i}a{j}"})
                else:
                    spec_args.append({"v": a})
            specs.append({"args": spec_args, "kwargs": kwargs})
            copies = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
            expected.append(None if self.raises else self.reference(*copies, **kwargs))
        params = {"func": self.func, "cases": specs, "keep_going": bool(self.raises)}
        return arrays, params, (cases, expected)

    def judge(self, arrays, scalars, context):
        cases, expected = context
        for i, ((args, kwargs), want) in enumerate(zip(cases, expected)):
            # a hidden case is named by its number and shapes only, and an exception by its
            # type: its message could print the hidden inputs back
            call = (f"{self.func}, hidden case {i + 1} of {len(cases)}" if self.hidden
                    else f"{self.func}{_describe(args, kwargs)}")
            if self.raises:
                if not scalars.get(f"err{i}", "").startswith(self.raises):
                    return f"{call} should raise {self.raises}"
                continue
            if f"err{i}" in scalars:
                error = scalars[f"err{i}"]
                return f"{call} raised {error.split(':')[0] if self.hidden else error}"
            if f"out{i}" in scalars:
                return f"{call} -> {scalars[f'out{i}']}"
            if isinstance(want, tuple):
                for j, part in enumerate(want):
                    got = arrays.get(f"out{i}.{j}")
                    if got is None:
                        return f"{call} should return {len(want)} values"
                    if self.parts is not None and j not in self.parts:
                        part = np.asarray(part)
                        if got.shape != part.shape:
                            return (f"{call}: output {j} has shape {got.shape},"
                                    f" expected {part.shape}")
                        continue
                    message = close_message(got, part, self.rtol, what=f"output {j}",
                                            detail=not self.hidden)
                    if message:
                        return f"{call}: {message}"
                continue
            got = arrays.get(f"out{i}")
            if got is None:
                return f"{call} returned nothing usable"
            message = close_message(got, want, self.rtol, detail=not self.hidden)
            if message:
                return f"{call}: {message}"
        return None


@dataclass
class ValueTest(Test):
    """A variable the notebook defines, compared with a value computed here."""

    var: str = ""
    expected: Callable[[], Any] = None

    def __post_init__(self):
        self.probe = "values"

    def build(self, rng):
        return {}, {"names": [self.var]}, np.asarray(self.expected())

    def judge(self, arrays, scalars, context):
        if self.var in scalars:
            return f"{self.var}: {scalars[self.var]}"
        if self.var not in arrays:
            return f"{self.var} is not defined"
        message = close_message(arrays[self.var], context, what=self.var)
        return message


@dataclass
class ProbeTest(Test):
    """A test with its own probe and judging functions (see the specs)."""

    probe_name: str = ""
    make: Callable[[np.random.Generator], tuple[dict, dict, Any]] = None
    decide: Callable[[dict, dict, Any], str | None] = None

    def __post_init__(self):
        self.probe = self.probe_name

    def build(self, rng):
        return self.make(rng)

    def judge(self, arrays, scalars, context):
        return self.decide(arrays, scalars, context)


@dataclass
class ScalingTest(Test):
    """No Python loop over output pixels: see :func:`convlib.grading.rules.scaling_test`."""

    func: str = ""
    sides: tuple[int, int] = (8, 64)
    calls: int = 4  # calls per timing, each on fresh inputs
    repeats: int = 5
    call_seconds: float = 60.0
    reference: Callable | None = None
    fast_reference: Callable | None = None
    loop_reference: Callable | None = None
    scaling: bool = field(default=True, init=False)


# --------------------------------------------------------------------------- probes


COMMON_PROBES = [common_probes.call_cases, common_probes.values, common_probes.timed_conv]
PROBE_GLOBALS = {"np"}


def probe(function: Callable) -> Callable:
    """Mark a spec's function as a probe, checked now: it runs inside the sandbox, alone.

    A probe is shipped to the sandbox as its source text, next to the other probes and
    nothing else, so it may use only ``np``, builtins and what it imports itself. A probe
    that uses a name of its spec module would fail there with a ``NameError`` on every
    submission; this decorator fails when the spec is imported instead.

    >>> @probe
    ... def ok(ns, arrays, params):
    ...     return {"y": np.sum(arrays["x"])}
    >>> SCALE = 2
    >>> @probe
    ... def uses_a_module_name(ns, arrays, params):
    ...     return {"y": SCALE}
    Traceback (most recent call last):
    ...
    ValueError: probe uses_a_module_name uses SCALE, which the sandbox does not have ...
    """
    import ast
    import builtins
    import textwrap

    source = textwrap.dedent(inspect.getsource(function))
    tree = ast.parse(source)  # its source must compile alone
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            node.decorator_list = []  # shipped without its decorators
    compile(tree, f"<probe {function.__name__}>", "exec")
    bound = {function.__name__} | PROBE_GLOBALS | set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
    missing = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
                     - bound)
    if missing:
        raise ValueError(f"probe {function.__name__} uses {', '.join(missing)}, which the "
                         "sandbox does not have (only np, builtins and its own imports)")
    function.is_probe = True
    return function


def probes_source(functions: list[Callable]) -> str:
    """The probes' source text for the sandbox: NumPy, then each function (no decorators)."""
    import textwrap

    parts = ["import numpy as np\n"]
    for function in functions:
        lines = textwrap.dedent(inspect.getsource(function)).splitlines()
        while lines and lines[0].startswith("@"):
            lines.pop(0)
        parts.append("\n".join(lines) + "\n")
    return "\n\n".join(parts)


# --------------------------------------------------------------------------- grading


@dataclass
class TestOutcome:
    name: str
    question: str
    points: float
    max_points: float
    hidden: bool
    feedback: str = ""


@dataclass
class Grade:
    student: str
    assignment: str
    outcomes: list[TestOutcome]
    flags: list[str]
    seconds: float
    seed_label: str
    manual: dict[str, float] = field(default_factory=dict)  # hand-graded questions, points

    @property
    def total(self) -> float:
        return sum(o.points for o in self.outcomes)

    @property
    def possible(self) -> float:
        return sum(o.max_points for o in self.outcomes)


def zero_grade(spec, student: str, flag: str, feedback: str, seed_label: str,
               seconds: float = 0.0) -> Grade:
    """Every test of ``spec`` failed with ``feedback``, and one flag saying why."""
    outcomes = [TestOutcome(t.name, t.question, 0, t.points, t.hidden, feedback)
                for t in spec.TESTS]
    return Grade(student, spec.NAME, outcomes, [flag], seconds, seed_label,
                 dict(getattr(spec, "MANUAL", {})))


def _cause(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def grade_cells(spec, student: str, cells: list[str], lib: Path, seed: int, seed_label: str,
                limits: Limits | None = None) -> Grade:
    """Grade one submission's code cells against an assignment spec.

    Whatever goes wrong while running or judging one test costs that test only, with a
    ``judge error`` flag naming the cause; whatever goes wrong around the tests gives this
    student a zero with such a flag. Nothing a submission does stops the grading of others.
    """
    start = time.perf_counter()
    try:
        return _grade_cells(spec, student, cells, lib, seed, seed_label, limits)
    except Exception as error:  # noqa: BLE001 - contained to this student, named in the flag
        return zero_grade(spec, student, f"judge error: {_cause(error)}",
                          "not graded: the judge failed on this submission (see the flags)",
                          seed_label, time.perf_counter() - start)


def _grade_cells(spec, student, cells, lib, seed, seed_label, limits) -> Grade:
    from convlib.grading import rules

    start = time.perf_counter()
    limits = limits or spec.LIMITS
    flags = rules.suspicious(cells)
    zeroed: dict[str, str] = {}
    if hasattr(spec, "static_rules"):
        for question, reason in spec.static_rules(cells).items():
            zeroed[question] = reason
            flags.append(f"rule {question}: {reason}")
    session = Session(lib, cells, probes_source(COMMON_PROBES + list(spec.PROBES)), limits)
    outcomes = []
    try:
        for test in spec.TESTS:
            rng = test_rng(seed, spec.NAME, test.name, student)
            timed_out = False
            try:
                if getattr(test, "scaling", False):
                    passed, feedback, timed_out = rules.scaling_test(test, session, rng)
                    if passed and feedback:
                        feedback = f"passed: {feedback}"
                else:
                    arrays, params, context = test.build(rng)
                    result = session.call(test.probe, arrays, params)
                    timed_out = result.timed_out
                    if not result.ok:
                        passed, feedback = False, f"error: {result.error}"
                    else:
                        feedback = test.judge(result.arrays, result.scalars, context)
                        passed = feedback is None
            except Exception as error:  # noqa: BLE001 - the judge's failure, this test only
                passed, feedback = False, "the judge could not check this output"
                flags.append(f"judge error {test.name}: {_cause(error)}")
            if test.hidden and feedback and not passed:
                # a hidden test's feedback is its first line: the error's size, never the
                # hidden inputs or expected values a probe's message may go on to show
                feedback = feedback.strip().splitlines()[0][:300]
            if timed_out and not session.over_time:
                flags.append(f"timeout {test.name}")
            if passed and test.question in zeroed:
                passed, feedback = False, f"rule broken: {zeroed[test.question]}"
            outcomes.append(TestOutcome(test.name, test.question, test.points if passed else 0,
                                        test.points, test.hidden, (feedback or "")[:4000]))
        for index, error in sorted(session.cell_errors.items()):
            if error.startswith("stopped"):
                flags.append(f"timeout cell {index}")
        if session.over_time:
            flags.append(f"timeout total: the submission used its {limits.total_seconds:g} s")
    finally:
        session.close()
    # flags quote the submission's code: bounded, like everything else it sends the report
    flags = [f[:300] for f in flags[:MAX_FLAGS]] + (
        [f"... {len(flags) - MAX_FLAGS} more flags"] if len(flags) > MAX_FLAGS else [])
    return Grade(student, spec.NAME, outcomes, flags, time.perf_counter() - start, seed_label,
                 dict(getattr(spec, "MANUAL", {})))


def grade_json(grade: Grade) -> str:
    return json.dumps(
        {
            "student": grade.student,
            "assignment": grade.assignment,
            "total": grade.total,
            "possible": grade.possible,
            "flags": grade.flags,
            "manual": grade.manual,
            "seconds": round(grade.seconds, 2),
            "seed": grade.seed_label,
            "tests": [o.__dict__ for o in grade.outcomes],
        },
        indent=1,
    )
