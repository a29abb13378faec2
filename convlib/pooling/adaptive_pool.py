"""Adaptive and global pooling (average and max) in 1, 2 and 3-D, forward and backward.

Adaptive pooling splits each dimension of size ``n`` into ``out`` windows
``[floor(i n / out), ceil((i + 1) n / out))``, which overlap when ``out`` does not divide
``n``:

- adaptive average pooling is one small averaging matrix per dimension, applied along
  its axis; its backward applies the transposed matrices;
- adaptive max pooling gathers every window at once (windows differ in length, so
  shorter ones are padded with masked repeats) and picks the winner by max pooling's
  rule (first maximum, last NaN); its backward sends each output gradient to its argmax
  with one ``np.bincount`` over the flat indices, so repeated winners add up.

Global pooling is adaptive pooling to one value per feature map. Torch tensors use
``torch.nn.functional`` and autograd.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._backend import Array, backend_of
from .._checks import check_adaptive_pool, check_grad_output
from ._common import _out_shape, _plane_strides, _torch_input_grad

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "global_avg_pool2d", "global_max_pool2d",
    "adaptive_avg_pool1d_backward", "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool3d_backward",
    "adaptive_max_pool1d_backward", "adaptive_max_pool2d_backward",
    "adaptive_max_pool3d_backward",
]


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


def _scatter_to_argmax(grad_output: np.ndarray, index: np.ndarray, input: np.ndarray, nd: int):
    """Add each output gradient to its argmax: ``dx.flat[plane, index] += grad``."""
    spatial = input.shape[-nd:]
    planes = math.prod(input.shape[:-nd])
    size = math.prod(spatial)
    per_plane = math.prod(index.shape[-nd:])
    flat = index.reshape(planes, per_plane) + (np.arange(planes) * size)[:, None]
    dx = np.bincount(flat.ravel(), weights=grad_output.reshape(-1), minlength=planes * size)
    return dx.reshape(input.shape).astype(input.dtype, copy=False)


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


def adaptive_avg_pool1d(input: Array, output_size: int | Sequence[int]) -> Any:
    """Average pooling of ``input`` (N, C, L) or (C, L) to ``output_size`` positions.

    Window ``i`` covers ``[floor(i L / out), ceil((i + 1) L / out))``, so neighbouring
    windows overlap when ``out`` does not divide ``L``.

    >>> adaptive_avg_pool1d(np.array([[1., 2., 3., 4., 5.]]), 2)
    array([[2., 4.]])
    """
    return _adaptive_avg(input, output_size, 1)


def adaptive_avg_pool2d(input: Array, output_size: int | Sequence[int | None]) -> Any:
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


def adaptive_avg_pool3d(input: Array, output_size: int | Sequence[int | None]) -> Any:
    """Average pooling of ``input`` (N, C, D, H, W) or (C, D, H, W) to ``output_size``.

    >>> adaptive_avg_pool3d(np.arange(8.).reshape(1, 2, 2, 2), 1)
    array([[[[3.5]]]])
    """
    return _adaptive_avg(input, output_size, 3)


def adaptive_max_pool1d(
    input: Array, output_size: int | Sequence[int], return_indices: bool = False
) -> Array:
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


def global_avg_pool2d(input: Array) -> Any:
    """Mean over each whole feature map: (N, C, H, W) -> (N, C, 1, 1), dims kept.

    The same as ``adaptive_avg_pool2d(input, 1)``.

    >>> global_avg_pool2d(np.arange(8.).reshape(2, 2, 2))
    array([[[1.5]],
    <BLANKLINE>
           [[5.5]]])
    """
    return adaptive_avg_pool2d(input, 1)


def global_max_pool2d(input: Array, return_indices: bool = False) -> Any:
    """Maximum of each whole feature map: (N, C, H, W) -> (N, C, 1, 1), dims kept.

    The same as ``adaptive_max_pool2d(input, 1, return_indices)``.

    >>> global_max_pool2d(np.array([[[1., 9.], [4., 2.]]]), return_indices=True)
    (array([[[9.]]]), array([[[1]]]))
    """
    return adaptive_max_pool2d(input, 1, return_indices)


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
    grad_output: Array, input: Array, output_size: int | Sequence[int]
) -> Array:
    """Gradient of :func:`adaptive_avg_pool1d` with respect to ``input``.

    Output ``i`` averages its window, so every element of the window receives
    ``grad[i] / window length``; where windows overlap the shares add.

    >>> adaptive_avg_pool1d_backward(np.array([[3., 6.]]), np.zeros((1, 5)), 2)
    array([[1., 1., 3., 2., 2.]])
    """
    return _adaptive_avg_backward(grad_output, input, output_size, 1)


def adaptive_avg_pool2d_backward(
    grad_output: Array, input: Array, output_size: int | Sequence[int | None]
) -> Array:
    """Gradient of :func:`adaptive_avg_pool2d`; see :func:`adaptive_avg_pool1d_backward`.

    >>> adaptive_avg_pool2d_backward(np.array([[[4.]]]), np.zeros((1, 2, 2)), 1)
    array([[[1., 1.],
            [1., 1.]]])
    """
    return _adaptive_avg_backward(grad_output, input, output_size, 2)


def adaptive_avg_pool3d_backward(
    grad_output: Array, input: Array, output_size: int | Sequence[int | None]
) -> Array:
    """Gradient of :func:`adaptive_avg_pool3d`; see :func:`adaptive_avg_pool1d_backward`.

    >>> adaptive_avg_pool3d_backward(np.array([[[[8.]]]]), np.zeros((1, 2, 2, 2)), 1).sum()
    np.float64(8.0)
    """
    return _adaptive_avg_backward(grad_output, input, output_size, 3)


def adaptive_max_pool1d_backward(
    grad_output: Array, input: Array, output_size: int | Sequence[int]
) -> Array:
    """Gradient of :func:`adaptive_max_pool1d`: each output's gradient goes to its argmax.

    >>> g, x = np.array([[1., 2.]]), np.array([[1., 5., 3., 4., 2.]])
    >>> adaptive_max_pool1d_backward(g, x, 2)
    array([[0., 1., 0., 2., 0.]])
    """
    return _adaptive_max_backward(grad_output, input, output_size, 1)


def adaptive_max_pool2d_backward(
    grad_output: Array, input: Array, output_size: int | Sequence[int | None]
) -> Array:
    """Gradient of :func:`adaptive_max_pool2d`; see :func:`adaptive_max_pool1d_backward`.

    >>> x = np.array([[[1., 2.], [4., 3.]]])
    >>> adaptive_max_pool2d_backward(np.array([[[5.]]]), x, 1)
    array([[[0., 0.],
            [5., 0.]]])
    """
    return _adaptive_max_backward(grad_output, input, output_size, 2)


def adaptive_max_pool3d_backward(
    grad_output: Array, input: Array, output_size: int | Sequence[int | None]
) -> Array:
    """Gradient of :func:`adaptive_max_pool3d`; see :func:`adaptive_max_pool1d_backward`.

    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> adaptive_max_pool3d_backward(np.ones((1, 1, 1, 1)), x, 1).ravel()
    array([0., 0., 0., 0., 0., 0., 0., 1.])
    """
    return _adaptive_max_backward(grad_output, input, output_size, 3)
