"""Torch models of the book and the tools to train and measure them.

* :mod:`convlib.models.digits` -- :class:`~convlib.models.digits.DigitsCNN`, the
  LeNet-style net of the digits chapters;
* :mod:`convlib.models.training` -- a deterministic
  :func:`~convlib.models.training.train` / :func:`~convlib.models.training.evaluate` loop;
* :mod:`convlib.models.counting` -- :func:`~convlib.models.counting.count_parameters`,
  :func:`~convlib.models.counting.count_macs`;
* :mod:`convlib.models.lora` -- low-rank adapters for convolution layers;
* :mod:`convlib.models.deep` -- deep plain / batch-norm / residual stacks, batch norm in
  NumPy, VGG, ResNet and MobileNet blocks;
* :mod:`convlib.models.schedules` -- learning-rate schedules and the range test;
* ``convlib.models.deep_experiment`` -- the grids of the deep-networks chapter (run by
  ``python -m experiments.deep``, in the repository's ``experiments/`` folder);
* ``convlib.models.kernel_experiment`` and ``convlib.models.remedies_experiment`` -- the
  training chapter's kernel-size study and its remedies for overfitting, and
  ``convlib.models.init_experiment``, the initialization chapter's Xavier/He comparison
  (run by ``python -m experiments.kernel``, ``.remedies`` and ``.init``);
* ``convlib.models.speed_experiment`` -- the GPU-and-scale chapter's CPU timings (run by
  ``python -m experiments.timing`` and ``python -m experiments.cpu_effects``);
* :mod:`convlib.models.efficientnet` -- EfficientNet-Lite0 with its ImageNet weights;
  :mod:`convlib.models.efficientnet_numpy` -- its forward pass in NumPy with convlib.

This subpackage needs torch (``pip install "convolution-book[models]"``);
``import convlib`` does not.
"""

# ruff: noqa: F401
from .counting import count_macs, count_parameters
from .digits import DigitsCNN, ResidualBlock
from .training import History, evaluate, make_loader, random_shift_rotate, train
