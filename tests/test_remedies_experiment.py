"""The training chapter's remedies table: complete, paired, on the chapter's recipe, and
reproducible; its test accuracy is counted independently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from convlib.models import deep_experiment as dx
from convlib.models import kernel_experiment as kx
from convlib.models import remedies_experiment as rx

RESULTS = Path(__file__).resolve().parents[1] / "experiments" / "results"
TABLE = RESULTS / "remedies.csv"


def test_table_has_every_configuration_and_seed():
    table = rx.read_table(TABLE)
    for column in ("val_acc", "test_acc", "train_acc"):
        for grid in ("remedies", "penalty", "augment"):
            final = dx.final(table, grid, column)
            assert list(final) == [c.name for c in rx.configs() if c.grid == grid]
            assert all(len(v) == len(rx.SEEDS) for v in final.values())
            assert all(((v > 0.1) & (v <= 1.0)).all() for v in final.values())


def test_configurations_use_the_chapter_split_and_recipe():
    data = dx.split()
    names = [(c.grid, c.name) for c in rx.configs()]
    assert len(set(names)) == len(names)
    for c in rx.configs():
        n = len(dx.per_class(data["y_train"], c.per_class))
        if c.grid in ("remedies", "penalty"):
            assert n == 300 and c.train["epochs"] == 30 and c.train["lr"] == 3e-3
        else:
            assert n in (300, 50) and c.steps in (300, 900)
    # 300 steps on all 300 images (batches of 32) are the 30 epochs of the remedies grid,
    # which is why the augment grid borrows its "none" and "strong" rows from there
    assert 300 // -(-300 // 32) == 30
    with pytest.raises(KeyError):
        rx.find("remedies", "nothing")


def test_plain_rows_are_the_kernel_tables_3x3_rows():
    """Same recipe, same seeds, another command: the same runs, within the seed spread
    (bit for bit where both tables were written on one kind of CPU)."""
    plain = dx.final(rx.read_table(TABLE), "remedies", "val_acc")["plain"]
    kernel = dx.final(kx.read_table(RESULTS / "kernel.csv"), "kernel", "val_acc")
    base = kernel["3x3, stride 1"]
    assert len(plain) == len(base)
    assert np.abs(plain - base).max() <= 2 * base.std(ddof=1) + 0.01


def test_run_one_counts_the_test_images_it_gets_right():
    data = dx.split()
    config = dx.Config("demo", "tiny", train={"epochs": 2}, per_class=2)
    row = rx.run_one(config, 0, data)
    model, _ = dx.run(config, 0, data)      # the same seed: the same model
    with torch.no_grad():
        right = int((model(data["x_test"]).argmax(1) == data["y_test"]).sum())
    assert row["test_acc"] == right / len(data["y_test"])
    assert set(rx.FIELDS) == set(row)


def test_a_row_of_the_table_reruns_within_the_seed_spread():
    name = "gentle, 5 per class, 300 steps"
    committed = dx.final(rx.read_table(TABLE), "augment", "val_acc")[name]
    live = rx.run_one(rx.find("augment", name), 1)
    assert abs(live["val_acc"] - committed[1]) <= 2 * committed.std(ddof=1) + 0.01


def test_augment_grid_borrows_the_two_remedies_rows():
    table = rx.read_table(TABLE)
    grid = rx.augment_grid(table, "val_acc")
    remedies = dx.final(table, "remedies", "val_acc")
    assert len(grid) == 3 * 2 * 2 and all(len(v) == len(rx.SEEDS) for v in grid.values())
    assert (grid[("none", 300, 300)] == remedies["plain"]).all()
    assert (grid[("strong", 300, 300)] == remedies["augmentation"]).all()
    gentle = [r["val_acc"] for r in table if r["config"] == "gentle, 5 per class, 900 steps"]
    assert grid[("gentle", 5, 900)].tolist() == gentle
