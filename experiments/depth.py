"""Chapter 10's depth study: plain, batch-norm and residual stacks of 6, 20 and 50 layers,
each at its own learning rate chosen on validation, then ten paired seeds.

``python -m experiments.depth [--csv PATH] [--depths 20 50 6] [--sweep-seeds 0 1]
[--archs plain ...]`` runs
:func:`convlib.models.lr_study.depth_rows` and writes one CSV row per epoch of every run,
by default to the committed table ``experiments/results/depth.csv`` that chapter 10 reads.
Depths and architectures are independent (each architecture's rate is chosen on its own):
processes with ``--depths``, ``--archs`` and ``--csv`` can share the work, and their tables
concatenated (header once, a run that two processes made kept once) are the same table.
Once the sweep has chosen a rate, ``--sweep-seeds`` with no seeds, one rate in ``--lrs``
and some ``--seeds`` runs only those seeds of the headline at that rate.

The committed table's sweep has two seeds per rate at 6 and 20 layers and one at 50
layers (``--depths 50 --sweep-seeds 0``): a run of 50 layers costs about half a minute of
one core, the whole table about 25 minutes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from convlib.models.lr_study import ARCHS, DEPTH_LRS, DEPTHS, FIELDS, SEEDS, SWEEP_SEEDS, depth_rows

from . import RESULTS, write_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.depth",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=RESULTS / "depth.csv")
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    parser.add_argument("--sweep-seeds", type=int, nargs="*", default=list(SWEEP_SEEDS))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--lrs", type=float, nargs="+", default=list(DEPTH_LRS))
    parser.add_argument("--archs", nargs="+", default=list(ARCHS), choices=list(ARCHS))
    args = parser.parse_args(argv)
    write_table(args.csv, FIELDS, depth_rows(
        tuple(args.depths), seeds=tuple(args.seeds), sweep_seeds=tuple(args.sweep_seeds),
        lrs=tuple(args.lrs), archs=tuple(args.archs)))


if __name__ == "__main__":
    main()
