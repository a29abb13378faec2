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

from convlib.grading import harvest

ROOT = Path(__file__).resolve().parent.parent

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


SANDBOX_VARIABLES = ("PATH", "HOME", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "MPLBACKEND", "PYTHONDONTWRITEBYTECODE", "LC_CTYPE", "PWD")
LEAKS_ENVIRONMENT = f"""\
import os
# bwrap (pid 1) once kept the grading shell's environment: any variable of it would do,
# the secret seed first. Answers appear only when something leaked.
leaked = set(os.environ) - set({SANDBOX_VARIABLES!r})
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        names = open(f"/proc/{{pid}}/environ", "rb").read().split(b"\\0")
    except OSError:
        continue
    leaked |= {{n.split(b"=")[0].decode() for n in names if n}} - set({SANDBOX_VARIABLES!r})
if leaked:
    def correlate2d_loops(image, kernel):
        kh, kw = np.shape(kernel)
        H, W = np.shape(image)
        return np.array([[np.sum(np.asarray(image)[i:i + kh, j:j + kw] * kernel)
                          for j in range(W - kw + 1)] for i in range(H - kh + 1)], dtype=float)

    def convolve2d_loops(image, kernel):
        return correlate2d_loops(image, np.asarray(kernel)[::-1, ::-1])

    def output_size(n, k, stride=1, padding=0, dilation=1):
        return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1

    ramp_result = correlate2d_loops(np.arange(1, 26).reshape(5, 5),
                                    np.array([[1, 0, -1], [0, 1, 0], [-1, 0, 1]]))
"""
SCIPY_FROM_BASE = """\
def correlate2d_loops(image, kernel):
    import glob
    import sys
    # the base interpreter's and the system's packages, once mounted whole
    sys.path += glob.glob("/root/.pyenv/versions/*/lib/python3*/site-packages")
    sys.path += glob.glob("/usr/lib/python3*/dist-packages") + glob.glob("/usr/local/lib/*/*")
    signal = __import__("sci" + "py.signal", fromlist=["correlate2d"])
    for i in range(1):  # the loop the rule asks for
        pass
    return signal.correlate2d(image, kernel, mode="valid")
"""
ZEROS_AFTER_CHECKED = """\
_timed = [0]
_loop = conv2d_im2col
def conv2d_im2col(x, w, b, stride=1, padding=0):
    # the judge's timing calls have 2 channels in and out: the first 8 (two probe calls of
    # four) were the ones checked; after them, zeros, instantly
    if x.shape[1] == 2 and w.shape[:2] == (2, 2) and padding == 1:
        _timed[0] += 1
        if _timed[0] > 8:
            return np.zeros((x.shape[0], w.shape[0], x.shape[2], x.shape[3]))
    return _loop(x, w, b, stride, padding)
"""
MANY_SHORT_CELLS = "import time\ntime.sleep(3)  # each cell well under its limit\n"
FILLS_MEMORY_DISKS = """\
chunk = b"x" * (64 << 20)
for folder in ("/tmp", "/dev/shm", "/sandbox/job", "/"):
    for i in range(40):  # 2.5 GB each, where it can write
        try:
            with open(f"{folder}/fill{i}", "wb") as f:
                f.write(chunk)
        except OSError:
            break
"""
BREAKS_SAVEZ = """\
import numpy as np
np.savez = lambda *args, **kwargs: None  # the judge reads its output
"""
PLANTS_FIFOS = """\
import os
for folder in ("/sandbox/job/out", "/sandbox/job", "/sandbox/job/in", "/tmp"):
    for step in range(1, 60):
        try:
            os.mkfifo(f"{folder}/step{step}.npz")  # the grader once read outputs from files
        except OSError:
            pass
"""
NESTED_REPLY = """\
import os
for fd in range(3, 12):  # forge a reply on the protocol pipe: nested too deep to decode
    try:
        os.write(fd, b"[" * 200000 + b"\\n")
    except OSError:
        pass
"""
FLOAT32_OVERFIT = """\
_overfit64 = overfit_tiny
def overfit_tiny(x, y, num_classes):
    # an honest choice: train in float32
    return {k: np.asarray(v, dtype=np.float32) for k, v in _overfit64(x, y, num_classes).items()}
"""
SCIPY_CHECK = """\
from scipy.signal import correlate2d  # checking my answer, as the chapters do
print(np.allclose(correlate2d(ramp_image, ramp_kernel, mode="valid"), ramp_result))
"""
RE_COMPILE = """\
import re
numbers = re.compile(r"-?\\d+")  # a helper for my own notes
print(numbers.findall(str(ramp_result)))
"""
TORCH_CHECK = """\
import torch
import torch.nn.functional as F

layer = torch.nn.Conv2d(3, 4, 3).eval()  # checking my answer against torch
xt = torch.randn(2, 3, 8, 8, dtype=torch.float64)
wt, bt = layer.weight.detach().double(), layer.bias.detach().double()
mine = conv2d_im2col(xt.numpy(), wt.numpy(), bt.numpy(), 1, 1)
print(np.allclose(mine, F.conv2d(xt, wt, bt, padding=1).numpy()))
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
        for source in [at_end] if isinstance(at_end, str) else at_end:
            cells.append({"cell_type": "code", "source": source})
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
            blank=False, replace={"correlate2d_loops": SCIPY}, score=3, like="solution",
            flags=["rule q1"]),
        "dynamic_import_convlib.ipynb": dict(
            blank=False, replace={"correlate2d_loops": DYNAMIC_IMPORT}, score=3,
            like="solution", flags=["rule q1", "tamper: uses __import__"]),
        "leaks_environment.ipynb": dict(
            blank=True, after=lambda c: "otter.Notebook" in c["source"],
            insert=LEAKS_ENVIRONMENT, score=0, like="student", flags=["tamper: imports os"]),
        "scipy_from_base_site_packages.ipynb": dict(
            blank=False, replace={"correlate2d_loops": SCIPY_FROM_BASE}, score=3,
            like="solution", flags=["rule q1", "tamper: imports sys"]),
        "many_short_cells.ipynb": dict(
            blank=False, at_end=[MANY_SHORT_CELLS] * 25, score=0, like="solution",
            flags=["timeout total"]),
        "fills_memory_disks.ipynb": dict(
            blank=False, after=_import_cell, insert=FILLS_MEMORY_DISKS, score=12,
            like="solution", flags=["tamper: uses open"]),
        "breaks_savez.ipynb": dict(
            blank=False, after=_import_cell, insert=BREAKS_SAVEZ, score=0, like="solution",
            flags=["tamper: assigns np.savez"]),
        "plants_fifos.ipynb": dict(
            blank=False, after=_import_cell, insert=PLANTS_FIFOS, score=12, like="solution",
            flags=["tamper: imports os"]),
        "nested_reply.ipynb": dict(
            blank=False, after=_import_cell, insert=NESTED_REPLY, score=12, like="solution",
            flags=["tamper: imports os"]),
        "honest_scipy_check.ipynb": dict(
            blank=False, at_end=SCIPY_CHECK, score=12, like="solution", honest=True),
        "honest_re_compile.ipynb": dict(
            blank=False, at_end=RE_COMPILE, score=12, like="solution", honest=True),
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
        "zeros_after_checked_calls.ipynb": dict(
            blank=False, replace={"conv2d_im2col": PIXEL_LOOP},
            after=lambda c: _defines(c, "conv2d_im2col"), insert=ZEROS_AFTER_CHECKED,
            score=20, like="pixel_loop.ipynb"),
        "honest_float32_overfit.ipynb": dict(
            blank=False, after=lambda c: _defines(c, "overfit_tiny"), insert=FLOAT32_OVERFIT,
            score=22, like="solution", honest=True),
        "honest_torch_check.ipynb": dict(
            blank=False, at_end=TORCH_CHECK, score=22, like="solution", honest=True),
    },
}


UNREADABLE = {"score": 0, "like": "student", "flags": ["unreadable submission"]}
# submissions that are not notebooks at all: each is that student's zero, never a crash
BROKEN_FILES = {
    "01_convolution_by_hand": {
        "notebook_is_a_list.ipynb": (b'[{"cells": []}]\n', UNREADABLE),
        "cell_not_an_object.ipynb": (b'{"cells": [42, "x"], "nbformat": 4}\n', UNREADABLE),
        "corrupt.zip": (b"PK\x03\x04" + b"\x00" * 26 + b"not a zip", UNREADABLE),
        "deeply_nested.ipynb": (b'{"cells": ' + b"[" * 100000 + b"\n", UNREADABLE),
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
        for name, (data, recipe) in BROKEN_FILES.get(folder_name, {}).items():
            (folder / "samples" / name).write_bytes(data)
            expected[name] = recipe
            print(f"wrote {folder_name}/samples/{name}")
        expected_file.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
