"""im2col/col2im against F.unfold/F.fold, and conv_matrix against the convolution itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from strategies import SETTINGS, examples, matrix_cases, unfold_cases

from convlib.conv import conv1d, conv2d, conv3d
from convlib.im2col import col2im, conv_matrix, im2col

CONV = {1: conv1d, 2: conv2d, 3: conv3d}


def geometry(case):
    return {k: case[k] for k in ("stride", "padding", "dilation")}


@settings(max_examples=examples(400), **SETTINGS)
@given(case=unfold_cases())
def test_im2col_matches_unfold(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=(case["n"], case["c"], *case["size"]))
    if not case["batched"]:
        x = x[0]
    ref = F.unfold(torch.from_numpy(x), case["kernel"], **geometry(case)).numpy()
    got = im2col(x, case["kernel"], **geometry(case))
    assert got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)  # a copy of the input's numbers: exact
    torch.testing.assert_close(
        im2col(torch.from_numpy(x), case["kernel"], **geometry(case)), torch.from_numpy(ref))


@settings(max_examples=examples(400), **SETTINGS)
@given(case=unfold_cases())
def test_col2im_matches_fold_and_is_the_adjoint(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=(case["n"], case["c"], *case["size"]))
    if not case["batched"]:
        x = x[0]
    cols = rng.normal(size=im2col(x, case["kernel"], **geometry(case)).shape)
    ref = F.fold(torch.from_numpy(cols), case["size"], case["kernel"], **geometry(case))
    got = col2im(cols, case["size"], case["kernel"], **geometry(case))
    np.testing.assert_allclose(got, ref.numpy(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        col2im(torch.from_numpy(cols), case["size"], case["kernel"], **geometry(case)), ref)
    # <im2col(x), cols> == <x, col2im(cols)>
    lhs = np.vdot(im2col(x, case["kernel"], **geometry(case)), cols)
    np.testing.assert_allclose(lhs, np.vdot(x, got), rtol=1e-10)


def test_im2col_float32_and_conv_as_matmul():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 6, 5)).astype(np.float32)
    w = rng.normal(size=(4, 3, 3, 2)).astype(np.float32)
    cols = im2col(x, (3, 2), stride=(1, 2), padding=1)
    assert cols.dtype == np.float32
    y = (w.reshape(4, -1) @ cols).reshape(2, 4, 6, 3)
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=(1, 2), padding=1)
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-4, atol=1e-4)


@settings(max_examples=examples(300), **SETTINGS)
@given(case=matrix_cases())
def test_conv_matrix_times_x_is_the_convolution(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=(case["c_in"], *case["size"]))
    w = rng.normal(size=(case["c_out"], case["c_in"] // case["groups"], *case["kernel"]))
    opts = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                groups=case["groups"])
    shape = ((1,) if case["lead"] else ()) + x.shape
    t = conv_matrix(w, shape, **opts)
    ref = CONV[case["nd"]](x[None], w, **opts)
    assert t.shape == (ref.size, x.size)
    np.testing.assert_allclose(t @ x.ravel(), ref.ravel(), rtol=1e-10, atol=1e-10)
    # every weight appears, nothing else: the entries are weights or zeros
    assert set(np.unique(t[t != 0])) <= set(w.ravel())


def test_conv_matrix_doubly_block_toeplitz():
    """3x3 input, 2x2 kernel: blocks of T repeat along diagonals, as the book draws it."""
    w = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    t = conv_matrix(w, (1, 3, 3))
    # rows for output row r read input rows r and r+1: block (r, r) = first kernel row
    np.testing.assert_array_equal(t[0:2, 0:3], [[1, 2, 0], [0, 1, 2]])
    np.testing.assert_array_equal(t[2:4, 3:6], t[0:2, 0:3])
    np.testing.assert_array_equal(t[0:2, 3:6], [[3, 4, 0], [0, 3, 4]])
    np.testing.assert_array_equal(t[2:4, 6:9], t[0:2, 3:6])
    assert not t[2:4, 0:3].any() and not t[0:2, 6:9].any()


def test_conv_matrix_torch_keeps_autograd():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(2, 3, 2, 2, dtype=torch.float64, generator=g, requires_grad=True)
    x = torch.randn(3, 4, 4, dtype=torch.float64, generator=g)
    t = conv_matrix(w, tuple(x.shape), padding=1)
    (t @ x.reshape(-1)).square().sum().backward()
    w2 = w.detach().clone().requires_grad_()
    F.conv2d(x[None], w2, padding=1).square().sum().backward()
    torch.testing.assert_close(w.grad, w2.grad)


def test_conv_matrix_transpose_is_conv_transpose():
    """T^T y is the transposed convolution: the matrix view of the next module."""
    from convlib.conv_transpose import conv_transpose2d

    rng = np.random.default_rng(1)
    w = rng.normal(size=(2, 3, 3, 3))
    t = conv_matrix(w, (3, 7, 7), stride=2, padding=1)
    y = rng.normal(size=(2, 4, 4))
    got = conv_transpose2d(y[None], w, stride=2, padding=1)
    np.testing.assert_allclose(got.ravel(), t.T @ y.ravel(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_im2col_of_a_tiny_image_by_hand(kind):
    x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    x = torch.from_numpy(x) if kind == "torch" else x
    cols = im2col(x, 2, padding=1, stride=2)
    expected = [[[0, 0, 0, 4], [0, 0, 3, 0], [0, 2, 0, 0], [1, 0, 0, 0]]]
    np.testing.assert_array_equal(np.asarray(cols), expected)
