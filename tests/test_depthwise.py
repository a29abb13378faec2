"""The depthwise kernel (convlib._depthwise) against torch, and how ``method="auto"``
reaches it: exactly through ``choose_conv_method``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SETTINGS, examples

import convlib.conv as C
from convlib import _depthwise as D
from convlib import _windows as W
from convlib import choose_conv_method, conv1d, conv2d
from convlib._depthwise import conv_depthwise, is_depthwise


def _direct(x, w, stride, pad, dilation, algorithm=None):
    """The kernel itself; ``algorithm`` ("banded", "shifted") forces one of its two."""
    out_sp = W.window_counts(x.shape[2:], w.shape[2:], stride, dilation, pad)
    out = np.empty((x.shape[0], w.shape[0], *out_sp), dtype=x.dtype)
    if algorithm is None:
        return conv_depthwise(x, w, stride, dilation, out, pad)
    kernel = {"banded": D._banded, "shifted": D._flat}[algorithm]
    kernel(x, w, stride, pad, dilation, out)
    return out


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
    got = conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=c,
                 method="depthwise")
    assert got.dtype == x.dtype and got.shape == ref.shape
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, ref, atol=tol * k[0] * k[1], rtol=0)
    direct = _direct(x, w, stride, tuple((p, p) for p in padding), dilation)
    if b is not None:
        direct += b.reshape(1, -1, 1, 1)
    np.testing.assert_array_equal(direct, got)


@settings(max_examples=examples(60), **SETTINGS)
@given(algorithm=st.sampled_from(["banded", "shifted"]), c=st.integers(1, 5),
       mult=st.integers(1, 2), k=st.tuples(st.integers(1, 5), st.integers(1, 5)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       dilation=st.tuples(st.integers(1, 3), st.integers(1, 2)),
       pad=st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                     st.tuples(st.integers(0, 3), st.integers(0, 3))),
       extra=st.tuples(st.integers(0, 30), st.integers(0, 30)), n=st.integers(1, 2),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))
def test_both_algorithms_match_torch(algorithm, c, mult, k, stride, dilation, pad, extra, n,
                                     dtype, seed):
    """Banded products and shifted sums, each forced, on any stride, dilation and
    (asymmetric) padding, wide and narrow maps alike: torch on the padded input."""
    spans = [d * (kk - 1) + 1 for d, kk in zip(dilation, k)]
    size = [max(1, sp - lo - hi) + e for sp, (lo, hi), e in zip(spans, pad, extra)]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *size)).astype(dtype)
    w = rng.standard_normal((c * mult, 1, *k)).astype(dtype)
    (pt, pb), (pl, pr) = pad
    xt = F.pad(torch.from_numpy(x), (pl, pr, pt, pb))
    ref = F.conv2d(xt, torch.from_numpy(w), None, stride, 0, dilation, groups=c).numpy()
    got = _direct(x, w, stride, pad, dilation, algorithm)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, ref, atol=tol * k[0] * k[1], rtol=0)


def test_banded_products_run_where_the_map_is_narrow(monkeypatch):
    """conv_depthwise runs what banded_pays answers: banded products on narrow maps,
    shifted sums on wide ones (and always for 1-D and 3-D)."""
    ran = []
    monkeypatch.setattr(D, "_banded", lambda *a: ran.append("banded"))
    monkeypatch.setattr(D, "_flat", lambda *a: ran.append("shifted"))
    for width in (7, 14, 28, 56, 112):
        x = np.zeros((1, 4, 8, width), np.float32)
        w = np.zeros((4, 1, 3, 3), np.float32)
        _direct(x, w, (1, 1), ((1, 1), (1, 1)), (1, 1))
        assert ran[-1] == ("banded" if width <= D._BANDED_MAX_WIDTHS * 3 else "shifted")
    assert ran == ["banded", "banded", "banded", "shifted", "shifted"]
    assert not D.banded_pays((1, 4, 7), (4, 1, 3))


def test_depthwise_asymmetric_padding_and_conv1d_shape():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((3, 1, 3, 3)).astype(np.float32)
    got = _direct(x, w, (2, 2), ((0, 1), (0, 1)), (1, 1))
    ref = F.conv2d(F.pad(torch.from_numpy(x), (0, 1, 0, 1)), torch.from_numpy(w),
                   stride=2, groups=3).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)
    x1 = rng.standard_normal((2, 4, 11))
    w1 = rng.standard_normal((4, 1, 3))
    ref1 = F.conv1d(torch.from_numpy(x1), torch.from_numpy(w1), padding=1, groups=4).numpy()
    np.testing.assert_allclose(_direct(x1, w1, (1,), ((1, 1),), (1,)), ref1,
                               atol=1e-12, rtol=0)
    np.testing.assert_allclose(conv1d(x1, w1, padding=1, groups=4, method="depthwise"),
                               ref1, atol=1e-12, rtol=0)


@pytest.mark.parametrize("mode", ["reflect", "circular"])
def test_depthwise_with_copy_padding(mode):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((8, 1, 3, 3))
    ref = F.conv2d(F.pad(torch.from_numpy(x), (1, 1, 1, 1), mode=mode),
                   torch.from_numpy(w), groups=4).numpy()
    got = conv2d(x, w, padding=1, groups=4, padding_mode=mode, method="depthwise")
    np.testing.assert_allclose(got, ref, atol=1e-12, rtol=0)


def test_depthwise_method_needs_depthwise_shapes():
    x = np.zeros((1, 4, 5, 5))
    with pytest.raises(ValueError, match=r"groups=2, input \(1, 4, 5, 5\) and weight "
                                         r"\(4, 2, 3, 3\)"):
        conv2d(x, np.zeros((4, 2, 3, 3)), groups=2, method="depthwise")


@pytest.mark.parametrize("shape, kernel, groups", [
    ((2, 32, 56, 56), (32, 1, 3, 3), 32),     # MobileNet 3x3 depthwise
    ((1, 8, 40, 40), (8, 1, 15, 15), 8),      # a large depthwise kernel
    ((2, 16, 20, 20), (16, 16, 3, 3), 1),     # dense
    ((1, 1, 128, 128), (1, 1, 21, 21), 1),    # one large kernel
])
def test_auto_runs_what_the_chooser_answers(monkeypatch, shape, kernel, groups):
    """``method="auto"`` calls the chooser and runs its answer, for every answer."""
    x = np.ones(shape, dtype=np.float32)
    w = np.ones(kernel, dtype=np.float32)
    ran = []
    for name, fn in list(C._FAST.items()):
        def spy(*args, _fn=fn, _name=name, **kw):
            ran.append(_name)
            return _fn(*args, **kw)
        monkeypatch.setitem(C._FAST, name, spy)
    conv2d(x, w, padding=1, groups=groups)
    assert ran == [choose_conv_method(x, w, padding=1, groups=groups)]


def test_chooser_answers_depthwise_for_mobilenet():
    x = np.zeros((1, 144, 56, 56), dtype=np.float32)
    assert choose_conv_method(x, np.zeros((144, 1, 3, 3), np.float32), padding=1,
                              groups=144) == "depthwise"
    best, times = choose_conv_method(x[:, :8, :16, :16], np.ones((8, 1, 3, 3), np.float32),
                                     padding=1, groups=8, measure=True)
    assert best in times and set(times) == {"gemm", "fft", "depthwise"}


@pytest.mark.parametrize("widths", [0, 100])  # shifted sums, banded products
def test_slabs_on_the_shared_thread_policy(monkeypatch, chunk_threads, widths):
    """The slabs go through run_chunks: OMP_NUM_THREADS' pool, whatever os.cpu_count(),
    for both algorithms."""
    monkeypatch.setattr(W, "blas_threads", lambda: 2)
    monkeypatch.setattr(D, "_SLAB_BYTES", 1)  # one channel a slab: many slabs
    monkeypatch.setattr(D, "_BANDED_MAX_WIDTHS", widths)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 9, 9))
    w = rng.standard_normal((6, 1, 3, 3))
    chunk_threads.clear()
    got = conv2d(x, w, padding=1, groups=6, method="depthwise")
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1, groups=6).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12, rtol=0)
    if W._controller() is not None:
        assert len(chunk_threads) == 12, chunk_threads
        assert all(t.startswith("convlib") for t in chunk_threads), chunk_threads


@pytest.mark.parametrize("layer, batch, expected", [
    ((144, 56, 5, 2), 8, "gemm"),        # 5x5 stride 2 on a wide map: gemm measured faster
    ((96, 112, 3, 2), 8, "gemm"),        # 3x3 stride 2 on a wide map: the stride phases cost
    ((672, 14, 5, 1), 8, "depthwise"),   # narrow 5x5 maps: banded products measured faster
    ((1152, 7, 5, 1), 8, "depthwise"),
])
def test_chooser_on_efficientnet_layers(layer, batch, expected):
    """Where every run of ``python -m convlib.bench --depthwise`` gave the same winner
    between the depthwise kernel and gemm, the cost estimate picks it."""
    c, size, k, s = layer
    x = np.zeros((batch, c, size, size), np.float32)
    w = np.zeros((c, 1, k, k), np.float32)
    assert choose_conv_method(x, w, stride=s, padding=k // 2, groups=c) == expected


def test_estimate_grows_with_the_work():
    """The depthwise estimate: linear in the batch, more per value on narrower maps and
    with a stride; the kernel's own choice is the algorithm it estimates."""
    est = D.estimate_seconds
    one = est((1, 144, 56, 56), (144, 1, 3, 3), (1, 1), (1, 144, 56, 56))
    eight = est((8, 144, 56, 56), (144, 1, 3, 3), (1, 1), (8, 144, 56, 56))
    assert eight - 2e-5 == pytest.approx(8 * (one - 2e-5))
    strided = est((1, 144, 56, 56), (144, 1, 3, 3), (2, 2), (1, 144, 28, 28))
    assert strided > (one - 2e-5) / 4 + 2e-5  # a quarter of the outputs, more per value
