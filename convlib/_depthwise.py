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

    threads = threads or min(len(slabs), os.cpu_count() or 1)
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, slabs))
    else:
        for slab in slabs:
            run(slab)
    out = out.reshape(n, c * m, *out_sp)
    if b is not None:
        out += np.asarray(b, dtype).reshape((1, -1) + (1,) * nd)
    return out
