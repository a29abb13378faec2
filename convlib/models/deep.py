"""Deep stacks of convolutions for the deep-networks chapter, and the blocks of the
architectures a reader meets next.

* :class:`DeepStack` -- a stem, ``depth`` 3x3 convolutions in blocks of two, global
  average pooling and a linear classifier; ``kind`` = ``"plain"``, ``"bn"`` (batch
  normalisation after every convolution) or ``"residual"`` (an identity shortcut
  around every block).
* :func:`gradient_norms` -- the norm of the gradient of every convolution's weight.
* :func:`batch_norm_forward`, :func:`batch_norm_backward` -- batch normalisation of
  ``(N, C, H, W)`` arrays in NumPy, training mode, with its backward pass.
* :func:`vgg_block`, :class:`BasicBlock`, :class:`Bottleneck`,
  :class:`InvertedResidual` -- VGG, ResNet and MobileNetV2/EfficientNet blocks.

>>> import torch
>>> _ = torch.manual_seed(0)
>>> DeepStack("residual", depth=4, channels=8)(torch.zeros(2, 1, 8, 8)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DeepStack", "gradient_norms", "batch_norm_forward", "batch_norm_backward",
           "vgg_block", "BasicBlock", "Bottleneck", "InvertedResidual"]

KINDS = ("plain", "bn", "residual")


class _Block(nn.Module):
    """Two 3x3 convolutions (with batch norm for ``"bn"``); ``"residual"`` adds the
    input to the output before the last ReLU."""

    def __init__(self, kind: str, channels: int) -> None:
        super().__init__()
        bn = kind == "bn"
        self.residual = kind == "residual"
        norm = (lambda: nn.BatchNorm2d(channels)) if bn else nn.Identity
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=not bn)
        self.norm1 = norm()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=not bn)
        self.norm2 = norm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x)))))
        return F.relu(x + out if self.residual else out)


class DeepStack(nn.Module):
    """``depth`` 3x3 convolutions of ``channels`` channels on 8x8 images (the size is
    kept), after a 3x3 stem convolution from ``in_channels``; then global average
    pooling and a linear layer.

    Args:
        kind: ``"plain"``, ``"bn"`` or ``"residual"``.
        depth: convolutions after the stem, an even number (blocks of two).
        init: ``"default"`` keeps PyTorch's initialisation, ``"he"`` draws every
            convolution weight from He's normal distribution (biases 0).

    >>> m = DeepStack("bn", depth=2, channels=4)
    >>> sum(isinstance(x, nn.BatchNorm2d) for x in m.modules())
    3
    """

    def __init__(self, kind: str = "plain", depth: int = 20, channels: int = 16, *,
                 in_channels: int = 1, num_classes: int = 10, init: str = "default") -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if depth < 0 or depth % 2:
            raise ValueError(f"depth must be an even number >= 0, got {depth}")
        if init not in ("default", "he"):
            raise ValueError(f"init must be 'default' or 'he', got {init!r}")
        bn = kind == "bn"
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1, bias=not bn),
            nn.BatchNorm2d(channels) if bn else nn.Identity(), nn.ReLU())
        self.blocks = nn.Sequential(*[_Block(kind, channels) for _ in range(depth // 2)])
        self.head = nn.Linear(channels * 64, num_classes)
        if init == "he":
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    def convs(self) -> list[nn.Conv2d]:
        """The convolutions, from the input to the output."""
        return [m for m in self.modules() if isinstance(m, nn.Conv2d)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).flatten(1))


def gradient_norms(model: DeepStack, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Frobenius norm of d(cross-entropy)/d(weight) of every convolution, input first,
    for one batch in training mode (the model's gradients are cleared afterwards).

    >>> _ = torch.manual_seed(0)
    >>> g = gradient_norms(DeepStack(depth=2, channels=4), torch.randn(4, 1, 8, 8),
    ...                    torch.arange(4))
    >>> g.shape
    (3,)
    """
    was_training = model.training
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    norms = np.array([c.weight.grad.norm().item() for c in model.convs()])
    model.zero_grad()
    model.train(was_training)
    return norms


def batch_norm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                       eps: float = 1e-5) -> tuple[np.ndarray, tuple]:
    """Training-mode batch norm of ``x`` of shape ``(N, C, H, W)``: each channel is
    normalised with its mean and (biased) variance over N, H, W, then scaled by
    ``gamma`` and shifted by ``beta``. Returns the output and what the backward needs.

    >>> x = np.random.default_rng(0).normal(3, 2, (8, 2, 4, 4))
    >>> y, _ = batch_norm_forward(x, np.ones(2), np.zeros(2))
    >>> mean, var = y.mean((0, 2, 3)), y.var((0, 2, 3))
    >>> bool(np.allclose(mean, 0) and np.allclose(var, 1, atol=1e-4))
    True
    """
    axes = (0, 2, 3)
    mu = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    out = gamma[None, :, None, None] * xhat + beta[None, :, None, None]
    return out, (xhat, inv_std, gamma)


def batch_norm_backward(grad_out: np.ndarray, cache: tuple
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dgamma, dbeta)`` of training-mode batch norm.

    With ``m = N*H*W`` values per channel, ``g = grad_out * gamma``:
    ``dx = inv_std * (g - mean(g) - xhat * mean(g * xhat))``, means over N, H, W.
    The two subtracted terms are the paths through the batch mean and variance.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(4, 2, 3, 3))
    >>> _, cache = batch_norm_forward(x, np.ones(2), np.zeros(2))
    >>> dx, dgamma, dbeta = batch_norm_backward(np.ones((4, 2, 3, 3)), cache)
    >>> # a constant gradient is normalised away
    >>> bool(np.allclose(dx, 0)), dbeta.tolist()
    (True, [36.0, 36.0])
    """
    xhat, inv_std, gamma = cache
    axes = (0, 2, 3)
    dbeta = grad_out.sum(axes)
    dgamma = (grad_out * xhat).sum(axes)
    g = grad_out * gamma[None, :, None, None]
    dx = inv_std * (g - g.mean(axes, keepdims=True)
                    - xhat * (g * xhat).mean(axes, keepdims=True))
    return dx, dgamma, dbeta


def vgg_block(c_in: int, c_out: int, convs: int = 2) -> nn.Sequential:
    """VGG: ``convs`` 3x3 convolutions with ReLU, then 2x2 max pooling.

    >>> vgg_block(3, 8)(torch.zeros(1, 3, 8, 8)).shape
    torch.Size([1, 8, 4, 4])
    """
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


class BasicBlock(nn.Module):
    """ResNet-18/34 block: two 3x3 convolutions with batch norm and an identity
    shortcut (a 1x1 convolution when ``stride`` or the channels change).

    >>> BasicBlock(8, 16, stride=2)(torch.zeros(1, 8, 8, 8)).shape
    torch.Size([1, 16, 4, 4])
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(), nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.shortcut(x) + self.body(x))


class Bottleneck(nn.Module):
    """ResNet-50 block: 1x1 down to ``width``, 3x3 at ``width``, 1x1 up to
    ``4 * width``, each with batch norm, and a shortcut.

    >>> Bottleneck(64, 16)(torch.zeros(1, 64, 8, 8)).shape
    torch.Size([1, 64, 8, 8])
    """

    def __init__(self, c_in: int, width: int, stride: int = 1) -> None:
        super().__init__()
        c_out = 4 * width
        self.body = nn.Sequential(
            nn.Conv2d(c_in, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(), nn.Conv2d(width, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.shortcut(x) + self.body(x))


class InvertedResidual(nn.Module):
    """MobileNetV2 / EfficientNet block: 1x1 expansion by ``expand``, 3x3 depthwise
    convolution (``groups`` = channels), 1x1 linear projection (no ReLU after it);
    shortcut when input and output shapes agree. ReLU6 as in MobileNetV2 (EfficientNet
    uses SiLU and adds squeeze-and-excitation).

    >>> InvertedResidual(16, 16, expand=6)(torch.zeros(1, 16, 8, 8)).shape
    torch.Size([1, 16, 8, 8])
    """

    def __init__(self, c_in: int, c_out: int, expand: int = 6, stride: int = 1) -> None:
        super().__init__()
        hidden = c_in * expand
        self.use_shortcut = stride == 1 and c_in == c_out
        self.body = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.use_shortcut else out
