"""Fine-tuning a real ImageNet network (EfficientNet-Lite0) on real photographs.

Target task: scikit-image's ``lfw_subset`` -- 100 face crops and 100 non-face crops of
real photographs, 25x25 grey -- upsampled to ``SIZE`` x ``SIZE``, repeated to three
channels and normalised with the ImageNet mean and std. A second task, the 8x8 digits,
is the honest negative (:func:`digits_rows`).

Protocol. The splits are fixed once (:func:`lfw_splits`, seed ``SPLIT_SEED``): per class
40 test, 20 validation and a pool of 40 from which each seed draws its ``budget``
labelled training images. Every choice (learning rate, C of the probe) is made on the
validation split: each strategy runs its small grid over all seeds, the setting with the
best mean validation accuracy is kept, and only then is the test split evaluated, once,
for the kept runs. Within a run the checkpoint with the best validation accuracy (ties:
lower validation loss) is kept: early stopping. Seeds are paired: seed ``s`` draws the
same training images and the same order of batches for every strategy.

Strategies (:data:`STRATEGIES`):

``scratch``   the same architecture, random weights, everything trained;
``probe``     logistic regression on the frozen pooled features (a linear probe);
``last``      the last four blocks, the head convolution and a new classifier trained;
``full``      every weight trained, discriminative learning rates (each stage a factor
              ``LAYER_DECAY`` slower than the one above it);
``lora``      rank-``RANK`` LoRA on every 1x1 convolution (frozen weights) and a new
              classifier trained.

The practice variants (:data:`VARIANTS`) change one thing of ``full`` at the largest
budget: batch norm updating its statistics on tiny batches, Adam with an L2 penalty
instead of AdamW, a constant learning rate instead of warm-up + cosine decay, bfloat16
autocast, and no ImageNet normalisation.

``python -m convlib.transfer.realnet`` runs everything (about 12 minutes of CPU time on
one core) and writes ``convlib/transfer/checkpoints/realnet_results.csv``; ``--part``,
``--budgets``, ``--strategies`` and ``--variants`` run pieces (in parallel, say) whose
rows, concatenated in the order of one run, are the same.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..models.efficientnet import STAGES, EfficientNetLite0, efficientnet_lite0
from ..models.lora import apply_lora
from ..models.schedules import cosine
from ..models.training import one_thread
from ..teaching.photos import IMAGENET_MEAN, IMAGENET_STD, lfw_faces

__all__ = ["SIZE", "STRATEGIES", "VARIANTS", "RESULTS", "Run", "lfw_splits", "prepare",
           "features", "probe", "build", "finetune", "warmup_cosine", "probe_runs",
           "finetune_runs", "digits_runs", "read_csv", "select", "mean_std", "paired", "main"]

SIZE = 96
SPLIT_SEED = 0
SEEDS = tuple(range(5))
BUDGETS = (2, 10)  # labelled training images per class
STEPS = 24
EVAL_EVERY = 8
BATCH = 8
LAYER_DECAY = 0.6
RANK = 4
WEIGHT_DECAY = 0.05
STRATEGIES = ("scratch", "probe", "last", "full", "lora")
LRS = {"scratch": (1e-3, 3e-3), "last": (1e-3, 3e-3), "full": (1e-3, 3e-3),
       "lora": (3e-3, 1e-2)}
PROBE_C = (0.01, 0.1, 1.0, 10.0)
VARIANTS = ("bn_train", "adam_l2", "constant_lr", "bf16", "no_normalise")
RESULTS = Path(__file__).parent / "checkpoints" / "realnet_results.csv"
LAST_BLOCK = 12  # "last": blocks 12..15 and the head train


@dataclass
class Run:
    task: str
    budget: int
    strategy: str
    variant: str
    seed: int
    lr: float
    val_acc: float
    val_loss: float
    test_acc: float
    test_acc_last: float
    best_step: int
    trainable: int
    cpu_s: float


# ----------------------------------------------------------------------------- data


def lfw_splits(seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Indices of the fixed ``test`` (40 per class), ``val`` (20) and ``pool`` (40)."""
    _, y = lfw_faces()
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {"test": [], "val": [], "pool": []}
    for c in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == c))
        parts["test"].append(idx[:40])
        parts["val"].append(idx[40:60])
        parts["pool"].append(idx[60:])
    return {k: np.concatenate(v) for k, v in parts.items()}


def train_indices(pool: np.ndarray, y: np.ndarray, budget: int, seed: int) -> np.ndarray:
    """``budget`` images per class drawn from ``pool`` (the same for every strategy)."""
    rng = np.random.default_rng(1000 + seed)
    return np.concatenate([rng.choice(pool[y[pool] == c], budget, replace=False)
                           for c in np.unique(y[pool])])


def prepare(x: np.ndarray, size: int = SIZE, normalise: bool = True) -> torch.Tensor:
    """Grey images ``(N, h, w)`` in [0, 1] -> ``(N, 3, size, size)`` network input."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))[:, None]
    t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
    t = t.repeat(1, 3, 1, 1)
    if normalise:
        mean = torch.from_numpy(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.from_numpy(IMAGENET_STD).view(1, 3, 1, 1)
        t = (t - mean) / std
    return t


@torch.no_grad()
def features(model: EfficientNetLite0, x: torch.Tensor, batch: int = 100) -> np.ndarray:
    """The frozen 1280 pooled features of ``x`` (eval mode)."""
    model.eval()
    return torch.cat([model.features(x[i:i + batch]) for i in range(0, len(x), batch)]).numpy()


def probe(f_train: np.ndarray, y_train: np.ndarray, cs=PROBE_C) -> dict:
    """Logistic regression on the features as they are (with two labels per class,
    standardising them would rest on means and spreads of four numbers):
    ``{C: classifier}``."""
    from sklearn.linear_model import LogisticRegression

    return {c: LogisticRegression(C=c, max_iter=5000).fit(f_train, y_train) for c in cs}


def _choose(fits_by_seed: list[dict], f_val: np.ndarray, y_val: np.ndarray) -> float:
    """The C with the best mean validation accuracy; ties go to the lower mean log-loss."""
    from sklearn.metrics import log_loss

    def key(c):
        acc = np.mean([fits[c].score(f_val, y_val) for fits in fits_by_seed])
        loss = np.mean([log_loss(y_val, fits[c].predict_proba(f_val),
                                 labels=fits[c].classes_) for fits in fits_by_seed])
        return acc, -loss

    return max(PROBE_C, key=key)


# ----------------------------------------------------------------------------- models


def _stage_of_block() -> list[int]:
    return [s for s, (repeats, *_) in enumerate(STAGES, start=1) for _ in range(repeats)]


def build(strategy: str, n_classes: int = 2, lr: float = 1e-3, seed: int = 0,
          ) -> tuple[nn.Module, list[dict]]:
    """The model of ``strategy`` with a new classifier, and its optimizer groups."""
    torch.manual_seed(seed)
    model = EfficientNetLite0() if strategy == "scratch" else efficientnet_lite0()
    model._fc = nn.Linear(1280, n_classes)
    if strategy == "scratch":
        for m in model.modules():  # a short run: running statistics as plain averages
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = None
        return model, [{"params": list(model.parameters()), "lr": lr}]
    if strategy == "full":
        # discriminative learning rates: depth 0 (stem) .. 8 (head conv) .. 9 (classifier)
        depth = {"_conv_stem": 0, "_bn0": 0, "_conv_head": 8, "_bn1": 8, "_fc": 9}
        stages = _stage_of_block()
        groups: dict[int, list] = {}
        for name, p in model.named_parameters():
            top = name.split(".")[0]
            d = stages[int(name.split(".")[1])] if top == "_blocks" else depth[top]
            groups.setdefault(d, []).append(p)
        return model, [{"params": ps, "lr": lr * LAYER_DECAY ** (9 - d)}
                       for d, ps in sorted(groups.items())]
    for p in model.parameters():
        p.requires_grad_(False)
    if strategy == "last":
        for m in [*model._blocks[LAST_BLOCK:], model._conv_head, model._bn1, model._fc]:
            for p in m.parameters():
                p.requires_grad_(True)
    elif strategy == "lora":
        torch.manual_seed(seed)
        apply_lora(model, RANK, alpha=RANK, target=lambda n, m: m.kernel_size == (1, 1))
        for p in model._fc.parameters():
            p.requires_grad_(True)
    else:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    return model, [{"params": [p for p in model.parameters() if p.requires_grad], "lr": lr}]


def warmup_cosine(step: int, steps: int, warmup: float = 0.1) -> float:
    """Learning-rate factor: linear warm-up over ``warmup * steps``, then cosine to 0 at
    step ``steps`` (:func:`convlib.models.schedules.cosine` with ``zero_at="total"``).

    >>> [round(warmup_cosine(s, 20), 3) for s in (0, 1, 2, 19)]
    [0.5, 1.0, 1.0, 0.008]
    """
    return cosine(warmup, zero_at="total")(step, steps)


@torch.no_grad()
def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, bf16: bool = False):
    model.eval()
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with ctx:
        logits = torch.cat([model(x[i:i + 50]) for i in range(0, len(x), 50)]).float()
    return (logits.argmax(1) == y).float().mean().item(), F.cross_entropy(logits, y).item()


def _set_train_mode(model: nn.Module, strategy: str, bn_train: bool) -> None:
    model.train()
    if strategy != "scratch" and not bn_train:
        for m in model.modules():  # pretrained statistics stay: eval-mode batch norm
            if isinstance(m, nn.BatchNorm2d):
                m.eval()


def finetune(model, groups, xtr, ytr, xval, yval, *, strategy: str, seed: int,
             steps: int = STEPS, optimizer: str = "adamw", schedule: bool = True,
             bn_train: bool = False, bf16: bool = False):
    """Train ``steps`` batches; return the best-on-validation model, the last one, and
    ``(val_acc, val_loss, best_step)``."""
    for g in groups:
        g["base_lr"] = g["lr"]
    if optimizer == "adamw":
        opt = torch.optim.AdamW(groups, weight_decay=WEIGHT_DECAY)
    else:  # Adam + L2: the penalty's gradient goes through Adam's scaling
        opt = torch.optim.Adam(groups, weight_decay=WEIGHT_DECAY)
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(xtr), generator=gen)
    pos, best, best_key = 0, None, None
    for step in range(steps):
        if pos + min(BATCH, len(xtr)) > len(order):
            order, pos = torch.randperm(len(xtr), generator=gen), 0
        idx = order[pos:pos + BATCH]
        pos += len(idx)
        factor = warmup_cosine(step, steps) if schedule else 1.0
        for g in opt.param_groups:
            g["lr"] = g["base_lr"] * factor
        _set_train_mode(model, strategy, bn_train)
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with ctx:
            loss = F.cross_entropy(model(xtr[idx]).float(), ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % EVAL_EVERY == 0:
            acc, vloss = _evaluate(model, xval, yval, bf16)
            key = (acc, -vloss)
            if best_key is None or key > best_key:
                best_key, best = key, (copy.deepcopy(model.state_dict()), step + 1)
    last = copy.deepcopy(model)
    model.load_state_dict(best[0])
    return model, last, (best_key[0], -best_key[1], best[1])


# ----------------------------------------------------------------------------- grid


def _data(normalise: bool = True):
    x, y = lfw_faces()
    sp = lfw_splits()
    xt = prepare(x, SIZE, normalise)
    return xt, torch.from_numpy(y), sp


def probe_runs(task_x, y, sp, budget: int, variant: str = "", model=None,
               feats: np.ndarray | None = None) -> list[Run]:
    """The linear probe for every seed; C chosen on validation, then test once.
    ``feats``: the features of ``task_x`` when already computed."""
    t0 = time.process_time()
    f = feats if feats is not None else features(model or efficientnet_lite0(), task_x)
    yn = y.numpy()
    fits = [probe(f[tr], yn[tr]) for tr in
            (train_indices(sp["pool"], yn, budget, seed) for seed in SEEDS)]
    c_best = _choose(fits, f[sp["val"]], yn[sp["val"]])
    cpu = (time.process_time() - t0) / len(SEEDS)
    runs = []
    for seed, fit in zip(SEEDS, fits):
        clf = fit[c_best]
        v = clf.score(f[sp["val"]], yn[sp["val"]])
        t = clf.score(f[sp["test"]], yn[sp["test"]])
        runs.append(Run("lfw", budget, "probe", variant, seed, c_best, v, float("nan"), t, t,
                        0, 1280 * 2 + 2, cpu))
    return runs


def finetune_runs(xt, y, sp, budget: int, strategy: str, variant: str = "",
                  lrs=None, seeds=SEEDS, models: list | None = None) -> list[Run]:
    """Every seed at every learning rate; the best mean validation accuracy is kept and
    only those runs see the test split. ``models``: a list that receives the kept
    (early-stopped) models."""
    kw = {"bn_train": variant == "bn_train", "bf16": variant == "bf16",
          "optimizer": "adam" if variant == "adam_l2" else "adamw",
          "schedule": variant != "constant_lr"}
    yn = y.numpy()
    trials = {}
    for lr in lrs or LRS[strategy]:
        trials[lr] = []
        for seed in seeds:
            t0 = time.process_time()
            tr = torch.from_numpy(train_indices(sp["pool"], yn, budget, seed))
            model, groups = build(strategy, lr=lr, seed=seed)
            best, last, (vacc, vloss, bstep) = finetune(
                model, groups, xt[tr], y[tr], xt[sp["val"]], y[sp["val"]],
                strategy=strategy, seed=seed, **kw)
            n_train = sum(p.numel() for p in best.parameters() if p.requires_grad)
            trials[lr].append((seed, best, last, vacc, vloss, bstep, n_train,
                               time.process_time() - t0))
    lr_best = max(trials, key=lambda lr: (np.mean([t[3] for t in trials[lr]]),
                                          -np.mean([t[4] for t in trials[lr]])))
    runs = []
    te = torch.from_numpy(sp["test"])
    for seed, best, last, vacc, vloss, bstep, n_train, cpu in trials[lr_best]:
        tacc = _evaluate(best, xt[te], y[te], kw["bf16"])[0]
        tlast = _evaluate(last, xt[te], y[te], kw["bf16"])[0]
        runs.append(Run("lfw", budget, strategy, variant, seed, lr_best, vacc, vloss, tacc,
                        tlast, bstep, n_train, cpu))
        if models is not None:
            models.append(best)
    return runs


def digits_splits(y: np.ndarray, seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Fixed digits splits: per class 30 test, 15 validation, the rest the pool."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {"test": [], "val": [], "pool": []}
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        parts["test"].append(idx[:30])
        parts["val"].append(idx[30:45])
        parts["pool"].append(idx[45:])
    return {k: np.concatenate(v) for k, v in parts.items()}


DIGITS_BUDGET = 5
DIGITS_SIZES = (32, 96)


def digits_runs() -> list[Run]:
    """The honest negative: 8x8 digits, 5 labels per class. Logistic regression on the
    64 pixels, the linear probe on ImageNet features at two input sizes, and the book's
    small CNN from scratch; every C / learning rate chosen on validation."""
    from ..models import DigitsCNN, make_loader, train
    from ..teaching.data import digits

    x, y = digits()
    sp = digits_splits(y)
    model = efficientnet_lite0()
    rows = []
    tr_by_seed = {s: train_indices(sp["pool"], y, DIGITS_BUDGET, s) for s in SEEDS}
    used = np.unique(np.concatenate([*tr_by_seed.values(), sp["val"], sp["test"]]))

    def linear(feats, strategy, variant, cpu):
        fits = {s: probe(feats[tr_by_seed[s]], y[tr_by_seed[s]]) for s in SEEDS}

        def score(s, c, part):
            return fits[s][c].score(feats[sp[part]], y[sp[part]])

        c_best = _choose(list(fits.values()), feats[sp["val"]], y[sp["val"]])
        return [Run("digits", DIGITS_BUDGET, strategy, variant, s, c_best,
                    score(s, c_best, "val"), float("nan"), score(s, c_best, "test"),
                    score(s, c_best, "test"), 0, feats.shape[1] * 10 + 10, cpu)
                for s in SEEDS]

    rows += linear(x.reshape(len(x), -1), "pixels", "", 0.0)
    for size in DIGITS_SIZES:
        t0 = time.process_time()
        f = np.zeros((len(x), 1280), np.float32)
        f[used] = features(model, prepare(x[used], size))
        rows += linear(f, "probe", f"size{size}", (time.process_time() - t0) / len(SEEDS))
    xt, yt = torch.from_numpy(x[:, None].astype(np.float32)), torch.from_numpy(y)
    trials = {}
    for lr in (3e-3, 1e-2):
        trials[lr] = []
        for s in SEEDS:
            t0 = time.process_time()
            tr = torch.from_numpy(tr_by_seed[s])
            torch.manual_seed(s)
            net = DigitsCNN()
            train(net, make_loader(xt[tr], yt[tr], 16), epochs=60, lr=lr, seed=s,
                  progress=False)
            net.eval()
            with torch.no_grad():
                acc = {part: (net(xt[sp[part]]).argmax(1) == yt[sp[part]]).float().mean().item()
                       for part in ("val", "test")}
            trials[lr].append((s, acc, sum(p.numel() for p in net.parameters()),
                               time.process_time() - t0))
    lr_best = max(trials, key=lambda lr: np.mean([t[1]["val"] for t in trials[lr]]))
    rows += [Run("digits", DIGITS_BUDGET, "cnn_scratch", "", s, lr_best, acc["val"],
                 float("nan"), acc["test"], acc["test"], 0, n, cpu)
             for s, acc, n, cpu in trials[lr_best]]
    return rows


def run_all(parts=("main", "digits", "practice"), full_lr: float | None = None,
            budgets=BUDGETS, strategies=None, variants=VARIANTS,
            progress: bool = True) -> list[Run]:
    """The lfw grid (``main``), the digits (``digits``) and the practice variants
    (``practice``, at the learning rate ``main`` chose for ``full``, or ``full_lr``).
    ``budgets``, ``strategies`` and ``variants`` run a part of a part: the rows of the
    pieces, in this order, are those of one run."""
    runs: list[Run] = []
    strategies = strategies or ("full", "probe", "last", "lora", "scratch")

    def log(msg):
        if progress:
            print(msg, file=sys.stderr, flush=True)

    xt, y, sp = _data()
    budget = max(BUDGETS)
    with one_thread():
        if "main" in parts:
            for b in sorted(budgets, reverse=True):
                for strategy in strategies:
                    log(f"lfw budget {b}: {strategy}")
                    runs += (probe_runs(xt, y, sp, b) if strategy == "probe" else
                             finetune_runs(xt, y, sp, b, strategy))
                    if strategy == "full" and b == budget:
                        full_lr = runs[-1].lr
                        log(f"full fine-tuning, budget {b}: learning rate {full_lr:g}")
        if "digits" in parts:
            log("digits")
            runs += digits_runs()
        if "practice" in parts:
            if full_lr is None:
                raise ValueError("the practice part needs the main part or full_lr")
            xraw, _, _ = _data(normalise=False)
            if "no_normalise" in variants:
                runs += probe_runs(xraw, y, sp, budget, variant="no_normalise")
            for variant in variants:
                log(f"lfw budget {budget}: full, {variant}")
                runs += finetune_runs(xraw if variant == "no_normalise" else xt, y, sp,
                                      budget, "full", variant, lrs=(full_lr,))
    return runs


def write_csv(runs, path=RESULTS) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[fl.name for fl in fields(Run)])
        w.writeheader()
        for r in runs:
            row = asdict(r)
            for k, v in row.items():
                if isinstance(v, float):
                    row[k] = f"{v:.6g}"
            w.writerow(row)


def read_csv(path=RESULTS) -> list[Run]:
    out = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            cast = {"str": str, "int": int, "float": float}
            out.append(Run(**{fl.name: cast[fl.type](row[fl.name]) for fl in fields(Run)}))
    return out


def select(runs, **match) -> list[Run]:
    """The runs whose fields equal ``match`` (``variant`` defaults to ""), by seed."""
    match.setdefault("variant", "")
    out = [r for r in runs if all(getattr(r, k) == v for k, v in match.items())]
    return sorted(out, key=lambda r: r.seed)


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) over seeds."""
    v = np.asarray(list(values), dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def paired(a: list[Run], b: list[Run], field: str = "test_acc") -> np.ndarray:
    """Per-seed differences ``a - b`` of ``field`` (the runs must share their seeds)."""
    if [r.seed for r in a] != [r.seed for r in b]:
        raise ValueError("paired runs must have the same seeds")
    return np.array([getattr(x, field) - getattr(y, field) for x, y in zip(a, b)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m convlib.transfer.realnet",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default=str(RESULTS), help="where to write the runs")
    ap.add_argument("--part", nargs="+", choices=("main", "digits", "practice"),
                    default=("main", "digits", "practice"),
                    help="run only these parts (in this order; the rows of separate runs "
                         "concatenate to those of one run)")
    ap.add_argument("--full-lr", type=float, default=None,
                    help="for --part practice without main: the learning rate main chose")
    ap.add_argument("--budgets", nargs="+", type=int, default=BUDGETS)
    ap.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=None)
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=VARIANTS)
    args = ap.parse_args(argv)
    runs = run_all(args.part, args.full_lr, args.budgets, args.strategies, args.variants)
    write_csv(runs, args.csv)
    for r in runs:
        print(f"{r.task} {r.budget:2d} {r.strategy:8s} {r.variant:12s} seed {r.seed} "
              f"lr {r.lr:.0e} val {r.val_acc:.3f} test {r.test_acc:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
