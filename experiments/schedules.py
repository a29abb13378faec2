"""Chapter 10's schedule study: five SGD schedules and AdamW, each at its own peak
learning rate chosen on validation, then ten paired seeds.

``python -m experiments.schedules [--csv PATH] [--names "SGD, cosine" ...]`` runs
:func:`convlib.models.lr_study.schedule_rows` and writes one CSV row per run (its last
epoch), by default to the committed table ``experiments/results/schedules.csv`` that
chapter 10 reads. Every schedule's peak is chosen on its own: processes with ``--names``
and ``--csv`` can share the work, and their tables concatenated are the same table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from convlib.models.lr_study import FIELDS, SCHEDULES, schedule_rows

from . import RESULTS, write_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.schedules",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=RESULTS / "schedules.csv")
    parser.add_argument("--names", nargs="+", default=list(SCHEDULES),
                        choices=list(SCHEDULES))
    args = parser.parse_args(argv)
    write_table(args.csv, FIELDS, schedule_rows(names=tuple(args.names)))


if __name__ == "__main__":
    main()
