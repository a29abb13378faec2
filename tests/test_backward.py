"""NumPy backward passes of convolution against torch autograd.

The reference is ``torch.nn.ConvNd`` (which pads by itself for every ``padding_mode``)
differentiated by autograd; convlib's NumPy formulas and its torch path must both match.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SETTINGS, conv_cases, examples

import convlib
from convlib import _windows as W
from convlib import backward as B
from convlib._checks import check_conv
from convlib.backward import conv1d_backward, conv2d_backward, conv3d_backward
from convlib.padding import pad_spatial

BACKWARD = {1: conv1d_backward, 2: conv2d_backward, 3: conv3d_backward}
MODULES = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
MODES = ("zeros", "reflect", "replicate", "circular")
# torch's own remark about even kernels with padding="same"; not about convlib
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

TOL = {np.float64: 1e-10, np.float32: 1e-4}

BACKWARD_SETTINGS = settings(max_examples=examples(150), **SETTINGS)


def make_arrays(case, dtype):
    rng = np.random.default_rng(case["seed"])
    nd = len(case["kernel"])
    x = rng.normal(size=(case["n"], case["c_in"], *case["spatial"])).astype(dtype)
    w = rng.normal(size=(case["c_out"], case["c_in"] // case["groups"],
                         *case["kernel"])).astype(dtype)
    b = rng.normal(size=case["c_out"]).astype(dtype)
    module = MODULES[nd](case["c_in"], case["c_out"], case["kernel"], stride=case["stride"],
                         padding=case["padding"], dilation=case["dilation"],
                         groups=case["groups"], padding_mode=case["padding_mode"],
                         dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(w.astype(np.float64)))
        module.bias.copy_(torch.from_numpy(b.astype(np.float64)))
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    y = module(xt)
    g = rng.normal(size=tuple(y.shape)).astype(dtype)
    y.backward(torch.from_numpy(g.astype(np.float64)))
    expected = (xt.grad.numpy(), module.weight.grad.numpy(), module.bias.grad.numpy())
    return g, x, w, expected


def options(case):
    return {k: case[k] for k in ("stride", "padding", "dilation", "groups", "padding_mode")}


def assert_close(actual, expected, rel, name):
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    scale = max(np.abs(expected).max(initial=0.0), 1.0)
    err = np.abs(np.asarray(actual, dtype=np.float64) - expected).max(initial=0.0)
    assert err <= rel * scale, f"{name}: max error {err:.3g} > {rel:g} * {scale:.3g}"


def check_case(case, dtype):
    g, x, w, expected = make_arrays(case, dtype)
    nd = len(case["kernel"])
    got = BACKWARD[nd](g, x, w, **options(case))
    for name, a, e in zip(("grad_input", "grad_weight", "grad_bias"), got, expected):
        assert a.dtype == dtype, f"{name} has dtype {a.dtype}, expected {dtype}"
        assert_close(a, e, TOL[dtype], name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_numpy_backward_matches_autograd(nd, dtype):
    @BACKWARD_SETTINGS
    @given(conv_cases(nd, unit_stride_often=True))
    def run(case):
        check_case(case, dtype)

    run()


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_torch_backend_matches_autograd(nd):
    @settings(BACKWARD_SETTINGS, max_examples=examples(40))
    @given(conv_cases(nd, unit_stride_often=True))
    def run(case):
        g, x, w, expected = make_arrays(case, np.float64)
        got = BACKWARD[nd](torch.from_numpy(g), torch.from_numpy(x), torch.from_numpy(w),
                           **options(case))
        for name, a, e in zip(("grad_input", "grad_weight", "grad_bias"), got, expected):
            assert isinstance(a, torch.Tensor), f"{name} is not a tensor"
            assert_close(a.numpy(), e, 1e-10, name)

    run()


@settings(BACKWARD_SETTINGS, max_examples=examples(60))
@given(conv_cases(2, unit_stride_often=True), st.sampled_from(["im2col", "loops"]))
def test_grad_input_is_the_transposed_convolution(case, method):
    """The module docstring's formula, computed with conv2d: dilate grad_output by the
    stride, pad it by d*(k-1), correlate with the flipped kernel, in/out channels swapped;
    then fold the padding back."""
    g, x, w, _ = make_arrays(case, np.float64)
    p = check_conv(x, w, None, case["stride"], case["padding"], case["dilation"],
                   case["groups"], case["padding_mode"], 2)
    xp_shape = pad_spatial(x, p.pad, p.padding_mode).shape
    spans = [d * (k - 1) for k, d in zip(w.shape[2:], p.dilation)]
    gp = np.zeros((*g.shape[:2], *(n + e for n, e in zip(xp_shape[2:], spans))))
    gp[(slice(None), slice(None), *(slice(e, e + s * (o - 1) + 1, s)
                                   for e, s, o in zip(spans, p.stride, g.shape[2:])))] = g
    groups, c_out, c_g = p.groups, w.shape[0], w.shape[1]
    w_f = w.reshape(groups, c_out // groups, c_g, *w.shape[2:]).swapaxes(1, 2)
    w_f = np.flip(w_f.reshape(groups * c_g, c_out // groups, *w.shape[2:]), axis=(2, 3))
    dxp = convlib.conv2d(gp, np.ascontiguousarray(w_f), dilation=p.dilation, groups=groups,
                         method=method)
    dx, _, _ = conv2d_backward(g, x, w, **options(case))
    np.testing.assert_allclose(B._fold_padding(dxp, p), dx, rtol=1e-10, atol=1e-10)


def test_bias_false_returns_none_and_same_gradients():
    rng = np.random.default_rng(0)
    x, w, g = rng.normal(size=(2, 3, 6)), rng.normal(size=(4, 3, 3)), rng.normal(size=(2, 4, 4))
    dx, dw, db = conv1d_backward(g, x, w, bias=False)
    assert db is None
    dx2, dw2, db2 = conv1d_backward(g, x, w)
    np.testing.assert_array_equal(dx, dx2)
    np.testing.assert_array_equal(db2, g.sum(axis=(0, 2)))


def test_padding_gradient_folds_back():
    """Replicate padding copies the edge: its gradient lands on the edge pixels."""
    x = np.arange(4.0).reshape(1, 1, 4)
    w = np.ones((1, 1, 1))
    g = np.ones((1, 1, 8))
    dx, _, _ = conv1d_backward(g, x, w, padding=2, padding_mode="replicate")
    assert dx.tolist() == [[[3.0, 1.0, 1.0, 3.0]]]
    dx, _, _ = conv1d_backward(g, x, w, padding=2, padding_mode="zeros")
    assert dx.tolist() == [[[1.0, 1.0, 1.0, 1.0]]]
    dx, _, _ = conv1d_backward(g, x, w, padding=2, padding_mode="reflect")
    # reflect pads [0 1 2 3] to [2 1 | 0 1 2 3 | 2 1]: x[1] and x[2] appear three times
    assert dx.tolist() == [[[1.0, 3.0, 3.0, 1.0]]]
    dx, _, _ = conv1d_backward(g, x, w, padding=2, padding_mode="circular")
    assert dx.tolist() == [[[2.0, 2.0, 2.0, 2.0]]]


@pytest.mark.parametrize("budget", [1, 3000, 20000])
def test_chunking_changes_nothing(monkeypatch, budget):
    """Chunks of rows (budget 1), of one or a few images: the same numbers."""
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(5, 2, 7, 6)), rng.normal(size=(4, 1, 3, 2))
    for stride in (1, 2):
        out = ((7 + 2 - 3) // stride + 1, (6 + 2 - 3) // stride + 1)  # spans 3 and 3
        g = rng.normal(size=(5, 4, *out))
        whole = conv2d_backward(g, x, w, stride=stride, padding=1, dilation=(1, 2), groups=2)
        monkeypatch.setattr(B, "_CHUNK_BYTES", budget)
        chunked = conv2d_backward(g, x, w, stride=stride, padding=1, dilation=(1, 2),
                                  groups=2)
        monkeypatch.undo()
        for a, b in zip(whole, chunked):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_parts_run_side_by_side(monkeypatch, chunk_threads):
    """The batch split over three threads (whatever this machine's BLAS uses)."""
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(7, 4, 9, 8)), rng.normal(size=(6, 2, 3, 3))
    g = rng.normal(size=(7, 6, 5, 2))
    opts = dict(stride=(2, 2), padding=(1, 0), dilation=(1, 2), groups=2,
                padding_mode="reflect")
    expected = conv2d_backward(g, x, w, **opts)
    monkeypatch.setattr(W, "blas_threads", lambda: 3)
    monkeypatch.setattr(B, "_CHUNK_BYTES", 200)  # many chunks: the threads are used
    chunk_threads.clear()
    for a, b in zip(conv2d_backward(g, x, w, **opts), expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    if W._controller() is not None:  # threadpoolctl is there: three parts on the pool
        assert len(chunk_threads) == 3, chunk_threads
        assert all(t.startswith("convlib") for t in chunk_threads), chunk_threads


def test_agrees_with_numerical_gradient():
    from convlib.gradcheck import gradcheck

    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(4, 1, 2, 3)), rng.normal(size=4)
    opts = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2,
                padding_mode="circular")

    def forward(x, w, b):
        xp = pad_spatial(torch.from_numpy(x), ((1, 1), (2, 2)), "circular")
        return torch.nn.functional.conv2d(xp, torch.from_numpy(w), torch.from_numpy(b),
                                          (2, 1), 0, (1, 2), 2).numpy()

    g = rng.normal(size=forward(x, w, b).shape)
    grads = conv2d_backward(g, x, w, **opts)
    report = gradcheck(forward, (x, w, b), grads, grad_outputs=g)
    assert report.passed and report.max_abs_error < 1e-7


# --- bad input -------------------------------------------------------------------------


def _arrays(dtype=np.float64):
    x = np.zeros((2, 4, 6, 6), dtype)
    w = np.zeros((6, 2, 3, 3), dtype)
    g = np.zeros((2, 6, 4, 4), dtype)
    return g, x, w


def test_grad_output_shape_must_match_forward_output():
    g, x, w = _arrays()
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the forward "
                                         r"output, \(2, 6, 6, 6\).*got numpy array of shape "
                                         r"\(2, 6, 4, 4\)"):
        conv2d_backward(g, x, w, padding=1, groups=2)


def test_grad_output_ndim():
    g, x, w = _arrays()
    with pytest.raises(ValueError, match=r"grad_output must be 4-D \(N, C_out, H, W\).*"
                                         r"shape \(6, 4, 4\)"):
        conv2d_backward(g[0], x, w, groups=2)


def test_grad_output_channels():
    g, x, w = _arrays()
    with pytest.raises(ValueError, match=r"\(2, 6, 4, 4\).*shape \(2, 5, 4, 4\)"):
        conv2d_backward(g[:, :5], x, w, groups=2)


def test_dtype_mismatch_names_grad_output():
    g, x, w = _arrays()
    with pytest.raises(TypeError, match="input has dtype float64 but grad_output has dtype "
                                        "float32|float32"):
        conv2d_backward(g.astype(np.float32), x, w, groups=2)


def test_mixed_numpy_and_torch():
    g, x, w = _arrays()
    with pytest.raises(TypeError, match="grad_output is a torch array but input is a numpy"):
        conv2d_backward(torch.from_numpy(g), x, w, groups=2)


def test_groups_must_divide_channels():
    g, x, w = _arrays()
    with pytest.raises(ValueError, match=r"input channels \(4\) must be divisible by groups "
                                         r"\(3\)"):
        conv2d_backward(g, x, w, groups=3)


def test_weight_channels_must_match_input():
    g, x, w = _arrays()
    with pytest.raises(ValueError, match=r"weight of shape \(6, 2, 3, 3\) expects 2 input "
                                         r"channels"):
        conv2d_backward(g, x, w)


def test_bad_options_are_named():
    g, x, w = _arrays()
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        conv2d_backward(g, x, w, groups=2, padding_mode="mirror")
    with pytest.raises(ValueError, match="stride must be positive"):
        conv2d_backward(g, x, w, groups=2, stride=0)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        conv2d_backward(g, x, w, groups=2, stride=2, padding="same")
    with pytest.raises(TypeError, match="bias must be True or False"):
        conv2d_backward(g, x, w, groups=2, bias=np.zeros(6))


def test_wrong_input_ndim_for_the_function():
    g, x, w = _arrays()
    # a 4-D input is one unbatched 3-D sample, as in conv3d: then the weight is wrong
    with pytest.raises(ValueError, match=r"weight must be 5-D \(C_out, C_in/groups, D, H, W\)"):
        conv3d_backward(g, x, w, groups=2)
    with pytest.raises(ValueError, match=r"input must be 4-D \(C, D, H, W\) or 5-D "
                                         r"\(N, C, D, H, W\)"):
        conv3d_backward(g, x[0, 0], w, groups=2)


def test_unbatched_input_as_in_conv2d():
    """One sample (C_in, H, W) with its (C_out, H_out, W_out) gradient: the batched
    answer of a batch of one, grad_input unbatched like the input."""
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(3, 6, 5)), rng.normal(size=(4, 3, 3, 3))
    delta = rng.normal(size=(4, 4, 3))
    dx, dw, db = conv2d_backward(delta, x, w, stride=(1, 2), padding=(0, 1))
    ref = conv2d_backward(delta[None], x[None], w, stride=(1, 2), padding=(0, 1))
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dx, ref[0][0])
    np.testing.assert_array_equal(dw, ref[1])
    np.testing.assert_array_equal(db, ref[2])
    with pytest.raises(ValueError, match=r"grad_output must be 3-D \(C_out, H, W: the input is "
                                         r"unbatched\)"):
        conv2d_backward(delta[None], x, w, stride=(1, 2), padding=(0, 1))


def test_with_bias_flag_and_its_old_name():
    g, x, w = _arrays()
    assert conv2d_backward(g, x, w, groups=2, with_bias=False)[2] is None
    assert conv2d_backward(g, x, w, groups=2, bias=False)[2] is None  # deprecated name
    with pytest.raises(TypeError, match="positional"):
        conv2d_backward(g, x, w, 1, 0, 1, 2, "zeros")
