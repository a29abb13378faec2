"""Average pooling in 1, 2 and 3-D, forward and backward, on NumPy arrays or torch tensors.

NumPy forward: the zero-padded input is viewed as windows (no copy), summed over the
kernel offsets, and divided by a divisor computed per output position (PyTorch's rule):
with ``count_include_pad=True`` the window size clipped to the padded input (the
``ceil_mode`` overhang past the right padding does not count), otherwise the number of
real input elements in the window; ``divisor_override`` replaces both.

NumPy backward: each output's gradient divided by its divisor is spread over its window,
one strided addition per kernel offset; the share that falls on padding is dropped.
Torch tensors use ``torch.nn.functional`` and autograd.
"""

from __future__ import annotations

import numpy as np

from .. import _windows as W
from .._backend import Array, backend_of
from .._checks import PoolParams, check_divisor, check_grad_output, check_pool
from ._common import (
    IntOrTuple,
    _describe_call,
    _out_shape,
    _outer_product,
    _padded_windows,
    _padded_zeros,
    _torch_input_grad,
    _unpad,
)

__all__ = [
    "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "avg_pool1d_backward", "avg_pool2d_backward", "avg_pool3d_backward",
]


def _avg_divisor(spatial, p: PoolParams, count_include_pad: bool, divisor_override):
    """Per-output divisor of average pooling, shape ``p.out`` (PyTorch's rule)."""
    if divisor_override is not None:
        return np.full(p.out, divisor_override, dtype=np.int64)
    sizes = []
    for n, o, k, s, q in zip(spatial, p.out, p.kernel, p.stride, p.pad):
        start = np.arange(o) * s - q
        end = np.minimum(start + k, n + q)  # the ceil_mode overhang never counts
        if count_include_pad:
            sizes.append(end - start)
        else:
            sizes.append(np.minimum(end, n) - np.maximum(start, 0))
    return _outer_product(sizes)


def _avg_pool_numpy(x, p, count_include_pad, divisor_override):
    nd = p.nd
    win = _padded_windows(x, p, 0.0)
    total = win.sum(axis=tuple(range(-nd, 0)))
    divisor = _avg_divisor(x.shape[-nd:], p, count_include_pad, divisor_override)
    return (total / divisor.astype(x.dtype)).astype(x.dtype, copy=False)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, nd):
    name = f"avg_pool{nd}d"
    kind = backend_of(input=input)
    p = check_pool(input, kernel_size, stride, padding, 1, ceil_mode, nd, name,
                   kernel_within_input=nd == 3)
    check_divisor(divisor_override, input)
    if kind == "torch":
        import torch.nn.functional as F

        if nd == 1:
            return F.avg_pool1d(input, p.kernel, p.stride, p.pad, p.ceil_mode,
                                bool(count_include_pad))
        fn = getattr(F, name)
        return fn(input, p.kernel, p.stride, p.pad, p.ceil_mode, bool(count_include_pad),
                  divisor_override)
    return _avg_pool_numpy(input, p, bool(count_include_pad), divisor_override)


def avg_pool1d(
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Array:
    """1-D average pooling of ``input`` (N, C, L) or (C, L), like ``F.avg_pool1d``.

    With ``count_include_pad=True`` zero padding counts in the mean; otherwise only the
    input elements under the window do.

    >>> x = np.array([[[1., 2., 3., 4., 5.]]])
    >>> avg_pool1d(x, 2)
    array([[[1.5, 3.5]]])
    >>> avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False)
    array([[[1.5, 3. , 4.5]]])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """2-D average pooling of ``input`` (N, C, H, W) or (C, H, W), like ``F.avg_pool2d``.

    Each output is the window's sum divided by the window size (zero padding included
    when ``count_include_pad``, the ``ceil_mode`` overhang never), or by
    ``divisor_override`` when given.

    >>> x = np.arange(16.).reshape(1, 4, 4)
    >>> avg_pool2d(x, 2)
    array([[[ 2.5,  4.5],
            [10.5, 12.5]]])
    >>> avg_pool2d(x, 2, divisor_override=1)[0, 0, 0]
    np.float64(10.0)
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


def avg_pool3d(
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """3-D average pooling of ``input`` (N, C, D, H, W) or (C, D, H, W), like ``F.avg_pool3d``.

    >>> avg_pool3d(np.arange(8.).reshape(1, 1, 2, 2, 2), 2)
    array([[[[[3.5]]]]])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3)


def _avg_pool_backward(grad_output, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override, nd):
    name = f"avg_pool{nd}d"
    kind = backend_of(grad_output=grad_output, input=input)
    p = check_pool(input, kernel_size, stride, padding, 1, ceil_mode, nd, name,
                   kernel_within_input=nd == 3)
    check_divisor(divisor_override, input)
    check_grad_output(grad_output, _out_shape(input, p.out), _describe_call(name, input, p))
    if kind == "torch":
        import torch.nn.functional as F

        fn = getattr(F, name)
        extra = () if nd == 1 else (divisor_override,)
        return _torch_input_grad(
            lambda x: fn(x, p.kernel, p.stride, p.pad, p.ceil_mode, bool(count_include_pad),
                         *extra),
            grad_output, input,
        )
    spatial = input.shape[-nd:]
    divisor = _avg_divisor(spatial, p, bool(count_include_pad), divisor_override)
    share = grad_output / divisor.astype(input.dtype)
    grad = _padded_zeros(input, p)
    for offset in np.ndindex(*p.kernel):
        grad[W.tap_slices(offset, p.out, p.stride, p.dilation)] += share
    return _unpad(grad, input, p)


def avg_pool1d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Array:
    """Gradient of :func:`avg_pool1d` with respect to ``input``.

    Each output's gradient, divided by that output's divisor, is added to every input
    element of its window (the share that falls on padding is dropped).

    >>> x = np.zeros((1, 1, 4))
    >>> avg_pool1d_backward(np.array([[[2., 4.]]]), x, 2)
    array([[[1., 1., 2., 2.]]])
    """
    return _avg_pool_backward(grad_output, input, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, None, 1)


def avg_pool2d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """Gradient of :func:`avg_pool2d` with respect to ``input``; see :func:`avg_pool1d_backward`.

    >>> avg_pool2d_backward(np.array([[[4.]]]), np.zeros((1, 2, 2)), 2)
    array([[[1., 1.],
            [1., 1.]]])
    """
    return _avg_pool_backward(grad_output, input, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, divisor_override, 2)


def avg_pool3d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """Gradient of :func:`avg_pool3d` with respect to ``input``; see :func:`avg_pool1d_backward`.

    >>> avg_pool3d_backward(np.array([[[[8.]]]]), np.zeros((1, 2, 2, 2)), 2).ravel()
    array([1., 1., 1., 1., 1., 1., 1., 1.])
    """
    return _avg_pool_backward(grad_output, input, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, divisor_override, 3)
