"""Tests of convlib.models: the digits CNN, augmentation, the training loop, cost counts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convlib.models import (
    DigitsCNN,
    History,
    ResidualBlock,
    count_macs,
    count_parameters,
    evaluate,
    make_loader,
    random_shift_rotate,
    train,
)


def _digits(n: int = 240):
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images[:n] / 16.0, dtype=torch.float32).unsqueeze(1)
    return x, torch.tensor(d.target[:n])


@pytest.mark.parametrize("options", [
    {},
    {"dropout": 0.5},
    {"batch_norm": True},
    {"residual": True},
    {"residual": True, "batch_norm": True},
    {"kernel_size": 5},
    {"kernel_size": 1},
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2},
    {"channels": (2, 3), "hidden": 7, "num_classes": 4},
])
def test_digits_cnn_shapes(options):
    torch.manual_seed(0)
    model = DigitsCNN(**options)
    out = model(torch.randn(5, 1, 8, 8))
    assert out.shape == (5, options.get("num_classes", 10))
    # features then head is the whole model
    model.eval()
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(model(x), model.head(model.features(x)))


def test_digits_cnn_other_input_sizes():
    torch.manual_seed(0)
    model = DigitsCNN(in_channels=3, input_size=28, kernel_size=5, stride=2)
    assert model(torch.randn(2, 3, 28, 28)).shape == (2, 10)


def test_digits_cnn_options_change_layers():
    kinds = lambda m: [type(layer).__name__ for layer in m.modules()]  # noqa: E731
    assert "BatchNorm2d" in kinds(DigitsCNN(batch_norm=True))
    assert "BatchNorm2d" not in kinds(DigitsCNN())
    assert "ResidualBlock" in kinds(DigitsCNN(residual=True))
    assert all(conv.bias is None for conv in DigitsCNN(batch_norm=True).modules()
               if isinstance(conv, nn.Conv2d))
    assert DigitsCNN(dropout=0.3).head[1].p == 0.3


@pytest.mark.parametrize("kwargs, match", [
    ({"input_size": 8, "kernel_size": 3, "stride": 4}, "empty feature map"),
    ({"input_size": 2}, "empty feature map"),
    ({"channels": (4, 8, 16)}, "channels"),
    ({"dropout": 1.0}, "dropout"),
])
def test_digits_cnn_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DigitsCNN(**kwargs)


def test_residual_block_is_identity_plus_body():
    torch.manual_seed(0)
    block = ResidualBlock(3)
    x = torch.randn(2, 3, 6, 6)
    assert torch.allclose(block(x), F.relu(x + block.body(x)))
    # zero weights in the body leave relu(x)
    for p in block.body.parameters():
        nn.init.zeros_(p)
    assert torch.equal(block(x), F.relu(x))


def test_make_loader_batches_and_checks():
    x, y = torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10)
    batches = list(make_loader(x, y, batch_size=4, shuffle=False))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([b[1] for b in batches]), y)
    with pytest.raises(ValueError, match="differ in length"):
        make_loader(x, y[:3])


def test_random_shift_rotate_identity_shift_and_determinism():
    x = torch.rand(6, 1, 8, 8)
    assert torch.allclose(random_shift_rotate(x, max_shift=0, max_degrees=0), x, atol=1e-6)
    a = random_shift_rotate(x, torch.Generator().manual_seed(3))
    b = random_shift_rotate(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == x.shape
    assert not torch.allclose(a, x)


def test_random_shift_rotate_shift_moves_the_centre_of_mass():
    img = torch.zeros(1, 1, 8, 8)
    img[0, 0, 3, 4] = 1.0

    gen = torch.Generator().manual_seed(0)
    u = torch.rand(1, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
    out = random_shift_rotate(img, gen, max_shift=1.0, max_degrees=0.0)
    # the mass is conserved (bilinear weights sum to one away from the border)
    assert torch.isclose(out.sum(), torch.tensor(1.0), atol=1e-5)
    # the centre of mass moves by minus the sampled shift (the grid samples at x + t);
    # u is drawn exactly as the function draws it, from a generator with the same seed
    rows, cols = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    com = torch.stack([(out[0, 0] * rows).sum(), (out[0, 0] * cols).sum()])
    expected = torch.tensor([3.0, 4.0]) - torch.stack([u[0, 2], u[0, 1]])
    assert torch.allclose(com, expected, atol=1e-4)


def test_train_learns_and_is_reproducible():
    x, y = _digits()
    loader = make_loader(x, y, 32)

    def run():
        torch.manual_seed(0)
        model = DigitsCNN(dropout=0.2)
        hist = train(model, loader, loader, epochs=12, lr=1e-2, seed=1, progress=False,
                     augment=random_shift_rotate)
        return model, hist

    m1, h1 = run()
    m2, h2 = run()
    assert isinstance(h1, History)
    assert len(h1.train_loss) == len(h1.val_acc) == 12
    assert h1 == h2
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p1, p2)
    assert h1.train_loss[-1] < 0.5 * h1.train_loss[0]
    assert h1.val_acc[-1] > 0.8
    assert not m1.training


def test_train_seed_matters_and_settings_restored():
    x, y = _digits(64)
    loader = make_loader(x, y, 16)
    threads = torch.get_num_threads()
    flag = torch.are_deterministic_algorithms_enabled()
    hists = []
    for seed in (0, 1):
        torch.manual_seed(0)
        hists.append(train(DigitsCNN(), loader, epochs=2, seed=seed, progress=False))
    assert hists[0].train_loss != hists[1].train_loss  # different shuffles
    assert hists[0].val_loss == []
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == flag


def test_train_frozen_parameters_and_param_groups():
    x, y = _digits(64)
    loader = make_loader(x, y, 16)
    torch.manual_seed(0)
    model = DigitsCNN()
    for p in model.features.parameters():
        p.requires_grad_(False)
    before = [p.clone() for p in model.features.parameters()]
    head_before = [p.clone() for p in model.head.parameters()]
    train(model, loader, epochs=1, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.features.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(head_before, model.head.parameters()))

    # a zero learning rate for the body keeps it fixed even though it gets gradients
    torch.manual_seed(0)
    model = DigitsCNN()
    before = [p.clone() for p in model.features.parameters()]
    groups = [{"params": model.features.parameters(), "lr": 0.0},
              {"params": model.head.parameters()}]
    train(model, loader, epochs=1, param_groups=groups, optimizer="sgd", lr=0.1,
          progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.features.parameters()))


def test_train_weight_decay_shrinks_weights():
    x, y = _digits(64)
    loader = make_loader(x, y, 16)
    norms = []
    for wd in (0.0, 0.5):
        torch.manual_seed(0)
        model = DigitsCNN()
        train(model, loader, epochs=3, weight_decay=wd, optimizer="adamw", progress=False)
        norms.append(sum(p.norm() ** 2 for p in model.parameters()).item())
    assert norms[1] < norms[0]


def test_train_bad_arguments():
    x, y = _digits(16)
    loader = make_loader(x, y, 8)
    with pytest.raises(ValueError, match="optimizer"):
        train(DigitsCNN(), loader, optimizer="rmsprop", progress=False)
    with pytest.raises(ValueError, match="epochs"):
        train(DigitsCNN(), loader, epochs=0, progress=False)


def test_evaluate_matches_direct_computation():
    x, y = _digits(50)
    torch.manual_seed(0)
    model = DigitsCNN(dropout=0.5)
    model.train()
    loss, acc = evaluate(model, make_loader(x, y, 16, shuffle=False))
    assert model.training  # mode restored
    model.eval()
    logits = model(x)
    assert loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert acc == pytest.approx((logits.argmax(1) == y).float().mean().item())
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, [])


def test_count_parameters():
    model = DigitsCNN()
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())
    for p in model.features.parameters():
        p.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == sum(
        p.numel() for p in model.head.parameters())
    assert count_parameters(nn.Linear(3, 2)) == 8


@pytest.mark.parametrize("stride, groups, padding", [(1, 1, 1), (2, 1, 0), (1, 2, 2)])
def test_count_macs_of_one_conv(stride, groups, padding):
    conv = nn.Conv2d(4, 6, 3, stride=stride, padding=padding, groups=groups)
    out = conv(torch.zeros(1, 4, 9, 9))
    assert count_macs(conv, (4, 9, 9)) == out.numel() * (4 // groups) * 9


def test_count_macs_of_digits_cnn_by_hand():
    model = DigitsCNN(channels=(8, 16), hidden=64)
    # conv1: 8*8*8 outputs * 1*9; conv2: 16*4*4 * 8*9; fc1: 64 * 16*2*2; fc2: 10 * 64
    expected = 8 * 64 * 9 + 16 * 16 * 72 + 64 * 64 + 10 * 64
    assert count_macs(model, (1, 8, 8)) == expected
    assert model.training  # mode restored


def test_random_shift_rotate_rotation_turns_the_principal_axis():
    # a horizontal bar through the centre, rotated: its principal axis turns by the angle
    img = torch.zeros(1, 1, 16, 16)
    img[0, 0, 7:9, 2:14] = 1.0
    u = torch.rand(1, 3, generator=torch.Generator().manual_seed(5)) * 2 - 1
    out = random_shift_rotate(img, torch.Generator().manual_seed(5), max_shift=0.0,
                              max_degrees=20.0)[0, 0]
    rows, cols = torch.meshgrid(torch.arange(16.0) - 7.5, torch.arange(16.0) - 7.5,
                                indexing="ij")
    m = out / out.sum()
    cov_rc = (m * rows * cols).sum()
    var_r, var_c = (m * rows**2).sum(), (m * cols**2).sum()
    axis = 0.5 * torch.atan2(2 * cov_rc, var_c - var_r)
    assert abs(abs(torch.rad2deg(axis).item()) - abs(u[0, 0].item()) * 20.0) < 0.5
