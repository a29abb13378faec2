"""Convolution as a matrix product: ``im2col``, ``col2im`` and ``conv_matrix``.

``im2col`` copies every window of the input into a column, so that a convolution becomes
one matrix product ``W_mat @ cols`` (with ``W_mat`` the weight reshaped to
``(C_out, C_in * kh * kw)``). ``col2im`` is its adjoint: it adds each column back onto the
positions its window came from (overlapping windows accumulate), which is what the
backward pass and the transposed convolution need. Both follow ``torch.nn.functional``'s
``unfold``/``fold`` layout exactly: columns of shape ``(N, C * kh * kw, L)``, rows ordered
channel first, then kernel row, then kernel column, and ``L`` the output positions in
row-major order.

``conv_matrix`` writes a whole (small) convolution as one dense matrix ``T``: the doubly
block Toeplitz matrix with ``conv2d(x, w).ravel() == T @ x.ravel()``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _windows as W
from ._backend import backend_of, describe
from ._checks import as_tuple, check_conv, check_kernel_fits

__all__ = ["im2col", "col2im", "conv_matrix", "unfold"]


def im2col(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> Any:
    """Columns of all sliding windows of ``x``, exactly like ``torch.nn.functional.unfold``.

    ``x`` is (N, C, H, W), or (C, H, W) for a single image. Returns (N, C*kh*kw, L)
    (or (C*kh*kw, L)): column ``l`` holds the zero-padded window of output position ``l``
    (row-major), rows ordered ``(c, i, j)``.

    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> im2col(x, 2)
    array([[[0., 1., 3., 4.],
            [1., 2., 4., 5.],
            [3., 4., 6., 7.],
            [4., 5., 7., 8.]]])
    """
    kind = backend_of(x=x)
    batched = _check_image(x, "x")
    kernel, strides, pads, dilations = _pairs(kernel_size, stride, padding, dilation)
    spatial = tuple(x.shape[-2:])
    _windows_count(spatial, kernel, strides, pads, dilations, x)
    if kind == "torch":
        import torch.nn.functional as F

        return F.unfold(x, kernel, dilation=dilations, padding=pads, stride=strides)
    xb = x if batched else x[None]
    xp = np.pad(xb, ((0, 0), (0, 0)) + tuple((p, p) for p in pads))
    cols = unfold(xp, kernel, strides, dilations)
    return cols if batched else cols[0]


def col2im(
    cols: Any,
    output_size: int | tuple[int, int],
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> Any:
    """Add columns back onto an image, exactly like ``torch.nn.functional.fold``.

    ``cols`` is (N, C*kh*kw, L) or (C*kh*kw, L) in :func:`im2col`'s layout and
    ``output_size`` the image's (H, W). Values of overlapping windows are summed, so
    ``col2im(im2col(x))`` multiplies each pixel by the number of windows covering it: the
    adjoint, not the inverse.

    >>> x = np.ones((1, 1, 3, 3))
    >>> col2im(im2col(x, 2), (3, 3), 2)
    array([[[[1., 2., 1.],
             [2., 4., 2.],
             [1., 2., 1.]]]])
    """
    kind = backend_of(cols=cols)
    if cols.ndim not in (2, 3):
        raise ValueError(
            f"cols must be 3-D (N, C*kh*kw, L) or 2-D (C*kh*kw, L), got {describe(cols)}"
        )
    batched = cols.ndim == 3
    size = as_tuple(output_size, 2, "output_size")
    kernel, strides, pads, dilations = _pairs(kernel_size, stride, padding, dilation)
    windows = _windows_count(size, kernel, strides, pads, dilations, cols)
    taps = kernel[0] * kernel[1]
    rows, length = cols.shape[-2:]
    if rows % taps or length != windows[0] * windows[1]:
        raise ValueError(
            f"cols of shape {tuple(cols.shape)} does not fit output_size {size} with "
            f"kernel_size {kernel}, stride {strides}, padding {pads} and dilation "
            f"{dilations}: expected C*{taps} rows and {windows[0] * windows[1]} columns "
            f"({windows[0]}x{windows[1]} windows)"
        )
    if kind == "torch":
        import torch.nn.functional as F

        return F.fold(cols, size, kernel, dilation=dilations, padding=pads, stride=strides)
    cb = cols if batched else cols[None]
    n, c = cb.shape[0], rows // taps
    padded = tuple(s + 2 * p for s, p in zip(size, pads))
    img = W.fold(cb.reshape(n, c, *kernel, *windows), padded, strides, dilations)
    inside: tuple[Any, ...] = (..., *(slice(p, p + s) for p, s in zip(pads, size)))
    img = img[inside]
    return img if batched else img[0]


def conv_matrix(
    weight: Any,
    input_shape: tuple[int, ...],
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] | str = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
) -> Any:
    """The dense matrix ``T`` of a convolution: ``conv(x, weight).ravel() == T @ x.ravel()``.

    ``weight`` is (C_out, C_in/groups, *kernel) for 1, 2 or 3 spatial dims; ``input_shape``
    is one image's (C_in, *spatial), optionally with a leading batch size of 1. ``T`` has
    ``C_out * prod(out)`` rows and ``C_in * prod(spatial)`` columns; for a 2-D kernel it is
    doubly block Toeplitz (zero padding). Every entry is one weight or zero, so it is meant
    for small sizes: drawing the matrix, or checking that convolution is linear. Returns the
    weight's kind (a torch matrix keeps the weight's autograd graph).

    >>> w = np.array([[[[1., 2.], [3., 4.]]]])
    >>> conv_matrix(w, (1, 3, 3)).astype(int)
    array([[1, 2, 0, 3, 4, 0, 0, 0, 0],
           [0, 1, 2, 0, 3, 4, 0, 0, 0],
           [0, 0, 0, 1, 2, 0, 3, 4, 0],
           [0, 0, 0, 0, 1, 2, 0, 3, 4]])
    """
    kind = backend_of(weight=weight)
    nd = weight.ndim - 2
    shape = tuple(input_shape)
    if not (nd >= 1 and len(shape) in (nd + 1, nd + 2)) or (len(shape) == nd + 2 and shape[0] != 1):
        raise ValueError(
            f"input_shape must be (C_in, *spatial) or (1, C_in, *spatial) with "
            f"{max(nd, 1)} spatial dims for {describe(weight)}, got {shape}"
        )
    shape = shape[-(nd + 1) :]
    # a zero-strided stand-in with the input's shape, so the usual checks apply
    dummy = np.broadcast_to(np.zeros((), dtype=np.float64), (1, *shape))
    p = check_conv(dummy, weight, None, stride, padding, dilation, groups, "zeros", nd)
    c_out, c_g = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    spatial = shape[1:]
    out = W.window_counts(spatial, kernel, p.stride, p.dilation, p.pad)
    # One index array per axis of (C_out, C_in/groups, *kernel, *out), broadcast together:
    # weight[o, c, k] multiplies input pixel s*i + d*k - pad_before of channel g*C_g + c.
    idx = np.indices((c_out, c_g, *kernel, *out), sparse=True)
    o, c = idx[0], idx[1]
    taps, positions = idx[2 : 2 + nd], idx[2 + nd :]
    row = o * math.prod(out)
    channel = (o // (c_out // p.groups)) * c_g + c
    col = channel * math.prod(spatial)
    valid = np.ones((1,) * (2 + 2 * nd), dtype=bool)
    for j in range(nd):
        pos = positions[j] * p.stride[j] + taps[j] * p.dilation[j] - p.pad[j][0]
        valid = valid & (pos >= 0) & (pos < spatial[j])
        col = col + pos * math.prod(spatial[j + 1 :])
        row = row + positions[j] * math.prod(out[j + 1 :])
    full = (c_out, c_g, *kernel, *out)
    row, col, valid = (np.broadcast_to(a, full) for a in (row, col, valid))
    # which weight each entry holds: the (o, c, *k) part of the index
    w_index = np.broadcast_to(
        np.arange(c_out * c_g * math.prod(kernel)).reshape(c_out, c_g, *kernel, *(1,) * nd), full
    )
    rows, cols, w_flat = row[valid], col[valid], w_index[valid]
    n_rows, n_cols = c_out * math.prod(out), shape[0] * math.prod(spatial)
    if kind == "torch":
        import torch

        t = weight.new_zeros((n_rows, n_cols))
        t[torch.as_tensor(rows), torch.as_tensor(cols)] = weight.reshape(-1)[
            torch.as_tensor(w_flat)
        ]
        return t
    t = np.zeros((n_rows, n_cols), dtype=weight.dtype)
    # each (row, col) pair occurs once: distinct taps read distinct pixels
    t[rows, cols] = weight.reshape(-1)[w_flat]
    return t


# ----------------------------------------------------------------------------- helpers


def _check_image(x: Any, name: str) -> bool:
    if x.ndim not in (3, 4):
        raise ValueError(f"{name} must be 4-D (N, C, H, W) or 3-D (C, H, W), got {describe(x)}")
    return x.ndim == 4


def _pairs(kernel_size, stride, padding, dilation):
    return (
        as_tuple(kernel_size, 2, "kernel_size"),
        as_tuple(stride, 2, "stride"),
        as_tuple(padding, 2, "padding", minimum=0),
        as_tuple(dilation, 2, "dilation"),
    )


def _windows_count(size, kernel, stride, padding, dilation, x) -> tuple[int, ...]:
    pads = tuple((p, p) for p in padding)
    check_kernel_fits(size, kernel, dilation, pads, f"kernel_size {kernel}", describe(x))
    return W.window_counts(size, kernel, stride, dilation, pads)


def unfold(xp: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    """The columns of an already padded input, for any number of spatial dims:
    ``(N, C, *padded) -> (N, C * prod(kernel), L)``, :func:`im2col`'s layout, ``cols[n, (c, u), i] =
    xp[n, c, s*i + d*u]``.

    >>> unfold(np.arange(4.0).reshape(1, 1, 4), (2,), (1,), (1,)).tolist()
    [[[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]]]
    """
    nd = len(kernel)
    win = W.windows(xp, kernel, stride, dilation)  # (N, C, *out, *kernel): a view
    win = win.transpose(0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))
    return win.reshape(xp.shape[0], xp.shape[1] * math.prod(kernel),
                       math.prod(win.shape[2 + nd :]))
