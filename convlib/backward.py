r"""Backward passes of convolution in NumPy: the gradients of ``conv1d/2d/3d``.

Given the gradient of a scalar loss with respect to a convolution's output,
``grad_output`` (written ``g``), these functions return the gradients with respect to
the input, the weight and the bias. On torch tensors they ask ``torch.autograd`` for
the same three numbers, so the API works on both backends.

Derivation
----------
Take one spatial dimension, one channel and one sample; the general case repeats it
per axis, sums over channels and samples, and works group by group. The forward pass
pads the input ``x`` to ``xp`` (``p`` before), then cross-correlates with stride ``s``
and dilation ``d``::

    y[i] = sum_k w[k] * xp[s*i + d*k] + b

Each ``y[i]`` is linear in ``w``, ``xp`` and ``b``, so the chain rule gives three sums.

**Bias.** ``db = sum_i g[i]``: the output gradient summed over samples and positions.

**Weight.** ``dw[k] = sum_i g[i] * xp[s*i + d*k]``. The window of ``xp`` that produced
``y[i]`` is weighted by ``g[i]`` and summed. With channels,
``dw[o, c, k] = sum_{n, i} g[n, o, i] * xp[n, c, s*i + d*k]``: one matrix product of the
output gradient (``C_out x positions``) with the im2col matrix of the input windows
(``positions x C_in*K``), taken from ``sliding_window_view``.

**Input.** ``xp[j]`` takes part in every window position ``i`` and tap ``k`` with
``s*i + d*k = j``, so ``dxp[j] = sum_{s*i + d*k = j} g[i] * w[k]``. Two readings:

* *col2im* (what the code runs): the matrix product ``w^T @ g`` gives, for every
  window position ``i``, the gradient of each window entry (``C_in*K`` values); add
  each back where the window came from, ``xp[s*i + d*k]``. One loop over the ``K``
  kernel taps, each a vectorised strided add: no loop over pixels.
* *transposed convolution* (the backprop chapter's formula): insert ``s - 1`` zeros
  between the entries of ``g`` (dilate it by the stride), pad it by ``d*(k-1) - p`` on
  each side, and cross-correlate it, with dilation ``d``, with the **flipped** kernel
  whose input and output channels are **swapped** (``w.transpose(1, 0, ...)`` flipped
  along every spatial axis). Substituting ``j = s*i + d*k`` shows both are the same
  sum; col2im skips the multiplications by the inserted zeros.

**Padding.** ``xp`` is a gather: ``xp[j] = x[m(j)]`` where ``m`` maps each padded position
to the input position it copies (``np.pad(np.arange(n), (lo, hi), mode)`` computes
``m``). The adjoint of a gather is a scatter-add, ``dx[t] = sum_{j: m(j) = t} dxp[j]``:
with ``padding_mode="zeros"`` the pad entries are constants and are cropped away;
with ``"reflect"``, ``"replicate"`` or ``"circular"`` the gradient of every copied
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
from ._backend import backend_of
from ._checks import ConvParams, check_conv, check_grad_output, check_ndim
from .padding import pad_spatial

__all__ = ["conv1d_backward", "conv2d_backward", "conv3d_backward"]

# Bytes of the im2col matrix of one chunk (images, or rows of one image): small enough to
# stay in the CPU caches between the copy that builds it and the matmul that reads it.
_CHUNK_BYTES = 2 * 2**20

# np.pad's names for conv's padding modes (the index map m of the docstring)
_INDEX_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


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
            m = np.pad(np.arange(size), (lo, hi), mode=_INDEX_MODES[p.padding_mode])
            for j in itertools.chain(range(lo), range(lo + size, lo + size + hi)):
                src = [slice(None)] * out.ndim
                dst = [slice(None)] * out.ndim
                src[axis], dst[axis] = j, m[j]
                folded[tuple(dst)] += out[tuple(src)]
        out = folded
    return out


def _chunk_grads(g: np.ndarray, cols: np.ndarray, w_t: np.ndarray, kernel: tuple[int, ...],
                 p: ConvParams, dw: np.ndarray, dxp: np.ndarray, first: tuple[int, ...]) -> None:
    """The maths of one chunk: add its share of the weight's and the padded input's
    gradients to ``dw`` and ``dxp``.

    ``g`` is the chunk's output gradient ``(n, C_out, *out)``, ``cols`` its im2col matrix
    ``(n, C_in * K, pixels)`` with ``cols[n, (c, u), i] = xp[n, c, s*i + d*u]``, ``w_t`` the
    weight with input and output channels swapped, ``(G, C_g * K, O_g)``; ``dw`` is
    ``(G, O_g, C_g * K)`` and ``dxp`` the chunk's images of the padded input's gradient,
    whose windows are counted from ``first``.

    - weight: ``dw[o, (c, u)] += sum_{n, i} g[n, o, i] * cols[n, (c, u), i]``, the product
      ``g @ cols^T``;
    - input: ``dcols[n, (c, u), i] = sum_o w[o, c, u] * g[n, o, i]``, the product
      ``w^T @ g``; col2im adds tap ``u`` of window ``i`` back at ``s*i + d*u``.
    """
    groups, cg_k, o_g = w_t.shape
    n, c_in = dxp.shape[:2]
    out = g.shape[2:]
    g = g.reshape(n, groups, o_g, -1)
    cols = cols.reshape(n, groups, cg_k, -1)
    # (O_g, P) @ (P, C_g*K) for every image and group, summed over the images
    dw += np.matmul(g, cols.swapaxes(-1, -2)).sum(axis=0)
    dcols = np.matmul(w_t, g).reshape(n, c_in, *kernel, *out)
    W.fold_add(dxp, dcols, p.stride, p.dilation, first)


def _grads(g: np.ndarray, xp: np.ndarray, w: np.ndarray,
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
    out_spatial = tuple(g.shape[2:])
    cg_k = c_g * math.prod(kernel)
    # (N, C_in, *kernel, *out): the im2col matrix as a view, kernel axes before positions
    win = W.windows(xp, kernel, p.stride, p.dilation)
    cols_view = win.transpose((0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd)))
    # (G, C_g*K, O_g): the weight with its in and out channels swapped, for dcols
    w_t = np.ascontiguousarray(w.reshape(groups, c_out // groups, cg_k).transpose(0, 2, 1))
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
            _chunk_grads(g[n0:n1, :, r0:r1], cols, w_t, kernel, p, dw_parts[part],
                         dxp[n0:n1], first)

    # side by side only when there is enough work to pay for the threads
    parallel = n * out_spatial[0] * row_bytes >= 4 * _CHUNK_BYTES
    W.run_chunks(work, range(parts), parallel)
    return dxp, dw_parts.sum(axis=0).reshape(w.shape)


def _numpy_backward(g, x, w, p: ConvParams, bias: bool):
    xp = pad_spatial(x, p.pad, p.padding_mode)
    dxp, dw = _grads(g, xp, w, p)
    dx = _fold_padding(dxp, p)
    db = g.sum(axis=(0, *range(2, 2 + p.nd))) if bias else None
    return dx, dw, db


def _torch_backward(g, x, w, p: ConvParams, bias: bool):
    import torch
    import torch.nn.functional as F

    conv = (F.conv1d, F.conv2d, F.conv3d)[p.nd - 1]
    with torch.enable_grad():
        x_ = x.detach().requires_grad_(True)
        w_ = w.detach().requires_grad_(True)
        xp = pad_spatial(x_, p.pad, p.padding_mode)
        y = conv(xp, w_, None, p.stride, 0, p.dilation, p.groups)
        dx, dw = torch.autograd.grad(y, (x_, w_), g)
    db = g.sum(dim=(0, *range(2, 2 + p.nd))) if bias else None
    return dx, dw, db


def _conv_backward(grad_output, input, weight, stride, padding, dilation, groups,
                   padding_mode, bias, nd):
    kind = backend_of(grad_output=grad_output, input=input, weight=weight)
    p = check_conv(input, weight, None, stride, padding, dilation, groups, padding_mode, nd)
    check_ndim(grad_output, nd + 2, "grad_output", "N, C_out, " + ", ".join("DHW"[3 - nd:]))
    check_grad_output(
        grad_output, _output_shape(input, weight, p),
        f"input {tuple(input.shape)}, weight {tuple(weight.shape)}, stride {p.stride}, "
        f"padding {p.pad} and dilation {p.dilation}",
    )
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be True or False (whether to return grad_bias), got {bias!r}")
    if kind == "torch":
        return _torch_backward(grad_output, input, weight, p, bias)
    return _numpy_backward(grad_output, input, weight, p, bias)


def conv1d_backward(
    grad_output: Any,
    input: Any,
    weight: Any,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    bias: bool = True,
) -> tuple[Any, Any, Any | None]:
    """Gradients ``(grad_input, grad_weight, grad_bias)`` of ``conv1d``.

    ``grad_output`` is the gradient of the loss with respect to the output of
    ``conv1d(input, weight, stride=..., padding=..., ...)``, shape (N, C_out, L_out).
    ``grad_bias`` is None when ``bias=False``. See :func:`conv2d_backward`.

    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> w = np.array([[[1.0, 2.0]]])
    >>> g = np.ones((1, 1, 4))
    >>> dx, dw, db = conv1d_backward(g, x, w)
    >>> dx.tolist(), dw.tolist(), db.tolist()
    ([[[1.0, 3.0, 3.0, 3.0, 2.0]]], [[[6.0, 10.0]]], [4.0])
    """
    return _conv_backward(grad_output, input, weight, stride, padding, dilation, groups,
                          padding_mode, bias, 1)


def conv2d_backward(
    grad_output: Any,
    input: Any,
    weight: Any,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    bias: bool = True,
) -> tuple[Any, Any, Any | None]:
    """Gradients ``(grad_input, grad_weight, grad_bias)`` of ``conv2d``.

    ``grad_output`` (N, C_out, H_out, W_out) is the gradient of the loss with respect to
    the output of ``conv2d(input, weight, bias, stride, padding, dilation, groups,
    padding_mode)``; the arguments mean what they mean there. Returns arrays shaped like
    ``input``, ``weight`` and (C_out,) — ``grad_bias`` is None when ``bias=False``. NumPy
    arrays use the formulas of the module docstring; torch tensors use autograd.

    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.normal(size=(2, 3, 5, 5)), rng.normal(size=(4, 3, 3, 3))
    >>> g = rng.normal(size=(2, 4, 5, 5))        # output shape with padding=1
    >>> dx, dw, db = conv2d_backward(g, x, w, padding=1, padding_mode="reflect")
    >>> dx.shape, dw.shape, db.shape
    ((2, 3, 5, 5), (4, 3, 3, 3), (4,))
    """
    return _conv_backward(grad_output, input, weight, stride, padding, dilation, groups,
                          padding_mode, bias, 2)


def conv3d_backward(
    grad_output: Any,
    input: Any,
    weight: Any,
    stride: int | tuple[int, int, int] = 1,
    padding: int | tuple[int, int, int] | str = 0,
    dilation: int | tuple[int, int, int] = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    bias: bool = True,
) -> tuple[Any, Any, Any | None]:
    """Gradients ``(grad_input, grad_weight, grad_bias)`` of ``conv3d``.

    ``grad_output`` has shape (N, C_out, D_out, H_out, W_out). See :func:`conv2d_backward`.

    >>> x = np.ones((1, 2, 3, 3, 3))
    >>> w = np.ones((1, 2, 2, 2, 2))
    >>> dx, dw, db = conv3d_backward(np.ones((1, 1, 1, 1, 1)), x, w, stride=2)
    >>> float(dx.sum()), float(dw.sum()), db.tolist()
    (16.0, 16.0, [1.0])
    """
    return _conv_backward(grad_output, input, weight, stride, padding, dilation, groups,
                          padding_mode, bias, 3)
