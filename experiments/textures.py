"""The second task of chapter 13: texture patches of scikit-image's photographs.

``python -m experiments.textures`` runs the strategies of :mod:`convlib.transfer.realnet`
on the brick / grass / gravel tiles of :mod:`convlib.transfer.textures` at 1, 2 and 5
labels per class over the same 20 repeated splits (about ten minutes of CPU time on one
core) and writes ``experiments/results/textures_results.csv``; ``--budgets`` and
``--strategies`` run pieces (in parallel, say) whose rows, concatenated, are the same.
"""

from __future__ import annotations

import argparse
import sys

from convlib.models.training import one_thread
from convlib.transfer.realnet import (
    ALL_STRATEGIES,
    BUDGETS,
    SPLITS,
    STRATEGIES,
    grid,
    write_csv,
)
from convlib.transfer.textures import HOG_CELL, TEST_PER_CLASS, texture_patches

from . import RESULTS


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.textures",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default=str(RESULTS / "textures_results.csv"),
                    help="where to write the runs")
    ap.add_argument("--budgets", nargs="+", type=int, default=BUDGETS)
    ap.add_argument("--strategies", nargs="+", choices=ALL_STRATEGIES, default=STRATEGIES)
    ap.add_argument("--splits", nargs="+", type=int, default=SPLITS,
                    help="run only these splits (the first N_SELECT choose the setting)")
    ap.add_argument("--lr", type=float, default=None,
                    help="with --splits beyond the first N_SELECT: the learning rate "
                         "those chose (then every split's rows are those of one run)")
    args = ap.parse_args(argv)
    x, y = texture_patches()
    with one_thread():
        runs = grid(x, y, "textures", args.budgets, args.strategies, HOG_CELL,
                    TEST_PER_CLASS, log=lambda m: print(m, file=sys.stderr, flush=True),
                    splits=args.splits, lrs=None if args.lr is None else (args.lr,))
    write_csv(runs, args.csv)
    for r in runs:
        print(f"{r.task} {r.budget:2d} {r.strategy:8s} split {r.seed:2d} lr {r.lr:.0e} "
              f"val {r.val_acc:.3f} test {r.test_acc:.3f} auc {r.test_auc:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
