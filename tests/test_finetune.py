"""The fine-tuning experiment's plumbing: checkpoint, data split, strategies, a quick run."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from convlib.models.lora import LoRAConv2d, lora_parameters, merge_lora
from convlib.transfer import finetune as ft
from convlib.transfer import pretrain as pt


@pytest.fixture(scope="module")
def broad():
    return pt.load_checkpoint("broad")


@pytest.fixture(scope="module")
def data():
    return pt.transfer_data()


def test_checkpoint_hash_and_safe_load():
    line = pt.CHECKPOINT.with_suffix(".sha256").read_text().split()
    assert line[1] == pt.CHECKPOINT.name
    assert pt.sha256(pt.CHECKPOINT) == line[0]
    assert pt.CHECKPOINT.stat().st_size < 2**20
    blob = torch.load(pt.CHECKPOINT, weights_only=True)  # no pickled code runs
    assert set(blob) == {"config", "broad", "narrow"}
    assert blob["config"]["num_classes"] == {"broad": 40, "narrow": 5}
    assert blob["broad"]["head.5.weight"].shape == (40, 128)
    assert all(t.dtype == torch.float32 for t in blob["narrow"].values())


def test_checkpoint_networks_learned_their_source_tasks():
    narrow = pt.load_checkpoint("narrow")
    assert pt.source_accuracy(narrow, pt.transfer_data(source="narrow")) > 0.9
    # 40 classes; chance is 1/40 and some orientations cannot be told apart (a 0 turned half
    # way round is still a 0), so well above chance is what the broad task allows
    assert pt.source_accuracy(pt.load_checkpoint("broad"), pt.transfer_data()) > 0.5


def test_save_checkpoint_is_byte_reproducible(tmp_path):
    models = {s: pt.load_checkpoint(s) for s in pt.SOURCES}
    a = pt.save_checkpoint(models, tmp_path / "a.pt")
    b = pt.save_checkpoint(models, tmp_path / "other_name.pt")
    assert a == b == pt.sha256(pt.CHECKPOINT)  # same weights, same bytes, any file name


def test_pretraining_is_deterministic():
    one = pt.pretrain("narrow", steps=3, progress=False)
    two = pt.pretrain("narrow", steps=3, progress=False)
    for (k, v), w in zip(one.state_dict().items(), two.state_dict().values()):
        assert torch.equal(v, w), k


def test_split_is_fixed_and_disjoint(data):
    again = pt.transfer_data()
    assert torch.equal(data.target_test, again.target_test)
    pool = torch.cat(data.target_pool).flatten(1)
    test = data.target_test.flatten(1)
    assert not (torch.cdist(pool, test) == 0).any()  # no labelled image is a test image
    assert data.source_train_labels.max() == 39 and data.target_test_labels.max() == 4
    # the target images are the scanner's: same noise as the noisy source test images
    clean = pt.transfer_data("clean")
    noise = data.target_test - clean.target_test
    assert abs(float(noise.std()) - pt.NOISE) < 0.02
    inverted = pt.transfer_data("inverted")
    torch.testing.assert_close(inverted.target_test, 1 - clean.target_test + noise)
    # the narrow source task: the upright images of the broad one, digit labels only
    narrow = pt.transfer_data(source="narrow")
    n = len(narrow.source_train)
    assert torch.equal(data.source_train[:n], narrow.source_train)
    assert torch.equal(data.source_train_labels[:n], 8 * narrow.source_train_labels)
    with pytest.raises(ValueError, match="target must be one of"):
        pt.transfer_data("blurred")
    with pytest.raises(ValueError, match="source must be one of"):
        pt.transfer_data(source="wide")


def test_orientations_are_the_eight_symmetries():
    x = torch.arange(9.0).reshape(1, 1, 3, 3)
    views = pt.orientations(x)
    assert len({tuple(v.flatten().tolist()) for v in views}) == 8
    assert torch.equal(views[2], torch.flip(x, (-2, -1)))  # half turn
    assert torch.equal(views[4], torch.flip(x, (-1,)))  # mirror


def test_labelled_subset(data):
    x, y = ft.labelled_subset(data, 5, seed=3)
    assert x.shape == (25, 1, 8, 8) and torch.equal(y, torch.arange(5).repeat_interleave(5))
    x2, _ = ft.labelled_subset(data, 5, seed=3)
    x3, _ = ft.labelled_subset(data, 5, seed=4)
    assert torch.equal(x, x2) and not torch.equal(x, x3)
    for budget in (0, 91, 2.5):
        with pytest.raises(ValueError, match="budget must be an int between 1 and 90"):
            ft.labelled_subset(data, budget, seed=0)


def test_strategies_start_where_they_should(broad):
    x = torch.randn(4, 1, 8, 8)
    models = {s: ft.adapt_model(s, broad, seed=1) for s in ft.STRATEGIES}
    full, _ = models["full"]
    scratch, _ = models["scratch"]
    # pretrained body, new final layer: full fine-tuning starts from the source's conv weights
    assert torch.equal(full.features[0].weight, broad.features[0].weight)
    assert torch.equal(full.head[2].weight, broad.head[2].weight)
    assert full.head[5].weight.shape == (5, 128)
    assert not torch.equal(scratch.features[0].weight, broad.features[0].weight)
    # every pretrained strategy computes the same function at the start (LoRA's B is zero)
    with torch.no_grad():
        y = full(x)
        for s in ("probe", "partial", "discriminative", "lora"):
            torch.testing.assert_close(models[s][0](x), y, rtol=0, atol=0)

    def trained(s):
        model, groups = models[s]
        return {id(p) for g in groups for p in g["params"]}, model

    ids, probe = trained("probe")
    assert ids == {id(p) for p in probe.head[5].parameters()}
    ids, partial = trained("partial")
    assert not ids & {id(p) for p in partial.features[0].parameters()}
    assert len(ids) == 6  # conv2, linear1, linear2: weight and bias each
    _, groups = models["discriminative"]
    assert [g["lr"] for g in groups] == pytest.approx([2e-3 / 27, 2e-3 / 9, 2e-3 / 3, 2e-3])
    ids, lora = trained("lora")
    convs = [m for m in lora.modules() if isinstance(m, LoRAConv2d)]
    assert len(convs) == 2
    adapters = {id(p) for p in lora_parameters(lora)}
    assert adapters <= ids and ids - adapters == {id(p) for p in lora.head.parameters()}
    n_adapters = sum(p.numel() for p in lora_parameters(lora))
    assert n_adapters == 4 * (1 * 9 + 32) + 4 * (32 * 9 + 64)
    with pytest.raises(ValueError, match="strategy must be one of"):
        ft.adapt_model("freeze-all", broad)


@pytest.mark.parametrize("strategy", ["probe", "lora"])
def test_quick_run_keeps_frozen_weights_and_is_reproducible(strategy, broad, data):
    recipe = ft.Recipe(steps=20)
    r1, model = ft.finetune(
        strategy, 2, 0, recipe=recipe, pretrained=broad, data=data, return_model=True
    )
    r2 = ft.finetune(strategy, 2, 0, recipe=recipe, pretrained=broad, data=data)
    assert r1 == r2  # bit-for-bit on one machine
    assert 0.0 <= r1.target_acc <= 1.0 and 0.0 <= r1.source_acc <= 1.0
    assert (r1.source, r1.target, r1.budget) == ("broad", "noisy", 2)
    if strategy == "probe":
        # frozen body: the source head on top still scores exactly what the source did
        assert r1.source_acc == pt.source_accuracy(broad, data)
        assert r1.trainable == 128 * 5 + 5
    else:
        base = model.features[0].base
        assert torch.equal(base.weight, broad.features[0].weight)  # conv weights untouched
        assert torch.count_nonzero(model.features[0].lora_B) > 0  # the adapter moved
        x = data.target_test[:64]
        with torch.no_grad():
            y = model(x)
            merged = merge_lora(copy.deepcopy(model))
            torch.testing.assert_close(merged(x), y, rtol=1e-5, atol=1e-5)


def test_finetune_checks_its_data(data):
    with pytest.raises(ValueError, match="data holds source 'broad' and target 'noisy'"):
        ft.finetune("full", 1, 0, target="clean", data=data, recipe=ft.Recipe(steps=1))


def test_grid_and_csv_round_trip(tmp_path):
    runs = ft.grid()
    assert len(runs) == len(set(runs)) == 205
    assert ("narrow", "noisy", "scratch", 5, 0) not in runs
    rows = [
        ft.RunResult("broad", "noisy", "full", 5, 0, 0.75, 0.5, 10),
        ft.RunResult("broad", "noisy", "scratch", 5, 0, 1 / 3, math.nan, 12),
    ]
    ft.write_csv(rows, tmp_path / "r.csv")
    back = ft.read_csv(tmp_path / "r.csv")
    assert back[0] == rows[0]
    assert back[1].target_acc == pytest.approx(1 / 3, abs=1e-6) and math.isnan(back[1].source_acc)
    table = ft.format_table(back)
    assert "full" in table and "scratch" in table and "5/class" in table


def test_committed_results_cover_the_grid():
    rows = ft.read_csv()
    assert {(r.source, r.target, r.strategy, r.budget, r.seed) for r in rows} == set(ft.grid())
    assert all(0.0 <= r.target_acc <= 1.0 for r in rows)
    assert all(math.isnan(r.source_acc) == (r.strategy == "scratch") for r in rows)


def test_committed_results_reproduce(broad, data):
    """One committed row, recomputed (a full 300-step run of the cheapest strategy)."""
    (row,) = [
        r
        for r in ft.read_csv()
        if (r.source, r.target, r.strategy, r.budget, r.seed) == ("broad", "noisy", "probe", 5, 1)
    ]
    again = ft.finetune("probe", 5, 1, pretrained=broad, data=data)
    # the same on this kind of machine; another CPU may round differently, by an image or two
    assert abs(again.target_acc - row.target_acc) <= 3 / len(data.target_test)
    assert again.trainable == row.trainable


def test_command_line_quick(capsys):
    assert ft.main(["--quick", "--strategies", "scratch", "probe"]) == 0
    out = capsys.readouterr().out
    assert "broad source -> noisy target" in out and "probe" in out and "5/class" in out
