r"""Backward passes of convolution in NumPy: the gradients of ``conv1d/2d/3d``.

Given the gradient of a scalar loss with respect to a convolution's output,
``grad_output`` (written ``g``), these functions return the gradients with respect to
the input, the weight and the bias. On torch tensors they ask ``torch.autograd`` for
the same three numbers, so the API works on both backends.

Derivation
----------
In the book's notation: ``u`` is a kernel tap, ``i`` an output position and ``δ`` (written
``delta`` in the code) the gradient of the loss with respect to the output,
``δ = ∂L/∂y``. Take one spatial dimension, one channel and one sample; the general case
repeats it per axis, sums over channels and samples, and works group by group. The
forward pass pads the input ``x`` to ``xp`` (``p`` before), then cross-correlates with
stride ``s`` and dilation ``d``::

    y[i] = sum_u w[u] * xp[s*i + d*u] + b

Each ``y[i]`` is linear in ``w``, ``xp`` and ``b``, so the chain rule gives three sums.

**Bias.** ``∂L/∂b = sum_i δ[i]``: the output gradient summed over samples and positions.

**Weight.** ``∂L/∂w[u] = sum_i δ[i] * xp[s*i + d*u]``. The window of ``xp`` that produced
``y[i]`` is weighted by ``δ[i]`` and summed. With channels,
``∂L/∂w[o, c, u] = sum_{n, i} δ[n, o, i] * xp[n, c, s*i + d*u]``: one matrix product of
the output gradient (``C_out x positions``) with the im2col matrix of the input windows
(``positions x C_in*K``), taken from ``sliding_window_view``.

**Input.** ``xp[j]`` takes part in every window position ``i`` and tap ``u`` with
``s*i + d*u = j``, so ``∂L/∂xp[j] = sum_{s*i + d*u = j} δ[i] * w[u]``: the transposed
convolution of ``δ`` with the same weight (:func:`convlib.conv_transpose.transpose_add`,
the one implementation ``conv_transpose2d`` also runs). Two readings:

* *col2im* (what the code runs): the matrix product ``w^T @ δ`` gives, for every
  window position ``i``, the gradient of each window entry (``C_in*K`` values); add
  each back where the window came from, ``xp[s*i + d*u]``. One loop over the ``K``
  kernel taps, each a vectorised strided add: no loop over pixels.
* *transposed convolution* (the backprop chapter's formula): insert ``s - 1`` zeros
  between the entries of ``δ`` (dilate it by the stride), pad it by ``d*(k-1) - p`` on
  each side, and cross-correlate it, with dilation ``d``, with the **flipped** kernel
  whose input and output channels are **swapped** (``w.transpose(1, 0, ...)`` flipped
  along every spatial axis). Substituting ``j = s*i + d*u`` shows both are the same
  sum; col2im skips the multiplications by the inserted zeros.

**Padding.** ``xp`` is a gather: ``xp[j] = x[m(j)]`` where ``m`` maps each padded position
to the input position it copies (``np.pad(np.arange(n), (lo, hi), mode)`` computes
``m``). The adjoint of a gather is a scatter-add, ``∂L/∂x[t] = sum_{j: m(j) = t}
∂L/∂xp[j]``: with ``padding_mode="zeros"`` the pad entries are constants and are cropped
away; with ``"reflect"``, ``"replicate"`` or ``"circular"`` the gradient of every copied
border entry folds back onto the input entry it copied.

Memory and speed: the im2col matrix is built for a chunk at a time (a few images, or a
band of rows of one image), so the temporaries stay within a fixed budget whatever the
batch size, and in the CPU caches between the copy that builds them and the product
that reads them.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from . import _windows as W
from ._backend import Array, backend_of
from ._checks import ConvParams, check_batched, check_conv, check_grad_output, check_ndim
from .conv_transpose import transpose_add
from .padding import numpy_mode, pad_spatial

__all__ = ["conv1d_backward", "conv2d_backward", "conv3d_backward"]

# Bytes of the im2col matrix of one chunk (images, or rows of one image): small enough to
# stay in the CPU caches between the copy that builds it and the matmul that reads it.
_CHUNK_BYTES = 2 * 2**20


def _output_shape(input: Any, weight: Any, p: ConvParams) -> tuple[int, ...]:
    out = W.window_counts(input.shape[2:], weight.shape[2:], p.stride, p.dilation, p.pad)
    return (input.shape[0], weight.shape[0], *out)


def _fold_padding(dxp: np.ndarray, p: ConvParams) -> np.ndarray:
    """Adjoint of ``pad_spatial``: crop, and fold the border gradient back for copy modes."""
    out = dxp
    for axis, (lo, hi) in enumerate(p.pad, start=2):
        if lo == 0 and hi == 0:
            continue
        size = out.shape[axis] - lo - hi
        inner = [slice(None)] * out.ndim
        inner[axis] = slice(lo, lo + size)
        folded = out[tuple(inner)].copy()
        if p.padding_mode != "zeros":
            # m[j]: the input index that padded position j copies
            m = np.pad(np.arange(size), (lo, hi), mode=numpy_mode(p.padding_mode))
            for j in itertools.chain(range(lo), range(lo + size, lo + size + hi)):
                src: list[Any] = [slice(None)] * out.ndim
                dst: list[Any] = [slice(None)] * out.ndim
                src[axis], dst[axis] = j, m[j]
                folded[tuple(dst)] += out[tuple(src)]
        out = folded
    return out


def _chunk_grads(delta: np.ndarray, cols: np.ndarray, w: np.ndarray, p: ConvParams,
                 dw: np.ndarray, dxp: np.ndarray, first: tuple[int, ...]) -> None:
    """The maths of one chunk: add its share of the weight's and the padded input's
    gradients to ``dw`` and ``dxp``.

    ``delta`` is the chunk's output gradient ``(n, C_out, *out)``, ``cols`` its im2col
    matrix ``(n, C_in * K, pixels)`` with ``cols[n, (c, u), i] = xp[n, c, s*i + d*u]``;
    ``dw`` is ``(G, O_g, C_g * K)`` and ``dxp`` the chunk's images of the padded input's
    gradient, whose windows are counted from ``first``.

    - weight: ``dw[o, (c, u)] += sum_{n, i} δ[n, o, i] * cols[n, (c, u), i]``, the
      product ``δ @ cols^T``;
    - input: ``dxp[n, c, s*i + d*u] += sum_o w[o, c, u] * δ[n, o, i]``, the transposed
      convolution of ``δ`` (:func:`convlib.conv_transpose.transpose_add`).
    """
    groups, o_g, cg_k = dw.shape
    n = dxp.shape[0]
    # (O_g, P) @ (P, C_g*K) for every image and group, summed over the images
    delta_g = delta.reshape(n, groups, o_g, -1)
    cols = cols.reshape(n, groups, cg_k, -1)
    dw += np.matmul(delta_g, cols.swapaxes(-1, -2)).sum(axis=0)
    transpose_add(delta, w, p.stride, p.dilation, groups, dxp, first)


def _grads(delta: np.ndarray, xp: np.ndarray, w: np.ndarray,
           p: ConvParams) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the padded input and of the weight, one chunk at a time.

    The chunks are images, or bands of rows of one image, whose im2col matrix fits
    ``_CHUNK_BYTES`` (:func:`convlib._windows.chunks`); :func:`_chunk_grads` does the
    maths of each. The batch is split into as many parts as BLAS has threads; the parts
    run side by side with single-threaded BLAS (:func:`convlib._windows.run_chunks`).
    Each part owns its images, so its col2im adds never meet another's, and sums its own
    dw.
    """
    n, c_in = xp.shape[:2]
    c_out, c_g = w.shape[:2]
    kernel, groups, nd = tuple(w.shape[2:]), p.groups, p.nd
    out_spatial = tuple(delta.shape[2:])
    cg_k = c_g * math.prod(kernel)
    # (N, C_in, *kernel, *out): the im2col matrix as a view, kernel axes before positions
    win = W.windows(xp, kernel, p.stride, p.dilation)
    cols_view = win.transpose((0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd)))
    dxp = np.zeros(xp.shape, dtype=xp.dtype)
    row_bytes = math.prod(out_spatial[1:]) * c_in * math.prod(kernel) * xp.itemsize
    every = (slice(None),) * (1 + nd)  # the channel and kernel axes of cols_view
    parts = max(1, min(W.blas_threads(), n))
    bounds = [n * i // parts for i in range(parts + 1)]
    dw_parts = np.zeros((parts, groups, c_out // groups, cg_k), dtype=xp.dtype)

    def work(part: int) -> None:
        for n0, n1, r0, r1 in W.chunks(bounds[part], bounds[part + 1], out_spatial[0],
                                       row_bytes, _CHUNK_BYTES):
            # the chunk's im2col matrix: the one copy
            cols = np.ascontiguousarray(cols_view[(slice(n0, n1), *every, slice(r0, r1))])
            cols = cols.reshape(n1 - n0, c_in * math.prod(kernel), -1)
            first = (r0,) + (0,) * (nd - 1)  # the chunk's first window
            _chunk_grads(delta[n0:n1, :, r0:r1], cols, w, p, dw_parts[part], dxp[n0:n1],
                         first)

    # side by side only when there is enough work to pay for the threads
    parallel = n * out_spatial[0] * row_bytes >= 4 * _CHUNK_BYTES
    W.run_chunks(work, range(parts), parallel)
    return dxp, dw_parts.sum(axis=0).reshape(w.shape)


def _numpy_backward(delta, x, w, p: ConvParams, with_bias: bool):
    xp = pad_spatial(x, p.pad, p.padding_mode)
    dxp, dw = _grads(delta, xp, w, p)
    dx = _fold_padding(dxp, p)
    db = delta.sum(axis=(0, *range(2, 2 + p.nd))) if with_bias else None
    return dx, dw, db


def _torch_backward(delta, x, w, p: ConvParams, with_bias: bool):
    import torch
    import torch.nn.functional as F

    conv = (F.conv1d, F.conv2d, F.conv3d)[p.nd - 1]
    with torch.enable_grad():
        x_ = x.detach().requires_grad_(True)
        w_ = w.detach().requires_grad_(True)
        xp = pad_spatial(x_, p.pad, p.padding_mode)
        y = conv(xp, w_, None, p.stride, 0, p.dilation, p.groups)
        dx, dw = torch.autograd.grad(y, (x_, w_), delta)
    db = delta.sum(dim=(0, *range(2, 2 + p.nd))) if with_bias else None
    return dx, dw, db


def _conv_backward(grad_output, input, weight, stride, padding, dilation, groups,
                   padding_mode, with_bias, bias, nd):
    kind = backend_of(grad_output=grad_output, input=input, weight=weight)
    if bias is not None:  # the flag's earlier name (deprecated)
        with_bias = bias
    if not isinstance(with_bias, bool):
        raise TypeError(
            f"with_bias must be True or False (whether to return grad_bias), got {with_bias!r}"
        )
    batched = check_batched(input, nd)
    x = input if batched else input[None]
    p = check_conv(x, weight, None, stride, padding, dilation, groups, padding_mode, nd)
    spatial = ", ".join("DHW"[3 - nd:])
    layout = f"N, C_out, {spatial}" if batched else f"C_out, {spatial}: the input is unbatched"
    check_ndim(grad_output, nd + 2 if batched else nd + 1, "grad_output", layout)
    delta = grad_output if batched else grad_output[None]
    expected = _output_shape(x, weight, p)
    check_grad_output(
        delta, expected,
        f"input {tuple(input.shape)}, weight {tuple(weight.shape)}, stride {p.stride}, "
        f"padding {p.pad} and dilation {p.dilation}",
    )
    backward = _torch_backward if kind == "torch" else _numpy_backward
    dx, dw, db = backward(delta, x, weight, p, with_bias)
    return (dx if batched else dx[0]), dw, db


def conv1d_backward(
    grad_output: Array,
    input: Array,
    weight: Array,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    with_bias: bool = True,
    bias: bool | None = None,
) -> tuple[Array, Array, Array | None]:
    """Gradients ``(grad_input, grad_weight, grad_bias)`` of ``conv1d``.

    ``grad_output`` (``δ``) is the gradient of the loss with respect to the output of
    ``conv1d(input, weight, stride=..., padding=..., ...)``, shape (N, C_out, L_out).
    ``grad_bias`` is None when ``with_bias=False``. See :func:`conv2d_backward`.

    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> w = np.array([[[1.0, 2.0]]])
    >>> delta = np.ones((1, 1, 4))
    >>> dx, dw, db = conv1d_backward(delta, x, w)
    >>> dx.tolist(), dw.tolist(), db.tolist()
    ([[[1.0, 3.0, 3.0, 3.0, 2.0]]], [[[6.0, 10.0]]], [4.0])
    """
    return _conv_backward(grad_output, input, weight, stride, padding, dilation, groups,
                          padding_mode, with_bias, bias, 1)


def conv2d_backward(
    grad_output: Array,
    input: Array,
    weight: Array,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    with_bias: bool = True,
    bias: bool | None = None,
) -> tuple[Array, Array, Array | None]:
    """Gradients ``(grad_input, grad_weight, grad_bias)`` of ``conv2d``.

    ``grad_output`` (``δ``, shape (N, C_out, H_out, W_out)) is the gradient of the loss
    with respect to the output of ``conv2d(input, weight, bias, stride, padding,
    dilation, groups, padding_mode=...)``; the arguments mean what they mean there, and
    an unbatched ``input`` (C_in, H, W) goes with an unbatched ``grad_output`` (C_out,
    H_out, W_out), as in ``conv2d``. Returns arrays shaped like ``input``, ``weight`` and
    (C_out,) — ``grad_bias`` is None when ``with_bias=False`` (``bias=`` is the flag's
    earlier name, still accepted). NumPy arrays use the formulas of the module
    docstring; torch tensors use autograd.

    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.normal(size=(2, 3, 5, 5)), rng.normal(size=(4, 3, 3, 3))
    >>> delta = rng.normal(size=(2, 4, 5, 5))        # output shape with padding=1
    >>> dx, dw, db = conv2d_backward(delta, x, w, padding=1, padding_mode="reflect")
    >>> dx.shape, dw.shape, db.shape
    ((2, 3, 5, 5), (4, 3, 3, 3), (4,))
    >>> dx1, dw1, _ = conv2d_backward(delta[0], x[0], w, padding=1, with_bias=False)
    >>> dx1.shape, dw1.shape
    ((3, 5, 5), (4, 3, 3, 3))
    """
    return _conv_backward(grad_output, input, weight, stride, padding, dilation, groups,
                          padding_mode, with_bias, bias, 2)


def conv3d_backward(
    grad_output: Array,
    input: Array,
    weight: Array,
    stride: int | tuple[int, int, int] = 1,
    padding: int | tuple[int, int, int] | str = 0,
    dilation: int | tuple[int, int, int] = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    with_bias: bool = True,
    bias: bool | None = None,
) -> tuple[Array, Array, Array | None]:
    """Gradients ``(grad_input, grad_weight, grad_bias)`` of ``conv3d``.

    ``grad_output`` has shape (N, C_out, D_out, H_out, W_out). See :func:`conv2d_backward`.

    >>> x = np.ones((1, 2, 3, 3, 3))
    >>> w = np.ones((1, 2, 2, 2, 2))
    >>> dx, dw, db = conv3d_backward(np.ones((1, 1, 1, 1, 1)), x, w, stride=2)
    >>> float(dx.sum()), float(dw.sum()), db.tolist()
    (16.0, 16.0, [1.0])
    """
    return _conv_backward(grad_output, input, weight, stride, padding, dilation, groups,
                          padding_mode, with_bias, bias, 3)
