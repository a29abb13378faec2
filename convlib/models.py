"""Small CNNs for the book's digits experiments, and a deterministic training loop.

The pieces are small on purpose, so later chapters can reuse and extend them:

* :class:`DigitsCNN` -- a LeNet-style network for 8x8 digit images with switches for
  dropout, batch normalisation and a residual block, and a choice of kernel size and
  stride. It is split into ``features`` (the convolutional body) and ``head`` (the
  classifier), so a head can be swapped and a body frozen.
* :class:`ResidualBlock` -- two 3x3 convolutions with an identity shortcut.
* :func:`make_loader`, :func:`random_shift_rotate` -- batches, and data augmentation
  written with torch ops (``affine_grid`` + ``grid_sample``), no image library.
* :func:`train`, :func:`evaluate`, :class:`History` -- a plain training loop that is
  reproducible bit for bit on one machine: it seeds torch, turns on deterministic
  algorithms and runs on one thread (floating-point sums then happen in one order).
* :func:`count_parameters`, :func:`count_macs` -- what a model costs.

Reproducible "bit for bit" means: the same seed on the same machine and library
versions gives the same weights. Another CPU (other SIMD width) may round differently
and end a long training a little elsewhere, so report accuracies rounded, or as figures.

>>> import torch
>>> _ = torch.manual_seed(0)
>>> model = DigitsCNN()
>>> model(torch.zeros(2, 1, 8, 8)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .arithmetic import output_size

__all__ = [
    "ResidualBlock",
    "DigitsCNN",
    "make_loader",
    "random_shift_rotate",
    "History",
    "evaluate",
    "train",
    "count_parameters",
    "count_macs",
]

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


class ResidualBlock(nn.Module):
    """``relu(x + conv(relu(conv(x))))``: two 3x3 convolutions and an identity shortcut.

    Channels and spatial size are kept, so the block can be dropped in anywhere. With
    ``batch_norm=True`` each convolution is followed by ``BatchNorm2d``.

    >>> block = ResidualBlock(4)
    >>> block(torch.zeros(1, 4, 5, 5)).shape
    torch.Size([1, 4, 5, 5])
    """

    def __init__(self, channels: int, batch_norm: bool = False) -> None:
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(channels)) if batch_norm else nn.Identity
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm),
            norm(),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm),
            norm(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class DigitsCNN(nn.Module):
    """A LeNet-style CNN: (conv, relu, 2x2 max-pool) twice, then two linear layers.

    ``features`` holds the convolutional body and ``head`` the classifier
    (``flatten -> dropout -> linear -> relu -> dropout -> linear``).

    Args:
        in_channels, num_classes: image channels and number of classes.
        channels: output channels of the two convolutions.
        kernel_size, stride: of the **first** convolution (the second is 3x3, stride 1);
            padding is ``kernel_size // 2``, so stride 1 keeps the size.
        hidden: width of the hidden linear layer.
        dropout: drop probability before each linear layer (0 turns it off).
        batch_norm: ``BatchNorm2d`` after each convolution (their bias is then dropped).
        residual: insert a :class:`ResidualBlock` after the second convolution.
        input_size: side of the square input images; fixes the flattened size.

    A configuration whose feature map shrinks to nothing raises ``ValueError``.

    >>> _ = torch.manual_seed(0)
    >>> m = DigitsCNN(channels=(4, 8), kernel_size=5, dropout=0.5, batch_norm=True)
    >>> m.features(torch.zeros(3, 1, 8, 8)).shape
    torch.Size([3, 8, 2, 2])
    """

    def __init__(
        self,
        *,
        in_channels: int = 1,
        num_classes: int = 10,
        channels: Sequence[int] = (8, 16),
        kernel_size: int = 3,
        stride: int = 1,
        hidden: int = 64,
        dropout: float = 0.0,
        batch_norm: bool = False,
        residual: bool = False,
        input_size: int = 8,
    ) -> None:
        super().__init__()
        if len(channels) != 2:
            raise ValueError(f"channels must hold two numbers, got {tuple(channels)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        c1, c2 = channels

        def block(c_in: int, c_out: int, k: int, s: int) -> list[nn.Module]:
            layers: list[nn.Module] = [
                nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2, bias=not batch_norm)
            ]
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU())
            return layers

        body = block(in_channels, c1, kernel_size, stride) + [nn.MaxPool2d(2)]
        body += block(c1, c2, 3, 1)
        if residual:
            body.append(ResidualBlock(c2, batch_norm))
        body.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*body)

        # (kernel, stride, padding) of conv, pool, conv, pool; the residual block keeps size
        side = input_size
        for k, s, p in ((kernel_size, stride, kernel_size // 2), (2, 2, 0), (3, 1, 1), (2, 2, 0)):
            if side + 2 * p < k:
                raise ValueError(
                    f"input_size={input_size} with kernel_size={kernel_size} and "
                    f"stride={stride} leaves an empty feature map; use a larger input "
                    f"or a smaller stride"
                )
            side = output_size(side, k, s, p)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(c2 * side * side, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


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


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` over ``loader``, in eval mode.

    >>> _ = torch.manual_seed(0)
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


def _optimizer(name: str, params: Any, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
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
    progress: bool = True,
    desc: str = "train",
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
        progress: show a ``tqdm`` bar (text on stderr) over the epochs.

    >>> _ = torch.manual_seed(0)
    >>> x, y = torch.randn(32, 1, 8, 8), torch.arange(32) % 2
    >>> hist = train(DigitsCNN(num_classes=2), make_loader(x, y, 16), epochs=3,
    ...              progress=False)
    >>> len(hist.train_loss)
    3
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if param_groups is None:
        param_groups = [{"params": [p for p in model.parameters() if p.requires_grad]}]
    opt = _optimizer(optimizer, param_groups, lr, weight_decay)
    history = History()
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed + 1)
        bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False)
        for _ in bar:
            model.train()
            total_loss, correct, count = 0.0, 0, 0
            for xb, yb in train_loader:
                if augment is not None:
                    xb = augment(xb, gen)
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
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


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (only those with ``requires_grad`` if ``trainable_only``).

    >>> count_parameters(nn.Conv2d(3, 8, 5))  # 8*3*5*5 weights + 8 biases
    608
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates of one forward pass of ``Conv2d`` and ``Linear`` layers on
    one input of ``input_shape`` (C, H, W). FLOPs are about twice this number.

    A convolution costs ``(C_in / groups) * kH * kW`` per output value.

    >>> count_macs(nn.Conv2d(1, 4, 3, padding=1), (1, 8, 8))  # 4*8*8 outputs * 9
    2304
    """
    macs = 0

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal macs
        per_sample = output[0].numel()
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs += per_sample * (module.in_channels // module.groups) * k
        else:
            macs += per_sample * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return macs
