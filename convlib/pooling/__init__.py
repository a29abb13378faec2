"""Pooling: max and average pooling in 1, 2 and 3-D, adaptive and global pooling, and the
backward of each, on NumPy arrays or torch tensors.

One module per kind, each with its forward and its backward together:

- ``convlib.pooling.max_pool``: ``max_pool{1,2,3}d`` and their backward;
- ``convlib.pooling.avg_pool``: ``avg_pool{1,2,3}d`` and their backward;
- ``convlib.pooling.adaptive_pool``: ``adaptive_{avg,max}_pool{1,2,3}d``,
  ``global_{avg,max}_pool2d`` and their backward.

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

from .adaptive_pool import (
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
    global_avg_pool2d,
    global_max_pool2d,
)
from .avg_pool import (
    avg_pool1d,
    avg_pool1d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool3d,
    avg_pool3d_backward,
)
from .max_pool import (
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
