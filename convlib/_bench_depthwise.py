"""``python -m convlib.bench --depthwise``: convlib's depthwise layers against the grouped
gemm and torch, on EfficientNet-Lite0's depthwise layers.

Every depthwise layer of the network at a 224x224 input (3x3 and 5x5 kernels, stride 1
and 2, TensorFlow's "same" padding, 32 to 1152 channels), at batch 1 and 8, float32. Per
layer, five candidates run on the same arrays: the depthwise kernel's two algorithms
forced (``shifted``: shifted sums; ``banded``: banded products, see
:mod:`convlib._depthwise`), the grouped ``gemm`` and ``fft`` methods, and
``torch.nn.functional.conv2d(groups=C)`` (on an input padded beforehand, so torch is not
charged for the padding). All are checked against torch first. The repeats are
*interleaved*: each round calls every candidate once (a few calls if one is short), so
whatever load the machine carries hits all of them alike; the table gives medians.

Each row also says what convlib runs: the algorithm the depthwise kernel picks
(:func:`convlib._depthwise.banded_pays`), what ``method="auto"`` picks
(:func:`convlib.choose_conv_method`), and whether that pick was the fastest of convlib's
four in this run (``yes``), or not but within the spread of the repeats (``tie``: the
quartile ranges overlap), or clearly not (``no``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._machine import cores

__all__ = ["LITE0_INPUT", "lite0_depthwise_layers", "DepthwiseRow", "depthwise_rows",
           "format_depthwise"]

LITE0_INPUT = 224
CANDIDATES = ("shifted", "banded", "gemm", "fft", "torch")
CONVLIB = CANDIDATES[:4]


def lite0_depthwise_layers(size: int = LITE0_INPUT) -> list[tuple[int, int, int, int]]:
    """The distinct depthwise layers of EfficientNet-Lite0 at a ``size`` x ``size``
    input: ``(channels, input size, kernel, stride)``, in network order.

    >>> lite0_depthwise_layers()[:3]
    [(32, 112, 3, 1), (96, 112, 3, 2), (144, 56, 3, 1)]
    >>> len(lite0_depthwise_layers())
    12
    """
    from .models.efficientnet import STAGES

    layers: list[tuple[int, int, int, int]] = []
    c_in, size = 32, -(-size // 2)  # after the stem: 32 channels, stride 2
    for repeats, kernel, stride, expand, c_out in STAGES:
        for r in range(repeats):
            s = stride if r == 0 else 1
            layer = (c_in * expand, size, kernel, s)
            if layer not in layers:
                layers.append(layer)
            size, c_in = -(-size // s), c_out
    return layers


@dataclass
class DepthwiseRow:
    channels: int
    size: int
    kernel: int
    stride: int
    batch: int
    ms: dict[str, float]  # median per candidate
    quartiles: dict[str, tuple[float, float]]
    depthwise_algorithm: str  # what the depthwise kernel runs: "banded" or "shifted"
    auto: str  # what method="auto" runs: "depthwise", "gemm" or "fft"
    auto_verdict: str  # "yes", "tie", "no": auto's pick the fastest of convlib's
    max_abs_error: float


def _pads(size: int, kernel: int, stride: int) -> tuple[tuple[int, int], tuple[int, int]]:
    from .models.efficientnet_numpy import same_padding

    pad = same_padding(size, kernel, stride)
    return pad, pad


def depthwise_rows(batches=(1, 8), repeat: int = 7, quick: bool = False,
                   threads: int | None = None) -> list[DepthwiseRow]:
    """Time every candidate on every layer (see the module docstring); ``quick`` takes
    three small layers and two repeats, a check of the plumbing."""
    import torch

    torch.set_num_threads(threads or cores())
    layers = lite0_depthwise_layers()
    if quick:
        layers, batches, repeat = [(8, 14, 3, 1), (8, 14, 5, 2), (8, 40, 3, 1)], (1,), 2
    rng = np.random.default_rng(0)
    return [_time_layer(rng, n, *layer, repeat) for layer in layers for n in batches]


def _time_layer(rng, n: int, c: int, size: int, k: int, s: int,
                repeat: int) -> DepthwiseRow:
    import torch
    import torch.nn.functional as F

    from . import _depthwise as D
    from . import _windows as W
    from .conv import _conv_fft, _conv_gemm, choose_conv_method
    from .teaching.timing import spread, time_per_call

    x = rng.standard_normal((n, c, size, size), dtype=np.float32)
    w = rng.standard_normal((c, 1, k, k), dtype=np.float32)
    pad = _pads(size, k, s)
    shape = (n, c, *W.window_counts((size, size), (k, k), (s, s), (1, 1), pad))
    xt = F.pad(torch.from_numpy(x), (*pad[1], *pad[0]))
    wt = torch.from_numpy(w)

    def run(kernel):
        out = np.empty(shape, np.float32)
        if kernel in (_conv_gemm, _conv_fft):
            kernel(x, w, (s, s), (1, 1), c, out, pad)
        else:
            kernel(x, w, (s, s), pad, (1, 1), out)
        return out

    fns = {
        "shifted": lambda: run(D._flat),
        "banded": lambda: run(D._banded),
        "gemm": lambda: run(_conv_gemm),
        "fft": lambda: run(_conv_fft),
        "torch": lambda: F.conv2d(xt, wt, stride=s, groups=c),
    }
    ref = fns["torch"]().numpy()
    err = max(float(np.abs(fns[m]() - ref).max()) for m in CONVLIB)
    samples: dict[str, list[float]] = {m: [] for m in CANDIDATES}
    with torch.no_grad():
        for _ in range(repeat):  # interleaved: one round calls every candidate
            for m in CANDIDATES:
                samples[m] += time_per_call(fns[m], repeat=1, budget=0.01).tolist()
    spreads = {m: spread(samples[m]) for m in CANDIDATES}
    algorithm = "banded" if D.banded_pays(x.shape, w.shape) else "shifted"
    auto = choose_conv_method(x, w, stride=s, padding=k // 2, groups=c)
    pick = algorithm if auto == "depthwise" else auto
    best_other = min((m for m in CONVLIB if m != pick), key=lambda m: spreads[m].median)
    if spreads[pick].median <= spreads[best_other].median:
        verdict = "yes"
    elif spreads[pick].low <= spreads[best_other].high:
        verdict = "tie"
    else:
        verdict = "no"
    return DepthwiseRow(
        channels=c, size=size, kernel=k, stride=s, batch=n,
        ms={m: 1e3 * spreads[m].median for m in CANDIDATES},
        quartiles={m: (1e3 * spreads[m].low, 1e3 * spreads[m].high) for m in CANDIDATES},
        depthwise_algorithm=algorithm, auto=auto, auto_verdict=verdict, max_abs_error=err)


def format_depthwise(rows: list[DepthwiseRow]) -> str:
    """The rows as a Markdown table, then how often ``method="auto"`` picked the fastest.

    >>> row = DepthwiseRow(8, 14, 3, 1, 1, dict(shifted=2.0, banded=1.0, gemm=3.0,
    ...                    fft=9.0, torch=0.5), {}, "banded", "depthwise", "yes", 0.0)
    >>> format_depthwise([row]).splitlines()[2].split(" | ")[5:]
    ['2.00', '1.00', '3.00', '9.00', '0.50', 'banded', 'depthwise', 'yes', '3.00x', '0.50x |']
    """
    lines = [
        "| channels | input | kernel | stride | batch | shifted ms | banded ms | gemm ms "
        "| fft ms | torch ms | depthwise runs | auto runs | auto fastest "
        "| gemm / depthwise | torch / depthwise |",
        "|" + "---|" * 15,
    ]
    for r in rows:
        dw = r.ms[r.depthwise_algorithm]
        lines.append(
            f"| {r.channels} | {r.size}x{r.size} | {r.kernel}x{r.kernel} | {r.stride} | "
            f"{r.batch} | " + " | ".join(f"{r.ms[m]:.2f}" for m in CANDIDATES) +
            f" | {r.depthwise_algorithm} | {r.auto} | {r.auto_verdict} | "
            f"{r.ms['gemm'] / dw:.2f}x | {r.ms['torch'] / dw:.2f}x |")
    verdicts = [r.auto_verdict for r in rows]
    totals = {m: sum(r.ms[m] for r in rows) for m in CANDIDATES}
    auto_total = sum(r.ms[r.depthwise_algorithm if r.auto == "depthwise" else r.auto]
                     for r in rows)
    lines += ["", f"method=\"auto\" picked the fastest of convlib's four in "
                  f"{verdicts.count('yes')} of {len(rows)} rows, within the repeats' "
                  f"spread in {verdicts.count('tie')}, clearly not in "
                  f"{verdicts.count('no')}. Summed over the rows: auto "
                  f"{auto_total:.1f} ms, "
                  + ", ".join(f"{m} {totals[m]:.1f} ms" for m in CANDIDATES) + "."]
    return "\n".join(lines)


def geometric_mean(values) -> float:
    """Geometric mean of positive values, e.g. of speed ratios.

    >>> geometric_mean([2.0, 8.0])
    4.0
    """
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summary(rows: list[DepthwiseRow]) -> dict[str, Any]:
    """Geometric means over the rows of gemm's and torch's time over the depthwise
    kernel's (above 1: the depthwise kernel is faster)."""
    return {
        "gemm_over_depthwise": geometric_mean(r.ms["gemm"] / r.ms[r.depthwise_algorithm]
                                              for r in rows),
        "torch_over_depthwise": geometric_mean(r.ms["torch"] / r.ms[r.depthwise_algorithm]
                                               for r in rows),
    }
