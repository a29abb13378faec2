"""Data-parallel fine-tuning: two torchrun processes on CPU (gloo) end with the same weights."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # `-m experiments.ddp_finetune` runs from here

pytestmark = pytest.mark.slow


def torchrun(*args: str) -> str:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    cmd += ["-m", "experiments.ddp_finetune", "--epochs", "2", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def digests(out: str) -> dict[int, str]:
    found = re.findall(r"rank (\d)/2: trained on (\d+) images, weights sha256 ([0-9a-f]{16})", out)
    assert len(found) == 2, out
    assert all(int(n) == 2 * 25 for _, n, _ in found)  # 50 labelled images, half per rank, 2 epochs
    return {int(rank): digest for rank, _, digest in found}


def test_ddp_ranks_end_identical():
    out = torchrun()
    d = digests(out)
    assert d[0] == d[1], out
    assert "rank 0: all 2 ranks hold identical weights" in out


def test_without_ddp_ranks_drift_apart():
    out = torchrun("--no-ddp")
    d = digests(out)
    assert d[0] != d[1], out
    assert "without DDP the 2 copies differ" in out
