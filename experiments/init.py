"""Chapter 8's Xavier/He comparison: two initializations, four learning rates, ten seeds.

``python -m experiments.init [--csv PATH]`` runs
:func:`convlib.models.init_experiment.rows` and writes one CSV row per run, by default
to the committed table ``experiments/results/init.csv`` that chapter 8 reads.
"""

from __future__ import annotations

from convlib.models.init_experiment import FIELDS, rows

from . import one_table_command


def main(argv: list[str] | None = None) -> None:
    one_table_command("init", __doc__, "init.csv", FIELDS, rows, argv)


if __name__ == "__main__":
    main()
