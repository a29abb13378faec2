"""Convolution forward: ``conv1d``, ``conv2d``, ``conv3d`` on NumPy arrays or torch tensors.

What deep learning calls convolution is a cross-correlation: output channel ``o`` at
position ``i`` is the sum over input channels ``c`` (of ``o``'s group) and kernel taps
``u`` of ``x[n, c, s*i + d*u] * w[o, c, u]`` on the padded input (the book's notation:
``u``, ``v`` are the taps of a 2-D kernel). One N-d core computes it
for 1, 2 and 3 spatial dimensions.

NumPy input runs one of several algorithms, chosen with ``method=`` (all give the same
numbers, like ``scipy.signal.correlate``):

``"loops"``
    The textbook definition: for every sample, output channel and output position, the
    window times the kernel, summed. Slow; for reading and for small inputs.
``"im2col"``
    The textbook algorithm of the convolution-as-matrix-product chapter: every window of
    the padded input becomes a column (:func:`convlib.im2col.im2col`), and one matrix
    product of the ``(C_out, C_in * prod(kernel))`` weight matrix with the columns gives
    every output at once (one product per group). Builds the whole-batch matrix.
``"gemm"``
    The same product, cache-blocked and threaded: a batch chunk (a few images, or a band
    of rows of one image) is moved to channels-last layout, its windows are viewed with
    ``sliding_window_view`` (stride and dilation as strided slices of that view, so no
    copy), copied once into a ``(pixels, kernel * channels)`` matrix that stays in the CPU
    caches, and multiplied by the ``(kernel * channels, C_out)`` weight matrix; chunks run
    on a few threads. The whole-batch matrix is never built. The fast path.
``"fft"``
    Pointwise products of real spectra (``scipy.fft.rfftn``), summed over input channels;
    dilation dilates the kernel, stride subsamples the result, zero padding is never
    written out (see ``_conv_fft``). Fast for large kernels.
``"depthwise"``
    Depthwise layers only (``groups == C_in``, one input channel per kernel), no windows
    copied: one banded matrix product per channel on narrow maps, a multiply-add per
    kernel tap over whole blocks of channels elsewhere (:mod:`convlib._depthwise`).
``"auto"``
    Exactly what :func:`choose_conv_method` answers: ``"gemm"``, ``"fft"`` or
    ``"depthwise"``, from a cost estimate (the textbook ``"im2col"`` and ``"loops"`` are
    never the faster).

The textbook methods (``"loops"``, ``"im2col"``) are written next to the book's formulas;
the fast kernels (``"gemm"``, ``"fft"``, ``"depthwise"``) follow them, and share one
thread policy, :func:`convlib._windows.run_chunks` (at most ``OMP_NUM_THREADS`` threads).

Torch tensors (any device, autograd on) run ``torch.nn.functional.conv{1,2,3}d``
(``method="auto"`` or ``"native"``), or ``method="im2col"``: the same im2col algorithm in
torch (``F.unfold`` + matmul for 2-D, ``Tensor.unfold`` windows for 1-D and 3-D). Its
earlier name, ``method="unfold"``, is still accepted for tensors (deprecated).

Like torch, every function also takes one unbatched sample, ``(C_in, *spatial)``, and then
answers with ``(C_out, *out)``.

``padding_mode`` other than ``"zeros"`` pads first and then convolves without padding,
exactly as ``torch.nn.Conv2d`` does.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import scipy.fft

from . import _windows as W
from ._backend import Array, backend_of
from ._checks import ConvParams, check_batched, check_conv, check_method
from ._conv_torch import conv_torch
from ._depthwise import conv_depthwise, is_depthwise
from ._depthwise import estimate_seconds as estimate_depthwise
from .im2col import unfold
from .padding import pad_spatial

__all__ = ["conv1d", "conv2d", "conv3d", "choose_conv_method", "conv_nd_numpy"]

NUMPY_METHODS = ("auto", "loops", "im2col", "gemm", "fft", "depthwise")
TORCH_METHODS = ("auto", "native", "im2col")
# the earlier name of the torch im2col method, still accepted (deprecated)
_TORCH_ALIASES = {"unfold": "im2col"}

# Bytes of the gemm method's matrix of one chunk (whole images, or rows of one large image):
# small enough to stay in the CPU caches while BLAS reads it, big enough that the
# per-chunk Python overhead stays negligible. Tuned with `python -m convlib.bench`.
_CHUNK_BYTES = 1 * 2**20
# From this many channels per group on, the channels-last layout is used (see
# _conv_gemm); below it, the classic channels-first one.
_CHANNELS_LAST_MIN = 16
# Bytes of the spectra of one batch chunk in the FFT method.
_FFT_CHUNK_BYTES = 64 * 2**20


def conv1d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    method: str = "auto",
) -> Array:
    """1-D convolution (cross-correlation) of ``input`` (N, C_in, L) with ``weight``
    (C_out, C_in/groups, k), like ``torch.nn.functional.conv1d``.

    ``padding`` is an int, a 1-tuple, ``"same"`` or ``"valid"``; ``padding_mode`` is
    ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``. ``method`` picks the
    algorithm (see the module docstring); it and ``padding_mode`` are keyword-only.
    Returns an array of the input's kind and dtype,
    shape (N, C_out, L_out).

    >>> x = np.array([[[1., 2., 3., 4.]]])
    >>> w = np.array([[[1., 0., -1.]]])
    >>> conv1d(x, w)
    array([[[-2., -2.]]])
    >>> conv1d(x, w, padding="same", padding_mode="replicate", method="loops")
    array([[[-1., -2., -2., -1.]]])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, method, 1)


def conv2d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    method: str = "auto",
) -> Array:
    """2-D convolution (cross-correlation) of ``input`` (N, C_in, H, W) with ``weight``
    (C_out, C_in/groups, kh, kw), like ``torch.nn.functional.conv2d``.

    ``padding`` is an int, a pair, ``"same"`` or ``"valid"``; ``padding_mode`` is
    ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``. ``method`` picks the
    algorithm (see the module docstring); it and ``padding_mode`` are keyword-only.
    Returns an array of the input's kind and dtype,
    shape (N, C_out, H_out, W_out).

    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> conv2d(x, w, stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    >>> conv2d(x, w, stride=2, method="fft").round(10)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, method, 2)


def conv3d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: int | tuple[int, int, int] = 1,
    padding: int | tuple[int, int, int] | str = 0,
    dilation: int | tuple[int, int, int] = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    method: str = "auto",
) -> Array:
    """3-D convolution (cross-correlation) of ``input`` (N, C_in, D, H, W) with ``weight``
    (C_out, C_in/groups, kd, kh, kw), like ``torch.nn.functional.conv3d``.

    Arguments as for :func:`conv2d`, with triples instead of pairs.

    >>> x = np.ones((1, 2, 3, 3, 3))
    >>> w = np.ones((4, 1, 2, 2, 2))
    >>> conv3d(x, w, groups=2).shape
    (1, 4, 2, 2, 2)
    >>> float(conv3d(x, w, groups=2)[0, 0, 0, 0, 0])
    8.0
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, method, 3)


def _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, method, nd):
    kind = backend_of(input=input, weight=weight, bias=bias)
    if kind == "torch":
        method = _TORCH_ALIASES.get(method, method) if isinstance(method, str) else method
    check_method(method, TORCH_METHODS if kind == "torch" else NUMPY_METHODS, input)
    batched = check_batched(input, nd)
    x = input if batched else input[None]
    p = check_conv(x, weight, bias, stride, padding, dilation, groups, padding_mode, nd)
    if kind == "torch":
        out = conv_torch(x, weight, bias, p, method)
    else:
        if method == "auto":
            method = _choose(x.shape, weight.shape, p)
        elif method == "depthwise":
            _check_depthwise(x, weight, p)
        out = _conv_numpy(x, weight, bias, p, method)
    return out if batched else out[0]


def _check_depthwise(x, w, p: ConvParams) -> None:
    if not is_depthwise(x.shape, w.shape, p.groups):
        raise ValueError(
            f'method="depthwise" needs groups == C_in > 1 and weight (C_in * m, 1, *kernel), '
            f"got groups={p.groups}, input {tuple(x.shape)} and weight {tuple(w.shape)}"
        )


# ----------------------------------------------------------------------------- NumPy


def _conv_numpy(x: np.ndarray, w: np.ndarray, b, p: ConvParams, method: str) -> np.ndarray:
    n = x.shape[0]
    out_spatial = W.window_counts(x.shape[2:], w.shape[2:], p.stride, p.dilation, p.pad)
    out = np.empty((n, w.shape[0], *out_spatial), dtype=x.dtype)
    if method in ("gemm", "fft", "depthwise") and p.padding_mode == "zeros":
        # the zero padding is never written out as a padded copy of the batch
        kernel = _FAST[method]
        kernel(x, w, p.stride, p.dilation, p.groups, out, p.pad)
    else:
        chunk = max(n, 1)
        if method == "gemm":
            # pad one chunk at a time: a padded copy of the whole batch would cost as much
            # memory as the input again
            row = math.prod(out_spatial[1:]) * x.shape[1] * math.prod(w.shape[2:])
            chunk, _ = W.plan_chunks(n, out_spatial[0], row * x.itemsize, _CHUNK_BYTES)
        for start in range(0, n, chunk):
            xp = pad_spatial(x[start : start + chunk], p.pad, p.padding_mode)
            conv_nd_numpy(xp, w, p.stride, p.dilation, p.groups, method=method,
                          out=out[start : start + chunk])
    if b is not None:
        out += b.reshape((1, -1) + (1,) * p.nd)
    return out


def conv_nd_numpy(
    x_padded: np.ndarray,
    weight: np.ndarray,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int = 1,
    *,
    method: str = "gemm",
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Cross-correlate an already padded NumPy input with ``weight``: the N-d core.

    ``x_padded`` is (N, C_in, *spatial) with any padding already applied (use
    :func:`convlib.padding.pad_spatial`); ``weight`` is (C_out, C_in/groups, *kernel);
    ``stride`` and ``dilation`` are tuples of one int per spatial dimension. No bias, no
    argument checks: callers (``conv1d/2d/3d``, the backward pass) have validated the
    shapes. ``method`` is ``"gemm"``, ``"im2col"``, ``"loops"``, ``"fft"`` or
    ``"depthwise"`` (for depthwise shapes only). The result,
    (N, C_out, *out), has ``x_padded``'s dtype and is written into ``out`` when given.

    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> conv_nd_numpy(x, np.ones((1, 1, 2)), (2,), (1,))
    array([[[1., 5.]]])
    """
    check_method(method, ("gemm", "im2col", "loops", "fft", "depthwise"), x_padded)
    nd = x_padded.ndim - 2
    out_spatial = W.window_counts(x_padded.shape[2:], weight.shape[2:], stride, dilation)
    if len(stride) != nd or len(dilation) != nd:
        raise ValueError(f"stride {stride} and dilation {dilation} need {nd} entries")
    shape = (x_padded.shape[0], weight.shape[0], *out_spatial)
    if out is None:
        out = np.empty(shape, dtype=x_padded.dtype)
    elif out.shape != shape:
        raise ValueError(f"out must have shape {shape}, got {out.shape}")
    _ALL[method](x_padded, weight, stride, dilation, groups, out)
    return out


def _conv_loops(xp, w, stride, dilation, groups, out):
    """The definition, one output value at a time: ``y[n, o, i] = sum_{c, u} w[o, c, u] *
    xp[n, c, s*i + d*u]`` over the input channels ``c`` of ``o``'s group and the kernel
    taps ``u``."""
    c_out, c_g = w.shape[:2]
    for n in range(xp.shape[0]):
        for o in range(c_out):
            g = o // (c_out // groups)  # the group this output channel reads from
            channels = slice(g * c_g, (g + 1) * c_g)
            for i in np.ndindex(*out.shape[2:]):
                # the window of output position i: from s*i, every d-th input, k of them
                window = tuple(
                    slice(s * i_, s * i_ + W.span(k, d), d)
                    for i_, s, d, k in zip(i, stride, dilation, w.shape[2:])
                )
                out[(n, o, *i)] = np.sum(xp[(n, channels, *window)] * w[o])


def _conv_im2col(xp, w, stride, dilation, groups, out):
    """The textbook algorithm: every window a column, then one matrix product.

    ``cols[n, (c, u), i] = xp[n, c, s*i + d*u]`` is :func:`convlib.im2col.im2col` of the
    padded input; the weight reshaped to ``(C_out, C_in * K)`` times ``cols`` is the whole
    convolution, ``y[n, o, i] = sum_{c, u} w[o, c, u] * cols[n, (c, u), i]``. With groups,
    each group's rows of ``cols`` meet only its own output channels.
    """
    n = xp.shape[0]
    c_out, c_g = w.shape[:2]
    cols = unfold(xp, w.shape[2:], stride, dilation)  # (N, C_in * K, L)
    cols = cols.reshape(n, groups, c_g * math.prod(w.shape[2:]), cols.shape[-1])
    w_mat = w.reshape(groups, c_out // groups, -1)  # (G, C_out/G, C_in/G * K)
    out[...] = (w_mat @ cols).reshape(out.shape)  # (N, G, C_out/G, L) -> (N, C_out, *out)


def _conv_gemm(xp, w, stride, dilation, groups, out, pad=None):
    """im2col chunk by chunk, one matmul per chunk, in the layout that suits the channels.

    Many channels per group: channels last. The chunk is transposed once to
    (n, *spatial, C), so each window row of the im2col matrix is made of ``kernel_width *
    C`` contiguous numbers, and ``cols (pixels, taps * C) @ w (taps * C, C_out)`` is a
    tall-skinny product BLAS runs near peak; the result is transposed back into ``out``.
    Few channels (an RGB input layer): channels first, the classic layout. Rows of
    ``cols (taps * C, pixels)`` are contiguous runs of an input row, and
    ``w (C_out, taps * C) @ cols`` lands directly in ``out``, no transposition at all.

    ``pad``, ``(before, after)`` pairs, zero-pads each chunk on the fly: the chunk is
    copied into the interior of a buffer whose border was zeroed once.
    """
    nd = xp.ndim - 2
    pad = pad or ((0, 0),) * nd
    n_batch, c_in = xp.shape[:2]
    c_out, c_g = w.shape[:2]
    kernel = w.shape[2:]
    out_g = c_out // groups
    out_spatial = out.shape[2:]
    taps = math.prod(kernel)
    row_bytes = math.prod(out_spatial[1:]) * c_in * taps * xp.itemsize
    images, rows = W.plan_chunks(n_batch, out_spatial[0], row_bytes, _CHUNK_BYTES)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(xp.shape[2:], pad))
    interior = tuple(slice(lo, lo + n) for n, (lo, _) in zip(xp.shape[2:], pad))
    rest = out_spatial[1:]
    channels_last = c_g >= _CHANNELS_LAST_MIN
    if channels_last:
        # (groups, taps * C/groups, C_out/groups): row (k, c) matches column (k, c) of cols
        w_mat = w.reshape(groups, out_g, c_g, taps).transpose(0, 3, 2, 1).reshape(
            groups, taps * c_g, out_g
        )
    else:
        w_mat = w.reshape(groups, out_g, c_g * taps)  # column (c, k), as in F.unfold
    needs_buffer = channels_last or any(lo or hi for lo, hi in pad)

    def windows(start):
        """The windows of one chunk of images, (n, C, *out, *kernel), as a view."""
        chunk = xp[start : start + images]
        n = chunk.shape[0]
        if channels_last:
            # one pass does both the transposition to channels last and the padding
            xl = np.zeros((n, *padded, c_in), dtype=xp.dtype)
            xl[(slice(None), *interior)] = np.moveaxis(chunk, 1, -1)
            win = W.windows(xl, kernel, stride, dilation, axis=1)  # (n, *out, C, *kernel)
            return np.moveaxis(win, nd + 1, 1)
        if needs_buffer:
            buf = np.zeros((n, c_in, *padded), dtype=xp.dtype)
            buf[(slice(None), slice(None), *interior)] = chunk
            chunk = buf
        return W.windows(chunk, kernel, stride, dilation)

    def rows_of(start, win, r0):
        """Output rows r0 .. r0 + rows of one chunk of images: one copy, one matmul."""
        n = win.shape[0]
        part = win[:, :, r0 : r0 + rows]  # (n, C, r, *rest, *kernel)
        r = part.shape[2]
        pixels = r * math.prod(rest)
        # (n, groups, C_out/groups, r * prod(rest)): a view, the slab of out to fill
        target = out[start : start + n, :, r0 : r0 + r].reshape(n, groups, out_g, pixels)
        part = part.reshape(n, groups, c_g, r, *rest, *kernel)
        if channels_last:
            # the one copy: (groups, n * pixels, taps * C/groups)
            cols = part.transpose(1, 0, *range(3, nd + 3), *range(nd + 3, 2 * nd + 3), 2)
            cols = cols.reshape(groups, n * pixels, taps * c_g)
            res = np.matmul(cols, w_mat).reshape(groups, n, pixels, out_g)
            target[...] = res.transpose(1, 0, 3, 2)
        else:
            # the one copy: (n, groups, C/groups * taps, pixels)
            cols = part.transpose(0, 1, 2, *range(nd + 3, 2 * nd + 3), *range(3, nd + 3))
            cols = cols.reshape(n, groups, c_g * taps, pixels)
            np.matmul(w_mat, cols, out=target)

    row_starts = range(0, out_spatial[0], rows)

    def chunk_of_images(start):
        win = windows(start)
        for r0 in row_starts:
            rows_of(start, win, r0)

    starts = range(0, n_batch, images)
    # threads pay off from a few chunks on; below that their start-up costs more
    parallel = n_batch * out_spatial[0] * row_bytes >= 4 * _CHUNK_BYTES
    if len(starts) > 1:
        W.run_chunks(chunk_of_images, starts, parallel)
    elif n_batch:  # one chunk of images (or one large image): its rows are the chunks
        win = windows(0)
        W.run_chunks(lambda r0: rows_of(0, win, r0), row_starts, parallel)


def _conv_fft(x, w, stride, dilation, groups, out, pad=None):
    """Correlation by FFT: products of real spectra, summed over the input channels.

    Correlation is convolution with the flipped kernel; dilation spreads its taps. ``pad``
    (``(before, after)`` zero padding) is never written out: output ``i`` reads the
    padded input from ``s*i``, which is position ``m = s*i - p_before + span - 1`` of the
    linear convolution of the *unpadded* input with the flipped kernel. A circular
    convolution of length ``L >= n + max(p_before, p_after)`` (and ``>= span``) leaves
    every such ``m`` (taken modulo ``L``) free of wrap-around, so the transforms are
    ``L`` long, shorter than the padded input plus the kernel, and real.
    """
    nd = x.ndim - 2
    pad = pad or ((0, 0),) * nd
    n_batch, c_in = x.shape[:2]
    c_out, c_g = w.shape[:2]
    out_g = c_out // groups
    spans = tuple(W.span(k, d) for k, d in zip(w.shape[2:], dilation))
    axes = tuple(range(2, nd + 2))
    wd = np.zeros((c_out, c_g, *spans), dtype=w.dtype)
    wd[(slice(None), slice(None), *(slice(None, None, d) for d in dilation))] = w
    wd = np.flip(wd, axis=axes)
    shape = tuple(
        scipy.fft.next_fast_len(max(n + max(lo, hi), sp), real=True)
        for n, (lo, hi), sp in zip(x.shape[2:], pad, spans)
    )
    # the kernel is small: transform it axis by axis (the input, nearly as large as the
    # transform, in one call)
    w_hat = _rfftn(wd, shape, axes)
    freq = w_hat.shape[2:]
    w_hat = w_hat.reshape(groups, out_g, c_g, *freq)
    # the outputs' positions m in the circular result: slices, or index arrays mod L
    keep = [slice(None), slice(None)]
    for (lo, _), sp, o, s, size in zip(pad, spans, out.shape[2:], stride, shape):
        m0 = sp - 1 - lo
        keep.append(slice(m0, m0 + s * (o - 1) + 1, s) if m0 >= 0
                    else (m0 + s * np.arange(o)) % size)
    if any(isinstance(k, np.ndarray) for k in keep):
        keep[2:] = np.ix_(*(np.arange(size)[k] for k, size in zip(keep[2:], shape)))
    keep = tuple(keep)
    per_image = (c_in + c_out) * math.prod(freq) * w_hat.itemsize
    chunk, _ = W.plan_chunks(n_batch, 1, per_image, _FFT_CHUNK_BYTES)
    for start in range(0, n_batch, chunk):
        x_hat = scipy.fft.rfftn(x[start : start + chunk], shape, axes=axes)
        n = x_hat.shape[0]
        x_hat = x_hat.reshape(n, groups, 1, c_g, *freq)
        # y_hat[n, g, o] = sum_c x_hat[n, g, c] * w_hat[g, o, c]: a loop over channels
        # only, each step vectorised over samples, output channels and frequencies.
        y_hat = x_hat[:, :, :, 0] * w_hat[None, :, :, 0]
        for c in range(1, c_g):
            y_hat += x_hat[:, :, :, c] * w_hat[None, :, :, c]
        y = scipy.fft.irfftn(y_hat.reshape(n, c_out, *freq), shape, axes=axes)
        out[start : start + n] = y[keep]


def _conv_depthwise(x, w, stride, dilation, groups, out, pad=None):
    """One kernel per channel (``groups == C_in``): shifted multiply-adds, no windows
    copied; see :mod:`convlib._depthwise`."""
    conv_depthwise(x, w, stride, dilation, out, pad)


# the methods that take the zero padding as an argument, and every method by name
_FAST = {"gemm": _conv_gemm, "fft": _conv_fft, "depthwise": _conv_depthwise}
_ALL = {"loops": _conv_loops, "im2col": _conv_im2col, **_FAST}


def _rfftn(a: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    """``scipy.fft.rfftn(a, shape, axes=axes)``, one axis at a time, last axis first.

    Each pass zero-pads only its own axis, so the rows that the other axes' padding adds
    (all zeros, most of a small kernel's padded array) are never transformed or copied.
    """
    out = scipy.fft.rfft(a, n=shape[-1], axis=axes[-1])
    for axis, n in zip(axes[-2::-1], shape[-2::-1]):
        out = scipy.fft.fft(out, n=n, axis=axis)
    return out


def choose_conv_method(
    input: Any,
    weight: Any,
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] | str = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    measure: bool = False,
) -> Any:
    """The NumPy method ``method="auto"`` runs for these arguments: ``"gemm"``, ``"fft"``
    or ``"depthwise"``.

    Like ``scipy.signal.choose_conv_method``: it compares an estimate of each fast
    method's cost (gemm proportional to the kernel size, FFT to ``log`` of the input size,
    the depthwise kernel to the taps times the output, for depthwise shapes only), using
    constants measured on one CPU core, and answers the cheapest. Large kernels go to the
    FFT; the 3x3 kernels of CNN layers with many channels never do; depthwise layers
    (``groups == C_in``) go to :mod:`convlib._depthwise` or to gemm, whichever the
    estimate fitted to ``python -m convlib.bench --depthwise`` (EfficientNet-Lite0's
    depthwise layers) makes cheaper. The textbook ``"im2col"`` and
    ``"loops"`` are never the cheaper, so never chosen. Shapes are all the estimate needs,
    so ``input`` and ``weight`` may be arrays of any kind, batched or not.

    With ``measure=True`` (NumPy arrays only), as in scipy, each candidate runs once on
    these arrays and the answer is ``(fastest, {method: seconds})``, measured on this
    machine rather than estimated.

    >>> x = np.zeros((1, 1, 512, 512), dtype=np.float32)
    >>> choose_conv_method(x, np.zeros((1, 1, 31, 31), dtype=np.float32))
    'fft'
    >>> choose_conv_method(x, np.zeros((8, 1, 3, 3), dtype=np.float32), padding=1)
    'gemm'
    >>> dw = np.zeros((1, 32, 56, 56), dtype=np.float32)
    >>> choose_conv_method(dw, np.zeros((32, 1, 3, 3), dtype=np.float32), groups=32)
    'depthwise'
    >>> best, times = choose_conv_method(dw, np.zeros((32, 1, 3, 3), dtype=np.float32),
    ...                                  groups=32, measure=True)
    >>> sorted(times)
    ['depthwise', 'fft', 'gemm']
    """
    nd = weight.ndim - 2
    x = input if check_batched(input, nd) else input[None]
    p = check_conv(x, weight, None, stride, padding, dilation, groups, padding_mode, nd)
    if not measure:
        return _choose(tuple(x.shape), tuple(weight.shape), p)
    if backend_of(input=input, weight=weight) != "numpy":
        raise TypeError("choose_conv_method(measure=True) times the NumPy methods: input "
                        "and weight must be NumPy arrays")
    times = {}
    for method in _costs(tuple(x.shape), tuple(weight.shape), p):
        start = time.perf_counter()
        _conv_numpy(x, weight, None, p, method)
        times[method] = time.perf_counter() - start
    return min(times, key=times.__getitem__), times


def _costs(x_shape, w_shape, p: ConvParams) -> dict[str, float]:
    """Estimated seconds of each fast method that applies, with constants measured on one
    x86 core (float32).

    gemm: copying the matrix costs more per element when the contiguous runs (channels
    of a group, channels-last) are short, then the matmul runs near BLAS speed. FFT: the
    transforms cost ``size * log2(size)`` per image and channel (plus a fixed few
    microseconds per plane of a grouped layer's input and output, which dominates its
    many small planes), the spectral products one complex multiply-add per frequency,
    input channel and output channel; the transform size is the one :func:`_conv_fft`
    uses. Depthwise shapes: gemm and the depthwise kernel
    (:func:`convlib._depthwise.estimate_seconds`) per output value and tap, fitted to
    ``python -m convlib.bench --depthwise``, both dearer per value on narrow maps.
    """
    n, c_in = x_shape[:2]
    c_out, c_g = w_shape[:2]
    kernel = w_shape[2:]
    spatial = x_shape[2:]
    out_spatial = W.window_counts(spatial, kernel, p.stride, p.dilation, p.pad)
    copied = n * math.prod(out_spatial) * math.prod(kernel) * c_in
    macs = copied * (c_out // p.groups)
    gemm = 5e-5 + copied * (0.1e-9 + 2e-9 / c_g) + macs * 3e-11
    if p.padding_mode == "zeros":  # the padding stays implicit
        lengths = [max(m + max(lo, hi), W.span(k, d))
                   for m, (lo, hi), k, d in zip(spatial, p.pad, kernel, p.dilation)]
    else:
        lengths = [m + lo + hi for m, (lo, hi) in zip(spatial, p.pad)]
    size = math.prod(scipy.fft.next_fast_len(m, real=True) for m in lengths)
    planes = n * c_in + n * c_out  # the input's and the output's
    transforms = (planes + c_out * c_g) * size * math.log2(max(size, 2))
    products = n * c_out * c_g * size
    fft = 1e-4 + transforms * 1.5e-10 + products * 7e-10
    if p.groups > 1:
        # grouped layers have many small planes, and there a cost per plane dominates:
        # fixed for small planes, about 10 ns a value for planes beyond the L1 cache
        # (measured on depthwise layers: 10x the estimate without it, on
        # EfficientNet-Lite0's 56x56 and 112x112 layers 4x with a fixed cost alone)
        fft += planes * max(5e-6, size * 1e-8)
    if is_depthwise(x_shape, w_shape, p.groups):
        # measured on EfficientNet-Lite0's depthwise layers (python -m convlib.bench
        # --depthwise): one small matrix product per channel and chunk, so the per-value
        # cost grows as the rows get shorter, and with a stride
        outputs = n * c_out * math.prod(out_spatial)
        per = (0.8 + 22 / out_spatial[-1]) * (1.3 if any(s > 1 for s in p.stride) else 1)
        gemm = 5e-5 + 1e-9 * outputs * math.prod(kernel) * per
    costs = {"gemm": gemm, "fft": fft}
    if is_depthwise(x_shape, w_shape, p.groups):
        costs["depthwise"] = estimate_depthwise(x_shape, w_shape, p.stride,
                                                (n, c_out, *out_spatial))
    return costs


def _choose(x_shape, w_shape, p: ConvParams) -> str:
    costs = _costs(x_shape, w_shape, p)
    return min(costs, key=costs.__getitem__)
