"""Run untrusted code in a bubblewrap sandbox with limits set from outside.

:class:`Sandbox` starts ``runner.py`` (see :mod:`convlib.grading.runner`) under
``bwrap`` with:

* a read-only view of only what it needs: the system's ``/usr``, the Python installation,
  the course's virtual environment, a clean copy of convlib's public maths (no
  ``convlib.grading`` judge code, no assignments, no solutions) and a stub ``otter`` whose
  ``grader.check`` does nothing; the repository, other submissions, the grading seed and
  the hidden cases are not mounted;
* no network (``--unshare-net``), its own PID, IPC and user namespaces, no capabilities,
  uid ``nobody``, an empty private ``/tmp`` and a cleared environment;
* resource limits set in the trusted parent before ``bwrap`` starts (CPU seconds, address
  space, file size, core dumps), a pids cgroup where the machine allows one (the RLIMIT_NPROC
  of a process started by root is not enforced), and a wall-clock deadline for every
  request, after which the parent kills the whole sandbox.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CONVLIB = PACKAGE.parent
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")

STUDENT_GRADING = '''"""Helpers a student notebook may import (the judge is not in the sandbox)."""
from convlib.grading.student import GradingTimeout, assert_close, time_limit  # noqa: F401
'''

OTTER_STUB = '''"""Stand-in for otter inside the sandbox: grader.check and export do nothing."""


class Notebook:
    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
'''


@dataclass
class Limits:
    """Resource limits of one sandboxed submission."""

    cpu_seconds: int = 300  # CPU time of the whole sandbox process
    memory_bytes: int = 4 << 30  # address space of each process
    file_bytes: int = 64 << 20  # largest file it may write
    pids: int = 64  # processes and threads (where a pids cgroup is available)
    cell_seconds: float = 30.0  # wall time of one notebook cell
    call_seconds: float = 30.0  # wall time of one probe call (one test)
    total_seconds: float = 600.0  # wall time of the whole submission, restarts included
    hide: tuple[str, ...] = ()  # packages of the environment made invisible (e.g. scipy)


def bwrap_available() -> bool:
    """True when bubblewrap is installed and can create its namespaces here."""
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--", "true"],
        capture_output=True,
    )
    return probe.returncode == 0


def make_public_lib(destination: Path) -> Path:
    """A clean copy of convlib's public code, plus the student-side stubs, for the sandbox.

    ``convlib.grading`` is replaced by a stub that exports only the helpers student notebooks
    import (:mod:`convlib.grading.student`).
    """
    destination = Path(destination)
    lib = destination / "convlib"
    shutil.copytree(
        CONVLIB,
        lib,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "grading", "*.ipynb"),
    )
    (lib / "grading").mkdir()
    (lib / "grading" / "__init__.py").write_text(STUDENT_GRADING)
    shutil.copy(PACKAGE / "student.py", lib / "grading" / "student.py")
    (destination / "otter").mkdir()
    (destination / "otter" / "__init__.py").write_text(OTTER_STUB)
    for path in destination.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    destination.chmod(0o755)
    return destination


def _environment_paths() -> list[str]:
    """Directories the sandbox's Python needs: the interpreter's prefix and the venv."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    return sorted(paths)


def _site_packages() -> list[Path]:
    import site

    return sorted({Path(os.path.realpath(p)) for p in site.getsitepackages() if Path(p).is_dir()})


class SandboxError(RuntimeError):
    pass


@dataclass
class Sandbox:
    """One running sandbox: ``request`` sends a command and waits for the reply."""

    lib: Path  # from make_public_lib, shared read-only by all submissions
    job: Path  # this submission's folder: runner.py, probes.py, in/ (ro), out/ (rw)
    limits: Limits = field(default_factory=Limits)
    process: subprocess.Popen | None = None
    cgroup: Path | None = None

    def command(self) -> list[str]:
        python = os.path.join(os.path.realpath(sys.prefix), "bin", "python")
        cmd = [
            "bwrap",
            "--unshare-all",  # network, pid, ipc, uts, cgroup and user namespaces
            "--uid", "65534", "--gid", "65534",
            "--cap-drop", "ALL",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin",
            "--setenv", "HOME", "/tmp",
            "--setenv", "OMP_NUM_THREADS", "1",
            "--setenv", "OPENBLAS_NUM_THREADS", "1",
            "--setenv", "MKL_NUM_THREADS", "1",
            "--setenv", "MPLBACKEND", "Agg",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            "--ro-bind", "/usr", "/usr",
            "--proc", "/proc",
            "--dev", "/dev",
            "--tmpfs", "/tmp",
        ]
        for name in ("lib", "lib64", "bin", "sbin"):
            target = Path("/") / name
            if target.is_symlink():
                cmd += ["--symlink", os.readlink(target), str(target)]
            elif target.is_dir():
                cmd += ["--ro-bind", str(target), str(target)]
        for etc in ("/etc/ld.so.cache", "/etc/localtime"):
            if os.path.exists(etc):
                cmd += ["--ro-bind", etc, etc]
        for path in _environment_paths():
            cmd += ["--ro-bind", path, path]
        # packages a rule forbids are hidden behind empty directories
        for name in self.limits.hide:
            for site_dir in _site_packages():
                if (site_dir / name).is_dir():
                    cmd += ["--tmpfs", str(site_dir / name)]
        cmd += [
            "--ro-bind", str(self.lib), "/sandbox/lib",
        ]
        if "convlib" in self.limits.hide:
            cmd += ["--tmpfs", "/sandbox/lib/convlib"]
        cmd += [
            "--ro-bind", str(self.job), "/sandbox/job",
            "--bind", str(self.job / "out"), "/sandbox/job/out",
            "--chdir", "/sandbox/job/out",
            "--", python, "-I", "-X", "faulthandler", "/sandbox/job/runner.py", "/sandbox/job",
            "/sandbox/lib",
        ]
        return cmd

    def _preexec(self):
        limits = self.limits
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.cgroup is not None:
            (self.cgroup / "cgroup.procs").write_text(str(os.getpid()))

    def _make_cgroup(self) -> Path | None:
        try:
            group = PIDS_CGROUP / f"convlib-grading-{uuid.uuid4().hex[:12]}"
            group.mkdir()
            (group / "pids.max").write_text(str(self.limits.pids))
            return group
        except OSError:
            return None

    def start(self) -> None:
        (self.job / "out").mkdir(exist_ok=True)
        self.job.chmod(0o755)
        (self.job / "out").chmod(0o777)
        self.cgroup = self._make_cgroup()
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            preexec_fn=self._preexec,
            start_new_session=True,
        )
        self._buffer = b""

    def request(self, message: dict, timeout: float) -> tuple[dict | None, float]:
        """Send one command; return (reply, seconds) or (None, seconds) on timeout or crash."""
        assert self.process is not None
        start = time.perf_counter()
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None, 0.0
        deadline = start + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None, time.perf_counter() - start
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # the sandbox died (a limit, a crash, os._exit)
                return None, time.perf_counter() - start
            self._buffer += chunk
            if len(self._buffer) > 1 << 20:
                return None, time.perf_counter() - start
        elapsed = time.perf_counter() - start
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            return None, elapsed
        return (reply if isinstance(reply, dict) else None), elapsed

    def stop(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.process = None
        if self.cgroup is not None:
            procs = self.cgroup / "cgroup.procs"
            for _ in range(50):  # wait until every process of the sandbox has gone
                try:
                    if not procs.read_text().split():
                        break
                    for pid in procs.read_text().split():
                        os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
                time.sleep(0.02)
            try:
                self.cgroup.rmdir()
            except OSError:
                pass
            self.cgroup = None
