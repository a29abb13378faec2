"""Sliding windows: the machinery every convolution and pooling of convlib shares.

One home for what the chapters call the sliding window, in the book's notation (``n``
input size, ``k`` kernel size, ``s`` stride, ``p`` padding, ``d`` dilation, ``u`` a kernel
tap, ``i`` an output position; window ``i`` reads the padded input at ``s*i + d*u``):

- :func:`span` and :func:`window_count`, the output-size formula, written once;
  :func:`same_pad`, the "same" padding rule;
  :func:`transposed_size`, its counterpart for the transposed convolution;
- :func:`windows`, every window of an array as a strided view (no copy);
- :func:`tap_slices` and :func:`fold_add`, the adjoint of the windows view (col2im): tap
  ``u`` of every window added back where it was read;
- :func:`plan_chunks` and :func:`chunks`, batch chunks (whole images, or bands of rows of
  one image) whose temporaries fit a memory budget;
- :func:`run_chunks` and :func:`blas_threads`, the chunks on a small thread pool with
  single-threaded BLAS.

Nothing here checks arguments: the callers have (see ``convlib._checks``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "span",
    "window_count",
    "window_counts",
    "transposed_size",
    "windows",
    "tap_slices",
    "fold_add",
    "fold",
    "plan_chunks",
    "chunks",
    "blas_threads",
    "run_chunks",
]


# --- sizes -------------------------------------------------------------------------------


def span(k: int, d: int = 1) -> int:
    """Input positions from a window's first tap to its last: ``d(k-1) + 1``.

    >>> span(3), span(3, d=2)
    (3, 5)
    """
    return d * (k - 1) + 1


def window_count(
    n: int, k: int, s: int = 1, d: int = 1, pad: tuple[int, int] = (0, 0),
    ceil_mode: bool = False,
) -> int:
    """Number of windows (output size) along one axis: ``floor((n + p_lo + p_hi - d(k-1)
    - 1) / s) + 1``.

    ``ceil_mode`` rounds up instead, with PyTorch's rule that the last window must start
    inside the input or its left padding. The caller has checked that the kernel fits.

    >>> window_count(32, 5, pad=(2, 2)), window_count(5, 2, 2, ceil_mode=True)
    (32, 3)
    """
    lo, hi = pad
    room = n + lo + hi - span(k, d)  # positions the first window can move by
    if not ceil_mode:
        return room // s + 1
    out = -(-room // s) + 1
    if (out - 1) * s >= n + lo:
        out -= 1
    return out


def window_counts(
    spatial: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
    dilation: Sequence[int], pads: Sequence[tuple[int, int]] | None = None,
    ceil_mode: bool = False,
) -> tuple[int, ...]:
    """:func:`window_count` for every spatial axis; ``pads`` are ``(before, after)`` pairs.

    >>> window_counts((7, 8), (3, 3), (2, 1), (1, 2))
    (3, 4)
    """
    pads = pads if pads is not None else ((0, 0),) * len(spatial)
    return tuple(
        window_count(n, k, s, d, p, ceil_mode)
        for n, k, s, d, p in zip(spatial, kernel, stride, dilation, pads)
    )


def same_pad(k: int, d: int = 1, s: int = 1, n: int | None = None) -> tuple[int, int]:
    """The "same" padding rule, ``(before, after)``: ``ceil(n / s)`` outputs, the odd
    element of the total after, as PyTorch's ``padding="same"`` and TensorFlow's "SAME" put
    it. With ``s == 1`` the total is ``d(k-1)`` whatever ``n``; with ``s > 1`` it depends on
    the input size ``n``.

    >>> same_pad(3), same_pad(4), same_pad(3, s=2, n=224)
    ((1, 1), (1, 2), (0, 1))
    """
    if s == 1:
        total = span(k, d) - 1
    else:
        assert n is not None, "the strided rule needs the input size"
        total = max((-(-n // s) - 1) * s + span(k, d) - n, 0)
    return total // 2, total - total // 2


def transposed_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1,
                    output_padding: int = 0) -> int:
    """Output size of a transposed convolution: ``(n-1)s - 2p + d(k-1) + output_padding + 1``,
    the input size of the convolution it transposes.

    >>> transposed_size(16, 4, s=2, p=1)
    32
    """
    return (n - 1) * s - 2 * p + span(k, d) + output_padding


# --- windows and their adjoint -----------------------------------------------------------


def windows(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
            dilation: Sequence[int], out: Sequence[int] | None = None,
            axis: int | None = None) -> np.ndarray:
    """Every window of ``x``: a view with the window positions where the windowed axes
    were and the kernel taps appended, ``(*lead, *out, *rest, *kernel)``; element
    ``[..., i, ..., u]`` is ``x[..., s*i + d*u, ...]``.

    The windowed axes are the ``len(kernel)`` axes from ``axis`` on (default: the last
    ones, so ``rest`` is empty). Stride and dilation are strided slices of
    ``sliding_window_view``, so nothing is copied. ``out`` keeps only the first ``out``
    windows per axis (pooling's padded input may reach further).

    >>> windows(np.arange(6.0), (2,), (2,), (1,)).tolist()
    [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    """
    nd = len(kernel)
    first = x.ndim - nd if axis is None else axis % x.ndim
    spans = tuple(span(k, d) for k, d in zip(kernel, dilation))
    win = sliding_window_view(x, spans, axis=tuple(range(first, first + nd)))
    if out is None:
        positions = tuple(slice(None, None, s) for s in stride)
    else:
        positions = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out, stride))
    rest = (slice(None),) * (x.ndim - first - nd)
    taps = tuple(slice(None, None, d) for d in dilation)
    return win[(slice(None),) * first + positions + rest + taps]


def tap_slices(u: Sequence[int], out: Sequence[int], stride: Sequence[int],
               dilation: Sequence[int], first: Sequence[int] | None = None) -> tuple:
    """Where tap ``u`` of windows ``first .. first + out - 1`` reads the padded input: one
    strided slice per axis, ``s*i + d*u`` for every window ``i``.

    >>> tap_slices((1,), (3,), (2,), (1,))
    (Ellipsis, slice(1, 6, 2))
    """
    first = first if first is not None else (0,) * len(u)
    return (Ellipsis, *(
        slice(s * f + d * t, s * f + d * t + s * (o - 1) + 1, s)
        for t, o, s, d, f in zip(u, out, stride, dilation, first)
    ))


def fold_add(target: np.ndarray, cols: np.ndarray, stride: Sequence[int],
             dilation: Sequence[int], first: Sequence[int] | None = None) -> None:
    """col2im, in place: add ``cols`` ``(*lead, *kernel, *out)`` onto ``target``
    ``(*lead, *padded)``, tap ``u`` of window ``i`` at ``s*i + d*u`` (windows counted from
    ``first``). Overlapping windows accumulate.

    A loop over the kernel taps only: each tap is one vectorised strided ``+=`` that adds
    it for all windows at once.
    """
    nd = len(stride)
    kernel = cols.shape[cols.ndim - 2 * nd : cols.ndim - nd]
    out = cols.shape[cols.ndim - nd :]
    for u in np.ndindex(*kernel):
        target[tap_slices(u, out, stride, dilation, first)] += cols[(Ellipsis, *u) + (
            slice(None),) * nd]


def fold(cols: np.ndarray, size: Sequence[int], stride: Sequence[int],
         dilation: Sequence[int]) -> np.ndarray:
    """The adjoint of :func:`windows`: ``cols`` ``(*lead, *kernel, *out)`` summed into a new
    ``(*lead, *size)`` array. ``size`` may exceed the windows' reach; the rest stays zero.

    >>> fold(np.ones((2, 3)), (4,), (1,), (1,)).tolist()
    [1.0, 2.0, 2.0, 1.0]
    """
    nd = len(size)
    img = np.zeros(cols.shape[: cols.ndim - 2 * nd] + tuple(size), dtype=cols.dtype)
    fold_add(img, cols, stride, dilation)
    return img


# --- chunks ------------------------------------------------------------------------------


def plan_chunks(n: int, rows: int, row_bytes: int, budget: int) -> tuple[int, int]:
    """``(images per chunk, rows per chunk)`` so that a chunk's temporaries stay near
    ``budget`` bytes, an image taking ``rows`` rows of ``row_bytes`` each.

    Small images go several to a chunk; an image larger than the budget is split into
    bands of rows, so memory stays bounded whatever the input size.

    >>> plan_chunks(10, 4, 100, 1000), plan_chunks(10, 40, 100, 1000)
    ((2, 4), (1, 10))
    """
    row_bytes = max(row_bytes, 1)
    image_bytes = max(rows * row_bytes, 1)
    if image_bytes <= budget:
        return max(1, min(n, budget // image_bytes)), rows
    return 1, max(1, budget // row_bytes)


def chunks(start: int, stop: int, rows: int, row_bytes: int,
           budget: int) -> Iterator[tuple[int, int, int, int]]:
    """The chunks ``(n0, n1, r0, r1)`` of images ``start:stop`` that :func:`plan_chunks`
    plans: images ``n0:n1``, rows ``r0:r1`` of the first output axis.

    >>> list(chunks(0, 3, 4, 100, 250))
    [(0, 1, 0, 2), (0, 1, 2, 4), (1, 2, 0, 2), (1, 2, 2, 4), (2, 3, 0, 2), (2, 3, 2, 4)]
    """
    images, band = plan_chunks(stop - start, rows, row_bytes, budget)
    for n0 in range(start, stop, images):
        for r0 in range(0, rows, band):
            yield n0, min(stop, n0 + images), r0, min(rows, r0 + band)


# --- threads -----------------------------------------------------------------------------


@functools.cache
def _controller():
    """threadpoolctl's controller of NumPy's BLAS, or None without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - installed with the course's requirements
        return None
    return ThreadpoolController()


def blas_threads() -> int:
    """How many threads NumPy's BLAS would use (1 without ``threadpoolctl``)."""
    controller = _controller()
    if controller is None:
        return 1
    libs = controller.select(user_api="blas").lib_controllers
    return max((lib.num_threads for lib in libs), default=1)


@functools.cache
def _executor(workers: int) -> ThreadPoolExecutor:
    """The thread pool of ``workers`` threads, created on first use and then kept."""
    return ThreadPoolExecutor(workers, thread_name_prefix="convlib")


# one call at a time changes the BLAS thread count, which is process-wide
_LOCK = threading.Lock()


def run_chunks(work: Callable, items: Iterable, parallel: bool) -> None:
    """``work(item)`` for every item, with single-threaded BLAS, on a few threads if asked.

    BLAS splits every product across its threads and joins them again: on the small
    products of cache-sized chunks that costs more than it gains, and on a busy machine a
    late thread stalls every join. So BLAS runs single-threaded here and, when it would
    have used ``T > 1`` threads and ``parallel`` is set, the chunks themselves run on
    ``T`` Python threads (NumPy releases the GIL while copying and multiplying): the
    copies, which BLAS never parallelised, then use every core too. Chunks must write
    disjoint parts of the output.
    """
    items = list(items)
    workers = min(blas_threads(), len(items))  # OMP_NUM_THREADS (or the cores) caps it
    if workers < 2 or _controller() is None or not _LOCK.acquire(blocking=False):
        for item in items:
            work(item)
        return
    try:
        with _controller().limit(limits=1, user_api="blas"):
            if not parallel:
                for item in items:
                    work(item)
                return
            for _ in _executor(workers).map(work, items):  # re-raises a chunk's exception
                pass
    finally:
        _LOCK.release()
