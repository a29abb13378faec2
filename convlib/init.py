"""Weight initialisers with the formulas of ``torch.nn.init``, as small functions.

For a weight of shape ``(C_out, C_in, *kernel)`` — the layout of ``conv2d``'s weight, and
(out_features, in_features) for a linear layer — the *fans* are

    fan_in = C_in * prod(kernel),    fan_out = C_out * prod(kernel),

the number of inputs each output sums over, and the number of outputs each input feeds.
Xavier (Glorot) keeps the variance of activations and gradients balanced between the two:
``std = gain * sqrt(2 / (fan_in + fan_out))``. Kaiming (He) keeps the variance of one
direction for ReLU networks: ``std = gain / sqrt(fan)`` with ``gain = sqrt(2)`` for ReLU.
Uniform variants draw from ``U(-bound, bound)`` with ``bound = sqrt(3) * std`` (a uniform
distribution on ``[-b, b]`` has standard deviation ``b / sqrt(3)``).

Randomness: ``rng`` is a ``numpy.random.Generator`` or a seed; ``None`` (the default)
means a fresh ``numpy.random.default_rng()``, different on every call, so pass
``rng=np.random.default_rng(0)`` (or ``rng=0``) for reproducible weights. The numbers are
drawn by NumPy on either backend: ``backend="torch"`` returns them as a tensor
(``dtype`` defaults to torch's default dtype, ``device`` is where it goes), so a seed gives
the same weights in both.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "calculate_gain",
    "fan_in_and_fan_out",
    "zeros",
    "ones",
    "uniform",
    "normal",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
]

Shape = int | Sequence[int]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    1 for linear layers, convolutions and sigmoid; 5/3 for tanh; sqrt(2) for ReLU;
    ``sqrt(2 / (1 + negative_slope**2))`` for leaky ReLU (``param`` is the slope, default
    0.01); 3/4 for SELU.

    >>> calculate_gain("relu")
    1.4142135623730951
    >>> calculate_gain("leaky_relu", 0.2)
    1.3867504905630728
    """
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope (param) must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"nonlinearity must be one of {_LINEAR + ('tanh', 'relu', 'leaky_relu', 'selu')}, "
        f"got {nonlinearity!r}"
    )


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if (not isinstance(shape, Sequence) or isinstance(shape, str) or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0
            for s in shape)):
        raise ValueError(f"shape must be an int or a tuple of non-negative ints, got {shape!r}")
    return tuple(int(s) for s in shape)


def fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` ``(C_out, C_in, *kernel)``.

    >>> fan_in_and_fan_out((64, 3, 7, 7))  # a ResNet stem: 3 * 49 in, 64 * 49 out
    (147, 3136)
    >>> fan_in_and_fan_out((10, 20))       # a linear layer, 20 -> 10
    (20, 10)
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(
            f"fan_in and fan_out need a weight of at least 2 dimensions "
            f"(C_out, C_in, *kernel), got shape {shape}"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _finish(values: np.ndarray, dtype: Any, backend: str, device: Any) -> Any:
    if backend == "numpy":
        if device is not None:
            raise ValueError(f"device applies only to backend='torch', got device={device!r}")
        return values.astype(np.float64 if dtype is None else dtype, copy=False)
    if backend == "torch":
        import torch

        dtype = torch.get_default_dtype() if dtype is None else dtype
        return torch.as_tensor(values, dtype=dtype, device=device)
    raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")


def _fan(shape: tuple[int, ...], mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    # a zero-element weight has nothing to draw (torch makes that a no-op); avoid 1/0
    return max(fan_in if mode == "fan_in" else fan_out, 1)


def zeros(shape: Shape, *, dtype: Any = None, backend: str = "numpy", device: Any = None) -> Any:
    """All zeros (biases are commonly started at zero).

    >>> zeros((2, 3))
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """
    return _finish(np.zeros(_shape(shape)), dtype, backend, device)


def ones(shape: Shape, *, dtype: Any = None, backend: str = "numpy", device: Any = None) -> Any:
    """All ones (batch-norm scales start at one).

    >>> ones(3)
    array([1., 1., 1.])
    """
    return _finish(np.ones(_shape(shape)), dtype, backend, device)


def uniform(
    shape: Shape, a: float = 0.0, b: float = 1.0, *, rng: Any = None, dtype: Any = None,
    backend: str = "numpy", device: Any = None,
) -> Any:
    """Samples of ``U(a, b)``, like ``torch.nn.init.uniform_``.

    >>> w = uniform((1000,), -1, 1, rng=0)
    >>> bool(w.min() >= -1 and w.max() < 1)
    True
    """
    values = np.random.default_rng(rng).uniform(a, b, size=_shape(shape))
    return _finish(values, dtype, backend, device)


def normal(
    shape: Shape, mean: float = 0.0, std: float = 1.0, *, rng: Any = None, dtype: Any = None,
    backend: str = "numpy", device: Any = None,
) -> Any:
    """Samples of ``N(mean, std**2)``, like ``torch.nn.init.normal_``.

    >>> normal((2, 2), std=0.01, rng=0).round(4)
    array([[ 0.0013, -0.0013],
           [ 0.0064,  0.001 ]])
    """
    if std < 0:
        raise ValueError(f"std must be non-negative, got {std}")
    values = np.random.default_rng(rng).normal(mean, std, size=_shape(shape))
    return _finish(values, dtype, backend, device)


def xavier_uniform(
    shape: Shape, gain: float = 1.0, *, rng: Any = None, dtype: Any = None,
    backend: str = "numpy", device: Any = None,
) -> Any:
    """Glorot uniform: ``U(-b, b)`` with ``b = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> w = xavier_uniform((16, 8, 3, 3), rng=0)
    >>> float(np.abs(w).max()) <= (6 / (72 + 144)) ** 0.5
    True
    """
    shape = _shape(shape)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / max(fan_in + fan_out, 1))
    values = np.random.default_rng(rng).uniform(-bound, bound, size=shape)
    return _finish(values, dtype, backend, device)


def xavier_normal(
    shape: Shape, gain: float = 1.0, *, rng: Any = None, dtype: Any = None,
    backend: str = "numpy", device: Any = None,
) -> Any:
    """Glorot normal: ``N(0, std**2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    >>> w = xavier_normal((256, 256), rng=0)
    >>> round(float(w.std()), 3), round((2 / 512) ** 0.5, 3)
    (0.062, 0.062)
    """
    shape = _shape(shape)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    std = gain * math.sqrt(2.0 / max(fan_in + fan_out, 1))
    values = np.random.default_rng(rng).normal(0.0, std, size=shape)
    return _finish(values, dtype, backend, device)


def kaiming_uniform(
    shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
    rng: Any = None, dtype: Any = None, backend: str = "numpy", device: Any = None,
) -> Any:
    """He uniform: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan)``, like
    ``torch.nn.init.kaiming_uniform_``.

    ``gain = calculate_gain(nonlinearity, a)``: with the defaults (leaky ReLU of slope
    ``a = 0``) that is sqrt(2), the ReLU gain. ``mode="fan_in"`` preserves the variance of
    activations in the forward pass, ``"fan_out"`` of gradients in the backward pass.

    >>> w = kaiming_uniform((64, 32, 3, 3), rng=0)
    >>> float(np.abs(w).max()) <= (6 / (32 * 9)) ** 0.5
    True
    """
    shape = _shape(shape)
    fan = _fan(shape, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    values = np.random.default_rng(rng).uniform(-bound, bound, size=shape)
    return _finish(values, dtype, backend, device)


def kaiming_normal(
    shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
    rng: Any = None, dtype: Any = None, backend: str = "numpy", device: Any = None,
) -> Any:
    """He normal: ``N(0, std**2)`` with ``std = gain / sqrt(fan)``, like
    ``torch.nn.init.kaiming_normal_``; see :func:`kaiming_uniform`.

    >>> w = kaiming_normal((128, 64, 3, 3), nonlinearity="relu", rng=0, backend="torch")
    >>> w.dtype, round(float(w.std()), 3), round((2 / (64 * 9)) ** 0.5, 3)
    (torch.float32, 0.059, 0.059)
    """
    shape = _shape(shape)
    fan = _fan(shape, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    values = np.random.default_rng(rng).normal(0.0, std, size=shape)
    return _finish(values, dtype, backend, device)
