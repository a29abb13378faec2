"""Transposed convolution: ``conv_transpose1d/2d/3d`` on NumPy arrays or torch tensors.

A convolution is a linear map ``y = T x`` (see :func:`convlib.im2col.conv_matrix`); the
transposed convolution is ``T^T y``, the same matrix used the other way round. It is the
gradient of a convolution with respect to its input, and the "upsampling convolution" of
decoders. Semantics and weight layout follow ``torch.nn.functional.conv_transpose2d``:
``weight`` is (C_in, C_out/groups, *kernel), the layout of the convolution being
transposed, and the output size is ``(n - 1) * stride - 2 * padding + dilation * (k - 1)
+ output_padding + 1``.

The NumPy path computes ``T^T y`` directly, without the zeros that "dilate the input by the
stride" would insert: every input pixel's channels times the weight give one column of
kernel-sized patches (one matmul per group and batch chunk), and ``col2im`` adds the
patches onto the output where their windows lie (a loop over kernel taps only). Then the
``padding`` is cropped off both sides; ``output_padding`` adds rows after, for the
ambiguity of strided sizes.

Like torch, the functions also take one unbatched sample ``(C_in, *spatial)``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _windows as W
from ._backend import Array, backend_of
from ._checks import ConvParams, check_batched, check_conv_transpose

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "transpose_add"]

# bytes of the patch columns of one batch chunk
_CHUNK_BYTES = 16 * 2**20


def conv_transpose1d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Array:
    """1-D transposed convolution of ``input`` (N, C_in, L) with ``weight``
    (C_in, C_out/groups, k), like ``torch.nn.functional.conv_transpose1d``.

    >>> x = np.array([[[1., 2.]]])
    >>> w = np.array([[[1., 10., 100.]]])
    >>> conv_transpose1d(x, w, stride=2)
    array([[[  1.,  10., 102.,  20., 200.]]])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1)


def conv_transpose2d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> Array:
    """2-D transposed convolution of ``input`` (N, C_in, H, W) with ``weight``
    (C_in, C_out/groups, kh, kw), like ``torch.nn.functional.conv_transpose2d``.

    Doubling a 2x2 image with a 2x2 kernel of ones and stride 2 repeats every pixel:

    >>> x = np.array([[[[1., 2.], [3., 4.]]]])
    >>> conv_transpose2d(x, np.ones((1, 1, 2, 2)), stride=2)
    array([[[[1., 1., 2., 2.],
             [1., 1., 2., 2.],
             [3., 3., 4., 4.],
             [3., 3., 4., 4.]]]])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2)


def conv_transpose3d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: int | tuple[int, int, int] = 1,
    padding: int | tuple[int, int, int] = 0,
    output_padding: int | tuple[int, int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int, int] = 1,
) -> Array:
    """3-D transposed convolution of ``input`` (N, C_in, D, H, W) with ``weight``
    (C_in, C_out/groups, kd, kh, kw), like ``torch.nn.functional.conv_transpose3d``.

    >>> x = np.ones((1, 2, 2, 2, 2))
    >>> conv_transpose3d(x, np.ones((2, 3, 2, 2, 2)), stride=2, output_padding=1).shape
    (1, 3, 5, 5, 5)
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 3)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    kind = backend_of(input=input, weight=weight, bias=bias)
    batched = check_batched(input, nd)
    x = input if batched else input[None]
    p, out_pad = check_conv_transpose(x, weight, bias, stride, padding, output_padding,
                                      groups, dilation, nd)
    if kind == "torch":
        import torch.nn.functional as F

        f = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
        pads = tuple(lo for lo, _ in p.pad)
        out = f(x, weight, bias, p.stride, pads, out_pad, p.groups, p.dilation)
    else:
        out = _conv_transpose_numpy(x, weight, bias, p, out_pad)
    return out if batched else out[0]


def transpose_add(
    y: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
    target: np.ndarray,
    first: tuple[int, ...] | None = None,
) -> None:
    """Add ``T^T y`` onto ``target``: the transposed-convolution core, the one NumPy
    implementation behind ``conv_transpose1d/2d/3d`` and the input gradient of
    ``conv1d/2d/3d_backward``.

    ``T`` is the convolution with weight ``w`` ``(C_y, C_t/groups, *kernel)`` from
    ``target``'s ``C_t`` channels to ``y``'s ``C_y`` (``y`` is ``(n, C_y, *windows)``,
    ``target`` ``(n, C_t, *size)``, its windows counted from ``first``). In the book's
    notation, with ``δ = y``: input channel ``c`` of ``y`` sends ``w[c, o, u] * δ[n, c, i]``
    to position ``s*i + d*u`` of target channel ``o``. Every pixel's channels times the
    weight give its kernel-sized patches (one matmul per group), and col2im
    (:func:`convlib._windows.fold_add`) adds the patches where their windows lie: a loop
    over kernel taps only, no zeros inserted between the pixels.

    >>> target = np.zeros((1, 1, 5))
    >>> transpose_add(np.array([[[1., 2.]]]), np.array([[[1., 10., 100.]]]), (2,), (1,), 1,
    ...               target)
    >>> target.tolist()
    [[[1.0, 10.0, 102.0, 20.0, 200.0]]]
    """
    n, c_y = y.shape[:2]
    kernel = w.shape[2:]
    c_g, out_g = c_y // groups, w.shape[1]
    # (groups, C_t/groups * taps, C_y/groups): column c of group g maps one channel of y
    # to its (o, u) patch
    w_t = np.ascontiguousarray(
        w.reshape(groups, c_g, out_g * math.prod(kernel)).transpose(0, 2, 1))
    patches = np.matmul(w_t, y.reshape(n, groups, c_g, -1))  # (n, G, O_g * taps, L)
    patches = patches.reshape(n, groups * out_g, *kernel, *y.shape[2:])
    W.fold_add(target, patches, stride, dilation, first)


def _conv_transpose_numpy(x: np.ndarray, w: np.ndarray, b, p: ConvParams,
                          out_pad: tuple[int, ...]) -> np.ndarray:
    n_batch, c_in = x.shape[:2]
    spatial = x.shape[2:]
    kernel = w.shape[2:]
    out_g = w.shape[1]
    pads = tuple(lo for lo, _ in p.pad)
    out_spatial = tuple(
        W.transposed_size(n, k, s, q, d, op)
        for n, k, s, q, d, op in zip(spatial, kernel, p.stride, pads, p.dilation, out_pad)
    )
    # Uncropped extent: every window fully inside. output_padding (or a padding of zero
    # with it) can reach past the last window; those positions get no contribution.
    full = tuple(
        max(W.transposed_size(n, k, s, 0, d), q + o)
        for n, s, d, k, q, o in zip(spatial, p.stride, p.dilation, kernel, pads, out_spatial)
    )
    crop = (slice(None), slice(None)) + tuple(slice(q, q + o) for q, o in zip(pads, out_spatial))
    out = np.empty((n_batch, out_g * p.groups, *out_spatial), dtype=x.dtype)
    per_image = w[0].size * p.groups * math.prod(spatial) * x.itemsize
    chunk, _ = W.plan_chunks(n_batch, 1, per_image, _CHUNK_BYTES)
    for start in range(0, n_batch, chunk):
        xc = x[start : start + chunk]
        uncropped = np.zeros((xc.shape[0], out_g * p.groups, *full), dtype=x.dtype)
        transpose_add(xc, w, p.stride, p.dilation, p.groups, uncropped)
        out[start : start + xc.shape[0]] = uncropped[crop]
    if b is not None:
        out += b.reshape((1, -1) + (1,) * p.nd)
    return out
