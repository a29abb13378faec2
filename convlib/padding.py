"""Padding with ``torch.nn.functional.pad`` semantics, for NumPy arrays and tensors."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ._backend import backend_of, describe

__all__ = ["pad", "pad_spatial", "numpy_mode", "pad_limit"]

NumpyPadMode = Literal["constant", "reflect", "edge", "wrap"]

_NUMPY_MODES: dict[str, NumpyPadMode] = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}
# conv's padding_mode names the same operations differently (the one table of both names)
CONV_TO_PAD_MODE = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


def pad_limit(mode: str, size: int) -> int | None:
    """The most ``mode`` may pad either side of a dimension of ``size``: ``reflect``
    mirrors without repeating the edge (``size - 1``), ``circular`` wraps around once
    (``size``); ``replicate`` and zeros have no limit (None). Used by :func:`pad` and by
    the convolutions' ``padding_mode``.

    >>> pad_limit("reflect", 4), pad_limit("circular", 4), pad_limit("replicate", 4)
    (3, 4, None)
    """
    if mode == "reflect":
        return size - 1
    if mode == "circular":
        return size
    return None


def numpy_mode(padding_mode: str) -> NumpyPadMode:
    """``np.pad``'s name for a convolution's ``padding_mode`` (one table for both names).

    >>> numpy_mode("replicate"), numpy_mode("circular"), numpy_mode("zeros")
    ('edge', 'wrap', 'constant')
    """
    return _NUMPY_MODES[CONV_TO_PAD_MODE[padding_mode]]


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Any:
    """Pad the last ``len(pad) // 2`` dimensions of ``input``, like ``F.pad``.

    ``pad`` lists ``(before, after)`` amounts starting from the **last** dimension:
    ``(left, right, top, bottom)`` pads width then height. ``mode`` is ``"constant"``
    (filled with ``value``), ``"reflect"`` (mirror without repeating the edge),
    ``"replicate"`` (repeat the edge) or ``"circular"`` (wrap around). Negative amounts
    crop, in every mode, as torch does: reflect and replicate map each output to an index
    of the whole input (so a crop on one side leaves the mirror of the other unchanged),
    circular wraps around what the crop leaves.

    >>> x = np.array([[1., 2., 3.]])
    >>> pad(x, (2, 1), mode="reflect")
    array([[3., 2., 1., 2., 3., 2.]])
    >>> pad(x, (1, 1), mode="circular")
    array([[3., 1., 2., 3., 1.]])
    >>> pad(x, (-1, 2), mode="reflect")
    array([[2., 3., 2., 1.]])
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
    k = len(pad) // 2
    # (torch also wants a (k+1)- or (k+2)-D input in the non-constant modes; convlib pads
    # a plain image or signal too, which the chapters do)
    if mode in ("reflect", "replicate") and any(n == 0 for n in input.shape[input.ndim - k :]):
        raise ValueError(
            f"{mode} padding needs non-zero sizes in the padded dimensions, got "
            f"{describe(input)}"
        )
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(k)][::-1]
    widths = [(0, 0)] * (input.ndim - k) + pairs
    for dim, (lo, hi) in enumerate(widths):
        _check_amounts(mode, lo, hi, input.shape[dim], dim, tuple(pad), input.shape)
    sizes = [n + lo + hi for n, (lo, hi) in zip(input.shape[-k:], pairs)]
    if mode in ("reflect", "replicate") and all(n < 1 for n in sizes):
        raise ValueError(
            f"pad {tuple(pad)} leaves the padded dimensions of input shape "
            f"{tuple(input.shape)} with sizes {tuple(sizes)}; {mode} padding needs one "
            f"non-empty"
        )
    if kind == "torch":
        import torch.nn.functional as F

        if mode == "constant":
            return F.pad(input, tuple(pad), mode=mode, value=value)
        return F.pad(input, tuple(pad), mode=mode)
    if mode in ("reflect", "replicate") and any(lo < 0 or hi < 0 for lo, hi in widths):
        # torch reads these modes as an index map over the whole input, cropping included:
        # output j of a dimension of size n copies input index m(j - lo)
        out = input
        for dim, (lo, hi) in enumerate(widths):
            if lo or hi:
                index = np.arange(-lo, out.shape[dim] + hi)
                n = out.shape[dim]
                if mode == "reflect":
                    index = np.abs(index)
                    index = np.where(index > n - 1, 2 * (n - 1) - index, index)
                else:
                    index = np.clip(index, 0, n - 1)
                out = np.take(out, index, axis=dim)
        return out
    # constant and circular: crop first, then pad what is left (circular wraps around the
    # cropped input, as torch does)
    crop = tuple(
        slice(max(-lo, 0), size - max(-hi, 0)) for (lo, hi), size in zip(widths, input.shape)
    )
    x = input[crop]
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return np.pad(x, grow, mode="constant", constant_values=value)
    return np.pad(x, grow, mode=_NUMPY_MODES[mode])


def _check_amounts(mode: str, lo: int, hi: int, size: int, dim: int, pad, shape) -> None:
    """torch's limits on the amounts of one dimension: a ``ValueError`` naming them."""
    out = size + lo + hi
    cropped = size + min(lo, 0) + min(hi, 0)
    if mode in ("reflect", "replicate"):  # an index map: only the output size counts
        if out < 0:
            raise ValueError(
                f"pad {pad} leaves dimension {dim} of input shape {tuple(shape)} with {out} "
                f"elements"
            )
    elif cropped < 0:
        raise ValueError(
            f"pad {pad} crops {-min(lo, 0) - min(hi, 0)} elements from dimension {dim} of "
            f"input shape {tuple(shape)}, which has only {size}"
        )
    limit = pad_limit(mode, size if mode == "reflect" else cropped)
    if mode == "reflect" and max(lo, hi) > 0 and limit is not None and max(lo, hi) > limit:
        raise ValueError(
            f"reflect padding of {max(lo, hi)} needs dimension {dim} larger than that; "
            f"input has shape {tuple(shape)}"
        )
    if mode == "circular" and limit is not None and max(lo, hi) > limit:
        raise ValueError(
            f"circular padding of {max(lo, hi)} needs dimension {dim} at least that large "
            f"after cropping ({cropped} of {size} left by pad {pad}); input has shape "
            f"{tuple(shape)}"
        )


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
    return pad(x, flat, mode=CONV_TO_PAD_MODE[padding_mode])
