"""Assignment 3: im2col convolution, its speed, numerical gradients, the backward pass."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import convlib
from convlib.grading.judge import CaseTest, ProbeTest, Test
from convlib.grading.rules import forbidden_imports, timed_conv
from convlib.grading.sandbox import Limits
from convlib.grading.student import close_message

NAME = "03_fast_conv_backprop"
NOTEBOOK = "fast_conv_backprop.ipynb"
MANUAL = {}
LIMITS = Limits(hide=("scipy", "torch", "convlib"), cpu_seconds=300, total_seconds=400,
                cell_seconds=10, call_seconds=20)


def _conv_reference(x, w, b, stride=1, padding=0):
    return convlib.conv2d(x, w, b, stride=stride, padding=padding)


def _backward_reference(dout, x, w, b, stride=1, padding=0):
    return tuple(convlib.conv2d_backward(dout, x, w, stride=stride, padding=padding))


def vectorised_conv(x, w, b, stride=1, padding=0):
    """The judge's own vectorised convolution, timed against the student's."""
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))
    return out.transpose(0, 3, 1, 2) + b[None, :, None, None]


def pixel_loop_conv(x, w, b, stride=1, padding=0):
    """A loop over output pixels, as the notebook's ``conv2d_loops_reference``."""
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_h, out_w = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    out = np.zeros((N, O, out_h, out_w))
    for n in range(N):
        for o in range(O):
            for i in range(out_h):
                for j in range(out_w):
                    r, c = i * stride, j * stride
                    out[n, o, i, j] = np.sum(xp[n, :, r : r + kh, c : c + kw] * w[o]) + b[o]
    return out


def _conv_small(rng):
    g = np.random.default_rng(0)
    x, w, b = g.normal(size=(2, 3, 5, 5)), g.normal(size=(4, 3, 3, 3)), g.normal(size=4)
    return [((x, w, b), {}), ((x, w, b), {"stride": 2, "padding": 1})]


def _conv_random(rng):
    cases = []
    for _ in range(40):
        N, C, O = (int(v) for v in rng.integers(1, 4, size=3))
        H, W = (int(v) for v in rng.integers(4, 10, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, 2))
        args = (rng.normal(size=(N, C, H, W)), rng.normal(size=(O, C, kh, kw)), rng.normal(size=O))
        cases.append((args, {"stride": s, "padding": p}))
    return cases


@dataclass
class ScalingTest(Test):
    """No Python loop over output pixels: see :func:`convlib.grading.rules.scaling_test`."""

    func: str = ""
    sides: tuple[int, int] = (8, 64)
    calls: int = 4  # calls per timing, each on fresh inputs
    repeats: int = 5
    call_seconds: float = 60.0
    reference: object = None
    fast_reference: object = None
    loop_reference: object = None
    scaling: bool = field(default=True, init=False)


def numgrad(ns, arrays, params):
    """Probe: the student's numerical gradient of a known function, and x afterwards."""
    f = ns.get("numerical_gradient")
    x = arrays["x"].copy()
    if params["fn"] == "square":
        g = f(lambda v: np.sum(v ** 2), x)
    else:
        a = arrays["a"]
        g = f(lambda m: np.sum(np.sin(a @ m)), x)
    return {"gradient": g, "x_after": x}


def _numgrad_case(kind):
    def make(rng):
        if kind == "square":
            x = np.array([1.0, -2.0, 3.0])
            return {"x": x}, {"fn": "square"}, (x, 2 * x)
        a, x = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
        return {"x": x, "a": a}, {"fn": "sin_matmul"}, (x, a.T @ np.cos(a @ x))
    return make


def _numgrad_decide(arrays, scalars, context):
    x, expected = context
    if "gradient" not in arrays:
        return f"numerical_gradient returned {scalars.get('gradient', 'nothing usable')}"
    message = close_message(arrays["gradient"], expected, what="gradient")
    if message:
        return message
    if not np.array_equal(arrays.get("x_after"), x):
        return "numerical_gradient changed x: leave it as it was when you return"
    return None


def _backward_public(rng):
    g = np.random.default_rng(3)
    x, w, b = g.normal(size=(2, 3, 6, 6)), g.normal(size=(4, 3, 3, 3)), g.normal(size=4)
    return [((g.normal(size=(2, 4, 4, 4)), x, w, b), {})]


def _backward_numerical(rng):
    g = np.random.default_rng(4)
    x, w, b = g.normal(size=(1, 2, 5, 5)), g.normal(size=(3, 2, 3, 3)), g.normal(size=3)
    return [((g.normal(size=(1, 3, 3, 3)), x, w, b), {"stride": 2, "padding": 1})]


def _backward_random(rng):
    cases = []
    for _ in range(30):
        N, C, O = (int(v) for v in rng.integers(1, 4, size=3))
        H, W = (int(v) for v in rng.integers(4, 9, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, 2))
        x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(O, C, kh, kw)), rng.normal(size=O)
        out_shape = convlib.conv2d(x, w, b, stride=s, padding=p).shape
        cases.append(((rng.normal(size=out_shape), x, w, b), {"stride": s, "padding": p}))
    return cases


PROBES = [timed_conv, numgrad]
TESTS = [
    CaseTest("q1_small", "q1", 1, False, func="conv2d_im2col", cases=_conv_small,
             reference=_conv_reference),
    CaseTest("q1_random", "q1", 3, True, func="conv2d_im2col", cases=_conv_random,
             reference=_conv_reference),
    ScalingTest("q2_scaling", "q2", 2, True, func="conv2d_im2col", reference=_conv_reference,
                fast_reference=vectorised_conv, loop_reference=pixel_loop_conv),
    ProbeTest("q3_quadratic", "q3", 1, False, probe_name="numgrad",
              make=_numgrad_case("square"), decide=_numgrad_decide),
    ProbeTest("q3_matrix", "q3", 1, True, probe_name="numgrad",
              make=_numgrad_case("sin_matmul"), decide=_numgrad_decide),
    CaseTest("q4_shapes_and_bias", "q4", 1, False, func="conv2d_backward", parts=(2,),
             cases=_backward_public, reference=_backward_reference),
    CaseTest("q4_numerical", "q4", 1, False, func="conv2d_backward", parts=(0,),
             cases=_backward_numerical, reference=_backward_reference),
    CaseTest("q4_random", "q4", 3, True, func="conv2d_backward", cases=_backward_random,
             reference=_backward_reference),
]


def static_rules(cells: list[str]) -> dict[str, str]:
    found = forbidden_imports(cells, {"scipy", "torch", "convlib"})
    if found:
        return {q: f"uses {', '.join(found)} (answers must use NumPy only)"
                for q in ("q1", "q2", "q3", "q4")}
    return {}
