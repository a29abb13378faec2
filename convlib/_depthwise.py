"""Depthwise convolution in NumPy: one kernel per channel, computed as shifted sums.

A depthwise convolution (``groups == C_in``, weight ``(C_in * m, 1, *kernel)``) filters
every channel on its own, so there is no sum over input channels: each output value is
``prod(kernel)`` multiply-adds, and each input value is reused only ``prod(kernel)``
times. im2col would copy every window (``prod(kernel)`` times the input) to feed a matrix
product whose inner dimension is ``prod(kernel)`` alone -- the copy costs as much as the
arithmetic and BLAS has nothing to block. Instead, loop over the ``prod(kernel)`` taps and
add ``w[c, tap] * (the input shifted by that tap)`` into the output: ``prod(kernel)``
vectorised multiply-adds over whole slabs, no copy of the windows at all.

The slabs are a few channels of one image at a time, sized to stay in cache, so the
``2 * prod(kernel)`` passes over the accumulator read cached memory; the slabs are
spread over threads (NumPy releases the GIL inside its loops).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from itertools import product

import numpy as np

__all__ = ["is_depthwise", "depthwise_conv"]

_SLAB_BYTES = 1 << 18  # input + accumulator of one slab: about an L2 cache


def is_depthwise(x_shape, w_shape, groups: int) -> bool:
    """True for ``groups == C_in > 1`` with one input channel per kernel."""
    return groups > 1 and groups == x_shape[1] and w_shape[1] == 1


def depthwise_conv(x, w, b, stride, pad, dilation, threads: int | None = None):
    """Depthwise convolution of ``x`` ``(N, C, *spatial)`` with ``w`` ``(C*m, 1, *k)``.

    ``stride``, ``dilation`` hold one int per spatial dimension and ``pad`` one
    ``(before, after)`` pair (zeros). Output channel ``o`` filters input channel
    ``o // m``, as in ``torch.nn.functional.conv2d(..., groups=C)``.
    """
    n, c = x.shape[:2]
    nd = x.ndim - 2
    kernel = w.shape[2:]
    m = w.shape[0] // c
    dtype = np.result_type(x, w)
    if nd == 2 and tuple(stride) == (1, 1):
        return _flat_stride1(x, w, b, pad, dilation, threads, dtype)
    if any(lo or hi for lo, hi in pad):
        xp = np.zeros((n, c, *(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pad))), dtype)
        xp[(slice(None), slice(None), *(slice(lo, lo + s) for s, (lo, _) in
                                        zip(x.shape[2:], pad)))] = x
    else:
        xp = x.astype(dtype, copy=False)
    out_sp = tuple((s - d * (k - 1) - 1) // st + 1
                   for s, k, st, d in zip(xp.shape[2:], kernel, stride, dilation))
    out = np.empty((n, c, m, *out_sp), dtype)
    wk = w.astype(dtype, copy=False).reshape(c, m, -1)  # (C, m, taps)
    taps = list(product(*(range(k) for k in kernel)))
    bcast = (slice(None), slice(None), *(None,) * nd)  # w[cs, :, t] against (cs, m, ...)
    plane = (math.prod(xp.shape[2:]) + m * math.prod(out_sp)) * xp.itemsize
    cb = max(1, min(c, _SLAB_BYTES // max(plane, 1)))
    slabs = [(i, c0) for i in range(n) for c0 in range(0, c, cb)]

    def run(slab):
        i, c0 = slab
        cs = slice(c0, min(c0 + cb, c))
        acc = out[i, cs]
        tmp = np.empty_like(acc)
        for t, offs in enumerate(taps):
            win = xp[(i, cs, None, *(slice(o * d, o * d + st * (q - 1) + 1, st) for o, d, st, q
                                    in zip(offs, dilation, stride, out_sp)))]
            wt = wk[cs, :, t][bcast]
            if t == 0:
                np.multiply(win, wt, out=acc)
            else:
                np.multiply(win, wt, out=tmp)
                acc += tmp

    _run(run, slabs, threads)
    out = out.reshape(n, c * m, *out_sp)
    if b is not None:
        out += np.asarray(b, dtype).reshape((1, -1) + (1,) * nd)
    return out


def _run(fn, items, threads) -> None:
    threads = threads or min(len(items), os.cpu_count() or 1)
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(fn, items))
    else:
        for item in items:
            fn(item)


def _flat_stride1(x, w, b, pad, dilation, threads, dtype):
    """Stride 1 in 2-D: each padded plane read as one flat row of ``Hp * Wp`` values.

    Output pixel ``(r, q)`` of tap ``(i, j)`` reads flat position ``(r + di) * Wp + q +
    dj``: for every tap, the whole output (computed ``Wp`` wide, the last ``Wp - Wo``
    columns thrown away) is one *contiguous* slice of the flat plane, so each multiply-add
    runs over long contiguous runs of memory.
    """
    n, c, h, wd = x.shape
    m = w.shape[0] // c
    (pt, pb), (pl, pr) = pad
    dh, dw = dilation
    kh, kw = w.shape[2:]
    hp, wp = h + pt + pb, wd + pl + pr
    ho, wo = hp - dh * (kh - 1), wp - dw * (kw - 1)
    flat = np.zeros((n, c, hp * wp + dw * (kw - 1)), dtype)  # the tail: the last tap's run
    flat[:, :, : hp * wp].reshape(n, c, hp, wp)[:, :, pt : pt + h, pl : pl + wd] = x
    out = np.empty((n, c, m, ho, wo), dtype)
    wk = w.astype(dtype, copy=False).reshape(c, m, kh * kw)
    offs = [i * dh * wp + j * dw for i in range(kh) for j in range(kw)]
    length = ho * wp
    per_channel = (hp * wp + 2 * m * length) * flat.itemsize
    cb = max(1, min(c, _SLAB_BYTES // max(per_channel, 1)))
    slabs = [(i, c0) for i in range(n) for c0 in range(0, c, cb)]

    def run(slab):
        i, c0 = slab
        cs = slice(c0, min(c0 + cb, c))
        src = flat[i, cs][:, None, :]  # (cb, 1, flat length)
        acc = np.empty((src.shape[0], m, length), dtype)
        tmp = np.empty_like(acc)
        for t, off in enumerate(offs):
            wt = wk[cs, :, t][:, :, None]
            if t == 0:
                np.multiply(src[:, :, off : off + length], wt, out=acc)
            else:
                np.multiply(src[:, :, off : off + length], wt, out=tmp)
                acc += tmp
        out[i, cs] = acc.reshape(-1, m, ho, wp)[..., :wo]

    _run(run, slabs, threads)
    out = out.reshape(n, c * m, ho, wo)
    if b is not None:
        out += np.asarray(b, dtype).reshape(1, -1, 1, 1)
    return out
