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
    lr = ft.Recipe().lr_for("discriminative")
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
    assert len(runs) == len(set(runs)) == 7 * 4 * 10  # strategies x budgets x seeds
    sides = ft.side_grid()  # (7 reference + 6 + 6 + 7 + 7) strategies x 5 seeds
    assert len(sides) == len(set(sides)) == 33 * 5
    assert ("narrow", "noisy", "scratch", 5, 0) not in sides
    assert ("narrow8", "noisy", "head", 5, 4) in sides and ("broad", "noisy", "full", 5, 4) in sides
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

    def runs(rows):
        return {(r.source, r.target, r.strategy, r.budget, r.seed) for r in rows}

    main = [r for r in ft.recipe_rows(rows) if (r.source, r.target) == ("broad", "noisy")]
    assert runs(main) == set(ft.grid())  # each strategy at its own rate
    side = ft.recipe_rows(rows, ft.SIDE_RECIPE)  # every strategy at the shared rate
    assert set(ft.side_grid()) <= runs(side)
    # no row twice, and none that neither experiment asked for
    keys = [(r.source, r.target, r.strategy, r.budget, r.seed, r.lr) for r in rows]
    assert len(keys) == len(set(keys)) == len(set(map(id, main)) | set(map(id, side)))
    assert all(0.0 <= r.target_acc <= 1.0 for r in rows)
    assert all(math.isnan(r.source_acc) == (r.strategy == "scratch") for r in rows)


def test_learning_rates_were_chosen_on_validation():
    selection = ft.read_csv(RESULTS / "lr_selection.csv")
    assert {(r.strategy, r.budget, r.seed, r.lr) for r in selection} == {
        (s, 5, k, lr) for s in ft.STRATEGIES for k in (0, 1, 2) for lr in ft.SELECTION_LRS
    }
    assert all(r.target == "noisy" and r.source == "broad" for r in selection)
    chosen = ft.choose_lrs(selection)
    assert chosen == dict(ft.LEARNING_RATES)  # the default recipe is the chosen one ...
    # ... no choice sits at an end of the grid (a wider grid could have found better) ...
    assert not {min(ft.SELECTION_LRS), max(ft.SELECTION_LRS)} & set(chosen.values())
    # ... and the main grid ran with it
    main = [r for r in ft.read_csv(FINETUNE) if r.lr == chosen[r.strategy]]
    assert {(r.strategy, r.budget, r.seed) for r in main if r.target == "noisy"
            and r.source == "broad"} == {(s, b, k) for s in ft.STRATEGIES
                                         for b in ft.BUDGETS for k in ft.SEEDS}  # fmt: skip


def test_choose_lrs_picks_each_strategy_its_best_mean():
    def row(strategy, lr, seed, val):
        return ft.RunResult("broad", "noisy", strategy, 5, seed, lr, val, 0.0, 0.5, 1)

    # full: lr 1e-3 has the best single run but not the best mean over seeds
    rows = [row("full", 1e-3, 0, 0.9), row("full", 1e-3, 1, 0.5),
            row("full", 2e-3, 0, 0.8), row("full", 2e-3, 1, 0.7),
            row("scratch", 1e-3, 0, 0.6), row("scratch", 2e-3, 0, 0.6)]  # fmt: skip
    assert ft.choose_lrs(rows) == {"full": 2e-3, "scratch": 1e-3}  # a tie: the smaller
    assert ft.choose_lr(rows) == 2e-3


def test_recipe_learning_rates(broad):
    recipe = ft.Recipe()
    for strategy, lr in ft.LEARNING_RATES:
        assert recipe.lr_for(strategy) == lr
        _, groups = ft.adapt_model(strategy, broad, recipe=recipe)
        assert max(g["lr"] for g in groups) == lr
    shared = ft.Recipe(lr=3e-3, lrs=())
    assert {shared.lr_for(s) for s in ft.STRATEGIES} == {3e-3}
    assert ft.finetune("probe", 1, 0, recipe=ft.Recipe(steps=1, lr=3e-3, lrs=())).lr == 3e-3


def test_paired_difference_pairs_by_seed_and_gives_the_t_interval():
    a = [0.61, 0.70, 0.64, 0.72, 0.58, 0.66]
    b = [0.55, 0.69, 0.60, 0.62, 0.57, 0.60]
    rows = [ft.RunResult("broad", "noisy", s, 5, seed, 1e-3, 0.0, acc, 0.5, 1)
            for seed in (3, 0, 5, 1, 4, 2)  # shuffled: pairing must go by seed
            for s, acc in (("full", a[seed]), ("scratch", b[seed]))]  # fmt: skip
    rows.append(ft.RunResult("broad", "noisy", "full", 5, 9, 1e-3, 0.0, 0.99, 0.5, 1))  # unpaired
    d = ft.paired_differences(rows, "full")
    assert d == pytest.approx([x - y for x, y in zip(a, b)])
    mean, low, high, n = ft.paired_difference(rows, "full")
    # by hand: mean +- t_{0.975, n-1} * sd / sqrt(n), t_{0.975, 5} = 2.5706 (tables)
    diffs = [x - y for x, y in zip(a, b)]
    m = sum(diffs) / 6
    sd = math.sqrt(sum((x - m) ** 2 for x in diffs) / 5)
    half = 2.570582 * sd / math.sqrt(6)
    assert n == 6 and mean == pytest.approx(m)
    assert (low, high) == pytest.approx((m - half, m + half), rel=1e-5)
    with pytest.raises(ValueError, match="at least 2 paired seeds"):
        ft.paired_difference(rows, "full", budget=1)


def test_grid_reuses_rows_only_where_the_run_is_unchanged(broad, data):
    recipe = ft.Recipe(steps=2)
    lr = recipe.lr_for("probe")
    # a sentinel that no run could produce: reused, not recomputed
    old = ft.RunResult("broad", "noisy", "probe", 1, 0, lr, 2.0, 2.0, 2.0, 645)
    run = [("broad", "noisy", "probe", 1, 0)]
    assert ft.run_grid(run, recipe, progress=False, reuse=[old]) == [old]
    other_lr = ft.RunResult("broad", "noisy", "probe", 1, 0, 2 * lr, 2.0, 2.0, 2.0, 645)
    (again,) = ft.run_grid(run, recipe, progress=False, reuse=[other_lr])
    assert again.lr == lr and again.target_acc <= 1.0


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
