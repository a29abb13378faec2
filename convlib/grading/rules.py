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

from convlib.grading.inside.probes import timed_conv

DYNAMIC = {"__import__", "exec", "eval", "compile", "globals", "vars", "getattr", "setattr",
           "__builtins__", "importlib", "breakpoint"}
SYSTEM_MODULES = {"os", "sys", "subprocess", "socket", "ctypes", "importlib", "shutil",
                  "pathlib", "builtins", "gc", "inspect", "signal", "threading",
                  "multiprocessing", "io", "pickle", "urllib", "http", "requests", "glob"}


def _parse(cells: list[str]) -> list[ast.Module]:
    return [tree for _, tree in _parse_indexed(cells)]


def _parse_indexed(cells: list[str]) -> list[tuple[int, ast.Module]]:
    trees = []
    for index, source in enumerate(cells):
        lines = ["" if line.lstrip().startswith(("%", "!")) else line
                 for line in source.splitlines()]
        try:
            trees.append((index, ast.parse("\n".join(lines))))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
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


# builtins that import or run code given as text: matched as names, never as attributes
# (``re.compile`` and ``model.eval()`` are ordinary methods)
DYNAMIC_IMPORT = {"__import__", "exec", "eval", "compile", "importlib", "import_module"}


def _reasons(node: ast.AST, forbidden: set[str], aliases: set[str]) -> list[str]:
    """What in ``node`` reaches a forbidden module: imports, names bound to one, dynamic
    imports by name, and strings that name a forbidden module."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            found += [a.name.split(".")[0] for a in sub.names
                      if a.name.split(".")[0] in forbidden | {"importlib"}]
        elif isinstance(sub, ast.ImportFrom) and sub.module:
            if sub.module.split(".")[0] in forbidden | {"importlib"}:
                found.append(sub.module.split(".")[0])
        elif isinstance(sub, ast.Name):
            if sub.id in DYNAMIC_IMPORT:
                found.append(sub.id)
            elif sub.id in aliases:
                found.append(sub.id)
        elif isinstance(sub, ast.Attribute) and sub.attr == "__import__":
            found.append("__import__")
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found += [m for m in forbidden if m in sub.value[:1000].split(".")]
    return found


def forbidden_imports(cells: list[str], forbidden: set[str]) -> list[str]:
    """Forbidden modules any of the code imports, or dynamic-import devices that could hide
    one (builtins matched by name: ``re.compile`` is not ``compile``).

    >>> forbidden_imports(["import numpy as np", "from scipy import signal"], {"scipy"})
    ['scipy']
    >>> forbidden_imports(["m = __import__('conv' + 'lib')"], {"convlib"})
    ['__import__']
    >>> forbidden_imports(["import re", "p = re.compile('a+')"], {"scipy"})
    []
    """
    found = []
    for tree in _parse(cells):
        found += _reasons(tree, forbidden, set())
    return sorted(set(found))


def _definitions(cells: list[str]) -> tuple[dict[str, tuple[int, ast.AST]], list[ast.stmt]]:
    """The notebook's top-level functions (the last definition of each name, with its code
    cell) and its other top-level statements."""
    functions, others = {}, []
    for index, tree in _parse_indexed(cells):
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                functions[node.name] = (index, node)
            else:
                others.append(node)
    return functions, others


def _tainted_names(others: list[ast.stmt], forbidden: set[str]) -> set[str]:
    """Top-level names bound to a forbidden module or to something computed from one."""
    aliases: set[str] = set()
    for node in others:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            for alias in node.names:
                root = (module or alias.name).split(".")[0]
                if root in forbidden:
                    aliases.add((alias.asname or alias.name).split(".")[0])
    changed = True
    while changed:  # x = scipy.signal.correlate2d; y = x; ...
        changed = False
        for node in others:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value:
                if _reasons(node.value, forbidden, aliases):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        for name in ast.walk(target):
                            if isinstance(name, ast.Name) and name.id not in aliases:
                                aliases.add(name.id)
                                changed = True
    return aliases


def answer_rules(cells: list[str], answers: dict[str, tuple[str, ...]],
                 forbidden: set[str]) -> dict[str, str]:
    r"""The rule "answers use NumPy only", judged on the answer functions only.

    ``answers`` maps each question to the functions that answer it. A question breaks the
    rule when one of them, or a notebook function it calls (directly or not), imports a
    forbidden module, uses a name bound to one, imports dynamically or names a forbidden
    module in a string. Scratch cells that compare with scipy or torch are allowed.

    >>> cells = ["import numpy as np", "def f(x):\n    return np.sum(x)",
    ...          "from scipy.signal import correlate2d\ncorrelate2d([[1]], [[1]])",
    ...          "def g(x):\n    return correlate2d(x, x)", "def h(x):\n    return g(x)"]
    >>> answer_rules(cells, {"q1": ("f",), "q2": ("h",)}, {"scipy"})
    {'q2': 'g (code cell 4, line 2) uses correlate2d (answers must use NumPy only)'}
    """
    functions, others = _definitions(cells)
    aliases = _tainted_names(others, forbidden)
    broken = {}
    for question, names in answers.items():
        computed = [n for n in names if n not in functions and n in aliases]
        if computed:
            broken[question] = (f"{computed[0]} is computed with a forbidden module "
                                "(answers must use NumPy only)")
            continue
        seen, queue = set(), [n for n in names if n in functions]
        while queue:
            name = queue.pop(0)
            if name in seen:
                continue
            seen.add(name)
            index, node = functions[name]
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and sub.id in functions and sub.id not in seen:
                    queue.append(sub.id)
            local = aliases - {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
            for sub in node.body:
                found = _reasons(sub, forbidden, local)
                if found:
                    line = getattr(sub, "lineno", 1) + (
                        next((s.lineno for s in ast.walk(sub) if _reasons(s, forbidden, local)
                              and hasattr(s, "lineno")), sub.lineno) - sub.lineno)
                    broken[question] = (
                        f"{name} (code cell {index + 1}, line {line}) uses "
                        f"{', '.join(sorted(set(found)))} (answers must use NumPy only)")
                    break
            if question in broken:
                break
    return broken


NUMPY_ONLY = {"scipy", "torch", "convlib", "tensorflow", "jax", "cv2", "skimage"}


def numpy_only(cells: list[str], answers: dict[str, tuple[str, ...]]) -> dict[str, str]:
    r"""Every question whose answer functions use more than NumPy (see :func:`answer_rules`).

    >>> numpy_only(["import numpy as np", "def f(x):\n    return x"], {"q1": ("f",)})
    {}
    >>> numpy_only(["def f(x):\n    import torch\n    return x"], {"q1": ("f",)})["q1"]
    'f (code cell 1, line 2) uses torch (answers must use NumPy only)'
    """
    return answer_rules(cells, answers, NUMPY_ONLY)


def function_defs(cells: list[str], name: str) -> list[ast.FunctionDef]:
    return [node for tree in _parse(cells) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name == name]


def has_loop(cells: list[str], name: str) -> bool:
    r"""Whether the (last) definition of function ``name`` contains a loop or comprehension.

    >>> has_loop(["def f(x):\n    return [v for v in x]"], "f")
    True
    >>> has_loop(["def f(x):\n    return x.sum()"], "f")
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

    class WrongValues(Exception):
        pass

    def checked_call(side, timeout=None):
        """One call on fresh inputs, its values checked: every timed value is also judged."""
        params = dict(base, S=side, seed=next(seeds), func=test.func)
        result = session.call("timed_conv", {}, params, timeout=timeout)
        if not result.ok:
            raise TimeoutError(result.error) if result.timed_out else WrongValues(
                f"error: {result.error}")
        expected = timed_conv_expected(params, test.reference)
        got = result.arrays.get("projections")
        if got is None or got.shape != expected.shape or not np.allclose(
            got, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max()
        ):
            raise WrongValues(f"{test.func} gives wrong values on a {side}x{side} image")
        return result.seconds

    # correctness on fresh inputs of both sizes first
    try:
        for side in (small, large):
            checked_call(side)
    except TimeoutError as error:
        return False, f"error: {error}", True
    except WrongValues as error:
        return False, str(error), False

    def student(side):
        return checked_call(side, timeout=test.call_seconds)

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
    except WrongValues as error:
        return False, f"{error} (in a timed call)", False
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
