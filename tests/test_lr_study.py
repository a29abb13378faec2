"""The learning-rate studies of chapter 10: the choice on validation, the runner's rows,
and the committed tables' structure."""

from pathlib import Path

import numpy as np
import pytest

from convlib.models import lr_study as L
from convlib.models.deep_experiment import split

RESULTS = Path(__file__).resolve().parents[1] / "experiments" / "results"


def test_choose_takes_the_best_mean_validation_accuracy_per_configuration():
    rows = [{"config": c, "lr": lr, "val_acc": acc}
            for c, lr, acc in [("a", 0.01, 0.80), ("a", 0.01, 0.90),    # mean 0.85
                               ("a", 0.1, 0.95), ("a", 0.1, 0.70),      # mean 0.825
                               ("b", 0.01, 0.5), ("b", 0.1, 0.6),
                               ("b", 0.1, float("nan")), ("b", 0.01, "")]]
    # written out by hand: a's best mean is at 0.01; b's NaN/empty cells are not votes
    assert L.choose(rows) == {"a": 0.01, "b": 0.1}


def test_choose_breaks_a_tie_towards_the_smaller_rate():
    rows = [{"config": "a", "lr": lr, "val_acc": 0.9} for lr in (0.3, 0.03, 0.1)]
    assert L.choose(rows) == {"a": 0.03}


def test_study_reuses_sweep_runs_and_tests_only_the_chosen_rate():
    rows = list(L.depth_rows(depths=(2,), seeds=(0, 1, 2), sweep_seeds=(0, 1),
                             lrs=(0.01, 0.1), epochs=2))
    sweep = [r for r in rows if r["stage"] == "sweep"]
    head = [r for r in rows if r["stage"] == "headline"]
    assert len(sweep) == 3 * 2 * 2 * 2 and len(head) == 3 * 3 * 2
    assert all(r["test_acc"] == "" for r in sweep)
    last = [r for r in head if r["epoch"] == 2]
    assert all(0 <= r["test_acc"] <= 1 for r in last)
    chosen = L.choose([r for r in sweep if r["epoch"] == 2])
    assert all(r["lr"] == chosen[r["config"]] for r in head)
    # the headline's seeds 0 and 1 are the sweep's runs at the chosen rate, not new ones
    for r in head:
        if r["seed"] in (0, 1):
            twin = [s for s in sweep if (s["config"], s["lr"], s["seed"], s["epoch"])
                    == (r["config"], r["lr"], r["seed"], r["epoch"])]
            assert twin[0]["train_loss"] == r["train_loss"]


def test_train_one_is_reproducible_and_has_validation_at_the_end_only():
    data = {k: v[:64] for k, v in split().items()}
    from convlib.models.digits import DigitsCNN
    a = L.train_one(DigitsCNN, 3, data, epochs=2, lr=0.05, optimizer="sgd")[1]
    b = L.train_one(DigitsCNN, 3, data, epochs=2, lr=0.05, optimizer="sgd")[1]
    assert a == b
    assert a[0]["val_acc"] == "" and 0 <= a[1]["val_acc"] <= 1


@pytest.mark.parametrize("table", ["depth.csv", "schedules.csv"])
def test_committed_tables_follow_the_recipe(table):
    rows = L.read_table(RESULTS / table)
    sweep = [r for r in rows if r["stage"] == "sweep" and not np.isnan(r["val_acc"])]
    head = [r for r in rows if r["stage"] == "headline"]
    groups = {(r["config"], r["depth"]) for r in sweep}
    for config, depth in groups:
        ours = [r for r in sweep if (r["config"], r["depth"]) == (config, depth)]
        lr = L.choose(ours)[config]
        mine = [r for r in head if (r["config"], r["depth"]) == (config, depth)]
        assert {r["lr"] for r in mine} <= {lr}, (config, depth)
    # test accuracy is in the headline rows only, and only in their last epoch
    assert all(np.isnan(r["test_acc"]) for r in rows if r["stage"] == "sweep")
    tested = [r for r in head if not np.isnan(r["test_acc"])]
    assert tested and all(np.isfinite(r["val_acc"]) for r in tested)
