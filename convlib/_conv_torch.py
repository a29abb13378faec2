"""The torch path of ``conv1d/2d/3d``: ``torch.nn.functional.conv{1,2,3}d`` (``method="auto"``
or ``"native"``), or the im2col algorithm written in torch (``method="im2col"``:
``F.unfold`` + matmul for 2-D, ``Tensor.unfold`` windows for 1-D and 3-D). Any device,
autograd on. The arguments have been checked by :func:`convlib.conv.conv2d`."""

from __future__ import annotations

import math

from . import _windows as W
from ._checks import ConvParams
from .padding import pad_spatial

__all__ = ["conv_torch"]


def conv_torch(x, w, b, p: ConvParams, method: str):
    import torch.nn.functional as F

    conv = (F.conv1d, F.conv2d, F.conv3d)[p.nd - 1]
    if method in ("auto", "native"):
        if p.padding_mode == "zeros" and p.symmetric:
            padding = tuple(lo for lo, _ in p.pad)
            return conv(x, w, b, p.stride, padding, p.dilation, p.groups)
        # other modes, and the uneven "same" padding of even kernels: pad, then convolve
        xp = pad_spatial(x, p.pad, p.padding_mode)
        return conv(xp, w, b, p.stride, 0, p.dilation, p.groups)
    return _conv_im2col_torch(x, w, b, p)


def _conv_im2col_torch(x, w, b, p: ConvParams):
    """im2col in torch: unfold the windows, then one (batched) matmul."""
    import torch.nn.functional as F

    xp = pad_spatial(x, p.pad, p.padding_mode)
    kernel = tuple(w.shape[2:])
    n, c_in = xp.shape[:2]
    c_out, c_g = w.shape[:2]
    out_spatial = W.window_counts(tuple(xp.shape[2:]), kernel, p.stride, p.dilation)
    if p.nd == 2:
        # (N, C_in * kh * kw, L), rows ordered (c, i, j)
        cols = F.unfold(xp, kernel, dilation=p.dilation, stride=p.stride)
    else:
        cols = _unfold_nd_torch(xp, kernel, p.stride, p.dilation)
    cols = cols.reshape(n, p.groups, c_g * math.prod(kernel), cols.shape[-1])
    w_mat = w.reshape(p.groups, c_out // p.groups, -1)
    out = (w_mat @ cols).reshape(n, c_out, *out_spatial)  # (N, groups, C_out/groups, L)
    if b is not None:
        out = out + b.reshape((1, -1) + (1,) * p.nd)
    return out


def _unfold_nd_torch(xp, kernel, stride, dilation):
    """``F.unfold``'s layout (N, C * prod(kernel), L) for any number of spatial dims."""
    nd = len(kernel)
    win = xp
    for i, (k, s, d) in enumerate(zip(kernel, stride, dilation)):
        win = win.unfold(2 + i, d * (k - 1) + 1, s)  # appends the window axis
    win = win[(..., *(slice(None, None, d) for d in dilation))]  # (N, C, *out, *kernel)
    perm = (0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))
    n, c = xp.shape[:2]
    return win.permute(perm).reshape(n, c * math.prod(kernel), math.prod(win.shape[2:2 + nd]))
