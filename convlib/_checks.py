"""Argument checking shared by every operation and both backends.

Each function either returns the argument in a normal form (tuples of ints, one
per spatial dimension) or raises ``ValueError``/``TypeError`` with a message that
names the argument and the shapes involved. Keeping the checks in one place means
the NumPy reference and the torch path reject exactly the same inputs.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._backend import describe
from ._windows import same_pad, span, transposed_size, window_counts
from .padding import pad_limit

__all__ = [
    "PADDING_MODES",
    "as_tuple",
    "as_pair",
    "check_ndim",
    "check_batched",
    "check_kernel_fits",
    "check_mode_pad",
    "check_divisor",
    "check_conv",
    "check_conv_transpose",
    "check_output_padding",
    "check_method",
    "ConvParams",
    "PoolParams",
    "check_pool",
    "check_adaptive_pool",
    "check_grad_output",
]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def as_tuple(value: Any, n: int, name: str, *, minimum: int = 1) -> tuple[int, ...]:
    """Normalise an int or a length-``n`` sequence of ints to a tuple of ``n`` ints.

    >>> as_tuple(2, 3, "stride")
    (2, 2, 2)
    >>> as_tuple((1, 2), 2, "dilation")
    (1, 2)
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got bool {value}")
    if isinstance(value, numbers.Integral):
        values = (int(value),) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == 1 and n > 1:
            value = tuple(value) * n
        if len(value) != n:
            raise ValueError(
                f"{name} must be an int or a tuple of {n} ints (one per spatial "
                f"dimension), got {tuple(value)!r} of length {len(value)}"
            )
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
            raise TypeError(f"{name} must contain ints, got {tuple(value)!r}")
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    for v in values:
        if v < minimum:
            what = "positive" if minimum == 1 else f">= {minimum}"
            raise ValueError(f"{name} must be {what}, got {value!r}")
    return values


def as_pair(value: Any, name: str, one_d: bool, *, minimum: int = 1) -> tuple[int, int]:
    """An int or a tuple as a (row, column) pair of ints ``>= minimum``; a 1-D value ``v``
    becomes ``(minimum, v)``, a one-row picture: ``(1, v)`` for a stride or dilation,
    ``(0, v)`` for a padding (``minimum=0``). ``name`` only names the argument in messages.

    >>> as_pair(2, "stride", one_d=False), as_pair((3,), "padding", one_d=True, minimum=0)
    ((2, 2), (0, 3))
    >>> as_pair(0, "output_padding", one_d=False, minimum=0)
    (0, 0)
    """
    if one_d:
        (v,) = as_tuple(value, 1, name, minimum=minimum)
        return (minimum, v)
    row, column = as_tuple(value, 2, name, minimum=minimum)
    return row, column


def check_ndim(x: Any, expected: int, name: str, layout: str) -> None:
    """Raise ``ValueError`` unless ``x`` has ``expected`` dimensions (``layout`` names them)."""
    if x.ndim != expected:
        raise ValueError(
            f"{name} must be {expected}-D ({layout}), got {describe(x)}"
        )


def check_batched(x: Any, nd: int, name: str = "input") -> bool:
    """True for a batch ``(N, C, *spatial)``, False for one sample ``(C, *spatial)``, as
    torch reads the input of its ``nd``-dimensional convolutions and poolings; a
    ``ValueError`` naming both layouts otherwise.

    >>> import numpy as np
    >>> check_batched(np.zeros((3, 5, 5)), 2)
    False
    """
    dims = _spatial_names(nd)
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{name} must be {nd + 1}-D (C, {dims}) or {nd + 2}-D (N, C, {dims}), got "
            f"{describe(x)}"
        )
    return x.ndim == nd + 2


def _spatial_names(nd: int) -> str:
    return {1: "L", 2: "H, W", 3: "D, H, W"}.get(nd, f"{nd} spatial")


def check_kernel_fits(
    spatial: Sequence[int], kernel: Sequence[int], dilation: Sequence[int],
    pads: Sequence[tuple[int, int]], kernel_name: str, input_name: str,
) -> None:
    """Raise ``ValueError`` unless every window fits the padded input: the span
    ``d(k-1) + 1`` at most ``n + p_before + p_after`` in each spatial dim.

    ``kernel_name`` and ``input_name`` name the two sides in the message, e.g.
    ``"weight (6, 4, 3, 3)"`` and ``"input (2, 4, 8, 8)"``.

    >>> check_kernel_fits((8,), (3,), (4,), ((0, 0),), "kernel_size (3,)", "input (1, 8)")
    Traceback (most recent call last):
    ...
    ValueError: kernel larger than the padded input: kernel_size (3,) with dilation (4,) \
spans 9 in spatial dim 0, but input (1, 8) padded by (0, 0) is only 8 there
    """
    for i, (n, k, d, (lo, hi)) in enumerate(zip(spatial, kernel, dilation, pads)):
        if span(k, d) > n + lo + hi:
            raise ValueError(
                f"kernel larger than the padded input: {kernel_name} with dilation "
                f"{tuple(dilation)} spans {span(k, d)} in spatial dim {i}, but {input_name} "
                f"padded by {(lo, hi)} is only {n + lo + hi} there"
            )


@dataclass(frozen=True)
class ConvParams:
    """Normalised convolution parameters for ``nd`` spatial dimensions.

    ``pad`` holds one ``(before, after)`` pair per spatial dimension: "same" padding with
    an even kernel pads one more after than before, as PyTorch does.
    """

    nd: int = field(repr=False)
    stride: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    groups: int
    padding_mode: str

    @property
    def symmetric(self) -> bool:
        return all(lo == hi for lo, hi in self.pad)


def _shapes(input: Any, weight: Any) -> str:
    """The shapes, appended to messages about scalar arguments."""
    return f" (input shape {tuple(input.shape)}, weight shape {tuple(weight.shape)})"


def _layout(nd: int) -> str:
    return "N, C, " + ", ".join("DHW"[3 - nd :]) if nd <= 3 else f"N, C, {nd} spatial"



def _check_groups(groups: Any, input: Any, weight: Any) -> int:
    """``groups`` as an int, or a ``ValueError`` naming it and the shapes."""
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(
            f"groups must be a positive int, got {groups!r}{_shapes(input, weight)}"
        )
    return int(groups)


def check_conv(
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
    padding_mode: str,
    nd: int,
) -> ConvParams:
    """Validate the arguments of an ``nd``-dimensional convolution.

    ``input`` is (N, C_in, *spatial), ``weight`` is (C_out, C_in/groups, *kernel), ``bias``
    is (C_out,) or None. Returns the normalised :class:`ConvParams`.
    """
    layout = _layout(nd)
    check_ndim(input, nd + 2, "input", layout)
    check_ndim(weight, nd + 2, "weight", "C_out, C_in/groups, " + layout[6:])
    groups = _check_groups(groups, input, weight)
    c_in, c_out = input.shape[1], weight.shape[0]
    if c_in % groups:
        raise ValueError(
            f"input channels ({c_in}) must be divisible by groups ({groups}); "
            f"input has shape {tuple(input.shape)}"
        )
    if c_out % groups:
        raise ValueError(
            f"weight's output channels ({c_out}) must be divisible by groups ({groups}); "
            f"weight has shape {tuple(weight.shape)}"
        )
    if weight.shape[1] != c_in // groups:
        raise ValueError(
            f"weight of shape {tuple(weight.shape)} expects {weight.shape[1] * groups} input "
            f"channels (weight.shape[1] * groups), but input of shape {tuple(input.shape)} "
            f"has {c_in}"
        )
    if bias is not None:
        check_ndim(bias, 1, "bias", "C_out")
        if bias.shape[0] != c_out:
            raise ValueError(
                f"bias must have {c_out} elements (one per output channel of weight "
                f"{tuple(weight.shape)}), got shape {tuple(bias.shape)}"
            )
    if padding_mode not in PADDING_MODES:
        raise ValueError(
            f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}"
            f"{_shapes(input, weight)}"
        )
    kernel = tuple(weight.shape[2:])
    try:
        stride = as_tuple(stride, nd, "stride")
        dilation = as_tuple(dilation, nd, "dilation")
        pad = resolve_padding(padding, kernel, stride, dilation, nd)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{e}{_shapes(input, weight)}") from None
    spatial = tuple(input.shape[2:])
    check_kernel_fits(spatial, kernel, dilation, pad, f"weight {tuple(weight.shape)}",
                      f"input {tuple(input.shape)}")
    if padding_mode != "zeros":
        for i in range(nd):
            check_mode_pad(padding_mode, pad[i], spatial[i], i, tuple(input.shape))
    return ConvParams(nd, stride, pad, dilation, groups, padding_mode)


def check_mode_pad(mode: str, pad: tuple[int, int], size: int, dim: int, shape) -> None:
    """Raise ``ValueError`` unless ``mode`` padding of ``pad`` fits a dimension of ``size``
    (the limits of :func:`convlib.padding.pad_limit`)."""
    limit = pad_limit(mode, size)
    if limit is not None and max(pad) > limit:
        raise ValueError(
            f"{mode} padding of {max(pad)} in spatial dim {dim} needs an input of at least "
            f"{max(pad) + (1 if mode == 'reflect' else 0)} there; input has shape {shape}"
        )


def resolve_padding(
    padding: Any,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    nd: int,
) -> tuple[tuple[int, int], ...]:
    """Turn ``padding`` (int, tuple, "same" or "valid") into ``(before, after)`` pairs.

    >>> resolve_padding("same", (4,), (1,), (1,), 1)
    ((1, 2),)
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"padding='same' is not supported for strided convolutions "
                    f"(stride={stride}); use an explicit padding"
                )
            return tuple(same_pad(k, d) for k, d in zip(kernel, dilation))
        raise ValueError(f"padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    values = as_tuple(padding, nd, "padding", minimum=0)
    return tuple((p, p) for p in values)


def check_method(method: Any, allowed: Sequence[str], input: Any) -> None:
    """Raise ``ValueError`` unless ``method`` is one of ``allowed`` for this kind of input.

    >>> check_method("fft", ("auto", "fft"), None)
    """
    if not isinstance(method, str) or method not in allowed:
        raise ValueError(
            f"method must be one of {tuple(allowed)} for {describe(input)}, got {method!r}"
        )


def check_output_padding(output_padding: tuple[int, ...], stride: tuple[int, ...],
                         dilation: tuple[int, ...]) -> None:
    """The output_padding rule of transposed convolutions: in each dimension smaller than
    the stride or the dilation (it only resolves the ambiguity of strided sizes).

    >>> check_output_padding((1,), (2,), (1,))
    >>> check_output_padding((2,), (2,), (1,))
    Traceback (most recent call last):
    ...
    ValueError: output_padding (2,) must be smaller than stride (2,) or dilation (1,) in \
spatial dim 0
    """
    for i, (op, s, d) in enumerate(zip(output_padding, stride, dilation)):
        if op >= max(s, d):
            raise ValueError(
                f"output_padding {tuple(output_padding)} must be smaller than stride "
                f"{tuple(stride)} or dilation {tuple(dilation)} in spatial dim {i}"
            )


def check_conv_transpose(
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: Any,
    dilation: Any,
    nd: int,
) -> tuple[ConvParams, tuple[int, ...]]:
    """Validate the arguments of an ``nd``-dimensional transposed convolution.

    ``input`` is (N, C_in, *spatial), ``weight`` is (C_in, C_out/groups, *kernel) (the
    layout of the convolution it transposes), ``bias`` is (C_out,) or None. ``padding``
    is an int or tuple (no strings, as in PyTorch). Returns the normalised
    :class:`ConvParams` and ``output_padding`` as a tuple.
    """
    layout = _layout(nd)
    check_ndim(input, nd + 2, "input", layout)
    check_ndim(weight, nd + 2, "weight", "C_in, C_out/groups, " + layout[6:])
    groups = _check_groups(groups, input, weight)
    c_in = input.shape[1]
    if c_in % groups:
        raise ValueError(
            f"input channels ({c_in}) must be divisible by groups ({groups}); "
            f"input has shape {tuple(input.shape)}"
        )
    if weight.shape[0] != c_in:
        raise ValueError(
            f"weight of shape {tuple(weight.shape)} expects {weight.shape[0]} input channels "
            f"(weight.shape[0], layout C_in, C_out/groups, ...), but input of shape "
            f"{tuple(input.shape)} has {c_in}"
        )
    c_out = weight.shape[1] * groups
    if bias is not None:
        check_ndim(bias, 1, "bias", "C_out")
        if bias.shape[0] != c_out:
            raise ValueError(
                f"bias must have {c_out} elements (weight.shape[1] * groups for weight "
                f"{tuple(weight.shape)}), got shape {tuple(bias.shape)}"
            )
    if isinstance(padding, str):
        raise ValueError(
            f"padding of a transposed convolution must be an int or a tuple of {nd} ints, "
            f"got {padding!r}{_shapes(input, weight)}"
        )
    try:
        stride = as_tuple(stride, nd, "stride")
        dilation = as_tuple(dilation, nd, "dilation")
        pads = as_tuple(padding, nd, "padding", minimum=0)
        output_padding = as_tuple(output_padding, nd, "output_padding", minimum=0)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{e}{_shapes(input, weight)}") from None
    kernel = tuple(weight.shape[2:])
    spatial = tuple(input.shape[2:])
    check_output_padding(output_padding, stride, dilation)
    for i in range(nd):
        size = transposed_size(spatial[i], kernel[i], stride[i], pads[i], dilation[i],
                               output_padding[i])
        if size < 1:
            raise ValueError(
                f"padding {pads} is too large: input {tuple(input.shape)} with weight "
                f"{tuple(weight.shape)}, stride {stride} and dilation {dilation} gives an "
                f"output size of {size} in spatial dim {i}"
            )
    params = ConvParams(nd, stride, tuple((p, p) for p in pads), dilation, groups, "zeros")
    return params, output_padding


# --- pooling -------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolParams:
    """Normalised pooling parameters: one int per spatial dimension, and the output size."""

    nd: int = field(repr=False)
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pad: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool
    out: tuple[int, ...]


def _pool_input(input: Any, nd: int, name: str) -> None:
    """``input`` is (C, *spatial) or (N, C, *spatial) with non-empty C and spatial dims."""
    check_batched(input, nd, f"input of {name}")
    if any(size == 0 for size in input.shape[-(nd + 1) :]):
        raise ValueError(
            f"input of {name} must have non-zero channel and spatial sizes (only the batch "
            f"may be empty), got {describe(input)}"
        )


def check_pool(
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: Any,
    nd: int,
    name: str,
    *,
    kernel_within_input: bool = False,
) -> PoolParams:
    """Validate the arguments of an ``nd``-dimensional max or average pooling ``name``.

    ``stride=None`` means ``kernel_size``, as in PyTorch. Like PyTorch, ``padding`` may
    be at most half the kernel (``2 * padding <= kernel_size``). Unlike PyTorch, a window
    that spans more than the padded input (possible there with ``ceil_mode=True``) or
    that sees only padding (a dilated window can skip the whole input, where PyTorch
    returns ``-inf``) is an error. ``kernel_within_input=True`` adds PyTorch's extra rule
    for 3-D average pooling: the kernel must fit the input without its padding.

    >>> import numpy as np
    >>> check_pool(np.zeros((1, 5, 5)), 2, None, 0, 1, True, 2, "max_pool2d")
    PoolParams(kernel=(2, 2), stride=(2, 2), pad=(0, 0), dilation=(1, 1), ceil_mode=True, \
out=(3, 3))
    """
    _pool_input(input, nd, name)
    shape = f"input shape {tuple(input.shape)}"
    if not isinstance(ceil_mode, bool) and type(ceil_mode).__name__ != "bool_":
        raise TypeError(f"ceil_mode must be a bool, got {ceil_mode!r} ({shape})")
    if isinstance(padding, str):
        raise ValueError(
            f"padding of {name} must be an int or a tuple of {nd} ints, got {padding!r} "
            f"({shape})"
        )
    try:
        kernel = as_tuple(kernel_size, nd, "kernel_size")
        # torch reads an empty stride (None, [] or ()) as the kernel size
        empty = stride is None or (isinstance(stride, Sequence) and len(stride) == 0)
        stride = kernel if empty else as_tuple(stride, nd, "stride")
        pad = as_tuple(padding, nd, "padding", minimum=0)
        dilation = as_tuple(dilation, nd, "dilation")
    except (TypeError, ValueError) as e:
        raise type(e)(f"{e} ({shape})") from None
    spatial = tuple(input.shape[-nd:])
    for i in range(nd):
        if 2 * pad[i] > kernel[i]:
            raise ValueError(
                f"padding must be at most half of kernel_size: padding {pad} with "
                f"kernel_size {kernel} in spatial dim {i} ({shape})"
            )
    pairs = tuple((q, q) for q in pad)
    check_kernel_fits(spatial, kernel, dilation, pairs, f"kernel_size {kernel}",
                      f"input {tuple(input.shape)}")
    if kernel_within_input and any(k > n for k, n in zip(kernel, spatial)):
        raise ValueError(
            f"{name} needs kernel_size {kernel} to fit the input without padding "
            f"(as PyTorch requires), but {shape}"
        )
    out = window_counts(spatial, kernel, stride, dilation, pairs, bool(ceil_mode))
    for i in range(nd):
        # only windows that start in the left padding can miss the input: the first
        # in-input tap of window o is at start + d * ceil(-start / d)
        for o in range(out[i]):
            start = o * stride[i] - pad[i]
            if start >= 0:
                break
            j = -(start // dilation[i])
            if j >= kernel[i] or start + dilation[i] * j >= spatial[i]:
                raise ValueError(
                    f"window {o} of spatial dim {i} covers only padding: kernel_size "
                    f"{kernel}, stride {stride}, padding {pad}, dilation {dilation} "
                    f"({shape})"
                )
    return PoolParams(nd, kernel, stride, pad, dilation, bool(ceil_mode), out)


def check_adaptive_pool(input: Any, output_size: Any, nd: int, name: str) -> tuple[int, ...]:
    """Validate an adaptive pooling ``name`` and return its output size as ``nd`` ints.

    ``output_size`` is an int or a tuple whose ``None`` entries keep the input's size.

    >>> import numpy as np
    >>> check_adaptive_pool(np.zeros((1, 3, 5, 7)), (2, None), 2, "adaptive_avg_pool2d")
    (2, 7)
    """
    _pool_input(input, nd, name)
    spatial = tuple(input.shape[-nd:])
    if isinstance(output_size, Sequence) and not isinstance(output_size, str):
        if len(output_size) != nd:
            raise ValueError(
                f"output_size of {name} must be an int or a tuple of {nd} ints, got "
                f"{tuple(output_size)!r} (input shape {tuple(input.shape)})"
            )
        output_size = tuple(s if v is None else v for v, s in zip(output_size, spatial))
    try:
        return as_tuple(output_size, nd, "output_size")
    except (TypeError, ValueError) as e:
        raise type(e)(f"{e} (input shape {tuple(input.shape)})") from None


def check_grad_output(grad_output: Any, expected: tuple[int, ...], what: str) -> None:
    """Raise ``ValueError`` unless ``grad_output`` has the forward output's shape.

    ``what`` describes the forward call, for the message.

    >>> import numpy as np
    >>> check_grad_output(np.zeros((1, 2)), (1, 2), "max_pool1d of input (1, 4)")
    """
    if tuple(grad_output.shape) != tuple(expected):
        raise ValueError(
            f"grad_output must have the shape of the forward output, {tuple(expected)}, for "
            f"{what}; got {describe(grad_output)}"
        )


def check_divisor(divisor_override: Any, input: Any) -> None:
    """Raise ``ValueError`` unless ``divisor_override`` is None or a non-zero int."""
    if divisor_override is not None and (
        isinstance(divisor_override, bool)
        or not isinstance(divisor_override, numbers.Integral)
        or divisor_override == 0
    ):
        raise ValueError(
            f"divisor_override must be a non-zero int or None, got {divisor_override!r} "
            f"(input shape {tuple(input.shape)})"
        )
