"""Chapter 9's kernel-size study: six first layers, ten paired seeds each.

``python -m experiments.kernel [--csv PATH]`` runs
:func:`convlib.models.kernel_experiment.rows` and writes one CSV row per run, by default
to the committed table ``experiments/results/kernel.csv`` that chapter 9 reads.
"""

from __future__ import annotations

from convlib.models.deep_experiment import FIELDS
from convlib.models.kernel_experiment import rows

from . import one_table_command


def main(argv: list[str] | None = None) -> None:
    one_table_command("kernel", __doc__, "kernel.csv", FIELDS, rows, argv)


if __name__ == "__main__":
    main()
