"""conv1d/2d/3d forward against torch, every method, both backends.

The reference is ``torch.nn.ConvNd`` in float64: it implements every ``padding_mode``
(pad first, then convolve) and the uneven ``padding="same"`` of even kernels by itself.
"""

from __future__ import annotations

import tracemalloc
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SETTINGS, conv_cases, examples

import convlib
from convlib import _windows as W
from convlib import conv as C
from convlib.conv import choose_conv_method, conv1d, conv2d, conv3d, conv_nd_numpy
from convlib.padding import pad_spatial

CONV = {1: conv1d, 2: conv2d, 3: conv3d}
MODULES = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
MODES = ("zeros", "reflect", "replicate", "circular")
NUMPY_METHODS = ("loops", "im2col", "gemm", "fft", "auto")
# torch's own remark about even kernels with padding="same"; not about convlib
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")



def arrays(case, dtype=np.float64):
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=(case["n"], case["c_in"], *case["spatial"])).astype(dtype)
    w = rng.normal(size=(case["c_out"], case["c_in"] // case["groups"], *case["kernel"]))
    b = rng.normal(size=case["c_out"]) if case["bias"] else None
    return x, w.astype(dtype), None if b is None else b.astype(dtype)


def options(case):
    return {k: case[k] for k in ("stride", "padding", "dilation", "groups", "padding_mode")}


def torch_module(case, w, b):
    nd = len(case["kernel"])
    m = MODULES[nd](case["c_in"], case["c_out"], case["kernel"], bias=b is not None,
                    dtype=torch.float64, **options(case))
    with torch.no_grad():
        m.weight.copy_(torch.as_tensor(w, dtype=torch.float64))
        if b is not None:
            m.bias.copy_(torch.as_tensor(b, dtype=torch.float64))
    return m


def reference(case, x, w, b):
    with torch.no_grad():
        return torch_module(case, w, b)(torch.as_tensor(x, dtype=torch.float64)).numpy()


def assert_close32(got, ref):
    """float32: 1e-4 relative to the output's scale (single-precision sums of products)."""
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * max(np.abs(ref).max(), 1.0))


# ----------------------------------------------------------------------------- NumPy


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(150), **SETTINGS)
@given(data=st.data())
def test_numpy_methods_match_torch_float64(nd, data):
    case = data.draw(conv_cases(nd))
    x, w, b = arrays(case)
    ref = reference(case, x, w, b)
    for method in NUMPY_METHODS:
        got = CONV[nd](x, w, b, method=method, **options(case))
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10, err_msg=method)


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(60), **SETTINGS)
@given(data=st.data())
def test_numpy_methods_match_torch_float32(nd, data):
    case = data.draw(conv_cases(nd))
    x, w, b = arrays(case, np.float32)
    ref = reference(case, x, w, b)
    for method in ("gemm", "im2col", "fft", "loops"):
        assert_close32(CONV[nd](x, w, b, method=method, **options(case)), ref)


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(60), **SETTINGS)
@given(data=st.data(), channels_last=st.booleans(), budget=st.sampled_from([1, 200, 4000]))
def test_im2col_layouts_and_row_chunks(nd, data, channels_last, budget):
    """Both gemm layouts, with chunks of whole images, of a few rows and of one row."""
    case = data.draw(conv_cases(nd))
    x, w, b = arrays(case)
    ref = reference(case, x, w, b)
    with mock.patch.object(C, "_CHANNELS_LAST_MIN", 1 if channels_last else 10**9), \
            mock.patch.object(C, "_CHUNK_BYTES", budget):
        got = CONV[nd](x, w, b, method="gemm", **options(case))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("images", [1, 6])
def test_chunks_on_threads(monkeypatch, chunk_threads, channels_last, images):
    """Chunks on the thread pool (as when BLAS has several threads) fill every output row."""
    monkeypatch.setattr(W, "blas_threads", lambda: 2)
    monkeypatch.setattr(C, "_CHANNELS_LAST_MIN", 1 if channels_last else 10**9)
    monkeypatch.setattr(C, "_CHUNK_BYTES", 2000)
    rng = np.random.default_rng(6)
    x = rng.normal(size=(images, 4, 13, 11))
    w = rng.normal(size=(6, 2, 3, 3))
    got = conv2d(x, w, stride=(1, 2), padding=(2, 1), groups=2, method="gemm")
    ref = F_conv(x, w, stride=(1, 2), padding=(2, 1), groups=2)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)
    if W._controller() is not None:  # threadpoolctl is there: the pool must have run chunks
        assert len(chunk_threads) > 2, chunk_threads
        assert all(t.startswith("convlib") for t in chunk_threads), chunk_threads


@pytest.mark.parametrize("method", ["gemm", "fft"])
def test_chunks_give_the_same_numbers(monkeypatch, method):
    """Batch chunking must not change the result: force one image per chunk."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4, 9, 8))
    w = rng.normal(size=(6, 2, 3, 2))
    whole = conv2d(x, w, stride=(2, 1), padding=(1, 2), groups=2, method=method)
    monkeypatch.setattr(C, "_CHUNK_BYTES", 1)
    monkeypatch.setattr(C, "_FFT_CHUNK_BYTES", 1)
    chunked = conv2d(x, w, stride=(2, 1), padding=(1, 2), groups=2, method=method)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
    ref = F_conv(x, w, stride=(2, 1), padding=(1, 2), groups=2)
    np.testing.assert_allclose(chunked, ref, rtol=1e-10, atol=1e-10)


def F_conv(x, w, **kw):
    return torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kw).numpy()


def test_larger_shapes_every_method():
    """One realistic layer (depthwise + dilation + reflect) beyond the tiny hypothesis shapes."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 8, 20, 17)).astype(np.float32)
    w = rng.normal(size=(16, 1, 5, 5)).astype(np.float32)
    case = dict(c_in=8, c_out=16, kernel=(5, 5), stride=1, padding="same", dilation=2,
                groups=8, padding_mode="reflect")
    ref = reference(case, x, w, None)
    for method in ("gemm", "im2col", "fft", "auto"):
        assert_close32(conv2d(x, w, method=method, **options(case)), ref)


def test_conv_nd_numpy_on_padded_input():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 7, 6))
    w = rng.normal(size=(4, 2, 3, 3))
    xp = pad_spatial(x, [(2, 1), (0, 2)], "circular")
    for method in ("gemm", "im2col", "loops", "fft"):
        got = conv_nd_numpy(xp, w, (1, 2), (2, 1), 2, method=method)
        ref = torch.nn.functional.conv2d(torch.from_numpy(xp), torch.from_numpy(w),
                                         stride=(1, 2), dilation=(2, 1), groups=2).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)
    out = np.full((2, 4, 6, 3), np.nan)
    assert conv_nd_numpy(xp, w, (1, 2), (2, 1), 2, out=out) is out
    assert not np.isnan(out).any()


def test_choose_conv_method():
    big = np.zeros((1, 1, 256, 256), dtype=np.float32)
    assert choose_conv_method(big, np.zeros((1, 1, 31, 31), np.float32)) == "fft"
    assert choose_conv_method(big, np.zeros((4, 1, 1, 1), np.float32)) == "gemm"
    layer = np.zeros((8, 64, 56, 56), dtype=np.float32)
    assert choose_conv_method(layer, np.zeros((64, 64, 3, 3), np.float32)) == "gemm"
    # an unbatched input is one sample: the same answer
    assert choose_conv_method(big[0], np.zeros((1, 1, 31, 31), np.float32)) == "fft"
    # same decision from tensors: only shapes matter
    assert choose_conv_method(torch.zeros(2, 4, 4096), torch.zeros(4, 4, 257)) == "fft"
    assert choose_conv_method(torch.zeros(2, 4, 4096), torch.zeros(4, 4, 3)) == "gemm"


def test_auto_is_a_real_choice():
    """method="auto" runs the chosen method: its result equals that method's bit for bit."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1, 1, 64, 64))
    for k in (3, 25):
        w = rng.normal(size=(1, 1, k, k))
        chosen = choose_conv_method(x, w)
        np.testing.assert_array_equal(conv2d(x, w, method="auto"), conv2d(x, w, method=chosen))
    assert {choose_conv_method(x, rng.normal(size=(1, 1, k, k))) for k in (3, 25)} == {
        "gemm", "fft"}


def test_public_names_and_dtype():
    x = np.ones((1, 2, 5), dtype=np.float32)
    w = np.ones((3, 2, 2), dtype=np.float32)
    assert convlib.conv1d(x, w).dtype == np.float32
    assert convlib.conv1d(x.astype(np.float64), w.astype(np.float64)).dtype == np.float64
    assert convlib.choose_conv_method is choose_conv_method


def test_memory_stays_bounded_by_chunks():
    """The whole-batch im2col matrix is never built: the peak grows with the chunk, not N.

    (16, 3, 64, 64) with a 7x7 kernel at stride 2: a whole-batch matrix would take
    16 * 32 * 32 * 147 * 4 bytes = 9.6 MB on top of the input and output.
    """
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 3, 64, 64)).astype(np.float32)
    w = rng.normal(size=(8, 3, 7, 7)).astype(np.float32)
    tracemalloc.start()
    try:
        out = conv2d(x, w, stride=2, padding=3, method="gemm")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    whole_batch = 16 * 32 * 32 * 147 * 4
    assert peak - out.nbytes < whole_batch / 2, peak


@pytest.mark.slow
def test_memory_of_the_benchmark_layer():
    """(64, 3, 224, 224) * (64, 3, 7, 7), stride 2, padding 3: at most 256 MB beyond the
    input and output (the whole im2col matrix alone would be ~480 MB)."""
    x = np.ones((64, 3, 224, 224), dtype=np.float32)
    w = np.full((64, 3, 7, 7), 0.01, dtype=np.float32)
    tracemalloc.start()
    try:
        out = conv2d(x, w, stride=2, padding=3, method="gemm")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (64, 64, 112, 112)
    assert peak - out.nbytes <= 256 * 2**20, f"peak {peak / 2**20:.0f} MB"
    np.testing.assert_allclose(out[0, 0, 56, 56], 0.01 * 147, rtol=1e-5)


# ----------------------------------------------------------------------------- torch


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(60), **SETTINGS)
@given(data=st.data())
def test_torch_path_and_gradients_match(nd, data):
    case = data.draw(conv_cases(nd))
    x, w, b = arrays(case)
    module = torch_module(case, w, b)
    xr = torch.from_numpy(x).requires_grad_()
    ref = module(xr)
    grad_out = torch.randn_like(ref)
    ref.backward(grad_out)
    for method in ("auto", "native", "im2col"):
        xt = torch.from_numpy(x).requires_grad_()
        wt = torch.from_numpy(w).requires_grad_()
        bt = None if b is None else torch.from_numpy(b).requires_grad_()
        got = CONV[nd](xt, wt, bt, method=method, **options(case))
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
        torch.testing.assert_close(got, ref.detach(), rtol=1e-10, atol=1e-10)
        got.backward(grad_out)
        torch.testing.assert_close(xt.grad, xr.grad, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(wt.grad, module.weight.grad, rtol=1e-10, atol=1e-10)
        if b is not None:
            torch.testing.assert_close(bt.grad, module.bias.grad, rtol=1e-10, atol=1e-10)


def test_torch_unfold_is_the_old_name_of_im2col():
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(conv2d(x, w, method="unfold"), conv2d(x, w, method="im2col"),
                               rtol=0, atol=0)


@pytest.mark.parametrize("method", ["native", "im2col"])
def test_torch_float32(method):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 9, 9, generator=g)
    w = torch.randn(6, 2, 3, 3, generator=g)
    got = conv2d(x, w, stride=2, padding=1, groups=2, method=method)
    assert got.dtype == torch.float32
    ref = torch.nn.functional.conv2d(x.double(), w.double(), stride=2, padding=1, groups=2)
    assert_close32(got.numpy(), ref.numpy())


@pytest.mark.gpu
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("method", ["native", "im2col"])
def test_cuda_matches_cpu(nd, method):
    g = torch.Generator().manual_seed(nd)
    x = torch.randn(2, 4, *(9,) * nd, dtype=torch.float64, generator=g)
    w = torch.randn(6, 2, *(3,) * nd, dtype=torch.float64, generator=g)
    b = torch.randn(6, dtype=torch.float64, generator=g)
    kw = dict(stride=2, padding=1, dilation=1, groups=2, padding_mode="reflect", method=method)
    cpu = CONV[nd](x, w, b, **kw)
    xc, wc, bc = (t.cuda().requires_grad_() for t in (x, w, b))
    gpu = CONV[nd](xc, wc, bc, **kw)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-10, atol=1e-10)
    gpu.sum().backward()
    xg = x.clone().requires_grad_()
    CONV[nd](xg, w, b, **kw).sum().backward()
    torch.testing.assert_close(xc.grad.cpu(), xg.grad, rtol=1e-10, atol=1e-10)
