"""Learning rates tuned before architectures or schedules are compared: the two studies
of the deep-networks chapter, each run by one command.

Both studies follow one recipe on the training chapter's digits split
(:func:`~convlib.models.deep_experiment.split`: 300 training, 500 validation and 997 test
images):

1. **sweep**: every configuration is trained at every learning rate of its grid from the
   seeds :data:`SWEEP_SEEDS`; the rate is chosen per configuration by the mean final
   validation accuracy (:func:`choose`);
2. **headline**: every configuration is trained at its chosen rate from the ten seeds
   :data:`SEEDS` (the sweep's runs at that rate are reused for its seeds), seed by seed
   across the configurations so that a stopped run still leaves paired seeds; only these
   runs are evaluated on the test images, once, at the end.

* :func:`depth_rows` (``python -m experiments.depth``, ``results/depth.csv``):
  :class:`~convlib.models.deep.DeepStack` plain (He initialization), with batch norm and
  residual (PyTorch's initialization), ``depth`` 6, 20 and 50, 32 channels; SGD with
  momentum 0.9 at a constant rate from :data:`DEPTH_LRS`; 30 epochs of 10 steps; one row
  per epoch (training loss and accuracy; validation and test at the last epoch only).
* :func:`schedule_rows` (``python -m experiments.schedules``, ``results/schedules.csv``):
  ``DigitsCNN`` with SGD (momentum 0.9) under five schedules, the peak rate from
  :data:`PEAKS`, and AdamW (weight decay 0.01) constant and cosine, 30 epochs; one row per
  run (its last epoch).

>>> choose([{"config": "a", "lr": 0.1, "val_acc": 0.5}, {"config": "a", "lr": 0.01,
...          "val_acc": 0.9}])
{'a': 0.01}
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import schedules
from .deep import DeepStack
from .deep_experiment import split
from .digits import DigitsCNN
from .training import evaluate, make_loader, one_thread, train

__all__ = ["SEEDS", "SWEEP_SEEDS", "DEPTH_LRS", "DEPTHS", "ARCHS", "PEAKS", "ADAMW_LRS",
           "SCHEDULES", "FIELDS", "choose", "configure", "train_one", "depth_rows", "schedule_rows",
           "read_table"]

SEEDS = tuple(range(10))
SWEEP_SEEDS = (0, 1)
DEPTHS = (20, 50, 6)                 # in the order they are run: the headline depths first
DEPTH_LRS = (0.001, 0.003, 0.01, 0.03, 0.1)
DEPTH_EPOCHS = 30
CHANNELS = 32
#: architecture -> DeepStack options
ARCHS = {"plain": {"kind": "plain", "init": "he"},
         "batch norm": {"kind": "bn"},
         "residual": {"kind": "residual"}}
SCHEDULE_EPOCHS = 30
SCHEDULE_SWEEP_SEEDS = (0, 1, 2)
PEAKS = (0.02, 0.05, 0.1, 0.2, 0.4)
ADAMW_LRS = (1e-3, 3e-3, 1e-2, 3e-2)
#: schedule name -> (optimizer, schedule, learning rates of the sweep)
SCHEDULES: dict[str, tuple[str, Callable[[int, int], float] | None, tuple[float, ...]]] = {
    "SGD, constant": ("sgd", None, PEAKS),
    "SGD, warm-up + constant": ("sgd", schedules.constant(warmup=0.1), PEAKS),
    "SGD, step": ("sgd", schedules.step_decay(), PEAKS),
    "SGD, cosine": ("sgd", schedules.cosine(), PEAKS),
    "SGD, one-cycle": ("sgd", schedules.one_cycle(), PEAKS),
    "AdamW, constant": ("adamw", None, ADAMW_LRS),
    "AdamW, cosine": ("adamw", schedules.cosine(), ADAMW_LRS),
}
FIELDS = ["stage", "config", "depth", "lr", "seed", "epoch", "train_loss", "train_acc",
          "val_loss", "val_acc", "test_acc"]


def choose(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The learning rate of every configuration with the highest mean validation accuracy
    over the sweep's seeds (rows that carry ``val_acc``; a tie goes to the smaller rate).

    >>> choose([{"config": "a", "lr": lr, "val_acc": acc}
    ...         for lr, acc in [(0.1, 0.8), (0.01, 0.8), (0.1, 0.9), (0.01, 0.7)]])
    {'a': 0.1}
    """
    acc: dict[str, dict[float, list[float]]] = {}
    for r in rows:
        v = r.get("val_acc")
        if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
            continue
        acc.setdefault(r["config"], {}).setdefault(r["lr"], []).append(v)
    return {name: max(sorted(by_lr), key=lambda lr: np.mean(by_lr[lr]))
            for name, by_lr in acc.items()}


def train_one(model_fn: Callable[[], torch.nn.Module], seed: int,
              data: dict[str, torch.Tensor], **train_opts: Any
              ) -> tuple[torch.nn.Module, list[dict[str, Any]]]:
    """Build ``model_fn()`` from ``seed``, train it on the 300 training images (batches of
    32) and return it with one row per epoch (validation at the last epoch only).

    >>> d = {k: v[:40] for k, v in split().items()}
    >>> _, rows = train_one(DigitsCNN, 0, d, epochs=2, lr=0.05, optimizer="sgd")
    >>> [r["epoch"] for r in rows], 0 <= rows[-1]["val_acc"] <= 1, rows[0]["val_acc"]
    ([1, 2], True, '')
    """
    loader = make_loader(data["x_train"], data["y_train"], batch_size=32)
    torch.manual_seed(seed)
    model = model_fn()
    hist = train(model, loader, None, seed=seed, progress=False, **train_opts)
    with one_thread():
        val_loss, val_acc = evaluate(model, make_loader(data["x_val"], data["y_val"],
                                                        batch_size=500, shuffle=False))
    n = len(hist.train_loss)
    rows = [{"seed": seed, "epoch": e + 1, "train_loss": hist.train_loss[e],
             "train_acc": hist.train_acc[e],
             "val_loss": val_loss if e == n - 1 else "",
             "val_acc": val_acc if e == n - 1 else "", "test_acc": ""}
            for e in range(n)]
    return model, rows


def _test_acc(model: torch.nn.Module, data: dict[str, torch.Tensor]) -> float:
    with one_thread():
        return evaluate(model, make_loader(data["x_test"], data["y_test"], batch_size=1000,
                                           shuffle=False))[1]


def _study(configs: dict[str, tuple[Callable[[], torch.nn.Module], dict[str, Any],
                                    tuple[float, ...]]],
           sweep_seeds: tuple[int, ...], seeds: tuple[int, ...], extra: dict[str, Any],
           last_only: bool) -> Iterator[dict[str, Any]]:
    """Sweep every configuration's rates, choose on validation, repeat at the chosen rate.
    Without ``sweep_seeds`` every configuration must have one rate, used for the seeds."""
    if not sweep_seeds and any(len(c[2]) != 1 for c in configs.values()):
        raise ValueError("without sweep seeds every configuration needs exactly one rate")
    data = split()
    kept: dict[tuple[str, float, int], tuple[torch.nn.Module, list[dict[str, Any]]]] = {}
    sweep: list[dict[str, Any]] = []

    def emit(stage: str, name: str, lr: float, rows: list[dict[str, Any]]
             ) -> Iterator[dict[str, Any]]:
        for r in rows[-1:] if last_only else rows:
            yield {"stage": stage, "config": name, **extra, "lr": lr, **r}

    for name, (model_fn, opts, lrs) in configs.items():
        for lr in lrs:
            for seed in sweep_seeds:
                model, rows = train_one(model_fn, seed, data, lr=lr, **opts)
                kept[name, lr, seed] = model, rows
                sweep.append({"config": name, "lr": lr, "val_acc": rows[-1]["val_acc"]})
                yield from emit("sweep", name, lr, rows)
    # no sweep: every configuration has one rate (the chosen one), only the headline runs
    chosen = choose(sweep) if sweep_seeds else {name: c[2][0] for name, c in configs.items()}
    for seed in seeds:
        for name, (model_fn, opts, _) in configs.items():
            lr = chosen[name]
            if (name, lr, seed) in kept:
                model, rows = kept[name, lr, seed]
            else:
                model, rows = train_one(model_fn, seed, data, lr=lr, **opts)
            rows = [dict(r) for r in rows]
            rows[-1]["test_acc"] = _test_acc(model, data)
            yield from emit("headline", name, lr, rows)


def configure(config: str, depth: int = 0
              ) -> tuple[Callable[[], torch.nn.Module], dict[str, Any], tuple[float, ...]]:
    """The model, the ``train`` options and the learning rates of the sweep of one
    configuration: an architecture of :data:`ARCHS` at ``depth`` layers, or (``depth`` 0)
    a schedule of :data:`SCHEDULES`.

    >>> model_fn, opts, lrs = configure("residual", 6)
    >>> sum(isinstance(m, torch.nn.Conv2d) for m in model_fn().modules()), opts, lrs
    (7, {'epochs': 30, 'optimizer': 'sgd'}, (0.001, 0.003, 0.01, 0.03, 0.1))
    >>> configure("SGD, one-cycle")[2]
    (0.02, 0.05, 0.1, 0.2, 0.4)
    """
    if depth:
        if config not in ARCHS:
            raise ValueError(f"config must be one of {list(ARCHS)}, got {config!r}")
        return (lambda: DeepStack(depth=depth, channels=CHANNELS, **ARCHS[config]),
                {"epochs": DEPTH_EPOCHS, "optimizer": "sgd"}, DEPTH_LRS)
    if config not in SCHEDULES:
        raise ValueError(f"config must be one of {list(SCHEDULES)}, got {config!r}")
    optimizer, schedule, lrs = SCHEDULES[config]
    opts: dict[str, Any] = {"epochs": SCHEDULE_EPOCHS, "optimizer": optimizer,
                            "schedule": schedule}
    if optimizer == "adamw":
        opts["weight_decay"] = 1e-2
    return DigitsCNN, opts, lrs


def depth_rows(depths: tuple[int, ...] = DEPTHS, seeds: tuple[int, ...] = SEEDS,
               sweep_seeds: tuple[int, ...] = SWEEP_SEEDS, lrs: tuple[float, ...] = DEPTH_LRS,
               epochs: int = DEPTH_EPOCHS, archs: tuple[str, ...] = tuple(ARCHS)
               ) -> Iterator[dict[str, Any]]:
    """The rows of the depth study, depth by depth (see the module's docstring). Every
    architecture's rate is chosen on its own, so ``archs`` can split the work."""
    unknown = set(archs) - set(ARCHS)
    if unknown:
        raise ValueError(f"archs must be among {list(ARCHS)}, got {sorted(unknown)}")
    for depth in depths:
        configs = {}
        for name in archs:
            model_fn, opts, _ = configure(name, depth)
            configs[name] = (model_fn, {**opts, "epochs": epochs}, lrs)
        yield from _study(configs, sweep_seeds, seeds, {"depth": depth}, last_only=False)


def schedule_rows(seeds: tuple[int, ...] = SEEDS,
                  sweep_seeds: tuple[int, ...] = SCHEDULE_SWEEP_SEEDS,
                  epochs: int = SCHEDULE_EPOCHS, names: tuple[str, ...] = tuple(SCHEDULES)
                  ) -> Iterator[dict[str, Any]]:
    """The rows of the schedule study (see the module's docstring); every schedule's
    peak is chosen on its own, so ``names`` can split the work."""
    configs = {}
    for name in names:
        model_fn, opts, lrs = configure(name)
        configs[name] = (model_fn, {**opts, "epochs": epochs}, lrs)
    yield from _study(configs, sweep_seeds, seeds, {"depth": ""}, last_only=True)


def read_table(path: Path | str) -> list[dict[str, Any]]:
    """A table written by :func:`depth_rows` or :func:`schedule_rows`, numbers converted
    (an empty cell becomes NaN).

    >>> rows = read_table("experiments/results/schedules.csv")  # from the repository root
    >>> sorted({r["stage"] for r in rows})
    ['headline', 'sweep']
    """
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in FIELDS[2:]:
            if k in ("seed", "epoch"):
                r[k] = int(r[k])
            elif k == "depth":
                r[k] = int(r[k]) if r[k] else 0
            else:
                r[k] = float(r[k]) if r[k] else float("nan")
    return rows
