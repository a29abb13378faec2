"""Tests of convlib.models.deep, convlib.models.schedules, the new training options and the
deep-networks experiment table."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convlib.models import count_macs, count_parameters, make_loader, schedules, train
from convlib.models import deep_experiment as dx
from convlib.models.deep import (
    BasicBlock,
    Bottleneck,
    DeepStack,
    InvertedResidual,
    batch_norm_backward,
    batch_norm_forward,
    gradient_norms,
    vgg_block,
)
from experiments import RESULTS


@pytest.mark.parametrize("kind", ["plain", "bn", "residual"])
@pytest.mark.parametrize("depth", [0, 2, 6])
def test_deep_stack_shapes_and_layers(kind, depth):
    torch.manual_seed(0)
    model = DeepStack(kind, depth=depth, channels=4)
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 10)
    assert len(model.convs()) == depth + 1
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert n_bn == (depth + 1 if kind == "bn" else 0)


def test_deep_stack_rejects_bad_options():
    with pytest.raises(ValueError, match="kind"):
        DeepStack("dense")
    with pytest.raises(ValueError, match="even"):
        DeepStack(depth=3)
    with pytest.raises(ValueError, match="init"):
        DeepStack(init="xavier")


def test_residual_block_is_identity_plus_body():
    torch.manual_seed(0)
    model = DeepStack("residual", depth=2, channels=4)
    block = model.blocks[0]
    x = torch.rand(2, 4, 8, 8)              # non-negative, as after a ReLU
    body = block.conv2(F.relu(block.conv1(x)))
    assert torch.allclose(block(x), F.relu(x + body))


def test_he_init_has_he_variance():
    torch.manual_seed(0)
    model = DeepStack("plain", depth=4, channels=32, init="he")
    w = model.convs()[2].weight
    assert abs(w.var().item() * 32 * 9 / 2 - 1) < 0.1
    assert torch.all(model.convs()[2].bias == 0)


def test_gradient_norms_match_autograd_and_leave_no_gradient():
    torch.manual_seed(0)
    model = DeepStack("plain", depth=2, channels=4)
    x, y = torch.randn(5, 1, 8, 8), torch.arange(5)
    norms = gradient_norms(model, x, y)
    F.cross_entropy(model(x), y).backward()
    expected = [c.weight.grad.norm().item() for c in model.convs()]
    assert np.allclose(norms, expected)
    model.zero_grad()
    gradient_norms(model, x, y)
    assert all(p.grad is None or torch.all(p.grad == 0) for p in model.parameters())


@pytest.mark.parametrize("shape", [(4, 3, 5, 5), (16, 2, 1, 1), (2, 5, 3, 7)])
def test_batch_norm_numpy_matches_torch(shape):
    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 2.0, size=shape)
    gamma, beta = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    grad = rng.normal(size=shape)
    y, cache = batch_norm_forward(x, gamma, beta)
    dx_, dg, db = batch_norm_backward(grad, cache)
    bn = nn.BatchNorm2d(shape[1]).double().train()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    xt = torch.tensor(x, requires_grad=True)
    yt = bn(xt)
    yt.backward(torch.tensor(grad))
    assert np.allclose(y, yt.detach().numpy(), atol=1e-10)
    assert np.allclose(dx_, xt.grad.numpy(), atol=1e-10)
    assert np.allclose(dg, bn.weight.grad.numpy(), atol=1e-10)
    assert np.allclose(db, bn.bias.grad.numpy(), atol=1e-10)


def test_block_counts_against_formulas():
    assert count_parameters(vgg_block(3, 8)) == 8 * 3 * 9 + 8 + 8 * 8 * 9 + 8
    assert count_parameters(BasicBlock(8, 8)) == 2 * 9 * 64 + 4 * 8
    # a projection shortcut when the shape changes
    assert count_parameters(BasicBlock(8, 16, stride=2)) == (
        9 * 8 * 16 + 9 * 16 * 16 + 4 * 16 + 8 * 16 + 2 * 16)
    assert count_macs(Bottleneck(64, 16), (64, 4, 4)) == (64 * 16 + 9 * 16 * 16 + 16 * 64) * 16
    assert count_macs(InvertedResidual(8, 8, expand=4), (8, 4, 4)) == (
        8 * 32 + 9 * 32 + 32 * 8) * 16
    assert InvertedResidual(8, 16).use_shortcut is False
    torch.manual_seed(0)
    block = InvertedResidual(4, 4).eval()
    x = torch.randn(1, 4, 5, 5)
    assert torch.allclose(block(x), x + block.body(x))


def test_schedules_shapes():
    n = 200
    for s in (schedules.constant(), schedules.constant(0.1), schedules.step_decay(),
              schedules.cosine(), schedules.cosine(0.1), schedules.one_cycle(),
              schedules.lr_range()):
        f = [s(t, n) for t in range(n)]
        assert all(0 <= v <= 1 + 1e-12 for v in f)
    warm = schedules.constant(0.1)
    assert [warm(t, n) for t in (0, 19, 20)] == [0.05, 1.0, 1.0]
    cos = schedules.cosine()
    assert math.isclose(cos(0, n), 1.0) and math.isclose(cos(n - 1, n), 0.0, abs_tol=1e-12)
    assert all(cos(t, n) >= cos(t + 1, n) for t in range(n - 1))


def test_one_cycle_agrees_with_torch():
    total = 100
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=total,
                                              pct_start=0.3, div_factor=25,
                                              final_div_factor=400)
    theirs = []
    for _ in range(total):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        ref.step()
    ours = [schedules.one_cycle()(t, total) for t in range(total)]
    assert np.abs(np.subtract(ours, theirs)).max() < 0.05


def _data(n=64):
    torch.manual_seed(0)
    return torch.randn(n, 1, 8, 8), torch.arange(n) % 10


def test_train_schedule_sets_the_learning_rate_of_every_step():
    x, y = _data()
    seen = []

    def schedule(step, total):
        seen.append((step, total))
        return 0.5

    torch.manual_seed(0)
    model = DeepStack(depth=0, channels=2)
    train(model, make_loader(x, y, 16), epochs=2, lr=0.1, optimizer="sgd",
          schedule=schedule, progress=False)
    assert seen == [(t, 8) for t in range(8)]
    # a zero factor leaves the weights where they were
    before = [p.detach().clone() for p in model.parameters()]
    train(model, make_loader(x, y, 16), epochs=1, lr=0.1, optimizer="sgd", momentum=0.0,
          schedule=lambda t, n: 0.0, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_train_l1_shrinks_weights_and_step_loss_is_recorded():
    x, y = _data()
    norms = []
    for l1 in (0.0, 1e-2):
        torch.manual_seed(0)
        model = DeepStack(depth=2, channels=4)
        hist = train(model, make_loader(x, y, 16), epochs=3, lr=1e-2, l1=l1, progress=False)
        assert len(hist.step_loss) == 12
        norms.append(sum(m.weight.abs().sum().item() for m in model.modules()
                         if isinstance(m, (nn.Conv2d, nn.Linear))))
    assert norms[1] < 0.8 * norms[0]


def test_experiment_grids_and_table():
    names = {g: [c.name for c in cs] for g, cs in dx.GRIDS.items()}
    assert set(names) == {"penalty", "width"}
    assert all(len(set(v)) == len(v) for v in names.values())
    rows = dx.read_csv(RESULTS / "deep.csv")
    for grid, configs in names.items():
        final = dx.final(rows, grid, "val_acc")
        assert set(final) == set(configs), grid
        assert all(len(v) == len(dx.SEEDS) for v in final.values())
    params = [c.model for c in dx.GRIDS["width"]]
    counts = [count_parameters(DeepStack(**p)) for p in params]
    assert max(counts) / min(counts) < 1.1


def test_experiment_run_reproduces_a_table_row():
    """One cheap row of the committed table, re-run: equal within the seed spread."""
    rows = dx.read_csv(RESULTS / "deep.csv")
    name = "residual, 2 layers x 27 channels"
    committed = dx.final(rows, "width", "val_acc")[name]
    _, live = dx.run(dx.find("width", name), 1)
    assert abs(live[-1]["val_acc"] - committed[1]) <= 2 * committed.std() + 0.01
    with pytest.raises(KeyError):
        dx.find("width", "nothing")


def test_train_progress_bar_only_on_a_terminal_by_default(capsys):
    """Notebooks executed for the book (stderr not a terminal) save no progress bar."""
    x, y = _data(32)
    torch.manual_seed(0)
    train(DeepStack(depth=0, channels=2), make_loader(x, y, 16), epochs=2)
    assert capsys.readouterr().err == ""
    train(DeepStack(depth=0, channels=2), make_loader(x, y, 16), epochs=2, progress=True,
          desc="shown")
    assert "shown" in capsys.readouterr().err
