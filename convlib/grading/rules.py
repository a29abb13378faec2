"""Rules of the exercises, enforced by the judge rather than trusted to the submission.

* :func:`forbidden_imports` and :func:`has_loop` read the submitted code (its syntax
  tree, never running it): assignment 1's "loops, no scipy, no torch, no convlib".
* :func:`suspicious` flags code that reaches for the grading machinery (monkeypatching a
  module, touching files, processes or the interpreter's internals) for the instructor to
  look at; it changes no score (the sandbox makes such code harmless).
* :func:`scaling_test` decides assignment 3's "no Python loop over output pixels" from
  how the time of the student's function grows with the image size, measured from
  outside the sandbox, against a vectorised and a pixel-loop reference timed here.
"""

from __future__ import annotations

import ast
import time

import numpy as np

DYNAMIC = {"__import__", "exec", "eval", "compile", "globals", "vars", "getattr", "setattr",
           "__builtins__", "importlib", "breakpoint"}
SYSTEM_MODULES = {"os", "sys", "subprocess", "socket", "ctypes", "importlib", "shutil",
                  "pathlib", "builtins", "gc", "inspect", "signal", "threading",
                  "multiprocessing", "io", "pickle", "urllib", "http", "requests", "glob"}


def _parse(cells: list[str]) -> list[ast.Module]:
    trees = []
    for source in cells:
        lines = ["" if line.lstrip().startswith(("%", "!")) else line
                 for line in source.splitlines()]
        try:
            trees.append(ast.parse("\n".join(lines)))
        except SyntaxError:
            continue
    return trees


def imported_modules(cells: list[str]) -> set[str]:
    """Top-level names of every module the code imports."""
    names = set()
    for tree in _parse(cells):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module.split(".")[0])
    return names


def forbidden_imports(cells: list[str], forbidden: set[str]) -> list[str]:
    """Forbidden modules the code imports, or dynamic-import devices that could hide one.

    >>> forbidden_imports(["import numpy as np", "from scipy import signal"], {"scipy"})
    ['scipy']
    >>> forbidden_imports(["m = __import__('conv' + 'lib')"], {"convlib"})
    ['__import__']
    """
    found = sorted(imported_modules(cells) & (forbidden | {"importlib"}))
    for tree in _parse(cells):
        for node in ast.walk(tree):
            name = node.id if isinstance(node, ast.Name) else (
                node.attr if isinstance(node, ast.Attribute) else None)
            if name in {"__import__", "import_module", "exec", "eval", "compile"}:
                found.append(name)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.extend(m for m in forbidden if m in node.value.split("."))
    return sorted(set(found))


def numpy_only(cells: list[str], questions: tuple[str, ...]) -> dict[str, str]:
    """The rule "answers use NumPy only": every question's violation, if scipy, torch or
    convlib is imported (or could be, through a dynamic import).

    >>> numpy_only(["import numpy as np"], ("q1",))
    {}
    >>> numpy_only(["import torch"], ("q1", "q2"))["q2"]
    'uses torch (answers must use NumPy only)'
    """
    found = forbidden_imports(cells, {"scipy", "torch", "convlib"})
    if not found:
        return {}
    return {q: f"uses {', '.join(found)} (answers must use NumPy only)" for q in questions}


def function_defs(cells: list[str], name: str) -> list[ast.FunctionDef]:
    return [node for tree in _parse(cells) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name == name]


def has_loop(cells: list[str], name: str) -> bool:
    """Whether the (last) definition of function ``name`` contains a loop or comprehension.

    >>> has_loop(["def f(x):\\n    return [v for v in x]"], "f")
    True
    >>> has_loop(["def f(x):\\n    return x.sum()"], "f")
    False
    """
    defs = function_defs(cells, name)
    if not defs:
        return False
    loops = (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
    return any(isinstance(node, loops) for node in ast.walk(defs[-1]))


def suspicious(cells: list[str]) -> list[str]:
    """Flags for code that reaches past its own answers (for the instructor to review).

    >>> suspicious(["import numpy as np", "np.allclose = lambda *a, **k: True"])
    ['tamper: assigns np.allclose']
    """
    flags = set()
    modules = imported_modules(cells)
    for name in sorted(modules & SYSTEM_MODULES):
        flags.add(f"tamper: imports {name}")
    aliases = set()
    for tree in _parse(cells):
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                aliases.update((a.asname or a.name).split(".")[0] for a in node.names)
    for tree in _parse(cells):
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    root = target
                    while isinstance(root, ast.Attribute):
                        root = root.value
                    if isinstance(root, ast.Name) and root.id in aliases:
                        flags.add(f"tamper: assigns {ast.unparse(target)}")
            if isinstance(node, ast.Name) and node.id in DYNAMIC | {"open"}:
                flags.add(f"tamper: uses {node.id}")
            if isinstance(node, ast.Attribute) and node.attr.startswith("__") and node.attr not in (
                "__init__", "__name__", "__class__", "__call__"
            ):
                flags.add(f"tamper: uses {node.attr}")
    return sorted(flags)


# --------------------------------------------------------------------------- timing


def timed_conv(ns, arrays, params):
    """Probe (also run here on the references): the function on K fresh random inputs.

    The inputs are drawn from a seed sent with the call, so nothing can be computed in
    advance; the result is the projection of each output on a random array, enough to
    check that every output value was computed, and cheap to send back.
    """
    func = ns[params["func"]]
    rng = np.random.default_rng(params["seed"])
    K, S, C, O = params["K"], params["S"], params["C"], params["O"]
    x = rng.normal(size=(K, 1, C, S, S))
    w = rng.normal(size=(O, C, 3, 3))
    b = rng.normal(size=O)
    r = rng.normal(size=(K, 1, O, S, S))  # outputs are S x S (stride 1, padding 1)
    out = np.zeros(K)
    for k in range(K):
        y = np.asarray(func(x[k], w, b, 1, 1), dtype=float)
        out[k] = float(np.vdot(r[k], y)) if y.shape == r[k].shape else np.nan
    return {"projections": out}


def timed_conv_expected(params, reference) -> np.ndarray:
    return timed_conv({"f": reference}, {}, dict(params, func="f"))["projections"]


def _best_times(run, sides, repeats):
    """The fastest of ``repeats`` runs at each side, interleaved (noise only adds time)."""
    times = {s: [] for s in sides}
    for _ in range(repeats):
        for side in sides:
            times[side].append(run(side))
    return {s: float(np.min(t)) for s, t in times.items()}


def scaling_test(test, session, rng) -> tuple[bool, str | None, bool]:
    """(passed, feedback, timed_out) for a scaling test (see the module docstring).

    The time of one call is ``a + b * P`` for ``P`` output pixels: ``a`` holds every fixed
    cost (the sandbox's round trip, NumPy's call overhead), ``b`` the cost per pixel. A
    pixel loop pays the Python interpreter per pixel (microseconds); vectorised code pays
    NumPy's inner loops (tens of nanoseconds). ``b`` is estimated from the best of several
    interleaved runs at two sizes with the same number of calls, so ``a`` cancels; the
    student's passes if it is below the geometric mean of the two references' ``b``
    (measured here, at the same moment, so machine load moves all three together).
    """
    small, large = test.sides
    base = {"K": test.calls, "C": 2, "O": 2}
    pixels = {s: test.calls * s * s for s in (small, large)}
    seeds = iter(rng.integers(2**31, size=4 * test.repeats + 4).tolist())

    # correctness on fresh inputs of both sizes first
    for side in (small, large):
        params = dict(base, S=side, seed=next(seeds), func=test.func)
        result = session.call("timed_conv", {}, params)
        if not result.ok:
            return False, f"error: {result.error}", result.timed_out
        expected = timed_conv_expected(params, test.reference)
        got = result.arrays.get("projections")
        if got is None or got.shape != expected.shape or not np.allclose(
            got, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max()
        ):
            return False, f"{test.func} gives wrong values on a {side}x{side} image", False

    def student(side):
        params = dict(base, S=side, seed=next(seeds), func=test.func)
        result = session.call("timed_conv", {}, params, timeout=test.call_seconds)
        if not result.ok:
            raise TimeoutError(result.error)
        return result.seconds

    def reference(function):
        def run(side):
            params = dict(base, S=side, seed=next(seeds))
            start = time.perf_counter()
            timed_conv({"f": function}, {}, dict(params, func="f"))
            return time.perf_counter() - start
        return run

    try:
        t_student = _best_times(student, (small, large), test.repeats)
    except TimeoutError as error:
        return False, f"too slow to time: {error}", True
    seeds = iter(rng.integers(2**31, size=8 * test.repeats).tolist())
    t_fast = _best_times(reference(test.fast_reference), (small, large), test.repeats)
    t_loop = _best_times(reference(test.loop_reference), (small, large), 2)

    def slope(t):
        return (t[large] - t[small]) / (pixels[large] - pixels[small])

    b_student, b_fast, b_loop = slope(t_student), slope(t_fast), slope(t_loop)
    threshold = float(np.sqrt(max(b_fast, 1e-12) * max(b_loop, 1e-12)))
    summary = (
        f"time per output pixel: yours {b_student * 1e9:.0f} ns, vectorised reference "
        f"{b_fast * 1e9:.0f} ns, pixel-loop reference {b_loop * 1e9:.0f} ns "
        f"(limit {threshold * 1e9:.0f} ns)"
    )
    if b_student <= threshold:
        return True, summary, False
    return False, f"{test.func} grows like a loop over pixels: {summary}", False
