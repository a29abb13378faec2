"""Bad arguments to pooling raise ValueError/TypeError naming the argument and the shapes,
on NumPy arrays and torch tensors alike."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import convlib

BACKENDS = ["numpy", "torch"]


def as_backend(x, backend):
    return torch.from_numpy(x) if backend == "torch" else x


def raises(kind, *fragments):
    """pytest.raises matching every fragment of the message, in order."""
    return pytest.raises(kind, match=".*".join(re.escape(f) for f in fragments))


X4 = np.zeros((1, 2, 4, 4))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("call", "kind", "fragments"),
    [
        (lambda x: convlib.max_pool2d(x[0, 0], 2), ValueError,
         ("input of max_pool2d must be 3-D (C, H, W) or 4-D (N, C, H, W)", "(4, 4)")),
        (lambda x: convlib.avg_pool1d(x, 2), ValueError,
         ("input of avg_pool1d must be 2-D (C, L) or 3-D (N, C, L)", "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool3d(x[0], 2), ValueError,
         ("input of max_pool3d must be 4-D (C, D, H, W) or 5-D", "(2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x[:, :0], 2), ValueError,
         ("non-zero channel and spatial sizes", "(1, 0, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, 3, padding=2), ValueError,
         ("padding must be at most half of kernel_size", "padding (2, 2)",
          "kernel_size (3, 3)", "(1, 2, 4, 4)")),
        (lambda x: convlib.avg_pool2d(x, (2, 1), padding=(0, 1)), ValueError,
         ("padding must be at most half of kernel_size", "spatial dim 1", "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, 5), ValueError,
         ("kernel larger than the padded input", "kernel_size (5, 5)", "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, 3, dilation=2), ValueError,
         ("kernel larger than the padded input", "dilation (2, 2) spans 5",
          "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, 2, stride=0), ValueError,
         ("stride must be positive", "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, 2, stride=(1, -1)), ValueError,
         ("stride must be positive", "(1, -1)", "(1, 2, 4, 4)")),
        (lambda x: convlib.avg_pool2d(x, 2, padding=-1), ValueError,
         ("padding must be >= 0", "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, 2, dilation=0), ValueError,
         ("dilation must be positive", "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, (2, 2, 2)), ValueError,
         ("kernel_size must be an int or a tuple of 2 ints", "(2, 2, 2)", "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, 2.5), TypeError,
         ("kernel_size must be an int or a tuple of 2 ints", "2.5", "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, 2, padding="same"), ValueError,
         ("padding of max_pool2d must be an int or a tuple of 2 ints", "'same'",
          "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool2d(x, 2, ceil_mode="yes"), TypeError,
         ("ceil_mode must be a bool", "(1, 2, 4, 4)")),
        (lambda x: convlib.max_pool1d(x[0, :, :1, :1], 2, padding=1, dilation=2), ValueError,
         ("window 0 of spatial dim 0 covers only padding", "dilation (2,)", "(2, 1, 1)")),
        (lambda x: convlib.avg_pool3d(x[..., None][:, :, :1], 2, padding=1), ValueError,
         ("avg_pool3d needs kernel_size (2, 2, 2) to fit the input without padding",
          "(1, 2, 1, 4, 1)")),
        (lambda x: convlib.avg_pool2d(x, 2, divisor_override=0), ValueError,
         ("divisor_override must be a non-zero int or None, got 0", "(1, 2, 4, 4)")),
        (lambda x: convlib.avg_pool2d(x, 2, divisor_override=1.5), ValueError,
         ("divisor_override must be a non-zero int or None, got 1.5", "(1, 2, 4, 4)")),
        (lambda x: convlib.adaptive_avg_pool2d(x, (2, 2, 2)), ValueError,
         ("output_size of adaptive_avg_pool2d must be an int or a tuple of 2 ints",
          "(1, 2, 4, 4)")),
        (lambda x: convlib.adaptive_max_pool2d(x, 0), ValueError,
         ("output_size must be positive", "(1, 2, 4, 4)")),
        (lambda x: convlib.adaptive_max_pool1d(x, 2), ValueError,
         ("input of adaptive_max_pool1d must be 2-D (C, L) or 3-D (N, C, L)",
          "(1, 2, 4, 4)")),
        (lambda x: convlib.global_avg_pool2d(x[0, 0]), ValueError,
         ("input of adaptive_avg_pool2d must be 3-D", "(4, 4)")),
    ],
)
def test_bad_arguments(call, kind, fragments, backend):
    with raises(kind, *fragments):
        call(as_backend(X4, backend))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda g, x: convlib.max_pool2d_backward(g, x, 2), "(1, 2, 2, 2)"),
        (lambda g, x: convlib.avg_pool2d_backward(g, x, 3, 1, 1), "(1, 2, 4, 4)"),
        (lambda g, x: convlib.adaptive_max_pool2d_backward(g, x, (1, 2)), "(1, 2, 1, 2)"),
        (lambda g, x: convlib.adaptive_avg_pool2d_backward(g, x, 2), "(1, 2, 2, 2)"),
    ],
)
def test_grad_output_of_the_wrong_shape(call, expected, backend):
    g = as_backend(np.zeros((1, 2, 3, 3)), backend)
    with raises(ValueError, f"grad_output must have the shape of the forward output, {expected}",
                "input (1, 2, 4, 4)", "(1, 2, 3, 3)"):
        call(g, as_backend(X4, backend))


def test_mixed_kinds_and_dtypes():
    g = np.zeros((1, 2, 2, 2))
    with raises(TypeError, "grad_output is a numpy array but input is a torch array"):
        convlib.max_pool2d_backward(g, torch.from_numpy(X4), 2)
    with raises(TypeError, "input has dtype float32 but grad_output has dtype float64"):
        convlib.avg_pool2d_backward(g, X4.astype(np.float32), 2)


def test_not_an_array_or_not_floating():
    with raises(TypeError, "input must be a numpy.ndarray or torch.Tensor, got list"):
        convlib.max_pool1d([[1.0, 2.0]], 2)
    with raises(TypeError, "input must have a floating dtype", "int64"):
        convlib.avg_pool1d(np.zeros((1, 4), dtype=np.int64), 2)
