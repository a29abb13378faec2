"""A plain, deterministic training loop and its helpers.

* :func:`make_loader`, :func:`random_shift_rotate` -- batches, and data augmentation
  written with torch ops (``affine_grid`` + ``grid_sample``), no image library.
* :func:`train`, :func:`evaluate`, :class:`History` -- a plain training loop that is
  reproducible bit for bit on one machine: it seeds torch, turns on deterministic
  algorithms and runs on one thread (floating-point sums then happen in one order).

Reproducible "bit for bit" means: the same seed on the same machine and library
versions gives the same weights. Another CPU (other SIMD width) may round differently
and end a long training a little elsewhere, so report accuracies rounded, or as figures.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

__all__ = ["make_loader", "random_shift_rotate", "History", "evaluate", "train", "one_thread"]

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def make_loader(x: torch.Tensor, y: torch.Tensor, batch_size: int = 64,
                shuffle: bool = True) -> torch.utils.data.DataLoader:
    """Batches of ``(x, y)``. The shuffle order comes from torch's global generator,
    which :func:`train` seeds, so one ``seed`` fixes everything.

    >>> loader = make_loader(torch.zeros(5, 1, 8, 8), torch.arange(5), batch_size=2)
    >>> [len(yb) for _, yb in loader]
    [2, 2, 1]
    """
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: x has shape {tuple(x.shape)}, "
                         f"y has shape {tuple(y.shape)}")
    dataset = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def random_shift_rotate(x: torch.Tensor, generator: torch.Generator | None = None, *,
                        max_shift: float = 0.5, max_degrees: float = 5.0) -> torch.Tensor:
    """Shift each image by up to ``max_shift`` pixels and rotate it by up to
    ``max_degrees``, uniformly at random; pixels from outside are 0.

    Each sample gets its own affine map (``affine_grid``), applied by bilinear
    resampling (``grid_sample``). Pass it as ``train(..., augment=random_shift_rotate)``.
    The defaults are gentle because 8x8 digits are tiny: a whole-pixel shift moves an
    eighth of the image, and bilinear resampling blurs every non-integer shift.

    >>> x = torch.rand(4, 1, 8, 8)
    >>> torch.allclose(random_shift_rotate(x, max_shift=0, max_degrees=0), x, atol=1e-6)
    True
    """
    n, _, h, w = x.shape
    u = torch.rand(n, 3, generator=generator, dtype=x.dtype, device=x.device) * 2 - 1
    angle = torch.deg2rad(u[:, 0] * max_degrees)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid works in [-1, 1] coordinates: one pixel is 2 / size
    tx, ty = u[:, 1] * max_shift * 2 / w, u[:, 2] * max_shift * 2 / h
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@dataclass
class History:
    """Per-epoch loss and accuracy (fractions in [0, 1]); ``val_*`` stay empty
    without a validation loader."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    """training loss of every minibatch, before its step"""


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` over ``loader``, in eval mode.

    >>> _ = torch.manual_seed(0)
    >>> from convlib.models import DigitsCNN
    >>> loss, acc = evaluate(DigitsCNN(), make_loader(torch.zeros(4, 1, 8, 8),
    ...                                               torch.zeros(4, dtype=torch.long)))
    >>> 0.0 <= acc <= 1.0
    True
    """
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for xb, yb in loader:
        logits = model(xb)
        total_loss += F.cross_entropy(logits, yb, reduction="sum").item()
        correct += (logits.argmax(1) == yb).sum().item()
        count += len(yb)
    model.train(was_training)
    if count == 0:
        raise ValueError("loader is empty")
    return total_loss / count, correct / count


def _optimizer(name: str, params: Any, lr: float, weight_decay: float,
               momentum: float = 0.9) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd', got {name!r}")


def train(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    *,
    epochs: int = 20,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    param_groups: list[dict] | None = None,
    augment: Augment | None = None,
    seed: int = 0,
    progress: bool | None = None,
    desc: str = "train",
    schedule: Callable[[int, int], float] | None = None,
    l1: float = 0.0,
    momentum: float = 0.9,
) -> History:
    """Train ``model`` with cross-entropy and return its per-epoch :class:`History`.

    Reproducible: ``seed`` seeds torch's global generator (shuffling, dropout) and the
    augmentation generator; training runs with ``torch.use_deterministic_algorithms``
    and one thread, and both settings are restored afterwards. Seed the model's
    initial weights yourself (``torch.manual_seed(s)`` before building it).

    Args:
        optimizer: ``"adam"``, ``"adamw"`` (decoupled weight decay) or ``"sgd"``
            (momentum 0.9). ``weight_decay`` is passed to it.
        param_groups: optimizer parameter groups, e.g. a smaller ``lr`` for a
            pretrained body; by default every parameter with ``requires_grad``.
        augment: ``augment(x_batch, generator) -> x_batch`` applied to training
            batches only, e.g. :func:`random_shift_rotate`.
        progress: show a ``tqdm`` bar on stderr over the epochs. ``None`` (the
            default) shows it only when stderr is a terminal, so a notebook executed
            for the book saves no progress bar in its outputs.
        schedule: ``schedule(step, total_steps) -> factor``; the learning rate of
            minibatch ``step`` (counted from 0) is ``lr * factor``, see
            :mod:`convlib.models.schedules`.
        l1: adds ``l1 * sum(|w|)`` over the weights of convolution and linear layers
            (not biases, not normalisation parameters) to the loss.
        momentum: of ``"sgd"``.

    >>> _ = torch.manual_seed(0)
    >>> x, y = torch.randn(32, 1, 8, 8), torch.arange(32) % 2
    >>> from convlib.models import DigitsCNN
    >>> hist = train(DigitsCNN(num_classes=2), make_loader(x, y, 16), epochs=3,
    ...              progress=False)
    >>> len(hist.train_loss)
    3
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if param_groups is None:
        param_groups = [{"params": [p for p in model.parameters() if p.requires_grad]}]
    opt = _optimizer(optimizer, param_groups, lr, weight_decay, momentum)
    base_lrs = [group["lr"] for group in opt.param_groups]
    total_steps = epochs * len(train_loader) if schedule is not None else 0
    l1_weights = [m.weight for m in model.modules()
                  if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.requires_grad]
    step = 0
    history = History()
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed + 1)
        bar = tqdm(range(epochs), desc=desc, leave=False,
                   disable=None if progress is None else not progress)
        for _ in bar:
            model.train()
            total_loss, correct, count = 0.0, 0, 0
            for xb, yb in train_loader:
                if augment is not None:
                    xb = augment(xb, gen)
                if schedule is not None:
                    factor = schedule(step, total_steps)
                    for group, base in zip(opt.param_groups, base_lrs):
                        group["lr"] = base * factor
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
                history.step_loss.append(loss.item())
                objective = loss
                if l1:
                    objective = loss + l1 * sum(w.abs().sum() for w in l1_weights)
                opt.zero_grad()
                objective.backward()
                opt.step()
                step += 1
                total_loss += loss.item() * len(yb)
                correct += (logits.argmax(1) == yb).sum().item()
                count += len(yb)
            history.train_loss.append(total_loss / count)
            history.train_acc.append(correct / count)
            if val_loader is not None:
                val_loss, val_acc = evaluate(model, val_loader)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
                bar.set_postfix(loss=f"{total_loss / count:.3f}", val_acc=f"{val_acc:.3f}")
        model.eval()
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    return history


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one torch thread, so that its sums happen in one order whatever the
    machine's core count (evaluation as well as training); the thread count is restored.

    >>> with one_thread():
    ...     torch.get_num_threads()
    1
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
