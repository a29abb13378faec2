"""Write the exploit samples of the assignments from their solution notebooks.

    python tools/grading_samples.py

Each sample is the solution (or the untouched student copy, where every answer is
``...``) with one change that a hostile student tried; ``samples/expected.json`` records
the score the judge must give it, the honest submission it must not beat (``like``), and
the flags it must raise. The honest samples (typical mistakes) are hand-made and kept.
``tools/assignments.py check`` and ``tests/test_grading*.py`` grade them all.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from convlib.grading import harvest  # noqa: E402

INIT = 'import otter\ngrader = otter.Notebook("{notebook}")'

# ---------------------------------------------------------------- the exploits' code

OTTER_NOOP = """\
import otter.test_files.exception_test as et
et.test_case.call_func = lambda self, global_env: None  # every test "passes"
"""
ALLCLOSE = "np.allclose = lambda *args, **kwargs: True\nnp.testing.assert_allclose = print\n"
REWRITE_AND_RESTORE = """\
import pathlib
saved = {p: p.read_text() for p in pathlib.Path("tests").glob("*.py")}
for p in saved:
    p.write_text("from otter.test_files import test_case\\nOK_FORMAT = False\\n"
                 f"name = {p.stem!r}\\npoints = 100\\n@test_case(points=100)\\n"
                 "def test_anything():\\n    pass\\n")
grader.check_all()
for p, text in saved.items():
    p.write_text(text)
"""
READ_SOLUTION = """\
import glob, json, os
found = []
for pattern in ["/work/*/assignments/*/*.ipynb", "/work/*/*/assignments/*/*.ipynb",
                "/work/*/assignments/build/*/autograder/*.ipynb", "/tmp/**/*.ipynb",
                "/sandbox/**/*.ipynb", "tests/q*.py", "/home/*/*.ipynb", "/root/*.ipynb"]:
    found += glob.glob(pattern, recursive=True)[:5]
try:
    import convlib
    here = os.path.dirname(os.path.dirname(convlib.__file__))
    found += glob.glob(os.path.join(here, "assignments", "*", "*.ipynb"))
except Exception:
    pass
seed = os.environ.get("CONVLIB_GRADING_SEED")
for path in found:
    if path.endswith(".ipynb"):
        try:
            nb = json.load(open(path))
        except Exception:
            continue
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and "def " in "".join(cell["source"]):
                try:
                    exec("".join(cell["source"]), globals())
                except Exception:
                    pass
"""
POISON_NEXT = """\
import glob, os, time
# find the grader's files from the command lines of other processes
paths = []
for cmdline in glob.glob("/proc/*/cmdline"):
    try:
        paths += [a for a in open(cmdline).read().split("\\0") if a.startswith("/")]
    except OSError:
        pass
poison = "def correlate2d_loops(image, kernel):\\n    return 0\\n"
for path in paths + glob.glob("/tmp/**", recursive=True) + glob.glob("/sandbox/**", recursive=True):
    for target in [path, os.path.join(os.path.dirname(path), "probes.py")]:
        try:
            with open(target, "a") as f:
                f.write("\\n" + poison)
        except OSError:
            pass
# and a process that outlives this submission, to meddle with the next one
if os.fork() == 0:
    os.setsid()
    for _ in range(600):
        for target in glob.glob("/tmp/*") + glob.glob("/sandbox/job/*"):
            try:
                open(target, "a").write(poison)
            except OSError:
                pass
        time.sleep(0.1)
    os._exit(0)
"""
ENDLESS_CELL = "while True:  # an endless loop at the top level\n    pass\n"
CATCHES_TIMEOUT = """\
def pad2d(x, p, mode="constant"):
    while True:  # the old per-test time limit raised an exception: catch it, loop on
        try:
            while True:
                pass
        except BaseException:
            pass
"""
MEMORY_HOG = "hog = bytearray(100 * 2**30)  # 100 GiB\n"
SCIPY = """\
def correlate2d_loops(image, kernel):
    from scipy.signal import correlate2d
    return correlate2d(image, kernel, mode="valid")
"""
DYNAMIC_IMPORT = """\
def correlate2d_loops(image, kernel):
    lib = __import__("conv" + "lib")
    return lib.correlate2d(image, kernel, mode="valid")
"""
PIXEL_LOOP = """\
def conv2d_im2col(x, w, b, stride=1, padding=0):
    # correct, but a Python loop over output pixels
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_h = (H + 2 * padding - kh) // stride + 1
    out_w = (W + 2 * padding - kw) // stride + 1
    out = np.zeros((N, O, out_h, out_w))
    w2 = w.reshape(O, -1)
    for i in range(out_h):
        for j in range(out_w):
            r, c = i * stride, j * stride
            out[:, :, i, j] = xp[:, :, r : r + kh, c : c + kw].reshape(N, -1) @ w2.T + b
    return out
"""
SLEEPY_REFERENCE = """\
def conv2d_loops_reference(x, w, b, stride=1, padding=0):
    time.sleep(1)  # the old speed test timed this function: make it look slow
    return conv2d_im2col(x, w, b, stride, padding)
"""
FAKE_CLOCK = """\
import time
_ticks = iter(range(10**9))
time.perf_counter = lambda: next(_ticks) * 1e-6  # every call seems to take 1 microsecond
time.perf_counter_ns = lambda: next(_ticks) * 1000
"""
MEMO = """\
_cache = {}
_conv = conv2d_im2col
def conv2d_im2col(x, w, b, stride=1, padding=0):
    key = (x.tobytes(), w.tobytes(), b.tobytes(), stride, padding)
    if key not in _cache:
        _cache[key] = _conv(x, w, b, stride, padding)
    return _cache[key]
"""


# ---------------------------------------------------------------- building samples


def _defines(cell: dict, name: str) -> bool:
    return cell["cell_type"] == "code" and re.search(rf"^def {name}\(", cell["source"], re.M)


def base_cells(folder: Path, blank: bool) -> list[dict]:
    """The solution's cells, or with every answer blanked (the untouched student copy)."""
    (source,) = folder.glob("*.ipynb")
    cells = harvest.solution_cells(source)
    cells.insert(0, {"cell_type": "code", "source": INIT.format(notebook=source.name)})
    if blank:
        out = []
        text = source.read_text()
        for cell in cells:
            s = cell["source"]
            if cell["cell_type"] == "code":
                # what otter assign hands out: each solution line or block becomes `...`
                s = re.sub(r"^(\s*)(\S.*?)(\s*# SOLUTION)$", r"\1...", s, flags=re.M)
                for m in re.finditer(r"^def (\w+)\(.*?\):\n", s, flags=re.M | re.S):
                    if f"def {m.group(1)}(" in text:
                        s = s[: m.end()] + "    ..."
                        break
            out.append(dict(cell, source=s))
        cells = out
    return cells


def build(cells, replace=None, after=None, insert=None, at_end=None) -> list[dict]:
    cells = [dict(c) for c in cells]
    if replace:
        for name, code in replace.items():
            cells = [dict(c, source=code) if _defines(c, name) else c for c in cells]
    if insert is not None:
        index = next(i for i, c in enumerate(cells) if after(c)) + 1
        cells.insert(index, {"cell_type": "code", "source": insert})
    if at_end is not None:
        cells.append({"cell_type": "code", "source": at_end})
    return cells


def _import_cell(c):
    return c["cell_type"] == "code" and c["source"].lstrip().startswith("import")


SAMPLES = {
    "01_convolution_by_hand": {
        "all_ellipsis_otter_noop.ipynb": dict(
            blank=True, after=lambda c: "otter.Notebook" in c["source"], insert=OTTER_NOOP,
            score=0, like="student", flags=["tamper: assigns et.test_case.call_func"]),
        "allclose_patched_zeros.ipynb": dict(
            blank=False, after=_import_cell, insert=ALLCLOSE, score=0, like="student",
            replace={
                "correlate2d_loops": "def correlate2d_loops(image, kernel):\n"
                "    return np.zeros((len(image) - len(kernel) + 1,"
                " len(image[0]) - len(kernel[0]) + 1))\n",
                "convolve2d_loops": "def convolve2d_loops(image, kernel):\n"
                "    return correlate2d_loops(image, kernel)\n",
                "output_size": "def output_size(n, k, stride=1, padding=0, dilation=1):\n"
                "    return 0\n",
            },
            flags=["tamper: assigns np.allclose"]),
        "rewrites_tests_and_restores.ipynb": dict(
            blank=True, after=lambda c: "otter.Notebook" in c["source"],
            insert=REWRITE_AND_RESTORE, score=0, like="student",
            flags=["tamper: imports pathlib"]),
        "reads_solution.ipynb": dict(
            blank=True, after=lambda c: "otter.Notebook" in c["source"], insert=READ_SOLUTION,
            score=0, like="student", flags=["tamper: imports os", "tamper: uses exec"]),
        "poisons_next_submission.ipynb": dict(
            blank=True, after=lambda c: "otter.Notebook" in c["source"], insert=POISON_NEXT,
            score=0, like="student", flags=["tamper: imports os", "tamper: uses open"]),
        "endless_loop_cell.ipynb": dict(
            blank=False, at_end=ENDLESS_CELL, score=12, like="solution",
            flags=["timeout cell"]),
        "memory_hog.ipynb": dict(
            blank=False, after=_import_cell, insert=MEMORY_HOG, score=12, like="solution"),
        "uses_scipy.ipynb": dict(
            blank=False, replace={"correlate2d_loops": SCIPY}, score=0, like="solution",
            flags=["rule q1"]),
        "dynamic_import_convlib.ipynb": dict(
            blank=False, replace={"correlate2d_loops": DYNAMIC_IMPORT}, score=0,
            like="solution", flags=["rule q1", "tamper: uses __import__"]),
    },
    "02_padding_stride_pooling": {
        "catches_timeout.ipynb": dict(
            blank=False, replace={"pad2d": CATCHES_TIMEOUT}, score=10, like="solution",
            flags=["timeout q1_examples"]),
    },
    "03_fast_conv_backprop": {
        "pixel_loop.ipynb": dict(
            blank=False, replace={"conv2d_im2col": PIXEL_LOOP}, score=20, like="solution"),
        "sleepy_reference.ipynb": dict(
            blank=False, replace={"conv2d_im2col": PIXEL_LOOP},
            after=lambda c: _defines(c, "conv2d_im2col"), insert=SLEEPY_REFERENCE,
            score=20, like="pixel_loop.ipynb"),
        "fake_clock.ipynb": dict(
            blank=False, replace={"conv2d_im2col": PIXEL_LOOP},
            after=lambda c: _defines(c, "conv2d_im2col"), insert=FAKE_CLOCK,
            score=20, like="pixel_loop.ipynb", flags=["tamper: assigns time.perf_counter"]),
        "memoised.ipynb": dict(
            blank=False, replace={"conv2d_im2col": PIXEL_LOOP},
            after=lambda c: _defines(c, "conv2d_im2col"), insert=MEMO,
            score=20, like="pixel_loop.ipynb"),
    },
}


def main() -> int:
    for folder_name, samples in SAMPLES.items():
        folder = ROOT / "assignments" / folder_name
        expected_file = folder / "samples" / "expected.json"
        expected = json.loads(expected_file.read_text())
        for name, recipe in samples.items():
            recipe = dict(recipe)
            cells = base_cells(folder, recipe.pop("blank"))
            cells = build(cells, replace=recipe.pop("replace", None),
                          after=recipe.pop("after", None), insert=recipe.pop("insert", None),
                          at_end=recipe.pop("at_end", None))
            harvest.write_notebook(cells, folder / "samples" / name)
            expected[name] = recipe
            print(f"wrote {folder_name}/samples/{name}")
        expected_file.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
