"""The initialization chapter's Xavier/He table: complete, paired, and reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from convlib.models import init_experiment as ie

TABLE = Path(__file__).resolve().parents[1] / "experiments" / "results" / "init.csv"


def test_table_has_every_initialization_rate_and_seed():
    table = ie.read_table(TABLE)
    assert set(table) == {(n, lr) for n in ie.INITS for lr in ie.LRS}
    for columns in table.values():
        assert all(len(v) == len(ie.SEEDS) for v in columns.values())
        assert ((columns["test_acc"] >= 0) & (columns["test_acc"] <= 1)).all()


def test_plain_cnn_is_fixed_by_its_seed_and_follows_the_initialization():
    a, b = (ie.plain_cnn(ie.INITS["He"], seed=3).state_dict() for _ in range(2))
    assert all(torch.equal(a[k], b[k]) for k in a)
    he = ie.plain_cnn(ie.INITS["He"])[2].weight.detach().numpy()
    xavier = ie.plain_cnn(ie.INITS["Xavier"])[2].weight.detach().numpy()
    # second layer: fan_in = fan_out = 144, so He's variance is twice Xavier's
    assert 1.6 < he.var() / xavier.var() < 2.4


def test_a_row_of_the_table_reruns_within_the_seed_spread():
    committed = ie.read_table(TABLE)[("He", 0.01)]["val_acc"]
    live = ie.run("He", 0.01, 0)["val_acc"]
    assert abs(live - committed[0]) <= 2 * np.std(committed, ddof=1) + 0.01
