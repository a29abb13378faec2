"""Torch models of the book and the tools to train and measure them.

* :mod:`convlib.models.digits` -- :class:`DigitsCNN`, the LeNet-style net of the digits chapters;
* :mod:`convlib.models.training` -- a deterministic :func:`train` / :func:`evaluate` loop;
* :mod:`convlib.models.counting` -- :func:`count_parameters`, :func:`count_macs`;
* :mod:`convlib.models.lora` -- low-rank adapters for convolution layers.

This subpackage needs torch (``pip install "convolution-book[torch]"``);
``import convlib`` does not.
"""

# ruff: noqa: F401
from .counting import count_macs, count_parameters
from .digits import DigitsCNN, ResidualBlock
from .training import History, evaluate, make_loader, random_shift_rotate, train
