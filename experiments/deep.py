"""The L1/L2 and deeper-or-wider grids of the deep-networks chapter, run by one command.

``python -m experiments.deep [--csv PATH] [--grid NAME ...]`` trains every configuration of
the chosen grids (:data:`convlib.models.deep_experiment.GRIDS`) over ten seeds and writes
one CSV row per configuration and seed, by default to the committed table
``experiments/results/deep.csv`` that chapter 10 reads (its depth and
schedule studies are ``experiments.depth`` and ``experiments.schedules``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from convlib.models.deep_experiment import FIELDS, GRIDS, run_grid

from . import RESULTS, write_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.deep",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=RESULTS / "deep.csv")
    parser.add_argument("--grid", nargs="*", default=list(GRIDS), choices=list(GRIDS))
    args = parser.parse_args(argv)
    write_table(args.csv, FIELDS, run_grid(args.grid))


if __name__ == "__main__":
    main()
