"""The machine a measurement runs on: CPU model, cores, library versions, BLAS, and the
load other processes put on it. One home for what ``python -m convlib.bench`` prints in its
header and what the training runs record as their provenance."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["cpu_model", "cores", "machine_info", "Load", "load_start", "load_end"]


@dataclass
class Load:
    """Share of the machine's CPU time used by other processes while the bench ran."""

    others_percent: float | None
    loadavg_start: tuple[float, float, float] | None
    loadavg_end: tuple[float, float, float] | None = None
    _start: tuple[float, float, float] | None = field(default=None, repr=False)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or what ``platform`` knows of it.

    >>> isinstance(cpu_model(), str)
    True
    """
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def machine_info(threads: int) -> dict[str, Any]:
    """CPU model, cores, library versions and the BLAS NumPy uses (via threadpoolctl).

    >>> sorted(machine_info(1))[:3]
    ['blas', 'cores', 'cpu']
    """
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": cores(),
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    for name in ("scipy", "torch"):
        with contextlib.suppress(ImportError):
            info[name] = __import__(name).__version__
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        # the folder of the library tells whose it is (numpy.libs, scipy.libs, ...)
        info["blas"] = "; ".join(
            f"{os.path.basename(os.path.dirname(p.get('filepath', '')))}: "
            f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
            f"{p.get('threading_layer')})" for p in blas
        ) or "unknown"
    except ImportError:
        info["blas"] = "unknown (threadpoolctl not installed)"
    return info


def _busy_and_own() -> tuple[float, float, float] | None:
    """(busy CPU seconds of the whole machine, CPU seconds of this process and of its
    finished children, wall time)."""
    try:
        with open("/proc/stat") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    # this process's own work includes the child processes it started and waited for
    # (an experiment that launches torchrun, say)
    children = os.times().children_user + os.times().children_system
    return ((sum(fields[:8]) - idle) / tick, time.process_time() + children,
            time.perf_counter())


def load_start() -> Load:
    """The machine's load when a measurement starts."""
    avg = os.getloadavg() if hasattr(os, "getloadavg") else None
    return Load(None, avg, None, _busy_and_own())


def load_end(load: Load) -> Load:
    """``load`` completed at the end of the measurement: the share of the cores other
    processes used meanwhile."""
    end = _busy_and_own()
    if load._start is not None and end is not None:
        busy = end[0] - load._start[0]
        own = end[1] - load._start[1]
        wall = end[2] - load._start[2]
        load.others_percent = max(0.0, 100.0 * (busy - own) / (wall * (os.cpu_count() or 1)))
    load.loadavg_end = os.getloadavg() if hasattr(os, "getloadavg") else None
    return load
