"""The training chapter's remedies for overfitting, over ten paired seeds, run by one command.

``python -m experiments.remedies`` (in the repository, not the package) trains
``DigitsCNN`` on the chapter's split with the chapter's recipe (Adam, learning rate 3e-3,
batches of 32) in the configurations of :func:`configs`, from each of the ten seeds
:data:`SEEDS`, and writes one CSV row per configuration and seed (the last epoch; the
columns of :mod:`convlib.models.deep_experiment` and ``test_acc``). Three grids:

* ``remedies`` -- all 300 training images, 30 epochs (300 steps): plain, Adam's L2
  ``weight_decay`` 1e-3, dropout 0.3, batch norm, the strong augmentation, a residual
  block, and batch norm + dropout + augmentation.
* ``penalty`` -- AdamW (decoupled weight decay) at 1e-3 and 1e-1; their baselines are the
  ``remedies`` rows "plain" (no penalty) and "weight decay" (Adam's L2 at 1e-3).
* ``augment`` -- no, gentle and strong augmentation with all 300 images or the first 5 of
  each class, for 300 and 900 optimizer steps; the two configurations the ``remedies``
  grid already has (none and strong, 300 images, 300 steps) are read from there.

Every configuration is trained from the same seeds, so two of them can be compared seed by
seed (paired). Rows are written seed by seed, all configurations of a seed together, so a
table cut short still holds complete pairs. ``test_acc`` is computed for every row, but
the chapter reads it only for the configuration it chooses on validation and its
baseline. The chapter reads the committed table (``experiments/results/remedies.csv``)
and re-runs rows of it live.

>>> [c.name for c in configs()][:3]
['plain', 'weight decay', 'dropout']
>>> len(configs()), len(SEEDS)
(19, 10)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .deep_experiment import AUGMENTS, Config, final, read_csv, run, split
from .deep_experiment import FIELDS as DEEP_FIELDS
from .training import evaluate, make_loader

__all__ = ["FIELDS", "SEEDS", "ALL_IMAGES", "configs", "find", "run_one", "rows",
           "read_table", "augment_name", "augment_grid"]

SEEDS = tuple(range(10))
FIELDS = [*DEEP_FIELDS, "test_acc"]
# at most this many training images per class: more than any class has, so all 300
ALL_IMAGES = 300
ADAM = {"epochs": 30, "lr": 3e-3}


def augment_name(augment: str, per_class: int, steps: int) -> str:
    """The name of a configuration of the ``augment`` grid.

    >>> augment_name("gentle", 5, 900), augment_name("none", ALL_IMAGES, 300)
    ('gentle, 5 per class, 900 steps', 'none, 300 images, 300 steps')
    """
    images = "300 images" if per_class == ALL_IMAGES else f"{per_class} per class"
    return f"{augment}, {images}, {steps} steps"


def configs() -> list[Config]:
    """Every configuration, grid by grid (see the module's docstring).

    >>> find("augment", "gentle, 5 per class, 900 steps").steps
    900
    """
    strong, n = AUGMENTS["strong"], ALL_IMAGES
    remedies = [
        Config("remedies", "plain", train=ADAM, per_class=n),
        Config("remedies", "weight decay", train={**ADAM, "weight_decay": 1e-3}, per_class=n),
        Config("remedies", "dropout", {"dropout": 0.3}, train=ADAM, per_class=n),
        Config("remedies", "batch norm", {"batch_norm": True}, train=ADAM, per_class=n),
        Config("remedies", "augmentation", train={**ADAM, "augment": strong}, per_class=n),
        Config("remedies", "residual", {"residual": True}, train=ADAM, per_class=n),
        Config("remedies", "BN + dropout + aug.", {"batch_norm": True, "dropout": 0.3},
               train={**ADAM, "augment": strong}, per_class=n),
    ]
    penalty = [Config("penalty", f"AdamW {name}", per_class=n,
                      train={**ADAM, "optimizer": "adamw", "weight_decay": lam})
               for name, lam in (("1e-3", 1e-3), ("1e-1", 1e-1))]
    augment = [Config("augment", augment_name(aug, k, steps),
                      train={"lr": 3e-3, "augment": AUGMENTS[aug]}, per_class=k, steps=steps)
               for k in (ALL_IMAGES, 5) for steps in (300, 900) for aug in AUGMENTS
               if not (k == ALL_IMAGES and steps == 300 and aug != "gentle")]
    return remedies + penalty + augment


def find(grid: str, name: str) -> Config:
    """The configuration called ``name`` in ``grid``.

    >>> find("remedies", "dropout").model
    {'dropout': 0.3}
    """
    for c in configs():
        if c.grid == grid and c.name == name:
            return c
    raise KeyError(f"no configuration {name!r} in grid {grid!r}")


def run_one(config: Config, seed: int, data: dict[str, torch.Tensor] | None = None
            ) -> dict[str, Any]:
    """Train ``config`` from ``seed`` (``deep_experiment.run``) and return the last
    epoch's row, with the accuracy on the test images added as ``test_acc``."""
    data = split() if data is None else data
    model, history = run(config, seed, data)
    test = make_loader(data["x_test"], data["y_test"], batch_size=1000, shuffle=False)
    return {**history[-1], "test_acc": evaluate(model, test)[1]}


def rows(seeds: tuple[int, ...] = SEEDS) -> Iterator[dict[str, Any]]:
    """One row per configuration and seed, seed by seed."""
    data = split()
    for seed in seeds:
        for c in configs():
            yield run_one(c, seed, data)


def read_table(path: Path | str) -> list[dict[str, Any]]:
    """The committed table, numbers converted (``test_acc`` too).

    >>> table = read_table("experiments/results/remedies.csv")  # from the repository root
    >>> len(table) == len(configs()) * len(SEEDS)
    True
    """
    table = read_csv(path)
    for r in table:
        r["test_acc"] = float(r["test_acc"])
    return table


def augment_grid(table: list[dict[str, Any]], column: str
                 ) -> dict[tuple[str, int, int], np.ndarray]:
    """``column`` of every (augmentation, images per class, steps) of the ``augment``
    grid, one value per seed, with the two cells it borrows from the ``remedies`` grid
    (300 images and 300 steps, none and strong: "plain" and "augmentation").

    >>> grid = augment_grid(read_table("experiments/results/remedies.csv"), "val_acc")
    >>> len(grid), sorted({k for _, k, _ in grid})
    (12, [5, 300])
    """
    remedies, augment = final(table, "remedies", column), final(table, "augment", column)
    borrowed = {"none": "plain", "strong": "augmentation"}
    return {(aug, k, steps): (remedies[borrowed[aug]]
                              if (k, steps) == (ALL_IMAGES, 300) and aug in borrowed
                              else augment[augment_name(aug, k, steps)])
            for k in (ALL_IMAGES, 5) for steps in (300, 900) for aug in AUGMENTS}
