"""Chapter 9's kernel-size study: six first layers, ten paired seeds each.

``python -m experiments.kernel [--csv PATH]`` runs
:func:`convlib.models.kernel_experiment.rows` and writes one CSV row per run, by default
to the committed table ``experiments/results/kernel.csv`` that chapter 9 reads.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from convlib.models.deep_experiment import FIELDS
from convlib.models.kernel_experiment import rows

from . import RESULTS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.kernel",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=RESULTS / "kernel.csv")
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
