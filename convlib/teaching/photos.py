"""Real photographs and ImageNet class names that ship with installed packages.

Nothing is downloaded: the photographs come with scikit-image (``skimage.data``), the
1000 ImageNet class names with torchvision (read from its source file, so a torchvision
whose compiled operators do not load still gives the names).

* :func:`photo` -- ``"chelsea"`` (a cat), ``"coffee"`` (a cup), ``"camera"`` (a
  photographer with a tripod, grey), and the ``MORE_PHOTOS`` used to measure input
  statistics, as ``(H, W, 3)`` uint8;
* :func:`imagenet_preprocess` -- resize the shorter side and cut out the centre (what
  evaluation pipelines do), scale to [0, 1] and normalise: by default as EfficientNet-Lite
  was trained, ``(x - 0.5) / 0.5`` (TensorFlow's ``(x - 127) / 128`` on bytes), with
  ``norm="imagenet"`` by the ImageNet mean and std that most torchvision models expect;
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

__all__ = ["PHOTOS", "MORE_PHOTOS", "IMAGENET_MEAN", "IMAGENET_STD", "NORMS", "photo",
           "normalise", "imagenet_preprocess", "imagenet_classes", "lfw_faces", "top_k"]

PHOTOS = ("chelsea", "coffee", "camera")
MORE_PHOTOS = ("astronaut", "rocket", "clock")  # with PHOTOS: six everyday photographs
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
# per-channel (mean, std) applied to pixels in [0, 1]; "lite": EfficientNet-Lite's own
# (tensorflow/tpu, models/official/efficientnet/lite: MEAN_RGB 127, STDDEV_RGB 128)
NORMS = {"lite": (np.float32(0.5), np.float32(0.5)),
         "imagenet": (IMAGENET_MEAN, IMAGENET_STD),
         "none": (np.float32(0.0), np.float32(1.0))}


def photo(name: str) -> np.ndarray:
    """A scikit-image photograph as ``(H, W, 3)`` uint8 (grey images repeated to RGB)."""
    if name not in PHOTOS + MORE_PHOTOS:
        raise ValueError(f"name must be one of {PHOTOS + MORE_PHOTOS}, got {name!r}")
    import skimage.data

    img = getattr(skimage.data, name)()
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def normalise(x: np.ndarray, norm: str = "lite", axis: int = -1) -> np.ndarray:
    """Pixels in [0, 1] -> network input: ``(x - mean) / std`` per channel, with the
    channel along ``axis``, for the ``norm`` of ``NORMS``.

    >>> float(normalise(np.array([0.0, 0.5, 1.0]), "lite", axis=0)[2])
    1.0
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {tuple(NORMS)}, got {norm!r}")
    mean, std = (np.asarray(v, dtype=np.float32) for v in NORMS[norm])
    shape = [1] * np.ndim(x)
    if mean.ndim:
        shape[axis] = mean.size
    return ((x - mean.reshape(shape)) / std.reshape(shape)).astype(np.float32)


def imagenet_preprocess(img: np.ndarray, size: int = 224, crop: bool = True,
                        norm: str = "lite") -> np.ndarray:
    """``(H, W, 3)`` uint8 (or ``(H, W)`` grey in [0, 1]) -> ``(3, size, size)`` float32.

    With ``crop`` (the default, as evaluation pipelines do) the shorter side is resized
    (bilinear) to ``size * 256 / 224`` and the centre ``size x size`` cut out: the aspect
    ratio is kept and 87.5 % of the shorter side remains (TensorFlow's ``CROP_FRACTION``).
    Without it the whole image is squashed to ``size x size``. Pixels are scaled to
    [0, 1] and normalised per channel with ``norm`` (:func:`normalise`).

    >>> imagenet_preprocess(np.zeros((30, 40), np.float32), 16).shape
    (3, 16, 16)
    """
    from PIL import Image

    if norm not in NORMS:
        raise ValueError(f"norm must be one of {tuple(NORMS)}, got {norm!r}")
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
    return np.ascontiguousarray(normalise(x, norm).transpose(2, 0, 1))


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
