"""Pooling: max and average pooling in 1, 2 and 3-D, adaptive and global pooling, and the
NumPy backward of each.

Semantics follow ``torch.nn.functional``: ``input`` is ``(N, C, *spatial)`` or, without
the batch dimension, ``(C, *spatial)``; ``stride`` defaults to ``kernel_size``; ``padding`` is at
most half the kernel; ``ceil_mode=True`` adds a last, partial window as long as it starts
inside the input or its left padding.

NumPy path. The padded input is viewed as windows (``convlib._windows.windows``: stride
and dilation are strided slices of that view, so nothing is copied), and the loop runs over
the *kernel offsets* only, each step an operation on whole output-sized arrays:

- max pooling pads with ``-inf`` (padding never wins) and keeps a running maximum. A value
  replaces the current one when it is larger or NaN, the rule of PyTorch's kernels: ties
  go to the first maximum in window order, a NaN always propagates (the last NaN wins the
  index). ``return_indices=True`` also returns, for each output, the flat index of the
  winner in its input plane (``h * W + w`` in 2-D), exactly as PyTorch does;
- average pooling sums the window and divides by a divisor computed per output position:
  with ``count_include_pad=True`` the window size clipped to the padded input (the
  ``ceil_mode`` overhang past the right padding does not count), otherwise the number of
  real input elements in the window; ``divisor_override`` replaces both;
- adaptive pooling splits each dimension of size ``n`` into ``out`` windows
  ``[floor(i n / out), ceil((i + 1) n / out))``: adaptive average pooling is one small
  averaging matrix per dimension; adaptive max pooling gathers every window at once
  (windows differ in length, so shorter ones are padded with masked repeats) and picks
  the winner by the same rule.

Backward passes (NumPy): max pooling sends each output gradient to its argmax (one
``np.bincount`` over the flat indices, so repeated winners add up); average pooling
spreads ``grad / divisor`` over each window, one strided addition per kernel offset. On
torch tensors the same functions call ``torch.nn.functional`` (forward) and autograd
(backward).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _windows as W
from ._backend import backend_of
from ._checks import (
    PoolParams,
    check_adaptive_pool,
    check_divisor,
    check_grad_output,
    check_pool,
)
from .padding import pad

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d",
    "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "global_avg_pool2d", "global_max_pool2d",
    "max_pool1d_backward", "max_pool2d_backward", "max_pool3d_backward",
    "avg_pool1d_backward", "avg_pool2d_backward", "avg_pool3d_backward",
    "adaptive_avg_pool1d_backward", "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool3d_backward",
    "adaptive_max_pool1d_backward", "adaptive_max_pool2d_backward",
    "adaptive_max_pool3d_backward",
]

IntOrTuple = int | Sequence[int]


# --- NumPy helpers -------------------------------------------------------------------


def _padded_windows(x: np.ndarray, p: PoolParams, value: float) -> np.ndarray:
    """Windows of ``x`` padded with ``value``: shape ``lead + out + kernel`` (a view).

    The right side is padded far enough for ``ceil_mode``'s last window, which may run
    past the right padding.
    """
    nd = p.nd
    spatial = x.shape[-nd:]
    pairs = []
    for n, o, s, q, k, d in zip(spatial, p.out, p.stride, p.pad, p.kernel, p.dilation):
        needed = (o - 1) * s + W.span(k, d)
        pairs.append((q, max(needed - n - q, 0)))
    flat = [amount for lo, hi in reversed(pairs) for amount in (lo, hi)]
    xp = pad(x, flat, mode="constant", value=value) if any(flat) else x
    return W.windows(xp, p.kernel, p.stride, p.dilation, out=p.out)


def _plane_strides(spatial: Sequence[int]) -> list[int]:
    """Row-major strides of one input plane, in elements: (H*W, W, 1) for (D, H, W)."""
    return [math.prod(spatial[i + 1 :]) for i in range(len(spatial))]


def _outer_product(vectors: Sequence[np.ndarray]) -> np.ndarray:
    nd = len(vectors)
    total = np.ones((1,) * nd, dtype=np.int64)
    for i, v in enumerate(vectors):
        total = total * np.asarray(v, dtype=np.int64).reshape((-1,) + (1,) * (nd - 1 - i))
    return total


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


def _adaptive_bounds(n: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Window ``i`` of ``out`` over ``n`` elements: ``[floor(i n/out), ceil((i+1) n/out))``."""
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _averaging_matrix(n: int, out: int, dtype) -> np.ndarray:
    """(out, n) matrix whose row ``i`` averages adaptive window ``i``."""
    start, end = _adaptive_bounds(n, out)
    cols = np.arange(n)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _along_axes(x: np.ndarray, matrices: Sequence[np.ndarray]) -> np.ndarray:
    """Multiply each trailing axis of ``x`` by its matrix: axis ``-nd + i`` by ``matrices[i]``."""
    nd = len(matrices)
    for i, m in enumerate(matrices):
        axis = x.ndim - nd + i
        x = np.moveaxis(np.moveaxis(x, axis, -1) @ m.T, -1, axis)
    return x


def _adaptive_max_numpy(x: np.ndarray, out: tuple[int, ...], want_index: bool):
    """Adaptive max pooling with PyTorch's winner rule, all windows gathered at once.

    Windows have different lengths, so each is gathered at the longest length with its
    taps clipped to the window; the repeated taps are masked out. Then, per window in
    row-major order: the last NaN if there is one, else the first maximum.
    """
    nd = len(out)
    spatial = x.shape[-nd:]
    lead = x.shape[:-nd]
    positions, valid = [], np.ones((1,) * (2 * nd), dtype=bool)
    for i, (n, o) in enumerate(zip(spatial, out)):
        start, end = _adaptive_bounds(n, o)
        taps = start[:, None] + np.arange(int((end - start).max()))[None, :]
        # window i on axis i, its taps on axis nd + i
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = taps.shape
        positions.append(np.minimum(taps, end[:, None] - 1).reshape(shape))
        valid = valid & (taps < end[:, None]).reshape(shape)
    lengths = valid.shape[nd:]
    windows = x[(Ellipsis, *positions)].reshape(lead + out + (math.prod(lengths),))
    valid = np.broadcast_to(valid, out + lengths).reshape(out + (-1,))
    masked = np.where(valid, windows, -np.inf)
    best = masked.max(axis=-1)  # NaN propagates
    if not want_index:
        return best, None
    nan = np.isnan(windows) & valid
    last_nan = nan.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    first_max = np.argmax(masked == best[..., None], axis=-1)
    tap = np.where(nan.any(axis=-1), last_nan, first_max)
    # tap -> its input position along each dimension -> flat index in the plane
    index = np.zeros(tap.shape, dtype=np.int64)
    for i, (j, stride) in enumerate(zip(np.unravel_index(tap, lengths), _plane_strides(spatial))):
        window = np.arange(out[i]).reshape((-1,) + (1,) * (nd - 1 - i))
        index += positions[i].reshape(out[i], lengths[i])[window, j] * stride
    return best, index


def _padded_zeros(input: np.ndarray, p: PoolParams) -> np.ndarray:
    """Zeros of the padded input's shape, as far as the windows reach (``ceil_mode`` may
    reach past the right padding)."""
    spatial = input.shape[-p.nd:]
    padded = [
        max(n + 2 * q, (o - 1) * s + W.span(k, d))
        for n, o, s, q, d, k in zip(spatial, p.out, p.stride, p.pad, p.dilation, p.kernel)
    ]
    return np.zeros(input.shape[: -p.nd] + tuple(padded), dtype=input.dtype)


def _unpad(grad: np.ndarray, input: np.ndarray, p: PoolParams) -> np.ndarray:
    inside = tuple(slice(q, q + n) for q, n in zip(p.pad, input.shape[-p.nd:]))
    return grad[(Ellipsis, *inside)].copy()


def _scatter_to_argmax(grad_output: np.ndarray, index: np.ndarray, input: np.ndarray, nd: int):
    """Add each output gradient to its argmax: ``dx.flat[plane, index] += grad``."""
    spatial = input.shape[-nd:]
    planes = math.prod(input.shape[:-nd])
    size = math.prod(spatial)
    per_plane = math.prod(index.shape[-nd:])
    flat = index.reshape(planes, per_plane) + (np.arange(planes) * size)[:, None]
    dx = np.bincount(flat.ravel(), weights=grad_output.reshape(-1), minlength=planes * size)
    return dx.reshape(input.shape).astype(input.dtype, copy=False)


def _torch_input_grad(forward, grad_output, input):
    """Autograd's ``d(loss)/d(input)`` through ``forward``, given ``grad_output``."""
    import torch

    with torch.enable_grad():
        x = input.detach().requires_grad_(True)
        out = forward(x)
        if isinstance(out, tuple):
            out = out[0]
        (dx,) = torch.autograd.grad(out, x, grad_output)
    return dx


def _describe_call(name: str, input: Any, p: PoolParams) -> str:
    return (
        f"{name} of input {tuple(input.shape)} with kernel_size {p.kernel}, stride "
        f"{p.stride}, padding {p.pad}, dilation {p.dilation}, ceil_mode {p.ceil_mode}"
    )


def _out_shape(input: Any, out: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(input.shape[: input.ndim - len(out)]) + tuple(out)


# --- max pooling ---------------------------------------------------------------------


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


# --- average pooling -----------------------------------------------------------------


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
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Any:
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
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Any:
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
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Any:
    """3-D average pooling of ``input`` (N, C, D, H, W) or (C, D, H, W), like ``F.avg_pool3d``.

    >>> avg_pool3d(np.arange(8.).reshape(1, 1, 2, 2, 2), 2)
    array([[[[[3.5]]]]])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3)


# --- adaptive and global pooling -----------------------------------------------------


def _adaptive_avg(input, output_size, nd):
    name = f"adaptive_avg_pool{nd}d"
    kind = backend_of(input=input)
    out = check_adaptive_pool(input, output_size, nd, name)
    if kind == "torch":
        import torch.nn.functional as F

        return getattr(F, name)(input, out)
    matrices = [_averaging_matrix(n, o, input.dtype) for n, o in zip(input.shape[-nd:], out)]
    return _along_axes(input, matrices)


def _adaptive_max(input, output_size, return_indices, nd):
    name = f"adaptive_max_pool{nd}d"
    kind = backend_of(input=input)
    out = check_adaptive_pool(input, output_size, nd, name)
    if kind == "torch":
        import torch.nn.functional as F

        return getattr(F, name)(input, out, return_indices=return_indices)
    value, index = _adaptive_max_numpy(input, out, bool(return_indices))
    return (value, index) if return_indices else value


def adaptive_avg_pool1d(input: Any, output_size: int | Sequence[int]) -> Any:
    """Average pooling of ``input`` (N, C, L) or (C, L) to ``output_size`` positions.

    Window ``i`` covers ``[floor(i L / out), ceil((i + 1) L / out))``, so neighbouring
    windows overlap when ``out`` does not divide ``L``.

    >>> adaptive_avg_pool1d(np.array([[1., 2., 3., 4., 5.]]), 2)
    array([[2., 4.]])
    """
    return _adaptive_avg(input, output_size, 1)


def adaptive_avg_pool2d(input: Any, output_size: int | Sequence[int | None]) -> Any:
    """Average pooling of ``input`` (N, C, H, W) or (C, H, W) to an ``output_size`` grid.

    ``output_size`` is an int or an ``(H_out, W_out)`` pair; ``None`` keeps that input
    size. Like ``F.adaptive_avg_pool2d``.

    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> adaptive_avg_pool2d(x, 2)
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    >>> adaptive_avg_pool2d(x, (1, None)).shape
    (1, 1, 1, 4)
    """
    return _adaptive_avg(input, output_size, 2)


def adaptive_avg_pool3d(input: Any, output_size: int | Sequence[int | None]) -> Any:
    """Average pooling of ``input`` (N, C, D, H, W) or (C, D, H, W) to ``output_size``.

    >>> adaptive_avg_pool3d(np.arange(8.).reshape(1, 2, 2, 2), 1)
    array([[[[3.5]]]])
    """
    return _adaptive_avg(input, output_size, 3)


def adaptive_max_pool1d(
    input: Any, output_size: int | Sequence[int], return_indices: bool = False
) -> Any:
    """Max pooling of ``input`` (N, C, L) or (C, L) to ``output_size`` positions.

    Windows as in :func:`adaptive_avg_pool1d`; indices as in :func:`max_pool1d`.

    >>> adaptive_max_pool1d(np.array([[1., 5., 3., 4., 2.]]), 2, return_indices=True)
    (array([[5., 4.]]), array([[1, 3]]))
    """
    return _adaptive_max(input, output_size, return_indices, 1)


def adaptive_max_pool2d(
    input: Any, output_size: int | Sequence[int | None], return_indices: bool = False
) -> Any:
    """Max pooling of ``input`` (N, C, H, W) or (C, H, W) to an ``output_size`` grid.

    Like ``F.adaptive_max_pool2d``; indices are flat, ``h * W + w``.

    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> adaptive_max_pool2d(x, 2, return_indices=True)[1]
    array([[[[ 5,  7],
             [13, 15]]]])
    """
    return _adaptive_max(input, output_size, return_indices, 2)


def adaptive_max_pool3d(
    input: Any, output_size: int | Sequence[int | None], return_indices: bool = False
) -> Any:
    """Max pooling of ``input`` (N, C, D, H, W) or (C, D, H, W) to ``output_size``.

    >>> adaptive_max_pool3d(np.arange(8.).reshape(1, 2, 2, 2), 1)
    array([[[[7.]]]])
    """
    return _adaptive_max(input, output_size, return_indices, 3)


def global_avg_pool2d(input: Any) -> Any:
    """Mean over each whole feature map: (N, C, H, W) -> (N, C, 1, 1), dims kept.

    The same as ``adaptive_avg_pool2d(input, 1)``.

    >>> global_avg_pool2d(np.arange(8.).reshape(2, 2, 2))
    array([[[1.5]],
    <BLANKLINE>
           [[5.5]]])
    """
    return adaptive_avg_pool2d(input, 1)


def global_max_pool2d(input: Any, return_indices: bool = False) -> Any:
    """Maximum of each whole feature map: (N, C, H, W) -> (N, C, 1, 1), dims kept.

    The same as ``adaptive_max_pool2d(input, 1, return_indices)``.

    >>> global_max_pool2d(np.array([[[1., 9.], [4., 2.]]]), return_indices=True)
    (array([[[9.]]]), array([[[1]]]))
    """
    return adaptive_max_pool2d(input, 1, return_indices)


# --- backward ------------------------------------------------------------------------


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
    grad_output: Any,
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> Any:
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
    grad_output: Any,
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> Any:
    """Gradient of :func:`max_pool2d` with respect to ``input``; see :func:`max_pool1d_backward`.

    >>> x = np.array([[[1., 2.], [4., 3.]]])
    >>> max_pool2d_backward(np.array([[[10.]]]), x, 2)
    array([[[ 0.,  0.],
            [10.,  0.]]])
    """
    return _max_pool_backward(grad_output, input, kernel_size, stride, padding, dilation,
                              ceil_mode, 2)


def max_pool3d_backward(
    grad_output: Any,
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> Any:
    """Gradient of :func:`max_pool3d` with respect to ``input``; see :func:`max_pool1d_backward`.

    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> max_pool3d_backward(np.ones((1, 1, 1, 1)), x, 2).ravel()
    array([0., 0., 0., 0., 0., 0., 0., 1.])
    """
    return _max_pool_backward(grad_output, input, kernel_size, stride, padding, dilation,
                              ceil_mode, 3)


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
    grad_output: Any,
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Any:
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
    grad_output: Any,
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Any:
    """Gradient of :func:`avg_pool2d` with respect to ``input``; see :func:`avg_pool1d_backward`.

    >>> avg_pool2d_backward(np.array([[[4.]]]), np.zeros((1, 2, 2)), 2)
    array([[[1., 1.],
            [1., 1.]]])
    """
    return _avg_pool_backward(grad_output, input, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, divisor_override, 2)


def avg_pool3d_backward(
    grad_output: Any,
    input: Any,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Any:
    """Gradient of :func:`avg_pool3d` with respect to ``input``; see :func:`avg_pool1d_backward`.

    >>> avg_pool3d_backward(np.array([[[[8.]]]]), np.zeros((1, 2, 2, 2)), 2).ravel()
    array([1., 1., 1., 1., 1., 1., 1., 1.])
    """
    return _avg_pool_backward(grad_output, input, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, divisor_override, 3)


def _adaptive_avg_backward(grad_output, input, output_size, nd):
    name = f"adaptive_avg_pool{nd}d"
    kind = backend_of(grad_output=grad_output, input=input)
    out = check_adaptive_pool(input, output_size, nd, name)
    check_grad_output(grad_output, _out_shape(input, out),
                      f"{name} of input {tuple(input.shape)} with output_size {out}")
    if kind == "torch":
        import torch.nn.functional as F

        return _torch_input_grad(lambda x: getattr(F, name)(x, out), grad_output, input)
    # the forward pass multiplies by A along each axis; its adjoint by A transposed
    matrices = [_averaging_matrix(n, o, input.dtype).T for n, o in zip(input.shape[-nd:], out)]
    return _along_axes(grad_output, matrices)


def _adaptive_max_backward(grad_output, input, output_size, nd):
    name = f"adaptive_max_pool{nd}d"
    kind = backend_of(grad_output=grad_output, input=input)
    out = check_adaptive_pool(input, output_size, nd, name)
    check_grad_output(grad_output, _out_shape(input, out),
                      f"{name} of input {tuple(input.shape)} with output_size {out}")
    if kind == "torch":
        import torch.nn.functional as F

        return _torch_input_grad(lambda x: getattr(F, name)(x, out), grad_output, input)
    _, index = _adaptive_max_numpy(input, out, True)
    return _scatter_to_argmax(grad_output, index, input, nd)


def adaptive_avg_pool1d_backward(
    grad_output: Any, input: Any, output_size: int | Sequence[int]
) -> Any:
    """Gradient of :func:`adaptive_avg_pool1d` with respect to ``input``.

    Output ``i`` averages its window, so every element of the window receives
    ``grad[i] / window length``; where windows overlap the shares add.

    >>> adaptive_avg_pool1d_backward(np.array([[3., 6.]]), np.zeros((1, 5)), 2)
    array([[1., 1., 3., 2., 2.]])
    """
    return _adaptive_avg_backward(grad_output, input, output_size, 1)


def adaptive_avg_pool2d_backward(
    grad_output: Any, input: Any, output_size: int | Sequence[int | None]
) -> Any:
    """Gradient of :func:`adaptive_avg_pool2d`; see :func:`adaptive_avg_pool1d_backward`.

    >>> adaptive_avg_pool2d_backward(np.array([[[4.]]]), np.zeros((1, 2, 2)), 1)
    array([[[1., 1.],
            [1., 1.]]])
    """
    return _adaptive_avg_backward(grad_output, input, output_size, 2)


def adaptive_avg_pool3d_backward(
    grad_output: Any, input: Any, output_size: int | Sequence[int | None]
) -> Any:
    """Gradient of :func:`adaptive_avg_pool3d`; see :func:`adaptive_avg_pool1d_backward`.

    >>> adaptive_avg_pool3d_backward(np.array([[[[8.]]]]), np.zeros((1, 2, 2, 2)), 1).sum()
    np.float64(8.0)
    """
    return _adaptive_avg_backward(grad_output, input, output_size, 3)


def adaptive_max_pool1d_backward(
    grad_output: Any, input: Any, output_size: int | Sequence[int]
) -> Any:
    """Gradient of :func:`adaptive_max_pool1d`: each output's gradient goes to its argmax.

    >>> g, x = np.array([[1., 2.]]), np.array([[1., 5., 3., 4., 2.]])
    >>> adaptive_max_pool1d_backward(g, x, 2)
    array([[0., 1., 0., 2., 0.]])
    """
    return _adaptive_max_backward(grad_output, input, output_size, 1)


def adaptive_max_pool2d_backward(
    grad_output: Any, input: Any, output_size: int | Sequence[int | None]
) -> Any:
    """Gradient of :func:`adaptive_max_pool2d`; see :func:`adaptive_max_pool1d_backward`.

    >>> x = np.array([[[1., 2.], [4., 3.]]])
    >>> adaptive_max_pool2d_backward(np.array([[[5.]]]), x, 1)
    array([[[0., 0.],
            [5., 0.]]])
    """
    return _adaptive_max_backward(grad_output, input, output_size, 2)


def adaptive_max_pool3d_backward(
    grad_output: Any, input: Any, output_size: int | Sequence[int | None]
) -> Any:
    """Gradient of :func:`adaptive_max_pool3d`; see :func:`adaptive_max_pool1d_backward`.

    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> adaptive_max_pool3d_backward(np.ones((1, 1, 1, 1)), x, 1).ravel()
    array([0., 0., 0., 0., 0., 0., 0., 1.])
    """
    return _adaptive_max_backward(grad_output, input, output_size, 3)
