"""A real pretrained network on a small real task: the experiment of chapter 13.

``python -m experiments.realnet`` runs everything of :mod:`convlib.transfer.realnet`
(about a quarter of an hour of CPU time on one core) and writes
``experiments/results/realnet_results.csv``; ``--part``, ``--budgets``, ``--strategies``
and ``--variants`` run pieces (in parallel, say) whose rows, concatenated, are the same.
"""

from __future__ import annotations

import argparse

from convlib.transfer.realnet import (
    ALL_STRATEGIES,
    ALL_VARIANTS,
    BUDGETS,
    SPLITS,
    STRATEGIES,
    VARIANTS,
    run_all,
    write_csv,
)

from . import RESULTS


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.realnet",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default=str(RESULTS / "realnet_results.csv"),
                    help="where to write the runs")
    ap.add_argument("--part", nargs="+", choices=("main", "digits", "practice"),
                    default=("main", "digits", "practice"),
                    help="run only these parts (in this order; the rows of separate runs "
                         "concatenate to those of one run)")
    ap.add_argument("--full-lr", type=float, default=None,
                    help="for --part practice without main: the learning rate main chose")
    ap.add_argument("--budgets", nargs="+", type=int, default=BUDGETS)
    ap.add_argument("--strategies", nargs="+", choices=ALL_STRATEGIES, default=STRATEGIES)
    ap.add_argument("--variants", nargs="+", choices=ALL_VARIANTS, default=VARIANTS)
    ap.add_argument("--splits", nargs="+", type=int, default=SPLITS,
                    help="main part: only these splits (the first N_SELECT choose)")
    ap.add_argument("--lr", type=float, default=None,
                    help="main part, with --splits beyond the first N_SELECT: the learning "
                         "rate those chose (then every split's rows are those of one run)")
    args = ap.parse_args(argv)
    runs = run_all(args.part, args.full_lr, args.budgets, args.strategies, args.variants,
                   splits=args.splits, lrs=None if args.lr is None else (args.lr,))
    write_csv(runs, args.csv)
    for r in runs:
        print(f"{r.task} {r.budget:2d} {r.strategy:8s} {r.variant:13s} split {r.seed:2d} "
              f"lr {r.lr:.0e} val {r.val_acc:.3f} test {r.test_acc:.3f} "
              f"auc {r.test_auc:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
