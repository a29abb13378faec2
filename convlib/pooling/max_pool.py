"""Max pooling in 1, 2 and 3-D, forward and backward, on NumPy arrays or torch tensors.

NumPy forward: the padded input (``-inf`` padding, which never wins) is viewed as windows
(:func:`convlib._windows.windows`, no copy) and a running maximum runs over the *kernel
offsets* only, each step an operation on whole output-sized arrays. A value replaces the
current one when it is larger or NaN, the rule of PyTorch's kernels: ties go to the
first maximum in window order, a NaN always propagates (the last NaN wins the index).
``return_indices=True`` also returns, for each output, the flat index of the winner in
its input plane (``h * W + w`` in 2-D), exactly as PyTorch does.

NumPy backward: each output's gradient goes to the input element that won its window.
The forward's winners are kept as kernel-offset numbers, and the backward is one strided
addition per kernel offset (:func:`convlib._windows.tap_slices`): the gradients of the
windows that offset won, so shared winners of overlapping windows add up. Torch tensors
use ``torch.nn.functional`` and autograd.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _windows as W
from .._backend import Array, backend_of
from .._checks import PoolParams, check_grad_output, check_pool
from ._common import (
    IntOrTuple,
    _describe_call,
    _out_shape,
    _padded_windows,
    _padded_zeros,
    _plane_strides,
    _torch_input_grad,
    _unpad,
)

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d",
    "max_pool1d_backward", "max_pool2d_backward", "max_pool3d_backward",
]


def _max_pool_numpy(x: np.ndarray, p: PoolParams, want_winner: bool):
    """Running maximum over the kernel offsets, in window order.

    A value wins when it is larger than the current maximum or NaN: PyTorch's rule, so
    ties keep the first maximum and the last NaN wins. Padding is ``-inf`` and never
    wins; a window of nothing but ``-inf`` reports its first in-input tap. Returns the
    maxima and, if ``want_winner``, the number of the winning kernel offset (row-major).
    """
    nd = p.nd
    win = _padded_windows(x, p, -np.inf)
    best = np.full(x.shape[:-nd] + p.out, -np.inf, dtype=x.dtype)
    if not want_winner:
        for offset in np.ndindex(*p.kernel):
            best = np.maximum(best, win[(Ellipsis, *offset)])  # NaN propagates
        return best, None
    # the first in-input tap of each window: j = ceil(-start / d) where it starts in padding
    first = [np.maximum(-((np.arange(o) * s - q) // d), 0)
             for o, s, q, d in zip(p.out, p.stride, p.pad, p.dilation)]
    winner = np.broadcast_to(
        np.ravel_multi_index(np.ix_(*first), p.kernel), best.shape
    ).astype(np.int32)
    for number, offset in enumerate(np.ndindex(*p.kernel)):
        v = win[(Ellipsis, *offset)]
        take = (v > best) | np.isnan(v)
        np.copyto(best, v, where=take)
        np.copyto(winner, number, where=take)
    return best, winner


def _winner_to_index(winner: np.ndarray, p: PoolParams, spatial: Sequence[int]) -> np.ndarray:
    """Flat index in the input plane (``h * W + w`` in 2-D) of each window's winning tap."""
    index = np.zeros(winner.shape, dtype=np.int64)
    taps = np.unravel_index(winner, p.kernel)
    for i, (j, stride) in enumerate(zip(taps, _plane_strides(spatial))):
        nd_after = p.nd - 1 - i
        start = (np.arange(p.out[i]) * p.stride[i] - p.pad[i]).reshape((-1,) + (1,) * nd_after)
        index += (start + p.dilation[i] * j) * stride
    return index


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd):
    name = f"max_pool{nd}d"
    kind = backend_of(input=input)
    p = check_pool(input, kernel_size, stride, padding, dilation, ceil_mode, nd, name)
    if kind == "torch":
        import torch.nn.functional as F

        fn = getattr(F, name)
        return fn(input, p.kernel, p.stride, p.pad, p.dilation, p.ceil_mode,
                  return_indices=return_indices)
    out, winner = _max_pool_numpy(input, p, bool(return_indices))
    if not return_indices:
        return out
    return out, _winner_to_index(winner, p, input.shape[-nd:])


def max_pool1d(
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """1-D max pooling of ``input`` (N, C, L) or (C, L), like ``F.max_pool1d``.

    ``stride`` defaults to ``kernel_size``; padding counts as ``-inf``. With
    ``return_indices=True`` also returns the position in ``L`` of each maximum (int64),
    first maximum on ties.

    >>> x = np.array([[[1., 3., 2., 5., 4.]]])
    >>> max_pool1d(x, 2)
    array([[[3., 5.]]])
    >>> max_pool1d(x, 2, ceil_mode=True, return_indices=True)
    (array([[[3., 5., 4.]]]), array([[[1, 3, 4]]]))
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """2-D max pooling of ``input`` (N, C, H, W) or (C, H, W), like ``F.max_pool2d``.

    Each output is the largest value of its ``kernel_size`` window (dilated by
    ``dilation``, moved by ``stride``, default ``kernel_size``); padding counts as
    ``-inf``. ``return_indices=True`` also returns the flat index ``h * W + w`` of each
    maximum in its input plane (int64), the first in window order on ties.

    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    >>> max_pool2d(x, 3, stride=1, padding=1, return_indices=True)[1][0, 0, 0]
    array([5, 6, 7, 7])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """3-D max pooling of ``input`` (N, C, D, H, W) or (C, D, H, W), like ``F.max_pool3d``.

    Indices (``return_indices=True``) are flat, ``d * H * W + h * W + w``.

    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> max_pool3d(x, 2, return_indices=True)
    (array([[[[7.]]]]), array([[[[7]]]]))
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def _max_pool_backward(grad_output, input, kernel_size, stride, padding, dilation, ceil_mode,
                       nd):
    name = f"max_pool{nd}d"
    kind = backend_of(grad_output=grad_output, input=input)
    p = check_pool(input, kernel_size, stride, padding, dilation, ceil_mode, nd, name)
    check_grad_output(grad_output, _out_shape(input, p.out), _describe_call(name, input, p))
    if kind == "torch":
        import torch.nn.functional as F

        fn = getattr(F, name)
        return _torch_input_grad(
            lambda x: fn(x, p.kernel, p.stride, p.pad, p.dilation, p.ceil_mode),
            grad_output, input,
        )
    _, winner = _max_pool_numpy(input, p, True)
    # one strided addition per kernel offset: the gradients of the windows it won
    grad = _padded_zeros(input, p)
    zero = np.zeros((), dtype=input.dtype)
    for number, offset in enumerate(np.ndindex(*p.kernel)):
        taps = W.tap_slices(offset, p.out, p.stride, p.dilation)
        grad[taps] += np.where(winner == number, grad_output, zero)
    return _unpad(grad, input, p)


def max_pool1d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> Array:
    """Gradient of :func:`max_pool1d` with respect to ``input``.

    Each output's gradient goes to the input element that won its window (the first
    maximum on ties, as in the forward pass); overlapping windows that share a winner add
    up. Everything else gets zero.

    >>> x = np.array([[[1., 3., 2., 5., 4.]]])
    >>> max_pool1d_backward(np.ones((1, 1, 4)), x, 2, stride=1)
    array([[[0., 2., 0., 2., 0.]]])
    """
    return _max_pool_backward(grad_output, input, kernel_size, stride, padding, dilation,
                              ceil_mode, 1)


def max_pool2d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> Array:
    """Gradient of :func:`max_pool2d` with respect to ``input``; see :func:`max_pool1d_backward`.

    >>> x = np.array([[[1., 2.], [4., 3.]]])
    >>> max_pool2d_backward(np.array([[[10.]]]), x, 2)
    array([[[ 0.,  0.],
            [10.,  0.]]])
    """
    return _max_pool_backward(grad_output, input, kernel_size, stride, padding, dilation,
                              ceil_mode, 2)


def max_pool3d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> Array:
    """Gradient of :func:`max_pool3d` with respect to ``input``; see :func:`max_pool1d_backward`.

    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> max_pool3d_backward(np.ones((1, 1, 1, 1)), x, 2).ravel()
    array([0., 0., 0., 0., 0., 0., 0., 1.])
    """
    return _max_pool_backward(grad_output, input, kernel_size, stride, padding, dilation,
                              ceil_mode, 3)
