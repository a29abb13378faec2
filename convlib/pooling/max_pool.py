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

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._checks import PoolParams, check_pool
from ._common import (
    IntOrTuple,
    _padded_windows,
    _plane_strides,
    _spread,
)
from ._wrappers import WINDOW, Args, Kind, param

__all__ = ["MAX"]


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


def _check(input: Any, args: Args, nd: int, name: str) -> PoolParams:
    return check_pool(input, args["kernel_size"], args["stride"], args["padding"],
                      args["dilation"], args["ceil_mode"], nd, name)


def _torch(fn: Callable[..., Any], input: Any, p: PoolParams, args: Args) -> Any:
    return fn(input, p.kernel, p.stride, p.pad, p.dilation, p.ceil_mode,
              return_indices=bool(args.get("return_indices", False)))


def _numpy(input: np.ndarray, p: PoolParams, args: Args) -> Any:
    out, winner = _max_pool_numpy(input, p, bool(args["return_indices"]))
    if winner is None:
        return out
    return out, _winner_to_index(winner, p, input.shape[-p.nd:])


def _numpy_backward(grad_output: np.ndarray, input: np.ndarray, p: PoolParams,
                    args: Args) -> np.ndarray:
    _, winner = _max_pool_numpy(input, p, True)
    # one strided addition per kernel offset: the gradients of the windows it won
    zero = np.zeros((), dtype=input.dtype)
    return _spread(input, p, lambda number: np.where(winner == number, grad_output, zero))


MAX = Kind(
    family="max_pool",
    parameters=(
        *WINDOW,
        param("dilation", IntOrTuple, 1),
        param("ceil_mode", bool, False),
        param("return_indices", bool, False),
    ),
    check=_check,
    torch=_torch,
    numpy=_numpy,
    numpy_backward=_numpy_backward,
    returns=Any,
    forward_only=frozenset({"return_indices"}),
)
