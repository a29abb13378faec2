"""What a model costs: parameters and multiply-accumulates."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["count_parameters", "count_macs"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (only those with ``requires_grad`` if ``trainable_only``).

    >>> count_parameters(nn.Conv2d(3, 8, 5))  # 8*3*5*5 weights + 8 biases
    608
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates of one forward pass of ``Conv2d`` and ``Linear`` layers on
    one input of ``input_shape`` (C, H, W). FLOPs are about twice this number.

    A convolution costs ``(C_in / groups) * kH * kW`` per output value.

    >>> count_macs(nn.Conv2d(1, 4, 3, padding=1), (1, 8, 8))  # 4*8*8 outputs * 9
    2304
    """
    macs = 0

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal macs
        per_sample = output[0].numel()
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs += per_sample * (module.in_channels // module.groups) * k
        else:
            macs += per_sample * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return macs
