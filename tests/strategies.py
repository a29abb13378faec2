"""The hypothesis strategies of the test suite, and its settings profiles, in one place.

Profiles (``tests/conftest.py`` loads the one named by ``HYPOTHESIS_PROFILE``):

``ci`` (the default; ``make test`` and ``make unit``)
    Derandomized: every run draws the same examples, so a failure is reproducible and a
    green run stays green. No example database, no deadline (the shared machines are
    noisy), and ``print_blob`` so a failure prints the line that replays it.
``explore`` (``make test-explore`` or ``HYPOTHESIS_PROFILE=explore``)
    Random draws and ten times the examples, for hunting new failures locally. Add what
    it finds as an explicit ``@example`` or a fixed test.

Tests ask for ``examples(n)``: ``n`` under ``ci``, more under ``explore``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

__all__ = [
    "PROFILE",
    "SETTINGS",
    "examples",
    "conv_cases",
    "transpose_cases",
    "unfold_cases",
    "matrix_cases",
    "pool_cases",
    "adaptive_cases",
    "lora_configs",
    "conv_layers",
    "pool_out_size",
    "every_window_sees_input",
]

MODES = ("zeros", "reflect", "replicate", "circular")

settings.register_profile(
    "ci",
    derandomize=True,
    print_blob=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    deadline=None,
    print_blob=True,
    max_examples=1000,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "explore"):
    raise ValueError(f"HYPOTHESIS_PROFILE must be 'ci' or 'explore', got {PROFILE!r}")
settings.load_profile(PROFILE)

# what the tests pass to @settings besides max_examples (the profile gives the rest)
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def examples(n: int) -> int:
    """``max_examples`` for a test that runs ``n`` examples in CI: ten times more when
    exploring."""
    return n * 10 if PROFILE == "explore" else n


# --- convolution -------------------------------------------------------------------------


@st.composite
def conv_cases(draw, nd, *, unit_stride_often=False, empty_batch=False):
    """A valid convolution: tiny shapes, every option, and a seed for the values.

    ``unit_stride_often`` draws stride 1 half of the time (the backward pass takes its
    transposed-convolution reading there, and ``padding="same"`` needs it).
    ``empty_batch`` lets the batch size be 0 now and then.
    """
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    unit = unit_stride_often and draw(st.booleans())
    stride = tuple(1 if unit else draw(st.integers(1, 3)) for _ in range(nd))
    mode = draw(st.sampled_from(MODES))
    choice = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    if choice == "same" and any(s != 1 for s in stride):
        choice = "int"
    if choice == "int":
        padding = draw(st.integers(0, 2))
        pads = (padding,) * nd
    elif choice == "tuple":
        padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
        pads = padding
    elif choice == "same":
        padding = "same"
        pads = tuple(d * (k - 1) - d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    else:
        padding, pads = "valid", (0,) * nd
    top = 7 if nd < 3 else 5
    # big enough for the kernel, and for reflect padding (pad < size)
    spatial = tuple(
        draw(st.integers(max(d * (k - 1) + 1 - 2 * p, p + 1), top + p))
        for k, d, p in zip(kernel, dilation, pads)
    )
    return dict(
        n=draw(st.integers(0 if empty_batch else 1, 2)), c_in=c_in, c_out=c_out,
        spatial=spatial, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
        groups=groups, padding_mode=mode, bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@st.composite
def conv_layers(draw, max_layers=4):
    """A stack of 1-D layers ``(kernel_size, stride, dilation)``, first layer first."""
    layer = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 2))
    return draw(st.lists(layer, min_size=1, max_size=max_layers))


def pool_out_size(n, k, s, p, d, ceil_mode):
    """torch's pooling output size, written out independently of convlib."""
    span = d * (k - 1) + 1
    if ceil_mode:
        out = -(-(n + 2 * p - span) // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
        return out
    return (n + 2 * p - span) // s + 1


def every_window_sees_input(n, k, s, p, d, out):
    return all(any(0 <= o * s - p + d * j < n for j in range(k)) for o in range(out))


@st.composite
def pool_cases(draw, nd, kind):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if kind == "max" else (1,) * nd
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    pads = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    ceil_mode = draw(st.booleans())
    top = 7 if nd < 3 else 5
    # torch's avg_pool3d wants the kernel to fit the unpadded input
    fit = kind == "avg" and nd == 3
    spatial = tuple(
        draw(st.integers(k if fit else max(d * (k - 1) + 1 - 2 * p, 1), top))
        for k, d, p in zip(kernel, dilation, pads)
    )
    outs = [pool_out_size(*a, ceil_mode) for a in zip(spatial, kernel, stride, pads, dilation)]
    assume(all(
        every_window_sees_input(*a) for a in zip(spatial, kernel, stride, pads, dilation, outs)
    ))
    batched = draw(st.booleans())
    lead = (draw(st.integers(1, 2)),) if batched else ()
    shape = lead + (draw(st.integers(1, 2)),) + spatial
    # ints and tuples alike, stride sometimes left to its default (the kernel size)
    as_arg = draw(st.sampled_from(["tuple", "int"]))

    def arg(values):
        return values[0] if as_arg == "int" and len(set(values)) == 1 else values

    case = dict(
        shape=shape, kernel_size=arg(kernel), stride=arg(stride), padding=arg(pads),
        ceil_mode=ceil_mode, values=draw(st.sampled_from(["normal", "ties", "special"])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    if draw(st.booleans()) and stride == kernel:
        case["stride"] = None
    if kind == "max":
        case["dilation"] = arg(dilation)
    else:
        case["count_include_pad"] = draw(st.booleans())
        if nd > 1 and draw(st.booleans()):
            case["divisor_override"] = draw(st.integers(1, 5))
    return case


@st.composite
def adaptive_cases(draw, nd):
    top = 7 if nd < 3 else 5
    spatial = tuple(draw(st.integers(1, top)) for _ in range(nd))
    # smaller, equal and larger than the input, and None (keep that size)
    out = tuple(draw(st.one_of(st.integers(1, n + 2), st.none())) for n in spatial)
    if nd == 1:
        out = out[0] or 1
    elif draw(st.booleans()) and len({o for o in out}) == 1 and out[0] is not None:
        out = out[0]
    batched = draw(st.booleans())
    lead = (draw(st.integers(1, 2)),) if batched else ()
    shape = lead + (draw(st.integers(1, 2)),) + spatial
    return dict(shape=shape, output_size=out,
                values=draw(st.sampled_from(["normal", "ties", "special"])),
                seed=draw(st.integers(0, 2**32 - 1)))


@st.composite
def transpose_cases(draw, nd):
    groups = draw(st.integers(1, 3))
    c_in, out_g = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    top = 5 if nd < 3 else 3
    size = tuple(draw(st.integers(1, top)) for _ in range(nd))
    # keep the output non-empty: padding at most what the uncropped extent allows
    padding = tuple(
        draw(st.integers(0, min(2, ((n - 1) * s + d * (k - 1)) // 2)))
        for n, s, d, k in zip(size, stride, dilation, kernel)
    )
    return dict(
        n=draw(st.integers(1, 2)), c_in=c_in, c_out=groups * out_g, size=size, kernel=kernel,
        stride=stride, padding=padding, output_padding=output_padding, groups=groups,
        dilation=dilation, bias=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)),
    )


@st.composite
def unfold_cases(draw):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    size = tuple(
        draw(st.integers(max(d * (k - 1) + 1 - 2 * p, 1), 7))
        for k, d, p in zip(kernel, dilation, padding)
    )
    # ints half of the time, to exercise both spellings
    as_int = draw(st.booleans()) and len(set(kernel)) == 1
    return dict(
        n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)), size=size,
        kernel=kernel[0] if as_int else kernel, stride=stride, padding=padding,
        dilation=dilation, batched=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)),
    )


@st.composite
def matrix_cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    if all(s == 1 for s in stride) and draw(st.booleans()):
        padding, pads = "same", tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    else:
        padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
        pads = padding
    top = 6 if nd < 3 else 4
    lows = [max(d * (k - 1) + 1 - 2 * p, 1) for k, d, p in zip(kernel, dilation, pads)]
    size = tuple(draw(st.integers(lo, max(lo, top))) for lo in lows)
    return dict(nd=nd, groups=groups, c_in=c_in, c_out=c_out, kernel=kernel, size=size,
                stride=stride, padding=padding, dilation=dilation,
                lead=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)))


@st.composite
def lora_configs(draw, allow_groups=True):
    groups = draw(st.sampled_from([1, 2] if allow_groups else [1]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.integers(1, 2))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.integers(0, 2))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    bias = draw(st.booleans())
    full_rank = min(c_out, (c_in // groups) * k[0] * k[1])
    rank = draw(st.integers(1, full_rank))
    alpha = draw(st.sampled_from([0.5, 1.0, 8.0]))
    seed = draw(st.integers(0, 2**16))
    return dict(
        conv=dict(
            in_channels=c_in, out_channels=c_out, kernel_size=k, stride=stride, padding=padding,
            dilation=dilation, groups=groups, bias=bias, padding_mode=mode,
        ),
        rank=rank, alpha=alpha, seed=seed,
    )  # fmt: skip
