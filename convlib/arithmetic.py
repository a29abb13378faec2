"""Shape arithmetic: output sizes, "same" padding and receptive fields.

These are the formulas of the padding/stride/dilation chapter, as plain functions
of integers (no arrays), so they can be checked against any framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ._checks import as_tuple, check_kernel_fits, check_output_padding, resolve_padding
from ._windows import same_pad, span, transposed_size, window_count

__all__ = ["output_size", "same_padding", "receptive_field", "ReceptiveField"]


def _one_output_size(n, k, s, pair, d, kind, ceil_mode, output_padding):
    if kind == "transpose":
        p = pair[0]
        out = transposed_size(n, k, s, p, d, output_padding)
        if out < 1:
            raise ValueError(
                f"transposed convolution output would be {out}: padding {p} removes more than "
                f"the {out + 2 * p} positions that input_size {n} and kernel_size {k} produce"
            )
        return out
    check_kernel_fits((n,), (k,), (d,), (pair,), f"kernel_size {k}", f"input_size {n}")
    return window_count(n, k, s, d, pair, ceil_mode)


def output_size(
    input_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
    *,
    kind: str = "conv",
    ceil_mode: bool = False,
    output_padding: int | Sequence[int] = 0,
) -> int | tuple[int, ...]:
    """Spatial output size of a convolution, transposed convolution or pooling layer.

    ``kind="conv"`` (also pooling with ``ceil_mode=False``):
    ``floor((n + 2p - d(k-1) - 1) / s) + 1``. ``kind="pool"`` additionally honours
    ``ceil_mode`` with PyTorch's rule. ``kind="transpose"``:
    ``(n-1)s - 2p + d(k-1) + output_padding + 1``. Ints give an int; tuples a tuple.

    >>> output_size(32, 5, stride=1, padding=2)
    32
    >>> output_size((224, 224), 7, stride=2, padding=3)
    (112, 112)
    >>> output_size(5, 2, stride=2, kind="pool", ceil_mode=True)
    3
    >>> output_size(16, 4, stride=2, padding=1, kind="transpose")
    32
    """
    if kind not in ("conv", "pool", "transpose"):
        raise ValueError(f"kind must be 'conv', 'pool' or 'transpose', got {kind!r}")
    if ceil_mode and kind != "pool":
        raise ValueError("ceil_mode applies only to kind='pool'")
    scalar = not isinstance(input_size, Sequence)
    n = as_tuple(input_size, len(input_size) if isinstance(input_size, Sequence) else 1,
                 "input_size", minimum=0)
    nd = len(n)
    k = as_tuple(kernel_size, nd, "kernel_size")
    s = as_tuple(stride, nd, "stride")
    d = as_tuple(dilation, nd, "dilation")
    op = as_tuple(output_padding, nd, "output_padding", minimum=0)
    if isinstance(padding, str) and kind == "transpose":
        raise ValueError(f"padding of a transposed convolution must be an int or a tuple, got "
                         f"{padding!r}")
    # the convolutions' own rule: "valid", "same" (stride 1 only) or symmetric ints
    pairs = resolve_padding(padding, k, s, d, nd)
    if kind == "transpose":
        check_output_padding(op, s, d)
    out = tuple(
        _one_output_size(n[i], k[i], s[i], pairs[i], d[i], kind, ceil_mode, op[i])
        for i in range(nd)
    )
    return out[0] if scalar else out


def same_padding(
    kernel_size: int, dilation: int = 1, stride: int = 1, input_size: int | None = None
) -> tuple[int, int]:
    """Padding ``(before, after)`` that keeps ``ceil(n / stride)`` outputs.

    With stride 1 the total is ``d(k-1)``; an odd total puts the extra element after,
    as PyTorch's ``padding="same"`` does. With ``stride > 1`` the total depends on the
    input size (TensorFlow's "SAME" rule), so ``input_size`` is required.

    >>> same_padding(3)
    (1, 1)
    >>> same_padding(4)
    (1, 2)
    >>> same_padding(3, stride=2, input_size=224)
    (0, 1)
    """
    (k,) = as_tuple(kernel_size, 1, "kernel_size")
    (d,) = as_tuple(dilation, 1, "dilation")
    (s,) = as_tuple(stride, 1, "stride")
    if s > 1 and input_size is None:
        raise ValueError("same_padding with stride > 1 needs input_size")
    return same_pad(k, d, s, input_size)


class ReceptiveField(NamedTuple):
    """Receptive field of a stack: ``size`` input pixels seen by one output, and
    ``jump``, the input distance between neighbouring outputs (the product of strides)."""

    size: int
    jump: int


def receptive_field(layers: Iterable[Sequence[int] | dict]) -> ReceptiveField:
    """Receptive field of a stack of conv/pool layers, first layer first.

    Each layer is ``(kernel_size, stride)``, ``(kernel_size, stride, dilation)`` or a dict
    with those keys. The recursion is ``r += d(k-1) * jump; jump *= s``.

    >>> receptive_field([(3, 1), (3, 1)])          # two 3x3 convs see 5x5
    ReceptiveField(size=5, jump=1)
    >>> receptive_field([(7, 2), (3, 2), (3, 1)])  # a ResNet-style stem
    ReceptiveField(size=19, jump=4)
    """
    size, jump = 1, 1
    for i, layer in enumerate(layers):
        if isinstance(layer, dict):
            k = layer["kernel_size"]
            s = layer.get("stride", 1)
            d = layer.get("dilation", 1)
        else:
            if not 1 <= len(layer) <= 3:
                raise ValueError(
                    f"layer {i} must be (kernel_size, stride[, dilation]), got {layer!r}"
                )
            k, s, d = (tuple(layer) + (1, 1))[:3]
        (k,) = as_tuple(k, 1, f"layers[{i}] kernel_size")
        (s,) = as_tuple(s, 1, f"layers[{i}] stride")
        (d,) = as_tuple(d, 1, f"layers[{i}] dilation")
        size += (span(k, d) - 1) * jump
        jump *= s
    return ReceptiveField(size, jump)
