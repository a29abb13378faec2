"""Padding with ``torch.nn.functional.pad`` semantics, for NumPy arrays and tensors."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._backend import backend_of, describe

__all__ = ["pad", "pad_spatial"]

_NUMPY_MODES = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}
# conv's padding_mode names the same operations differently
_CONV_TO_PAD_MODE = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Any:
    """Pad the last ``len(pad) // 2`` dimensions of ``input``, like ``F.pad``.

    ``pad`` lists ``(before, after)`` amounts starting from the **last** dimension:
    ``(left, right, top, bottom)`` pads width then height. ``mode`` is ``"constant"``
    (filled with ``value``), ``"reflect"`` (mirror without repeating the edge),
    ``"replicate"`` (repeat the edge) or ``"circular"`` (wrap around). Negative amounts
    crop, in constant mode.

    >>> x = np.array([[1., 2., 3.]])
    >>> pad(x, (2, 1), mode="reflect")
    array([[3., 2., 1., 2., 3., 2.]])
    >>> pad(x, (1, 1), mode="circular")
    array([[3., 1., 2., 3., 1.]])
    """
    kind = backend_of(input=input)
    if (
        not isinstance(pad, Sequence)
        or isinstance(pad, str)
        or not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in pad)
    ):
        raise TypeError(f"pad must be a sequence of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad must have an even length (before, after pairs), got {tuple(pad)}")
    if len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad {tuple(pad)} pads {len(pad) // 2} dimensions but input is only "
            f"{input.ndim}-D ({describe(input)})"
        )
    if mode not in _NUMPY_MODES:
        raise ValueError(f"mode must be one of {tuple(_NUMPY_MODES)}, got {mode!r}")
    if kind == "torch":
        import torch.nn.functional as F

        if mode == "constant":
            return F.pad(input, tuple(pad), mode=mode, value=value)
        return F.pad(input, tuple(pad), mode=mode)
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)][::-1]
    lead = input.ndim - len(pairs)
    widths = [(0, 0)] * lead + pairs
    for dim, (lo, hi) in enumerate(widths):
        size = input.shape[dim]
        if mode != "constant" and (lo < 0 or hi < 0):
            raise ValueError(f"negative pad {tuple(pad)} is only supported in constant mode")
        if mode == "reflect" and max(lo, hi) >= size:
            raise ValueError(
                f"reflect padding of {max(lo, hi)} needs dimension {dim} larger than that; "
                f"input has shape {input.shape}"
            )
        if mode == "circular" and max(lo, hi) > size:
            raise ValueError(
                f"circular padding of {max(lo, hi)} needs dimension {dim} at least that "
                f"large; input has shape {input.shape}"
            )
        if lo + hi + size < 0:
            raise ValueError(
                f"pad {tuple(pad)} crops dimension {dim} of shape {input.shape} below 0"
            )
    crop = tuple(
        slice(max(-lo, 0), size - max(-hi, 0)) for (lo, hi), size in zip(widths, input.shape)
    )
    x = input[crop]
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return np.pad(x, grow, mode="constant", constant_values=value)
    return np.pad(x, grow, mode=_NUMPY_MODES[mode])


def pad_spatial(x: Any, pairs: Sequence[tuple[int, int]], padding_mode: str = "zeros") -> Any:
    """Pad the trailing spatial dims of ``x`` by ``(before, after)`` pairs, first dim first.

    The helper every convolution uses; ``padding_mode`` takes conv's names
    (``"zeros"``, ``"reflect"``, ``"replicate"``, ``"circular"``).

    >>> pad_spatial(np.ones((1, 1, 2)), [(1, 0)]).tolist()
    [[[0.0, 1.0, 1.0]]]
    """
    if all(lo == 0 and hi == 0 for lo, hi in pairs):
        return x
    flat = [amount for lo, hi in reversed(list(pairs)) for amount in (lo, hi)]
    return pad(x, flat, mode=_CONV_TO_PAD_MODE[padding_mode])
