"""Depthwise convolution in NumPy: one kernel per channel, computed as shifted sums.

A depthwise convolution (``groups == C_in``, weight ``(C_in * m, 1, *kernel)``) filters
every channel on its own, so there is no sum over input channels: each output value is
``prod(kernel)`` multiply-adds, and each input value is reused only ``prod(kernel)``
times. im2col would copy every window (``prod(kernel)`` times the input) to feed a matrix
product whose inner dimension is ``prod(kernel)`` alone -- the copy costs as much as the
arithmetic and BLAS has nothing to block. Instead, loop over the ``prod(kernel)`` taps and
add ``w[c, tap] * (the input shifted by that tap)`` into the output: ``prod(kernel)``
vectorised multiply-adds over whole slabs, no copy of the windows at all.

The work is memory-bound, so it is organised around the caches: a slab is a block of
channels of one image, sized to stay in a core's L2 cache; the slab alone is copied into
a zero-bordered buffer (the padded batch is never built), and the ``2 * prod(kernel)``
passes of its multiply-adds then read cached memory. The slabs run on the shared thread
policy of :func:`convlib._windows.run_chunks` (``OMP_NUM_THREADS`` threads at most).
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np

from . import _windows as W

__all__ = ["is_depthwise", "conv_depthwise"]

# input buffer + accumulator + temporary of one slab: about a core's L2 cache (measured
# with `python -m convlib.bench`: 256 KiB slabs spent a quarter of the time in Python
# calls between the short passes)
_SLAB_BYTES = 1 << 20
# from this many slabs on, they are spread over threads
_PARALLEL_SLABS = 4


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
    if nd == 2:
        _flat(x, w, stride, pad, dilation, out)
    else:
        _strided(x, w, stride, pad, dilation, out)
    return out


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
