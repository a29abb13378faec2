"""Real photographs and ImageNet class names that ship with installed packages.

Nothing is downloaded: the photographs come with scikit-image (``skimage.data``), the
1000 ImageNet class names with torchvision (read from its source file, so a torchvision
whose compiled operators do not load still gives the names).

* :func:`photo` -- ``"chelsea"`` (a cat), ``"coffee"`` (a cup), ``"camera"`` (a
  photographer with a tripod, grey) as ``(H, W, 3)`` uint8;
* :func:`imagenet_preprocess` -- resize, scale to [0, 1], normalise with
  the ImageNet mean and std: the input the network was trained on;
* :func:`imagenet_classes` -- the 1000 class names, in the order of the logits;
* :func:`lfw_faces` -- scikit-image's ``lfw_subset``: 100 face crops and 100 non-face
  crops of real photographs, 25x25 grey, with labels (1 = face).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os

import numpy as np

__all__ = ["PHOTOS", "IMAGENET_MEAN", "IMAGENET_STD", "photo", "imagenet_preprocess",
           "imagenet_classes", "lfw_faces", "top_k"]

PHOTOS = ("chelsea", "coffee", "camera")
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def photo(name: str) -> np.ndarray:
    """A scikit-image photograph as ``(H, W, 3)`` uint8 (grey images repeated to RGB)."""
    if name not in PHOTOS:
        raise ValueError(f"name must be one of {PHOTOS}, got {name!r}")
    import skimage.data

    img = getattr(skimage.data, name)()
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def imagenet_preprocess(img: np.ndarray, size: int = 224, crop: bool = False,
                        normalise: bool = True) -> np.ndarray:
    """``(H, W, 3)`` uint8 (or ``(H, W)`` grey in [0, 1]) -> ``(3, size, size)`` float32.

    The image is resized (bilinear) to ``size x size``; with ``crop`` the shorter side is
    resized to ``size * 256 / 224`` and the centre ``size x size`` cut out instead. Pixels
    are scaled to [0, 1] and, with ``normalise``, shifted and scaled by the ImageNet mean
    and std per channel.
    """
    from PIL import Image

    if img.dtype != np.uint8:
        img = np.clip(np.round(np.asarray(img) * 255), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    h, w = img.shape[:2]
    scale = round(size * 256 / 224) / min(h, w) if crop else None
    new = (max(size, round(w * scale)), max(size, round(h * scale))) if crop else (size, size)
    pil = Image.fromarray(img).resize(new, Image.BILINEAR)
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    x = np.asarray(pil.crop((left, top, left + size, top + size)), dtype=np.float32) / 255
    if normalise:
        x = (x - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1))


@functools.cache
def imagenet_classes() -> tuple[str, ...]:
    """The 1000 ImageNet class names (``"Egyptian cat"``), read from torchvision's source."""
    spec = importlib.util.find_spec("torchvision")  # locates the package, does not import it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the ImageNet class names need torchvision (pip install torchvision)")
    path = os.path.join(spec.submodule_search_locations[0], "models", "_meta.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == (
            "_IMAGENET_CATEGORIES"
        ):
            return tuple(ast.literal_eval(node.value))
    raise LookupError(f"no _IMAGENET_CATEGORIES in {path}")


def top_k(logits: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` most probable classes of one logit vector: ``[(name, probability), ...]``."""
    z = np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    idx = np.argsort(-p)[:k]
    names = imagenet_classes()
    return [(names[i], float(p[i])) for i in idx]


def lfw_faces() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's ``lfw_subset``: images ``(200, 25, 25)`` in [0, 1], labels (1 = face).

    The first 100 crops are faces, the last 100 are crops of the same photographs
    without a face.
    """
    import skimage.data

    x = skimage.data.lfw_subset().astype(np.float32)
    y = np.r_[np.ones(100), np.zeros(100)].astype(np.int64)
    return x, y
