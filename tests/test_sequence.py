"""Causal and streaming 1-D convolution (convlib.sequence) against torch.nn.functional."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SETTINGS, examples

from convlib.sequence import causal_conv1d, causal_padding, conv1d_stream


@st.composite
def causal_cases(draw):
    groups = draw(st.sampled_from([1, 2]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    k = draw(st.integers(1, 5))
    d = draw(st.integers(1, 4))
    length = draw(st.integers(1, 40))
    cuts = sorted(draw(st.lists(st.integers(1, max(length - 1, 1)), max_size=5, unique=True)))
    cuts = [c for c in cuts if c < length]
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((draw(st.integers(1, 2)), c_in, length))
    w = rng.standard_normal((c_out, c_in // groups, k))
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return x, w, b, d, groups, cuts


def torch_causal(x, w, b, d, groups):
    """Independently of convlib: torch's symmetric padding, then the right end cut off."""
    p = d * (w.shape[-1] - 1)
    t = [None if a is None else torch.from_numpy(a) for a in (x, w, b)]
    y = F.conv1d(t[0], t[1], t[2], padding=p, dilation=d, groups=groups)
    return y[..., : x.shape[-1]].numpy()


@settings(max_examples=examples(60), **SETTINGS)
@given(causal_cases())
def test_causal_conv1d_matches_torch(case):
    x, w, b, d, groups, _ = case
    y = causal_conv1d(x, w, b, dilation=d, groups=groups)
    assert y.shape == (x.shape[0], w.shape[0], x.shape[-1])
    np.testing.assert_allclose(y, torch_causal(x, w, b, d, groups), rtol=1e-10, atol=1e-10)


@settings(max_examples=examples(30), **SETTINGS)
@given(causal_cases(), st.integers(0, 39))
def test_causal_output_never_sees_the_future(case, t):
    x, w, b, d, groups, _ = case
    t = t % x.shape[-1]
    later = x.copy()
    later[..., t + 1:] += 100.0  # change only the future of position t
    y, y_later = (causal_conv1d(a, w, b, dilation=d, groups=groups) for a in (x, later))
    np.testing.assert_array_equal(y[..., : t + 1], y_later[..., : t + 1])


@settings(max_examples=examples(60), **SETTINGS)
@given(causal_cases())
def test_stream_in_chunks_equals_the_whole_sequence(case):
    x, w, b, d, groups, cuts = case
    state, parts = None, []
    for lo, hi in zip([0, *cuts], [*cuts, x.shape[-1]]):
        y, state = conv1d_stream(x[..., lo:hi], w, b, state=state, dilation=d, groups=groups)
        parts.append(y)
    whole = torch_causal(x, w, b, d, groups)
    np.testing.assert_allclose(np.concatenate(parts, -1), whole, rtol=1e-10, atol=1e-10)
    keep = causal_padding(w.shape[-1], d)
    assert state.shape == (x.shape[0], x.shape[1], keep)
    if keep <= x.shape[-1]:
        np.testing.assert_array_equal(state, x[..., x.shape[-1] - keep:])


def test_stream_on_torch_tensors_keeps_autograd():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 20, dtype=torch.float64)
    w = torch.randn(4, 1, 4, dtype=torch.float64, requires_grad=True)  # Mamba-like depthwise
    y1, s = conv1d_stream(x[..., :7], w, groups=4)
    y2, s = conv1d_stream(x[..., 7:], w, state=s, groups=4)
    whole = F.conv1d(F.pad(x, (3, 0)), w, groups=4)
    torch.testing.assert_close(torch.cat([y1, y2], -1), whole)
    torch.cat([y1, y2], -1).sum().backward()
    assert w.grad is not None and w.grad.shape == w.shape


def test_causal_padding_values():
    assert [causal_padding(k, d) for k, d in [(1, 1), (2, 1), (4, 1), (2, 16), (3, 4)]] == [
        0, 1, 3, 16, 8]


def test_bad_input_names_the_argument():
    x, w = np.zeros((1, 2, 5)), np.zeros((3, 2, 3))
    with pytest.raises(ValueError, match="kernel_size"):
        causal_padding(0)
    with pytest.raises(ValueError, match="dilation"):
        causal_padding(3, 0)
    with pytest.raises(ValueError, match=r"input must be 3-D"):
        causal_conv1d(np.zeros((2, 5)), w)
    with pytest.raises(ValueError, match=r"input has 2 channels .* expects 4"):
        causal_conv1d(x, np.zeros((3, 2, 3)), groups=2)
    with pytest.raises(ValueError, match=r"state must have shape \(1, 2, 2\)"):
        conv1d_stream(x, w, state=np.zeros((1, 2, 3)))
    with pytest.raises(TypeError):
        conv1d_stream(x, w, state=torch.zeros(1, 2, 2, dtype=torch.float64))
