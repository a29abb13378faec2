"""Pooling forward and backward against ``torch.nn.functional`` and autograd.

Random tiny cases over every option: 1/2/3-D, with and without the batch dimension,
kernel, stride, padding, dilation, ``ceil_mode``, ``count_include_pad``,
``divisor_override``; values drawn from a normal distribution, from a few integers (ties:
the index must be torch's, the first maximum in window order) or with ``-inf``/NaN mixed
in. float64 must agree to ~1e-10, float32 to ~1e-4; max values and indices exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SETTINGS, adaptive_cases, examples, pool_cases

import convlib
from convlib import pooling as P

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
DTYPES = (np.float64, np.float32)


def make_input(shape, values, seed, dtype):
    rng = np.random.default_rng(seed)
    if values == "ties":
        x = rng.integers(0, 3, size=shape).astype(dtype)
    else:
        x = rng.normal(size=shape).astype(dtype)
    if values == "special":
        x[rng.random(shape) < 0.15] = -np.inf
        x[rng.random(shape) < 0.05] = np.nan
    return x


def options(case):
    return {k: v for k, v in case.items() if k not in ("shape", "values", "seed")}


def torch_grad(fn, x, grad_output, **kwargs):
    xt = torch.from_numpy(x).requires_grad_(True)
    out = fn(xt, **kwargs)
    out = out[0] if isinstance(out, tuple) else out
    out.backward(torch.from_numpy(grad_output))
    return xt.grad.numpy()


def check_backward(name, x, out_shape, seed, **opts):
    """convlib's ``{name}_backward`` against autograd through ``F.{name}``, on an array
    (to the dtype's tolerance) and on a tensor (the same numbers)."""
    dtype = x.dtype.type
    g = np.random.default_rng(seed + 1).normal(size=out_shape).astype(dtype)
    backward = getattr(convlib, f"{name}_backward")
    dx = backward(g, x, **opts)
    assert dx.dtype == dtype and dx.shape == x.shape
    np.testing.assert_allclose(dx, torch_grad(getattr(F, name), x, g, **opts), **TOL[dtype])
    dxt = backward(torch.from_numpy(g), torch.from_numpy(x), **opts)
    np.testing.assert_allclose(dxt.numpy(), dx, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(70), **SETTINGS)
@given(data=st.data())
def test_max_pool_forward_backward(nd, dtype, data):
    case = data.draw(pool_cases(nd, "max"))
    x = make_input(case["shape"], case["values"], case["seed"], dtype)
    opts = options(case)
    ours = getattr(convlib, f"max_pool{nd}d")
    theirs = getattr(F, f"max_pool{nd}d")
    value, index = ours(x, **opts, return_indices=True)
    t_value, t_index = theirs(torch.from_numpy(x), **opts, return_indices=True)
    assert value.dtype == dtype and index.dtype == np.int64
    np.testing.assert_array_equal(value, t_value.numpy())
    np.testing.assert_array_equal(index, t_index.numpy())
    np.testing.assert_array_equal(ours(x, **opts), value)

    # the torch path of convlib answers with torch's own numbers
    tv, ti = ours(torch.from_numpy(x), **opts, return_indices=True)
    assert torch.equal(ti, t_index) and torch.allclose(tv, t_value, equal_nan=True)

    check_backward(f"max_pool{nd}d", x, value.shape, case["seed"], **opts)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(70), **SETTINGS)
@given(data=st.data())
def test_avg_pool_forward_backward(nd, dtype, data):
    case = data.draw(pool_cases(nd, "avg"))
    # infinities and NaN only make avg pooling's numbers NaN; they test nothing here
    values = "normal" if case["values"] == "special" else case["values"]
    x = make_input(case["shape"], values, case["seed"], dtype)
    opts = options(case)
    ours = getattr(convlib, f"avg_pool{nd}d")
    theirs = getattr(F, f"avg_pool{nd}d")
    out = ours(x, **opts)
    expected = theirs(torch.from_numpy(x), **opts)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected.numpy(), **TOL[dtype])
    np.testing.assert_allclose(ours(torch.from_numpy(x), **opts).numpy(), expected.numpy(),
                               **TOL[dtype])

    check_backward(f"avg_pool{nd}d", x, out.shape, case["seed"], **opts)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(40), **SETTINGS)
@given(data=st.data())
def test_adaptive_max_pool(nd, dtype, data):
    case = data.draw(adaptive_cases(nd))
    x = make_input(case["shape"], case["values"], case["seed"], dtype)
    out_size = case["output_size"]
    ours = getattr(convlib, f"adaptive_max_pool{nd}d")
    theirs = getattr(F, f"adaptive_max_pool{nd}d")
    value, index = ours(x, out_size, return_indices=True)
    t_value, t_index = theirs(torch.from_numpy(x), out_size, return_indices=True)
    assert value.dtype == dtype and index.dtype == np.int64
    np.testing.assert_array_equal(value, t_value.numpy())
    np.testing.assert_array_equal(index, t_index.numpy())
    np.testing.assert_array_equal(ours(x, out_size), value)
    tv, ti = ours(torch.from_numpy(x), out_size, return_indices=True)
    assert torch.equal(ti, t_index)

    check_backward(f"adaptive_max_pool{nd}d", x, value.shape, case["seed"],
                   output_size=out_size)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(40), **SETTINGS)
@given(data=st.data())
def test_adaptive_avg_pool(nd, dtype, data):
    case = data.draw(adaptive_cases(nd))
    x = make_input(case["shape"], "normal", case["seed"], dtype)
    out_size = case["output_size"]
    ours = getattr(convlib, f"adaptive_avg_pool{nd}d")
    theirs = getattr(F, f"adaptive_avg_pool{nd}d")
    out = ours(x, out_size)
    expected = theirs(torch.from_numpy(x), out_size).numpy()
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, **TOL[dtype])
    np.testing.assert_allclose(ours(torch.from_numpy(x), out_size).numpy(), expected,
                               **TOL[dtype])

    check_backward(f"adaptive_avg_pool{nd}d", x, out.shape, case["seed"],
                   output_size=out_size)


@settings(max_examples=examples(40), **SETTINGS)
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 5),
                       st.integers(1, 5)),
       batched=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_global_pooling(shape, batched, seed):
    x = np.random.default_rng(seed).normal(size=shape if batched else shape[1:])
    xt = torch.from_numpy(x)
    mean = convlib.global_avg_pool2d(x)
    assert mean.shape == x.shape[:-2] + (1, 1)
    np.testing.assert_allclose(mean, xt.mean(dim=(-2, -1), keepdim=True).numpy(),
                               **TOL[np.float64])
    value, index = convlib.global_max_pool2d(x, return_indices=True)
    t_value, t_index = F.adaptive_max_pool2d(xt, 1, return_indices=True)
    np.testing.assert_array_equal(value, xt.amax(dim=(-2, -1), keepdim=True).numpy())
    np.testing.assert_array_equal(index, t_index.numpy())
    assert torch.equal(convlib.global_max_pool2d(xt), t_value)


def test_tie_goes_to_first_maximum_in_window_order():
    # one plateau of equal values: every window reports its first in-input position
    x = np.ones((1, 1, 3, 3))
    _, index = convlib.max_pool2d(x, 3, stride=1, padding=1, return_indices=True)
    _, t_index = F.max_pool2d(torch.from_numpy(x), 3, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(index, t_index.numpy())
    assert index[0, 0].tolist() == [[0, 0, 1], [0, 0, 1], [3, 3, 4]]


def test_nan_propagates_like_torch():
    x = np.array([[[np.nan, 1.0, np.nan, 3.0, -np.inf, -np.inf]]])
    value, index = convlib.max_pool1d(x, 3, stride=1, padding=1, return_indices=True)
    t_value, t_index = F.max_pool1d(torch.from_numpy(x), 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(value, t_value.numpy())
    np.testing.assert_array_equal(index, t_index.numpy())


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_empty_batch(nd):
    x = np.zeros((0, 2) + (4,) * nd)
    out, index = getattr(convlib, f"max_pool{nd}d")(x, 2, return_indices=True)
    assert out.shape == index.shape == (0, 2) + (2,) * nd
    assert getattr(convlib, f"avg_pool{nd}d")(x, 2).shape == (0, 2) + (2,) * nd
    g = np.zeros(out.shape)
    assert getattr(convlib, f"max_pool{nd}d_backward")(g, x, 2).shape == x.shape
    assert getattr(convlib, f"avg_pool{nd}d_backward")(g, x, 2).shape == x.shape


def test_ceil_mode_edge_window_divisor():
    # 5 inputs, kernel 2, stride 2: the third window holds only x[4]; with padding 1 the
    # last window overhangs the right padding, which never counts in the divisor
    x = np.arange(1.0, 6.0).reshape(1, 1, 5)
    out = convlib.avg_pool1d(x, 2, ceil_mode=True)
    np.testing.assert_allclose(out, [[[1.5, 3.5, 5.0]]])
    for include in (True, False):
        ours = convlib.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=include)
        theirs = F.avg_pool1d(torch.from_numpy(x), 3, 2, 1, ceil_mode=True,
                              count_include_pad=include)
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)


def convlib_lines_run(fn, *args, **kwargs):
    """Call fn and count the lines of convlib's own Python code it executes (a deterministic
    measure of Python-level work, unlike a timing)."""
    import sys

    package = str(Path(convlib.__file__).parent)
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if not frame.f_code.co_filename.startswith(package):
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        result = fn(*args, **kwargs)
    finally:
        sys.settrace(None)
    return result, count


def test_backward_is_vectorised_on_a_large_input():
    # a 64-channel 56x56 feature map pooled to 28x28: 200,704 output pixels. A Python loop
    # over pixels (or over channels and rows) would run at least one line per iteration.
    x = np.random.default_rng(0).normal(size=(4, 64, 56, 56)).astype(np.float32)
    out, lines_fwd = convlib_lines_run(convlib.max_pool2d, x, 3, 2, 1)
    dx, lines_max = convlib_lines_run(convlib.max_pool2d_backward, np.ones_like(out), x, 3, 2, 1)
    avg, lines_avg = convlib_lines_run(convlib.avg_pool2d_backward, np.ones_like(out), x, 3, 2, 1)
    rows = x.shape[0] * x.shape[1] * out.shape[-2]  # 7,168 (image, channel, output row) triples
    assert max(lines_fwd, lines_max, lines_avg) < rows / 4, (lines_fwd, lines_max, lines_avg)
    assert dx.shape == avg.shape == x.shape
    np.testing.assert_allclose(
        dx, torch_grad(F.max_pool2d, x, np.ones_like(out), kernel_size=3, stride=2, padding=1)
    )


def test_pooling_module_names_are_exported():
    for name in P.__all__:
        assert getattr(convlib, name) is getattr(P, name)


@pytest.mark.gpu
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_torch_path_on_cuda_matches_numpy(nd):
    rng = np.random.default_rng(nd)
    x = rng.normal(size=(2, 3) + (6,) * nd)
    xc = torch.from_numpy(x).cuda()
    for name, kwargs in [("max_pool", dict(padding=1, ceil_mode=True)),
                         ("avg_pool", dict(padding=1, count_include_pad=False))]:
        fn = getattr(convlib, f"{name}{nd}d")
        out = fn(xc, 3, 2, **kwargs)
        assert out.is_cuda
        np.testing.assert_allclose(out.cpu().numpy(), fn(x, 3, 2, **kwargs), **TOL[np.float64])
        g = torch.ones_like(out)
        dx = getattr(convlib, f"{name}{nd}d_backward")(g, xc, 3, 2, **kwargs)
        assert dx.is_cuda
        expected = getattr(convlib, f"{name}{nd}d_backward")(g.cpu().numpy(), x, 3, 2, **kwargs)
        np.testing.assert_allclose(dx.cpu().numpy(), expected, **TOL[np.float64])
    fn = getattr(convlib, f"max_pool{nd}d")
    np.testing.assert_array_equal(fn(xc, 2, return_indices=True)[1].cpu().numpy(),
                                  fn(x, 2, return_indices=True)[1])
