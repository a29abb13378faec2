"""Chapter 9's remedies for overfitting, weight decay and augmentation: ten paired seeds.

``python -m experiments.remedies [--csv PATH]`` runs
:func:`convlib.models.remedies_experiment.rows` and writes one CSV row per configuration
and seed, by default to the committed table ``experiments/results/remedies.csv`` that
chapter 9 reads. About six minutes of one core (``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

from convlib.models.remedies_experiment import FIELDS, rows

from . import one_table_command


def main(argv: list[str] | None = None) -> None:
    one_table_command("remedies", __doc__, "remedies.csv", FIELDS, rows, argv)


if __name__ == "__main__":
    main()
