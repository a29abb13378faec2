"""Fine-tuning strategies against training from scratch, on few labels: the grid of chapter 11.

``python -m experiments.finetune`` runs the grid of :mod:`convlib.transfer.finetune` and
prints the tables; ``--csv PATH`` also writes one row per run. The committed table is
written by ``python -m experiments.finetune --csv experiments/results/finetune_results.csv``
(410 runs of about 2 s of one core each; ``--reuse experiments/results/finetune_results.csv``
keeps the committed rows whose run and learning rate are unchanged and runs only the
others). Each strategy's learning rate was chosen first, on the validation split, by
``python -m experiments.finetune --select --csv experiments/results/lr_selection.csv``
(:func:`convlib.transfer.finetune.choose_lrs`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from convlib.transfer.finetune import (
    BUDGETS,
    SEEDS,
    SELECTION_LRS,
    SIDE_RECIPE,
    SIDE_SEEDS,
    STRATEGIES,
    Recipe,
    RunResult,
    choose_lrs,
    format_table,
    grid,
    iter_grid,
    read_csv,
    recipe_rows,
    side_grid,
    summarize,
    write_csv,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.finetune",
        description="Fine-tuning strategies against training from scratch, on few labels.",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--side-seeds", type=int, nargs="+", default=list(SIDE_SEEDS))
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
        help="budgets of the side experiments (narrow sources; clean and inverted targets)",
    )
    parser.add_argument("--no-side", action="store_true", help="skip the side experiments")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument("--steps", type=int, default=Recipe.steps)
    parser.add_argument(
        "--lr", type=float, default=None,
        help="one learning rate for every strategy (default: each strategy's own, chosen on "
        "the validation split)",
    )  # fmt: skip
    parser.add_argument(
        "--select", action="store_true",
        help="the learning-rate selection on the validation split: every strategy at 5 "
        "labels per class, seeds 0-2, each learning rate of SELECTION_LRS",
    )  # fmt: skip
    parser.add_argument(
        "--reuse", type=Path, action="append", default=[],
        help="a table of earlier runs: its rows whose run and learning rate are unchanged "
        "are kept instead of run again (may be given more than once)",
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
    recipe = Recipe(steps=args.steps)
    side_recipe = Recipe(steps=args.steps, lr=SIDE_RECIPE.lr, lrs=())
    if args.lr is not None:
        recipe = side_recipe = Recipe(steps=args.steps, lr=args.lr, lrs=())
    reuse = [r for path in args.reuse for r in read_csv(path)]

    def collect(rows: Iterable[RunResult]) -> list[RunResult]:
        """All results; with ``--csv`` each is written to the table as its run ends."""
        return write_csv(rows, args.csv) if args.csv else list(rows)

    if args.select:
        runs = grid(args.strategies, [5], [0, 1, 2])
        results = collect(
            r for lr in SELECTION_LRS
            for r in iter_grid(runs, Recipe(steps=args.steps, lr=lr, lrs=()), reuse=reuse)
        )  # fmt: skip
        print("Validation accuracy (%) at 5 labels per class, mean over seeds 0-2:")
        for lr in SELECTION_LRS:
            stats = summarize([r for r in results if r.lr == lr], "val_acc")
            cells = " ".join(f"{s} {100 * stats['broad', 'noisy', s, 5][0]:.1f}"
                             for s in args.strategies)  # fmt: skip
            print(f"lr {lr:.2e}: {cells}")
        print("chosen:", ", ".join(f"{s} {lr:g}" for s, lr in choose_lrs(results).items()))
        return 0

    def all_rows() -> Iterable[RunResult]:
        """The main runs, then the side runs that are not main runs too (same rate)."""
        main = []
        for r in iter_grid(grid(args.strategies, args.budgets, args.seeds), recipe, reuse=reuse):
            main.append(r)
            yield r
        if not args.no_side:
            done = {(r.source, r.target, r.strategy, r.budget, r.seed, r.lr) for r in main}
            sides = side_grid(args.strategies, args.side_budgets, args.side_seeds)
            for r in iter_grid(sides, side_recipe, reuse=reuse + main):
                if (r.source, r.target, r.strategy, r.budget, r.seed, r.lr) not in done:
                    yield r

    results = collect(all_rows())
    main_rows = [r for r in recipe_rows(results, recipe)
                 if (r.source, r.target) == ("broad", "noisy")]  # fmt: skip
    side_rows = recipe_rows(results, side_recipe)
    print(f"{recipe}; seeds {', '.join(map(str, args.seeds))}.")
    print(f"Side experiments: lr {side_recipe.lr:g} for every strategy; seeds "
          f"{', '.join(map(str, args.side_seeds))}.")  # fmt: skip
    titles = {
        ("broad", "noisy"): "broad source -> noisy target (the main experiment)",
        ("narrow", "noisy"): "narrow source -> noisy target",
        ("narrow8", "noisy"): "narrow8 source (narrow question, 8 orientations) -> noisy target",
        ("broad", "clean"): "broad source -> clean target (an easy target)",
        ("broad", "inverted"): "broad source -> inverted target (a domain the source never saw)",
    }
    print(f"\nTarget accuracy (%), {titles['broad', 'noisy']}; mean ± std over seeds:")
    print(format_table(main_rows, "broad", "noisy"))
    if any(r.strategy != "scratch" for r in main_rows):
        print("\nSource accuracy (%) after adapting the broad source to the noisy target:")
        print(format_table(
            [r for r in main_rows if r.strategy != "scratch"], "broad", "noisy", "source_acc"
        ))  # fmt: skip
    done = {(r.source, r.target) for r in results if r.seed in args.side_seeds}
    if not args.no_side:
        for (source, target), title in titles.items():
            if (source, target) in done:
                print(f"\nSide experiment, {title}; shared lr; mean ± std over seeds:")
                side = [r for r in side_rows if r.budget in args.side_budgets
                        and r.seed in args.side_seeds]  # fmt: skip
                print(format_table(side, source, target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
