"""The signal-processing view: single-channel correlation and true convolution with
``scipy.signal`` semantics.

``correlate1d/2d(in1, in2, mode)`` slide ``in2`` over ``in1`` and sum products (what deep
learning calls convolution); ``convolve1d/2d`` first flip ``in2`` in every dimension,
which makes the operation commutative and associative. The three modes of
``scipy.signal.correlate``/``convolve``:

``"full"``
    every overlap, output size ``n1 + n2 - 1`` per dimension;
``"same"``
    the size of ``in1``, the central part of ``"full"``. Where ``n2`` is even the
    centre is ambiguous and scipy itself answers twice: ``scipy.signal.correlate``,
    ``convolve`` and ``convolve2d`` start at ``(n2 - 1) // 2``, but
    ``scipy.signal.correlate2d`` starts at ``n2 // 2`` (the centring of PyTorch's
    ``padding="same"``). Each function here follows its scipy namesake: ``correlate1d``
    and the convolutions the former, ``correlate2d`` the latter;
``"valid"``
    only positions where one array lies entirely inside the other, size
    ``|n1 - n2| + 1``. When ``in2`` is the larger in every dimension the roles swap, as in
    scipy; when neither is at least as large as the other in every dimension it is an
    error.

Inputs are array_like (lists are fine), of integer, float or complex dtype; the result
has ``np.result_type(in1, in2)``, like scipy, and is computed in that type (a float32
and a float64 input give a float64 result with float64 accuracy; integer inputs give
integers; in
correlation the complex ``in2`` is conjugated, as ``scipy.signal.correlate`` does, also in
the one case where ``scipy.signal.correlate2d`` does not: "valid" mode with swapped
inputs). ``method="direct"`` loops over the
elements of the smaller array, adding a shifted copy of the larger one each time (exact
for integers); ``method="fft"`` multiplies spectra (``scipy.fft``), rounding back for
integers; ``method="auto"`` makes ``scipy.signal.choose_conv_method``'s choice (direct
for small inputs), and stays direct for integers whose products could exceed float64's
exact range.

These functions are NumPy only, by design: torch tensors raise ``TypeError`` pointing to
``convlib.conv1d``/``convlib.conv2d``, the framework-shaped (N, C, ...) operations.
Empty inputs raise ``ValueError`` (scipy returns an empty array).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft

from ._backend import describe, is_tensor
from ._checks import check_method

__all__ = ["correlate1d", "correlate2d", "convolve1d", "convolve2d"]

MODES = ("full", "same", "valid")
METHODS = ("auto", "direct", "fft")


def _prepare(in1: Any, in2: Any, nd: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of ``nd`` dimensions from array_like ``in1`` and ``in2``, or a clear error."""
    arrays = []
    for arg, value in (("in1", in1), ("in2", in2)):
        if is_tensor(value):
            raise TypeError(
                f"{arg} of {name} is a torch tensor ({describe(value)}); {name} follows "
                f"scipy.signal and takes NumPy arrays or lists. For tensors use "
                f"convlib.conv{nd}d or torch.nn.functional.conv{nd}d with (N, C, ...) shapes"
            )
        a = np.asarray(value)
        if a.dtype.kind not in "iufc":
            raise TypeError(
                f"{arg} of {name} must hold integers, floats or complex numbers, got "
                f"{describe(a)}"
            )
        if a.ndim != nd:
            raise ValueError(f"{arg} of {name} must be {nd}-D, got {describe(a)}")
        if a.size == 0:
            raise ValueError(f"{arg} of {name} must not be empty, got {describe(a)}")
        arrays.append(a)
    return arrays[0], arrays[1]


def _check_mode(mode: Any, a: np.ndarray, b: np.ndarray, name: str) -> None:
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(
            f"mode of {name} must be one of {MODES}, got {mode!r} (in1 shape {a.shape}, "
            f"in2 shape {b.shape})"
        )
    if mode == "valid":
        bigger = all(m >= n for m, n in zip(a.shape, b.shape))
        smaller = all(m <= n for m, n in zip(a.shape, b.shape))
        if not (bigger or smaller):
            raise ValueError(
                f"mode='valid' of {name} needs one input at least as large as the other in "
                f"every dimension, got in1 shape {a.shape} and in2 shape {b.shape}"
            )


def _fft_is_exact(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether float64 FFT arithmetic can return integer inputs' result exactly (rounded)."""
    if np.result_type(a, b).kind not in "iu":
        return True
    bound = float(np.abs(a).max()) * float(np.abs(b).max()) * min(a.size, b.size)
    return bound < 2.0**50


def _choose(a: np.ndarray, b: np.ndarray, mode: str = "full") -> str:
    """``"direct"`` or ``"fft"`` (both give the same numbers): scipy's choice.

    Integers whose products could exceed float64's exact range stay direct; otherwise
    the answer is ``scipy.signal.choose_conv_method``'s, whose cost model (measured by
    scipy) keeps small inputs direct, so ``method="auto"`` runs what scipy runs.
    """
    if not _fft_is_exact(a, b):
        return "direct"
    from scipy.signal import choose_conv_method

    if mode == "valid" and all(m <= n for m, n in zip(a.shape, b.shape)):
        a, b = b, a  # scipy swaps the inputs of "valid" before it chooses
    return choose_conv_method(a, b, mode=mode)


def _full_direct(a: np.ndarray, b: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Full convolution: for each element of the smaller array, add a shifted copy of the
    larger one scaled by it (convolution is commutative)."""
    if a.size < b.size:
        a, b = b, a
    a = a.astype(dtype, copy=False)
    b = b.astype(dtype, copy=False)
    out = np.zeros(tuple(m + k - 1 for m, k in zip(a.shape, b.shape)), dtype=dtype)
    for idx in np.ndindex(*b.shape):
        out[tuple(slice(i, i + m) for i, m in zip(idx, a.shape))] += a * b[idx]
    return out


def _full_fft(a: np.ndarray, b: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Full convolution as a product of spectra, zero-padded to a fast length, computed
    in the result's precision: float32 with float64 is transformed in float64 (integers
    too), so a float64 result carries float64 accuracy."""
    work = dtype if dtype.kind in "fc" else np.dtype(np.float64)
    a = a.astype(work, copy=False)
    b = b.astype(work, copy=False)
    shape = tuple(m + k - 1 for m, k in zip(a.shape, b.shape))
    axes = tuple(range(a.ndim))
    if dtype.kind == "c":
        fshape = [scipy.fft.next_fast_len(n) for n in shape]
        spec = scipy.fft.fftn(a, fshape, axes=axes) * scipy.fft.fftn(b, fshape, axes=axes)
        out = scipy.fft.ifftn(spec, fshape, axes=axes)
    else:
        fshape = [scipy.fft.next_fast_len(n, real=True) for n in shape]
        spec = scipy.fft.rfftn(a, fshape, axes=axes) * scipy.fft.rfftn(b, fshape, axes=axes)
        out = scipy.fft.irfftn(spec, fshape, axes=axes)
    out = out[tuple(slice(0, n) for n in shape)]
    if dtype.kind in "iu":
        out = np.around(out)
    return out.astype(dtype)


def _convolve(
    a: np.ndarray, b: np.ndarray, mode: str, method: str, name: str, late_centre: bool = False
) -> np.ndarray:
    """Convolution of ``a`` and ``b`` in ``mode``; ``late_centre`` starts "same" at
    ``n2 // 2`` instead of ``(n2 - 1) // 2`` (they differ for even ``n2``)."""
    check_method(method, METHODS, a)
    _check_mode(mode, a, b, name)
    dtype = np.result_type(a, b)
    if method == "auto":
        method = _choose(a, b, mode)
    full = _full_direct(a, b, dtype) if method == "direct" else _full_fft(a, b, dtype)
    if mode == "full":
        return full
    if mode == "same":
        starts = [k // 2 if late_centre else (k - 1) // 2 for k in b.shape]
        return full[tuple(slice(s, s + m) for s, m in zip(starts, a.shape))].copy()
    starts = [min(m, k) - 1 for m, k in zip(a.shape, b.shape)]
    sizes = [abs(m - k) + 1 for m, k in zip(a.shape, b.shape)]
    return full[tuple(slice(s, s + n) for s, n in zip(starts, sizes))].copy()


def _correlate(in1, in2, mode, method, nd, name, late_centre=False):
    a, b = _prepare(in1, in2, nd, name)
    # correlation is convolution with the flipped (and conjugated) second input
    flipped = b[(slice(None, None, -1),) * nd]
    if flipped.dtype.kind == "c":
        flipped = np.conj(flipped)
    return _convolve(a, flipped, mode, method, name, late_centre)


def correlate1d(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> np.ndarray:
    """Cross-correlation of two 1-D sequences, like ``scipy.signal.correlate``.

    ``out[k] = sum_n in1[n + k - (len(in2) - 1)] * in2[n]`` in ``"full"`` mode: ``in2``
    slides over ``in1`` without flipping. ``mode`` is ``"full"``, ``"same"`` or
    ``"valid"``; ``method`` is ``"auto"``, ``"direct"`` or ``"fft"``.

    >>> correlate1d([1, 2, 3, 4], [1, 0, -1], mode="valid")
    array([-2, -2])
    >>> correlate1d([1., 2., 3.], [0., 1.])
    array([1., 2., 3., 0.])
    """
    return _correlate(in1, in2, mode, method, 1, "correlate1d")


def correlate2d(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> np.ndarray:
    """Cross-correlation of two 2-D arrays, like ``scipy.signal.correlate2d`` (with
    zero boundary) or ``scipy.signal.correlate``.

    In ``"valid"`` mode, ``out[i, j] = sum_{a, b} in1[i + a, j + b] * in2[a, b]``: the
    operation a CNN layer computes on one channel. ``"same"`` is centred as
    ``scipy.signal.correlate2d`` and PyTorch's ``padding="same"`` centre it: for an even
    kernel the extra row (column) of zero padding goes after the image, not before (as
    ``scipy.signal.correlate`` would put it).

    >>> image = np.arange(9).reshape(3, 3)
    >>> correlate2d(image, [[1, 0], [0, -1]], mode="valid")
    array([[-4, -4],
           [-4, -4]])
    >>> correlate2d(image, [[1, 0], [0, -1]], mode="same")
    array([[-4, -4,  2],
           [-4, -4,  5],
           [ 6,  7,  8]])
    """
    return _correlate(in1, in2, mode, method, 2, "correlate2d", late_centre=True)


def convolve1d(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> np.ndarray:
    """True convolution of two 1-D sequences, like ``scipy.signal.convolve``.

    ``out[k] = sum_n in1[n] * in2[k - n]``: ``in2`` is flipped before it slides, so
    ``convolve1d(a, b) == convolve1d(b, a)`` in ``"full"`` mode.

    >>> convolve1d([1, 2, 3], [0, 1, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> convolve1d([1, 2, 3, 4], [1, 0, -1], mode="valid")
    array([2, 2])
    """
    a, b = _prepare(in1, in2, 1, "convolve1d")
    return _convolve(a, b, mode, method, "convolve1d")


def convolve2d(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> np.ndarray:
    """True 2-D convolution, like ``scipy.signal.convolve2d`` (zero boundary) or
    ``scipy.signal.convolve``: ``in2`` is rotated by 180 degrees before it slides.

    >>> image = np.arange(9).reshape(3, 3)
    >>> convolve2d(image, [[1, 0], [0, -1]], mode="valid")
    array([[4, 4],
           [4, 4]])
    >>> convolve2d([[1, 2], [3, 4]], [[1, 1]], mode="full")
    array([[1, 3, 2],
           [3, 7, 4]])
    """
    a, b = _prepare(in1, in2, 2, "convolve2d")
    return _convolve(a, b, mode, method, "convolve2d")
