"""One submission's sandbox session: its cells, then the judge's probe calls, as data.

:class:`Session` runs the notebook's code cells in a :class:`~convlib.grading.sandbox.Sandbox`,
then answers probe calls; a step that hangs or kills its process costs only itself (the
sandbox restarts and runs the other cells again); the sandbox's wall time is counted against
the submission's total. What comes back is read as bounded data (:func:`_load_npz`).
"""

from __future__ import annotations

import base64
import binascii
import inspect
import io
import os
import shutil
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convlib.grading.inside import runner
from convlib.grading.sandbox import Limits, Sandbox

MAX_RESTARTS = 6


@dataclass
class StepResult:
    ok: bool
    error: str = ""
    arrays: dict = field(default_factory=dict)
    scalars: dict = field(default_factory=dict)
    seconds: float = 0.0
    timed_out: bool = False


def _load_npz(data: bytes, max_bytes: int) -> dict:
    """Arrays the sandbox sent: no pickles, bounded size, every float cast to float64.

    Integers and booleans stay as they are; complex arrays are dropped (the tests then
    say the value is missing or not real). Anything else raises ``ValueError``.
    """
    if len(data) > max_bytes:
        raise ValueError("its arrays are too large")
    buffer = io.BytesIO(data)
    try:  # a compressed member could expand far beyond the file's size
        with zipfile.ZipFile(buffer) as archive:
            expanded = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ValueError("not an .npz file") from error
    if expanded > 4 * max_bytes:
        raise ValueError("its arrays are too large")
    buffer.seek(0)
    out = {}
    try:
        with np.load(buffer, allow_pickle=False) as npz:
            for key in npz.files:
                array = np.array(npz[key])
                if array.dtype.kind == "f":
                    out[key] = array.astype(np.float64)
                elif array.dtype.kind in "biu":
                    out[key] = array
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001 - any malformed archive is only unreadable
        raise ValueError(f"unreadable arrays ({type(error).__name__})") from error
    return out


def _read_npz(path: Path, max_bytes: int) -> dict:
    """Load an .npz file without following links or blocking on a FIFO (see _load_npz)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            raise ValueError("not a regular file of sensible size")
        return _load_npz(f.read(max_bytes + 1), max_bytes)


class TotalTimeExceeded(RuntimeError):
    pass


class Session:
    """Runs one submission's cells, then probe calls, restarting past a step that hangs.

    A cell or call that exceeds its wall-clock limit, or kills its process, costs only
    itself: the sandbox is killed, restarted, the other cells are executed again and the
    remaining calls go on. After ``MAX_RESTARTS`` restarts everything left fails. The
    sandbox's wall time (every cell and call, restarts included) is counted against
    ``limits.total_seconds`` before each step; past it, nothing more runs and
    :attr:`over_time` is set.
    """

    def __init__(self, lib: Path, cells: list[str], probes_source: str, limits: Limits):
        self.lib, self.cells, self.limits = lib, cells, limits
        self.job = Path(tempfile.mkdtemp(prefix="convlib-job-"))
        (self.job / "in").mkdir()
        shutil.copy(inspect.getfile(runner), self.job / "runner.py")
        (self.job / "probes.py").write_text(probes_source)
        for p in (self.job / "runner.py", self.job / "probes.py"):
            p.chmod(0o644)
        (self.job / "in").chmod(0o755)
        self.sandbox: Sandbox | None = None
        self.skipped: set[int] = set()
        self.cell_errors: dict[int, str] = {}
        self.restarts = 0
        self.used = 0.0  # sandbox wall time so far
        self.over_time = False
        self.counter = 0

    def _time_left(self) -> float:
        return self.limits.total_seconds - self.used

    def _request(self, message: dict, timeout: float) -> tuple[dict | None, float]:
        left = self._time_left()
        if left <= 0:
            self.over_time = True
            raise TotalTimeExceeded
        reply, seconds = self.sandbox.request(message, min(timeout, left))
        self.used += seconds
        if reply is None and self._time_left() <= 0:
            self.over_time = True
        return reply, seconds

    def _boot(self) -> bool:
        """Start a sandbox and run every cell not skipped; True when ready for calls."""
        while True:
            if self.sandbox is not None:
                self.sandbox.stop()
            if self.restarts > MAX_RESTARTS or self._time_left() <= 0:
                self.over_time = self.over_time or self._time_left() <= 0
                self.sandbox = None
                return False
            self.sandbox = Sandbox(self.lib, self.job, self.limits)
            started = time.perf_counter()
            self.sandbox.start()
            self.used += time.perf_counter() - started
            for index, source in enumerate(self.cells):
                if index in self.skipped:
                    continue
                try:
                    reply, _ = self._request({"op": "cell", "index": index, "source": source},
                                             self.limits.cell_seconds)
                except TotalTimeExceeded:
                    self.sandbox.stop()
                    self.sandbox = None
                    return False
                if reply is None:
                    self.skipped.add(index)
                    self.cell_errors[index] = "stopped: time or memory limit, or crashed"
                    self.restarts += 1
                    break
                if not reply.get("ok"):
                    self.cell_errors[index] = str(reply.get("error", ""))[:600]
            else:
                return True

    def call(self, probe: str, arrays: dict, params: dict, timeout: float | None = None):
        if self.sandbox is None and not self._boot():
            reason = ("the submission used its total time limit" if self.over_time
                      else "the submission exceeded its limits")
            return StepResult(False, f"not run: {reason}", timed_out=True)
        self.counter += 1
        inputs = self.job / "in" / f"step{self.counter}.npz"
        np.savez(inputs, **arrays)
        inputs.chmod(0o644)
        try:
            reply, seconds = self._request(
                {
                    "op": "call",
                    "probe": probe,
                    "inputs": f"/sandbox/job/in/{inputs.name}",
                    "params": params,
                },
                timeout or self.limits.call_seconds,
            )
        except TotalTimeExceeded:
            return StepResult(False, "not run: the submission used its total time limit",
                              timed_out=True)
        finally:
            inputs.unlink()
        if reply is None:
            self.restarts += 1
            self.sandbox.stop()
            self.sandbox = None
            return StepResult(False, f"stopped after {seconds:.0f} s: time or memory limit",
                              seconds=seconds, timed_out=True)
        if not reply.get("ok"):
            return StepResult(False, str(reply.get("error", ""))[:600], seconds=seconds)
        try:
            packed = base64.b64decode(str(reply.get("npz", "")), validate=True)
            arrays_out = _load_npz(packed, self.limits.file_bytes)
        except (ValueError, binascii.Error) as error:
            return StepResult(False, f"unreadable output ({error})", seconds=seconds)
        scalars = reply.get("scalars", {})
        scalars = {str(k)[:200]: str(v)[:2000] for k, v in list(scalars.items())[:10000]} if (
            isinstance(scalars, dict)) else {}
        return StepResult(True, arrays=arrays_out, scalars=scalars, seconds=seconds)

    def close(self):
        if self.sandbox is not None:
            self.sandbox.stop()
        shutil.rmtree(self.job, ignore_errors=True)
