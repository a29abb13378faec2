"""Learning-rate schedules as plain functions ``schedule(step, total_steps) -> factor``.

The learning rate of minibatch ``step`` (counted from 0) is ``lr * factor``; pass one to
``train(..., schedule=...)``. Each function returns such a schedule.

>>> s = cosine(warmup=0.1)
>>> [round(s(t, 100), 2) for t in (0, 5, 10, 55, 99)]
[0.1, 0.6, 1.0, 0.49, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["constant", "step_decay", "cosine", "one_cycle", "lr_range"]

Schedule = Callable[[int, int], float]


def _warm_steps(total: int, warmup: float) -> int:
    """The number of warm-up steps: the ``warmup`` fraction of ``total``, at least one if
    there is a warm-up at all."""
    return max(1, round(warmup * total)) if warmup > 0 else 0


def _warm(step: int, total: int, warmup: float) -> float | None:
    """Linear warm-up from ``1/n`` to 1 over the first ``warmup`` fraction of steps."""
    n = _warm_steps(total, warmup)
    if step < n:
        return (step + 1) / n
    return None


def constant(warmup: float = 0.0) -> Schedule:
    """Factor 1 (after an optional linear warm-up).

    >>> constant()(7, 10)
    1.0
    """
    def schedule(step: int, total: int) -> float:
        w = _warm(step, total, warmup)
        return 1.0 if w is None else w
    return schedule


def step_decay(milestones: tuple[float, ...] = (0.5, 0.75), gamma: float = 0.1,
               warmup: float = 0.0) -> Schedule:
    """Multiply by ``gamma`` at each milestone (fractions of the run).

    >>> s = step_decay()
    >>> [round(s(t, 100), 4) for t in (0, 49, 50, 75)]
    [1.0, 1.0, 0.1, 0.01]
    """
    def schedule(step: int, total: int) -> float:
        w = _warm(step, total, warmup)
        if w is not None:
            return w
        return gamma ** sum(step >= m * total for m in milestones)
    return schedule


def cosine(warmup: float = 0.0, *, zero_at: str = "last") -> Schedule:
    """Half a cosine from 1 to 0 over the steps after the warm-up.

    ``zero_at="last"``: the factor reaches 0 at the last step, ``total - 1``.
    ``zero_at="total"``: the cosine's zero falls one step later, at ``total``, so the
    last step still learns a little (the schedule of the fine-tuning runs in
    ``convlib.transfer.realnet``, kept for their committed results).

    >>> cosine()(0, 10), cosine()(9, 10)
    (1.0, 0.0)
    >>> round(cosine(zero_at="total")(9, 10), 4)
    0.0245
    """
    if zero_at not in ("last", "total"):
        raise ValueError(f"zero_at must be 'last' or 'total', got {zero_at!r}")
    last = 1 if zero_at == "last" else 0

    def schedule(step: int, total: int) -> float:
        w = _warm(step, total, warmup)
        if w is not None:
            return w
        n = _warm_steps(total, warmup)
        t = (step - n) / max(total - last - n, 1)
        return 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))
    return schedule


def one_cycle(peak_at: float = 0.3, start: float = 0.04, end: float = 1e-4) -> Schedule:
    """Smith's one-cycle policy (the cosine form of ``torch.optim.lr_scheduler.OneCycleLR``):
    from ``start`` up to 1 at ``peak_at`` of the run, then down to ``end``.

    >>> s = one_cycle()
    >>> round(s(0, 100), 3), round(s(30, 100), 3), round(s(99, 100), 4)
    (0.04, 1.0, 0.0001)
    """
    def schedule(step: int, total: int) -> float:
        up = max(round(peak_at * total), 1)
        if step < up:
            t, a, b = step / up, start, 1.0
        else:
            t, a, b = (step - up) / max(total - 1 - up, 1), 1.0, end
        return b + (a - b) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))
    return schedule


def lr_range(low: float = 1e-5, high: float = 1.0) -> Schedule:
    """The learning-rate range test: a factor growing geometrically from ``low`` to
    ``high`` over the run (train with ``lr=1`` and read the loss against the factor).

    >>> s = lr_range(1e-4, 1.0)
    >>> s(0, 5), s(4, 5)
    (0.0001, 1.0)
    """
    def schedule(step: int, total: int) -> float:
        return low * (high / low) ** (step / max(total - 1, 1))
    return schedule
