"""The initialization chapter's training comparison, over ten paired seeds, by one command.

``python -m experiments.init`` (in the repository, not the package) trains the
chapter's plain network (:func:`plain_cnn`: ten 3x3 convolutions with ReLU, no batch norm,
no shortcuts, then a linear classifier) on the first 500 digits, with SGD (momentum 0.9), batches of
50, for 10 epochs, once per initialization (:data:`INITS`), learning rate (:data:`LRS`)
and seed (:data:`SEEDS`). It writes one CSV row per run: the final training loss,
validation accuracy (digits 500-999) and test accuracy (digits 1000 onwards). The
chapter chooses each initialization's learning rate on validation and compares the two
on the test digits, seed by seed; it reads the committed table
(``experiments/results/init.csv``) and checks it against its own live runs.

>>> sorted(INITS), LRS
(['He', 'Xavier'], (0.005, 0.01, 0.02, 0.05))
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import init
from .training import evaluate, make_loader, train

__all__ = ["INITS", "LRS", "SEEDS", "plain_cnn", "loaders", "run", "rows",
           "read_table"]

WeightMaker = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]

INITS: dict[str, WeightMaker] = {
    "Xavier": lambda s, r: init.xavier_normal(s, rng=r),
    "He": lambda s, r: init.kaiming_normal(s, nonlinearity="relu", rng=r),
}
"""The two initializations compared, as functions of (shape, generator)."""
LRS = (0.005, 0.01, 0.02, 0.05)
SEEDS = tuple(range(10))
FIELDS = ["init", "lr", "seed", "train_loss", "val_acc", "test_acc"]


def plain_cnn(make_weight: WeightMaker, depth: int = 10, ch: int = 16,
              seed: int = 0) -> nn.Sequential:
    """``depth`` 3x3 convolutions with ReLU (weights from ``make_weight``, zero biases),
    then a linear classifier of the 8x8 maps; ``seed`` fixes every random number.

    >>> plain_cnn(INITS["He"], depth=2)(torch.zeros(1, 1, 8, 8)).shape
    torch.Size([1, 10])
    """
    torch.manual_seed(seed)
    r = np.random.default_rng(seed)
    layers: list[nn.Module] = []
    for k in range(depth):
        conv = nn.Conv2d(1 if k == 0 else ch, ch, 3, padding=1)
        with torch.no_grad():
            conv.weight.copy_(torch.tensor(make_weight(tuple(conv.weight.shape), r)))
            conv.bias.zero_()
        layers += [conv, nn.ReLU()]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch * 64, 10))


def loaders() -> tuple[Any, Any, Any]:
    """Training (digits 0-499), validation (500-999) and test (1000-) loaders."""
    from ..teaching.data import digits

    images, labels = digits()
    x = torch.tensor(images, dtype=torch.float32)[:, None]
    y = torch.tensor(labels)
    return (make_loader(x[:500], y[:500], batch_size=50),
            make_loader(x[500:1000], y[500:1000], batch_size=500, shuffle=False),
            make_loader(x[1000:], y[1000:], batch_size=1000, shuffle=False))


def run(name: str, lr: float, seed: int, data: tuple[Any, Any, Any] | None = None
        ) -> dict[str, Any]:
    """Train one network; its row of the table."""
    train_loader, val_loader, test_loader = loaders() if data is None else data
    model = plain_cnn(INITS[name], seed=seed)
    hist = train(model, train_loader, val_loader, epochs=10, lr=lr, optimizer="sgd",
                 seed=seed, progress=False)
    return {"init": name, "lr": lr, "seed": seed, "train_loss": hist.train_loss[-1],
            "val_acc": hist.val_acc[-1], "test_acc": evaluate(model, test_loader)[1]}


def rows(seeds: tuple[int, ...] = SEEDS) -> Iterator[dict[str, Any]]:
    """Every initialization, learning rate and seed, in that order."""
    data = loaders()
    for name in INITS:
        for lr in LRS:
            for seed in seeds:
                yield run(name, lr, seed, data)


def read_table(path: Path | str) -> dict[tuple[str, float], dict[str, np.ndarray]]:
    """The committed table: ``{(init, lr): {column: one value per seed, seeds in order}}``.

    >>> table = read_table("experiments/results/init.csv")  # from the repository root
    >>> len(table), len(table[("He", 0.02)]["test_acc"])
    (8, 10)
    """
    out: dict[tuple[str, float], dict[int, dict[str, float]]] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["init"], float(r["lr"]))
            out.setdefault(key, {})[int(r["seed"])] = {k: float(r[k]) for k in FIELDS[3:]}
    return {key: {k: np.array([by_seed[s][k] for s in sorted(by_seed)]) for k in FIELDS[3:]}
            for key, by_seed in out.items()}
