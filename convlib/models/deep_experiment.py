"""The L1/L2 and deeper-or-wider grids of the deep-networks chapter, run by one command.

``python -m experiments.deep [--csv PATH] [--grid NAME ...]`` (a driver in the repository's
``experiments/`` folder, not part of this package) trains every configuration of the
chosen grids over ten seeds on the digits split of the training chapter (300 training,
500 validation images; the test images are never touched) and writes one CSV row per
configuration and seed. The chapters read the committed table
(``experiments/results/deep.csv``, with :func:`read_csv`) and re-run a few rows live.

Grids:

* ``penalty`` -- ``DigitsCNN`` with Adam: no penalty, L2 added to the gradient (Adam's
  ``weight_decay``), decoupled weight decay (AdamW) and L1; 30 epochs.
* ``width`` -- residual stacks of 2, 6 and 16 layers at about 31 000 parameters.

The training chapter's augmentation grid is :mod:`convlib.models.remedies_experiment`'s
(it borrows :data:`AUGMENTS` from here).

The deep-networks chapter's depth and schedule studies, which tune the learning rate of
every configuration before comparing, are :mod:`convlib.models.lr_study`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .counting import count_parameters
from .deep import DeepStack
from .digits import DigitsCNN
from .training import make_loader, random_shift_rotate, train

__all__ = ["Config", "GRIDS", "SEEDS", "split", "run", "run_grid", "read_csv",
           "find", "final", "curves"]

SEEDS = tuple(range(10))
CURVE_GRIDS: tuple[str, ...] = ()   # grids whose table keeps every epoch (loss curves)
FIELDS = ["grid", "config", "seed", "epoch", "params", "train_loss", "train_acc",
          "val_loss", "val_acc", "weight_norm", "small_weights"]


def split() -> dict[str, torch.Tensor]:
    """The training chapter's split: a permutation of the 1797 digits with seed 0, then
    300 training, 500 validation and 997 test images (returned, never used here).

    >>> d = split()
    >>> tuple(d["x_train"].shape), len(d["y_val"]), len(d["y_test"])
    ((300, 1, 8, 8), 500, 997)
    """
    from ..teaching.data import digits

    images, labels = digits()
    x = torch.tensor(images, dtype=torch.float32)[:, None]
    y = torch.tensor(labels)
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(y)))
    tr, va, te = order[:300], order[300:800], order[800:]
    return {"x_train": x[tr], "y_train": y[tr], "x_val": x[va], "y_val": y[va],
            "x_test": x[te], "y_test": y[te]}


def per_class(y: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the first ``k`` images of every class, in order.

    >>> per_class(torch.tensor([0, 1, 0, 0, 1]), 2).tolist()
    [0, 1, 2, 4]
    """
    return torch.cat([torch.nonzero(y == c)[:k, 0] for c in range(10)]).sort().values


def strong_augment(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The fine-tuning chapter's augmentation (rotation up to 20 degrees, scale, shear,
    shift up to 1.5 pixels, an elastic warp, faint noise).

    >>> strong_augment(torch.zeros(2, 1, 8, 8), torch.Generator().manual_seed(0)).shape
    torch.Size([2, 1, 8, 8])
    """
    from ..transfer.pretrain import augment

    return augment(x, generator)


AUGMENTS = {"none": None, "gentle": random_shift_rotate, "strong": strong_augment}


@dataclass(frozen=True)
class Config:
    """One trained configuration: which model, how it is trained."""

    grid: str
    name: str
    model: dict[str, Any] = field(default_factory=dict)     # DeepStack or DigitsCNN options
    deep: bool = False                                       # DeepStack instead of DigitsCNN
    train: dict[str, Any] = field(default_factory=dict)      # train() options
    per_class: int = 30                                      # training images per class
    steps: int | None = None                                 # optimizer steps (sets epochs)


def _width_configs() -> list[Config]:
    out = []
    for depth in (2, 6, 16):
        channels = min(range(4, 64), key=lambda c: abs(
            count_parameters(DeepStack("residual", depth, c)) - 31_000))
        out.append(Config("width", f"residual, {depth} layers x {channels} channels",
                          {"kind": "residual", "depth": depth, "channels": channels},
                          True, {"epochs": 10, "lr": 0.01, "optimizer": "sgd"}))
    return out


def _grids() -> dict[str, list[Config]]:
    adam = {"epochs": 30, "lr": 3e-3}
    penalty = [
        Config("penalty", "none", train=adam),
        Config("penalty", "Adam + L2 1e-3", train={**adam, "weight_decay": 1e-3}),
        Config("penalty", "AdamW 1e-3", train={**adam, "optimizer": "adamw",
                                               "weight_decay": 1e-3}),
        Config("penalty", "AdamW 1e-1", train={**adam, "optimizer": "adamw",
                                               "weight_decay": 1e-1}),
        Config("penalty", "L1 1e-4", train={**adam, "l1": 1e-4}),
        Config("penalty", "L1 1e-3", train={**adam, "l1": 1e-3}),
    ]
    return {"penalty": penalty, "width": _width_configs()}


GRIDS = _grids()


def run(config: Config, seed: int, data: dict[str, torch.Tensor] | None = None
        ) -> tuple[torch.nn.Module, list[dict[str, Any]]]:
    """Train ``config`` from ``seed``; return the model and one row per epoch.

    >>> _, rows = run(Config("demo", "tiny", train={"epochs": 2}, per_class=2), seed=0)
    >>> [r["epoch"] for r in rows], rows[0]["params"]
    ([1, 2], 6058)
    """
    data = split() if data is None else data
    idx = per_class(data["y_train"], config.per_class)
    loader = make_loader(data["x_train"][idx], data["y_train"][idx], batch_size=32)
    val = make_loader(data["x_val"], data["y_val"], batch_size=500, shuffle=False)
    opts = dict(config.train)
    if config.steps is not None:
        opts["epochs"] = -(-config.steps // len(loader))
    torch.manual_seed(seed)
    model = DeepStack(**config.model) if config.deep else DigitsCNN(**config.model)
    hist = train(model, loader, val, seed=seed, progress=False, **opts)
    weights = torch.cat([m.weight.detach().flatten() for m in model.modules()
                         if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))])
    rows = [{"grid": config.grid, "config": config.name, "seed": seed, "epoch": e + 1,
             "params": count_parameters(model),
             "train_loss": hist.train_loss[e], "train_acc": hist.train_acc[e],
             "val_loss": hist.val_loss[e], "val_acc": hist.val_acc[e],
             "weight_norm": float(weights.norm()),
             "small_weights": float((weights.abs() < 1e-3).float().mean())}
            for e in range(len(hist.train_loss))]
    return model, rows


def run_grid(names: list[str], seeds: tuple[int, ...] = SEEDS) -> Iterator[dict[str, Any]]:
    """Rows of every configuration of the grids ``names``, seed by seed: every epoch for
    the grids in :data:`CURVE_GRIDS`, the last epoch only for the others."""
    data = split()
    for name in names:
        for config in GRIDS[name]:
            for seed in seeds:
                rows = run(config, seed, data)[1]
                yield from rows if name in CURVE_GRIDS else rows[-1:]


def read_csv(path: Path | str) -> list[dict[str, Any]]:
    """The table written by ``python -m experiments.deep``, as dicts with numbers converted.

    >>> rows = read_csv("experiments/results/deep.csv")  # from the repository root
    >>> sorted({r["grid"] for r in rows})
    ['penalty', 'width']
    """
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in FIELDS[2:]:
            r[k] = float(r[k]) if k not in ("seed", "epoch", "params") else int(r[k])
    return rows


def find(grid: str, name: str) -> Config:
    """The configuration called ``name`` in ``grid``.

    >>> find("penalty", "L1 1e-4").train["l1"]
    0.0001
    """
    for config in GRIDS[grid]:
        if config.name == name:
            return config
    raise KeyError(f"no configuration {name!r} in grid {grid!r}")


def curves(rows: list[dict[str, Any]], grid: str, column: str) -> dict[str, np.ndarray]:
    """``column`` per configuration of ``grid`` as an array (seeds x epochs), seeds in order.

    >>> rows = [{"grid": "g", "config": "a", "seed": s, "epoch": e, "val_acc": s + e / 10}
    ...         for s in (0, 1) for e in (1, 2)]
    >>> curves(rows, "g", "val_acc")["a"].tolist()
    [[0.1, 0.2], [1.1, 1.2]]
    >>> final(rows, "g", "val_acc")["a"].tolist()
    [0.2, 1.2]
    """
    out: dict[str, dict[int, dict[int, float]]] = {}
    for r in rows:
        if r["grid"] == grid:
            out.setdefault(r["config"], {}).setdefault(r["seed"], {})[r["epoch"]] = r[column]
    return {name: np.array([[by_epoch[e] for e in sorted(by_epoch)]
                            for _, by_epoch in sorted(seeds.items())])
            for name, seeds in out.items()}


def final(rows: list[dict[str, Any]], grid: str, column: str) -> dict[str, np.ndarray]:
    """``column`` at the last epoch, per configuration of ``grid``: one value per seed."""
    return {name: c[:, -1] for name, c in curves(rows, grid, column).items()}
