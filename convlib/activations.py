"""Activation functions and their derivatives, for NumPy arrays and torch tensors.

The derivatives are elementwise, ``f'(x)`` at the *input* ``x``: in a backward pass the
gradient with respect to the input is ``grad_output * f_grad(x)``. At ``x = 0`` the ReLU
derivative is taken as 0, as PyTorch's autograd does.

``sigmoid`` never evaluates ``exp`` of a large positive number: with ``e = exp(-|x|)``
(always in (0, 1]) it is ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``,
so ``sigmoid(-1000.)`` is ``0.0`` with no overflow, and ``sigmoid(40.)`` is ``1.0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import backend_of

__all__ = ["relu", "sigmoid", "tanh", "relu_grad", "sigmoid_grad", "tanh_grad"]


def relu(input: Any) -> Any:
    """Rectified linear unit, ``max(x, 0)`` elementwise (NaN stays NaN).

    >>> relu(np.array([-2., 0., 3.]))
    array([0., 0., 3.])
    """
    if backend_of(input=input) == "torch":
        import torch

        return torch.relu(input)
    # np.maximum propagates NaN, like torch.relu
    return np.maximum(input, 0).astype(input.dtype, copy=False)


def relu_grad(input: Any) -> Any:
    """Derivative of :func:`relu` at ``input``: 1 where ``x > 0``, else 0.

    Written as "0 where ``x <= 0``, else 1", the rule of PyTorch's autograd, which also
    passes the gradient through at NaN.

    >>> relu_grad(np.array([-2., 0., 3.]))
    array([0., 0., 1.])
    """
    if backend_of(input=input) == "torch":
        return (~(input <= 0)).to(input.dtype)
    return (~(input <= 0)).astype(input.dtype)


def sigmoid(input: Any) -> Any:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow for any ``x``.

    >>> sigmoid(np.array([-1000., 0., 2.]))
    array([0.        , 0.5       , 0.88079708])
    """
    if backend_of(input=input) == "torch":
        import torch

        return torch.sigmoid(input)
    e = np.exp(-np.abs(input))  # in (0, 1]: never overflows
    return np.where(input >= 0, 1 / (1 + e), e / (1 + e)).astype(input.dtype, copy=False)


def sigmoid_grad(input: Any) -> Any:
    """Derivative of :func:`sigmoid` at ``input``: ``s (1 - s)`` with ``s = sigmoid(x)``.

    >>> sigmoid_grad(np.array([0.]))
    array([0.25])
    """
    s = sigmoid(input)
    return s * (1 - s)


def tanh(input: Any) -> Any:
    """Hyperbolic tangent, elementwise.

    >>> tanh(np.array([0., 1.]))
    array([0.        , 0.76159416])
    """
    if backend_of(input=input) == "torch":
        import torch

        return torch.tanh(input)
    return np.tanh(input)


def tanh_grad(input: Any) -> Any:
    """Derivative of :func:`tanh` at ``input``: ``1 - tanh(x)**2``.

    >>> tanh_grad(np.array([0.]))
    array([1.])
    """
    t = tanh(input)
    return 1 - t * t
