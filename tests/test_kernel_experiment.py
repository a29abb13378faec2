"""The training chapter's kernel-size table: complete, paired, and reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convlib.models import deep_experiment as dx
from convlib.models import kernel_experiment as kx

TABLE = Path(__file__).resolve().parents[1] / "experiments" / "results" / "kernel.csv"


def test_table_has_every_configuration_and_seed():
    final = dx.final(kx.read_table(TABLE), "kernel", "val_acc")
    assert list(final) == [c.name for c in kx.configs()]
    assert all(len(v) == len(kx.SEEDS) for v in final.values())
    assert all(((v > 0.1) & (v <= 1.0)).all() for v in final.values())


def test_configurations_train_on_all_300_images_with_the_chapter_recipe():
    data = dx.split()
    for c in kx.configs():
        assert len(dx.per_class(data["y_train"], c.per_class)) == 300
        assert c.train == {"epochs": 30, "lr": 3e-3}
    assert kx.config(3, 1).model == {"kernel_size": 3, "stride": 1}


def test_a_row_of_the_table_reruns_within_the_seed_spread():
    committed = dx.final(kx.read_table(TABLE), "kernel", "val_acc")["3x3, stride 2"]
    _, rows = dx.run(kx.config(3, 2), 0)
    spread = np.std(committed, ddof=1)
    assert abs(rows[-1]["val_acc"] - committed[0]) <= 2 * spread + 0.01
