"""pad against F.pad; output_size, same_padding and receptive_field against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from strategies import conv_layers, examples

import convlib

MODES = ["constant", "reflect", "replicate", "circular"]


@settings(max_examples=examples(300))
@given(
    mode=st.sampled_from(MODES),
    dims=st.integers(1, 3),
    data=st.data(),
)
def test_pad_matches_torch(mode, dims, data):
    # torch pads k trailing dims of a (k+1)- or (k+2)-D input in non-constant modes
    lead = data.draw(st.integers(1, 2))
    shape = tuple(data.draw(st.integers(2, 5)) for _ in range(lead + dims))
    limit = {"reflect": 1, "circular": 0, "replicate": 0, "constant": 0}[mode]
    amounts = []
    for size in reversed(shape[-dims:]):
        hi = size - limit if mode in ("reflect", "circular") else 4
        amounts += [data.draw(st.integers(0, hi)), data.draw(st.integers(0, hi))]
    x = np.random.default_rng(0).normal(size=shape)
    value = data.draw(st.floats(-2, 2)) if mode == "constant" else 0.0
    got = convlib.pad(x, tuple(amounts), mode=mode, value=value)
    expected = F.pad(torch.from_numpy(x), tuple(amounts), mode=mode, value=value).numpy()
    np.testing.assert_array_equal(got, expected)
    # the torch path answers in torch
    t = convlib.pad(torch.from_numpy(x), tuple(amounts), mode=mode, value=value)
    assert isinstance(t, torch.Tensor)
    np.testing.assert_array_equal(t.numpy(), expected)


@settings(max_examples=examples(300))
@given(mode=st.sampled_from(MODES), dims=st.integers(1, 3), data=st.data())
def test_negative_pad_crops_like_torch(mode, dims, data):
    """Negative amounts crop, in every mode, as F.pad does; what F.pad refuses, pad refuses."""
    lead = data.draw(st.integers(1, 2))
    shape = tuple(data.draw(st.integers(1, 5)) for _ in range(lead + dims))
    amounts = []
    for size in reversed(shape[-dims:]):
        amounts += [data.draw(st.integers(-size - 1, size)) for _ in range(2)]
    x = np.random.default_rng(0).normal(size=shape)
    pairs = list(zip(amounts[::2], amounts[1::2]))
    cropped = [n + min(lo, 0) + min(hi, 0) for n, (lo, hi) in zip(reversed(shape), pairs)]
    if mode == "circular" and any(max(lo, hi) > c for (lo, hi), c in zip(pairs, cropped)):
        # F.pad reads memory it never wrote here (or refuses): convlib refuses
        with pytest.raises(ValueError, match="circular padding|crops"):
            convlib.pad(x, tuple(amounts), mode=mode)
        return
    try:
        expected = F.pad(torch.from_numpy(x), tuple(amounts), mode=mode).numpy()
    except (RuntimeError, ValueError):
        with pytest.raises(ValueError, match=r"pad \(|padding of"):
            convlib.pad(x, tuple(amounts), mode=mode)
        return
    np.testing.assert_array_equal(convlib.pad(x, tuple(amounts), mode=mode), expected)
    t = convlib.pad(torch.from_numpy(x), tuple(amounts), mode=mode)
    np.testing.assert_array_equal(t.numpy(), expected)


@settings(max_examples=examples(100))
@given(st.lists(st.integers(-2, 3), min_size=2, max_size=4).filter(lambda p: len(p) % 2 == 0))
def test_negative_constant_pad_crops_like_torch(amounts):
    x = np.arange(5 * 6, dtype=float).reshape(1, 5, 6)
    got = convlib.pad(x, tuple(amounts))
    expected = F.pad(torch.from_numpy(x), tuple(amounts)).numpy()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (((1, 2, 3),), "even length"),
        (((1, 1, 1, 1, 1, 1, 1, 1),), "pads 4 dimensions but input is only 3-D"),
        (((1, 1), "mirror"), "mode must be one of"),
        (((3, 3), "reflect"), "reflect padding of 3 needs dimension 2 larger"),
        (((4, 0), "circular"), "circular padding of 4"),
        (((-4, 0), "constant"), r"crops 4 elements from dimension 2 .* has only 3"),
        (((-3, 0), "replicate"), r"leaves the padded dimensions .* with sizes \(0,\)"),
        (((-2, 2), "circular"), r"circular padding of 2 .* after cropping \(1 of 3"),
        (((1, 1), "replicate", 0.0, (1, 2, 0)), "non-zero sizes in the padded dimensions"),
    ],
)
def test_pad_bad_input(args, match):
    shape = args[3] if len(args) > 3 else (1, 2, 3)
    with pytest.raises(ValueError, match=match):
        convlib.pad(np.zeros(shape), *args[:3])


def test_pad_rejects_non_integer_amounts():
    with pytest.raises(TypeError, match="pad must be a sequence of ints"):
        convlib.pad(np.zeros((2, 2)), (1.5, 1))


@settings(max_examples=examples(400))
@given(
    n=st.integers(1, 30),
    k=st.integers(1, 6),
    s=st.integers(1, 4),
    p=st.integers(0, 3),
    d=st.integers(1, 3),
)
def test_output_size_conv_matches_torch(n, k, s, p, d):
    if n + 2 * p < d * (k - 1) + 1:
        with pytest.raises(ValueError, match="larger than the padded input"):
            convlib.output_size(n, k, s, p, d)
        return
    y = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    assert convlib.output_size(n, k, s, p, d) == y.shape[-1]
    assert convlib.output_size((n, n), k, s, p, d) == (y.shape[-1], y.shape[-1])


@settings(max_examples=examples(400))
@given(
    n=st.integers(1, 30),
    k=st.integers(1, 6),
    s=st.integers(1, 4),
    d=st.integers(1, 2),
    ceil_mode=st.booleans(),
    data=st.data(),
)
def test_output_size_pool_matches_torch(n, k, s, d, ceil_mode, data):
    p = data.draw(st.integers(0, k // 2))
    assume(n + 2 * p >= d * (k - 1) + 1)  # torch refuses the rest (tested below)
    y = F.max_pool1d(torch.zeros(1, 1, n), k, s, p, d, ceil_mode=ceil_mode)
    got = convlib.output_size(n, k, s, p, d, kind="pool", ceil_mode=ceil_mode)
    assert got == y.shape[-1]


@settings(max_examples=examples(300))
@given(
    n=st.integers(1, 12),
    k=st.integers(1, 5),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    data=st.data(),
)
def test_output_size_transpose_matches_torch(n, k, s, d, data):
    p = data.draw(st.integers(0, d * (k - 1)))
    op = data.draw(st.integers(0, max(s, d) - 1))
    expected = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if expected < 1:  # torch refuses too
        with pytest.raises(ValueError, match="output would be"):
            convlib.output_size(n, k, s, p, d, kind="transpose", output_padding=op)
        return
    y = F.conv_transpose1d(
        torch.zeros(1, 1, n),
        torch.zeros(1, 1, k),
        stride=s,
        padding=p,
        output_padding=op,
        dilation=d,
    )
    assert y.shape[-1] == expected
    got = convlib.output_size(n, k, s, p, d, kind="transpose", output_padding=op)
    assert got == y.shape[-1]


@settings(max_examples=examples(200))
@given(n=st.integers(8, 30), k=st.integers(1, 7), d=st.integers(1, 3))
def test_same_padding_keeps_size_like_torch_same(n, k, d):
    lo, hi = convlib.same_padding(k, dilation=d)
    x = torch.arange(float(n)).reshape(1, 1, n)
    w = torch.arange(1.0, k + 1).reshape(1, 1, k)
    expected = F.conv1d(x, w, padding="same", dilation=d)
    ours = F.conv1d(F.pad(x, (lo, hi)), w, dilation=d)
    torch.testing.assert_close(ours, expected)


@settings(max_examples=examples(100))
@given(n=st.integers(5, 40), k=st.integers(1, 7), s=st.integers(2, 4))
def test_same_padding_strided_gives_ceil(n, k, s):
    lo, hi = convlib.same_padding(k, stride=s, input_size=n)
    assert 0 <= hi - lo <= 1
    assert convlib.output_size(n + lo + hi, k, s) == -(-n // s)


def _receptive_field_by_autograd(layers):
    """Input pixels that reach one output pixel, found by backpropagating through ones.

    The input is sized from the last layer backwards (each layer needs
    ``(out - 1) * s + d * (k - 1) + 1`` inputs for ``out`` outputs), for three outputs at
    the end, so the middle one is an interior pixel whatever layers are drawn.
    """
    size = 3
    for k, s, d in reversed(layers):
        size = (size - 1) * s + d * (k - 1) + 1
    x = torch.zeros(1, 1, size, requires_grad=True)
    y = x
    for k, s, d in layers:
        y = F.conv1d(y, torch.ones(1, 1, k), stride=s, dilation=d)
    assert y.shape[-1] == 3
    y[0, 0, 1].backward()
    touched = torch.nonzero(x.grad[0, 0]).flatten()
    return int(touched.max() - touched.min() + 1)


@settings(max_examples=examples(60))
@example([(1, 3, 1), (1, 3, 1), (1, 3, 1), (5, 1, 2)])  # once too deep for a fixed input
@given(conv_layers())
def test_receptive_field_matches_autograd(layers):
    rf = convlib.receptive_field(layers)
    assert rf.size == _receptive_field_by_autograd(layers)
    assert rf.jump == int(np.prod([s for _, s, _ in layers]))


def test_receptive_field_accepts_dicts():
    layers = [
        {"kernel_size": 3},
        {"kernel_size": 3, "stride": 2},
        {"kernel_size": 3, "dilation": 2},
    ]
    assert convlib.receptive_field(layers) == convlib.receptive_field([(3, 1), (3, 2), (3, 1, 2)])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: convlib.output_size(10, 3, stride=0), ValueError, "stride must be positive"),
        (lambda: convlib.output_size(10, 3, padding=-1), ValueError, "padding must be >= 0"),
        (lambda: convlib.output_size(10, 3, kind="deconv"), ValueError, "kind must be"),
        (lambda: convlib.output_size(10, 3, ceil_mode=True), ValueError, "only to kind='pool'"),
        (lambda: convlib.output_size(10, 3, 2, "same"), ValueError,
         r"padding='same' is not supported for strided convolutions \(stride=\(2,\)\)"),
        (lambda: convlib.output_size((10, 10), (3, 3, 3)), ValueError, "one per spatial"),
        (lambda: convlib.output_size(10, 2.5), TypeError, "kernel_size must be an int"),
        (
            lambda: convlib.output_size(4, 3, 2, kind="transpose", output_padding=2),
            ValueError,
            r"output_padding \(2,\) must be smaller",
        ),
        (lambda: convlib.same_padding(3, stride=2), ValueError, "needs input_size"),
        (lambda: convlib.receptive_field([(3, 1, 1, 1)]), ValueError, "layer 0 must be"),
    ],
)
def test_arithmetic_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
