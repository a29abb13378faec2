"""Assignment 3: im2col convolution, its speed, numerical gradients, the backward pass."""

from __future__ import annotations

import numpy as np

import convlib
from convlib.grading.inside.student import close_message
from convlib.grading.judge import CaseTest, ProbeTest, ScalingTest, probe
from convlib.grading.rules import numpy_only
from convlib.grading.sandbox import Limits

MANUAL = {}
ANSWERS = {"q1": ("conv2d_im2col",), "q2": ("conv2d_im2col",), "q3": ("numerical_gradient",),
           "q4": ("conv2d_backward",), "q5": ("max_pool_forward", "max_pool_backward"),
           "q6": ("rel_error",), "q7": ("tiny_convnet_loss", "overfit_tiny")}
LIMITS = Limits(allow=("numpy",), hide=("convlib",), cpu_seconds=300, total_seconds=400,
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


@probe
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


# ------------------------------------------------ part 2: max pooling, a small ConvNet

X4 = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 2, 1, 1]], dtype=float)[None, None]


def _pool_cases(backward):
    def cases(rng):
        out = []
        for _ in range(20):
            k = int(rng.integers(1, 4))
            N, C, h, w = (int(v) for v in rng.integers(1, 4, size=4))
            x = rng.normal(size=(N, C, h * k, w * k))
            out.append(((rng.normal(size=(N, C, h, w)), x, k) if backward else (x, k), {}))
        return out
    return cases


def _rel_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _rel_cases(rng):
    return [((rng.normal(size=(3, 4)), rng.normal(size=(3, 4))), {}) for _ in range(5)]


@probe
def convnet_loss(ns, arrays, params):
    """Probe: the student's tiny_convnet_loss on the judge's parameters and images."""
    keys = ("W1", "b1", "W2", "b2")
    model = {k: arrays[k].copy() for k in keys}
    loss, grads = ns["tiny_convnet_loss"](model, arrays["x"].copy(), arrays["y"].copy())
    return {"loss": loss, **{f"grad/{k}": grads[k] for k in keys}}


@probe
def overfit(ns, arrays, params):
    """Probe: the parameters overfit_tiny returns on the judge's ten images."""
    p = ns["overfit_tiny"](arrays["x"].copy(), arrays["y"].copy(), params["classes"])
    return {k: p[k] for k in ("W1", "b1", "W2", "b2")}


def init_tiny_convnet(in_channels, size, filters, num_classes, seed=0):
    g = np.random.default_rng(seed)
    features = filters * (size // 2) ** 2
    return {
        "W1": g.normal(scale=np.sqrt(2 / (9 * in_channels)), size=(filters, in_channels, 3, 3)),
        "b1": np.zeros(filters),
        "W2": g.normal(scale=np.sqrt(1 / features), size=(features, num_classes)),
        "b2": np.zeros(num_classes),
    }


def torch_convnet(params, x, y):
    """The judge's loss and gradients of the tiny ConvNet, by torch's autograd."""
    import torch
    import torch.nn.functional as F

    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(torch.from_numpy(x), t["W1"], t["b1"], padding=1)), 2)
    loss = F.cross_entropy(h.flatten(1) @ t["W2"] + t["b2"], torch.from_numpy(y))
    loss.backward()
    return loss.item(), {k: t[k].grad.numpy() for k in t}


def _convnet_make(public):
    def make(rng):
        g = np.random.default_rng(8) if public else rng
        n, c, size, classes = (3, 2, 4, 3) if public else (4, 2, 6, 5)
        x, y = g.normal(size=(n, c, size, size)), g.integers(0, classes, size=n)
        params = init_tiny_convnet(c, size, 3, classes, seed=1 if public else 3)
        params["b1"] = g.normal(size=3)
        return {**params, "x": x, "y": y}, {}, torch_convnet(params, x, y)
    return make


def _convnet_decide(arrays, scalars, context):
    loss, grads = context
    if "loss" not in arrays:
        return f"tiny_convnet_loss gave no usable loss ({scalars.get('loss', 'nothing')})"
    # the notebook's public test allows a relative error of 1e-4: so does the judge
    message = close_message(arrays["loss"], loss, rtol=1e-4, what="loss")
    if message:
        return message
    for key, value in grads.items():
        message = close_message(arrays.get(f"grad/{key}", np.nan), value, rtol=1e-4,
                                what=f"grads[{key!r}]")
        if message:
            return message
    return None


def _overfit_make(rng):
    x, y = rng.normal(size=(10, 1, 8, 8)), rng.integers(0, 3, size=10)
    return {"x": x, "y": y}, {"classes": 3}, (x, y)


def _overfit_decide(arrays, scalars, context):
    x, y = context
    try:
        conv = convlib.conv2d(x, arrays["W1"], arrays["b1"], padding=1)
        h = convlib.max_pool2d(np.maximum(conv, 0), 2).reshape(len(x), -1)
        accuracy = float(np.mean((h @ arrays["W2"] + arrays["b2"]).argmax(1) == y))
    except (KeyError, ValueError) as error:
        return f"overfit_tiny did not return usable parameters ({error})"
    if accuracy == 1.0:
        return None
    return f"training accuracy {accuracy:.0%} on ten images; 100% expected"


PROBES = [numgrad, convnet_loss, overfit]
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
    CaseTest("q5_forward_example", "q5", 0.5, False, func="max_pool_forward",
             cases=lambda rng: [((X4, 2), {})],
             reference=lambda x, k: convlib.max_pool2d(x, k)),
    CaseTest("q5_backward_example", "q5", 0.5, False, func="max_pool_backward",
             cases=lambda rng: [((np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), X4, 2), {})],
             reference=lambda d, x, k: convlib.max_pool2d_backward(d, x, k)),
    CaseTest("q5_random_forward", "q5", 1, True, func="max_pool_forward",
             cases=_pool_cases(False), reference=lambda x, k: convlib.max_pool2d(x, k)),
    CaseTest("q5_random_backward", "q5", 1, True, func="max_pool_backward",
             cases=_pool_cases(True),
             reference=lambda d, x, k: convlib.max_pool2d_backward(d, x, k)),
    CaseTest("q6_examples", "q6", 1, False, func="rel_error", reference=_rel_error,
             cases=lambda rng: [((np.ones(3), np.ones(3)), {}),
                                ((np.array([1.0, 2.0]), np.array([1.1, 2.0])), {})]),
    CaseTest("q6_random", "q6", 1, True, func="rel_error", reference=_rel_error,
             cases=_rel_cases),
    ProbeTest("q7_gradients", "q7", 1, False, probe_name="convnet_loss",
              make=_convnet_make(True), decide=_convnet_decide),
    ProbeTest("q7_against_torch", "q7", 2, True, probe_name="convnet_loss",
              make=_convnet_make(False), decide=_convnet_decide),
    ProbeTest("q7_overfits", "q7", 1, True, probe_name="overfit", make=_overfit_make,
              decide=_overfit_decide),
]


def static_rules(cells: list[str]) -> dict[str, str]:
    return numpy_only(cells, ANSWERS)
