"""The fine-tuning experiment's plumbing: checkpoint, data split, strategies, a quick run."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from convlib.models.lora import LoRAConv2d, lora_parameters, merge_lora
from convlib.transfer import finetune as ft
from convlib.transfer import pretrain as pt
from experiments import RESULTS
from experiments import finetune as fx

FINETUNE = RESULTS / "finetune_results.csv"


@pytest.fixture(scope="module")
def broad():
    return pt.load_checkpoint("broad")


@pytest.fixture(scope="module")
def data():
    return pt.transfer_data()


def test_checkpoint_integrity_and_safe_load():
    """Integrity only: the file is the one whose hash was recorded when it was written
    (not damaged or swapped). Whether retraining gives it back is the next tests' job."""
    line = pt.CHECKPOINT.with_suffix(".sha256").read_text().split()
    assert line[1] == pt.CHECKPOINT.name
    assert pt.sha256(pt.CHECKPOINT) == line[0]
    assert pt.CHECKPOINT.stat().st_size < 2**20
    blob = torch.load(pt.CHECKPOINT, weights_only=True)  # no pickled code runs
    assert set(blob) == {"config", "provenance", "broad", "narrow", "narrow8"}
    assert blob["config"]["num_classes"] == {"broad": 40, "narrow": 5, "narrow8": 5}
    assert {"cpu", "cpu_capability", "numpy", "torch"} <= set(blob["provenance"])
    assert blob["broad"]["head.5.weight"].shape == (40, 128)
    assert all(t.dtype == torch.float32 for t in blob["narrow"].values())


def test_checkpoint_networks_learned_their_source_tasks():
    # narrow8 sees turned and mirrored digits: a harder job than upright ones
    for source, floor in (("narrow", 0.9), ("narrow8", 0.7)):
        model = pt.load_checkpoint(source)
        assert pt.source_accuracy(model, pt.transfer_data(source=source)) > floor
    # 40 classes; chance is 1/40 and some orientations cannot be told apart (a 0 turned half
    # way round is still a 0), so well above chance is what the broad task allows
    assert pt.source_accuracy(pt.load_checkpoint("broad"), pt.transfer_data()) > 0.5


def test_retraining_reproduces_the_checkpoint():
    """The real check, on the narrow network (the cheapest: about 20 s on an idle core):
    retrain it with the committed settings and compare with the committed weights. Bit for
    bit where the checkpoint was made on this kind of machine; elsewhere the source
    accuracy must agree within the spread over training seeds."""
    retrained = pt.pretrain("narrow", progress=False)
    report = pt.check_against({"narrow": retrained})["narrow"]
    assert report["ok"], report
    if report["same_machine"]:
        assert report["identical"], report


def _checkpoint_made_on(tmp_path, name, provenance):
    """A copy of the committed checkpoint whose provenance says it was made on ``provenance``:
    the rule of :func:`check_against` is tested without depending on the machine that runs
    the test (the committed checkpoint was made on one CPU kind, CI may run on another)."""
    blob = torch.load(pt.CHECKPOINT, weights_only=True)
    blob["provenance"] = provenance
    path = tmp_path / name
    torch.save(blob, path)
    return path


def test_check_against_fails_when_the_claim_is_false(tmp_path):
    here = _checkpoint_made_on(tmp_path, "here.pt", pt.provenance())
    other = _checkpoint_made_on(tmp_path, "other.pt", {**pt.provenance(), "cpu": "another CPU"})
    narrow = pt.load_checkpoint("narrow")
    report = pt.check_against({"narrow": narrow}, here)["narrow"]
    assert report["same_machine"] and report["identical"] and report["ok"]
    # made on this machine: one changed bit is a failure, however small
    nudged = copy.deepcopy(narrow)
    with torch.no_grad():
        w = nudged.features[0].weight
        w[0, 0, 0, 0] = torch.nextafter(w[0, 0, 0, 0], torch.tensor(1.0))  # one bit
    report = pt.check_against({"narrow": nudged}, here)["narrow"]
    assert not report["identical"] and report["same_machine"] and not report["ok"]
    # made on another machine: the same one-bit change is within the accuracy tolerance...
    report = pt.check_against({"narrow": nudged}, other)["narrow"]
    assert not report["same_machine"] and not report["identical"] and report["ok"]
    # ...but a network that learned nothing is caught by its accuracy
    torch.manual_seed(0)
    report = pt.check_against({"narrow": pt.build_model(5)}, other)["narrow"]
    assert not report["same_machine"] and not report["ok"]
    report = pt.check_against({"narrow": narrow}, other)["narrow"]
    assert report["ok"] and report["identical"]


def test_retraining_writes_the_same_bytes(tmp_path):
    """Two independent short pretraining runs, saved under different names: the same
    bytes (same machine). One changed bit in a weight changes the hash."""
    digests = []
    for name in ("a.pt", "other_name.pt"):
        models = {s: pt.pretrain(s, steps=24, progress=False) for s in ("broad", "narrow")}
        digests.append(pt.save_checkpoint(models, tmp_path / name))
    assert digests[0] == digests[1]
    with torch.no_grad():
        b = models["narrow"].head[5].bias
        b[0] = torch.nextafter(b[0], torch.tensor(1.0))
    assert pt.save_checkpoint(models, tmp_path / "c.pt") != digests[0]


def test_pretraining_is_deterministic():
    one = pt.pretrain("narrow", steps=3, progress=False)
    two = pt.pretrain("narrow", steps=3, progress=False)
    for (k, v), w in zip(one.state_dict().items(), two.state_dict().values()):
        assert torch.equal(v, w), k
    three = pt.pretrain("narrow", steps=3, progress=False, seed=1)
    assert not torch.equal(one.features[0].weight, three.features[0].weight)


def test_split_is_fixed_and_disjoint(data):
    again = pt.transfer_data()
    assert torch.equal(data.target_test, again.target_test)
    pool = torch.cat(data.target_pool).flatten(1)
    val = data.target_val.flatten(1)
    test = data.target_test.flatten(1)
    assert len(pool) == 300 and len(val) == 150 and len(test) == 446
    for a, b in ((pool, test), (pool, val), (val, test)):  # no image in two splits
        assert not (torch.cdist(a, b) == 0).any()
    assert torch.equal(data.target_val_labels.bincount(), torch.full((5,), 30))
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
    # the control: the broad source's images, the narrow source's labels
    narrow8 = pt.transfer_data(source="narrow8")
    assert torch.equal(narrow8.source_train, data.source_train)
    assert torch.equal(narrow8.source_train_labels, data.source_train_labels // 8)
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
    for budget in (0, 61, 2.5):
        with pytest.raises(ValueError, match="budget must be an int between 1 and 60"):
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
        for s in ("probe", "head", "partial", "discriminative", "lora"):
            torch.testing.assert_close(models[s][0](x), y, rtol=0, atol=0)

    def trained(s):
        model, groups = models[s]
        return {id(p) for g in groups for p in g["params"]}, model

    ids, probe = trained("probe")
    assert ids == {id(p) for p in probe.head[5].parameters()}
    ids, head = trained("head")  # LoRA without the adapters: the ablation
    assert ids == {id(p) for p in head.head.parameters()} and len(ids) == 4
    ids, partial = trained("partial")
    assert not ids & {id(p) for p in partial.features[0].parameters()}
    assert len(ids) == 6  # conv2, linear1, linear2: weight and bias each
    _, groups = models["discriminative"]
    lr = ft.Recipe().lr
    assert [g["lr"] for g in groups] == pytest.approx([lr / 27, lr / 9, lr / 3, lr])
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
    assert len(runs) == len(set(runs)) == 270
    assert ("narrow", "noisy", "scratch", 5, 0) not in runs
    assert ("narrow8", "noisy", "head", 5, 4) in runs
    rows = [
        ft.RunResult("broad", "noisy", "full", 5, 0, 2e-3, 0.7, 0.75, 0.5, 10),
        ft.RunResult("broad", "noisy", "scratch", 5, 0, 2e-3, 0.5, 1 / 3, math.nan, 12),
    ]
    ft.write_csv(rows, tmp_path / "r.csv")
    back = ft.read_csv(tmp_path / "r.csv")
    assert back[0] == rows[0]
    assert back[1].target_acc == pytest.approx(1 / 3, abs=1e-6) and math.isnan(back[1].source_acc)
    table = ft.format_table(back)
    assert "full" in table and "scratch" in table and "5/class" in table


def test_committed_results_cover_the_grid():
    rows = ft.read_csv(FINETUNE)
    assert {(r.source, r.target, r.strategy, r.budget, r.seed) for r in rows} == set(ft.grid())
    assert all(0.0 <= r.target_acc <= 1.0 for r in rows)
    assert all(math.isnan(r.source_acc) == (r.strategy == "scratch") for r in rows)


def test_learning_rate_was_chosen_on_validation():
    selection = ft.read_csv(RESULTS / "lr_selection.csv")
    assert {r.lr for r in selection} == set(ft.SELECTION_LRS)
    assert {(r.strategy, r.budget, r.seed) for r in selection} == {
        (s, 5, k) for s in ft.STRATEGIES for k in (0, 1, 2)
    }
    chosen = ft.choose_lr(selection)
    assert chosen == ft.Recipe().lr  # the default recipe is the chosen one ...
    assert {r.lr for r in ft.read_csv(FINETUNE)} == {chosen}  # ... and the grid ran with it


def test_committed_results_reproduce(broad, data):
    """One committed row, recomputed (a full 300-step run of the cheapest strategy):
    identical where the checkpoint was made on this kind of machine, else within three
    standard deviations over seeds of its cell of the table."""
    rows = ft.read_csv(FINETUNE)
    key = ("broad", "noisy", "probe", 5)
    cell = [r for r in rows if (r.source, r.target, r.strategy, r.budget) == key]
    (row,) = [r for r in cell if r.seed == 1]
    again = ft.finetune("probe", 5, 1, pretrained=broad, data=data)
    assert again.trainable == row.trainable and again.lr == row.lr
    blob = torch.load(pt.CHECKPOINT, weights_only=True)
    if blob["provenance"] == pt.provenance():
        assert (again.val_acc, again.target_acc) == pytest.approx(
            (row.val_acc, row.target_acc), abs=1e-6
        )
    sd = ft.summarize(cell)[key][1]
    assert abs(again.target_acc - row.target_acc) <= 3 * sd


def test_command_line_quick(capsys):
    assert fx.main(["--quick", "--strategies", "scratch", "probe"]) == 0
    out = capsys.readouterr().out
    assert "broad source -> noisy target" in out and "probe" in out and "5/class" in out
