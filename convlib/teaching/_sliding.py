"""The sliding window of :mod:`convlib.teaching.viz` (import that module): the kernel over
the (padded) input, still or animated, and the transposed convolution drawn the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch, Rectangle

from .._checks import as_pair
from ..arithmetic import output_size
from ..conv import conv2d
from . import figure_text
from ._arrays import (
    _PAD_FACE,
    _WINDOW,
    ANNOTATE_MAX,
    _as_2d,
    _as_numpy,
    _format_value,
    show_array,
)

# --- the sliding window ------------------------------------------------------------


class _Window:
    """Everything a sliding-window figure needs, computed once."""

    def __init__(self, x, w, stride, padding, dilation, flip):
        # a tuple of ints is a shape (draw the grid only); anything else holds values
        if isinstance(x, tuple) and all(isinstance(s, (int, np.integer)) for s in x):
            shape = tuple(int(s) for s in x)
            if len(shape) not in (1, 2):
                raise ValueError(f"x as a shape must have 1 or 2 sizes, got {shape}")
            self.one_d = len(shape) == 1
            self.values = None
            xs = (1,) + shape if self.one_d else shape
        else:
            xa = _as_numpy(x)
            self.one_d = xa.ndim == 1
            self.values = _as_2d(xa, "x").astype(float)
            xs = self.values.shape
        if isinstance(w, tuple) and all(isinstance(s, (int, np.integer)) for s in w):
            kshape = ((1,) + w) if self.one_d else w
            if len(kshape) != 2:
                raise ValueError(f"w as a shape must have as many sizes as x, got {w}")
            self.kernel = None
            self.kshape = tuple(int(s) for s in kshape)
        else:
            wa = _as_numpy(w)
            if (wa.ndim == 1) != self.one_d:
                raise ValueError(f"x and w must both be 1D or both 2D, got x {xs} and w {wa.shape}")
            wa = _as_2d(wa, "w").astype(float)
            # convolution (flip=True) slides the kernel rotated by 180 degrees
            self.kernel = wa[::-1, ::-1] if flip else wa
            self.kshape = wa.shape
        self.flip = flip
        self.stride = as_pair(stride, "stride", self.one_d)
        self.padding = as_pair(padding, "padding", self.one_d, minimum=0)
        self.dilation = as_pair(dilation, "dilation", self.one_d)
        self.out_shape = output_size(xs, self.kshape, self.stride, self.padding, self.dilation)
        ph, pw = self.padding
        self.in_shape = xs
        self.padded_shape = (xs[0] + 2 * ph, xs[1] + 2 * pw)
        self.padded = None
        self.output = None
        if self.values is not None:
            self.padded = np.pad(self.values, ((ph, ph), (pw, pw)))
            if self.kernel is not None:
                self.output = conv2d(self.padded[None, None], self.kernel[None, None],
                                     stride=self.stride, dilation=self.dilation)[0, 0]

    @property
    def n_positions(self) -> int:
        return self.out_shape[0] * self.out_shape[1]

    def position(self, position: int | Sequence[int]) -> tuple[int, int]:
        if isinstance(position, (int, np.integer)):
            if not 0 <= position < self.n_positions:
                raise ValueError(f"position must be in [0, {self.n_positions}) for output "
                                 f"shape {self.out_shape}, got {position}")
            return divmod(int(position), self.out_shape[1])
        i, j = (0, position[0]) if self.one_d and len(position) == 1 else tuple(position)
        if not (0 <= i < self.out_shape[0] and 0 <= j < self.out_shape[1]):
            raise ValueError(
                f"position {tuple(position)} is outside the output shape {self.out_shape}"
            )
        return int(i), int(j)

    def taps(self, i: int, j: int) -> list[tuple[int, int]]:
        """Padded-input cells the kernel touches for output (i, j)."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        return [(i * sh + u * dh, j * sw + v * dw)
                for u in range(self.kshape[0]) for v in range(self.kshape[1])]


def _grid(ax: Axes, shape: tuple[int, int]) -> None:
    h, w = shape
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(-0.5, w, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, h, 1), minor=True)
    ax.grid(which="minor", color="#b0b0b0", linewidth=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_xticks([])
    ax.set_yticks([])


class _WindowFigure:
    """Kernel | padded input with the window | output, drawn once; ``show`` moves the window.

    The static parts (grids, values, padding) are drawn in ``__init__``; ``show(position)``
    only moves patches and changes texts, so an animation redraws nothing else."""

    def __init__(self, fig: Figure, win: _Window, annotate: bool | None, filled: bool,
                 title: str | None = None) -> None:
        self.fig, self.win, self.filled = fig, win, filled
        widths = [win.kshape[1], win.padded_shape[1], win.out_shape[1]]
        ax_k, ax_x, ax_y = fig.subplots(1, 3, gridspec_kw={"width_ratios": widths, "wspace": 0.35})
        self.ax_x, self.ax_y = ax_x, ax_y
        if annotate is None:
            annotate = win.values is not None and max(win.padded_shape) <= ANNOTATE_MAX + 2
        self.annotate = annotate
        small = 8 if max(win.padded_shape) <= 9 else 6.5

        # kernel
        if win.kernel is not None:
            show_array(win.kernel, ax_k, annotate=annotate, fontsize=small)
        else:
            _grid(ax_k, win.kshape)
            ax_k.add_patch(Rectangle((-0.5, -0.5), win.kshape[1], win.kshape[0],
                                     facecolor="#fde0dd", edgecolor="none"))
        ax_k.set_title("kernel w, flipped" if win.flip else "kernel w", fontsize=9)

        # padded input: values (or an empty grid), padding hatched
        ph, pw = win.padding
        if win.values is not None:
            shown = np.full(win.padded_shape, np.nan)
            shown[ph:ph + win.in_shape[0], pw:pw + win.in_shape[1]] = win.values
            lo, hi = np.nanmin(win.values), np.nanmax(win.values)
            colours = plt.get_cmap("Blues").with_extremes(bad="white")
            # a light colour range keeps the written values readable
            norm = plt.Normalize(lo - 0.1 * (hi - lo + 1e-12), hi + 1.2 * (hi - lo + 1e-12))
            ax_x.imshow(shown, cmap=colours, norm=norm, interpolation="nearest")
        _grid(ax_x, win.padded_shape)
        hp, wp = win.padded_shape
        strips = ((0, 0, ph, wp), (hp - ph, 0, ph, wp), (0, 0, hp, pw), (0, wp - pw, hp, pw))
        for r, c, h, w in strips:
            if h > 0 and w > 0:
                ax_x.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, facecolor=_PAD_FACE,
                                         edgecolor="none", hatch="///", hatchcolor="#c0c0c0",
                                         zorder=0.5))
        if annotate and win.padded is not None:
            integral = bool(np.all(win.padded == np.round(win.padded)))
            for (r, c), v in np.ndenumerate(win.padded):
                ax_x.text(c, r, _format_value(v, integral), ha="center", va="center",
                          fontsize=small, color="#595959" if _is_pad(win, r, c) else "black")
        x_title = "input x"
        if win.one_d or ph == pw:
            x_title += f", padding {pw}" if pw else ""
        else:
            x_title += f", padding ({ph}, {pw})"
        ax_x.set_title(x_title, fontsize=9)

        # the window: its outline, one shaded cell per tap, the weight written in each tap
        self.outline = ax_x.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=_WINDOW,
                                                linewidth=2.2, zorder=3))
        alpha = 0.35 if any(d > 1 for d in win.dilation) else 0.18
        n_taps = win.kshape[0] * win.kshape[1]
        self.tap_cells = [ax_x.add_patch(Rectangle((0, 0), 1, 1, facecolor=_WINDOW, alpha=alpha,
                                                   edgecolor="none", zorder=2))
                          for _ in range(n_taps)]
        self.tap_texts = []
        if annotate and win.kernel is not None:
            for wk in win.kernel.ravel():
                self.tap_texts.append(ax_x.text(0, 0, _format_value(wk, float(wk).is_integer()),
                                                ha="right", va="bottom", fontsize=small * 0.7,
                                                color=_WINDOW, zorder=4))

        # output: every value drawn once; ``show`` hides the ones not computed yet
        self.out_image = None
        self.out_cells = []
        if win.output is not None:
            show_array(win.output, ax_y, annotate=annotate, fontsize=small, cmap="Oranges",
                       vmin=float(np.min(win.output)), vmax=float(np.max(win.output)))
            self.out_image = ax_y.get_images()[0]
        else:
            _grid(ax_y, win.out_shape)
            for r, c in np.ndindex(*win.out_shape):
                self.out_cells.append(ax_y.add_patch(Rectangle(
                    (c - 0.5, r - 0.5), 1, 1, facecolor="#fdd0a2", edgecolor="none")))
        self.out_texts = list(ax_y.texts)
        self.current = ax_y.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=_WINDOW,
                                                linewidth=2.2, zorder=3))
        ax_y.set_title(f"output y: {win.out_shape[0]}×{win.out_shape[1]}" if not win.one_d
                       else f"output y: length {win.out_shape[1]}", fontsize=9)
        self.arrow = None

        # the sum of products, for small kernels
        self.equation = None
        if annotate and win.kernel is not None and win.kernel.size <= 9:
            self.equation = fig.text(0.5, 0.02, "", ha="center", va="bottom", fontsize=8.5)
        width, height = _figure_size(win, _cell_size(win))
        if title:
            height += 0.25
            fig.suptitle(title, fontsize=10, y=1 - 0.06 / height, va="top")
        fig.set_size_inches(width, height)
        fig.subplots_adjust(left=0.02, right=0.98, top=1 - (0.57 if title else 0.32) / height,
                            bottom=(0.38 if self.equation else 0.08) / height)

    def show(self, position: int | Sequence[int]) -> None:
        win = self.win
        i, j = win.position(position)
        step = i * win.out_shape[1] + j
        taps = win.taps(i, j)
        (r0, c0), (r1, c1) = taps[0], taps[-1]
        self.outline.set_bounds(c0 - 0.5, r0 - 0.5, c1 - c0 + 1, r1 - r0 + 1)
        for k, (r, c) in enumerate(taps):
            self.tap_cells[k].set_xy((c - 0.5, r - 0.5))
            if self.tap_texts:
                self.tap_texts[k].set_position((c + 0.45, r + 0.45))

        # outputs up to this step (all of them when not filling)
        done = np.arange(win.n_positions) <= (step if self.filled else win.n_positions)
        if self.out_image is not None:
            self.out_image.set_data(np.where(done.reshape(win.out_shape), win.output, np.nan))
        for k, text in enumerate(self.out_texts):
            text.set_visible(bool(done[k]))
        for k, cell in enumerate(self.out_cells):
            cell.set_visible(bool(done[k]) and k != step)
        self.current.set_xy((j - 0.5, i - 0.5))

        # the arrow from the window to the output cell it produces
        if self.arrow is not None:
            self.arrow.remove()
        self.arrow = ConnectionPatch(
            xyA=(c1 + 0.5, (r0 + r1) / 2), coordsA=self.ax_x.transData, xyB=(j - 0.5, i),
            coordsB=self.ax_y.transData, arrowstyle="-|>", color=_WINDOW, linewidth=1.5,
            mutation_scale=12, connectionstyle="arc3,rad=-0.2", zorder=5)
        self.fig.add_artist(self.arrow)

        if self.equation is not None:
            terms = []
            for k, (r, c) in enumerate(taps):
                wk, xk = win.kernel.flat[k], win.padded[r, c]
                integral = float(wk).is_integer() and float(xk).is_integer()
                ws, xs = _format_value(wk, integral), _format_value(xk, integral)
                terms.append(f"({ws})·{xs}" if wk < 0 else f"{ws}·{xs}")
            integral = bool(np.all(win.output == np.round(win.output)))
            where = f"y[{j}]" if win.one_d else f"y[{i},{j}]"
            total = _format_value(win.output[i, j], integral)
            self.equation.set_text(f"{where} = " + " + ".join(terms) + f" = {total}")


def _is_pad(win: _Window, r: int, c: int) -> bool:
    ph, pw = win.padding
    return r < ph or c < pw or r >= ph + win.in_shape[0] or c >= pw + win.in_shape[1]


def _cell_size(win: _Window) -> float:
    total = win.kshape[1] + win.padded_shape[1] + win.out_shape[1]
    return min(0.42, 9.0 / (total + 3))


def _figure_size(win: _Window, cell: float) -> tuple[float, float]:
    total = win.kshape[1] + win.padded_shape[1] + win.out_shape[1]
    height = max(win.kshape[0], win.padded_shape[0], win.out_shape[0])
    return (total + 3) * cell, height * cell + 0.75


def sliding_window(
    x: Any,
    w: Any,
    position: int | Sequence[int] = 0,
    *,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    flip: bool = False,
    annotate: bool | None = None,
    filled: bool = True,
    title: str | None = None,
) -> Figure:
    """One step of a sliding-window cross-correlation (``flip=True``: convolution).

    Three panels: the kernel ``w``; the input ``x`` with its padding hatched, the
    window outlined in red and the kernel weights written small in each cell it covers;
    and the output, whose cell at ``position`` is outlined, with an arrow from the window.
    ``position`` is an output index ``(i, j)`` (``(j,)`` in 1D) or a flat, row-major step
    number. ``filled=True`` shows the outputs computed up to this step, as if the window
    had slid there. Small arrays get their values written in, and the sum of products
    is printed under the figure. ``x`` and ``w`` may be arrays (1D or 2D) or shapes
    (tuples of ints), which draws the grids only; the numbers come from
    :func:`convlib.conv2d`. ``title`` goes above the three panels.

    >>> x = np.arange(1.0, 26.0).reshape(5, 5)
    >>> fig = sliding_window(x, np.ones((3, 3)), (1, 2))
    >>> [ax.get_title() for ax in fig.axes]
    ['kernel w', 'input x', 'output y: 3×3']
    >>> fig = sliding_window((7,), (3,), 2, stride=2, padding=1)   # shapes only, 1D
    """
    win = _Window(x, w, stride, padding, dilation, flip)
    win.position(position)  # a step outside the output raises before anything is drawn
    fig = plt.figure(figsize=_figure_size(win, _cell_size(win)))
    _WindowFigure(fig, win, annotate, filled, title).show(position)
    return fig


class _Animation(FuncAnimation):
    """A ``FuncAnimation`` that, while it is being saved, skips the on-screen redraw.

    Saving (``to_jshtml``) renders every frame into the file anyway; the extra screen
    draw after each frame would double the cost for nothing. Shown live, it behaves
    exactly like ``FuncAnimation``."""

    def _post_draw(self, framedata, blit):
        if getattr(self._fig.canvas, "_is_saving", False):
            return
        super()._post_draw(framedata, blit)


def sliding_window_animation(
    x: Any,
    w: Any,
    *,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    flip: bool = False,
    annotate: bool | None = None,
    positions: Sequence[int] | None = None,
    interval: int = 700,
    title: str | None = None,
) -> FuncAnimation:
    """The sliding window of :func:`sliding_window` as an animation, one frame per step.

    ``positions`` lists the flat steps to show (all output positions by default; keep
    an animation short, every frame is an image in the page); ``title`` goes above
    every frame. Show it with
    :func:`animation_html`, which plays it without a kernel.

    >>> anim = sliding_window_animation(np.arange(6.0), np.array([1.0, -1.0]))
    >>> len(list(anim.new_frame_seq()))
    5
    >>> html = animation_html(anim)  # render it (and close its figure)
    """
    win = _Window(x, w, stride, padding, dilation, flip)
    frames = list(range(win.n_positions)) if positions is None else [int(p) for p in positions]
    if not frames:
        raise ValueError("positions is empty: an animation needs at least one frame")
    for p in frames:
        win.position(p)  # raises ValueError for a step outside the output
    fig = plt.figure(figsize=_figure_size(win, _cell_size(win)))
    drawing = _WindowFigure(fig, win, annotate, True, title)
    drawing.show(frames[0])

    def draw(step: int):
        drawing.show(step)
        return []

    return _Animation(fig, draw, frames=frames, interval=interval, repeat=True)


def animation_html(anim: FuncAnimation, *, close: bool = True, default_mode: str = "loop") -> Any:
    """An animation as ``IPython.display.HTML`` (JavaScript player with embedded frames).

    It plays in the static book, with no kernel. ``close=True`` closes the animation's
    figure afterwards, so the notebook does not also show its last frame as a picture.

    >>> anim = sliding_window_animation(np.arange(4.0), np.ones(2), positions=[0, 1])
    >>> "<script" in animation_html(anim).data
    True
    """
    fig = anim._fig  # matplotlib keeps the figure only in this private attribute

    def jshtml(chinese: bool) -> tuple[str, list]:
        anim.__dict__.pop("_html_representation", None)  # to_jshtml keeps its first result
        if not chinese:
            return anim.to_jshtml(default_mode=default_mode), []
        with figure_text.saved_in_chinese(fig) as pairs:
            return anim.to_jshtml(default_mode=default_mode), pairs

    html, _ = jshtml(figure_text.language() == figure_text.CHINESE)
    if not figure_text.recording():
        result = HTML(html)
    else:  # a chapter being executed: the Chinese edition's frames in the metadata
        chinese, pairs = jshtml(True)
        result = _WithChinese(html)
        result.chinese = {"text/html": chinese, "texts": pairs}
    if close:
        plt.close(fig)
    return result


class _WithChinese(HTML):  # type: ignore[misc]
    """HTML whose output carries its Chinese rendering in the output's metadata."""

    chinese: dict[str, Any]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple:
        # the plain text of an HTML object: the output reads the same as when the chapter
        # runs without the Chinese rendering (nbval compares it)
        return ({"text/html": self.data, "text/plain": repr(HTML(self.data))},
                {figure_text.METADATA_KEY: {figure_text.CHINESE: self.chinese}})


# --- transposed convolution ------------------------------------------------------------


def transposed_conv_animation(
    x: Any,
    w: Any,
    *,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    annotate: bool | None = None,
    positions: Sequence[int] | None = None,
    interval: int = 700,
    title: str | None = None,
    dpi: float = 80,
) -> FuncAnimation:
    """A 2D transposed convolution drawn as Dumoulin and Visin's conv_arithmetic draws it.

    The transposed convolution of ``x`` (one channel) with kernel ``w`` and stride ``s``,
    padding ``p`` and ``output_padding`` ``a`` equals an ordinary stride-1 convolution:
    put ``s - 1`` zeros between neighbouring cells of ``x`` (dotted cells), add ``a``
    zero rows and columns at the bottom and right (dotted too), pad by ``k - 1 - p`` on
    every side (hatched), and slide the kernel rotated by 180 degrees over the result.
    One frame per output cell, as in :func:`sliding_window_animation`; the output equals
    ``torch.nn.functional.conv_transpose2d``. Needs ``0 <= p <= k - 1`` (otherwise the
    equivalent padding would be negative) and ``0 <= a < s``. ``dpi`` sets the frames'
    resolution (each frame is an image embedded in the page, so keep it modest).

    >>> anim = transposed_conv_animation(np.ones((2, 2)), np.ones((3, 3)), stride=2,
    ...                                  positions=[0, 1])
    >>> len(list(anim.new_frame_seq()))
    2
    >>> html = animation_html(anim)
    """
    xa, wa = _as_numpy(x).astype(float), _as_numpy(w).astype(float)
    if xa.ndim != 2 or wa.ndim != 2:
        raise ValueError(f"x and w must be 2D arrays, got x {xa.shape} and w {wa.shape}")
    stride = as_pair(stride, "stride", False)
    padding = as_pair(padding, "padding", False, minimum=0)
    output_padding = as_pair(output_padding, "output_padding", False, minimum=0)
    for s, p, a, k in zip(stride, padding, output_padding, wa.shape):
        if s < 1:
            raise ValueError(f"stride must be positive, got {stride}")
        if not 0 <= p <= k - 1:
            raise ValueError(f"padding must be in [0, kernel_size - 1] for the zero-insertion "
                             f"picture, got padding {padding} with kernel {wa.shape}")
        if not 0 <= a < s:
            raise ValueError(f"output_padding must be in [0, stride), got {output_padding} "
                             f"with stride {stride}")
    (sh, sw), (ah, aw) = stride, output_padding
    h, wd = xa.shape
    stretched = np.zeros(((h - 1) * sh + 1 + ah, (wd - 1) * sw + 1 + aw))
    stretched[: (h - 1) * sh + 1 : sh, : (wd - 1) * sw + 1 : sw] = xa
    inserted = np.ones(stretched.shape, dtype=bool)
    inserted[: (h - 1) * sh + 1 : sh, : (wd - 1) * sw + 1 : sw] = False
    full = tuple(k - 1 - p for k, p in zip(wa.shape, padding))
    win = _Window(stretched, wa, 1, full, 1, flip=True)
    frames = list(range(win.n_positions)) if positions is None else [int(p) for p in positions]
    if not frames:
        raise ValueError("positions is empty: an animation needs at least one frame")
    for p in frames:
        win.position(p)
    fig = plt.figure(figsize=_figure_size(win, _cell_size(win)), dpi=dpi)
    drawing = _WindowFigure(fig, win, annotate, True, title)
    # the inserted zeros: dotted, their values in grey
    ph, pw = full
    for r, c in zip(*np.nonzero(inserted)):
        drawing.ax_x.add_patch(Rectangle((c + pw - 0.5, r + ph - 0.5), 1, 1, facecolor="#f4f4f4",
                                         edgecolor="none", hatch="..", hatchcolor="#c0c0c0",
                                         zorder=0.5))
    for text in drawing.ax_x.texts:
        c, r = text.get_position()
        rr, cc = int(round(r)) - ph, int(round(c)) - pw
        if 0 <= rr < inserted.shape[0] and 0 <= cc < inserted.shape[1] and inserted[rr, cc]:
            text.set_color("#595959")
    zeros = sh - 1 if sh == sw else (sh - 1, sw - 1)
    drawing.ax_x.set_title(f"input, s-1 = {zeros} zeros between cells, padding k-1-p = "
                           f"{ph if ph == pw else (ph, pw)}", fontsize=9)
    fig.axes[0].set_title("kernel w, rotated 180°", fontsize=9)
    drawing.show(frames[0])

    def draw(step: int):
        drawing.show(step)
        return []

    return _Animation(fig, draw, frames=frames, interval=interval, repeat=True)
