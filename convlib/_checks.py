"""Argument checking shared by every operation and both backends.

Each function either returns the argument in a normal form (tuples of ints, one
per spatial dimension) or raises ``ValueError``/``TypeError`` with a message that
names the argument and the shapes involved. Keeping the checks in one place means
the NumPy reference and the torch path reject exactly the same inputs.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from ._backend import describe

__all__ = [
    "PADDING_MODES",
    "as_tuple",
    "check_ndim",
    "check_conv",
    "check_conv_transpose",
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


def check_ndim(x: Any, expected: int, name: str, layout: str) -> None:
    """Raise ``ValueError`` unless ``x`` has ``expected`` dimensions (``layout`` names them)."""
    if x.ndim != expected:
        raise ValueError(
            f"{name} must be {expected}-D ({layout}), got {describe(x)}"
        )


class ConvParams:
    """Normalised convolution parameters for ``nd`` spatial dimensions.

    ``pad`` holds one ``(before, after)`` pair per spatial dimension: "same" padding with
    an even kernel pads one more after than before, as PyTorch does.
    """

    __slots__ = ("nd", "stride", "pad", "dilation", "groups", "padding_mode")

    def __init__(self, nd, stride, pad, dilation, groups, padding_mode):
        self.nd = nd
        self.stride = stride
        self.pad = pad
        self.dilation = dilation
        self.groups = groups
        self.padding_mode = padding_mode

    @property
    def symmetric(self) -> bool:
        return all(lo == hi for lo, hi in self.pad)

    def __repr__(self) -> str:
        return (
            f"ConvParams(stride={self.stride}, pad={self.pad}, dilation={self.dilation}, "
            f"groups={self.groups}, padding_mode={self.padding_mode!r})"
        )


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
    for i in range(nd):
        padded = spatial[i] + pad[i][0] + pad[i][1]
        span = dilation[i] * (kernel[i] - 1) + 1
        if span > padded:
            raise ValueError(
                f"kernel larger than the padded input: weight {tuple(weight.shape)} with "
                f"dilation {dilation} spans {span} in spatial dim {i}, but input "
                f"{tuple(input.shape)} padded by {pad[i]} is only {padded} there"
            )
        if padding_mode != "zeros":
            _check_mode_pad(padding_mode, pad[i], spatial[i], i, tuple(input.shape))
    return ConvParams(nd, stride, pad, dilation, groups, padding_mode)


def _check_mode_pad(mode: str, pad: tuple[int, int], size: int, dim: int, shape) -> None:
    limit = size - 1 if mode == "reflect" else size
    if mode == "replicate":
        return
    if max(pad) > limit:
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
            pairs = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pairs.append((total // 2, total - total // 2))
            return tuple(pairs)
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
    for i in range(nd):
        if output_padding[i] >= max(stride[i], dilation[i]):
            raise ValueError(
                f"output_padding {output_padding} must be smaller than stride {stride} or "
                f"dilation {dilation} in spatial dim {i}"
            )
        size = (
            (spatial[i] - 1) * stride[i] - 2 * pads[i] + dilation[i] * (kernel[i] - 1)
            + output_padding[i] + 1
        )
        if size < 1:
            raise ValueError(
                f"padding {pads} is too large: input {tuple(input.shape)} with weight "
                f"{tuple(weight.shape)}, stride {stride} and dilation {dilation} gives an "
                f"output size of {size} in spatial dim {i}"
            )
    params = ConvParams(nd, stride, tuple((p, p) for p in pads), dilation, groups, "zeros")
    return params, output_padding


# --- pooling -------------------------------------------------------------------------


class PoolParams:
    """Normalised pooling parameters: one int per spatial dimension, and the output size."""

    __slots__ = ("nd", "kernel", "stride", "pad", "dilation", "ceil_mode", "out")

    def __init__(self, nd, kernel, stride, pad, dilation, ceil_mode, out):
        self.nd = nd
        self.kernel = kernel
        self.stride = stride
        self.pad = pad
        self.dilation = dilation
        self.ceil_mode = ceil_mode
        self.out = out

    def __repr__(self) -> str:
        return (
            f"PoolParams(kernel={self.kernel}, stride={self.stride}, pad={self.pad}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}, out={self.out})"
        )


def _pool_input(input: Any, nd: int, name: str) -> None:
    """``input`` is (C, *spatial) or (N, C, *spatial) with non-empty C and spatial dims."""
    dims = {1: "L", 2: "H, W", 3: "D, H, W"}.get(nd, f"{nd} spatial")
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"input of {name} must be {nd + 1}-D (C, {dims}) or {nd + 2}-D (N, C, {dims}), "
            f"got {describe(input)}"
        )
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
    from .arithmetic import output_size  # arithmetic imports this module

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
        stride = kernel if stride is None else as_tuple(stride, nd, "stride")
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
        span = dilation[i] * (kernel[i] - 1) + 1
        if span > spatial[i] + 2 * pad[i]:
            raise ValueError(
                f"kernel larger than the padded input: kernel_size {kernel} with dilation "
                f"{dilation} spans {span} in spatial dim {i}, but {shape} padded by "
                f"{pad[i]} on each side is only {spatial[i] + 2 * pad[i]} there"
            )
    if kernel_within_input and any(k > n for k, n in zip(kernel, spatial)):
        raise ValueError(
            f"{name} needs kernel_size {kernel} to fit the input without padding "
            f"(as PyTorch requires), but {shape}"
        )
    out = output_size(spatial, kernel, stride, pad, dilation, kind="pool",
                      ceil_mode=bool(ceil_mode))
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
