"""Low-rank adapters (LoRA) for convolution layers, in torch.

Fine-tuning every weight of a large pretrained network costs memory for the weights'
gradients and optimizer state. LoRA (Hu et al., 2021) freezes the pretrained weight
``W`` and learns a low-rank change instead::

    W' = W + (alpha / r) * B @ A

For a convolution the weight has shape ``(C_out, C_in/groups, kh, kw)``; read as a
matrix it is ``(C_out, C_in/groups * kh * kw)``, so ``A`` is a small bank of ``r``
kernels of shape ``(r, C_in/groups, kh, kw)`` and ``B`` mixes them, ``(C_out, r)``.
The update has ``r * (C_in/groups * kh * kw + C_out)`` parameters instead of
``C_out * C_in/groups * kh * kw``.

Two equal ways to compute the adapted layer (``impl=``):

``"delta"``
    Form the low-rank weight change and run one convolution with ``W + delta``. Works
    for every ``groups`` and ``padding_mode``.
``"conv"``
    Run the frozen convolution, plus a ``kh x kw`` convolution ``C_in -> r`` (the
    kernels ``A``) followed by a ``1 x 1`` convolution ``r -> C_out`` (the mixing ``B``):
    the factorised form, which never builds a full-size weight. Needs ``groups == 1``.

``B`` starts at zero, so a freshly wrapped model computes exactly what the pretrained
one did; :meth:`LoRAConv2d.merge` folds the update back into a plain ``nn.Conv2d`` so
inference costs nothing extra.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

# one parameter counter for the whole library; re-exported here next to the LoRA counts
from .counting import count_parameters

__all__ = [
    "LoRAConv2d",
    "apply_lora",
    "lora_parameters",
    "merge_lora",
    "count_parameters",
    "lora_parameter_count",
    "training_memory_bytes",
]

IMPLS = ("delta", "conv")


def lora_parameter_count(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    rank: int,
    groups: int = 1,
) -> int:
    """Parameters of a rank-``rank`` adapter on ``Conv2d(in_channels, out_channels, kernel_size)``.

    ``A`` holds ``rank * in_channels/groups * kh * kw`` numbers and ``B`` holds
    ``out_channels * rank``.

    >>> lora_parameter_count(256, 256, 3, rank=8)      # full weight: 589824
    20480
    """
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return rank * (in_channels // groups) * kh * kw + out_channels * rank


class LoRAConv2d(nn.Module):
    """A frozen ``nn.Conv2d`` plus a trainable low-rank update of its weight.

    ``rank`` is ``r``, ``alpha`` sets the scale ``alpha / r`` of the update (so changing
    ``r`` does not change the size of the first steps). ``impl`` is ``"delta"`` or
    ``"conv"`` (see the module docstring); both give the same outputs. The wrapped
    convolution's parameters are frozen (``requires_grad=False``); only ``lora_A`` and
    ``lora_B`` train. ``lora_B`` is zero at the start, so the layer starts identical to
    ``base``.

    >>> torch.manual_seed(0) and None
    >>> conv = nn.Conv2d(3, 8, 3, padding=1)
    >>> lora = LoRAConv2d(conv, rank=2, alpha=4.0)
    >>> x = torch.randn(1, 3, 5, 5)
    >>> torch.equal(lora(x), conv(x))       # B = 0: nothing changed yet
    True
    >>> sum(p.numel() for p in lora.parameters() if p.requires_grad)   # 2*3*3*3 + 8*2
    70
    """

    def __init__(self, base: nn.Conv2d, rank: int, alpha: float = 1.0, impl: str = "delta"):
        super().__init__()
        if not isinstance(base, nn.Conv2d):
            raise TypeError(f"base must be an nn.Conv2d, got {type(base).__name__}")
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        c_out, c_in_g, kh, kw = base.weight.shape
        full_rank = min(c_out, c_in_g * kh * kw)
        if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= full_rank:
            raise ValueError(
                f"rank must be an int between 1 and min(out_channels, in_channels/groups*kh*kw)"
                f" = {full_rank} for weight of shape {tuple(base.weight.shape)}, got {rank!r}"
            )
        if impl == "conv" and base.groups != 1:
            raise ValueError(
                f"impl='conv' needs groups=1, got groups={base.groups} for weight of shape "
                f"{tuple(base.weight.shape)}; use impl='delta'"
            )
        if not math.isfinite(alpha):
            raise ValueError(f"alpha must be a finite number, got {alpha!r}")
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.rank = rank
        self.alpha = float(alpha)
        self.scaling = self.alpha / rank
        self.impl = impl
        w = base.weight
        self.lora_A = nn.Parameter(
            torch.empty(rank, c_in_g, kh, kw, dtype=w.dtype, device=w.device)
        )
        self.lora_B = nn.Parameter(torch.zeros(c_out, rank, dtype=w.dtype, device=w.device))
        # A gets the same random init nn.Conv2d uses, so A(x) has the scale of a conv
        # output; B = 0 makes the update start at exactly zero.
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def delta_weight(self) -> torch.Tensor:
        """The weight change ``(alpha/r) * B @ A``, shaped like the base weight."""
        a = self.lora_A.flatten(1)  # (r, C_in/groups * kh * kw)
        return (self.scaling * (self.lora_B @ a)).view_as(self.base.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = self.base
        if self.impl == "delta":
            return self._conv(x, base.weight + self.delta_weight(), base.bias, base.groups)
        # Factorised: frozen conv + (1x1 conv B) after (kh x kw conv A), same padding rule.
        low = self._conv(x, self.lora_A, None, 1)
        update = F.conv2d(low, self.lora_B[:, :, None, None])
        return base(x) + self.scaling * update

    def _conv(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
              groups: int) -> torch.Tensor:
        """``weight`` applied as the base layer applies its own: stride, padding (and its
        mode), dilation, from the layer's public attributes."""
        b = self.base
        if b.padding_mode == "zeros":
            return F.conv2d(x, weight, bias, b.stride, b.padding, b.dilation, groups)
        x = F.pad(x, _pad_amounts(b), mode=b.padding_mode)
        return F.conv2d(x, weight, bias, b.stride, 0, b.dilation, groups)

    @torch.no_grad()
    def merge(self) -> nn.Conv2d:
        """A plain ``nn.Conv2d`` (a new module) whose weight is ``W + (alpha/r) B A``.

        >>> torch.manual_seed(0) and None
        >>> lora = LoRAConv2d(nn.Conv2d(2, 4, 3), rank=1)
        >>> _ = nn.init.normal_(lora.lora_B)     # as if trained
        >>> x = torch.randn(1, 2, 6, 6)
        >>> torch.allclose(lora.merge()(x), lora(x), atol=1e-6)
        True
        """
        b = self.base
        merged = nn.Conv2d(
            b.in_channels, b.out_channels, b.kernel_size, b.stride, b.padding, b.dilation,
            b.groups, b.bias is not None, b.padding_mode,
            device=b.weight.device, dtype=b.weight.dtype,
        )  # fmt: skip
        merged.weight.copy_(b.weight + self.delta_weight())
        if b.bias is not None:
            merged.bias.copy_(b.bias)
        return merged

    def extra_repr(self) -> str:
        return f"rank={self.rank}, alpha={self.alpha}, impl={self.impl!r}"


Target = None | Iterable[str] | Callable[[str, nn.Module], bool]


def _wanted(target: Target) -> tuple[Callable[[str, nn.Module], bool], set[str] | None]:
    """The layer filter for ``target`` and, when ``target`` lists names, those names."""
    if target is None:
        return (lambda name, module: True), None
    if callable(target):
        return target, None
    if isinstance(target, str) or not isinstance(target, Iterable):
        raise TypeError(
            f"target must be None, a list of module names or a callable, got {target!r}"
        )
    names = set(target)
    return (lambda name, module: name in names), names


def apply_lora(
    model: nn.Module,
    rank: int,
    alpha: float = 1.0,
    target: Target = None,
    impl: str = "delta",
    freeze: bool = True,
) -> nn.Module:
    """Wrap the ``nn.Conv2d`` layers of ``model`` in :class:`LoRAConv2d`, in place.

    ``target`` picks the layers: ``None`` (every ``Conv2d``), a list of module names as in
    ``model.named_modules()``, or a function ``(name, module) -> bool``. With ``freeze``
    (default) every parameter already in ``model`` stops training, so only the adapters
    train; unfreeze a new classification head yourself. Returns ``model``.

    >>> torch.manual_seed(0) and None
    >>> net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3))
    >>> _ = apply_lora(net, rank=2, target=["2"])
    >>> type(net[0]).__name__, type(net[2]).__name__
    ('Conv2d', 'LoRAConv2d')
    >>> count_parameters(net, trainable_only=True)   # 2*8*3*3 + 8*2
    160
    """
    wanted, names = _wanted(target)
    # Convolutions already inside an adapter are not wrapped a second time.
    inside = tuple(n + "." for n, m in model.named_modules() if isinstance(m, LoRAConv2d))
    convs = [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, nn.Conv2d) and not name.startswith(inside)
    ]
    chosen = [(name, m) for name, m in convs if wanted(name, m)]
    if names is not None and names - {name for name, _ in chosen}:
        missing = sorted(names - {name for name, _ in chosen})
        raise ValueError(
            f"target names {missing} are not Conv2d layers of model; its Conv2d layers: "
            f"{[name for name, _ in convs]}"
        )
    if not chosen:
        raise ValueError("target selects no nn.Conv2d layer of model")
    if freeze:
        for p in model.parameters():
            p.requires_grad_(False)
    for name, conv in chosen:
        model.set_submodule(name, LoRAConv2d(conv, rank, alpha, impl))
    return model


def _pad_amounts(conv: nn.Conv2d) -> tuple[int, int, int, int]:
    """``F.pad``'s ``(left, right, top, bottom)`` for ``conv``'s padding: its ints, or
    ``"same"`` (one more after than before for an even span) and ``"valid"``."""
    pairs = []
    for i in (1, 0):  # width first, as F.pad wants
        if conv.padding == "same":
            total = conv.dilation[i] * (conv.kernel_size[i] - 1)
            pairs += [total // 2, total - total // 2]
        elif conv.padding == "valid":
            pairs += [0, 0]
        else:
            pairs += [conv.padding[i]] * 2
    return tuple(pairs)


def lora_parameters(model: nn.Module) -> Iterator[nn.Parameter]:
    """The adapter parameters (every ``lora_A`` and ``lora_B``) of ``model``.

    >>> net = apply_lora(nn.Sequential(nn.Conv2d(1, 4, 3)), rank=1)
    >>> [tuple(p.shape) for p in lora_parameters(net)]
    [(1, 1, 3, 3), (4, 1)]
    """
    for m in model.modules():
        if isinstance(m, LoRAConv2d):
            yield m.lora_A
            yield m.lora_B


def merge_lora(model: nn.Module) -> nn.Module:
    """Replace every :class:`LoRAConv2d` in ``model`` by its merged ``nn.Conv2d``, in place.

    >>> net = apply_lora(nn.Sequential(nn.Conv2d(1, 4, 3)), rank=1)
    >>> type(merge_lora(net)[0]).__name__
    'Conv2d'
    """
    wrapped = [(name, m) for name, m in model.named_modules() if isinstance(m, LoRAConv2d)]
    for name, m in wrapped:
        model.set_submodule(name, m.merge())
    return model


def training_memory_bytes(
    n_params: int, n_trainable: int, bytes_per_value: int = 4, optimizer: str = "adam"
) -> dict[str, int]:
    """Bytes for weights, gradients and optimizer state when training ``n_trainable`` of
    ``n_params`` parameters (activations not included: they depend on batch and image size).

    Every parameter is stored; only trainable ones get a gradient; Adam keeps two running
    moments per trainable parameter, SGD with momentum one, plain SGD none.

    >>> training_memory_bytes(1_000_000, 1_000_000)
    {'weights': 4000000, 'gradients': 4000000, 'optimizer': 8000000, 'total': 16000000}
    """
    states = {"adam": 2, "adamw": 2, "momentum": 1, "sgd": 0}
    if optimizer not in states:
        raise ValueError(f"optimizer must be one of {tuple(states)}, got {optimizer!r}")
    if not 0 <= n_trainable <= n_params:
        raise ValueError(
            f"n_trainable must be between 0 and n_params={n_params}, got {n_trainable}"
        )
    out = {
        "weights": n_params * bytes_per_value,
        "gradients": n_trainable * bytes_per_value,
        "optimizer": states[optimizer] * n_trainable * bytes_per_value,
    }
    out["total"] = sum(out.values())
    return out
