"""EfficientNet-Lite0 forward in NumPy with convlib: the real network on the book's code.

Two steps:

* :func:`fold` reads the torch model once and folds every batch norm into the
  convolution before it (inference only, running statistics):
  ``BN(W * x) = (gamma / sigma) * (W * x) + (beta - gamma * mu / sigma)``, so each
  output channel's kernel is scaled by ``gamma / sigma`` and gains the bias
  ``beta - gamma * mu / sigma`` with ``sigma = sqrt(running_var + eps)``;
* :func:`forward` runs the network with :func:`convlib.conv2d` alone: 1x1 convolutions
  (expansion, projection, head), depthwise convolutions as ``groups = channels``, ReLU6
  as a clip, the residual sums, global average pooling as a mean, and the classifier as
  one matrix product.

``forward`` needs NumPy only; ``fold`` needs torch to read the weights.
"""

from __future__ import annotations

import numpy as np

from ..conv import conv2d
from ..padding import pad_spatial

__all__ = ["same_padding", "fold", "forward", "features"]


def _fold_conv_bn(conv, bn) -> tuple[np.ndarray, np.ndarray]:
    w = conv.weight.detach().double().numpy()
    mu, var = bn.running_mean.double().numpy(), bn.running_var.double().numpy()
    gamma, beta = bn.weight.detach().double().numpy(), bn.bias.detach().double().numpy()
    scale = gamma / np.sqrt(var + bn.eps)
    return w * scale[:, None, None, None], beta - mu * scale


def fold(model, dtype=np.float32) -> dict:
    """The model's convolutions with batch norm folded in, as NumPy arrays of ``dtype``."""
    def cast(pair):
        return tuple(a.astype(dtype) for a in pair)

    blocks = []
    for b in model._blocks:
        blocks.append({
            "expand": cast(_fold_conv_bn(b._expand_conv, b._bn0)) if b.expand != 1 else None,
            "depthwise": cast(_fold_conv_bn(b._depthwise_conv, b._bn1)),
            "project": cast(_fold_conv_bn(b._project_conv, b._bn2)),
            "stride": b.stride, "residual": b.residual,
        })
    return {
        "stem": cast(_fold_conv_bn(model._conv_stem, model._bn0)),
        "blocks": blocks,
        "head": cast(_fold_conv_bn(model._conv_head, model._bn1)),
        "fc": (model._fc.weight.detach().numpy().astype(dtype),
               model._fc.bias.detach().numpy().astype(dtype)),
    }


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding ``(before, after)``: ``ceil(size / stride)`` outputs.

    With stride 2 and an even size the total is odd and the extra zero goes *after*
    (bottom/right): ``same_padding(224, 3, 2) == (0, 1)``. The weights were trained so.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv_same(x: np.ndarray, wb, stride: int = 1, groups: int = 1) -> np.ndarray:
    """Convolution with TensorFlow "same" padding (extra zero after when asymmetric)."""
    w, b = wb
    k = w.shape[-1]
    pads = (same_padding(x.shape[2], k, stride), same_padding(x.shape[3], k, stride))
    if all(lo == hi for lo, hi in pads):
        return conv2d(x, w, b, stride=stride, padding=pads[0][0], groups=groups)
    return conv2d(pad_spatial(x, pads), w, b, stride=stride, groups=groups)


def _relu6(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 6, out=x)


def features(p: dict, x: np.ndarray) -> np.ndarray:
    """The 1280 globally pooled features of a batch ``(N, 3, H, W)``."""
    x = _relu6(_conv_same(x, p["stem"], stride=2))
    for b in p["blocks"]:
        h = x
        if b["expand"] is not None:
            h = _relu6(conv2d(h, *b["expand"]))  # 1x1 expansion
        h = _relu6(_conv_same(h, b["depthwise"], b["stride"], groups=h.shape[1]))
        h = conv2d(h, *b["project"])  # 1x1 projection
        x = x + h if b["residual"] else h
    x = _relu6(conv2d(x, *p["head"]))
    return x.mean(axis=(2, 3))  # global average pooling


def forward(p: dict, x: np.ndarray) -> np.ndarray:
    """Logits ``(N, 1000)`` of a batch ``(N, 3, H, W)`` (ImageNet-normalised)."""
    w, b = p["fc"]
    return features(p, x) @ w.T + b
