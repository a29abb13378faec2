"""conv_transpose1d/2d/3d against F.conv_transposeNd, and as the adjoint of conv."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SETTINGS, examples, transpose_cases

import convlib
from convlib.conv import conv1d, conv2d, conv3d
from convlib.conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d

OURS = {1: conv_transpose1d, 2: conv_transpose2d, 3: conv_transpose3d}
TORCH = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
CONV = {1: conv1d, 2: conv2d, 3: conv3d}


def arrays(case, dtype=np.float64):
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=(case["n"], case["c_in"], *case["size"]))
    w = rng.normal(size=(case["c_in"], case["c_out"] // case["groups"], *case["kernel"]))
    b = rng.normal(size=case["c_out"]) if case["bias"] else None
    return x.astype(dtype), w.astype(dtype), None if b is None else b.astype(dtype)


def options(case):
    keys = ("stride", "padding", "output_padding", "groups", "dilation")
    return {k: case[k] for k in keys}


def reference(nd, x, w, b, case):
    t = [None if a is None else torch.as_tensor(a, dtype=torch.float64) for a in (x, w, b)]
    return TORCH[nd](*t, **options(case)).numpy()


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(200), **SETTINGS)
@given(data=st.data())
def test_numpy_matches_torch_float64(nd, data):
    case = data.draw(transpose_cases(nd))
    x, w, b = arrays(case)
    ref = reference(nd, x, w, b, case)
    got = OURS[nd](x, w, b, **options(case))
    assert got.dtype == np.float64 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(60), **SETTINGS)
@given(data=st.data())
def test_numpy_matches_torch_float32(nd, data):
    case = data.draw(transpose_cases(nd))
    x, w, b = arrays(case, np.float32)
    ref = reference(nd, x, w, b, case)
    got = OURS[nd](x, w, b, **options(case))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * max(np.abs(ref).max(), 1.0))


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(40), **SETTINGS)
@given(data=st.data())
def test_torch_path_and_gradients(nd, data):
    case = data.draw(transpose_cases(nd))
    x, w, b = arrays(case)
    leaves = [None if a is None else torch.from_numpy(a).requires_grad_() for a in (x, w, b)]
    ref_leaves = [None if a is None else torch.from_numpy(a).requires_grad_() for a in (x, w, b)]
    got = OURS[nd](*leaves, **options(case))
    ref = TORCH[nd](*ref_leaves, **options(case))
    torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)
    grad = torch.randn_like(ref)
    got.backward(grad)
    ref.backward(grad)
    for mine, theirs in zip(leaves, ref_leaves):
        if mine is not None:
            torch.testing.assert_close(mine.grad, theirs.grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(40), **SETTINGS)
@given(data=st.data())
def test_adjoint_of_conv(nd, data):
    """<conv(x, w), y> == <x, conv_transpose(y, w)>: the transposed convolution is T^T."""
    case = data.draw(transpose_cases(nd))
    _, w, _ = arrays(case)
    y_shape = (case["n"], case["c_in"], *case["size"])
    opts = options(case)
    # output_padding below the stride: then conv maps the output size back to the input's
    out_pad = tuple(min(op, s - 1) for op, s in zip(opts.pop("output_padding"), opts["stride"]))
    rng = np.random.default_rng(case["seed"] + 1)
    y = rng.normal(size=y_shape)
    xt = OURS[nd](y, w, output_padding=out_pad, **opts)
    x = rng.normal(size=xt.shape)
    # the convolution this transposes: weight (C_in, C_out/groups, k) read as (C_out', C_in'/g, k)
    cy = CONV[nd](x, w, **{k: opts[k] for k in ("stride", "padding", "dilation", "groups")})
    assert cy.shape == y.shape
    np.testing.assert_allclose(np.vdot(cy, y), np.vdot(x, xt), rtol=1e-9, atol=1e-9)


def test_public_names_and_upsampling_by_hand():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=np.float32)
    w = np.ones((1, 1, 3, 3), dtype=np.float32)
    y = convlib.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    assert y.shape == (1, 1, 4, 4) and y.dtype == np.float32
    expected = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2,
                                  padding=1, output_padding=1).numpy()
    np.testing.assert_array_equal(y, expected)


def test_chunks_give_the_same_numbers(monkeypatch):
    from convlib import conv_transpose as CT

    rng = np.random.default_rng(5)
    x = rng.normal(size=(5, 4, 3, 4))
    w = rng.normal(size=(4, 3, 3, 2))
    whole = conv_transpose2d(x, w, stride=2, padding=1, groups=2, output_padding=1)
    monkeypatch.setattr(CT, "_CHUNK_BYTES", 1)
    chunked = conv_transpose2d(x, w, stride=2, padding=1, groups=2, output_padding=1)
    np.testing.assert_array_equal(chunked, whole)


@pytest.mark.gpu
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_cuda_matches_cpu(nd):
    g = torch.Generator().manual_seed(nd)
    x = torch.randn(2, 4, *(4,) * nd, dtype=torch.float64, generator=g)
    w = torch.randn(4, 3, *(3,) * nd, dtype=torch.float64, generator=g)
    kw = dict(stride=2, padding=1, output_padding=1, groups=2)
    cpu = OURS[nd](x, w, **kw)
    gpu = OURS[nd](x.cuda(), w.cuda(), **kw)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-10, atol=1e-10)
