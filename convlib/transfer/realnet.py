"""Fine-tuning a real ImageNet network (EfficientNet-Lite0) on real photographs.

Target task: scikit-image's ``lfw_subset`` -- 100 face crops and 100 non-face crops of
real photographs, 25x25 grey -- upsampled to ``SIZE`` x ``SIZE`` (the crops are square:
nothing is squashed), repeated to three channels and normalised as EfficientNet-Lite was
trained, ``(x - 0.5) / 0.5``. The texture tiles of :mod:`convlib.transfer.textures`
run through the same :func:`grid` (``python -m experiments.textures``); the 8x8 digits
are the honest negative (:func:`digits_runs`).

Protocol. ``N_SPLITS`` repeated stratified splits of all 200 images (:func:`lfw_split`,
split ``s`` drawn with seed ``s``): per class 20 validation images, a pool of 5 and the
remaining 75 as test. A budget of ``b`` labels per class trains on the first ``b`` of
each class's pool, so the budgets of a split are nested and share the test images. Every
choice (learning rate, C of a logistic regression) is made on validation: on the first
``N_SELECT`` splits each strategy runs its whole small grid, the setting with the best
mean validation accuracy (ties: lower mean validation loss) is kept, and the other splits
run only that setting. Within a run the checkpoint with the best validation accuracy
(ties: lower validation loss) is kept: early stopping. Splits are paired: split ``s``
gives every strategy the same training, validation and test images. Each run records the
test accuracy, log-loss, ROC AUC and expected calibration error (:func:`scores`).

Strategies (:data:`STRATEGIES`; ``lora`` is in :data:`ALL_STRATEGIES`, run with
``--strategies lora``):

``pixels``  logistic regression on the 625 pixels;
``hog``     logistic regression on HOG features (scikit-image);
``probe``   logistic regression on the frozen pooled features (a linear probe);
``head``    a new classifier trained like ``lora`` (AdamW, the same steps and schedule)
            on the frozen network: LoRA without its adapters;
``lora``    rank-``RANK`` LoRA on every 1x1 convolution (frozen weights) and a new
            classifier trained;
``full``    every weight trained, discriminative learning rates (each stage a factor
            ``LAYER_DECAY`` slower than the one above it);
``small``   a small CNN with group norm (:class:`SmallCNN`) trained from scratch on the
            25x25 images, its learning rate tuned, ``SMALL_STEPS`` steps.

The practice variants (:data:`VARIANTS`) change one thing of ``full`` at the largest
budget on the first ``N_PRACTICE`` splits: batch norm updating its statistics on tiny
batches, and the ImageNet mean and std instead of the network's own normalisation.
:data:`ALL_VARIANTS` adds four that ``--variants`` can run: augmentation (flips and
shifts), Adam with an L2 penalty instead of AdamW, a constant learning rate instead of
warm-up + cosine decay, and bfloat16 autocast.

The committed table also holds ``lora`` at 1 and 2 labels per class (``--strategies lora
--budgets 1 2``: its attribution, against ``head``) and the ``augment`` variant (``--part
practice --variants augment``).

``python -m experiments.realnet`` (a driver in the repository's ``experiments/`` folder)
runs everything (about a quarter of an hour of CPU time on one core) and writes
``experiments/results/realnet_results.csv``; ``--part``,
``--budgets``, ``--strategies`` and ``--variants`` run pieces (in parallel, say) whose
rows, concatenated, are the same.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import sys
import time
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..models.efficientnet import STAGES, EfficientNetLite0, efficientnet_lite0
from ..models.lora import apply_lora
from ..models.schedules import cosine
from ..models.training import one_thread
from ..teaching.photos import NORMS, lfw_faces

__all__ = ["SIZE", "STRATEGIES", "VARIANTS", "Run", "lfw_split",
           "train_indices", "prepare", "features", "hog_features", "scores", "probe",
           "SmallCNN", "build", "finetune", "warmup_cosine", "linear_runs", "torch_runs",
           "digits_runs", "grid", "read_csv", "select", "paired"]

SIZE = 96
N_SPLITS = 20
N_SELECT = 5  # the splits on which every setting runs and the choice is made
N_PRACTICE = 10
SPLITS = tuple(range(N_SPLITS))
BUDGETS = (1, 2, 5)  # labelled training images per class
VAL_PER_CLASS = 20
POOL_PER_CLASS = max(BUDGETS)
STEPS = 24
EVAL_EVERY = 8
BATCH = 8
SMALL_STEPS = 150
SMALL_EVAL_EVERY = 10
LAYER_DECAY = 0.6
RANK = 4
WEIGHT_DECAY = 0.05
STRATEGIES = ("pixels", "hog", "probe", "head", "full", "small")  # run by default
ALL_STRATEGIES = STRATEGIES + ("lora",)
LINEAR = ("pixels", "hog", "probe")
LRS = {"head": (1e-3, 3e-3, 1e-2, 3e-2, 1e-1), "lora": (3e-3, 1e-2), "full": (1e-3, 3e-3),
       "small": (1e-3, 3e-3, 1e-2)}
PROBE_C = (0.01, 0.1, 1.0, 10.0)
VARIANTS = ("bn_train", "imagenet_norm")  # run by default and in the table
ALL_VARIANTS = VARIANTS + ("augment", "adam_l2", "constant_lr", "bf16")
ECE_BINS = 10


@dataclass
class Run:
    task: str
    budget: int
    strategy: str
    variant: str
    seed: int  # the split (lfw) or the draw of training images (digits)
    lr: float  # the learning rate, or C for a logistic regression
    val_acc: float
    val_loss: float
    test_acc: float
    test_loss: float
    test_auc: float
    test_ece: float
    test_acc_last: float
    best_step: int
    trainable: int
    cpu_s: float


# ----------------------------------------------------------------------------- data


def lfw_split(split: int, y: np.ndarray | None = None, test_per_class: int | None = None,
              ) -> dict[str, np.ndarray]:
    """Split ``split`` of the images labelled ``y`` (default: the 200 lfw images): per
    class ``val`` (20), ``pool`` (5, in drawing order) and ``test`` (the rest, or the
    next ``test_per_class``). Drawn with seed ``split``.

    >>> {k: len(v) for k, v in lfw_split(0).items()}
    {'val': 40, 'pool': 10, 'test': 150}
    """
    if y is None:
        _, y = lfw_faces()
    rng = np.random.default_rng(split)
    parts: dict[str, list] = {"val": [], "pool": [], "test": []}
    start = VAL_PER_CLASS + POOL_PER_CLASS
    stop = None if test_per_class is None else start + test_per_class
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        parts["val"].append(np.sort(idx[:VAL_PER_CLASS]))
        parts["pool"].append(idx[VAL_PER_CLASS:start])
        parts["test"].append(np.sort(idx[start:stop]))
    return {k: np.concatenate(v) for k, v in parts.items()}


def train_indices(split: dict[str, np.ndarray], budget: int) -> np.ndarray:
    """The first ``budget`` images per class of the split's pool (nested budgets)."""
    if not 1 <= budget <= POOL_PER_CLASS:
        raise ValueError(f"budget must be in 1..{POOL_PER_CLASS}, got {budget}")
    pool = split["pool"].reshape(-1, POOL_PER_CLASS)
    return pool[:, :budget].ravel()


def prepare(x: np.ndarray, size: int = SIZE, norm: str = "lite") -> torch.Tensor:
    """Grey images ``(N, h, w)`` in [0, 1] -> ``(N, 3, size, size)`` network input,
    normalised with ``norm`` (``"lite"``: as EfficientNet-Lite was trained)."""
    if np.ndim(x) != 3:
        raise ValueError(f"x must have shape (N, h, w), got {np.shape(x)}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {tuple(NORMS)}, got {norm!r}")
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))[:, None]
    t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
    t = t.repeat(1, 3, 1, 1)
    mean, std = (torch.as_tensor(np.asarray(v, np.float32)).reshape(-1, 1, 1)
                 for v in NORMS[norm])
    return (t - mean) / std


@torch.no_grad()
def features(model: EfficientNetLite0, x: torch.Tensor, batch: int = 100) -> np.ndarray:
    """The frozen 1280 pooled features of ``x`` (eval mode)."""
    model.eval()
    return torch.cat([model.features(x[i:i + batch]) for i in range(0, len(x), batch)]).numpy()


def hog_features(x: np.ndarray, cell: int = 5) -> np.ndarray:
    """HOG descriptors of grey images ``(N, h, w)``: 9 orientations, ``cell`` x ``cell``
    -pixel cells, 2x2-cell blocks (scikit-image)."""
    from skimage.feature import hog

    return np.stack([hog(img, orientations=9, pixels_per_cell=(cell, cell),
                         cells_per_block=(2, 2)) for img in x]).astype(np.float32)


def scores(p_face: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy, log-loss, ROC AUC and expected calibration error (``ECE_BINS`` equal
    bins of the confidence in the predicted class, from 1/K to 1) of the probabilities
    ``p_face`` of class 1, or of an ``(N, K)`` array of class probabilities (then the
    AUC is the mean of the K one-against-the-rest AUCs).

    >>> s = scores(np.array([0.9, 0.2, 0.6, 0.4]), np.array([1, 0, 0, 1]))
    >>> s["acc"], s["auc"]
    (0.5, 0.75)
    """
    p = np.asarray(p_face, dtype=np.float64)
    y = np.asarray(y)
    if p.ndim == 2 and p.shape[1] > 2 and len(p) == len(y):
        return _scores_multiclass(p, y)
    p = np.clip(p[:, 1] if p.ndim == 2 and p.shape[1] == 2 else p, 1e-7, 1 - 1e-7)
    from sklearn.metrics import roc_auc_score

    if p.shape != y.shape:
        raise ValueError(f"p_face and y must have one shape, got {p.shape} and {y.shape}")
    pred = (p > 0.5).astype(y.dtype)
    conf = np.where(pred == 1, p, 1 - p)
    bins = np.minimum(((conf - 0.5) * 2 * ECE_BINS).astype(int), ECE_BINS - 1)
    ece = sum(abs((pred[bins == k] == y[bins == k]).mean() - conf[bins == k].mean())
              * (bins == k).mean() for k in range(ECE_BINS) if (bins == k).any())
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return {"acc": float((pred == y).mean()), "loss": float(loss),
            "auc": float(roc_auc_score(y, p)), "ece": float(ece)}


def _scores_multiclass(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    k = p.shape[1]
    p = np.clip(p, 1e-7, 1)
    pred, conf = p.argmax(1), p.max(1)
    bins = np.minimum(((conf - 1 / k) / (1 - 1 / k) * ECE_BINS).astype(int), ECE_BINS - 1)
    ece = sum(abs((pred[bins == b] == y[bins == b]).mean() - conf[bins == b].mean())
              * (bins == b).mean() for b in range(ECE_BINS) if (bins == b).any())
    return {"acc": float((pred == y).mean()),
            "loss": float(-np.mean(np.log(p[np.arange(len(y)), y]))),
            "auc": float(roc_auc_score(y, p / p.sum(1, keepdims=True), multi_class="ovr")),
            "ece": float(ece)}


def probe(f_train: np.ndarray, y_train: np.ndarray, cs=PROBE_C) -> dict:
    """Logistic regression on the features as they are (with one or two labels per class,
    standardising them would rest on means and spreads of a few numbers):
    ``{C: classifier}``."""
    from sklearn.linear_model import LogisticRegression

    return {c: LogisticRegression(C=c, max_iter=5000).fit(f_train, y_train) for c in cs}


# ----------------------------------------------------------------------------- models


class SmallCNN(nn.Module):
    """A small CNN for 25x25 grey images, trained from scratch: three 3x3 convolutions
    (16, 32, 64 channels) with group norm (the same in training and evaluation, whatever
    the batch size) and ReLU, 2x2 max-pooling after the first two, global average pooling
    and a linear classifier. About 24,000 parameters.

    >>> SmallCNN()(torch.zeros(2, 1, 25, 25)).shape
    torch.Size([2, 2])
    """

    def __init__(self, n_classes: int = 2, widths: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        layers, c_in = [], 1
        for i, c in enumerate(widths):
            layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.GroupNorm(4, c),
                       nn.ReLU()]
            if i < 2:
                layers.append(nn.MaxPool2d(2))
            c_in = c
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x).mean(dim=(2, 3)))


def _stage_of_block() -> list[int]:
    return [s for s, (repeats, *_) in enumerate(STAGES, start=1) for _ in range(repeats)]


def build(strategy: str, n_classes: int = 2, lr: float = 1e-3, seed: int = 0,
          ) -> tuple[nn.Module, list[dict]]:
    """The model of ``strategy`` with a new classifier, and its optimizer groups.
    ``head`` is the classifier alone (it is trained on the frozen features, which is the
    same as training it on top of the frozen network in eval mode)."""
    torch.manual_seed(seed)
    if strategy == "head":
        model = nn.Linear(1280, n_classes)
        return model, [{"params": list(model.parameters()), "lr": lr}]
    if strategy == "small":
        model = SmallCNN(n_classes)
        return model, [{"params": list(model.parameters()), "lr": lr}]
    if strategy not in ("full", "lora"):
        raise ValueError(f"strategy must be one of {tuple(LRS)}, got {strategy!r}")
    model = efficientnet_lite0()
    torch.manual_seed(seed)
    model._fc = nn.Linear(1280, n_classes)
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
    apply_lora(model, RANK, alpha=RANK, target=lambda n, m: m.kernel_size == (1, 1))
    for p in model._fc.parameters():
        p.requires_grad_(True)
    return model, [{"params": [p for p in model.parameters() if p.requires_grad], "lr": lr}]


def warmup_cosine(step: int, steps: int, warmup: float = 0.1) -> float:
    """Learning-rate factor: linear warm-up over ``warmup * steps``, then cosine to 0 at
    step ``steps`` (:func:`convlib.models.schedules.cosine` with ``zero_at="total"``).

    >>> [round(warmup_cosine(s, 20), 3) for s in (0, 1, 2, 19)]
    [0.5, 1.0, 1.0, 0.008]
    """
    return cosine(warmup, zero_at="total")(step, steps)


@torch.no_grad()
def logits_of(model: nn.Module, x: torch.Tensor, bf16: bool = False) -> torch.Tensor:
    """The model's logits on ``x`` in eval mode, in batches of 50, as float32."""
    model.eval()
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with ctx:
        return torch.cat([model(x[i:i + 50]) for i in range(0, len(x), 50)]).float()


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, bf16: bool = False):
    logits = logits_of(model, x, bf16)
    return (logits.argmax(1) == y).float().mean().item(), F.cross_entropy(logits, y).item()


def _set_train_mode(model: nn.Module, bn_train: bool) -> None:
    model.train()
    if not bn_train:
        for m in model.modules():  # pretrained statistics stay: eval-mode batch norm
            if isinstance(m, nn.BatchNorm2d):
                m.eval()


def augment(x: torch.Tensor, gen: torch.Generator, shift: float = 1 / 12) -> torch.Tensor:
    """Each image flipped left-right with probability 1/2 and shifted by up to ``shift``
    of its size in each direction (reflected at the border)."""
    n, _, h, w = x.shape
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    p = max(1, round(shift * h))
    xp = F.pad(x, (p, p, p, p), mode="reflect")
    dy, dx = torch.randint(0, 2 * p + 1, (2, n), generator=gen).tolist()
    return torch.stack([xp[i, :, a:a + h, b:b + w] for i, (a, b) in enumerate(zip(dy, dx))])


def finetune(model, groups, xtr, ytr, xval, yval, *, seed: int, steps: int = STEPS,
             eval_every: int = EVAL_EVERY, optimizer: str = "adamw", schedule: bool = True,
             bn_train: bool = False, bf16: bool = False, augmented: bool = False):
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
        _set_train_mode(model, bn_train)
        xb = augment(xtr[idx], gen) if augmented else xtr[idx]
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with ctx:
            loss = F.cross_entropy(model(xb).float(), ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % eval_every == 0:
            acc, vloss = _evaluate(model, xval, yval, bf16)
            key = (acc, -vloss)
            if best_key is None or key > best_key:
                best_key, best = key, (copy.deepcopy(model.state_dict()), step + 1)
    last = copy.deepcopy(model)
    model.load_state_dict(best[0])
    return model, last, (best_key[0], -best_key[1], best[1])


# ----------------------------------------------------------------------------- grid


def _inputs(strategy: str, norm: str = "lite", x: np.ndarray | None = None) -> torch.Tensor:
    """What ``strategy`` trains on, for all images ``x`` (default: the 200 lfw images)."""
    if x is None:
        x, _ = lfw_faces()
    if strategy == "small":
        return (torch.from_numpy(x)[:, None] - 0.5) / 0.5
    if strategy == "head":
        return torch.from_numpy(features(efficientnet_lite0(), prepare(x, SIZE, norm)))
    return prepare(x, SIZE, norm)


def _choose(trials: dict) -> object:
    """The setting with the best mean validation accuracy over the first ``N_SELECT``
    splits; ties go to the lower mean validation loss."""
    def key(setting):
        sel = [t for t in trials[setting] if t["seed"] < N_SELECT]
        return (np.mean([t["val_acc"] for t in sel]), -np.mean([t["val_loss"] for t in sel]))

    return max(trials, key=key)


def linear_runs(f: np.ndarray, y: np.ndarray, budget: int, strategy: str,
                splits=SPLITS, task: str = "lfw", test_per_class: int | None = None,
                ) -> list[Run]:
    """Logistic regression on ``f`` (one row per image) for every split; C chosen on
    validation (see the protocol), then the test split of every split once."""
    from sklearn.metrics import log_loss

    trials: dict = {c: [] for c in PROBE_C}
    fits = {}
    labels = np.unique(y)
    for s in splits:
        t0 = time.process_time()
        sp = lfw_split(s, y, test_per_class)
        tr = train_indices(sp, budget)
        fits[s] = probe(f[tr], y[tr], PROBE_C if s < N_SELECT else ())
        fits[s]["cpu"] = time.process_time() - t0
        for c in PROBE_C if s < N_SELECT else ():
            p = fits[s][c].predict_proba(f[sp["val"]])
            trials[c].append({"seed": s, "val_acc": fits[s][c].score(f[sp["val"]], y[sp["val"]]),
                              "val_loss": log_loss(y[sp["val"]], p, labels=labels)})
    c_best = _choose(trials)
    runs = []
    for s in splits:
        t0 = time.process_time()
        sp = lfw_split(s, y, test_per_class)
        clf = fits[s].get(c_best) or probe(f[train_indices(sp, budget)],
                                           y[train_indices(sp, budget)], (c_best,))[c_best]
        pv = clf.predict_proba(f[sp["val"]])
        sc = scores(clf.predict_proba(f[sp["test"]]), y[sp["test"]])
        runs.append(Run(task, budget, strategy, "", s, c_best,
                        clf.score(f[sp["val"]], y[sp["val"]]),
                        log_loss(y[sp["val"]], pv, labels=labels), sc["acc"], sc["loss"],
                        sc["auc"], sc["ece"], sc["acc"], 0, clf.coef_.size + 1,
                        fits[s]["cpu"] + time.process_time() - t0))
    return runs


def torch_runs(x: torch.Tensor, y: np.ndarray, budget: int, strategy: str,
               variant: str = "", lrs=None, splits=SPLITS, models: dict | None = None,
               task: str = "lfw", test_per_class: int | None = None) -> list[Run]:
    """``strategy`` (``head``, ``lora``, ``full``, ``small``) on every split: on the
    first ``N_SELECT`` splits at every learning rate, the one with the best mean
    validation accuracy kept, the other splits at that one only; the test split of each
    kept run evaluated once. ``models``: a dict that receives ``{split: kept model}``."""
    kw = {"bn_train": variant == "bn_train", "bf16": variant == "bf16",
          "optimizer": "adam" if variant == "adam_l2" else "adamw",
          "schedule": variant != "constant_lr", "augmented": variant == "augment"}
    if strategy == "small":
        kw.update(steps=SMALL_STEPS, eval_every=SMALL_EVAL_EVERY)
    yt = torch.from_numpy(y)
    lrs = tuple(lrs or LRS[strategy])

    def one(s, lr):
        t0 = time.process_time()
        sp = lfw_split(s, y, test_per_class)
        tr = torch.from_numpy(train_indices(sp, budget))
        va = torch.from_numpy(sp["val"])
        model, groups = build(strategy, int(y.max()) + 1, lr=lr, seed=s)
        best, last, (vacc, vloss, bstep) = finetune(model, groups, x[tr], yt[tr], x[va],
                                                    yt[va], seed=s, **kw)
        return {"seed": s, "best": best, "last": last, "val_acc": vacc, "val_loss": vloss,
                "step": bstep, "cpu": time.process_time() - t0,
                "n": sum(p.numel() for p in best.parameters() if p.requires_grad)}

    trials = {lr: [one(s, lr) for s in splits if s < N_SELECT or len(lrs) == 1]
              for lr in lrs}
    lr_best = _choose(trials) if len(lrs) > 1 else lrs[0]
    kept = {t["seed"]: t for t in trials[lr_best]}
    runs = []
    for s in splits:
        t = kept.get(s) or one(s, lr_best)
        te = torch.from_numpy(lfw_split(s, y, test_per_class)["test"])
        p = torch.softmax(logits_of(t["best"], x[te], kw["bf16"]), 1).numpy()
        sc = scores(p, y[te])
        last_acc = _evaluate(t["last"], x[te], yt[te], kw["bf16"])[0]
        runs.append(Run(task, budget, strategy, variant, s, lr_best, t["val_acc"],
                        t["val_loss"], sc["acc"], sc["loss"], sc["auc"], sc["ece"],
                        last_acc, t["step"], t["n"], t["cpu"]))
        if models is not None:
            models[s] = t["best"]
    return runs


DIGITS_BUDGET = 5
DIGITS_SIZES = (32, 96)
DIGITS_SEEDS = tuple(range(10))


def digits_splits(y: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Fixed digits splits: per class 30 test, 15 validation, the rest the pool."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {"test": [], "val": [], "pool": []}
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        parts["test"].append(idx[:30])
        parts["val"].append(idx[30:45])
        parts["pool"].append(idx[45:])
    return {k: np.concatenate(v) for k, v in parts.items()}


def digits_train(pool: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """``DIGITS_BUDGET`` digits per class drawn from ``pool`` with seed ``1000 + seed``."""
    rng = np.random.default_rng(1000 + seed)
    return np.concatenate([rng.choice(pool[y[pool] == c], DIGITS_BUDGET, replace=False)
                           for c in np.unique(y[pool])])


def digits_runs() -> list[Run]:
    """The honest negative: 8x8 digits, 5 labels per class, ``DIGITS_SEEDS`` draws of
    the training images. Logistic regression on the 64 pixels, the linear probe on
    ImageNet features at two input sizes, and the book's small CNN from scratch; every C
    / learning rate chosen on validation (mean over the draws)."""
    from ..models import DigitsCNN, make_loader, train
    from ..teaching.data import digits

    x, y = digits()
    sp = digits_splits(y)
    model = efficientnet_lite0()
    rows = []
    tr_by_seed = {s: digits_train(sp["pool"], y, s) for s in DIGITS_SEEDS}
    used = np.unique(np.concatenate([*tr_by_seed.values(), sp["val"], sp["test"]]))
    nan = float("nan")

    def linear(feats, strategy, variant, cpu):
        fits = {s: probe(feats[tr_by_seed[s]], y[tr_by_seed[s]]) for s in DIGITS_SEEDS}

        def score(s, c, part):
            return fits[s][c].score(feats[sp[part]], y[sp[part]])

        c_best = max(PROBE_C, key=lambda c: np.mean([score(s, c, "val") for s in fits]))
        return [Run("digits", DIGITS_BUDGET, strategy, variant, s, c_best,
                    score(s, c_best, "val"), nan, score(s, c_best, "test"), nan, nan, nan,
                    score(s, c_best, "test"), 0, feats.shape[1] * 10 + 10, cpu)
                for s in DIGITS_SEEDS]

    rows += linear(x.reshape(len(x), -1), "pixels", "", 0.0)
    for size in DIGITS_SIZES:
        t0 = time.process_time()
        f = np.zeros((len(x), 1280), np.float32)
        f[used] = features(model, prepare(x[used], size))
        rows += linear(f, "probe", f"size{size}",
                       (time.process_time() - t0) / len(DIGITS_SEEDS))
    xt, yt = torch.from_numpy(x[:, None].astype(np.float32)), torch.from_numpy(y)
    trials = {}
    for lr in (3e-3, 1e-2):
        trials[lr] = []
        for s in DIGITS_SEEDS:
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
    rows += [Run("digits", DIGITS_BUDGET, "cnn_scratch", "", s, lr_best, acc["val"], nan,
                 acc["test"], nan, nan, nan, acc["test"], 0, n, cpu)
             for s, acc, n, cpu in trials[lr_best]]
    return rows


def run_all(parts=("main", "digits", "practice"), full_lr: float | None = None,
            budgets=BUDGETS, strategies=STRATEGIES, variants=VARIANTS,
            progress: bool = True, splits=SPLITS, lrs=None) -> list[Run]:
    """The lfw grid (``main``), the digits (``digits``) and the practice variants
    (``practice``, at the learning rate ``main`` chose for ``full`` at the largest
    budget, or ``full_lr``). ``budgets``, ``strategies``, ``variants``, and for ``main``
    ``splits`` and ``lrs`` (see :func:`grid`), run a part of a part."""
    runs: list[Run] = []

    def log(msg):
        if progress:
            print(msg, file=sys.stderr, flush=True)

    x, y = lfw_faces()
    budget = max(BUDGETS)
    with one_thread():
        if "main" in parts:
            runs += grid(x, y, "lfw", budgets, strategies, log=log, splits=splits, lrs=lrs)
            full_lr = next((r.lr for r in runs if r.strategy == "full" and r.budget == budget),
                           full_lr)
        if "digits" in parts:
            log("digits")
            runs += digits_runs()
        if "practice" in parts:
            if full_lr is None:
                raise ValueError("the practice part needs the main part or full_lr")
            for variant in variants:
                log(f"lfw budget {budget}: full, {variant}")
                xv = _inputs("full", "imagenet" if variant == "imagenet_norm" else "lite")
                runs += torch_runs(xv, y, budget, "full", variant, lrs=(full_lr,),
                                   splits=tuple(range(N_PRACTICE)))
    return runs


def grid(x: np.ndarray, y: np.ndarray, task: str, budgets=BUDGETS, strategies=STRATEGIES,
         hog_cell: int = 5, test_per_class: int | None = None, log=print,
         splits=SPLITS, lrs=None) -> list[Run]:
    """Every strategy at every budget on the grey images ``x`` in [0, 1] labelled ``y``
    (the protocol of the module's docstring), largest budget first. ``splits`` and
    ``lrs`` (one learning rate for the trained strategies) run a piece of it: each run
    depends only on its split and setting, so the rows of ``splits=range(N_SELECT)``
    with every setting and of the other splits at the setting those choose are the
    rows of one run."""
    runs: list[Run] = []
    inputs: dict = {}
    kw = {"task": task, "test_per_class": test_per_class, "splits": tuple(splits)}
    for b in sorted(budgets, reverse=True):
        for strategy in strategies:
            log(f"{task} budget {b}: {strategy}")
            if strategy == "pixels":
                runs += linear_runs(x.reshape(len(x), -1), y, b, strategy, **kw)
            elif strategy == "hog":
                runs += linear_runs(hog_features(x, hog_cell), y, b, strategy, **kw)
            elif strategy == "probe":
                if "feats" not in inputs:
                    inputs["feats"] = features(efficientnet_lite0(), prepare(x))
                runs += linear_runs(inputs["feats"], y, b, strategy, **kw)
            else:
                if strategy not in inputs:
                    inputs[strategy] = _inputs(strategy, x=x)
                runs += torch_runs(inputs[strategy], y, b, strategy, lrs=lrs, **kw)
    return runs


def write_csv(runs, path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[fl.name for fl in fields(Run)])
        w.writeheader()
        for r in runs:
            row = asdict(r)
            for k, v in row.items():
                if isinstance(v, float):
                    row[k] = f"{v:.6g}"
            w.writerow(row)


def read_csv(path) -> list[Run]:
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


def paired(a: list[Run], b: list[Run], field: str = "test_acc") -> np.ndarray:
    """Per-split differences ``a - b`` of ``field`` over the splits both have."""
    common = sorted({r.seed for r in a} & {r.seed for r in b})
    if not common:
        raise ValueError("paired runs must share splits")
    da, db = {r.seed: r for r in a}, {r.seed: r for r in b}
    return np.array([getattr(da[s], field) - getattr(db[s], field) for s in common])
