"""numerical_gradient and gradcheck: right answers, clear failures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from strategies import examples

from convlib.gradcheck import GradcheckError, GradcheckReport, gradcheck, numerical_gradient


@settings(deadline=None, max_examples=examples(30))
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)),
              elements=st.floats(-3, 3)))
def test_numerical_gradient_of_smooth_functions(x):
    a = np.linspace(-1.0, 1.0, x.shape[1])
    # f(x) = sum(sin(x) * a) + sum(x**3) / 3  has gradient cos(x) * a + x**2
    f = lambda v: np.sum(np.sin(v) * a) + np.sum(v**3) / 3  # noqa: E731
    np.testing.assert_allclose(numerical_gradient(f, x), np.cos(x) * a + x**2,
                               rtol=1e-6, atol=1e-7)


def test_numerical_gradient_leaves_x_alone_and_matches_autograd():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4))
    before = x.copy()

    def f(v):
        return float(torch.logsumexp(torch.from_numpy(v).reshape(-1), 0))

    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    torch.logsumexp(xt.reshape(-1), 0).backward()
    np.testing.assert_allclose(numerical_gradient(f, x), xt.grad.numpy(), atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_gradcheck_passes_a_right_gradient_and_reports():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    g = rng.normal(size=(3, 2))
    report = gradcheck(lambda a, b: a @ b, (a, b), (g @ b.T, a.T @ g), grad_outputs=g)
    assert isinstance(report, GradcheckReport)
    assert report.passed
    assert report.max_abs_error < 1e-8 and report.max_rel_error < 1e-6
    assert [n.shape for n in report.numerical] == [(3, 4), (4, 2)]
    assert str(report).startswith("gradcheck passed: max abs error")


def test_gradcheck_scalar_function_without_grad_outputs():
    x = np.array([0.5, -1.0, 2.0])
    assert gradcheck(lambda v: np.sum(np.exp(v)), x, np.exp(x)).passed


def test_gradcheck_raises_naming_input_and_element():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    g = np.ones((3, 2))
    wrong_db = a.T @ g
    wrong_db[2, 1] += 0.5
    with pytest.raises(GradcheckError, match=r"inputs\[1\] \(shape \(4, 2\)\) at index "
                                             r"\(2, 1\): analytic .* numerical"):
        gradcheck(lambda a, b: a @ b, (a, b), (g @ b.T, wrong_db), grad_outputs=g)
    report = gradcheck(lambda a, b: a @ b, (a, b), (g @ b.T, wrong_db), grad_outputs=g,
                       raise_exception=False)
    assert not report.passed and report.worst == (1, (2, 1))
    assert report.max_abs_error == pytest.approx(0.5, rel=1e-6)
    assert str(report).startswith("gradcheck FAILED")


def test_gradcheck_tolerances_decide():
    x = np.array([1.0, 2.0])
    slightly_off = 2 * x * (1 + 1e-4)
    assert gradcheck(lambda v: np.sum(v**2), x, slightly_off, rtol=1e-3).passed
    assert not gradcheck(lambda v: np.sum(v**2), x, slightly_off, rtol=1e-6, atol=0,
                         raise_exception=False).passed


def test_non_scalar_without_grad_outputs_is_explained():
    x = np.ones(3)
    with pytest.raises(ValueError, match=r"f must return a scalar, got an array of shape "
                                         r"\(3,\).*grad_outputs"):
        gradcheck(lambda v: v * 2, x, np.full(3, 2.0))


def test_bad_arguments():
    x = np.ones((2, 2))
    with pytest.raises(ValueError, match=r"analytic\[0\] has shape \(4,\) but inputs\[0\] has "
                                         r"shape \(2, 2\)"):
        gradcheck(lambda v: v.sum(), x, np.ones(4))
    with pytest.raises(ValueError, match="one gradient per input: got 2 gradients for 1"):
        gradcheck(lambda v: v.sum(), x, (x, x))
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(3,\) but f's output "
                                         r"0 has shape \(2, 2\)"):
        gradcheck(lambda v: v, x, x, grad_outputs=np.ones(3))
    with pytest.raises(TypeError, match="x must be a numpy.ndarray, got list"):
        numerical_gradient(lambda v: v.sum(), [1.0, 2.0])
    with pytest.raises(TypeError, match="x must have a floating dtype, got int64"):
        numerical_gradient(lambda v: v.sum(), np.arange(3))
    with pytest.raises(ValueError, match="eps must be a positive number"):
        numerical_gradient(lambda v: v.sum(), x, eps=0)


def test_float32_inputs_warn():
    x = np.ones(3, dtype=np.float32)
    with pytest.warns(UserWarning, match="float64"):
        gradcheck(lambda v: float(np.sum(v)), x, np.ones(3, np.float32), eps=1e-2)
