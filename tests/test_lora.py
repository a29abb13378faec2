"""LoRA for convolutions: identity at init, merge, both implementations, counts, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from strategies import examples, lora_configs
from torch import nn

from convlib.models.lora import (
    LoRAConv2d,
    apply_lora,
    count_parameters,
    lora_parameter_count,
    lora_parameters,
    merge_lora,
    training_memory_bytes,
)


def make(cfg, impl):
    torch.manual_seed(cfg["seed"])
    conv = nn.Conv2d(**cfg["conv"], dtype=torch.float64)
    lora = LoRAConv2d(conv, cfg["rank"], cfg["alpha"], impl=impl)
    x = torch.randn(2, cfg["conv"]["in_channels"], 7, 8, dtype=torch.float64)
    return conv, lora, x


@settings(max_examples=examples(40), deadline=None)
@given(cfg=lora_configs())
def test_zero_init_is_identity(cfg):
    conv, lora, x = make(cfg, "delta")
    assert torch.count_nonzero(lora.lora_B) == 0
    assert torch.count_nonzero(lora.lora_A) > 0  # A is random, only B starts at zero
    assert torch.equal(lora(x), conv(x))


@settings(max_examples=examples(40), deadline=None)
@given(cfg=lora_configs(allow_groups=False))
def test_zero_init_is_identity_conv_impl(cfg):
    conv, lora, x = make(cfg, "conv")
    assert torch.equal(lora(x), conv(x))


@settings(max_examples=examples(40), deadline=None)
@given(cfg=lora_configs())
def test_merged_equals_unmerged(cfg):
    conv, lora, x = make(cfg, "delta")
    with torch.no_grad():
        lora.lora_B.normal_()
    y = lora(x)
    assert not torch.allclose(y, conv(x))  # the update really changes the layer
    merged = lora.merge()
    assert type(merged) is nn.Conv2d
    torch.testing.assert_close(merged(x), y, rtol=1e-10, atol=1e-10)
    # the merged weight is W + (alpha/r) B A, computed independently here
    a = lora.lora_A.detach().flatten(1)
    delta = (cfg["alpha"] / cfg["rank"]) * (lora.lora_B.detach() @ a)
    expected = conv.weight.detach() + delta.view_as(conv.weight)
    torch.testing.assert_close(merged.weight.detach(), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=examples(40), deadline=None)
@given(cfg=lora_configs(allow_groups=False))
def test_factorised_conv_equals_weight_delta(cfg):
    """conv(kh x kw, C_in -> r) then 1x1 conv(r -> C_out) is the same map as W + delta."""
    _, lora_d, x = make(cfg, "delta")
    _, lora_c, _ = make(cfg, "conv")
    with torch.no_grad():
        lora_c.lora_A.copy_(lora_d.lora_A)
        lora_d.lora_B.normal_()
        lora_c.lora_B.copy_(lora_d.lora_B)
    y_d, y_c = lora_d(x), lora_c(x)
    torch.testing.assert_close(y_c, y_d, rtol=1e-10, atol=1e-10)
    # and so are the gradients of the adapter
    g = torch.randn_like(y_d)
    ga = torch.autograd.grad(y_d, [lora_d.lora_A, lora_d.lora_B], g)
    gc = torch.autograd.grad(y_c, [lora_c.lora_A, lora_c.lora_B], g)
    for a, c in zip(ga, gc):
        torch.testing.assert_close(c, a, rtol=1e-9, atol=1e-9)


def test_only_adapters_train():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 6, 3, padding=1)
    w0, b0 = conv.weight.detach().clone(), conv.bias.detach().clone()
    lora = LoRAConv2d(conv, rank=2, alpha=2.0)
    trainable = [p for p in lora.parameters() if p.requires_grad]
    assert [tuple(p.shape) for p in trainable] == [(2, 3, 3, 3), (6, 2)]
    opt = torch.optim.SGD(trainable, lr=0.1)
    x = torch.randn(4, 3, 8, 8)
    for _ in range(3):
        opt.zero_grad()
        lora(x).square().mean().backward()
        opt.step()
    assert conv.weight.grad is None and conv.bias.grad is None
    assert torch.equal(conv.weight, w0) and torch.equal(conv.bias, b0)
    assert torch.count_nonzero(lora.lora_B) > 0  # B moved off zero after the first step


@pytest.mark.parametrize(
    ("c_in", "c_out", "k", "rank", "groups"),
    [(1, 16, 3, 1, 1), (16, 32, 3, 4, 1), (64, 64, (3, 5), 8, 1), (8, 8, 3, 2, 4)],
)
def test_parameter_counts(c_in, c_out, k, rank, groups):
    conv = nn.Conv2d(c_in, c_out, k, groups=groups)
    lora = LoRAConv2d(conv, rank)
    kh, kw = (k, k) if isinstance(k, int) else k
    expected = rank * (c_in // groups) * kh * kw + c_out * rank
    assert lora_parameter_count(c_in, c_out, k, rank, groups) == expected
    assert count_parameters(lora, trainable_only=True) == expected
    assert count_parameters(lora) == expected + count_parameters(conv)


def small_net():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU()),
        nn.Flatten(),
        nn.Linear(16 * 6 * 6, 5),
    )


def test_apply_lora_targets_and_freezes():
    net = small_net()
    x = torch.randn(3, 1, 6, 6)
    before = net(x)
    apply_lora(net, rank=2, alpha=4.0, target=["2.0"])
    assert isinstance(net[0], nn.Conv2d) and not isinstance(net[0], LoRAConv2d)
    assert isinstance(net[2][0], LoRAConv2d)
    assert torch.equal(net(x), before)
    assert count_parameters(net, trainable_only=True) == 2 * 8 * 9 + 16 * 2
    assert [p.shape for p in lora_parameters(net)] == [(2, 8, 3, 3), (16, 2)]
    # chosen by a function, then every remaining Conv2d: adapters are never wrapped twice
    net = small_net()
    apply_lora(net, rank=1, target=lambda name, m: m.in_channels == 1)
    assert isinstance(net[0], LoRAConv2d) and not isinstance(net[2][0], LoRAConv2d)
    apply_lora(net, rank=1, target=None, freeze=False)
    assert sum(isinstance(m, LoRAConv2d) for m in net.modules()) == 2
    assert type(net[0].base) is nn.Conv2d and type(net[2][0].base) is nn.Conv2d
    with pytest.raises(ValueError, match="selects no nn.Conv2d"):
        apply_lora(net, rank=1)


def test_apply_lora_default_wraps_each_conv_once():
    net = apply_lora(small_net(), rank=1)
    assert sum(isinstance(m, LoRAConv2d) for m in net.modules()) == 2
    assert not any(p.requires_grad for n, p in net.named_parameters() if "lora_" not in n)


def test_merge_lora_model():
    net = apply_lora(small_net(), rank=2, alpha=2.0)
    with torch.no_grad():
        for p in lora_parameters(net):
            p.normal_(std=0.1)
    x = torch.randn(5, 1, 6, 6)
    y = net(x)
    merge_lora(net)
    assert not any(isinstance(m, LoRAConv2d) for m in net.modules())
    torch.testing.assert_close(net(x), y, rtol=1e-5, atol=1e-5)


def test_errors():
    conv = nn.Conv2d(4, 6, 3, groups=2)
    with pytest.raises(TypeError, match="base must be an nn.Conv2d"):
        LoRAConv2d(nn.Linear(3, 3), 1)
    with pytest.raises(ValueError, match=r"rank .* = 6 for weight of shape \(6, 2, 3, 3\)"):
        LoRAConv2d(conv, 7)
    with pytest.raises(ValueError, match="rank"):
        LoRAConv2d(conv, 0)
    with pytest.raises(ValueError, match="impl='conv' needs groups=1, got groups=2"):
        LoRAConv2d(conv, 1, impl="conv")
    with pytest.raises(ValueError, match="impl must be one of"):
        LoRAConv2d(conv, 1, impl="fast")
    net = small_net()
    with pytest.raises(ValueError, match=r"\['4'\] are not Conv2d layers .* \['0', '2.0'\]"):
        apply_lora(net, rank=1, target=["0", "4"])
    assert all(p.requires_grad for p in net.parameters())  # a failed call changes nothing
    with pytest.raises(TypeError, match="target must be"):
        apply_lora(net, rank=1, target="0")
    with pytest.raises(ValueError, match="selects no nn.Conv2d"):
        apply_lora(net, rank=1, target=lambda name, m: False)


def test_training_memory_bytes():
    full = training_memory_bytes(10, 10)
    assert full == {"weights": 40, "gradients": 40, "optimizer": 80, "total": 160}
    lora = training_memory_bytes(10, 2, bytes_per_value=2, optimizer="momentum")
    assert lora == {"weights": 20, "gradients": 4, "optimizer": 4, "total": 28}
    assert training_memory_bytes(10, 0, optimizer="sgd")["total"] == 40
    with pytest.raises(ValueError, match="n_trainable"):
        training_memory_bytes(10, 11)
    with pytest.raises(ValueError, match="optimizer"):
        training_memory_bytes(10, 1, optimizer="lion")


@pytest.mark.parametrize("mode", ["zeros", "reflect", "circular"])
@pytest.mark.parametrize("impl", ["delta", "conv"])
def test_same_padding_with_an_even_kernel(mode, impl):
    """padding='same' pads one more after than before for an even span: both impls and the
    merged layer pad as the base layer does, in every padding mode."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, (2, 3), padding="same", dilation=(1, 2), padding_mode=mode,
                     dtype=torch.float64)
    lora = LoRAConv2d(conv, rank=2, impl=impl)
    x = torch.randn(2, 3, 7, 8, dtype=torch.float64)
    assert torch.equal(lora(x), conv(x))
    with torch.no_grad():
        lora.lora_B.normal_()
    torch.testing.assert_close(lora.merge()(x), lora(x), rtol=1e-10, atol=1e-10)
