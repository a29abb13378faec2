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

from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import PoolParams, check_divisor, check_pool
from ._common import (
    _outer_product,
    _padded_windows,
    _spread,
)
from ._wrappers import WINDOW, Args, Kind, param

__all__ = ["AVG"]


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


def _check(input: Any, args: Args, nd: int, name: str) -> PoolParams:
    p = check_pool(input, args["kernel_size"], args["stride"], args["padding"], 1,
                   args["ceil_mode"], nd, name, kernel_within_input=nd == 3)
    check_divisor(args.get("divisor_override"), input)
    return p


def _torch(fn: Callable[..., Any], input: Any, p: PoolParams, args: Args) -> Any:
    # F.avg_pool1d has no divisor_override, and neither has avg_pool1d
    extra = (args["divisor_override"],) if "divisor_override" in args else ()
    return fn(input, p.kernel, p.stride, p.pad, p.ceil_mode, bool(args["count_include_pad"]),
              *extra)


def _numpy(input: np.ndarray, p: PoolParams, args: Args) -> np.ndarray:
    return _avg_pool_numpy(input, p, bool(args["count_include_pad"]),
                           args.get("divisor_override"))


def _numpy_backward(grad_output: np.ndarray, input: np.ndarray, p: PoolParams,
                    args: Args) -> np.ndarray:
    divisor = _avg_divisor(input.shape[-p.nd:], p, bool(args["count_include_pad"]),
                           args.get("divisor_override"))
    share = grad_output / divisor.astype(input.dtype)
    return _spread(input, p, lambda number: share)


AVG = Kind(
    family="avg_pool",
    parameters=(
        *WINDOW,
        param("ceil_mode", bool, False),
        param("count_include_pad", bool, True),
        param("divisor_override", int | None, None),
    ),
    check=_check,
    torch=_torch,
    numpy=_numpy,
    numpy_backward=_numpy_backward,
    not_in_1d=frozenset({"divisor_override"}),
)
