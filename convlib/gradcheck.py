r"""Numerical gradients and gradient checks: is an analytic backward pass right?

The derivative of a scalar function ``f`` along one coordinate is approximated by the
central difference

    df/dx[i]  ~=  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),

whose error shrinks like ``eps**2`` (a one-sided difference only like ``eps``) until
round-off, about ``machine_epsilon / eps``, takes over: ``eps = 1e-6`` balances the two
in float64. Float32 has too few digits for this; check gradients in float64.

These are teaching and testing tools: :func:`numerical_gradient` loops over the
elements and calls ``f`` twice per element, so keep the arrays small (a few hundred
elements). A backward pass is checked on small shapes and trusted on large ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["numerical_gradient", "gradcheck", "GradcheckReport", "GradcheckError"]


def _scalar(value: Any, what: str) -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(
            f"{what} must return a scalar, got an array of shape {arr.shape}; reduce it "
            f"(e.g. (f(x) * grad_output).sum()) or pass grad_outputs= to gradcheck"
        )
    return float(arr.reshape(()))


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """Gradient of a scalar function ``f`` at ``x`` by central differences.

    Perturbs one element at a time, ``x[i] +- eps``, in a copy of ``x`` (``x`` itself is
    never modified), so ``f`` is called ``2 * x.size`` times: meant for small arrays.
    ``f`` must return a scalar (a float or a size-1 array).

    >>> x = np.array([1.0, 2.0, 3.0])
    >>> np.round(numerical_gradient(lambda v: (v ** 2).sum(), x), 6)   # 2x
    array([2., 4., 6.])
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy.ndarray, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must have a floating dtype, got {x.dtype}")
    if not (isinstance(eps, float | int) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    x = x.copy()
    grad = np.empty_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: writing flat writes x
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = _scalar(f(x), "f")
        flat[i] = old - eps
        down = _scalar(f(x), "f")
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when the analytic and numerical gradients disagree."""


@dataclass(frozen=True)
class GradcheckReport:
    """What :func:`gradcheck` found.

    ``max_abs_error`` is ``max |analytic - numerical|`` and ``max_rel_error`` is
    ``max |analytic - numerical| / max(|analytic|, |numerical|)`` over every element of
    every input (0 where both are 0); ``worst`` is ``(input position, element index)``
    of the largest violation of the tolerance; ``numerical`` holds the numerical
    gradients, one per input.
    """

    passed: bool
    max_abs_error: float
    max_rel_error: float
    worst: tuple[int, tuple[int, ...]]
    numerical: tuple[np.ndarray, ...]
    atol: float
    rtol: float

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        count = sum(g.size for g in self.numerical)
        return (
            f"gradcheck {verdict}: max abs error {self.max_abs_error:.2e}, max rel error "
            f"{self.max_rel_error:.2e} over {len(self.numerical)} input(s), {count} elements "
            f"(atol={self.atol:g}, rtol={self.rtol:g})"
        )


def _as_tuple(value: Any, name: str) -> tuple:
    if isinstance(value, np.ndarray):
        return (value,)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    raise TypeError(f"{name} must be a numpy array or a tuple of them, got {type(value).__name__}")


def gradcheck(
    f: Callable[..., Any],
    inputs: np.ndarray | Sequence[np.ndarray],
    analytic: np.ndarray | Sequence[np.ndarray],
    grad_outputs: np.ndarray | Sequence[np.ndarray] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> GradcheckReport:
    """Compare analytic gradients with numerical ones; raise or report.

    ``f(*inputs)`` is the function being differentiated. Without ``grad_outputs`` it must
    return a scalar and ``analytic`` holds its gradient with respect to each input. With
    ``grad_outputs`` (the upstream gradient, shaped like ``f``'s output, or a tuple for a
    tuple of outputs) the checked scalar is ``sum(f(*inputs) * grad_outputs)``: then
    ``analytic`` is what a backward pass returns for that ``grad_output``. An element
    passes when ``|analytic - numerical| <= atol + rtol * |numerical|`` (``np.allclose``).

    On failure raises :class:`GradcheckError` naming the input, the element and both
    values, or with ``raise_exception=False`` returns a report with ``passed=False``.
    Use float64 inputs: float32 cannot resolve ``eps`` (a warning says so).

    >>> rng = np.random.default_rng(0)
    >>> a, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    >>> report = gradcheck(lambda v: a @ v, x, analytic=a.T @ np.ones(3),
    ...                    grad_outputs=np.ones(3))
    >>> report.passed, report.max_abs_error < 1e-8
    (True, True)
    """
    inputs = _as_tuple(inputs, "inputs")
    analytic = _as_tuple(analytic, "analytic")
    if len(analytic) != len(inputs):
        raise ValueError(
            f"analytic must hold one gradient per input: got {len(analytic)} gradients "
            f"for {len(inputs)} inputs"
        )
    for i, (x, a) in enumerate(zip(inputs, analytic)):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"inputs[{i}] must be a numpy.ndarray, got {type(x).__name__}")
        a = np.asarray(a)
        if a.shape != x.shape:
            raise ValueError(
                f"analytic[{i}] has shape {a.shape} but inputs[{i}] has shape {x.shape}; "
                f"a gradient has the shape of its input"
            )
        if x.dtype != np.float64:
            warnings.warn(
                f"inputs[{i}] has dtype {x.dtype}: central differences need float64 to be "
                f"accurate", stacklevel=2,
            )
    if grad_outputs is None:
        scalar = f
    else:
        upstream = _as_tuple(grad_outputs, "grad_outputs")

        def scalar(*args):
            out = f(*args)
            outs = out if isinstance(out, tuple) else (out,)
            if len(outs) != len(upstream):
                raise ValueError(
                    f"f returned {len(outs)} output(s) but grad_outputs holds {len(upstream)}"
                )
            total = 0.0
            for j, (o, u) in enumerate(zip(outs, upstream)):
                if np.shape(o) != np.shape(u):
                    raise ValueError(
                        f"grad_outputs[{j}] has shape {np.shape(u)} but f's output {j} has "
                        f"shape {np.shape(o)}"
                    )
                total += float(np.sum(np.asarray(o) * u))
            return total

    numerical = []
    for i, x in enumerate(inputs):
        def along_i(xi, i=i):
            args = list(inputs)
            args[i] = xi
            return scalar(*args)

        numerical.append(numerical_gradient(along_i, x, eps))

    max_abs = max_rel = 0.0
    worst, worst_excess = (0, ()), -np.inf
    for i, (a, n) in enumerate(zip(analytic, numerical)):
        a = np.asarray(a, dtype=np.float64)
        if a.size == 0:
            continue
        diff = np.abs(a - n)
        scale = np.maximum(np.abs(a), np.abs(n))
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
        max_abs = max(max_abs, float(diff.max()))
        max_rel = max(max_rel, float(rel.max()))
        excess = diff - (atol + rtol * np.abs(n))
        k = int(np.argmax(excess))
        if excess.flat[k] > worst_excess:
            worst_excess = float(excess.flat[k])
            worst = (i, tuple(int(v) for v in np.unravel_index(k, a.shape)))
    report = GradcheckReport(
        passed=bool(worst_excess <= 0), max_abs_error=max_abs, max_rel_error=max_rel,
        worst=worst, numerical=tuple(numerical), atol=atol, rtol=rtol,
    )
    if not report.passed and raise_exception:
        i, idx = worst
        raise GradcheckError(
            f"analytic and numerical gradients disagree for inputs[{i}] (shape "
            f"{inputs[i].shape}) at index {idx}: analytic {float(np.asarray(analytic[i])[idx]):.8g}"
            f", numerical {float(numerical[i][idx]):.8g}; {report}"
        )
    return report
