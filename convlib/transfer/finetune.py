"""The fine-tuning experiment: seven ways to adapt a pretrained CNN to a small target task.

The pretrained networks (:mod:`convlib.transfer.pretrain`) know noisy digits 0-4 (the *broad* one
also their orientation); the target task is noisy digits 5-9 with ``budget`` labelled
images per class. Every strategy starts from the same network, trains for the same
number of steps with the same optimizer and augmentation
(:func:`convlib.transfer.pretrain.augment`), at its own learning rate chosen on the
validation split (so that the baseline is tuned as carefully as the methods), and is judged
on the same held-out target images (the validation split for design choices, the test split
for the reported numbers):

``scratch``
    Random initial weights, everything trained: the baseline to beat.
``probe``
    Linear probe: the pretrained network frozen, only a new final layer trained.
``head``
    The classifier head only: both convolutions frozen, the two linear layers (the hidden
    one pretrained, a new final one) trained. LoRA without its adapters: the ablation
    that says what LoRA's adapters add.
``partial``
    Partial freezing: the first convolution frozen, the rest (and a new final layer) trained.
``full``
    Full fine-tuning: every weight trained, with a new final layer.
``discriminative``
    Discriminative learning rates: every layer trained, each layer a factor
    ``layer_decay`` slower than the layer above it (the new final layer at ``lr``).
``lora``
    LoRA on both convolutions (:mod:`convlib.models.lora`, rank ``lora_rank``): the convolution
    weights frozen, low-rank updates and the two-layer classifier head trained.

A new final layer replaces the source's, whose classes are not the target's. After
adaptation the source's final layer is put back on a copy, and its accuracy on the
held-out source images measures how much of the source task was forgotten.

The grid (:func:`grid`): every strategy and budget from the broad source on the noisy
target (the main table); the side experiments (:func:`side_grid`), at 5 labels per class:
the narrow source (what a narrow source task transfers), its control *narrow8* (the narrow
question on the broad source's images: same images, same steps), a clean target (an easy
target) and an inverted target (a domain the source never showed), each with the broad
source on the noisy target as its reference.

Each strategy's learning rate was chosen on the validation split, before the grid was run:
``python -m experiments.finetune --select --csv experiments/results/lr_selection.csv`` (a
driver in the repository's ``experiments/`` folder) runs every strategy at 5 labels per class,
seeds 0-2, for each learning rate of :data:`SELECTION_LRS`, and :func:`choose_lrs` gives each
strategy the rate with its best mean validation accuracy (:data:`LEARNING_RATES`). No
chosen rate lies at an end of :data:`SELECTION_LRS`.

``python -m experiments.finetune`` runs the grid and prints the tables; ``--csv PATH`` also
writes one row per run. The committed table ``experiments/results/finetune_results.csv``
is written by
``python -m experiments.finetune --csv experiments/results/finetune_results.csv``
(``--reuse PATH`` keeps the rows of an earlier table whose run is unchanged, learning rate
included, and runs only the others; each run takes about 2 s of one core). The main experiment
(broad source, noisy target, :func:`grid`) is run over the ten seeds :data:`SEEDS`, each
strategy at its own rate; the side experiments (:func:`side_grid`) over the five seeds
:data:`SIDE_SEEDS`, every strategy at one shared rate (:data:`SIDE_RECIPE`), with their own
reference runs from the broad source on the noisy target at that rate.
Each run is reproducible bit for bit on one machine
(one thread, deterministic algorithms, fixed seeds, the same checkpoint); on another CPU
the rounding differs and a run ends elsewhere, within the spread over seeds. The committed
tables were written on two machines: the runs of the first, shared-rate grid (rate 1e-3,
seeds 0-4, and the selection's rates 1e-3 to 4e-3) on the one that made the checkpoint
(an Intel AVX-512 CPU), kept by ``--reuse``; the others on an AMD AVX-512 CPU.
"""

from __future__ import annotations

import copy
import csv
import math
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ..models import DigitsCNN, evaluate, make_loader, train
from ..models.lora import apply_lora
from ..models.training import one_thread
from ..stats import paired_interval
from .pretrain import (
    TransferData,
    augment,
    build_model,
    load_checkpoint,
    source_accuracy,
    transfer_data,
)

__all__ = [
    "STRATEGIES",
    "BUDGETS",
    "SEEDS",
    "SIDE_SEEDS",
    "SELECTION_LRS",
    "LEARNING_RATES",
    "SIDE_RECIPE",
    "choose_lr",
    "choose_lrs",
    "Recipe",
    "RunResult",
    "labelled_subset",
    "adapt_model",
    "finetune",
    "iter_grid",
    "run_grid",
    "side_grid",
    "recipe_rows",
    "grid",
    "write_csv",
    "read_csv",
    "summarize",
    "paired_differences",
    "paired_difference",
    "format_table",
]

STRATEGIES = ("scratch", "probe", "head", "partial", "full", "discriminative", "lora")
BUDGETS = (1, 5, 10, 50)
SEEDS = tuple(range(10))
"""The seeds of the main experiment (every strategy and budget, noisy target)."""
SIDE_SEEDS = (0, 1, 2, 3, 4)
"""The seeds of the side experiments (other sources and targets, 5 labels per class)."""
SELECTION_LRS = (1.25e-4, 2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3)
"""The learning rates tried on the validation split (:func:`choose_lrs`)."""
LEARNING_RATES = (
    ("scratch", 5e-4),
    ("probe", 1e-3),
    ("head", 1e-3),
    ("partial", 5e-4),
    ("full", 2.5e-4),
    ("discriminative", 5e-4),
    ("lora", 2e-3),
)
"""Each strategy's learning rate, chosen on the validation split:
``choose_lrs(read_csv("experiments/results/lr_selection.csv"))``."""


@dataclass(frozen=True)
class Recipe:
    """Training settings shared by every strategy (one recipe, so the comparison is fair),
    except the learning rate, which each strategy gets from ``lrs`` (chosen on the
    validation split, :data:`LEARNING_RATES`); a strategy not in ``lrs`` trains at ``lr``.
    ``Recipe(lr=x, lrs=())`` trains every strategy at ``x``.

    >>> Recipe().lr_for("lora") == dict(LEARNING_RATES)["lora"]
    True
    >>> Recipe(lr=4e-3, lrs=()).lr_for("lora")
    0.004
    """

    steps: int = 300
    lr: float = 1e-3
    batch_size: int = 64
    layer_decay: float = 3.0
    lora_rank: int = 4
    lora_alpha: float = 8.0
    lrs: tuple[tuple[str, float], ...] = LEARNING_RATES

    def lr_for(self, strategy: str) -> float:
        """The learning rate ``strategy`` trains at (its top layer, for discriminative)."""
        return dict(self.lrs).get(strategy, self.lr)


SIDE_RECIPE = Recipe(lr=1e-3, lrs=())
"""The recipe of the side experiments (other sources, other targets): one learning rate
for every strategy, 1e-3, the rate with the best mean validation accuracy over all
strategies (:func:`choose_lr`) in the selection's first grid (1e-3, 2e-3, 4e-3)."""


@dataclass(frozen=True)
class RunResult:
    """One run. Accuracies are fractions: ``val_acc`` on the validation split,
    ``target_acc`` on the test split; ``source_acc`` is NaN for ``scratch`` (it has no
    source head); ``trainable`` counts the parameters the optimizer updates."""

    source: str
    target: str
    strategy: str
    budget: int
    seed: int
    lr: float
    val_acc: float
    target_acc: float
    source_acc: float
    trainable: int


def labelled_subset(
    data: TransferData, budget: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``budget`` images per target class drawn from the pool (without replacement), and
    their labels. The draw depends on ``seed`` only, so every strategy sees the same images.

    >>> x, y = labelled_subset(transfer_data(), budget=2, seed=0)
    >>> tuple(x.shape), y.tolist()
    ((10, 1, 8, 8), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    """
    pool_size = min(len(p) for p in data.target_pool)
    if isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= pool_size:
        raise ValueError(f"budget must be an int between 1 and {pool_size}, got {budget!r}")
    rng = np.random.default_rng(seed)
    picks = [torch.from_numpy(rng.choice(len(p), budget, replace=False)) for p in data.target_pool]
    x = torch.cat([p[i] for p, i in zip(data.target_pool, picks)])
    y = torch.arange(len(picks)).repeat_interleave(budget)
    return x, y


def _layers(model: DigitsCNN) -> list[nn.Module]:
    """The layers that hold weights, from the input up (conv1, conv2, linear1, linear2)."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def adapt_model(
    strategy: str,
    pretrained: DigitsCNN | None = None,
    seed: int = 0,
    recipe: Recipe = Recipe(),
    num_classes: int = 5,
) -> tuple[DigitsCNN, list[dict]]:
    """The network ``strategy`` starts from, and the optimizer's parameter groups.

    ``pretrained`` is the source network (default: the committed broad one). ``seed``
    fixes the random weights (all of them for ``scratch``, the new final layer otherwise).

    >>> model, groups = adapt_model("probe")
    >>> sum(p.numel() for p in model.parameters() if p.requires_grad)  # new final layer: 128*5+5
    645
    >>> model, groups = adapt_model("discriminative")
    >>> [round(g["lr"], 6) for g in groups]              # conv1, conv2, linear1, linear2
    [1.9e-05, 5.6e-05, 0.000167, 0.0005]
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    torch.manual_seed(seed)
    model = build_model(num_classes)
    if strategy != "scratch":
        pretrained = pretrained if pretrained is not None else load_checkpoint()
        old = pretrained.state_dict()
        new_head = {f"head.{len(model.head) - 1}.{n}" for n in ("weight", "bias")}
        model.load_state_dict(
            {k: (v if k in new_head else old[k]) for k, v in model.state_dict().items()}
        )
    layers = _layers(model)
    lr = recipe.lr_for(strategy)
    if strategy == "probe":
        model.requires_grad_(False)
        layers[-1].requires_grad_(True)
    elif strategy == "head":
        model.features.requires_grad_(False)
    elif strategy == "partial":
        layers[0].requires_grad_(False)
    elif strategy == "lora":
        apply_lora(model, recipe.lora_rank, recipe.lora_alpha)  # freezes every weight
        model.head.requires_grad_(True)
    if strategy == "discriminative":
        depth = len(layers)
        groups = [
            {
                "params": list(m.parameters()),
                "lr": lr / recipe.layer_decay ** (depth - 1 - i),
            }
            for i, m in enumerate(layers)
        ]
    else:
        groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": lr}]
    return model, groups


def finetune(
    strategy: str,
    budget: int,
    seed: int,
    *,
    source: str = "broad",
    target: str = "noisy",
    recipe: Recipe = Recipe(),
    pretrained: DigitsCNN | None = None,
    data: TransferData | None = None,
    return_model: bool = False,
) -> RunResult | tuple[RunResult, DigitsCNN]:
    """Adapt the ``source`` network with ``strategy`` from ``budget`` labelled images per
    class of the ``target`` task; measure target and source accuracy.

    ``source`` is ``"broad"``, ``"narrow"`` or ``"narrow8"``, ``target`` one of
    ``"noisy"`` (the main task), ``"clean"`` or ``"inverted"`` (see
    :func:`convlib.transfer.pretrain.transfer_data`).
    Pass ``pretrained``/``data`` (matching ``source`` and ``target``) to avoid reloading
    them in a loop.

    >>> r = finetune("probe", budget=1, seed=0, recipe=Recipe(steps=5))
    >>> r.strategy, r.trainable, 0.0 <= r.target_acc <= 1.0
    ('probe', 645, True)
    """
    data = data if data is not None else transfer_data(target, source)
    if (data.source, data.target) != (source, target):
        raise ValueError(
            f"data holds source {data.source!r} and target {data.target!r}, "
            f"not {source!r} and {target!r}"
        )
    pretrained = pretrained if pretrained is not None else load_checkpoint(source)
    x, y = labelled_subset(data, budget, seed)
    with one_thread():
        model, groups = adapt_model(strategy, pretrained, seed, recipe, len(data.target_pool))
        # Tiny labelled sets are repeated so that every strategy and budget takes the same
        # number of optimizer steps on batches of about the same size.
        reps = max(1, (4 * recipe.batch_size) // len(x))
        loader = make_loader(x.repeat(reps, 1, 1, 1), y.repeat(reps), recipe.batch_size)
        epochs = math.ceil(recipe.steps / len(loader))
        train(
            model, loader, epochs=epochs, lr=recipe.lr_for(strategy), param_groups=groups,
            augment=augment, seed=seed, progress=False,
        )  # fmt: skip
        val = make_loader(data.target_val, data.target_val_labels, 1024, shuffle=False)
        val_acc = evaluate(model, val)[1]
        test = make_loader(data.target_test, data.target_test_labels, 1024, shuffle=False)
        target_acc = evaluate(model, test)[1]
        source_acc = math.nan
        if strategy != "scratch":
            # forgetting: the adapted network with the source's own final layer put back
            probe = copy.deepcopy(model)
            probe.head[-1] = copy.deepcopy(pretrained.head[-1])
            source_acc = source_accuracy(probe, data)
    trainable = sum(p.numel() for g in groups for p in g["params"])
    result = RunResult(
        source, target, strategy, budget, seed, recipe.lr_for(strategy), val_acc, target_acc,
        source_acc, trainable,
    )  # fmt: skip
    return (result, model) if return_model else result


Run = tuple[str, str, str, int, int]  # (source, target, strategy, budget, seed)


def grid(
    strategies: Sequence[str] = STRATEGIES,
    budgets: Sequence[int] = BUDGETS,
    seeds: Sequence[int] = SEEDS,
) -> list[Run]:
    """The runs ``(source, target, strategy, budget, seed)`` of the main experiment: every
    strategy and budget from the broad source on the noisy target (run with
    :class:`Recipe`: each strategy at its own learning rate).

    >>> len(grid())                                    # 7 strategies, 4 budgets, 10 seeds
    280
    """
    return [("broad", "noisy", s, b, seed) for b in budgets for s in strategies for seed in seeds]


def side_grid(
    strategies: Sequence[str] = STRATEGIES,
    budgets: Sequence[int] = (5,),
    seeds: Sequence[int] = SIDE_SEEDS,
) -> list[Run]:
    """The runs of the side experiments (run with :data:`SIDE_RECIPE`: one learning rate
    for every strategy): the broad source on the noisy target (their reference), the
    narrow and narrow8 sources on the noisy target (scratch excepted: it has no source),
    the broad source on the clean and inverted targets.

    >>> len(side_grid())                 # (7 + 6 + 6 + 7 + 7) strategies x 5 seeds
    165
    """
    sides = (("broad", "noisy"), ("narrow", "noisy"), ("narrow8", "noisy"),
             ("broad", "clean"), ("broad", "inverted"))  # fmt: skip
    return [
        (source, target, s, b, seed)
        for source, target in sides for b in budgets for s in strategies
        if not (source != "broad" and s == "scratch") for seed in seeds
    ]  # fmt: skip


def recipe_rows(results: Iterable[RunResult], recipe: Recipe = Recipe()) -> list[RunResult]:
    """The rows of ``results`` run with ``recipe``'s learning rate for their strategy: the
    main experiment's (``Recipe()``) or the side experiments' (:data:`SIDE_RECIPE`) rows of
    the committed table (a run that both use, same rate, is one row and counts in both)."""
    return [r for r in results if r.lr == recipe.lr_for(r.strategy)]


def iter_grid(
    runs: Iterable[Run],
    recipe: Recipe = Recipe(),
    progress: bool = True,
    reuse: Iterable[RunResult] = (),
) -> Iterator[RunResult]:
    """Run every ``(source, target, strategy, budget, seed)`` of ``runs`` (see :func:`grid`)
    with ``recipe``, yielding each result as it ends. A row of ``reuse`` with the same run
    and learning rate is yielded instead of running it again (only the learning rate varies
    between the recipes of a table; on one machine a run gives the same row bit for bit).
    """
    runs = list(runs)
    done = {(r.source, r.target, r.strategy, r.budget, r.seed, r.lr): r for r in reuse}
    networks: dict[str, DigitsCNN] = {}
    datasets: dict[tuple[str, str], TransferData] = {}
    for source, target, strategy, budget, seed in tqdm(
        runs, desc="fine-tune", disable=not progress
    ):
        key = (source, target, strategy, budget, seed, recipe.lr_for(strategy))
        if key in done:
            yield done[key]
            continue
        if source not in networks:
            networks[source] = load_checkpoint(source)
        if (source, target) not in datasets:
            datasets[source, target] = transfer_data(target, source)
        yield finetune(
            strategy, budget, seed, source=source, target=target, recipe=recipe,
            pretrained=networks[source], data=datasets[source, target],
        )  # fmt: skip


def run_grid(
    runs: Iterable[Run],
    recipe: Recipe = Recipe(),
    progress: bool = True,
    reuse: Iterable[RunResult] = (),
) -> list[RunResult]:
    """All results of :func:`iter_grid`, as a list.

    >>> rows = run_grid([("broad", "noisy", "probe", 1, 0)], Recipe(steps=2), progress=False)
    >>> len(rows)
    1
    """
    return list(iter_grid(runs, recipe, progress, reuse))


def write_csv(results: Iterable[RunResult], path: str | Path) -> list[RunResult]:
    """One row per run, written as each run ends (so a stopped grid keeps the runs it
    finished); accuracies with 6 decimals (exact for a test set of < 10^6 images). Returns
    the rows written."""
    names = [f.name for f in fields(RunResult)]
    written = []
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for r in results:
            row = asdict(r)
            for key in ("val_acc", "target_acc", "source_acc"):
                row[key] = "" if math.isnan(row[key]) else f"{row[key]:.6f}"
            writer.writerow(row)
            f.flush()
            written.append(r)
    return written


def read_csv(path: str | Path) -> list[RunResult]:
    """The rows :func:`write_csv` wrote.

    >>> rows = read_csv("experiments/results/finetune_results.csv")  # the committed table
    >>> sorted({r.strategy for r in rows}) == sorted(STRATEGIES)
    True
    """
    with open(path, newline="") as f:
        return [
            RunResult(
                row["source"], row["target"], row["strategy"], int(row["budget"]), int(row["seed"]),
                float(row["lr"]), float(row["val_acc"]), float(row["target_acc"]),
                float(row["source_acc"]) if row["source_acc"] else math.nan,
                int(row["trainable"]),
            )
            for row in csv.DictReader(f)
        ]  # fmt: skip


def summarize(
    results: Iterable[RunResult], field: str = "target_acc"
) -> dict[tuple[str, str, str, int], tuple[float, float, int]]:
    """``(source, target, strategy, budget) -> (mean, sample std, number of seeds)`` of
    ``field`` (``"val_acc"``, ``"target_acc"`` or ``"source_acc"``); NaN values are left out.

    >>> rows = [RunResult("broad", "noisy", "full", 5, s, 2e-3, a, a, 0.9, 10)
    ...         for s, a in enumerate([0.7, 0.8])]
    >>> {k: tuple(round(v, 4) for v in val) for k, val in summarize(rows).items()}
    {('broad', 'noisy', 'full', 5): (0.75, 0.0707, 2)}
    """
    groups: dict[tuple[str, str, str, int], list[float]] = {}
    for r in results:
        value = getattr(r, field)
        if not math.isnan(value):  # scratch has no source accuracy
            groups.setdefault((r.source, r.target, r.strategy, r.budget), []).append(value)
    return {
        key: (
            statistics.fmean(v),
            statistics.stdev(v) if len(v) > 1 else 0.0,
            len(v),
        )
        for key, v in groups.items()
    }


def paired_differences(
    results: Iterable[RunResult],
    strategy: str,
    baseline: str = "scratch",
    budget: int = 5,
    source: str = "broad",
    target: str = "noisy",
    baseline_source: str = "broad",
    field: str = "target_acc",
) -> np.ndarray:
    """``strategy`` minus ``baseline``, seed by seed (the same labelled images, the same
    augmentation), over the seeds both have, in seed order; ``field`` picks the accuracy
    (``"target_acc"``, ``"val_acc"`` or ``"source_acc"``). ``baseline`` comes from
    ``baseline_source`` (``scratch`` has runs under ``"broad"`` only).

    >>> rows = [RunResult("broad", "noisy", s, 5, k, 2e-3, 0, a, 0, 1)
    ...         for k, (a, b) in enumerate([(0.7, 0.6), (0.8, 0.6)])
    ...         for s, a in (("full", a), ("scratch", b))]
    >>> paired_differences(rows, "full").round(4).tolist()
    [0.1, 0.2]
    """
    ours: dict[int, float] = {}
    theirs: dict[int, float] = {}
    for r in results:
        if r.target == target and r.budget == budget:
            if (r.strategy, r.source) == (strategy, source):
                ours[r.seed] = getattr(r, field)
            elif (r.strategy, r.source) == (baseline, baseline_source):
                theirs[r.seed] = getattr(r, field)
    diffs = [ours[k] - theirs[k] for k in sorted(ours.keys() & theirs.keys())]
    if len(diffs) < 2:
        raise ValueError(f"need at least 2 paired seeds, found {len(diffs)}")
    return np.array(diffs)


def paired_difference(
    results: Iterable[RunResult],
    strategy: str,
    baseline: str = "scratch",
    budget: int = 5,
    source: str = "broad",
    target: str = "noisy",
    baseline_source: str = "broad",
    field: str = "target_acc",
) -> tuple[float, float, float, int]:
    """The mean of :func:`paired_differences` (same arguments), its 95 % t interval
    (:func:`convlib.stats.paired_interval`) and the number of pairs:
    ``(mean, low, high, n)``.

    >>> rows = [RunResult("broad", "noisy", s, 5, k, 2e-3, 0, a, 0, 1)
    ...         for k, (a, b) in enumerate([(0.7, 0.6), (0.8, 0.6), (0.75, 0.6)])
    ...         for s, a in (("full", a), ("scratch", b))]
    >>> mean, low, high, n = paired_difference(rows, "full")
    >>> round(mean, 4), low > 0, n
    (0.15, True, 3)
    """
    d = paired_differences(results, strategy, baseline, budget, source, target,
                           baseline_source, field)  # fmt: skip
    return (*paired_interval(d), len(d))


def choose_lrs(results: Iterable[RunResult]) -> dict[str, float]:
    """Each strategy's learning rate with its best mean validation accuracy over the seeds
    of ``results``: the choice rule of the learning-rate selection (ties go to the smaller
    rate).

    >>> rows = [RunResult("broad", "noisy", s, 5, 0, lr, acc, 0.0, 0.9, 10)
    ...         for s, lr, acc in [("full", 1e-3, 0.7), ("full", 2e-3, 0.8),
    ...                            ("scratch", 1e-3, 0.6), ("scratch", 2e-3, 0.5)]]
    >>> choose_lrs(rows)
    {'full': 0.002, 'scratch': 0.001}
    """
    by: dict[str, dict[float, list[float]]] = {}
    for r in results:
        by.setdefault(r.strategy, {}).setdefault(r.lr, []).append(r.val_acc)
    return {
        s: max(sorted(lrs), key=lambda lr: statistics.fmean(lrs[lr]))
        for s, lrs in by.items()
    }


def choose_lr(results: Iterable[RunResult]) -> float:
    """The one learning rate with the best mean validation accuracy over all runs of
    ``results`` (every strategy and seed counts once): the rule of a shared rate.

    >>> rows = [RunResult("broad", "noisy", "full", 5, 0, lr, acc, 0.0, 0.9, 10)
    ...         for lr, acc in [(1e-3, 0.7), (2e-3, 0.8), (4e-3, 0.75)]]
    >>> choose_lr(rows)
    0.002
    """
    by_lr: dict[float, list[float]] = {}
    for r in results:
        by_lr.setdefault(r.lr, []).append(r.val_acc)
    return max(sorted(by_lr), key=lambda lr: statistics.fmean(by_lr[lr]))


def format_table(
    results: Sequence[RunResult],
    source: str = "broad",
    target: str = "noisy",
    field: str = "target_acc",
) -> str:
    """A text table of the runs from ``source`` on ``target`` (scratch included whatever
    the source): one row per strategy, one column per budget, ``mean ± std`` in %, and
    the number of trained parameters.
    """
    rows = [
        r for r in results
        if r.target == target and (r.source == source or r.strategy == "scratch")
    ]  # fmt: skip
    stats = {(k[2], k[3]): v for k, v in summarize(rows, field).items()}
    budgets = sorted({b for (_, b) in stats})
    strategies = [s for s in STRATEGIES if any(k[0] == s for k in stats)]
    trainable = {r.strategy: r.trainable for r in rows}
    head = f"{'strategy':<15}" + "".join(f"{f'{b}/class':>15}" for b in budgets)
    head += f"{'trained':>10}"
    lines = [head, "-" * len(head)]
    for s in strategies:
        cells = ""
        for b in budgets:
            mean, std, _ = stats.get((s, b), (math.nan, math.nan, 0))
            if math.isnan(mean):
                cells += f"{'-':>15}"
            else:
                cells += f"{100 * mean:>8.1f} ± {100 * std:>4.1f}"
        lines.append(f"{s:<15}{cells}{trainable[s]:>10,}")
    return "\n".join(lines)
