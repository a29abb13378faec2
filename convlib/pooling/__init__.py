"""Pooling: max and average pooling in 1, 2 and 3-D, adaptive and global pooling, and the
backward of each, on NumPy arrays or torch tensors.

One module per kind, each with its NumPy forward and backward together, and the
``Kind`` that describes it (parameters, argument check, torch call, NumPy kernels):

- ``convlib.pooling.max_pool``: ``max_pool{1,2,3}d`` and their backward;
- ``convlib.pooling.avg_pool``: ``avg_pool{1,2,3}d`` and their backward;
- ``convlib.pooling.adaptive_pool``: ``adaptive_{avg,max}_pool{1,2,3}d`` and their
  backward.

The public functions are generated from one table, ``convlib.pooling._table`` (one row
per function: name, kind, dimensions, docstring), by ``convlib.pooling._wrappers``;
``global_{avg,max}_pool2d`` are adaptive pooling to one value per feature map.

Semantics follow ``torch.nn.functional``: ``input`` is ``(N, C, *spatial)`` or, without
the batch dimension, ``(C, *spatial)``; ``stride`` defaults to ``kernel_size``;
``padding`` is at most half the kernel; ``ceil_mode=True`` adds a last, partial window as
long as it starts inside the input or its left padding. On torch tensors the functions
call ``torch.nn.functional`` (forward) and autograd (backward).

The NumPy path views the padded input as windows (:func:`convlib._windows.windows`: stride
and dilation are strided slices of that view, so nothing is copied), and its loops run
over the *kernel offsets* only, each step an operation on whole output-sized arrays. The
backward passes are the adjoints of those loops: one strided addition per kernel offset
(max and average pooling), transposed averaging matrices (adaptive average), a
``np.bincount`` over the winners' flat indices (adaptive max).
"""

import numpy as np  # noqa: F401 (the namespace of the doctests of the generated functions)

from ._table import (
    adaptive_avg_pool1d,
    adaptive_avg_pool1d_backward,
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool3d,
    adaptive_avg_pool3d_backward,
    adaptive_max_pool1d,
    adaptive_max_pool1d_backward,
    adaptive_max_pool2d,
    adaptive_max_pool2d_backward,
    adaptive_max_pool3d,
    adaptive_max_pool3d_backward,
    avg_pool1d,
    avg_pool1d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool3d,
    avg_pool3d_backward,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool1d,
    max_pool1d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_pool3d,
    max_pool3d_backward,
)

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d",
    "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "global_avg_pool2d", "global_max_pool2d",
    "max_pool1d_backward", "max_pool2d_backward", "max_pool3d_backward",
    "avg_pool1d_backward", "avg_pool2d_backward", "avg_pool3d_backward",
    "adaptive_avg_pool1d_backward", "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool3d_backward",
    "adaptive_max_pool1d_backward", "adaptive_max_pool2d_backward",
    "adaptive_max_pool3d_backward",
]
