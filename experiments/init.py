"""Chapter 8's Xavier/He comparison: two initializations, four learning rates, ten seeds.

``python -m experiments.init [--csv PATH]`` runs
:func:`convlib.models.init_experiment.rows` and writes one CSV row per run, by default
to the committed table ``experiments/results/init.csv`` that chapter 8 reads.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from convlib.models.init_experiment import FIELDS, rows

from . import RESULTS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.init",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=RESULTS / "init.csv")
    args = parser.parse_args(argv)
    with open(args.csv, "w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        for row in rows():
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v
                             for k, v in row.items()})
            f.flush()


if __name__ == "__main__":
    main()
