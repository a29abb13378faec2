"""Depthwise convolution in NumPy: one kernel per channel, by banded matrix products or
by shifted sums.

A depthwise convolution (``groups == C_in``, weight ``(C_in * m, 1, *kernel)``) filters
every channel on its own, so there is no sum over input channels: each output value is
``prod(kernel)`` multiply-adds, and each input value is reused only ``prod(kernel)``
times. im2col copies every window (``prod(kernel)`` times the input) to feed a matrix
product whose inner dimension is ``prod(kernel)`` alone: the copy costs as much as the
arithmetic. Two ways around the copy, each faster on its own kind of layer:

* **Banded products** (2-D, narrow feature maps). Row ``r`` of a channel's output is
  ``sum_u x[s*r + d*u - p] @ T_u``, where ``T_u`` (input width x output width) holds
  kernel row ``u`` on a band: ``T_u[s*j + d*v - p, j] = w[u, v]``. The ``k_h`` bands side
  by side make one matrix, so one BLAS product per channel computes every row's
  contribution to every tap row, and ``k_h`` slice additions shift them into place. The
  input is read where it lies: horizontal zero padding is the band's truncated edge,
  vertical padding the rows each tap skips, so nothing is padded or copied. The product
  does ``W / k_w`` times the necessary multiply-adds (the band's zeros), at BLAS speed:
  it pays off where the map is narrow.
* **Shifted sums** (any map; 1-D and 3-D always). For each of the ``prod(kernel)`` taps,
  add ``w[c, tap] * (the input shifted by that tap)`` into the output: two vectorised
  passes (multiply, add) per tap over whole slabs of channels, no window copied.

Both are memory-bound and organised around the caches: a slab is a block of channels of
one image whose buffers stay in a core's L2 cache, and the slabs run on the shared thread
policy of :func:`convlib._windows.run_chunks` (``OMP_NUM_THREADS`` threads at most).
Which of the two runs is :func:`banded_pays`' rule; ``python -m convlib.bench
--depthwise`` times both against the grouped gemm, FFT and torch on EfficientNet-Lite0's
layers.

Two ways to do shifted sums that look cheaper measured slower (against the slabs above,
on EfficientNet-Lite0's layers, one thread): adding each tap straight into the output
over the tap's valid range, which saves the slab's zero-bordered copy, took 2.5 to 3.2
times as long, because every pass then runs over rows of ``W`` values instead of one
flat run of the slab; ``np.einsum`` over the taps of a strided view, one call instead of
``2 prod(kernel)``, took 2.3 to 7 times as long.
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import _windows as W

__all__ = ["is_depthwise", "conv_depthwise", "banded_pays", "estimate_seconds"]

# input buffer + accumulator + temporary of one slab: about a core's L2 cache (measured
# with `python -m convlib.bench`: 256 KiB slabs spent a quarter of the time in Python
# calls between the short passes)
_SLAB_BYTES = 1 << 20
# from this many slabs on, they are spread over threads
_PARALLEL_SLABS = 4
# banded products run where the input is at most this many kernel widths wide (their
# wasted multiply-adds grow with the width; measured with `python -m convlib.bench
# --depthwise`, see banded_pays)
_BANDED_MAX_WIDTHS = 10


def is_depthwise(x_shape, w_shape, groups: int) -> bool:
    """True for ``groups == C_in > 1`` with one input channel per kernel.

    >>> is_depthwise((1, 32, 56, 56), (32, 1, 3, 3), 32)
    True
    >>> is_depthwise((1, 32, 56, 56), (32, 2, 3, 3), 16)
    False
    """
    return groups > 1 and groups == x_shape[1] and w_shape[1] == 1


def conv_depthwise(
    x: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out: np.ndarray,
    pad: tuple[tuple[int, int], ...] | None = None,
) -> np.ndarray:
    """Depthwise convolution of ``x`` ``(N, C, *spatial)`` with ``w`` ``(C*m, 1, *k)``
    into ``out`` ``(N, C*m, *out)``, which must have ``np.result_type(x, w)``.

    ``stride``, ``dilation`` hold one int per spatial dimension and ``pad`` one
    ``(before, after)`` pair of zeros (none when omitted). Output channel ``o`` filters
    input channel ``o // m``, as in ``torch.nn.functional.conv2d(..., groups=C)``.

    >>> x = np.arange(10.0).reshape(1, 2, 5)
    >>> out = np.empty((1, 2, 5))
    >>> conv_depthwise(x, np.array([[[1., 1., 1.]], [[0., 1., 0.]]]), (1,), (1,), out,
    ...                ((1, 1),)).tolist()
    [[[1.0, 3.0, 6.0, 9.0, 7.0], [5.0, 6.0, 7.0, 8.0, 9.0]]]
    """
    nd = x.ndim - 2
    pad = pad or ((0, 0),) * nd
    if nd == 2 and banded_pays(x.shape, w.shape):
        _banded(x, w, stride, pad, dilation, out)
    elif nd == 2:
        _flat(x, w, stride, pad, dilation, out)
    else:
        _strided(x, w, stride, pad, dilation, out)
    return out


def banded_pays(x_shape, w_shape) -> bool:
    """True where :func:`conv_depthwise` runs banded products rather than shifted sums:
    2-D input at most ``_BANDED_MAX_WIDTHS`` kernel widths wide.

    The banded product does ``W_in * k_h`` multiply-adds per output row and tap row
    where shifted sums do two passes per tap, ``2 k_h k_w``: its waste is ``W_in / (2
    k_w)``, and BLAS runs a multiply-add a few times faster than NumPy runs a pass.

    >>> banded_pays((8, 1152, 7, 7), (1152, 1, 5, 5)), banded_pays((8, 144, 56, 56),
    ...                                                            (144, 1, 3, 3))
    (True, False)
    """
    return len(x_shape) == 4 and x_shape[3] <= _BANDED_MAX_WIDTHS * w_shape[3]


def estimate_seconds(x_shape, w_shape, stride, out_shape) -> float:
    """Estimated seconds of :func:`conv_depthwise` on one core, float32: for the
    algorithm it runs, nanoseconds per output value and kernel tap, fitted to ``python -m
    convlib.bench --depthwise`` on EfficientNet-Lite0's layers (batch 8, one thread).

    Shifted sums: ``0.75 + 16 / W_out`` (the short rows of small maps cost more per
    value), 1.6 times that with a stride (the stride phases). Banded products: ``1.1 +
    0.08 W_in / k_w`` (the band's zeros grow with the width), 1.5 times that with a
    stride, plus writing the bands. 1-D and 3-D: shifted sums, as a flat 0.75.

    >>> round(1e3 * estimate_seconds((8, 144, 56, 56), (144, 1, 3, 3), (1, 1),
    ...                              (8, 144, 56, 56)), 1)
    33.7
    """
    taps = math.prod(w_shape[2:])
    outputs = math.prod(out_shape)
    strided = any(s > 1 for s in stride)
    if len(x_shape) != 4:
        per = 0.75
    elif banded_pays(x_shape, w_shape):
        per = (1.1 + 0.08 * x_shape[3] / w_shape[3]) * (1.5 if strided else 1.0)
        # the bands: (C*m, k_h, W_out, W_in) values written once
        band_values = w_shape[0] * w_shape[2] * out_shape[3] * x_shape[3]
        return 2e-5 + 1e-9 * (outputs * taps * per + band_values)
    else:
        per = (0.75 + 16 / out_shape[3]) * (1.6 if strided else 1.0)
    return 2e-5 + 1e-9 * outputs * taps * per


def _slabs(n: int, c: int, per_channel: int) -> tuple[int, list[tuple[int, int]]]:
    """Channels per slab and the ``(image, first channel)`` of every slab."""
    cb = max(1, min(c, _SLAB_BYTES // max(per_channel, 1)))
    return cb, [(i, c0) for i in range(n) for c0 in range(0, c, cb)]


def _strided(x, w, stride, pad, dilation, out):
    """1-D and 3-D: tap by tap, strided windows of the slab's padded copy."""
    n, c = x.shape[:2]
    nd = x.ndim - 2
    kernel = w.shape[2:]
    m = w.shape[0] // c
    dtype = out.dtype
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pad))
    interior = tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pad))
    needs_pad = any(lo or hi for lo, hi in pad)
    out_sp = out.shape[2:]
    out5 = out.reshape(n, c, m, *out_sp)
    wk = w.astype(dtype, copy=False).reshape(c, m, -1)  # (C, m, taps)
    taps = list(product(*(range(k) for k in kernel)))
    bcast = (slice(None), slice(None), *(None,) * nd)  # w[cs, :, t] against (cs, m, ...)
    plane = (math.prod(padded) + 2 * m * math.prod(out_sp)) * out.itemsize
    cb, slabs = _slabs(n, c, plane)

    def run(slab):
        i, c0 = slab
        cs = slice(c0, min(c0 + cb, c))
        if needs_pad:  # the slab's own zero-bordered copy, small enough to stay in cache
            src = np.zeros((cs.stop - c0, *padded), dtype)
            src[(slice(None), *interior)] = x[i, cs]
        else:
            src = x[i, cs].astype(dtype, copy=False)
        src = src[:, None]  # against (cs, m, *out)
        acc = out5[i, cs]
        tmp = np.empty_like(acc)
        for t, offs in enumerate(taps):
            win = src[(slice(None), slice(None),
                       *(slice(o * d, o * d + st * (q - 1) + 1, st)
                         for o, d, st, q in zip(offs, dilation, stride, out_sp)))]
            wt = wk[cs, :, t][bcast]
            if t == 0:
                np.multiply(win, wt, out=acc)
            else:
                np.multiply(win, wt, out=tmp)
                acc += tmp

    W.run_chunks(run, slabs, len(slabs) >= _PARALLEL_SLABS)


def _flat(x, w, stride, pad, dilation, out):
    """2-D, any stride: each padded plane split into its ``s_h * s_w`` stride phases, each
    phase read as one flat row.

    Phase ``(a, b)`` holds the padded plane's rows ``a, a + s_h, ...`` and columns ``b, b +
    s_w, ...`` (``Hq x Wq`` values, zero-filled to a common size). Tap ``(u, v)`` reads
    row ``s_h r + d_h u`` and column ``s_w q + d_w v``: in phase ``(d_h u mod s_h, d_w v
    mod s_w)`` that is row ``r + d_h u // s_h``, column ``q + d_w v // s_w``, so flat
    position ``(r + d_h u // s_h) * Wq + q + d_w v // s_w``. For every tap the whole
    output (computed ``Wq`` wide, the last ``Wq - Wo`` columns thrown away) is one
    *contiguous* slice of one flat phase: each multiply-add runs over long contiguous runs
    of memory, whatever the stride. With stride 1 the only phase is the padded plane.
    """
    n, c, h, wd = x.shape
    m = w.shape[0] // c
    (pt, pb), (pl, pr) = pad
    sh, sw = stride
    dh, dw = dilation
    kh, kw = w.shape[2:]
    hp, wp = h + pt + pb, wd + pl + pr
    hq, wq = -(-hp // sh), -(-wp // sw)  # the phases' common size
    ho, wo = out.shape[2:]
    dtype = out.dtype
    out5 = out.reshape(n, c, m, ho, wo)
    wk = w.astype(dtype, copy=False).reshape(c, m, kh * kw)
    # per tap: (phase row, phase column, offset in the flat phase)
    taps = [(dh * u % sh, dw * v % sw, dh * u // sh * wq + dw * v // sw)
            for u in range(kh) for v in range(kw)]
    length = ho * wq
    tail = dw * (kw - 1) // sw  # the last tap's run reaches past the phase
    plane = sh * sw * (hq * wq + tail) + (hp * wp if sh * sw > 1 else 0) + 2 * m * length
    cb, slabs = _slabs(n, c, plane * out.itemsize)

    def run(slab):
        i, c0 = slab
        cs = slice(c0, min(c0 + cb, c))
        k = cs.stop - c0
        # the slab's zero-bordered copy, split into its phases: (k, sh, sw, flat length)
        phases = np.zeros((k, sh, sw, hq * wq + tail), dtype)
        if sh == sw == 1:
            phases[:, 0, 0, : hp * wp].reshape(k, hp, wp)[:, pt:pt + h, pl:pl + wd] = x[i, cs]
        else:
            padded = np.zeros((k, hq * sh, wq * sw), dtype)
            padded[:, pt : pt + h, pl : pl + wd] = x[i, cs]
            grid = padded.reshape(k, hq, sh, wq, sw).transpose(0, 2, 4, 1, 3)
            phases[..., : hq * wq].reshape(k, sh, sw, hq, wq)[...] = grid
        acc = np.empty((k, m, length), dtype)
        tmp = np.empty_like(acc)
        for t, (a, b, off) in enumerate(taps):
            src = phases[:, None, a, b, off : off + length]  # (k, 1, length)
            wt = wk[cs, :, t][:, :, None]
            if t == 0:
                np.multiply(src, wt, out=acc)
            else:
                np.multiply(src, wt, out=tmp)
                acc += tmp
        out5[i, cs] = acc.reshape(k, m, ho, wq)[..., :wo]

    W.run_chunks(run, slabs, len(slabs) >= _PARALLEL_SLABS)


def _banded(x, w, stride, pad, dilation, out):
    """2-D by banded matrix products; see the module docstring.

    ``T[o, col, u, j] = w[o, u, v]`` for ``col = s_w j + d_w v - p_left`` inside the
    input (a tap that lands in the padding has no row: the band is cut off). With a
    vertical stride the input rows are split by phase ``a`` (rows ``a, a + s_h, ...``),
    and each phase is multiplied only by the kernel rows ``u`` that read it
    (``d_h u - p_top = a`` mod ``s_h``): no product is computed that no output uses.
    Output row ``r`` then adds row ``r + (d_h u - p_top - a) / s_h`` of phase ``a``'s
    product, tap row ``u``, for the rows inside the input.
    """
    n, c, h, wd = x.shape
    m = w.shape[0] // c
    (pt, _), (pl, _) = pad
    sh, sw = stride
    dh, dw = dilation
    kh, kw = w.shape[2:]
    ho, wo = out.shape[2:]
    dtype = out.dtype
    # the bands, transposed: row j of band[o, u] holds kernel row u from column s_w j
    # on, every d_w columns, in a row as wide as the padded input (written through one
    # strided view: no index arrays); the input's columns are then a slice of it
    full = sw * (wo - 1) + dw * (kw - 1) + 1
    width = max(full, pl + wd)
    band = np.zeros((c * m, kh, wo, width), dtype)
    o_st, u_st, j_st, v_st = band.strides
    diag = as_strided(band, (c * m, kh, wo, kw), (o_st, u_st, j_st + sw * v_st, dw * v_st))
    diag[...] = w[:, 0, :, None, :]
    band = band.reshape(c, m, kh, wo, width)[..., pl : pl + wd]
    # per row phase: its kernel rows, their bands stacked, and per kernel row the
    # output rows it reaches and where they start in the phase's product
    phases = []
    for a in range(sh):
        rows = [u for u in range(kh) if (dh * u - pt - a) % sh == 0]
        ha = len(range(a, h, sh))
        if not rows or not ha:
            continue
        taps = []
        for i, u in enumerate(rows):
            q = (dh * u - pt - a) // sh  # output row r reads phase row r + q
            lo, hi = max(0, -q), min(ho, ha - q)
            if hi > lo:
                taps.append((i, lo, hi, lo + q))
        if taps:
            mat = band if len(rows) == kh else band[:, :, rows]
            # (c, m, W_in, rows * W_out), contiguous: NumPy's matmul hands a transposed
            # view of a sliced row to BLAS far more slowly (2 to 3 times, measured)
            mat = np.ascontiguousarray(mat.reshape(c, m, -1, wd).swapaxes(-1, -2))
            phases.append((a, len(rows), mat, taps))
    out5 = out.reshape(n, c, m, ho, wo)
    per_channel = (h * wd + m * (wd + h) * kh * wo + m * ho * wo) * out.itemsize
    cb, slabs = _slabs(n, c, per_channel)

    def run(slab):
        i, c0 = slab
        cs = slice(c0, min(c0 + cb, c))
        k = cs.stop - c0
        acc = out5[i, cs]
        acc[...] = 0
        src = x[i, cs].astype(dtype, copy=False)[:, None]  # (k, 1, h, W): no copy
        for a, nrows, mat, taps in phases:
            prod = np.matmul(src[:, :, a::sh], mat[cs])  # (k, m, h_a, rows * W_out)
            prod = prod.reshape(k, m, -1, nrows, wo)
            for t, lo, hi, start in taps:
                acc[:, :, lo:hi] += prod[:, :, start : start + hi - lo, t]

    W.run_chunks(run, slabs, len(slabs) >= _PARALLEL_SLABS)
