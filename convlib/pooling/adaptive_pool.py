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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._checks import check_adaptive_pool
from ._common import _plane_strides
from ._wrappers import Args, Kind, param

__all__ = ["ADAPTIVE_AVG", "ADAPTIVE_MAX"]


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


def _check(input: Any, args: Args, nd: int, name: str) -> tuple[int, ...]:
    return check_adaptive_pool(input, args["output_size"], nd, name)


def _describe(name: str, input: Any, out: tuple[int, ...]) -> str:
    return f"{name} of input {tuple(input.shape)} with output_size {out}"


def _avg_numpy(input: np.ndarray, out: tuple[int, ...], args: Args) -> np.ndarray:
    matrices = [_averaging_matrix(n, o, input.dtype) for n, o in zip(input.shape[-len(out):], out)]
    return _along_axes(input, matrices)


def _avg_numpy_backward(grad_output: np.ndarray, input: np.ndarray, out: tuple[int, ...],
                        args: Args) -> np.ndarray:
    # the forward pass multiplies by A along each axis; its adjoint by A transposed
    matrices = [_averaging_matrix(n, o, input.dtype).T
                for n, o in zip(input.shape[-len(out):], out)]
    return _along_axes(grad_output, matrices)


def _max_torch(fn: Callable[..., Any], input: Any, out: tuple[int, ...], args: Args) -> Any:
    return fn(input, out, return_indices=bool(args.get("return_indices", False)))


def _max_numpy(input: np.ndarray, out: tuple[int, ...], args: Args) -> Any:
    value, index = _adaptive_max_numpy(input, out, bool(args["return_indices"]))
    return value if index is None else (value, index)


def _max_numpy_backward(grad_output: np.ndarray, input: np.ndarray, out: tuple[int, ...],
                        args: Args) -> np.ndarray:
    _, index = _adaptive_max_numpy(input, out, True)
    return _scatter_to_argmax(grad_output, index, input, len(out))


OutputSize = int | Sequence[int | None]

ADAPTIVE_AVG = Kind(
    family="adaptive_avg_pool",
    parameters=(param("output_size", OutputSize),),
    check=_check,
    torch=lambda fn, input, out, args: fn(input, out),
    numpy=_avg_numpy,
    numpy_backward=_avg_numpy_backward,
    out=lambda out: out,
    describe=_describe,
    returns=Any,
)

ADAPTIVE_MAX = Kind(
    family="adaptive_max_pool",
    parameters=(param("output_size", OutputSize), param("return_indices", bool, False)),
    check=_check,
    torch=_max_torch,
    numpy=_max_numpy,
    numpy_backward=_max_numpy_backward,
    out=lambda out: out,
    describe=_describe,
    returns=Any,
    forward_only=frozenset({"return_indices"}),
)
