"""Chapter 12's CPU effects: ``channels_last``, ``torch.compile`` and bf16 autocast on a
small convolutional network, forward and forward + backward, interleaved.

``python -m experiments.cpu_effects [--rounds N] [--quick] [--csv PATH]`` runs
:func:`convlib.models.speed_experiment.effects_rows` and writes one row per call, with the
machine's description and load, by default to the committed table
``experiments/results/cpu_effects.csv``. ``--quick`` runs a few rounds (a check that the
command works, compilation included; its table shows nothing).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from convlib.models.speed_experiment import FIELDS, effects_rows

from . import RESULTS, write_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.cpu_effects",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--quick", action="store_true", help="3 rounds, 1 warm-up")
    parser.add_argument("--csv", type=Path, default=RESULTS / "cpu_effects.csv")
    args = parser.parse_args(argv)
    rounds, warmup = (3, 1) if args.quick else (args.rounds, 5)
    write_table(args.csv, FIELDS, effects_rows(rounds, warmup))


if __name__ == "__main__":
    main()
