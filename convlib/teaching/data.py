"""Images and datasets that ship with installed packages: nothing is downloaded.

* :func:`sample_image` -- a photograph from matplotlib's sample data (Grace Hopper) or
  scikit-learn's sample images (a Chinese temple), as floats in ``[0, 1]``.
* :func:`digits` -- scikit-learn's 8x8 handwritten digits (1797 images, 10 classes).

>>> img = sample_image("grace_hopper", size=64)
>>> img.shape, img.dtype
((64, 64), dtype('float64'))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["sample_image", "digits", "SAMPLE_IMAGES"]

SAMPLE_IMAGES = ("grace_hopper", "china")
"""Names accepted by :func:`sample_image`."""

# ITU-R BT.601 luma weights: the usual "grayscale" of a colour photograph
_LUMA = np.array([0.299, 0.587, 0.114])


def _load_rgb(name: str) -> np.ndarray:
    """The photograph as uint8 RGB, shape (H, W, 3), read from an installed package."""
    if name == "grace_hopper":
        from matplotlib import cbook
        from PIL import Image

        with cbook.get_sample_data("grace_hopper.jpg") as f:
            return np.asarray(Image.open(f).convert("RGB"))
    if name == "china":
        from sklearn.datasets import load_sample_image

        return np.asarray(load_sample_image("china.jpg"))
    raise ValueError(f"name must be one of {SAMPLE_IMAGES}, got {name!r}")


def _resize(rgb: np.ndarray, size: int | Sequence[int]) -> np.ndarray:
    from PIL import Image

    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        # centre crop to the largest square, so that an int size does not distort the picture
        h, w = rgb.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        rgb = rgb[top : top + side, left : left + side]
        height = width = int(size)
    elif (
        isinstance(size, Sequence)
        and len(size) == 2
        and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in size)
    ):
        height, width = (int(s) for s in size)
        if height < 1 or width < 1:
            raise ValueError(f"size must be positive, got {tuple(size)}")
    else:
        raise TypeError(f"size must be None, an int or a pair (height, width), got {size!r}")
    image = Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(image)


def sample_image(
    name: str = "grace_hopper", gray: bool = True, size: int | Sequence[int] | None = None
) -> np.ndarray:
    """A photograph that ships with an installed package, as ``float64`` in ``[0, 1]``.

    ``name`` is ``"grace_hopper"`` (matplotlib's sample data, 600x512 portrait) or
    ``"china"`` (scikit-learn's sample image, 427x640 landscape). ``gray=True`` returns
    shape ``(H, W)`` (BT.601 luma), ``gray=False`` shape ``(H, W, 3)`` (RGB).
    ``size=None`` keeps the original size; an int ``s`` centre-crops the largest square
    and resizes it to ``s x s``; a pair ``(H, W)`` resizes to exactly that.

    >>> sample_image().shape
    (600, 512)
    >>> x = sample_image("china", gray=False, size=(32, 48))
    >>> x.shape, float(x.min()) >= 0.0, float(x.max()) <= 1.0
    ((32, 48, 3), True, True)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of {SAMPLE_IMAGES}, got {name!r}")
    rgb = _load_rgb(name)
    if size is not None:
        rgb = _resize(rgb, size)
    x = rgb.astype(np.float64) / 255.0
    if gray:
        x = x @ _LUMA
    return np.ascontiguousarray(x)


def digits(scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's handwritten digits: ``(images, labels)``.

    ``images`` has shape ``(1797, 8, 8)`` and dtype ``float64``, in ``[0, 1]`` when
    ``scale=True`` (the raw values are 0..16); ``labels`` has shape ``(1797,)`` and
    dtype ``int64``, the digit 0..9 each image shows. Add a channel axis with
    ``images[:, None]`` for NCHW.

    >>> images, labels = digits()
    >>> images.shape, images.dtype, labels.shape, labels.dtype
    ((1797, 8, 8), dtype('float64'), (1797,), dtype('int64'))
    >>> float(images.max()), sorted(set(labels.tolist())) == list(range(10))
    (1.0, True)
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float64)
    if scale:
        images = images / 16.0
    return images, np.asarray(bunch.target, dtype=np.int64)
