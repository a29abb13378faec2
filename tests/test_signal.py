"""correlate1d/2d and convolve1d/2d against scipy.signal, every mode and method."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SETTINGS, examples

import convlib
from convlib import signal as S

MODES = ("full", "same", "valid")
METHODS = ("auto", "direct", "fft")
DTYPES = ("float64", "float32", "int64", "int16", "complex128", "mixed")
# each function and its scipy namesake (correlate1d has none: scipy.signal.correlate)
OURS = {
    ("correlate", 1): (S.correlate1d, scipy.signal.correlate),
    ("convolve", 1): (S.convolve1d, scipy.signal.convolve),
    ("correlate", 2): (S.correlate2d, scipy.signal.correlate2d),
    ("convolve", 2): (S.convolve2d, scipy.signal.convolve2d),
}


def make(shape, dtype, rng):
    if dtype in ("int64", "int16"):
        return rng.integers(-9, 10, size=shape).astype(dtype)
    if dtype == "complex128":
        return rng.normal(size=shape) + 1j * rng.normal(size=shape)
    return rng.normal(size=shape).astype(dtype)


def assert_like_scipy(ours, expected, dtype):
    assert ours.dtype == expected.dtype
    assert ours.shape == expected.shape
    if ours.dtype.kind in "iu":
        np.testing.assert_array_equal(ours, expected)
    elif ours.dtype == np.float32 or dtype == "mixed":
        # scipy's FFT path computes int64 * float32 in float32 precision
        np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)
    else:
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op", ["correlate", "convolve"])
@pytest.mark.parametrize("nd", [1, 2])
@settings(max_examples=examples(120), **SETTINGS)
@given(data=st.data())
def test_against_scipy(op, nd, data):
    top = 12 if nd == 1 else 6
    s1 = tuple(data.draw(st.integers(1, top)) for _ in range(nd))
    s2 = tuple(data.draw(st.integers(1, top)) for _ in range(nd))
    mode = data.draw(st.sampled_from(MODES))
    method = data.draw(st.sampled_from(METHODS))
    dtype = data.draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    if dtype == "mixed":  # ints with floats: the result is float64, as in scipy
        a, b = make(s1, "int64", rng), make(s2, "float32", rng)
    else:
        a, b = make(s1, dtype, rng), make(s2, dtype, rng)
    ours, theirs = OURS[op, nd]
    generic = getattr(scipy.signal, op)
    references = [lambda: theirs(a, b, mode)] if nd == 2 else []
    references += [lambda m=m: generic(a, b, mode, method=m) for m in ("direct", "fft")]
    if nd == 2 and op == "correlate" and mode == "same":
        # scipy.signal.correlate centres "same" differently for even kernels
        references = references[:1]
    swapped = all(m <= n for m, n in zip(s1, s2)) and s1 != s2
    if nd == 2 and op == "correlate" and mode == "valid" and dtype == "complex128" and swapped:
        # scipy.signal.correlate2d conjugates in1 instead of in2 when it swaps the inputs;
        # scipy.signal.correlate (and convlib) conjugate in2
        references = references[1:]
    try:
        expected = [ref() for ref in references]
    except ValueError:
        # scipy refuses "valid" when neither input contains the other: so do we
        with pytest.raises(ValueError, match="mode='valid'.*at least as large as the other"):
            ours(a, b, mode, method)
        return
    result = ours(a, b, mode, method)
    for e in expected:
        assert_like_scipy(result, e, dtype)


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@settings(max_examples=examples(100), **SETTINGS)
@given(h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 4), kw=st.integers(1, 4),
       seed=st.integers(0, 2**32 - 1))
def test_correlate2d_is_what_conv2d_computes(h, w, kh, kw, seed):
    rng = np.random.default_rng(seed)
    x, k = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    xt, kt = torch.from_numpy(x)[None, None], torch.from_numpy(k)[None, None]
    same = F.conv2d(xt, kt, padding="same")[0, 0].numpy()
    np.testing.assert_allclose(S.correlate2d(x, k, "same"), same, rtol=1e-10, atol=1e-12)
    if kh <= h and kw <= w:
        valid = F.conv2d(xt, kt)[0, 0].numpy()
        np.testing.assert_allclose(S.correlate2d(x, k, "valid"), valid, rtol=1e-10, atol=1e-12)
        flipped = F.conv2d(xt, kt.flip(-1, -2))[0, 0].numpy()
        np.testing.assert_allclose(S.convolve2d(x, k, "valid"), flipped, rtol=1e-10, atol=1e-12)


def test_auto_picks_fft_for_large_kernels_and_direct_for_small_ones():
    rng = np.random.default_rng(0)
    image, big, small = rng.normal(size=(64, 64)), rng.normal(size=(15, 15)), np.ones((3, 3))
    assert S._choose(image, big) == "fft"
    assert S._choose(image[:8, :8], small) == "direct"
    np.testing.assert_allclose(S.convolve2d(image, big, method="auto"),
                               S.convolve2d(image, big, method="direct"), rtol=1e-10, atol=1e-10)
    # integers too large for exact float64 products never go through the FFT
    huge = np.full((64, 64), 2**40, dtype=np.int64)
    assert S._choose(huge, big.astype(np.int64) + 2**20) == "direct"


FLOATS = ("float32", "float64", "complex64", "complex128", "int64")  # one of them inexact


def _accuracy_bound(a, b, dtype):
    """A bound on the rounding error of any correct method, from the data: a few units
    of the result type's precision times the largest sum of |products|."""
    scale = float(np.abs(a).sum()) * float(np.abs(b).max())
    return 64 * np.finfo(dtype).eps * max(scale, 1.0)


@pytest.mark.parametrize("op", ["correlate", "convolve"])
@pytest.mark.parametrize("nd", [1, 2])
@settings(max_examples=examples(150), **SETTINGS)
@given(data=st.data())
def test_mixed_dtypes_have_the_result_types_accuracy(op, nd, data):
    """float32 with float64 (and complex, and integers with floats): computed in the result
    type by every method, to its precision, against scipy.signal's exact direct sum; and
    ``auto`` makes scipy's choice."""
    top = 40 if nd == 1 else 12
    s1 = tuple(data.draw(st.integers(1, top)) for _ in range(nd))
    s2 = tuple(data.draw(st.integers(1, top)) for _ in range(nd))
    mode = data.draw(st.sampled_from(("full", "same")))
    d1, d2 = data.draw(st.sampled_from(FLOATS)), data.draw(st.sampled_from(FLOATS[:4]))
    if data.draw(st.booleans()):
        d1, d2 = d2, d1
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a, b = make(s1, d1, rng), make(s2, d2, rng)
    dtype = np.result_type(a, b)
    # scipy's direct sum computes in the result type: the reference
    expected = getattr(scipy.signal, op)(a.astype(dtype), b.astype(dtype), mode,
                                         method="direct")
    ours = OURS[op, 1][0] if nd == 1 else getattr(S, f"{op}2d")
    if nd == 2 and op == "correlate":  # correlate2d centres "same" like scipy's correlate2d
        expected = scipy.signal.correlate2d(a.astype(dtype), b.astype(dtype), mode)
    tol = _accuracy_bound(a, b, dtype)
    for method in METHODS:
        got = ours(a, b, mode, method)
        assert got.dtype == dtype, (method, got.dtype, dtype)
        np.testing.assert_allclose(got, expected, rtol=0, atol=tol, err_msg=method)
    assert S._choose(a, b, mode) == scipy.signal.choose_conv_method(a, b, mode=mode)


def test_float32_with_float64_is_float64_exact():
    """The issue's case: one float32 and one float64 input give float64 accuracy."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 40)).astype(np.float32)
    b = rng.normal(size=(9, 9))
    exact = scipy.signal.convolve(a.astype(np.float64), b, method="direct")
    got = S.convolve2d(a, b, "full", method="fft")
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-12)


def test_auto_is_direct_for_small_inputs_as_in_scipy():
    a, b = np.ones((4, 4), np.float32), np.ones((7, 5))
    assert scipy.signal.choose_conv_method(a, b) == "direct"
    assert S._choose(a, b) == "direct"


def test_integer_results_are_exact_and_keep_their_dtype():
    a = np.array([1, 2, 3], dtype=np.int32)
    for method in METHODS:
        out = S.convolve1d(a, np.array([1, 1], dtype=np.int32), method=method)
        assert out.dtype == np.int32 and out.tolist() == [1, 3, 5, 3]


def test_lists_are_accepted():
    assert S.correlate1d([1, 2, 3], [1, 1], mode="valid").tolist() == [3, 5]
    assert convlib.convolve2d([[1.0, 2.0]], [[1.0]]).tolist() == [[1.0, 2.0]]


def test_complex_correlation_conjugates_in2():
    a, b = np.array([1 + 1j, 2, 3j]), np.array([1j, 1])
    for method in METHODS:
        np.testing.assert_allclose(S.correlate1d(a, b, method=method),
                                   scipy.signal.correlate(a, b), rtol=1e-12)


def check(kind, *fragments):
    return pytest.raises(kind, match=".*".join(re.escape(f) for f in fragments))


@pytest.mark.parametrize(
    ("call", "kind", "fragments"),
    [
        (lambda: S.correlate2d(np.ones(3), np.ones((2, 2))), ValueError,
         ("in1 of correlate2d must be 2-D", "(3,)")),
        (lambda: S.convolve1d(np.ones(3), np.ones((2, 2))), ValueError,
         ("in2 of convolve1d must be 1-D", "(2, 2)")),
        (lambda: S.convolve2d(np.ones((0, 2)), np.ones((2, 2))), ValueError,
         ("in1 of convolve2d must not be empty", "(0, 2)")),
        (lambda: S.correlate1d(np.ones(3), np.ones(2), mode="middle"), ValueError,
         ("mode of correlate1d must be one of ('full', 'same', 'valid')", "'middle'",
          "in1 shape (3,)", "in2 shape (2,)")),
        (lambda: S.correlate1d(np.ones(3), np.ones(2), method="loops"), ValueError,
         ("method must be one of ('auto', 'direct', 'fft')", "(3,)", "'loops'")),
        (lambda: S.convolve2d(np.ones((3, 2)), np.ones((2, 3)), mode="valid"), ValueError,
         ("mode='valid' of convolve2d needs one input at least as large as the other",
          "in1 shape (3, 2)", "in2 shape (2, 3)")),
        (lambda: S.correlate1d(["a", "b"], [1]), TypeError,
         ("in1 of correlate1d must hold integers, floats or complex numbers", "<U1")),
        (lambda: S.correlate1d([True, False], [1]), TypeError,
         ("in1 of correlate1d must hold integers, floats or complex numbers", "bool")),
        (lambda: S.correlate2d(torch.ones(3, 3), np.ones((2, 2))), TypeError,
         ("in1 of correlate2d is a torch tensor", "(3, 3)", "convlib.conv2d")),
        (lambda: S.convolve1d(np.ones(3), torch.ones(2)), TypeError,
         ("in2 of convolve1d is a torch tensor", "(2,)", "convlib.conv1d")),
    ],
)
def test_bad_input(call, kind, fragments):
    with check(kind, *fragments):
        call()


def test_signal_names_are_exported():
    for name in S.__all__:
        assert getattr(convlib, name) is getattr(S, name)
