"""The judge's machinery: what the sandbox lets a submission see and do, and the
instructor's workflow (grade a folder, regrade one student, feedback, written answers)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from convlib.grading import harvest, judge, report, rules, sandbox, session

ROOT = Path(__file__).resolve().parent.parent
A1 = ROOT / "assignments" / "01_convolution_by_hand"
needs_bwrap = pytest.mark.skipif(
    not sandbox.bwrap_available(), reason="bubblewrap (bwrap) is not installed or not usable"
)


def _tool():
    from tools import assignments

    return assignments


PROBE_CELL = r'''
import os, socket
seen = []
def attempt(name, action):
    try:
        action()
        seen.append(name)
    except BaseException:
        pass
attempt("solution", lambda: open(SOLUTION).read())
def repository_files():
    # the virtual environment is bound read-only where it lives (inside the repository on
    # a fresh clone), so the repository's folder may exist: nothing else of it may show
    names = [n for n in os.listdir(REPO) if n != ".venv"]
    if not names:
        raise FileNotFoundError(REPO)
attempt("repository", repository_files)
attempt("network", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
attempt("write lib", lambda: open("/sandbox/lib/otter/__init__.py", "a").write("x"))
attempt("write job", lambda: open("/sandbox/job/probes.py", "a").write("x"))
attempt("hidden scipy", lambda: __import__("scipy.signal"))
def base_site_packages():
    import glob, sys
    sys.path += glob.glob(BASE + "/lib/python3*/site-packages")
    sys.path += glob.glob("/usr/lib/python3*/dist-packages")
    for name in ("scipy", "IPython", "pytest"):
        try:
            if getattr(__import__(name), "__file__", None):
                return
        except ImportError:
            pass
    raise ImportError("nothing")
attempt("base site-packages", base_site_packages)
attempt("seed", lambda: os.environ["CONVLIB_GRADING_SEED"])
def environ_of_pid1():
    if b"CONVLIB" in open("/proc/1/environ", "rb").read():
        return
    raise KeyError("clean")
attempt("seed of pid 1", environ_of_pid1)
attempt("fill /tmp", lambda: open("/tmp/fill", "wb").write(b"x" * (100 << 20)))
attempt("fill /dev/shm", lambda: open("/dev/shm/fill", "wb").write(b"x" * (100 << 20)))
attempt("write root", lambda: open("/fill", "wb").write(b"x"))
attempt("root", lambda: os.setuid(0))
attempt("many processes", lambda: [os.fork() or os._exit(0) for _ in range(400)])
seen = " ".join(seen)
'''


@needs_bwrap
def test_sandbox_hides_the_grader_and_limits_the_submission(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLIB_GRADING_SEED", "12345")
    lib = sandbox.make_public_lib(tmp_path / "lib")
    assert not (lib / "convlib" / "grading" / "judge.py").exists()
    solution = A1 / "convolution_by_hand.ipynb"
    base = os.path.realpath(sys.base_prefix)
    cell = f"SOLUTION = {str(solution)!r}\nREPO = {str(ROOT)!r}\nBASE = {base!r}\n" + PROBE_CELL
    probe_session = session.Session(lib, [cell], judge.probes_source(judge.COMMON_PROBES),
                            sandbox.Limits(allow=("numpy",)))
    try:
        result = probe_session.call("values", {}, {"names": ["seen"]})
    finally:
        probe_session.close()
    assert result.ok, result.error
    seen = result.scalars["seen"].split(" ") if result.scalars["seen"] else []
    allowed = [] if sandbox.PIDS_CGROUP.exists() else ["many"]
    assert [s for s in seen if s not in allowed] == []


@needs_bwrap
def test_a_hanging_cell_costs_only_itself(tmp_path):
    lib = sandbox.make_public_lib(tmp_path / "lib")
    cells = ["def f(x):\n    return x + 1", "while True:\n    pass", "y = 2"]
    limits = sandbox.Limits(cell_seconds=4, call_seconds=4)
    probe_session = session.Session(lib, cells, judge.probes_source(judge.COMMON_PROBES), limits)
    try:
        params = {"func": "f", "cases": [{"args": [{"a": "x"}], "kwargs": {}}]}
        result = probe_session.call("call_cases", {"x": np.arange(3.0)}, params)
        values = probe_session.call("values", {}, {"names": ["y"]})
    finally:
        probe_session.close()
    assert result.ok and np.array_equal(result.arrays["out0"], [1.0, 2.0, 3.0])
    assert values.arrays["y"] == 2
    assert probe_session.cell_errors[1].startswith("stopped")


@needs_bwrap
def test_the_isolation_probe_passes_here_and_can_fail(tmp_path, monkeypatch):
    from convlib.grading import batch

    lib = sandbox.make_public_lib(tmp_path / "lib")
    assert batch.check_isolation(lib, sandbox.Limits(allow=("numpy",))) == []
    monkeypatch.setattr(batch, "_forbidden_names", lambda limits: ["numpy", "scipy"])
    assert batch.check_isolation(lib, sandbox.Limits(allow=("numpy",)))[0] == "numpy"


def test_static_rules():
    assert rules.forbidden_imports(["import scipy.signal as s"], {"scipy"}) == ["scipy"]
    assert rules.forbidden_imports(["import importlib"], {"convlib"}) == ["importlib"]
    # builtins by name, not attribute names: re.compile and model.eval are ordinary
    assert rules.forbidden_imports(["import re\nre.compile('x')", "m.eval()"], {"scipy"}) == []
    # the rule is judged on the answer functions and what they call, not on scratch cells
    cells = ["import numpy as np\nimport torch.nn.functional as F",
             "def conv(x):\n    return helper(x)", "def helper(x):\n    return np.sum(x)",
             "print(F.conv2d)", "def other(x):\n    return F.relu(x)"]
    assert rules.numpy_only(cells, {"q1": ("conv",)}) == {}
    broken = rules.numpy_only(cells, {"q1": ("conv",), "q2": ("other",)})
    assert list(broken) == ["q2"] and broken["q2"].startswith("other (code cell 5, line 2)")
    assert rules.has_loop(["def g(a):\n    while a:\n        a -= 1"], "g")
    flags = rules.suspicious(["import otter.test_files as t\nt.x.call_func = None"])
    assert flags == ["tamper: assigns t.x.call_func"]


def test_seed_refuses_without_a_secret(monkeypatch):
    monkeypatch.delenv(judge.SEED_ENV, raising=False)
    monkeypatch.delenv(judge.SEED_FILE_ENV, raising=False)
    with pytest.raises(judge.NoSeedError):
        judge.grading_seed()
    assert judge.grading_seed(demo=True)[1].startswith("PUBLIC DEMO")
    monkeypatch.setenv(judge.SEED_ENV, "99")
    assert judge.grading_seed() == (99, "secret (environment)")


def _solution(tmp_path) -> Path:
    return _tool().reference_submissions(A1, tmp_path)["solution"]


@needs_bwrap
@pytest.mark.timeout(300)
def test_grade_a_class_folder_then_regrade_one_student(tmp_path, monkeypatch):
    """Folders, zips and bare notebooks with the same notebook name; regrade one row."""
    monkeypatch.setenv(judge.SEED_ENV, "31337")
    tool = _tool()
    solution = _solution(tmp_path)
    subs = tmp_path / "submissions"
    (subs / "ada").mkdir(parents=True)
    shutil.copy(solution, subs / "ada" / "convolution_by_hand.ipynb")
    with zipfile.ZipFile(subs / "ben.zip", "w") as z:
        z.write(A1 / "samples" / "no_flip.ipynb", "convolution_by_hand.ipynb")
    shutil.copy(A1 / "samples" / "off_by_one_output_size.ipynb", subs / "cleo.ipynb")
    grades_csv = tmp_path / "out" / "grades.csv"  # -o creates its folder
    tool.grade_folder("01", subs, grades_csv, None, demo=False)
    with open(grades_csv) as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert {k: rows[k]["total"] for k in rows} == {"ada": "12", "ben": "9", "cleo": "9"}
    assert rows["ben"]["q2_flip"] == "0" and rows["ben"]["q1_random"] == "2"
    assert rows["ada"]["seed"] == "secret (environment)"
    feedback = (grades_csv.parent / "feedback" / "ben.txt").read_text()
    assert "expected: [[4. 4.]" in feedback and "got:" in feedback
    assert "q5 (2 points)" in feedback and "out of 14" in feedback  # the hand-graded question
    # a failed hidden test gives the error's size, never the hidden inputs or values
    hidden = feedback.split("q2_random (hidden)")[1].split("\n[")[0]
    assert "largest error" in hidden and "expected:" not in hidden and "shape (" not in hidden

    # written answers to grade by hand, points merged back
    tool.export_written("01", subs, tmp_path / "written")
    page = (tmp_path / "written" / "written_q5.html").read_text()
    assert "<h2>ada</h2>" in page and "180" in page
    sheet = tmp_path / "written" / "manual_points.csv"
    sheet.write_text("student,manual_q5\nada,2\nben,1\ncleo,\n")
    report.merge_manual(grades_csv, sheet)

    # ben resubmits a correct notebook: only his row changes, hand-graded points stay
    before = grades_csv.read_text().splitlines()
    (subs / "ben.zip").unlink()
    with zipfile.ZipFile(subs / "ben.zip", "w") as z:
        z.write(solution, "work/convolution_by_hand.ipynb")
    tool.grade_folder("01", subs, grades_csv, ["ben"], demo=False)
    after = grades_csv.read_text().splitlines()
    with open(grades_csv) as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["ben"]["total"] == "12" and rows["ben"]["manual_q5"] == "1"
    header = after[0].split(",")
    keep = [header.index(c) for c in header if c != "seconds"]

    def stable(line):
        cells = line.split(",")
        return [cells[i] for i in keep if i < len(cells)]

    changed = [i for i, (a, b) in enumerate(zip(before[1:], after[1:]))
               if stable(a) != stable(b)]
    assert changed == [1]  # ada, ben, cleo: only ben's row


def test_grades_json_is_plain_data():
    grade = judge.Grade("s", "01", [judge.TestOutcome("t", "q1", 1, 1, False)], [], 0.1, "demo")
    assert json.loads(judge.grade_json(grade))["total"] == 1


def test_harvest_refuses_two_entries_for_one_student(tmp_path):
    (tmp_path / "ada").mkdir()
    (tmp_path / "ada.zip").write_bytes(b"")
    with pytest.raises(ValueError, match="same student"):
        harvest.submissions(tmp_path, "x.ipynb")


def test_public_lib_has_no_judge(tmp_path):
    lib = sandbox.make_public_lib(tmp_path / "lib")
    files = {str(p.relative_to(lib)) for p in lib.rglob("*.py")}
    assert "convlib/grading/inside/student.py" in files and "convlib/conv.py" in files
    assert not [f for f in files if "judge" in f or "specs" in f or "sandbox" in f]
    assert os.stat(lib / "convlib" / "conv.py").st_mode & 0o777 == 0o644


def test_unreadable_submissions_are_errors_not_crashes(tmp_path):
    bad = {"list.ipynb": b"[1, 2]", "cell.ipynb": b'{"cells": [3]}',
           "deep.ipynb": b'{"cells": ' + b"[" * 100000, "bin.ipynb": b"\xff\xfe",
           "corrupt.zip": b"PK\x03\x04" + b"\x00" * 40}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError):
            harvest.read_submission(tmp_path / name, "x.ipynb")
    os.mkfifo(tmp_path / "fifo.ipynb")  # would block a plain read forever
    with pytest.raises(ValueError, match="regular"):
        harvest.read_submission(tmp_path / "fifo.ipynb", "x.ipynb")


def test_written_answers_strip_comments_in_linear_time():
    import time

    assert harvest.strip_comments("a<!-- b -->c<!--d") == "ac"
    text = "<!--" * 250_000  # 1 MB: the old regex took minutes
    start = time.perf_counter()
    assert harvest.strip_comments(text) == ""
    assert time.perf_counter() - start < 5  # linear: milliseconds; quadratic: minutes
    sub = harvest.Submission("s", Path("s"), [
        {"cell_type": "markdown", "source": "**Question 5 (2 points)**"},
        {"cell_type": "markdown", "source": "x" * 100_000}])
    assert len(harvest.written_answers(sub, 5)) < harvest.MAX_ANSWER_CHARS + 100


def test_returned_arrays_of_any_dtype_are_cast_or_dropped():
    import io

    buffer = io.BytesIO()
    np.savez(buffer, f=np.ones(2, np.float32), h=np.ones(2, np.float16), i=np.arange(2),
             c=np.ones(2, complex))
    arrays = session._load_npz(buffer.getvalue(), 1 << 20)
    assert arrays["f"].dtype == arrays["h"].dtype == np.float64 and "c" not in arrays
    assert arrays["i"].dtype.kind == "i"
    with pytest.raises(ValueError):
        session._load_npz(b"garbage", 1 << 20)


def test_outputs_from_the_sandbox_are_read_as_bounded_data(tmp_path):
    import io

    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as z:
        buffer = io.BytesIO()
        np.save(buffer, np.zeros(100_000, dtype=np.uint8))
        z.writestr("x.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="too large"):
        session._read_npz(tmp_path / "bomb.npz", max_bytes=2_000)
    os.symlink("/etc/hostname", tmp_path / "link.npz")
    with pytest.raises(OSError):
        session._read_npz(tmp_path / "link.npz", max_bytes=2_000)
    np.savez(tmp_path / "pickled.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        session._read_npz(tmp_path / "pickled.npz", max_bytes=1 << 20)
    os.mkfifo(tmp_path / "fifo.npz")
    with pytest.raises(ValueError, match="regular"):
        session._read_npz(tmp_path / "fifo.npz", max_bytes=1 << 20)


@needs_bwrap
def test_a_judge_failure_costs_one_test_and_is_flagged(tmp_path):
    from types import SimpleNamespace

    def broken(arrays, scalars, context):
        raise TypeError("cannot compare float32 with this")

    tests = [judge.ValueTest("q1_value", "q1", 1, False, var="y", expected=lambda: 2),
             judge.ProbeTest("q2_broken", "q2", 1, False, probe_name="values",
                             make=lambda rng: ({}, {"names": ["y"]}, None), decide=broken)]
    spec = SimpleNamespace(NAME="00_test", TESTS=tests, PROBES=[], MANUAL={},
                           LIMITS=sandbox.Limits(allow=("numpy",)))
    lib = sandbox.make_public_lib(tmp_path / "lib")
    grade = judge.grade_cells(spec, "ada", ["y = 2"], lib, 1, "demo")
    assert [o.points for o in grade.outcomes] == [1, 0]
    # a hidden probe test that fails shows the first line only (not the expected values)
    spec.TESTS = [judge.ProbeTest("q1_hidden", "q1", 1, True, probe_name="values",
                                  make=lambda rng: ({}, {"names": ["y"]}, None),
                                  decide=lambda a, s, c: "loss is wrong: error 1\nexpected: 3")]
    hidden = judge.grade_cells(spec, "ada", ["y = 2"], lib, 1, "demo").outcomes[0]
    assert hidden.feedback == "loss is wrong: error 1"
    assert grade.flags == ["judge error q2_broken: TypeError: cannot compare float32 with this"]


def test_hidden_cases_are_drawn_per_student():
    a = judge.test_rng(1, "01", "q1_random", "ada").normal(size=3)
    b = judge.test_rng(1, "01", "q1_random", "ben").normal(size=3)
    again = judge.test_rng(1, "01", "q1_random", "ada").normal(size=3)
    assert not np.allclose(a, b) and np.array_equal(a, again)


@needs_bwrap
@pytest.mark.timeout(300)
def test_the_watchdog_bounds_a_submission_and_grading_goes_on(tmp_path):
    """A submission whose grading outlives the watchdog is that student's zero with a
    `judge error: watchdog` flag; the next submission is graded by a fresh process."""
    from convlib.grading import batch

    solution = _solution(tmp_path)
    cells = json.loads(solution.read_text())["cells"]
    hang = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "import time\ntime.sleep(120)"}
    stuck = tmp_path / "stuck.ipynb"
    stuck.write_text(json.dumps({"cells": [hang] + cells, "metadata": {}, "nbformat": 4,
                                 "nbformat_minor": 5}))
    limits = sandbox.Limits(allow=("numpy",), hide=("convlib",), cell_seconds=200,
                            call_seconds=10, total_seconds=300)
    arrived = []
    grades = batch.grade_entries("01", [stuck, solution], 1, "demo", workers=1, limits=limits,
                                 on_grade=arrived.append, watchdog_seconds=8)
    assert grades[0].total == 0 and grades[0].flags[0].startswith("judge error: watchdog")
    assert grades[1].total == 12 and [g.student for g in arrived] == ["stuck", "solution"]


def test_the_code_inside_the_sandbox_imports_only_the_standard_library_and_numpy():
    """convlib/grading/inside/ is the trust boundary: what runs in the sandbox, and only that."""
    import ast

    inside = ROOT / "convlib" / "grading" / "inside"
    for path in inside.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names | {"numpy", "__future__"}, (path, name)
