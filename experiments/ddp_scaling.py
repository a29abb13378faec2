"""Chapter 12's DDP scaling table: data-parallel fine-tuning with 1 and 2 processes.

``python -m experiments.ddp_scaling [--repeats N] [--quick] [--csv PATH]`` launches
``torchrun --standalone --nproc_per_node=P -m experiments.ddp_finetune`` with P = 1 and
P = 2 processes (one thread each), in a shuffled order within every repeat, so that the
two process counts of a repeat are measured close together and can be paired. Each launch
fine-tunes on all 300 labelled images (60 per class) with 16 images per rank per step, and
reports its throughput (images per second, all ranks together, after a warm-up epoch). The
table has one row per launch, with the machine's description and the share of the CPU
other processes used during it, by default ``experiments/results/ddp_scaling.csv``.
``--quick`` runs one short repeat (a check that the command works).

With a fixed batch per rank, P processes take P times larger global steps: the ideal is
P times the throughput of one process, and the *efficiency* is the measured throughput
over that ideal.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from convlib._machine import cores, cpu_model, load_end, load_start

from . import RESULTS, write_table

FIELDS = ["repeat", "processes", "images", "seconds", "images_per_s", "epochs",
          "others_percent", "loadavg", "cpu", "cores", "threads", "torch", "date"]
ROOT = Path(__file__).resolve().parent.parent
_REPORT = re.compile(r"throughput ([0-9.]+) images/s \((\d+) images in ([0-9.]+) s")


def launch(processes: int, epochs: int, budget: int = 60) -> tuple[int, float]:
    """(images, seconds) of one torchrun launch with ``processes`` processes."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={processes}", "-m", "experiments.ddp_finetune",
           "--epochs", str(epochs), "--budget", str(budget)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=600)
    found = _REPORT.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"torchrun failed:\n{done.stdout}\n{done.stderr}")
    return int(found.group(2)), float(found.group(3))


def rows(repeats: int, epochs: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """One row per launch: ``repeats`` repeats of 1 and 2 processes, shuffled."""
    rng = np.random.default_rng(seed)
    for repeat in range(repeats):
        for processes in rng.permutation([1, 2]).tolist():
            load = load_start()
            images, seconds = launch(processes, epochs)
            load = load_end(load)
            yield {"repeat": repeat, "processes": processes, "images": images,
                   "seconds": seconds, "images_per_s": images / seconds, "epochs": epochs,
                   "others_percent": load.others_percent,
                   "loadavg": load.loadavg_end[0] if load.loadavg_end else "",
                   "cpu": cpu_model(), "cores": cores(), "threads": 1,
                   "torch": torch.__version__,
                   "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.ddp_scaling",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=11, help="the first is a warm-up")
    parser.add_argument("--quick", action="store_true", help="1 repeat of 2 epochs")
    parser.add_argument("--csv", type=Path, default=RESULTS / "ddp_scaling.csv")
    args = parser.parse_args(argv)
    repeats, epochs = (1, 2) if args.quick else (args.repeats, args.epochs)
    write_table(args.csv, FIELDS, rows(repeats, epochs))


if __name__ == "__main__":
    main()
