"""Run untrusted code in a bubblewrap sandbox with limits set from outside.

:class:`Sandbox` starts ``runner.py`` (see :mod:`convlib.grading.inside.runner`) under
``bwrap`` with:

* an empty environment for ``bwrap`` itself (it is pid 1 inside the sandbox, and its
  ``/proc/1/environ`` is readable there) and a cleared one for the submission: nothing of
  the grading shell's environment, the secret seed included, reaches the sandbox;
* a read-only view of only what it needs: the system's ``/usr`` (without its Python
  packages), the Python installation's standard library (without its ``site-packages``),
  the course's virtual environment restricted to the packages the assignment allows
  (:attr:`Limits.allow`, or all of it minus :attr:`Limits.hide`), a clean copy of convlib's
  public maths (no ``convlib.grading`` judge code, no assignments, no solutions) and a stub
  ``otter``; the repository, other submissions, the grading seed and the hidden cases are
  not mounted, and nothing of the host is writable;
* no network (``--unshare-net``), its own PID, IPC and user namespaces, no capabilities,
  uid ``nobody``; the only writable places are ``/tmp`` and ``/dev/shm``, RAM file systems
  with a size (:attr:`Limits.tmp_bytes`), and the root is remounted read-only;
* resource limits set in the trusted parent before ``bwrap`` starts (CPU seconds, address
  space, file size, core dumps); a pids cgroup and a memory cgroup (which also counts what
  the sandbox writes to its RAM file systems) where the machine allows them — where it does
  not, :attr:`Sandbox.cgroups` says so and only the per-process limits hold; a wall-clock
  deadline for every request, after which the parent kills the whole sandbox.

Values come back on the protocol pipe, never through a shared folder, so a submission
cannot plant a link, a FIFO or a huge file for the judge to read.
"""

from __future__ import annotations

import glob
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
CGROUP_ROOT = Path("/sys/fs/cgroup")
PIDS_CGROUP = CGROUP_ROOT / "pids"
MEMORY_CGROUP = CGROUP_ROOT / "memory"
SANDBOX_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
}

STUDENT_GRADING = '''"""Helpers a student notebook may import (the judge is not in the sandbox)."""
from convlib.grading.inside.student import GradingTimeout, assert_close, time_limit  # noqa: F401
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
    memory_bytes: int = 4 << 30  # address space of each process; the memory cgroup's limit
    file_bytes: int = 64 << 20  # largest file it may write; largest reply it may send
    tmp_bytes: int = 64 << 20  # size of /tmp and of /dev/shm (RAM) inside the sandbox
    pids: int = 64  # processes and threads (where a pids cgroup is available)
    cell_seconds: float = 30.0  # wall time of one notebook cell
    call_seconds: float = 30.0  # wall time of one probe call (one test)
    total_seconds: float = 600.0  # sandbox wall time of the whole submission, restarts included
    hide: tuple[str, ...] = ()  # packages of the environment made invisible (e.g. scipy)
    # when set, the only packages of the virtual environment the sandbox sees
    allow: tuple[str, ...] | None = None


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

    ``convlib.grading`` is replaced by a stub that holds only :mod:`convlib.grading.inside`
    (the sandbox-side code: the helpers student notebooks import, the runner, the probes).
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
    shutil.copytree(PACKAGE / "inside", lib / "grading" / "inside",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
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


def _venv_site_packages() -> list[Path]:
    """The virtual environment's site-packages (the packages a sandbox may be allowed)."""
    prefix = os.path.realpath(sys.prefix)
    return sorted({Path(p) for p in glob.glob(f"{prefix}/lib*/python3*/site-packages")})


def _foreign_site_packages() -> list[Path]:
    """Package folders the sandbox never sees: the base interpreter's and the system's."""
    found: set[Path] = set()
    if os.path.realpath(sys.base_prefix) != os.path.realpath(sys.prefix):
        base = os.path.realpath(sys.base_prefix)
        found.update(Path(p) for p in glob.glob(f"{base}/lib*/python3*/site-packages"))
    for pattern in ("/usr/lib/python3*/dist-packages", "/usr/lib/python3*/site-packages",
                    "/usr/local/lib/python3*/dist-packages",
                    "/usr/local/lib/python3*/site-packages"):
        found.update(Path(os.path.realpath(p)) for p in glob.glob(pattern))
    return sorted(p for p in found if p.is_dir())


def _visible_entries(site_dir: Path, limits: Limits) -> list[Path]:
    """The entries of ``site_dir`` a sandbox sees: those of the allowed packages (code,
    bundled libraries, metadata), or all but the hidden ones."""
    entries = []
    for entry in sorted(site_dir.iterdir()):
        base = entry.name.split("-")[0].split(".")[0]
        if entry.name.endswith(".pth"):
            continue  # path hooks (editable installs) would reach outside the environment
        if limits.allow is not None and base not in limits.allow:
            continue
        if base in limits.hide:
            continue
        entries.append(entry)
    return entries


class SandboxError(RuntimeError):
    pass


@dataclass
class Sandbox:
    """One running sandbox: ``request`` sends a command and waits for the reply."""

    lib: Path  # from make_public_lib, shared read-only by all submissions
    job: Path  # this submission's folder: runner.py, probes.py, in/ (all read-only inside)
    limits: Limits = field(default_factory=Limits)
    process: subprocess.Popen | None = None
    cgroups: list[Path] = field(default_factory=list)

    def command(self) -> list[str]:
        python = os.path.join(os.path.realpath(sys.prefix), "bin", "python")
        bwrap = shutil.which("bwrap") or "bwrap"
        cmd = [
            bwrap,
            "--unshare-all",  # network, pid, ipc, uts, cgroup and user namespaces
            "--uid", "65534", "--gid", "65534",
            "--cap-drop", "ALL",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
        ]
        for name, value in SANDBOX_ENV.items():
            cmd += ["--setenv", name, value]
        size = str(self.limits.tmp_bytes)
        cmd += [
            "--ro-bind", "/usr", "/usr",
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", size, "--tmpfs", "/dev/shm",
            "--size", size, "--tmpfs", "/tmp",
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
        hidden_dirs = []
        # the base interpreter's and the system's packages: never visible
        for site_dir in _foreign_site_packages():
            cmd += ["--size", "4096", "--tmpfs", str(site_dir)]
            hidden_dirs.append(site_dir)
        for site_dir in _venv_site_packages():
            if self.limits.allow is not None:
                # only the allowed packages, bound one by one over an empty folder
                cmd += ["--size", "4096", "--tmpfs", str(site_dir)]
                for entry in _visible_entries(site_dir, self.limits):
                    cmd += ["--ro-bind", str(entry), str(entry)]
                hidden_dirs.append(site_dir)
                continue
            # a hidden package becomes an empty folder (it imports as an empty namespace)
            for name in self.limits.hide:
                if (site_dir / name).is_dir():
                    cmd += ["--size", "4096", "--tmpfs", str(site_dir / name)]
                    hidden_dirs.append(site_dir / name)
        for entry in sorted(Path(self.lib).iterdir()):
            if entry.name not in self.limits.hide:
                cmd += ["--ro-bind", str(entry), f"/sandbox/lib/{entry.name}"]
        cmd += ["--ro-bind", str(self.job), "/sandbox/job"]
        for folder in hidden_dirs:
            cmd += ["--remount-ro", str(folder)]
        cmd += [
            "--remount-ro", "/dev",
            "--remount-ro", "/",
            "--chdir", "/tmp",
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
        for group in self.cgroups:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    def _make_cgroups(self) -> list[Path]:
        """A pids and a memory cgroup (cgroup v1 or v2), where the machine lets us make one."""
        # named after the grading process, so that whoever kills it can remove them
        name = f"convlib-grading-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        made = []
        memory = str(self.limits.memory_bytes)
        v2 = (CGROUP_ROOT / "cgroup.controllers").exists()
        settings = ([(CGROUP_ROOT / name, {"pids.max": str(self.limits.pids),
                                           "memory.max": memory, "memory.swap.max": "0"})]
                    if v2 else
                    [(PIDS_CGROUP / name, {"pids.max": str(self.limits.pids)}),
                     (MEMORY_CGROUP / name, {"memory.limit_in_bytes": memory,
                                             "memory.memsw.limit_in_bytes": memory})])
        for group, values in settings:
            try:
                group.mkdir()
            except OSError:
                continue
            ok = True
            for key, value in values.items():
                try:
                    (group / key).write_text(value)
                except OSError:
                    ok = ok and key.endswith(("swap.max", "memsw.limit_in_bytes"))
            if ok:
                made.append(group)
            else:
                try:
                    group.rmdir()
                except OSError:
                    pass
        return made

    def start(self) -> None:
        self.job.chmod(0o755)
        self.cgroups = self._make_cgroups()
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            preexec_fn=self._preexec,
            start_new_session=True,
            env={},  # bwrap itself (pid 1 inside) holds no variable of the grading shell
        )
        self._buffer = bytearray()

    def max_reply_bytes(self) -> int:
        return self.limits.file_bytes * 4 // 3 + (1 << 20)  # base64 of a file, and slack

    def request(self, message: dict, timeout: float) -> tuple[dict | None, float]:
        """Send one command; return (reply, seconds) or (None, seconds) on timeout or crash.

        The reply is read without blocking, up to :meth:`max_reply_bytes`; a reply that is
        not a JSON object (too deep, too large, garbage) counts as a crash.
        """
        assert self.process is not None
        start = time.perf_counter()
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None, 0.0
        deadline = start + timeout
        fd = self.process.stdout.fileno()
        limit = self.max_reply_bytes()
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0:
                break
            searched = len(self._buffer)
            left = deadline - time.perf_counter()
            if left <= 0:
                return None, time.perf_counter() - start
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:  # the sandbox died (a limit, a crash, os._exit)
                return None, time.perf_counter() - start
            self._buffer += chunk
            if len(self._buffer) > limit:
                return None, time.perf_counter() - start
        elapsed = time.perf_counter() - start
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):
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
        for group in self.cgroups:
            _remove_cgroup(group)
        self.cgroups = []


def _remove_cgroup(group: Path) -> None:
    """Kill what is left in a sandbox's cgroup, then remove it."""
    procs = group / "cgroup.procs"
    for _ in range(50):  # wait until every process of the sandbox has gone
        try:
            pids = procs.read_text().split()
            if not pids:
                break
            for pid in pids:
                os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    try:
        group.rmdir()
    except OSError:
        pass


def remove_cgroups_of(pid: int) -> None:
    """Remove the cgroups of the sandboxes a killed grading process ``pid`` left behind."""
    for root in (CGROUP_ROOT, PIDS_CGROUP, MEMORY_CGROUP):
        for group in root.glob(f"convlib-grading-{pid}-*"):
            _remove_cgroup(group)
