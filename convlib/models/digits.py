"""The LeNet-style network of the digits chapters.

* :class:`DigitsCNN` -- a LeNet-style network for 8x8 digit images with switches for
  dropout, batch normalisation and a residual block, and a choice of kernel size and
  stride. It is split into ``features`` (the convolutional body) and ``head`` (the
  classifier), so a head can be swapped and a body frozen.
* :class:`ResidualBlock` -- two 3x3 convolutions with an identity shortcut.

>>> import torch
>>> _ = torch.manual_seed(0)
>>> model = DigitsCNN()
>>> model(torch.zeros(2, 1, 8, 8)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..arithmetic import output_size

__all__ = ["ResidualBlock", "DigitsCNN"]


class ResidualBlock(nn.Module):
    """``relu(x + conv(relu(conv(x))))``: two 3x3 convolutions and an identity shortcut.

    Channels and spatial size are kept, so the block can be dropped in anywhere. With
    ``batch_norm=True`` each convolution is followed by ``BatchNorm2d``.

    >>> block = ResidualBlock(4)
    >>> block(torch.zeros(1, 4, 5, 5)).shape
    torch.Size([1, 4, 5, 5])
    """

    def __init__(self, channels: int, batch_norm: bool = False) -> None:
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(channels)) if batch_norm else nn.Identity
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm),
            norm(),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm),
            norm(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class DigitsCNN(nn.Module):
    """A LeNet-style CNN: (conv, relu, 2x2 max-pool) twice, then two linear layers.

    ``features`` holds the convolutional body and ``head`` the classifier
    (``flatten -> dropout -> linear -> relu -> dropout -> linear``).

    Args:
        in_channels, num_classes: image channels and number of classes.
        channels: output channels of the two convolutions.
        kernel_size, stride: of the **first** convolution (the second is 3x3, stride 1);
            padding is ``kernel_size // 2``, so stride 1 keeps the size.
        hidden: width of the hidden linear layer.
        dropout: drop probability before each linear layer (0 turns it off).
        batch_norm: ``BatchNorm2d`` after each convolution (their bias is then dropped).
        residual: insert a :class:`ResidualBlock` after the second convolution.
        input_size: side of the square input images; fixes the flattened size.

    A configuration whose feature map shrinks to nothing raises ``ValueError``.

    >>> _ = torch.manual_seed(0)
    >>> m = DigitsCNN(channels=(4, 8), kernel_size=5, dropout=0.5, batch_norm=True)
    >>> m.features(torch.zeros(3, 1, 8, 8)).shape
    torch.Size([3, 8, 2, 2])
    """

    def __init__(
        self,
        *,
        in_channels: int = 1,
        num_classes: int = 10,
        channels: Sequence[int] = (8, 16),
        kernel_size: int = 3,
        stride: int = 1,
        hidden: int = 64,
        dropout: float = 0.0,
        batch_norm: bool = False,
        residual: bool = False,
        input_size: int = 8,
    ) -> None:
        super().__init__()
        if len(channels) != 2:
            raise ValueError(f"channels must hold two numbers, got {tuple(channels)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        c1, c2 = channels

        def block(c_in: int, c_out: int, k: int, s: int) -> list[nn.Module]:
            layers: list[nn.Module] = [
                nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2, bias=not batch_norm)
            ]
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU())
            return layers

        body = block(in_channels, c1, kernel_size, stride) + [nn.MaxPool2d(2)]
        body += block(c1, c2, 3, 1)
        if residual:
            body.append(ResidualBlock(c2, batch_norm))
        body.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*body)

        # (kernel, stride, padding) of conv, pool, conv, pool; the residual block keeps size
        side = input_size
        for k, s, p in ((kernel_size, stride, kernel_size // 2), (2, 2, 0), (3, 1, 1), (2, 2, 0)):
            if side + 2 * p < k:
                raise ValueError(
                    f"input_size={input_size} with kernel_size={kernel_size} and "
                    f"stride={stride} leaves an empty feature map; use a larger input "
                    f"or a smaller stride"
                )
            side = output_size(side, k, s, p)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(c2 * side * side, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
