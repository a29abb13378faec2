"""The GPU-and-scale chapter's CPU timings, measured round-robin and run by two commands.

* ``python -m experiments.timing`` times four implementations of one convolution
  (:func:`conv_candidates`: convlib's NumPy im2col, convlib's torch im2col, convlib's torch
  native path and ``F.conv2d``);
* ``python -m experiments.cpu_effects`` times a small convolutional network
  (:class:`SmallCNN`) in float32, in ``channels_last`` memory format, compiled with
  ``torch.compile`` and under bf16 autocast, forward and forward + backward
  (:func:`effect_variants`).

Both use the interleaved protocol of :func:`convlib.teaching.timing.interleaved` (after
warm-up rounds, every round calls each variant once in a new shuffled order) and write one
CSV row per call (:data:`FIELDS`): its time, its round, and the machine it ran on (CPU,
cores, threads, versions, the share of the CPU other processes used during the
measurement, the load average, the date). The chapter reads the committed tables
(``experiments/results/timing.csv`` and ``cpu_effects.csv``) and computes every ratio and
verdict from them.

>>> fns = conv_candidates(*conv_inputs())
>>> list(fns)[-1]
'torch F.conv2d'
>>> sorted(effect_variants("forward", compile_=False))
['bf16 autocast', 'channels_last', 'float32']
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._machine import cores, cpu_model, load_end, load_start
from ..teaching.timing import interleaved

__all__ = ["FIELDS", "SHAPE_X", "SHAPE_W", "PASSES", "conv_inputs", "conv_candidates",
           "SmallCNN", "effect_inputs", "effect_variants", "bf16_error", "measure",
           "timing_rows", "effects_rows", "read_table", "times"]

FIELDS = ["experiment", "pass", "round", "position", "implementation", "seconds",
          "others_percent", "loadavg", "cpu", "cores", "threads", "torch", "date"]
"""One row per timed call."""

SHAPE_X, SHAPE_W = (16, 32, 32, 32), (64, 32, 3, 3)
"""The convolution the four implementations compute (input, weight; padding 1)."""
EFFECT_BATCH = (32, 3, 32, 32)
"""The small network's input batch."""
PASSES = ("forward", "forward+backward")


def conv_inputs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """float32 input and weight of :data:`SHAPE_X` and :data:`SHAPE_W`."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(SHAPE_X, dtype=np.float32),
            rng.standard_normal(SHAPE_W, dtype=np.float32))


def conv_candidates(xn: np.ndarray, wn: np.ndarray) -> dict[str, Callable[[], Any]]:
    """Four implementations of the same convolution (padding 1), as zero-argument calls."""
    import convlib

    xt, wt = torch.from_numpy(xn), torch.from_numpy(wn)
    return {
        "convlib NumPy, im2col": lambda: convlib.conv2d(xn, wn, padding=1, method="im2col"),
        "convlib torch, im2col": lambda: convlib.conv2d(xt, wt, padding=1, method="im2col"),
        "convlib torch, native": lambda: convlib.conv2d(xt, wt, padding=1),
        "torch F.conv2d": lambda: F.conv2d(xt, wt, padding=1),
    }


class SmallCNN(nn.Module):
    """Three 3x3 convolutions with batch norm and ReLU (32, 64, 128 channels, the last two
    with stride 2), global average pooling and a linear layer to 10 classes.

    >>> SmallCNN()(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out, stride in ((3, 32, 1), (32, 64, 2), (64, 128, 2)):
            layers += [nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
                       nn.BatchNorm2d(c_out), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def effect_inputs(seed: int = 0) -> tuple[SmallCNN, torch.Tensor, torch.Tensor]:
    """The seeded network, an input batch of :data:`EFFECT_BATCH` and its labels."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = SmallCNN()
    x = torch.randn(*EFFECT_BATCH, generator=g)
    y = torch.randint(0, 10, (EFFECT_BATCH[0],), generator=g)
    return model, x, y


def effect_variants(pass_: str, seed: int = 0, compile_: bool = True
                    ) -> dict[str, Callable[[], Any]]:
    """The network's ``pass_`` (``"forward"``: inference, eval mode, no gradients;
    ``"forward+backward"``: a training step's loss and gradients) in float32, in
    ``channels_last`` memory format, compiled by ``torch.compile`` (unless ``compile_``
    is false) and under bf16 autocast. Every variant has its own copy of the same weights.
    """
    if pass_ not in PASSES:
        raise ValueError(f"pass_ must be one of {PASSES}, got {pass_!r}")
    model, x, y = effect_inputs(seed)
    model.train(pass_ != "forward")
    last = torch.channels_last
    nets = {"float32": (copy.deepcopy(model), x, False),
            "channels_last": (copy.deepcopy(model).to(memory_format=last),
                              x.contiguous(memory_format=last), False),
            "bf16 autocast": (copy.deepcopy(model), x, True)}
    if compile_:
        nets["torch.compile"] = (torch.compile(copy.deepcopy(model)), x, False)

    def call(net: nn.Module, inp: torch.Tensor, bf16: bool) -> Callable[[], Any]:
        def run() -> Any:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                if pass_ == "forward":
                    with torch.no_grad():
                        return net(inp)
                out = net(inp)
            net.zero_grad(set_to_none=True)
            F.cross_entropy(out.float(), y).backward()
            return out
        return run

    return {name: call(*args) for name, args in nets.items()}


def bf16_error(seed: int = 0) -> float:
    """Largest difference between the network's forward pass under bf16 autocast and in
    float32 (eval mode), relative to the largest float32 output.

    >>> 0 < bf16_error() < 0.1
    True
    """
    model, x, _ = effect_inputs(seed)
    model.eval()
    with torch.no_grad():
        exact = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(x).float()
    return float((low - exact).abs().max() / exact.abs().max())


def measure(experiment: str, pass_: str, fns: Mapping[str, Callable[[], Any]],
            rounds: int, warmup: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Time ``fns`` round-robin (:func:`~convlib.teaching.timing.interleaved`) and yield
    one row of :data:`FIELDS` per timed call, with the machine's load over the whole
    measurement."""
    load = load_start()
    measured = list(interleaved(fns, rounds, warmup, seed))
    load = load_end(load)
    machine = {"others_percent": load.others_percent,
               "loadavg": load.loadavg_end[0] if load.loadavg_end else "",
               "cpu": cpu_model(), "cores": cores(), "threads": torch.get_num_threads(),
               "torch": torch.__version__,
               "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    for r, round_times in enumerate(measured):
        for position, (name, seconds) in enumerate(round_times.items()):
            yield {"experiment": experiment, "pass": pass_, "round": r,
                   "position": position, "implementation": name, "seconds": seconds,
                   **machine}


def timing_rows(rounds: int = 300, warmup: int = 10) -> Iterator[dict[str, Any]]:
    """The four convolutions of :func:`conv_candidates`, ``rounds`` interleaved rounds."""
    fns = conv_candidates(*conv_inputs())
    yield from measure("conv", "forward", fns, rounds, warmup)


def effects_rows(rounds: int = 150, warmup: int = 5, compile_: bool = True
                 ) -> Iterator[dict[str, Any]]:
    """The network's variants (:func:`effect_variants`), forward, then forward + backward,
    ``rounds`` interleaved rounds each."""
    for pass_ in PASSES:
        yield from measure("effects", pass_, effect_variants(pass_, compile_=compile_),
                           rounds, warmup)


def read_table(path: Path | str) -> list[dict[str, Any]]:
    """A table written by :func:`measure`, numbers converted."""
    ints, floats = {"round", "position", "cores", "threads"}, {"seconds", "others_percent",
                                                               "loadavg"}
    with open(path, newline="") as f:
        return [{k: int(v) if k in ints else float(v) if k in floats and v else v
                 for k, v in row.items()} for row in csv.DictReader(f)]


def times(table: list[dict[str, Any]], pass_: str = "forward") -> dict[str, np.ndarray]:
    """Seconds per call of every implementation in ``pass_``, indexed by round (so that
    position ``i`` of two arrays comes from the same round).

    >>> rows = [{"pass": "forward", "round": r, "implementation": n, "seconds": s}
    ...         for r, n, s in [(1, "a", 2.0), (0, "a", 1.0), (0, "b", 3.0), (1, "b", 4.0)]]
    >>> {k: v.tolist() for k, v in times(rows).items()}
    {'a': [1.0, 2.0], 'b': [3.0, 4.0]}
    """
    out: dict[str, dict[int, float]] = {}
    for row in table:
        if row["pass"] == pass_:
            out.setdefault(row["implementation"], {})[int(row["round"])] = row["seconds"]
    rounds = sorted(next(iter(out.values()))) if out else []
    if any(sorted(v) != rounds for v in out.values()):
        raise ValueError(f"the implementations of {pass_!r} were not timed in the same "
                         "rounds")
    return {name: np.array([v[r] for r in rounds]) for name, v in out.items()}
