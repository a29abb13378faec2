"""Chapter 12's CPU timing table: four implementations of one convolution, interleaved.

``python -m experiments.timing [--rounds N] [--quick] [--csv PATH]`` runs
:func:`convlib.models.speed_experiment.timing_rows`: after warm-up rounds, every round calls
each implementation once in a new shuffled order, so that a change of the machine's load
hits all four alike. It writes one row per call, with the machine's description and load,
by default to the committed table ``experiments/results/timing.csv``. ``--quick`` runs a
few rounds (a check that the command works; its table shows nothing).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from convlib.models.speed_experiment import FIELDS, timing_rows

from . import RESULTS, write_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.timing",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="5 rounds, 1 warm-up")
    parser.add_argument("--csv", type=Path, default=RESULTS / "timing.csv")
    args = parser.parse_args(argv)
    rounds, warmup = (5, 1) if args.quick else (args.rounds, 10)
    write_table(args.csv, FIELDS, timing_rows(rounds, warmup))


if __name__ == "__main__":
    main()
