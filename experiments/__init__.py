"""The experiments behind the book's result tables: command-line drivers, not library code.

Each module runs one experiment with the functions of ``convlib`` and writes its table to
``experiments/results/``, which the chapters read. Run them from the repository root::

    python -m experiments.deep         # chapter 10's width, L1/L2: results/deep.csv
    python -m experiments.depth        # chapter 10's depth study: results/depth.csv
    python -m experiments.schedules    # chapter 10's schedule study: results/schedules.csv
    python -m experiments.kernel       # chapter 9's kernel sizes: results/kernel.csv
    python -m experiments.remedies     # chapter 9's remedies, augmentation: results/remedies.csv
    python -m experiments.init         # chapter 8's Xavier/He comparison: results/init.csv
    python -m experiments.pretrain     # chapter 11: convlib/transfer/checkpoints/source_cnn.pt
    python -m experiments.finetune     # chapters 9 and 11: results/finetune_results.csv
    python -m experiments.finetune --select   # chapter 11's rates: results/lr_selection.csv
    python -m experiments.realnet      # chapter 13: results/realnet_results.csv
    python -m experiments.textures     # chapter 13's second task: results/textures_results.csv
    torchrun --standalone --nproc_per_node=2 -m experiments.ddp_finetune   # chapter 12
    python -m experiments.ddp_scaling  # chapter 12's DDP scaling: results/ddp_scaling.csv
    python -m experiments.timing       # chapter 12's CPU timings: results/timing.csv
    python -m experiments.cpu_effects  # chapter 12's channels_last, torch.compile, bf16:
                                       #   results/cpu_effects.csv

The timing commands (``timing``, ``cpu_effects``, ``ddp_scaling``) record the machine and
its load with every row; run them on an idle machine. ``--quick`` checks that one runs.

They are not part of the installed ``convlib`` package, so they are not copied into the
grading sandbox. The pretrained checkpoint that the library, the chapters and the
assignments load stays in ``convlib/transfer/checkpoints/``.
"""

import csv
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: the committed result tables
RESULTS = Path(__file__).resolve().parent / "results"


def write_table(path: Path, fields: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` as a CSV table, one line as each run ends (floats to 6 digits), so
    that a long experiment that is stopped keeps the runs it finished."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v
                             for k, v in row.items()})
            f.flush()
    print(f"wrote {path}", file=sys.stderr)


def one_table_command(name: str, doc: str, table: str, fields: Sequence[str],
                      rows: Any, argv: list[str] | None = None) -> None:
    """The command line of an experiment that writes one table: ``--csv PATH``."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m experiments.{name}",
                                     description=doc.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=RESULTS / table)
    args = parser.parse_args(argv)
    write_table(args.csv, fields, rows())
