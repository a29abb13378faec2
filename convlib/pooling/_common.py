"""What max, average and adaptive pooling share: the padded windows view, the padded
gradient buffer, autograd for the torch path, and the messages' description of a call."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _windows as W
from .._checks import PoolParams
from ..padding import pad

IntOrTuple = int | Sequence[int]


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
    inside: tuple[Any, ...] = (Ellipsis, *(slice(q, q + n)
                                           for q, n in zip(p.pad, input.shape[-p.nd:])))
    return grad[inside].copy()


def _spread(input: np.ndarray, p: PoolParams,
            share: Callable[[int], np.ndarray]) -> np.ndarray:
    """The adjoint of the windows view: for each kernel offset (numbered row-major), one
    strided addition of ``share(number)``, output-shaped, to the input elements that
    offset reads; the part that falls on padding is dropped."""
    grad = _padded_zeros(input, p)
    for number, offset in enumerate(np.ndindex(*p.kernel)):
        grad[W.tap_slices(offset, p.out, p.stride, p.dilation)] += share(number)
    return _unpad(grad, input, p)


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
