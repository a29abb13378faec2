"""Convolution along time: causal padding, causal convolution, and streaming.

A *causal* convolution lets output ``t`` see only inputs ``t, t-1, ...``: all of its
padding goes on the left, ``dilation * (kernel_size - 1)`` zeros, and none on the right.
A *stream* arrives chunk by chunk; a causal convolution can then be computed chunk by
chunk if it carries, from one chunk to the next, the last ``dilation * (kernel_size - 1)``
inputs it has seen (the "conv state" that streaming speech models and Mamba-style
language models keep at inference). Chunked with that state, the output equals the
convolution of the whole sequence, exactly.

>>> import numpy as np
>>> x = np.arange(6.0).reshape(1, 1, 6)
>>> w = np.array([[[1.0, 1.0, 1.0]]])          # the sum of the last three inputs
>>> causal_conv1d(x, w)
array([[[ 0.,  1.,  3.,  6.,  9., 12.]]])
>>> y1, state = conv1d_stream(x[..., :4], w)  # the first chunk of the stream
>>> y2, state = conv1d_stream(x[..., 4:], w, state=state)
>>> np.concatenate([y1, y2], axis=-1)
array([[[ 0.,  1.,  3.,  6.,  9., 12.]]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import backend_of
from ._checks import as_tuple, check_ndim
from .conv import conv1d
from .padding import pad

__all__ = ["causal_padding", "causal_conv1d", "conv1d_stream"]


def causal_padding(kernel_size: int, dilation: int = 1) -> int:
    """The left padding that makes a 1-D convolution causal and length-preserving:
    ``dilation * (kernel_size - 1)``, the span of the kernel minus one.

    >>> causal_padding(3), causal_padding(4), causal_padding(2, dilation=8)
    (2, 3, 8)
    """
    (k,) = as_tuple(kernel_size, 1, "kernel_size")
    (d,) = as_tuple(dilation, 1, "dilation")
    return d * (k - 1)


def _check_sequence(input: Any, weight: Any, groups: int) -> None:
    check_ndim(input, 3, "input", "(N, C_in, L)")
    check_ndim(weight, 3, "weight", "(C_out, C_in/groups, k)")
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    if input.shape[1] != weight.shape[1] * groups:
        raise ValueError(
            f"input has {input.shape[1]} channels but weight {tuple(weight.shape)} with "
            f"groups={groups} expects {weight.shape[1] * groups}"
        )


def causal_conv1d(
    input: Any, weight: Any, bias: Any = None, dilation: int = 1, groups: int = 1
) -> Any:
    """Causal 1-D convolution: ``conv1d`` after ``causal_padding`` zeros on the left only.

    ``input`` is (N, C_in, L), ``weight`` (C_out, C_in/groups, k); the output has the
    input's length L, and output ``t`` depends on inputs ``t - dilation*(k-1) ... t``
    only. NumPy arrays or torch tensors, like ``convlib.conv1d``.

    >>> x = np.array([[[1.0, 2.0, 3.0]]])
    >>> causal_conv1d(x, np.array([[[1.0, 0.0]]]))   # the previous input: a delay
    array([[[0., 1., 2.]]])
    """
    backend_of(input=input, weight=weight, bias=bias)
    _check_sequence(input, weight, groups)
    left = causal_padding(int(weight.shape[-1]), dilation)
    return conv1d(pad(input, (left, 0)), weight, bias, dilation=dilation, groups=groups)


def conv1d_stream(
    chunk: Any,
    weight: Any,
    bias: Any = None,
    state: Any = None,
    dilation: int = 1,
    groups: int = 1,
) -> tuple[Any, Any]:
    """One chunk of a causal convolution over a stream: returns ``(output, state)``.

    ``chunk`` is (N, C_in, L) with any ``L >= 1``; ``state`` holds the last
    ``dilation * (k - 1)`` inputs of the stream so far, shape (N, C_in, dilation*(k-1)),
    or ``None`` at the start of the stream (zeros, like ``causal_conv1d``'s padding). The
    output is (N, C_out, L): the outputs of ``causal_conv1d`` at the chunk's positions.
    Pass the returned state with the next chunk.

    >>> w = np.array([[[0.5, 0.5]]])                  # the mean of two neighbours
    >>> y, s = conv1d_stream(np.array([[[2.0, 4.0]]]), w)
    >>> y, s
    (array([[[1., 3.]]]), array([[[4.]]]))
    >>> conv1d_stream(np.array([[[6.0]]]), w, state=s)[0]
    array([[[5.]]])
    """
    kind = backend_of(chunk=chunk, weight=weight, bias=bias, state=state)
    _check_sequence(chunk, weight, groups)
    keep = causal_padding(int(weight.shape[-1]), dilation)
    n, c = int(chunk.shape[0]), int(chunk.shape[1])
    if state is None:
        state = pad(chunk[..., :0], (keep, 0))  # zeros of the chunk's kind, dtype, device
    elif tuple(state.shape) != (n, c, keep):
        raise ValueError(
            f"state must have shape {(n, c, keep)} (N, C_in, dilation*(k-1)) for chunk "
            f"{tuple(chunk.shape)} and weight {tuple(weight.shape)}, got {tuple(state.shape)}"
        )
    if kind == "torch":
        import torch

        seen = torch.cat([state, chunk], dim=-1)
    else:
        seen = np.concatenate([state, chunk], axis=-1)
    out = conv1d(seen, weight, bias, dilation=dilation, groups=groups)
    return out, seen[..., seen.shape[-1] - keep:]
