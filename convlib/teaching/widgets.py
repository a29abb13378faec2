"""Interactive explorers (ipywidgets) for JupyterLab.

* :func:`output_size_explorer` -- set the input size, kernel size, stride, padding and
  dilation; see the output size, the formula that gives it, and the sliding window.
* :func:`kernel_explorer` -- pick a kernel (or type a 3x3 one) and see its feature map
  on an image.

Each returns an ipywidgets container: display it (make it the last expression of a
cell). When a notebook is executed with widget state saved, the static book shows the
controls and the last figure; the live version needs a kernel.

>>> box = output_size_explorer(input_size=5, kernel_size=3)
>>> box.output_size
3
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Mapping
from typing import Any

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from ..arithmetic import output_size
from ..conv import conv2d
from .figure_text import chinese_png, in_reader_language, recording
from .translate import language, tr
from .viz import show_array, sliding_window

__all__ = ["output_size_explorer", "kernel_explorer", "output_size_text", "OutputSizeExplorer"]

# Every label and message of the widgets, in English. They are shown through
# :func:`convlib.teaching.translate.tr`, so a notebook run with CONVBOOK_LANGUAGE=zh_CN
# shows them in Chinese; ``tools/i18n.py update`` puts them in results.po (with the kernel
# names of the chapters' saved widgets, which a notebook chooses).
LABELS = (
    "input size n", "kernel size k", "stride s", "padding p", "dilation d",
    "window position", "kernel", "custom 3x3", "3x3 weights (used by custom 3x3):",
    "No output: make the kernel smaller, or add padding.",
    "the kernel span 5 is larger than the padded input 3",
)


def output_size_text(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> str:
    """The output-size formula with the numbers filled in, as one line of text.

    >>> output_size_text(7, 3, 2, 1)
    'n_out = floor((n + 2p - d(k-1) - 1) / s) + 1 = floor((7 + 2 - 2 - 1) / 2) + 1 = 4'
    """
    top = n + 2 * p - d * (k - 1) - 1
    head = (f"n_out = floor((n + 2p - d(k-1) - 1) / s) + 1 = "
            f"floor(({n} + {2 * p} - {d * (k - 1)} - 1) / {s}) + 1")
    if top < 0:
        why = tr(f"the kernel span {d * (k - 1) + 1} is larger than the padded input {n + 2 * p}")
        return f"{head}: {why}"
    return f"{head} = {output_size(n, k, s, p, d)}"


#: The CSS class that marks a picture's Chinese twin, followed by the picture's model id.
CHINESE_TWIN = "convbook-zh-of-"


class Picture:
    """An Image widget that shows figures, in the reader's language.

    An Image widget (rather than an Output widget) keeps the picture in the widget state,
    so it shows in the static book, and writes nothing to stdout outside a kernel. While
    a chapter is executed for the book (:func:`~convlib.teaching.figure_text.recording`),
    each figure is also drawn with Chinese words into a *twin*: an Image widget that is
    never displayed, whose CSS class names the picture's model. The Chinese edition shows
    the twin's picture in the picture's place (``docs/_ext/zh_figures.py``).

    >>> import matplotlib.pyplot as plt
    >>> picture = Picture()
    >>> picture.show(plt.figure(figsize=(1, 1)))
    >>> bytes(picture.widget.value).startswith(b"PNG", 1), picture.twin is None
    (True, True)
    """

    def __init__(self) -> None:
        self.widget = W.Image(format="png")
        self.twin: W.Image | None = None
        if recording():
            self.twin = W.Image(format="png",
                                _dom_classes=(CHINESE_TWIN + self.widget.model_id,))

    def show(self, fig) -> None:
        """Draw ``fig`` into the widget (and its twin); the figure is closed."""
        self.widget.value = in_reader_language(_render)(fig)
        if self.twin is not None:  # the texts' pairs ride along, for the build's checks
            self.twin.value, pairs = chinese_png(fig, render=_render)
            self.twin.tooltip = json.dumps(pairs, ensure_ascii=False)
        plt.close(fig)


def _render(figure) -> bytes:
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


class OutputSizeExplorer(W.VBox):
    """The box :func:`output_size_explorer` returns; ``output_size`` is the current ``n_out``
    (``None`` when the kernel does not fit)."""

    output_size: int | None = None


def output_size_explorer(
    input_size: int = 7,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    *,
    max_input: int = 12,
) -> OutputSizeExplorer:
    """Sliders for ``n, k, s, p, d`` of a square 2D convolution; shows ``n_out`` and the window.

    A fifth slider moves the window over the output positions. The figure is
    :func:`convlib.teaching.viz.sliding_window` on shapes only (a grid, no values), so it stays
    readable for any size. Impossible settings (kernel larger than the padded input)
    are reported instead of drawn.

    >>> box = output_size_explorer(7, 3, stride=2, padding=1)
    >>> box.output_size
    4
    """
    style = {"description_width": "110px"}
    layout = W.Layout(width="360px")
    sliders = {
        "n": W.IntSlider(input_size, 1, max_input, description=tr("input size n"), style=style,
                         layout=layout),
        "k": W.IntSlider(kernel_size, 1, 7, description=tr("kernel size k"), style=style,
                         layout=layout),
        "s": W.IntSlider(stride, 1, 4, description=tr("stride s"), style=style, layout=layout),
        "p": W.IntSlider(padding, 0, 3, description=tr("padding p"), style=style, layout=layout),
        "d": W.IntSlider(dilation, 1, 4, description=tr("dilation d"), style=style, layout=layout),
    }
    step = W.IntSlider(0, 0, 0, description=tr("window position"), style=style, layout=layout)
    text = W.HTML()
    drawn = Picture()
    picture = drawn.widget
    controls = W.HBox([W.VBox(list(sliders.values())), W.VBox([step])])
    box = OutputSizeExplorer([controls, text, picture])

    def n_out() -> int | None:
        n, k, s, p, d = (sliders[c].value for c in "nkspd")
        if n + 2 * p < d * (k - 1) + 1:
            return None
        return output_size(n, k, s, p, d)

    drawing = {"now": False}

    def redraw(*_: Any) -> None:
        if drawing["now"]:  # clamping the position slider below calls back here: draw once
            return
        drawing["now"] = True
        try:
            _redraw()
        finally:
            drawing["now"] = False

    def _redraw() -> None:
        n, k, s, p, d = (sliders[c].value for c in "nkspd")
        m = n_out()
        box.output_size = m
        text.value = f"<code>{html.escape(output_size_text(n, k, s, p, d))}</code>"
        # the position slider covers the m x m output positions
        with step.hold_trait_notifications():
            step.max = max((m or 1) ** 2 - 1, 0)
            step.value = min(step.value, step.max)
        if m is None:
            advice = tr("No output: make the kernel smaller, or add padding.")
            text.value += "<br>" + html.escape(advice)
            picture.layout.display = "none"
            return
        fig = sliding_window((n, n), (k, k), step.value, stride=s, padding=p, dilation=d)
        drawn.show(fig)
        picture.layout.display = None

    for slider in sliders.values():
        slider.observe(redraw, names="value")
    step.observe(redraw, names="value")
    redraw()
    return box


def kernel_explorer(
    image: Any,
    kernels: Mapping[str, Any],
    *,
    padding_mode: str = "reflect",
    cmap: str = "gray",
) -> W.VBox:
    """Choose a kernel from ``kernels`` (or edit a 3x3 one) and see its feature map.

    ``image`` is a 2D array (a grayscale photograph); the feature map is
    ``convlib.conv2d(image, kernel, padding="same", padding_mode=padding_mode)``, so it
    has the image's size. Choosing a 3x3 kernel copies it into the editable grid;
    choosing "custom 3x3" uses the grid.

    >>> identity = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    >>> box = kernel_explorer(np.eye(8), {"identity": identity})
    >>> box.children[0].options
    ('identity', 'custom 3x3')
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"image must be 2D (a grayscale picture), got shape {img.shape}")
    if not kernels:
        raise ValueError("kernels is empty: give at least one name -> 2D array")
    presets = {name: np.asarray(k, dtype=np.float64) for name, k in kernels.items()}
    for name, k in presets.items():
        if k.ndim != 2:
            raise ValueError(f"kernel {name!r} must be 2D, got shape {k.shape}")
    custom = "custom 3x3"
    names = [*presets, custom]
    # in another language, (label, value) pairs: the label translated, the value the name
    options = names if language() == "en" else [(tr(name), name) for name in names]
    choice = W.Dropdown(options=options, description=tr("kernel"))
    cells = [W.FloatText(0.0, layout=W.Layout(width="64px")) for _ in range(9)]
    grid = W.GridBox(cells, layout=W.Layout(grid_template_columns="repeat(3, 70px)"))
    drawn = Picture()
    picture = drawn.widget
    label = W.Label(tr("3x3 weights (used by custom 3x3):"))
    box = W.VBox([choice, W.HBox([label, grid]), picture])
    busy = {"filling": False}

    def kernel() -> np.ndarray:
        if choice.value == custom:
            return np.array([c.value for c in cells]).reshape(3, 3)
        return presets[choice.value]

    def redraw(*_: Any) -> None:
        if busy["filling"]:
            return
        k = kernel()
        feature = conv2d(img[None, None], k[None, None], padding="same",
                         padding_mode=padding_mode)[0, 0]
        fig, axes = plt.subplots(1, 3, figsize=(9, 3.2),
                                 gridspec_kw={"width_ratios": [1, 0.6, 1]})
        show_array(img, axes[0], title="image", cmap=cmap)
        show_array(k, axes[1], title=f"kernel: {choice.value}")
        show_array(feature, axes[2], title="feature map", cmap=cmap)
        fig.tight_layout()
        drawn.show(fig)

    def chosen(*_: Any) -> None:
        k = kernel()
        if choice.value != custom and k.shape == (3, 3):
            busy["filling"] = True  # one redraw for the nine cells, not nine
            for c, v in zip(cells, k.ravel()):
                c.value = float(v)
            busy["filling"] = False
        redraw()

    choice.observe(chosen, names="value")
    for c in cells:
        c.observe(lambda change: redraw() if choice.value == custom else None, names="value")
    chosen()
    return box
