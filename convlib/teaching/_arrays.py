"""Arrays as pictures: :func:`show_array`, :func:`show_arrays`, :func:`plot_signals`, and
the helpers every figure of :mod:`convlib.teaching.viz` shares (import that module)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from .style import DIVERGING, SEQUENTIAL, text_colour

# Arrays up to this many cells per side get their values written in the cells.
ANNOTATE_MAX = 12
_WINDOW = "#d62728"  # the window and the arrow
_PAD_FACE = "#e8e8e8"  # padding cells


def _as_numpy(a: Any) -> np.ndarray:
    """NumPy copy of an array or tensor (detached, on the CPU)."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _as_2d(a: Any, name: str) -> np.ndarray:
    """A 1D array becomes one row; leading axes of size 1 (N, C) are dropped."""
    a = _as_numpy(a)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(
            f"{name} must be 1D or 2D (after dropping axes of size 1), got shape {a.shape}"
        )
    return a


def _format_value(v: float, integral: bool) -> str:
    if not np.isfinite(v):
        return ""
    if integral:
        return f"{v:.0f}"
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"


def _auto_style(a: np.ndarray, cmap: str | None, vmin: float | None, vmax: float | None):
    """Diverging colours centred on 0 for signed arrays (kernels), sequential otherwise."""
    finite = a[np.isfinite(a)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    lo = lo if vmin is None else vmin
    hi = hi if vmax is None else vmax
    if cmap is None and lo < 0 < hi:
        # symmetric limits, so that white is zero and equal sizes get equal strengths
        m = max(-lo, hi)
        return DIVERGING, TwoSlopeNorm(0.0, -m, m)
    if lo == hi:  # a constant array (a box kernel) gets a middle colour, not the darkest
        lo, hi = lo - 1.0, hi + 1.0
    return (cmap or SEQUENTIAL), plt.Normalize(lo, hi)


def show_array(
    a: Any,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    annotate: bool | None = None,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    fontsize: float | None = None,
    colorbar: bool = False,
) -> Axes:
    """Draw a 1D or 2D array as an image on ``ax`` (a new figure when ``None``).

    ``annotate=None`` writes the values in the cells when no side is longer than
    ``ANNOTATE_MAX``; integers are written without decimals, other values with two.
    Arrays with both signs (or ``vmin < 0 < vmax``) get a diverging colour map centred on
    zero when ``cmap=None``; pass ``cmap="gray"`` for photographs. Values beyond
    ``vmin``/``vmax`` are drawn in the end colours. NaN cells are left blank.

    >>> ax = show_array(np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]]), title="Sobel x")
    >>> [t.get_text() for t in ax.texts][:3]
    ['1', '0', '-1']
    """
    a2 = _as_2d(a, "a").astype(float)
    if ax is None:
        h, w = a2.shape
        scale = 0.45 if max(h, w) <= ANNOTATE_MAX else 4.0 / max(h, w)
        _, ax = plt.subplots(figsize=(max(w * scale, 1.5), max(h * scale, 0.8)))
    if annotate is None:
        annotate = max(a2.shape) <= ANNOTATE_MAX
    cmap_name, norm = _auto_style(a2, cmap, vmin, vmax)
    colours = plt.get_cmap(cmap_name).with_extremes(bad="white")
    image = ax.imshow(a2, cmap=colours, norm=norm, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    if annotate:
        finite = a2[np.isfinite(a2)]
        integral = bool(np.all(finite == np.round(finite)))
        size = fontsize or (9 if max(a2.shape) <= 8 else 7)
        for (i, j), v in np.ndenumerate(a2):
            if np.isfinite(v):
                ax.text(j, i, _format_value(v, integral), ha="center", va="center",
                        fontsize=size, color=text_colour(colours(norm(v))))
        # thin lines between cells make a small array read like a matrix
        ax.set_xticks(np.arange(-0.5, a2.shape[1], 1), minor=True)
        ax.set_yticks(np.arange(-0.5, a2.shape[0], 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=1)
        ax.tick_params(which="minor", length=0)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def show_arrays(
    arrays: Mapping[str, Any] | Sequence[Any],
    titles: Sequence[str] | None = None,
    *,
    ncols: int | None = None,
    size: float = 2.4,
    suptitle: str | None = None,
    **kwargs: Any,
) -> Figure:
    """Several arrays side by side (kernels, feature maps), one panel each.

    ``arrays`` is a mapping title -> array, or a sequence with optional ``titles``.
    At most ``ncols`` panels per row (all in one row by default); each panel is about
    ``size`` inches. Other keyword arguments go to :func:`show_array`.

    >>> fig = show_arrays([np.ones((3, 3)), np.zeros((5, 5))], ["ones", "zeros"], ncols=1)
    >>> [ax.get_title() for ax in fig.axes]
    ['ones', 'zeros']
    """
    if isinstance(arrays, Mapping):
        titles = list(arrays)
        arrays = list(arrays.values())
    arrays = list(arrays)
    if not arrays:
        raise ValueError("arrays is empty: nothing to show")
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"got {len(arrays)} arrays but {len(titles)} titles")
    n = len(arrays)
    ncols = min(ncols or n, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < n:
            show_array(arrays[k], ax, title=titles[k] if titles else None, **kwargs)
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_signals(
    signals: Mapping[str, Any],
    *,
    stem: bool = True,
    sharey: bool = False,
    height: float = 1.4,
    width: float = 7.0,
) -> Figure:
    """1D signals, one row each (title -> values), on a shared index axis.

    >>> fig = plot_signals({"x": [0, 1, 2, 1, 0], "y": [1, 1, 1]})
    >>> len(fig.axes)
    2
    """
    if not signals:
        raise ValueError("signals is empty: nothing to plot")
    fig, axes = plt.subplots(len(signals), 1, figsize=(width, height * len(signals)),
                             sharex=True, sharey=sharey, squeeze=False)
    for ax, (name, values) in zip(axes[:, 0], signals.items()):
        v = _as_numpy(values).astype(float).ravel()
        n = np.arange(v.size)
        if stem:
            ax.stem(n, v, basefmt="k-")
        else:
            ax.plot(n, v, ".-")
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel("index")
    fig.tight_layout()
    return fig
