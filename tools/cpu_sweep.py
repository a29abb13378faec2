"""Run the tests as if on other CPUs: every SIMD kernel choice this machine can simulate.

The committed notebook outputs are compared digit for digit by nbval on whatever machine
runs ``make test``: an Intel AVX-512 server, an AMD AVX2 one, a laptop. Floating-point
sums come out in another order on each, because torch's libraries pick their kernels by
CPU: ATen (``ATEN_CPU_CAPABILITY``), oneDNN's convolutions (``ONEDNN_MAX_CPU_ISA``), MKL's
matrix products (``MKL_CBWR``), and NumPy's OpenBLAS (``OPENBLAS_CORETYPE``). On one
machine, setting those variables runs the same code through the kernels another CPU would
use, so a printed digit that depends on the CPU shows up here as a failing cell.

    python tools/cpu_sweep.py                     every profile, unit tests and notebooks
    python tools/cpu_sweep.py --only notebooks    notebooks only
    python tools/cpu_sweep.py chapters/10_deep_networks.ipynb --profile avx2 compat

``make sweep`` runs the first. Each run's whole pytest output is kept in
``_build/sweep/PROFILE-SUITE.log``, for the diffs of the cells that failed.
A profile whose instruction set this CPU lacks is skipped (and said so): on an AVX2
machine, ``avx512`` cannot be simulated. Each profile also sets another thread count, so
the result cannot depend on the number of cores either.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "_build" / "sweep"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Profile:
    """A simulated machine: the environment that makes this CPU run another one's kernels."""

    name: str
    what: str
    env: dict[str, str] = field(default_factory=dict)
    needs: str | None = None  # a /proc/cpuinfo flag this CPU must have


PROFILES = (
    Profile("native", "this CPU as it is, two threads", {"OMP_NUM_THREADS": "2"}),
    Profile(
        "default", "ATen's portable kernels (no AVX), as on a CPU torch has no kernels for",
        {"ATEN_CPU_CAPABILITY": "default", "OMP_NUM_THREADS": "2"},
    ),
    Profile(
        "avx2", "an AVX2 machine (AMD EPYC, older Intel): ATen, oneDNN, MKL and OpenBLAS "
        "on AVX2, one thread",
        {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2",
         "OPENBLAS_CORETYPE": "Haswell", "OMP_NUM_THREADS": "1"},
        needs="avx2",
    ),
    Profile(
        "avx512", "an AVX-512 server (Intel Xeon): every library on AVX-512, eight threads",
        {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE",
         "MKL_CBWR": "AVX512", "OPENBLAS_CORETYPE": "SkylakeX", "OMP_NUM_THREADS": "8"},
        needs="avx512f",
    ),
    Profile(
        "compat", "the oldest x86-64 kernels everywhere (SSE only), one thread",
        {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
         "MKL_CBWR": "COMPATIBLE", "OPENBLAS_CORETYPE": "Prescott", "OMP_NUM_THREADS": "1"},
    ),
)

PYTEST = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"]
SUITES = {
    "unit": [*PYTEST, "tests", "--doctest-modules", "convlib", "-m", "not browser"],
    "notebooks": [*PYTEST, "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
                  "tests/sanitize.cfg", "--nbval-cell-timeout", "600"],
}


def cpu_flags() -> set[str]:
    """The instruction-set flags of this CPU (empty where /proc/cpuinfo is not readable)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def run(profile: Profile, suite: str, paths: list[str]) -> tuple[int, float, str]:
    """Run one suite under one profile; its exit code, seconds and closing line."""
    env = {**os.environ, "HYPOTHESIS_PROFILE": "ci", **profile.env}
    args = SUITES[suite] + (paths or (["chapters"] if suite == "notebooks" else []))
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{profile.name}-{suite}.log").write_text(done.stdout + done.stderr)
    lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
    failed = [ln for ln in lines if ln.startswith(("FAILED", "ERROR"))]
    for ln in failed:
        print(f"    {ln}", flush=True)
    return done.returncode, seconds, lines[-1] if lines else done.stderr.strip()[-200:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="test paths (default: the whole suite)")
    parser.add_argument("--profile", nargs="+", choices=[p.name for p in PROFILES])
    parser.add_argument("--only", choices=list(SUITES), help="one suite instead of both")
    args = parser.parse_args(argv)
    flags = cpu_flags()
    suites = [args.only] if args.only else list(SUITES)
    chosen = [p for p in PROFILES if not args.profile or p.name in args.profile]
    results = []
    for profile in chosen:
        if profile.needs and profile.needs not in flags:
            print(f"{profile.name:8s} skipped: this CPU has no {profile.needs}", flush=True)
            results.append((profile.name, "-", "skipped", 0.0))
            continue
        settings = " ".join(f"{k}={v}" for k, v in profile.env.items())
        print(f"{profile.name:8s} {profile.what}\n         {settings}", flush=True)
        for suite in suites:
            paths = args.paths if args.paths else []
            if suite == "unit" and any(p.endswith(".ipynb") or p.startswith("chapters")
                                       for p in paths):
                continue
            if suite == "notebooks" and paths and not any(
                    p.endswith(".ipynb") or p.startswith("chapters") for p in paths):
                continue
            code, seconds, summary = run(profile, suite, paths)
            verdict = "passed" if code == 0 else f"FAILED (exit {code})"
            print(f"         {suite}: {verdict} in {seconds:.0f} s: {summary}", flush=True)
            results.append((profile.name, suite, verdict, seconds))
    print("\nprofile  suite      result")
    for name, suite, verdict, seconds in results:
        print(f"{name:8s} {suite:10s} {verdict} ({seconds:.0f} s)")
    return 0 if all(v in ("passed", "skipped") for _, _, v, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
