"""A second real task for chapter 13: texture patches of scikit-image's photographs.

Three grey photographs ship with scikit-image, 512x512 each: ``brick`` (a brick wall),
``grass`` and ``gravel``. Each is equalised (its grey levels mapped to a uniform
histogram, so that no class is brighter or more contrasted than another as a whole) and
cut into a grid of non-overlapping ``PATCH`` x ``PATCH`` tiles: 256 per photograph. A
class is a photograph; a tile is an image. The tiles are disjoint regions of the
photograph, so no test tile shares a pixel with a training or validation tile; the
repeated splits of :func:`convlib.transfer.realnet.lfw_split` draw, per class, 20
validation tiles, a pool of 5 and 75 test tiles from them.

>>> x, y = texture_patches()
>>> x.shape, x.dtype, np.bincount(y).tolist()
((768, 32, 32), dtype('float32'), [256, 256, 256])
>>> bool(x.min() >= 0 and x.max() <= 1)
True
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["TEXTURES", "PATCH", "TEST_PER_CLASS", "HOG_CELL", "texture_patches", "tile"]

TEXTURES = ("brick", "grass", "gravel")
PATCH = 32
TEST_PER_CLASS = 75  # the test tiles of a split, per class (as many as lfw's)
HOG_CELL = 8  # HOG cells of 8x8 pixels on a tile: 4x4 cells


def tile(img: np.ndarray, size: int) -> np.ndarray:
    """The non-overlapping ``size`` x ``size`` tiles of a 2-D image, row by row (a
    border narrower than ``size`` is dropped): ``(n, size, size)``.

    >>> tile(np.arange(16).reshape(4, 4), 2)[1].tolist()
    [[2, 3], [6, 7]]
    """
    if np.ndim(img) != 2:
        raise ValueError(f"img must be 2-D, got shape {np.shape(img)}")
    if not 1 <= size <= min(img.shape):
        raise ValueError(f"size must be in 1..{min(img.shape)}, got {size}")
    h, w = (n // size for n in img.shape)
    t = np.asarray(img)[:h * size, :w * size].reshape(h, size, w, size)
    return t.transpose(0, 2, 1, 3).reshape(h * w, size, size)


@functools.lru_cache(maxsize=2)
def _patches(size: int) -> tuple[np.ndarray, np.ndarray]:
    import skimage.data
    from skimage.exposure import equalize_hist

    xs = [tile(equalize_hist(getattr(skimage.data, name)()).astype(np.float32), size)
          for name in TEXTURES]
    y = np.concatenate([np.full(len(x), c, dtype=np.int64) for c, x in enumerate(xs)])
    return np.concatenate(xs), y


def texture_patches(size: int = PATCH) -> tuple[np.ndarray, np.ndarray]:
    """All tiles of the three equalised photographs, ``(N, size, size)`` float32 in
    [0, 1], and their class (0 brick, 1 grass, 2 gravel, :data:`TEXTURES`)."""
    x, y = _patches(size)
    return x.copy(), y.copy()
