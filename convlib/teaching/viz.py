"""Figures for the book: arrays as images, the sliding window, padding modes.

Plotting lives here, apart from the maths, so ``import convlib`` never imports
matplotlib. Import this module explicitly: ``import convlib.teaching.viz as viz``.

* :func:`show_array`, :func:`show_arrays` -- kernels and feature maps as images, with
  their values written in the cells when the array is small.
* :func:`plot_signals` -- 1D signals as stem plots, one row each.
* :func:`sliding_window`, :func:`sliding_window_animation` -- the kernel over the
  (padded) input with the window outlined and an arrow to the output cell it makes;
  works for 1D and 2D, with stride, padding and dilation.
* :func:`animation_html` -- an animation as HTML/JavaScript that plays with no kernel.
* :func:`padding_modes` -- zero, reflect, replicate and circular padding of a border.
* :func:`receptive_field_figure` -- which input cells one output of a 1D stack sees.
* :func:`transposed_conv_animation` -- a transposed convolution as zeros inserted into
  the input, padding ``k - 1 - p`` and a sliding window (as conv_arithmetic draws it).

The arrays live in ``_arrays.py``, the sliding window and the transposed convolution in
``_sliding.py``; this module gathers them with the padding and receptive-field figures.

Importing this module applies the book's colour-blind-safe style
(:mod:`convlib.teaching.style`) to matplotlib.

Every function returns a matplotlib ``Figure`` (or ``Axes`` / ``FuncAnimation``),
so a notebook can show, save or test it.

>>> import numpy as np
>>> fig = show_arrays({"kernel": np.eye(3), "image": np.arange(16.0).reshape(4, 4)})
>>> len(fig.axes)
2
"""


from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..arithmetic import output_size, receptive_field
from ..padding import CONV_TO_PAD_MODE, pad
from ._arrays import _WINDOW, _as_2d, plot_signals, show_array, show_arrays
from ._sliding import (
    animation_html,
    sliding_window,
    sliding_window_animation,
    transposed_conv_animation,
)
from .style import SEQUENTIAL, use

# The book's colour-blind-safe style (convlib.teaching.style): every figure of this module
# assumes it, and a chapter that imports viz to draw gets it for its own plots as well.
use()

__all__ = [
    "show_array",
    "show_arrays",
    "plot_signals",
    "sliding_window",
    "sliding_window_animation",
    "animation_html",
    "padding_modes",
    "receptive_field_figure",
    "transposed_conv_animation",
]


# --- padding modes -------------------------------------------------------------------

# conv's names of the modes (and pad's "constant"), as convlib.padding.pad names them
_PAD_MODE_NAMES = {**CONV_TO_PAD_MODE, "constant": "constant"}


def padding_modes(
    image: Any,
    pad_width: int,
    modes: Sequence[str] = ("zeros", "reflect", "replicate", "circular"),
    *,
    crop: int | None = None,
    annotate: bool | None = None,
    cmap: str | None = None,
    size: float = 2.6,
) -> Figure:
    """The same 2D array padded by ``pad_width`` on every side, one panel per mode.

    Modes use conv's names (``"zeros"``, ``"reflect"``, ``"replicate"``,
    ``"circular"``; ``"constant"`` is the same as ``"zeros"``). The original array is
    outlined in red. ``crop`` shows only the top-left ``crop x crop`` corner of the
    original plus the padding, to zoom in on a photograph's border.

    >>> fig = padding_modes(np.arange(16.0).reshape(4, 4), 2)
    >>> [ax.get_title() for ax in fig.axes]
    ['zeros', 'reflect', 'replicate', 'circular']
    """
    a = _as_2d(image, "image").astype(float)
    if not isinstance(pad_width, (int, np.integer)) or pad_width < 0:
        raise ValueError(f"pad_width must be a non-negative int, got {pad_width!r}")
    for m in modes:
        if m not in _PAD_MODE_NAMES:
            raise ValueError(f"modes must be among {tuple(_PAD_MODE_NAMES)}, got {m!r}")
    p = int(pad_width)
    fig, axes = plt.subplots(1, len(modes), figsize=(size * len(modes), size), squeeze=False)
    lo, hi = float(a.min()), float(a.max())
    for ax, mode in zip(axes[0], modes):
        padded = pad(a, (p, p, p, p), mode=_PAD_MODE_NAMES[mode])
        if crop is not None:
            padded = padded[: p + crop, : p + crop]
        show_array(padded, ax, title=mode, annotate=annotate, cmap=cmap or SEQUENTIAL,
                   vmin=lo, vmax=hi)
        h = a.shape[0] if crop is None else min(crop, a.shape[0])
        w = a.shape[1] if crop is None else min(crop, a.shape[1])
        ax.add_patch(Rectangle((p - 0.5, p - 0.5), w, h, fill=False, edgecolor=_WINDOW,
                               linewidth=2.5, linestyle="--" if crop is not None else "-"))
    fig.tight_layout()
    return fig


# --- receptive field -------------------------------------------------------------------


def receptive_field_figure(
    layers: Sequence[Sequence[int]], input_size: int | None = None, *, width: float = 8.0
) -> Figure:
    """Which input cells one output of a stack of 1D convolutions sees (no padding).

    ``layers`` are ``(kernel_size, stride[, dilation])``, first layer first. Each layer
    is a row of cells, the input at the bottom; the middle output at the top and
    every cell it depends on are coloured, with lines from each cell to the cells
    it reads. The size found is the one :func:`convlib.receptive_field` computes.

    >>> fig = receptive_field_figure([(3, 1), (3, 1)], input_size=9)
    >>> fig.axes[0].get_title()
    'receptive field: 5 input cells'
    """
    layers = [tuple(int(v) for v in layer) + (1, 1)[: 3 - len(layer)] for layer in layers]
    if not layers:
        raise ValueError("layers is empty: give at least one (kernel_size, stride[, dilation])")
    rf = receptive_field(layers)
    n0 = rf.size + 4 if input_size is None else int(input_size)
    sizes = [n0]
    for k, s, d in layers:
        sizes.append(output_size(sizes[-1], k, s, 0, d))
    top = len(layers)
    # walk down from the middle output of the last layer
    used = [set() for _ in sizes]
    used[top] = {(sizes[top] - 1) // 2}
    links = []
    for level in range(top, 0, -1):
        k, s, d = layers[level - 1]
        for o in sorted(used[level]):
            for u in range(k):
                used[level - 1].add(s * o + d * u)
                links.append((level, o, s * o + d * u))
    # cell centres: every layer is centred on the input's width
    def xpos(level: int, idx: int) -> float:
        span = rf_jump[level]
        return offset[level] + idx * span

    rf_jump, offset = [1.0], [0.0]
    for k, s, d in layers:
        # output i sits over the centre of the span it reads: s*i + d*(k-1)/2
        offset.append(offset[-1] + rf_jump[-1] * d * (k - 1) / 2)
        rf_jump.append(rf_jump[-1] * s)
    fig, ax = plt.subplots(figsize=(width, 0.9 * (top + 1) + 0.6))
    for level, n in enumerate(sizes):
        for idx in range(n):
            on = idx in used[level]
            face = (_WINDOW if level == top else "#fc9272") if on else "white"
            ax.add_patch(Rectangle((xpos(level, idx) - 0.4, level - 0.2), 0.8, 0.4,
                                   facecolor=face, edgecolor="#555555", linewidth=0.8, zorder=2))
    for level, o, i in links:
        ax.plot([xpos(level, o), xpos(level - 1, i)], [level - 0.2, level - 1 + 0.2],
                color="#999999", linewidth=0.8, zorder=1)
    ax.set_xlim(-1, n0)
    ax.set_ylim(-0.6, top + 0.6)
    ax.set_yticks(range(top + 1))
    labels = ["input"] + [f"layer {i + 1}: k={k}, s={s}, d={d}"
                          for i, (k, s, d) in enumerate(layers)]
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xticks([])
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    ax.set_title(f"receptive field: {len(used[0])} input cells" if len(used[0]) == rf.size
                 else f"receptive field: spans {rf.size} input cells, reads {len(used[0])}")
    fig.tight_layout()
    return fig
