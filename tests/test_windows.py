"""convlib._windows, the sliding-window machinery every operation shares: the output-size
formula, the "same" rule, the windows view and its adjoint (col2im), the chunk planner,
and the one thread policy (independent of os.cpu_count())."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import SETTINGS, examples

from convlib import _windows as W


@settings(max_examples=examples(80), **SETTINGS)
@given(n=st.integers(1, 30), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3),
       p=st.integers(0, 3), ceil_mode=st.booleans())
def test_window_count_is_torch_pooling_and_conv_size(n, k, s, d, p, ceil_mode):
    assume(W.span(k, d) <= n + 2 * p and 2 * p <= k)
    x = torch.zeros(1, 1, n)
    ref = F.max_pool1d(x, k, s, p, d, ceil_mode=ceil_mode).shape[-1]
    assert W.window_count(n, k, s, d, (p, p), ceil_mode) == ref
    conv = F.conv1d(x, torch.zeros(1, 1, k), stride=s, padding=p, dilation=d).shape[-1]
    assert W.window_count(n, k, s, d, (p, p)) == conv


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@settings(max_examples=examples(60), **SETTINGS)
@given(n=st.integers(1, 20), k=st.integers(1, 7), d=st.integers(1, 3))
def test_same_pad_is_torch_same(n, k, d):
    """Stride 1: torch's padding="same" output, the extra element after."""
    x = torch.arange(float(n)).reshape(1, 1, n)
    w = torch.rand(1, 1, k, dtype=torch.float32)
    lo, hi = W.same_pad(k, d)
    ref = F.conv1d(x, w, padding="same", dilation=d)
    ours = F.conv1d(F.pad(x, (lo, hi)), w, dilation=d)
    torch.testing.assert_close(ours, ref)


@pytest.mark.parametrize("n, k, s", [(224, 3, 2), (7, 3, 2), (10, 4, 3), (5, 1, 2)])
def test_same_pad_strided_keeps_ceil(n, k, s):
    lo, hi = W.same_pad(k, 1, s, n)
    assert W.window_count(n, k, s, 1, (lo, hi)) == -(-n // s)
    assert 0 <= hi - lo <= 1


@settings(max_examples=examples(60), **SETTINGS)
@given(data=st.data())
def test_fold_add_is_the_adjoint_of_windows(data):
    """<windows(x), c> == <x, fold(c)> for random x and c: col2im is the transpose."""
    nd = data.draw(st.integers(1, 3))
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(nd))
    size = tuple(W.span(k, d) + data.draw(st.integers(0, 4))
                 for k, d in zip(kernel, dilation))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.normal(size=(2, *size))
    win = W.windows(x, kernel, stride, dilation)  # (2, *out, *kernel)
    out = win.shape[1 : 1 + nd]
    cols = rng.normal(size=(2, *kernel, *out))
    lhs = float(np.sum(win * np.moveaxis(cols, range(1, 1 + nd), range(1 + nd, 1 + 2 * nd))))
    rhs = float(np.sum(x * W.fold(cols, size, stride, dilation)))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("n, rows, row_bytes, budget", [
    (8, 56, 1000, 10**6), (1, 512, 10**5, 10**6), (3, 5, 10**7, 10**6), (0, 4, 10, 100)])
def test_chunks_cover_everything_once_within_the_budget(n, rows, row_bytes, budget):
    seen = np.zeros((n, rows), dtype=int)
    for n0, n1, r0, r1 in W.chunks(0, n, rows, row_bytes, budget):
        seen[n0:n1, r0:r1] += 1
        # a chunk is whole images within the budget, or rows of one image
        assert (n1 - n0 == 1) or (n1 - n0) * rows * row_bytes <= budget
    assert (seen == 1).all()


def test_run_chunks_uses_omp_threads_whatever_cpu_count(monkeypatch):
    """The thread policy reads BLAS's thread count (OMP_NUM_THREADS), never os.cpu_count():
    on a one-CPU machine with two threads asked for, two threads still run."""
    if W._controller() is None:
        pytest.skip("threadpoolctl is not installed")
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    monkeypatch.setattr(W, "blas_threads", lambda: 2)
    names = []
    barrier = threading.Barrier(2, timeout=10)

    def work(item):
        names.append(threading.current_thread().name)
        barrier.wait()  # both chunks at once: two threads, or a timeout

    W.run_chunks(work, range(2), parallel=True)
    assert len(set(names)) == 2 and all(n.startswith("convlib") for n in names), names


def test_run_chunks_one_thread_runs_in_order(monkeypatch):
    monkeypatch.setattr(W, "blas_threads", lambda: 1)
    order = []
    W.run_chunks(order.append, range(5), parallel=True)
    assert order == list(range(5))
