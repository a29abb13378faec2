"""Chapter 12's timing tables: the commands run (``--quick``), the committed tables are
complete and paired, and the variants they time compute the same thing."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convlib.models import speed_experiment as sx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "results"


def _command(name: str, tmp_path: Path, *args: str) -> Path:
    out = tmp_path / f"{name}.csv"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", f"experiments.{name}", "--quick",
                           "--csv", str(out), *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.mark.parametrize("table, passes, names, rounds", [
    ("timing.csv", ["forward"], list(sx.conv_candidates(*sx.conv_inputs())), 100),
    ("cpu_effects.csv", list(sx.PASSES),
     ["float32", "channels_last", "bf16 autocast", "torch.compile"], 30),
])
def test_committed_table_is_complete_and_paired(table, passes, names, rounds):
    rows = sx.read_table(RESULTS / table)
    assert sorted({r["pass"] for r in rows}) == sorted(passes)
    for pass_ in passes:
        t = sx.times(rows, pass_)  # raises unless every implementation has every round
        assert sorted(t) == sorted(names)
        assert all(len(v) >= rounds and (v > 0).all() for v in t.values())
    for r in rows:  # the machine and its load are recorded with every call
        assert r["cpu"] and r["cores"] >= 1 and r["date"].endswith("UTC")
        assert 0 <= r["others_percent"] <= 100


def test_committed_ddp_table_pairs_one_and_two_processes():
    with open(RESULTS / "ddp_scaling.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    by_repeat: dict[str, list[int]] = {}
    for r in rows:
        by_repeat.setdefault(r["repeat"], []).append(int(r["processes"]))
        assert float(r["images_per_s"]) > 0
        images, seconds = int(r["images"]), float(r["seconds"])
        assert abs(float(r["images_per_s"]) - images / seconds) < 1e-3 * images / seconds
    assert len(by_repeat) >= 3 and all(sorted(p) == [1, 2] for p in by_repeat.values())


def test_times_refuses_unpaired_rounds():
    rows = [{"pass": "forward", "round": r, "implementation": n, "seconds": 1.0}
            for n, r in [("a", 0), ("a", 1), ("b", 0)]]
    with pytest.raises(ValueError, match="same rounds"):
        sx.times(rows)


def test_the_four_convolutions_agree_with_torch():
    xn, wn = sx.conv_inputs()
    ref = F.conv2d(torch.from_numpy(xn), torch.from_numpy(wn), padding=1).numpy()
    for fn in sx.conv_candidates(xn, wn).values():
        out = fn()
        out = out if isinstance(out, np.ndarray) else out.numpy()
        assert out.shape == ref.shape and np.allclose(out, ref, rtol=1e-3, atol=1e-3)


def test_network_variants_compute_the_same_forward_pass():
    fns = sx.effect_variants("forward", compile_=False)
    ref = fns["float32"]()
    assert torch.allclose(fns["channels_last"](), ref, atol=1e-5)
    bf16 = fns["bf16 autocast"]()
    assert bf16.dtype == torch.bfloat16
    err = (bf16.float() - ref).abs().max() / ref.abs().max()
    # bf16 keeps 8 significant bits: a relative error of order 2^-8, never float32's 1e-7
    assert 1e-4 < err < 0.05
    assert abs(sx.bf16_error() - err) < 1e-6
    with pytest.raises(ValueError, match="pass_"):
        sx.effect_variants("backward")


def test_forward_backward_variants_agree_in_training_mode():
    fns = sx.effect_variants("forward+backward", compile_=False)
    model, x, _ = sx.effect_inputs()
    ref = model.train()(x).detach()  # the same seed gives the same network
    assert torch.allclose(fns["float32"]().detach(), ref, atol=1e-6)
    assert torch.allclose(fns["channels_last"]().detach(), ref, atol=1e-5)


@pytest.mark.slow
def test_timing_command_runs(tmp_path):
    t = sx.times(sx.read_table(_command("timing", tmp_path)))
    assert len(t) == 4 and all(len(v) == 5 for v in t.values())


@pytest.mark.slow
def test_cpu_effects_command_runs(tmp_path):
    rows = sx.read_table(_command("cpu_effects", tmp_path))
    assert all(len(sx.times(rows, p)) == 4 for p in sx.PASSES)


@pytest.mark.slow
def test_ddp_scaling_command_runs(tmp_path):
    with open(_command("ddp_scaling", tmp_path), newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(r["processes"]) for r in rows) == [1, 2]
