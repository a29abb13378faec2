"""The table of convlib's public pooling functions: one row per function.

A row is ``name = forward(kind, dims, docstring)`` or ``backward(...)``: the kind holds
the parameters, the argument check, the ``torch.nn.functional`` call and the NumPy
kernels (``max_pool.MAX``, ``avg_pool.AVG``, ``adaptive_pool.ADAPTIVE_AVG`` and
``ADAPTIVE_MAX``), and :mod:`._wrappers` makes from the row a function with that name,
signature and docstring (``max_pool2d``, ``max_pool2d_backward``, ...). A new kind of
pooling is a ``Kind`` in its own module and its rows here. The generated functions
belong to ``convlib.pooling`` (their ``__module__``), where doctest finds and runs their
examples.
"""

from __future__ import annotations

from typing import Any

import numpy as np  # noqa: F401 (the doctests' namespace)

from .._backend import Array
from ._wrappers import backward, forward
from .adaptive_pool import ADAPTIVE_AVG, ADAPTIVE_MAX
from .avg_pool import AVG
from .max_pool import MAX

# --- name = forward/backward(kind, spatial dimensions, docstring) -----------------------

max_pool1d = forward(MAX, 1, """
    1-D max pooling of ``input`` (N, C, L) or (C, L), like ``F.max_pool1d``.

    ``stride`` defaults to ``kernel_size``; padding counts as ``-inf``. With
    ``return_indices=True`` also returns the position in ``L`` of each maximum (int64),
    first maximum on ties.

    >>> x = np.array([[[1., 3., 2., 5., 4.]]])
    >>> max_pool1d(x, 2)
    array([[[3., 5.]]])
    >>> max_pool1d(x, 2, ceil_mode=True, return_indices=True)
    (array([[[3., 5., 4.]]]), array([[[1, 3, 4]]]))
    """)

max_pool2d = forward(MAX, 2, """
    2-D max pooling of ``input`` (N, C, H, W) or (C, H, W), like ``F.max_pool2d``.

    Each output is the largest value of its ``kernel_size`` window (dilated by
    ``dilation``, moved by ``stride``, default ``kernel_size``); padding counts as
    ``-inf``. ``return_indices=True`` also returns the flat index ``h * W + w`` of each
    maximum in its input plane (int64), the first in window order on ties.

    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    >>> max_pool2d(x, 3, stride=1, padding=1, return_indices=True)[1][0, 0, 0]
    array([5, 6, 7, 7])
    """)

max_pool3d = forward(MAX, 3, """
    3-D max pooling of ``input`` (N, C, D, H, W) or (C, D, H, W), like ``F.max_pool3d``.

    Indices (``return_indices=True``) are flat, ``d * H * W + h * W + w``.

    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> max_pool3d(x, 2, return_indices=True)
    (array([[[[7.]]]]), array([[[[7]]]]))
    """)

max_pool1d_backward = backward(MAX, 1, """
    Gradient of :func:`max_pool1d` with respect to ``input``.

    Each output's gradient goes to the input element that won its window (the first
    maximum on ties, as in the forward pass); overlapping windows that share a winner add
    up. Everything else gets zero.

    >>> x = np.array([[[1., 3., 2., 5., 4.]]])
    >>> max_pool1d_backward(np.ones((1, 1, 4)), x, 2, stride=1)
    array([[[0., 2., 0., 2., 0.]]])
    """)

max_pool2d_backward = backward(MAX, 2, """
    Gradient of :func:`max_pool2d` with respect to ``input``; see :func:`max_pool1d_backward`.

    >>> x = np.array([[[1., 2.], [4., 3.]]])
    >>> max_pool2d_backward(np.array([[[10.]]]), x, 2)
    array([[[ 0.,  0.],
            [10.,  0.]]])
    """)

max_pool3d_backward = backward(MAX, 3, """
    Gradient of :func:`max_pool3d` with respect to ``input``; see :func:`max_pool1d_backward`.

    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> max_pool3d_backward(np.ones((1, 1, 1, 1)), x, 2).ravel()
    array([0., 0., 0., 0., 0., 0., 0., 1.])
    """)

avg_pool1d = forward(AVG, 1, """
    1-D average pooling of ``input`` (N, C, L) or (C, L), like ``F.avg_pool1d``.

    With ``count_include_pad=True`` zero padding counts in the mean; otherwise only the
    input elements under the window do.

    >>> x = np.array([[[1., 2., 3., 4., 5.]]])
    >>> avg_pool1d(x, 2)
    array([[[1.5, 3.5]]])
    >>> avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False)
    array([[[1.5, 3. , 4.5]]])
    """)

avg_pool2d = forward(AVG, 2, """
    2-D average pooling of ``input`` (N, C, H, W) or (C, H, W), like ``F.avg_pool2d``.

    Each output is the window's sum divided by the window size (zero padding included
    when ``count_include_pad``, the ``ceil_mode`` overhang never), or by
    ``divisor_override`` when given.

    >>> x = np.arange(16.).reshape(1, 4, 4)
    >>> avg_pool2d(x, 2)
    array([[[ 2.5,  4.5],
            [10.5, 12.5]]])
    >>> avg_pool2d(x, 2, divisor_override=1)[0, 0, 0]
    np.float64(10.0)
    """)

avg_pool3d = forward(AVG, 3, """
    3-D average pooling of ``input`` (N, C, D, H, W) or (C, D, H, W), like ``F.avg_pool3d``.

    >>> avg_pool3d(np.arange(8.).reshape(1, 1, 2, 2, 2), 2)
    array([[[[[3.5]]]]])
    """)

avg_pool1d_backward = backward(AVG, 1, """
    Gradient of :func:`avg_pool1d` with respect to ``input``.

    Each output's gradient, divided by that output's divisor, is added to every input
    element of its window (the share that falls on padding is dropped).

    >>> x = np.zeros((1, 1, 4))
    >>> avg_pool1d_backward(np.array([[[2., 4.]]]), x, 2)
    array([[[1., 1., 2., 2.]]])
    """)

avg_pool2d_backward = backward(AVG, 2, """
    Gradient of :func:`avg_pool2d` with respect to ``input``; see :func:`avg_pool1d_backward`.

    >>> avg_pool2d_backward(np.array([[[4.]]]), np.zeros((1, 2, 2)), 2)
    array([[[1., 1.],
            [1., 1.]]])
    """)

avg_pool3d_backward = backward(AVG, 3, """
    Gradient of :func:`avg_pool3d` with respect to ``input``; see :func:`avg_pool1d_backward`.

    >>> avg_pool3d_backward(np.array([[[[8.]]]]), np.zeros((1, 2, 2, 2)), 2).ravel()
    array([1., 1., 1., 1., 1., 1., 1., 1.])
    """)

adaptive_avg_pool1d = forward(ADAPTIVE_AVG, 1, """
    Average pooling of ``input`` (N, C, L) or (C, L) to ``output_size`` positions.

    Window ``i`` covers ``[floor(i L / out), ceil((i + 1) L / out))``, so neighbouring
    windows overlap when ``out`` does not divide ``L``.

    >>> adaptive_avg_pool1d(np.array([[1., 2., 3., 4., 5.]]), 2)
    array([[2., 4.]])
    """)

adaptive_avg_pool2d = forward(ADAPTIVE_AVG, 2, """
    Average pooling of ``input`` (N, C, H, W) or (C, H, W) to an ``output_size`` grid.

    ``output_size`` is an int or an ``(H_out, W_out)`` pair; ``None`` keeps that input
    size. Like ``F.adaptive_avg_pool2d``.

    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> adaptive_avg_pool2d(x, 2)
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    >>> adaptive_avg_pool2d(x, (1, None)).shape
    (1, 1, 1, 4)
    """)

adaptive_avg_pool3d = forward(ADAPTIVE_AVG, 3, """
    Average pooling of ``input`` (N, C, D, H, W) or (C, D, H, W) to ``output_size``.

    >>> adaptive_avg_pool3d(np.arange(8.).reshape(1, 2, 2, 2), 1)
    array([[[[3.5]]]])
    """)

adaptive_max_pool1d = forward(ADAPTIVE_MAX, 1, """
    Max pooling of ``input`` (N, C, L) or (C, L) to ``output_size`` positions.

    Windows as in :func:`adaptive_avg_pool1d`; indices as in :func:`max_pool1d`.

    >>> adaptive_max_pool1d(np.array([[1., 5., 3., 4., 2.]]), 2, return_indices=True)
    (array([[5., 4.]]), array([[1, 3]]))
    """)

adaptive_max_pool2d = forward(ADAPTIVE_MAX, 2, """
    Max pooling of ``input`` (N, C, H, W) or (C, H, W) to an ``output_size`` grid.

    Like ``F.adaptive_max_pool2d``; indices are flat, ``h * W + w``.

    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> adaptive_max_pool2d(x, 2, return_indices=True)[1]
    array([[[[ 5,  7],
             [13, 15]]]])
    """)

adaptive_max_pool3d = forward(ADAPTIVE_MAX, 3, """
    Max pooling of ``input`` (N, C, D, H, W) or (C, D, H, W) to ``output_size``.

    >>> adaptive_max_pool3d(np.arange(8.).reshape(1, 2, 2, 2), 1)
    array([[[[7.]]]])
    """)

adaptive_avg_pool1d_backward = backward(ADAPTIVE_AVG, 1, """
    Gradient of :func:`adaptive_avg_pool1d` with respect to ``input``.

    Output ``i`` averages its window, so every element of the window receives
    ``grad[i] / window length``; where windows overlap the shares add.

    >>> adaptive_avg_pool1d_backward(np.array([[3., 6.]]), np.zeros((1, 5)), 2)
    array([[1., 1., 3., 2., 2.]])
    """)

adaptive_avg_pool2d_backward = backward(ADAPTIVE_AVG, 2, """
    Gradient of :func:`adaptive_avg_pool2d`; see :func:`adaptive_avg_pool1d_backward`.

    >>> adaptive_avg_pool2d_backward(np.array([[[4.]]]), np.zeros((1, 2, 2)), 1)
    array([[[1., 1.],
            [1., 1.]]])
    """)

adaptive_avg_pool3d_backward = backward(ADAPTIVE_AVG, 3, """
    Gradient of :func:`adaptive_avg_pool3d`; see :func:`adaptive_avg_pool1d_backward`.

    >>> adaptive_avg_pool3d_backward(np.array([[[[8.]]]]), np.zeros((1, 2, 2, 2)), 1).sum()
    np.float64(8.0)
    """)

adaptive_max_pool1d_backward = backward(ADAPTIVE_MAX, 1, """
    Gradient of :func:`adaptive_max_pool1d`: each output's gradient goes to its argmax.

    >>> g, x = np.array([[1., 2.]]), np.array([[1., 5., 3., 4., 2.]])
    >>> adaptive_max_pool1d_backward(g, x, 2)
    array([[0., 1., 0., 2., 0.]])
    """)

adaptive_max_pool2d_backward = backward(ADAPTIVE_MAX, 2, """
    Gradient of :func:`adaptive_max_pool2d`; see :func:`adaptive_max_pool1d_backward`.

    >>> x = np.array([[[1., 2.], [4., 3.]]])
    >>> adaptive_max_pool2d_backward(np.array([[[5.]]]), x, 1)
    array([[[0., 0.],
            [5., 0.]]])
    """)

adaptive_max_pool3d_backward = backward(ADAPTIVE_MAX, 3, """
    Gradient of :func:`adaptive_max_pool3d`; see :func:`adaptive_max_pool1d_backward`.

    >>> x = np.arange(8.).reshape(1, 2, 2, 2)
    >>> adaptive_max_pool3d_backward(np.ones((1, 1, 1, 1)), x, 1).ravel()
    array([0., 0., 0., 0., 0., 0., 0., 1.])
    """)


# --- global pooling: adaptive pooling to one value per feature map ----------------------


def global_avg_pool2d(input: Array) -> Any:
    """Mean over each whole feature map: (N, C, H, W) -> (N, C, 1, 1), dims kept.

    The same as ``adaptive_avg_pool2d(input, 1)``.

    >>> global_avg_pool2d(np.arange(8.).reshape(2, 2, 2))
    array([[[1.5]],
    <BLANKLINE>
           [[5.5]]])
    """
    return adaptive_avg_pool2d(input, 1)


def global_max_pool2d(input: Array, return_indices: bool = False) -> Any:
    """Maximum of each whole feature map: (N, C, H, W) -> (N, C, 1, 1), dims kept.

    The same as ``adaptive_max_pool2d(input, 1, return_indices)``.

    >>> global_max_pool2d(np.array([[[1., 9.], [4., 2.]]]), return_indices=True)
    (array([[[9.]]]), array([[[1]]]))
    """
    return adaptive_max_pool2d(input, 1, return_indices)
