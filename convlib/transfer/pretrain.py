"""The source tasks of the fine-tuning chapter, and pretraining on them.

The transfer problem is built from scikit-learn's 8x8 digits only (nothing downloaded):

* The **domain** is "a noisy scanner": every image carries Gaussian pixel noise of
  standard deviation :data:`NOISE` (drawn once per image, with a fixed seed). On such
  images a few labelled examples are not enough to learn what a stroke looks like, so
  there is something to transfer.
* The **target task** is to tell the digits 5-9 apart from a few labelled noisy images
  per class. Per class, 60 images may be labelled (the pool), 30 more form a fixed
  validation split for design choices, and the rest (446 in all) are the test split.
* The **source tasks** never show a 5-9. Both use the digits 0-4; their training images
  are random geometric variants (:func:`augment`: rotation, scale, shear, shift,
  elastic warp) of the clean images with fresh scanner noise each time, as many as
  training asks for. The *narrow* source asks "which digit?" (5 classes). The *broad*
  source asks "which digit, in which of 8 orientations?" (the 4 quarter turns of the
  image and of its mirror image: 40 classes), so its network must describe shapes, not
  just separate five of them. The broad source thus sees 8 times more distinct images
  than the narrow one; the *narrow8* source is the control: the narrow question ("which
  digit?", 5 classes) asked of the broad source's images (all 8 orientations).

``python -m experiments.pretrain`` (a driver in the repository's ``experiments/`` folder)
trains the three source networks with the same
number of optimizer steps and writes ``convlib/transfer/checkpoints/source_cnn.pt`` (their
state dicts, :data:`CONFIG` and :func:`provenance`: the torch version, the CPU and the
instruction set torch dispatched to) plus the file's SHA-256 in ``source_cnn.sha256``.

What is reproducible, and what is not:

* **Same machine, same library versions: bit for bit.** Training runs on one thread with
  deterministic algorithms and fixed seeds, and :func:`save_checkpoint` writes the same
  bytes for the same weights whatever the file's name.
* **Another CPU: not bit for bit.** torch picks its vectorised kernels by the CPU's
  instruction set (AVX-512, AVX2, ...), and so do MKL and oneDNN; a different SIMD width
  sums in a different order, the last bits of a few numbers change, and after thousands of
  steps the weights end up elsewhere. On the machine that wrote the checkpoint, forcing
  torch's own kernels from AVX-512 to AVX2 (``ATEN_CPU_CAPABILITY=avx2``) changed 81 % of
  the broad network's weights (the narrow network's not one); forcing MKL's to AVX2
  (``MKL_ENABLE_INSTRUCTIONS=AVX2``) changed most weights of both. What survives is the
  *quality* of the networks: their source accuracies agree within a tolerance derived
  from the spread over training seeds (:data:`ACCURACY_TOLERANCE`).

``--check`` retrains and compares with the committed checkpoint: weights bit for bit when
the provenance matches this machine's, source accuracies within the tolerance otherwise.
The SHA-256 file is only an integrity check (the file was not damaged or swapped in
transit); it says nothing about whether retraining gives the same file.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._machine import cpu_model
from ..models import DigitsCNN, evaluate, make_loader, train
from ..teaching.data import digits

__all__ = [
    "NOISE",
    "SOURCE_CLASSES",
    "TARGET_CLASSES",
    "SOURCES",
    "CONFIG",
    "CHECKPOINT",
    "TARGET_KINDS",
    "TransferData",
    "orientations",
    "transfer_data",
    "augment",
    "source_augment",
    "build_model",
    "pretrain",
    "save_checkpoint",
    "load_checkpoint",
    "provenance",
    "ACCURACY_TOLERANCE",
    "check_against",
    "sha256",
    "source_accuracy",
]

NOISE = 0.3
"""Standard deviation of the scanner's pixel noise (images lie in [0, 1])."""
SOURCE_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)
SOURCES = ("broad", "narrow", "narrow8")
TARGET_KINDS = ("noisy", "clean", "inverted")
#: Everything that fixes the pretrained networks; stored in the checkpoint.
CONFIG = {
    "channels": [32, 64],
    "hidden": 128,
    "num_classes": {
        "broad": 8 * len(SOURCE_CLASSES),
        "narrow": len(SOURCE_CLASSES),
        "narrow8": len(SOURCE_CLASSES),
    },
    "steps": 3600,
    "lr": 2e-3,
    "batch_size": 64,
    "seed": 0,
    "noise": NOISE,
}
CHECKPOINT = Path(__file__).parent / "checkpoints" / "source_cnn.pt"

_SPLIT_SEED = 0  # which images go where
_NOISE_SEED = 1  # the scanner noise of every image
_TARGET_POOL = 60  # per target class: images that may be labelled
_TARGET_VAL = 30  # per target class: the validation split; the rest are the test set
_SOURCE_TEST = 0.2  # share of each source class held out to measure source accuracy


@dataclass(frozen=True)
class TransferData:
    """The images (float32, NCHW) and labels of one source task and one target task.

    Labels count from 0: narrow source, digit ``d`` -> ``d``; broad source, digit ``d``
    in orientation ``v`` (see :func:`orientations`) -> ``8 * d + v``; target, digit ``d``
    -> ``d - 5``. ``source_train`` holds **clean** images: :func:`source_augment` warps
    them and adds the scanner noise afresh each time. ``source_test`` is noisy.
    ``target_pool[c]`` are the target images of class ``c`` that may be labelled;
    ``target_val`` is the validation split (for design choices), ``target_test`` the
    test split (touched once, for the final numbers). The three never share an image.
    """

    source: str
    target: str
    source_train: torch.Tensor
    source_train_labels: torch.Tensor
    source_test: torch.Tensor
    source_test_labels: torch.Tensor
    target_pool: tuple[torch.Tensor, ...]
    target_val: torch.Tensor
    target_val_labels: torch.Tensor
    target_test: torch.Tensor
    target_test_labels: torch.Tensor


def orientations(x: torch.Tensor) -> list[torch.Tensor]:
    """The 8 orientations of a batch of images: quarter turns 0-3 of the image, then of its
    mirror image (the symmetries of a square).

    >>> x = torch.arange(4.0).reshape(1, 1, 2, 2)
    >>> [v.flatten().tolist() for v in orientations(x)][:2]
    [[0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 0.0, 2.0]]
    """
    turns = [torch.rot90(x, k, (-2, -1)) for k in range(4)]
    return turns + [torch.flip(t, (-1,)) for t in turns]


def _source_task(
    source: str, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    if source == "narrow":
        return x, y
    views = orientations(x)
    if source == "narrow8":
        return torch.cat(views), y.repeat(len(views))
    return torch.cat(views), torch.cat([8 * y + v for v in range(len(views))])


def transfer_data(
    target: str = "noisy", source: str = "broad", noise: float = NOISE
) -> TransferData:
    """Split scikit-learn's digits into a source and a target task (always the same split).

    ``target`` chooses the target images (digits 5-9): ``"noisy"`` (the scanner's, like
    the source), ``"clean"`` (no noise: an easy target) or ``"inverted"`` (dark ink on a
    light page, ``1 - image``, then the noise: a domain the source never showed).
    ``source`` is ``"broad"``, ``"narrow"`` or ``"narrow8"`` (see the module docstring);
    ``noise`` is the
    scanner's noise level. Which image goes where, and its noise, depend on none of these.

    >>> d = transfer_data()
    >>> tuple(d.source_train.shape), tuple(d.target_test.shape)
    ((5768, 1, 8, 8), (446, 1, 8, 8))
    >>> [len(p) for p in d.target_pool], len(d.target_val)
    ([60, 60, 60, 60, 60], 150)
    >>> sorted(set(d.target_test_labels.tolist()))
    [0, 1, 2, 3, 4]
    >>> tuple(transfer_data(source="narrow").source_train.shape)    # 8 times fewer
    (721, 1, 8, 8)
    >>> transfer_data(source="narrow8").source_train_labels.max().item()  # 5 classes
    4
    """
    if target not in TARGET_KINDS:
        raise ValueError(f"target must be one of {TARGET_KINDS}, got {target!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    images, labels = digits()
    rng = np.random.default_rng(_SPLIT_SEED)
    scanner = noise * np.random.default_rng(_NOISE_SEED).standard_normal(images.shape)
    noisy = images + scanner
    target_images = {"noisy": noisy, "clean": images, "inverted": 1.0 - images + scanner}[target]

    def as_tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a[:, None], dtype=np.float32))

    src_train, src_test, pool, tgt_val, tgt_test = [], [], [], [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        if digit in SOURCE_CLASSES:
            k = round(len(idx) * _SOURCE_TEST)
            src_test.append(idx[:k])
            src_train.append(idx[k:])
        else:
            pool.append(idx[:_TARGET_POOL])
            tgt_val.append(idx[_TARGET_POOL : _TARGET_POOL + _TARGET_VAL])
            tgt_test.append(idx[_TARGET_POOL + _TARGET_VAL :])
    src_train_i, src_test_i, tgt_val_i, tgt_test_i = map(
        np.concatenate, (src_train, src_test, tgt_val, tgt_test)
    )
    labels_t = torch.from_numpy(labels)
    x_train, y_train = _source_task(source, as_tensor(images[src_train_i]), labels_t[src_train_i])
    x_test, y_test = _source_task(source, as_tensor(noisy[src_test_i]), labels_t[src_test_i])
    return TransferData(
        source=source,
        target=target,
        source_train=x_train,
        source_train_labels=y_train,
        source_test=x_test,
        source_test_labels=y_test,
        target_pool=tuple(as_tensor(target_images[i]) for i in pool),
        target_val=as_tensor(target_images[tgt_val_i]),
        target_val_labels=labels_t[tgt_val_i] - TARGET_CLASSES[0],
        target_test=as_tensor(target_images[tgt_test_i]),
        target_test_labels=labels_t[tgt_test_i] - TARGET_CLASSES[0],
    )


def augment(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random geometric variants of a batch of images, plus faint pixel noise.

    Per image: rotation up to 20 degrees, scale up to 15 %, shear up to 0.2, shift up to
    1.5 pixels, and an elastic warp (a random smooth displacement field, about a third of
    a pixel); then Gaussian noise of standard deviation 0.05. Outside pixels repeat the
    border, so inverted images get no dark frame. Every network in the fine-tuning
    experiment, from-scratch or pretrained, trains with this same augmentation.

    >>> g = torch.Generator().manual_seed(0)
    >>> augment(torch.zeros(3, 1, 8, 8), g).shape
    torch.Size([3, 1, 8, 8])
    """
    n, _, h, w = x.shape
    u = torch.rand(n, 5, generator=generator, dtype=x.dtype) * 2 - 1
    angle = torch.deg2rad(u[:, 0] * 20)
    scale = 1 + 0.15 * u[:, 1]
    shear = 0.2 * u[:, 2]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    # affine_grid works in [-1, 1] coordinates: one pixel is 2 / size
    tx, ty = u[:, 3] * 1.5 * 2 / w, u[:, 4] * 1.5 * 2 / h
    theta = torch.stack(
        [torch.stack([cos, -sin + shear, tx], 1), torch.stack([sin, cos, ty], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # elastic warp: random displacements on a coarse 3x3 grid, smoothly interpolated
    coarse = torch.randn(n, 2, 3, 3, generator=generator, dtype=x.dtype) * 0.08
    warp = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)
    grid = grid + warp.permute(0, 2, 3, 1)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out + 0.05 * torch.randn(out.shape, generator=generator, dtype=x.dtype)


def source_augment(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """:func:`augment` of clean source images, then fresh scanner noise (:data:`NOISE`).

    >>> g = torch.Generator().manual_seed(0)
    >>> round(float(source_augment(torch.zeros(500, 1, 8, 8), g).std()), 1)
    0.3
    """
    out = augment(x, generator)
    return out + NOISE * torch.randn(out.shape, generator=generator, dtype=x.dtype)


def build_model(num_classes: int) -> DigitsCNN:
    """The network of the fine-tuning chapter: a :class:`~convlib.models.DigitsCNN` with
    32 and 64 channels and a 128-unit hidden layer (52k parameters at 5 classes).

    >>> sum(p.numel() for p in build_model(5).parameters())
    52357
    """
    return DigitsCNN(
        channels=tuple(CONFIG["channels"]), hidden=CONFIG["hidden"], num_classes=num_classes
    )


def pretrain(
    source: str = "broad",
    steps: int = CONFIG["steps"],
    data: TransferData | None = None,
    progress: bool = True,
    seed: int = CONFIG["seed"],
) -> DigitsCNN:
    """Train :func:`build_model` on a source task for about ``steps`` optimizer steps
    (whole epochs), reproducibly (see the module docstring); ``seed`` fixes the initial
    weights, the batches and the augmentation.

    >>> model = pretrain("narrow", steps=1, progress=False)
    >>> model.head[-1].out_features
    5
    """
    data = data if data is not None else transfer_data(source=source)
    if data.source != source:
        raise ValueError(f"data holds the {data.source!r} source task, not {source!r}")
    torch.manual_seed(seed)
    model = build_model(CONFIG["num_classes"][source])
    loader = make_loader(data.source_train, data.source_train_labels, CONFIG["batch_size"])
    train(
        model, loader, epochs=math.ceil(steps / len(loader)), lr=CONFIG["lr"],
        augment=source_augment, seed=seed, progress=progress, desc=source,
    )  # fmt: skip
    return model


#: Environment variables that choose other SIMD kernels in torch's libraries (ATen, oneDNN,
#: MKL) on the same CPU: a run made with one of them set is not "this machine" for
#: :func:`check_against`, although the CPU's name is the same.
KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA",
                    "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS")


def provenance() -> dict[str, str]:
    """What the bits of a training run depend on beyond the code and the seeds: the torch
    and NumPy versions, the CPU, the instruction set torch's kernels dispatch to, and any
    of :data:`KERNEL_VARIABLES` that is set (key ``kernel_env``, absent when none is).

    Training runs single-threaded (``convlib.models.train``), so the thread count is not
    part of it.

    >>> {"cpu", "cpu_capability", "numpy", "torch"} <= set(provenance())
    True
    """
    found = {
        "torch": str(torch.__version__),
        "numpy": np.__version__,
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    kernel_env = " ".join(f"{k}={os.environ[k]}" for k in KERNEL_VARIABLES if os.environ.get(k))
    if kernel_env:
        found["kernel_env"] = kernel_env
    return found


#: How far a retrained network's source accuracy may be from the committed one's when the
#: weights are not bit-identical (another CPU or library version): 3 standard deviations
#: of the difference of two training runs, 3 * sqrt(2) * sd, where sd is the standard
#: deviation of the source accuracy over training seeds 0-4, measured with ``python -m
#: convlib.transfer.pretrain --spread 0 1 2 3 4`` on the machine that wrote the checkpoint
#: (broad 0.0052, narrow 0.0187, narrow8 0.0099), rounded up. For comparison, on that
#: machine forcing torch's kernels to AVX2 (``ATEN_CPU_CAPABILITY=avx2``) moved the broad
#: network's accuracy from 0.6215 to 0.6118, MKL's (``MKL_ENABLE_INSTRUCTIONS=AVX2``) to
#: 0.6236; the narrow network's stayed within 0.0056.
ACCURACY_TOLERANCE = {"broad": 0.023, "narrow": 0.08, "narrow8": 0.042}


def save_checkpoint(models: dict[str, nn.Module], path: str | Path) -> str:
    """Write the state dicts of ``models`` (``{"broad": ..., "narrow": ..., ...}``),
    :data:`CONFIG` and this machine's :func:`provenance` to ``path``; return the file's
    SHA-256.

    Only tensors, numbers, strings, lists and dicts go in, so
    ``torch.load(path, weights_only=True)`` reads it without running pickled code.
    """
    blob: dict = {"config": CONFIG, "provenance": provenance()}
    for name, model in models.items():
        blob[name] = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    # Saved through a buffer: torch.save names the zip's root folder after the file, so
    # writing to a path directly would make the bytes depend on the file name.
    buffer = io.BytesIO()
    torch.save(blob, buffer)
    Path(path).write_bytes(buffer.getvalue())
    return sha256(path)


def load_checkpoint(source: str = "broad", path: str | Path = CHECKPOINT) -> DigitsCNN:
    """A pretrained source network, read with ``torch.load(..., weights_only=True)``.

    >>> model = load_checkpoint()
    >>> model.head[-1].out_features, model.training
    (40, False)
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    blob = torch.load(path, weights_only=True)
    config = blob["config"]
    model = DigitsCNN(
        channels=tuple(config["channels"]), hidden=config["hidden"],
        num_classes=config["num_classes"][source],
    )  # fmt: skip
    model.load_state_dict(blob[source])
    return model.eval()


def check_against(
    models: dict[str, nn.Module], path: str | Path = CHECKPOINT
) -> dict[str, dict]:
    """Compare freshly trained ``models`` with the networks of the checkpoint at ``path``.

    Per source: ``identical`` (every weight equal bit for bit), ``max_diff`` (largest
    absolute weight difference), ``accuracy`` (retrained, committed) on the held-out source
    images, ``tolerance`` (:data:`ACCURACY_TOLERANCE`) and ``ok``: identical weights when
    the checkpoint's :func:`provenance` is this machine's, accuracies within the
    tolerance otherwise.

    Bit-identical weights are promised only where every entry of the provenance matches:
    the same CPU model, the same torch and NumPy versions, the same kernel choice. Another
    CPU (AVX2 rather than AVX-512, AMD rather than Intel) sums in another order, and the
    difference grows over training; there the retrained network is judged by its accuracy.
    """
    blob = torch.load(path, weights_only=True)
    same_machine = blob.get("provenance") == provenance()
    report = {}
    for source, model in models.items():
        committed = load_checkpoint(source, path)
        pairs = list(zip(model.state_dict().values(), committed.state_dict().values()))
        identical = all(torch.equal(a, b) for a, b in pairs)
        max_diff = max(float((a - b).abs().max()) for a, b in pairs)
        data = transfer_data(source=source)
        accuracy = (source_accuracy(model, data), source_accuracy(committed, data))
        tol = ACCURACY_TOLERANCE[source]
        close = abs(accuracy[0] - accuracy[1]) <= tol
        report[source] = {
            "identical": identical, "max_diff": max_diff, "accuracy": accuracy,
            "tolerance": tol, "same_machine": same_machine,
            "ok": identical if same_machine else close,
        }  # fmt: skip
    return report


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (what ``sha256sum`` prints)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_accuracy(model: nn.Module, data: TransferData | None = None) -> float:
    """Accuracy of ``model`` on the held-out noisy images of ``data``'s source task.

    >>> round(source_accuracy(load_checkpoint("narrow"), transfer_data(source="narrow")), 2)
    0.96
    """
    data = data or transfer_data()
    loader = make_loader(data.source_test, data.source_test_labels, 1024, shuffle=False)
    return evaluate(model, loader)[1]
