"""The training chapter's kernel-size study, over ten paired seeds, run by one command.

``python -m experiments.kernel`` (in the repository, not the package) trains
``DigitsCNN`` with six first layers (kernel size and stride, :data:`CHOICES`) on all 300
training images of the chapter's split, with the chapter's recipe (Adam, learning rate
3e-3, batches of 32, 30 epochs), from each of the ten seeds :data:`SEEDS`, and writes one
CSV row per configuration and seed (the last epoch; columns as in
:mod:`convlib.models.deep_experiment`). Every configuration is trained from the same
seeds, so the differences between two of them can be paired seed by seed. The chapter
reads the committed table (``experiments/results/kernel.csv``) and re-runs one row
live. It takes about a minute and a half on one core.

>>> [c.name for c in configs()][:2]
['1x1, stride 1', '3x3, stride 1']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .deep_experiment import Config, read_csv, run, split

__all__ = ["CHOICES", "SEEDS", "config", "configs", "rows", "read_table"]

CHOICES = ((1, 1), (3, 1), (5, 1), (7, 1), (3, 2), (5, 2))
"""(kernel size, stride) of the first convolution."""
SEEDS = tuple(range(10))
# at most this many training images per class: more than any class has, so all 300
ALL_IMAGES = 300


def config(kernel_size: int, stride: int) -> Config:
    """The configuration of one first layer, with the chapter's training recipe.

    >>> config(5, 2).model
    {'kernel_size': 5, 'stride': 2}
    """
    return Config("kernel", f"{kernel_size}x{kernel_size}, stride {stride}",
                  model={"kernel_size": kernel_size, "stride": stride},
                  train={"epochs": 30, "lr": 3e-3}, per_class=ALL_IMAGES)


def configs() -> list[Config]:
    """One configuration per entry of :data:`CHOICES`, in order."""
    return [config(k, s) for k, s in CHOICES]


def rows(seeds: tuple[int, ...] = SEEDS) -> Iterator[dict[str, Any]]:
    """The last epoch's row of every configuration and seed."""
    data = split()
    for c in configs():
        for seed in seeds:
            yield run(c, seed, data)[1][-1]


def read_table(path: Path | str) -> list[dict[str, Any]]:
    """The committed table, numbers converted (see ``deep_experiment.read_csv``).

    >>> table = read_table("experiments/results/kernel.csv")  # from the repository root
    >>> len(table), sorted({r["seed"] for r in table}) == list(SEEDS)
    (60, True)
    """
    return read_csv(path)
