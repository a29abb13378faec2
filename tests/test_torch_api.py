"""The corners of torch.nn.functional's API, on both backends, against torch itself.

Unbatched inputs ((C, L), (C, H, W), (C, D, H, W)), zero-size batches, pooling's empty
``stride`` and positional spellings: where torch answers, convlib answers the same; where
torch refuses, convlib refuses with a ValueError or TypeError.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import convlib

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
NUMPY_METHODS = ("loops", "im2col", "gemm", "fft", "auto")
TORCH_METHODS = ("native", "im2col", "auto")


def _both(x):
    return [x, torch.from_numpy(x)]


def _numpy(a):
    return a.detach().numpy() if isinstance(a, torch.Tensor) else a


def _rng(seed=0):
    return np.random.default_rng(seed)


# --- convolution ---------------------------------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("batch", [None, 0])
def test_conv_unbatched_and_empty_batch(nd, mode, batch):
    """(C, *spatial) gives (C_out, *out); (0, C, *spatial) gives (0, C_out, *out)."""
    rng = _rng(nd)
    lead = () if batch is None else (batch,)
    x = rng.normal(size=lead + (4,) + (6,) * nd)
    w = rng.normal(size=(6, 2) + (3,) * nd)
    b = rng.normal(size=6)
    opts = dict(stride=2, padding=1, dilation=1, groups=2, padding_mode=mode)
    module = getattr(torch.nn, f"Conv{nd}d")(4, 6, 3, dtype=torch.float64, **opts)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(w))
        module.bias.copy_(torch.from_numpy(b))
        expected = module(torch.from_numpy(x)).numpy()
    conv = getattr(convlib, f"conv{nd}d")
    for method in NUMPY_METHODS:
        got = conv(x, w, b, method=method, **opts)
        assert got.shape == expected.shape, method
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10, err_msg=method)
    for method in TORCH_METHODS:
        got = conv(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                   method=method, **opts)
        assert isinstance(got, torch.Tensor) and got.shape == expected.shape, method
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("batch", [None, 0])
def test_conv_transpose_unbatched_and_empty_batch(nd, batch):
    rng = _rng(nd)
    lead = () if batch is None else (batch,)
    x = rng.normal(size=lead + (4,) + (3,) * nd)
    w = rng.normal(size=(4, 3) + (2,) * nd)
    b = rng.normal(size=6)
    opts = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    expected = getattr(F, f"conv_transpose{nd}d")(
        torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), **opts).numpy()
    ours = getattr(convlib, f"conv_transpose{nd}d")
    for xs, ws, bs in zip(_both(x), _both(w), _both(b)):
        got = ours(xs, ws, bs, **opts)
        assert type(got) is type(xs) and got.shape == expected.shape
        np.testing.assert_allclose(_numpy(got), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", PADDING_MODES)
def test_conv_backward_empty_batch(nd, mode):
    x = np.zeros((0, 2) + (5,) * nd)
    w = _rng().normal(size=(3, 2) + (3,) * nd)
    g = np.zeros((0, 3) + (5,) * nd)
    backward = getattr(convlib, f"conv{nd}d_backward")
    for gs, xs, ws in zip(_both(g), _both(x), _both(w)):
        dx, dw, db = backward(gs, xs, ws, padding=1, padding_mode=mode)
        assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (3,)
        assert not _numpy(dw).any() and not _numpy(db).any()


def test_choose_conv_method_unbatched():
    x = np.zeros((1, 512, 512), dtype=np.float32)
    assert convlib.choose_conv_method(x, np.zeros((1, 1, 31, 31), np.float32)) == "fft"


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x: convlib.conv2d(x[0, 0], np.zeros((1, 1, 3, 3))), ValueError,
         r"input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\)"),
        (lambda x: convlib.conv1d(x, np.zeros((1, 1, 3))), ValueError,
         r"input must be 2-D \(C, L\) or 3-D \(N, C, L\)"),
        (lambda x: convlib.conv_transpose3d(x[0], np.zeros((1, 1, 2, 2, 2))), ValueError,
         r"input must be 4-D \(C, D, H, W\) or 5-D"),
        (lambda x: convlib.conv2d(x[0], np.zeros((1, 2, 3, 3))), ValueError,
         r"expects 2 input channels .* has 1"),
    ],
)
def test_what_torch_refuses(call, error, match):
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(error, match=match):
        call(x)


# --- pooling -------------------------------------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride", [None, [], ()])
def test_pool_empty_stride_is_the_kernel(nd, stride):
    x = _rng(nd).normal(size=(2, 3) + (7,) * nd)
    for kind in ("max", "avg"):
        expected = getattr(F, f"{kind}_pool{nd}d")(torch.from_numpy(x), 2, stride)
        for xs in _both(x):
            got = getattr(convlib, f"{kind}_pool{nd}d")(xs, 2, stride)
            np.testing.assert_allclose(_numpy(got), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_pool_positional_arguments(nd):
    """torch's order: max (kernel, stride, padding, dilation, ceil_mode, return_indices),
    avg (kernel, stride, padding, ceil_mode, count_include_pad[, divisor_override])."""
    x = _rng(nd).normal(size=(2, 3) + (7,) * nd)
    xt = torch.from_numpy(x)
    max_args = (3, 2, 1, 1, True, True)
    expected = getattr(F, f"max_pool{nd}d")(xt, *max_args)
    avg_args = (3, 2, 1, True, False) + ((2,) if nd > 1 else ())
    expected_avg = getattr(F, f"avg_pool{nd}d")(xt, *avg_args)
    for xs in _both(x):
        value, index = getattr(convlib, f"max_pool{nd}d")(xs, *max_args)
        np.testing.assert_array_equal(_numpy(value), expected[0].numpy())
        np.testing.assert_array_equal(_numpy(index), expected[1].numpy())
        avg = getattr(convlib, f"avg_pool{nd}d")(xs, *avg_args)
        np.testing.assert_allclose(_numpy(avg), expected_avg.numpy(), rtol=1e-12)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_pool_empty_batch(nd):
    x = np.zeros((0, 3) + (6,) * nd)
    xt = torch.from_numpy(x)
    calls = {
        "max": lambda m, a: getattr(m, f"max_pool{nd}d")(a, 2),
        "avg": lambda m, a: getattr(m, f"avg_pool{nd}d")(a, 2),
        "adaptive_max": lambda m, a: getattr(m, f"adaptive_max_pool{nd}d")(a, 3),
        "adaptive_avg": lambda m, a: getattr(m, f"adaptive_avg_pool{nd}d")(a, 3),
    }
    for name, call in calls.items():
        expected = call(F, xt)
        for xs in _both(x):
            assert tuple(call(convlib, xs).shape) == tuple(expected.shape), name
    g = np.zeros((0, 3) + (3,) * nd)
    for kind in ("max", "avg"):
        dx = getattr(convlib, f"{kind}_pool{nd}d_backward")(g, x, 2)
        assert dx.shape == x.shape


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_empty_batch(mode):
    x = np.zeros((0, 2, 5, 5))
    expected = F.pad(torch.from_numpy(x), (1, 2, -1, 1), mode=mode)
    for xs in _both(x):
        assert tuple(convlib.pad(xs, (1, 2, -1, 1), mode=mode).shape) == tuple(expected.shape)
