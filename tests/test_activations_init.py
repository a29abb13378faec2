"""Activations and their derivatives against torch and autograd; initialisers against
torch.nn.init's formulas and the statistics of large samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from strategies import examples

import convlib
from convlib import activations as A
from convlib import init as I

TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=1e-5, atol=1e-6)}
TORCH = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_activation_and_derivative_match_torch(name, dtype, data):
    x = data.draw(arrays(dtype, st.integers(1, 20),
                         elements=st.floats(-800, 800, width=np.finfo(dtype).bits)))
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # even at |x| = 800
        y = getattr(A, name)(x)
        dy = getattr(A, f"{name}_grad")(x)
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = TORCH[name](xt)
    (dyt,) = torch.autograd.grad(yt.sum(), xt)
    assert y.dtype == dy.dtype == dtype
    np.testing.assert_allclose(y, yt.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(dy, dyt.numpy(), **TOL[dtype])
    # the torch path answers with tensors and the same numbers
    np.testing.assert_allclose(getattr(A, name)(torch.from_numpy(x)).numpy(), y, **TOL[dtype])
    np.testing.assert_allclose(getattr(A, f"{name}_grad")(torch.from_numpy(x)).numpy(), dy,
                               **TOL[dtype])


def test_sigmoid_is_stable_at_the_extremes():
    x = np.array([-1e308, -1000.0, -40.0, 0.0, 40.0, 1000.0, 1e308])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = A.sigmoid(x)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert 0 < s[2] < 1e-17  # still positive: exp(-40), not rounded to 0 by 1 - ...
    np.testing.assert_allclose(s, torch.sigmoid(torch.from_numpy(x)).numpy(), rtol=1e-15)


def test_relu_derivative_at_zero_and_nan_follow_autograd():
    x = np.array([0.0, -0.0, np.nan, 1.0])
    xt = torch.from_numpy(x).requires_grad_(True)
    (g,) = torch.autograd.grad(torch.relu(xt).sum(), xt)
    np.testing.assert_array_equal(A.relu_grad(x), g.numpy())
    np.testing.assert_array_equal(A.relu(x), torch.relu(torch.from_numpy(x)).numpy())


def test_activations_reject_non_arrays():
    with pytest.raises(TypeError, match="input must be a numpy.ndarray or torch.Tensor, got list"):
        A.relu([1.0, -1.0])
    with pytest.raises(TypeError, match="input must have a floating dtype.*int64"):
        A.sigmoid(np.arange(3))


# --- initialisers ----------------------------------------------------------------------

SHAPES = [(10, 20), (64, 3, 7, 7), (8, 4, 3), (16, 8, 3, 3, 3), (5, 1, 1, 1)]
GAINS = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 1),
         ("selu", None), ("conv_transpose3d", None)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert I.fan_in_and_fan_out(shape) == expected


@pytest.mark.parametrize(("nonlinearity", "param"), GAINS)
def test_gain_matches_torch(nonlinearity, param):
    assert I.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
        nonlinearity, param)


def torch_std_and_bound(name, shape, **kwargs):
    """The std of torch's initialiser on a large tensor, and its largest magnitude."""
    torch.manual_seed(0)
    w = getattr(torch.nn.init, name + "_")(torch.empty(shape, dtype=torch.float64), **kwargs)
    return float(w.std()), float(w.abs().max())


@pytest.mark.parametrize("shape", [(256, 128, 3, 3), (400, 300)])
@pytest.mark.parametrize(
    ("name", "kwargs", "std"),
    [
        ("xavier_uniform", {}, lambda fi, fo: math.sqrt(2 / (fi + fo))),
        ("xavier_uniform", {"gain": 5 / 3}, lambda fi, fo: 5 / 3 * math.sqrt(2 / (fi + fo))),
        ("xavier_normal", {}, lambda fi, fo: math.sqrt(2 / (fi + fo))),
        ("xavier_normal", {"gain": 2.0}, lambda fi, fo: 2 * math.sqrt(2 / (fi + fo))),
        ("kaiming_uniform", {}, lambda fi, fo: math.sqrt(2 / fi)),
        ("kaiming_uniform", {"a": 0.2}, lambda fi, fo: math.sqrt(2 / (1.04 * fi))),
        ("kaiming_uniform", {"mode": "fan_out", "nonlinearity": "relu"},
         lambda fi, fo: math.sqrt(2 / fo)),
        ("kaiming_normal", {}, lambda fi, fo: math.sqrt(2 / fi)),
        ("kaiming_normal", {"mode": "fan_out", "nonlinearity": "tanh"},
         lambda fi, fo: 5 / 3 / math.sqrt(fo)),
    ],
)
def test_initialiser_statistics(name, kwargs, std, shape):
    fan_in, fan_out = I.fan_in_and_fan_out(shape)
    expected_std = std(fan_in, fan_out)
    w = getattr(I, name)(shape, **kwargs, rng=np.random.default_rng(1))
    assert w.shape == shape and w.dtype == np.float64
    # hundreds of thousands of samples: the empirical std is within 1% of the formula,
    # and of torch's initialiser on a tensor of the same shape
    torch_std, torch_max = torch_std_and_bound(name, shape, **kwargs)
    assert w.std() == pytest.approx(expected_std, rel=0.01)
    assert torch_std == pytest.approx(expected_std, rel=0.01)
    assert abs(w.mean()) < 0.01 * expected_std + 3 * expected_std / math.sqrt(w.size)
    if name.endswith("uniform"):
        bound = math.sqrt(3) * expected_std
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound
        assert torch_max <= bound * (1 + 1e-12) and torch_max > 0.999 * bound


def test_seeds_reproduce_and_backends_agree():
    a = I.kaiming_normal((8, 4, 3, 3), rng=7)
    b = I.kaiming_normal((8, 4, 3, 3), rng=np.random.default_rng(7))
    t = I.kaiming_normal((8, 4, 3, 3), rng=7, backend="torch", dtype=torch.float64)
    np.testing.assert_array_equal(a, b)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    np.testing.assert_array_equal(t.numpy(), a)
    assert I.xavier_uniform((3, 3), backend="torch").dtype == torch.get_default_dtype()
    assert I.zeros((2, 3), dtype=np.float32).dtype == np.float32
    assert not I.normal((4, 4)).tolist() == I.normal((4, 4)).tolist()  # fresh by default


def test_simple_initialisers():
    np.testing.assert_array_equal(I.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(I.ones(4), np.ones(4))
    w = I.normal((500, 500), mean=3.0, std=0.5, rng=0)
    assert w.mean() == pytest.approx(3.0, abs=0.005) and w.std() == pytest.approx(0.5, rel=0.01)
    u = I.uniform((500, 500), -2.0, 4.0, rng=0)
    assert u.min() >= -2.0 and u.max() < 4.0 and u.mean() == pytest.approx(1.0, abs=0.02)
    assert I.kaiming_uniform((0, 3, 3, 3), rng=0).shape == (0, 3, 3, 3)


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        (lambda: I.fan_in_and_fan_out((5,)), ValueError,
         "need a weight of at least 2 dimensions .* got shape \\(5,\\)"),
        (lambda: I.kaiming_normal((4, 4), mode="fan_avg"), ValueError,
         "mode must be 'fan_in' or 'fan_out', got 'fan_avg'"),
        (lambda: I.calculate_gain("swish"), ValueError,
         "nonlinearity must be one of .* got 'swish'"),
        (lambda: I.calculate_gain("leaky_relu", "0.1"), ValueError,
         "negative_slope \\(param\\) must be a number, got '0.1'"),
        (lambda: I.xavier_normal((4, -1)), ValueError,
         "shape must be an int or a tuple of non-negative ints, got \\(4, -1\\)"),
        (lambda: I.normal((2, 2), std=-1.0), ValueError, "std must be non-negative, got -1.0"),
        (lambda: I.zeros((2, 2), backend="jax"), ValueError,
         "backend must be 'numpy' or 'torch', got 'jax'"),
        (lambda: I.zeros((2, 2), device="cuda"), ValueError,
         "device applies only to backend='torch'"),
    ],
)
def test_initialiser_errors(call, kind, message):
    with pytest.raises(kind, match=message):
        call()


def test_names_are_exported():
    for module in (A, I):
        for name in module.__all__:
            assert getattr(convlib, name) is getattr(module, name)
