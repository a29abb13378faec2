"""Fine-tuning strategies against training from scratch, on few labels: the grid of chapter 11.

``python -m experiments.finetune`` runs the grid of :mod:`convlib.transfer.finetune` and
prints the tables; ``--csv PATH`` also writes one row per run. The committed table is
written by ``python -m experiments.finetune --csv experiments/results/finetune_results.csv``
(about ten minutes on one idle core). The shared learning rate was chosen first, on the
validation split, by
``python -m experiments.finetune --select --csv experiments/results/lr_selection.csv``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from convlib.transfer.finetune import (
    BUDGETS,
    SEEDS,
    SELECTION_LRS,
    STRATEGIES,
    Recipe,
    choose_lr,
    format_table,
    grid,
    run_grid,
    summarize,
    write_csv,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.finetune",
        description="Fine-tuning strategies against training from scratch, on few labels.",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=list(BUDGETS),
        help="labelled images per class, broad source, noisy target",
    )
    parser.add_argument(
        "--side-budgets",
        type=int,
        nargs="+",
        default=[5],
        help="budgets of the side experiments (narrow source; clean and inverted targets)",
    )
    parser.add_argument("--no-side", action="store_true", help="skip the side experiments")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument("--steps", type=int, default=Recipe.steps)
    parser.add_argument("--lr", type=float, default=Recipe.lr, help="the shared learning rate")
    parser.add_argument(
        "--select", action="store_true",
        help="the learning-rate selection on the validation split: every strategy at 5 "
        "labels per class, seeds 0-2, each learning rate of SELECTION_LRS",
    )  # fmt: skip
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: seed 0, 5 labels per class, no side experiments, 30 steps",
    )
    parser.add_argument("--csv", type=Path, help="also write one row per run to this file")
    args = parser.parse_args(argv)  # fmt: skip
    if args.quick:
        args.seeds, args.budgets, args.no_side, args.steps = [0], [5], True, 30
    recipe = Recipe(steps=args.steps, lr=args.lr)
    if args.select:
        runs = grid(args.strategies, [5], [0, 1, 2], side=False)
        results = [r for lr in SELECTION_LRS for r in run_grid(runs, Recipe(lr=lr))]
        if args.csv:
            write_csv(results, args.csv)
        print("Validation accuracy (%) at 5 labels per class, seeds 0-2, by learning rate:")
        for lr in SELECTION_LRS:
            stats = summarize([r for r in results if r.lr == lr], "val_acc")
            cells = " ".join(f"{s} {100 * stats['broad', 'noisy', s, 5][0]:.1f}"
                             for s in args.strategies)  # fmt: skip
            mean = statistics.fmean(r.val_acc for r in results if r.lr == lr)
            print(f"lr {lr:.0e}: mean {100 * mean:.1f} | {cells}")
        print(f"chosen: lr {choose_lr(results):g}")
        return 0
    runs = grid(args.strategies, args.budgets, args.seeds, args.side_budgets, not args.no_side)
    results = run_grid(runs, recipe)
    if args.csv:
        write_csv(results, args.csv)
    seeds = ", ".join(map(str, args.seeds))
    print(f"{recipe}; seeds {seeds}.")
    done = {(r.source, r.target) for r in results}
    titles = {
        ("broad", "noisy"): "broad source -> noisy target (the main experiment)",
        ("narrow", "noisy"): "narrow source -> noisy target",
        ("narrow8", "noisy"): "narrow8 source (narrow question, 8 orientations) -> noisy target",
        ("broad", "clean"): "broad source -> clean target (an easy target)",
        ("broad", "inverted"): "broad source -> inverted target (a domain the source never saw)",
    }
    for (source, target), title in titles.items():
        if (source, target) in done:
            print(f"\nTarget accuracy (%), {title}; mean ± std over seeds:")
            print(format_table(results, source, target))
    if ("broad", "noisy") in done and any(r.strategy != "scratch" for r in results):
        print("\nSource accuracy (%) after adapting the broad source to the noisy target:")
        print(format_table(
            [r for r in results if r.strategy != "scratch"], "broad", "noisy", "source_acc"
        ))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
