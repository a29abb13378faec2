"""A figure drawn again with its words in Chinese: same figure object, same numbers.

The Chinese edition does not redraw its figures from new computations. When a chapter is
executed, each figure it shows is rendered twice from the one ``Figure``: as it is (the
output's ``image/png``) and with every text that has words (titles, axis labels, tick
labels, legend entries, annotations, colorbar labels) replaced by its translation from the
results catalog (:mod:`convlib.teaching.translate`: a number template, so the numbers
cannot change). The Chinese PNG and the ``[english, chinese]`` pairs are stored in the
output's metadata, under :data:`METADATA_KEY`; the Chinese build shows that PNG.

An animation (:func:`convlib.teaching.viz.animation_html`) is translated frame by frame
(:func:`saved_in_chinese`), its Chinese player stored the same way; a widget's picture is
drawn in the reader's language (:func:`in_reader_language`).

:func:`install` registers this with IPython (``tools/execute.py`` does it in the kernel
it executes the chapters with; the Chinese notebooks do it in their first cell, where
``CONVBOOK_LANGUAGE=zh_CN`` makes the figure itself Chinese).

>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots()
>>> _ = ax.set_title("stride 2")
>>> with translated(fig, {"stride {0}": "步幅 {0}"}) as pairs:
...     ax.get_title()
'步幅 2'
>>> pairs, ax.get_title()
([['stride 2', '步幅 2']], 'stride 2')
>>> plt.close(fig)
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

from IPython.core.formatters import BaseFormatter
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import Formatter
from traitlets import ObjectName, Unicode

from .translate import english_words, language, load_catalog, translate

# output.metadata[METADATA_KEY]["zh_CN"] = {"image/png": base64, "texts": [[en, zh], ...]}
METADATA_KEY = "convbook"
CHINESE = "zh_CN"
CJK_FONT = "Noto Sans CJK SC"  # Debian's fonts-noto-cjk


class _Translating(Formatter):
    """A tick formatter that gives another formatter's labels in translation."""

    def __init__(self, inner: Formatter, swap: Callable[[str], str]) -> None:
        self.inner, self.swap = inner, swap

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.swap(self.inner(x, pos))

    def format_ticks(self, values: Any) -> list[str]:
        return [self.swap(label) for label in self.inner.format_ticks(values)]

    def set_locs(self, locs: Any) -> None:
        self.inner.set_locs(locs)

    def get_offset(self) -> str:
        return self.swap(self.inner.get_offset())


def _shown(text: Text) -> bool:
    return bool(text.get_text().strip()) and text.get_visible() and (
        text.axes is None or text.axes.get_visible())


@contextmanager
def translated(fig: Figure, catalog: Mapping[str, str]) -> Iterator[list[list[str | None]]]:
    """Within the block, ``fig``'s texts are in the catalog's language; restored after.

    Yields the list of ``[english, translation]`` pairs of the texts with words (filled in
    as the figure is drawn: tick labels are made at drawing time); the translation is
    None where the catalog has none (the English text is drawn).
    """
    pairs: list[list[str | None]] = []

    def swap(english: str) -> str:
        if not english.strip() or not english_words(english):
            return english
        chinese = translate(english, catalog)
        if [english, chinese] not in pairs:
            pairs.append([english, chinese])
        return english if chinese is None else chinese

    texts = [(t, t.get_text()) for t in fig.findobj(Text) if _shown(t)]
    axes = [axis for ax in fig.axes for axis in ax._axis_map.values()]
    formatters = [(axis, axis.major.formatter, axis.minor.formatter) for axis in axes]
    try:
        for text, english in texts:
            text.set_text(swap(english))
        for axis, major, minor in formatters:
            axis.major.formatter = _Translating(major, swap)
            axis.minor.formatter = _Translating(minor, swap)
        yield pairs
    finally:
        for axis, major, minor in formatters:
            axis.major.formatter, axis.minor.formatter = major, minor
        for text, english in texts:
            text.set_text(english)


@cache
def cjk_font() -> str | None:
    """The CJK font's family name, registered with matplotlib; None if not installed."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    if CJK_FONT not in names:  # installed after matplotlib built its font cache
        for path in font_manager.findSystemFonts(fontext="otf"):
            if "NotoSansCJK-Regular" in path:
                font_manager.fontManager.addfont(path)
        names = {f.name for f in font_manager.fontManager.ttflist}
    return CJK_FONT if CJK_FONT in names else None


@contextmanager
def cjk_fallback(fig: Figure) -> Iterator[None]:
    """Within the block, ``fig``'s texts (and new ones) fall back to the CJK font for the
    characters their own font lacks (matplotlib's per-glyph fallback along the family
    list); their families are restored after."""
    font = cjk_font()
    if font is None:
        yield
        return
    from matplotlib import rcParams

    families = [(t, t.get_fontfamily()) for t in fig.findobj(Text)]
    try:
        for text, family in families:
            text.set_fontfamily([*family, font])
        with rc_context({"font.family": [*rcParams["font.family"], font]}):
            yield
    finally:
        for text, family in families:
            text.set_fontfamily(family)


def png(fig: Figure) -> bytes:
    """``fig`` as PNG bytes, as the inline backend renders it (tight bounding box)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight",
                facecolor=fig.get_facecolor(), edgecolor=fig.get_edgecolor())
    return buffer.getvalue()


@contextmanager
def saved_in_chinese(fig: Figure, catalog: Mapping[str, str] | None = None
                     ) -> Iterator[list[list[str | None]]]:
    """Within the block, each ``fig.savefig`` draws the figure with its texts in Chinese.

    Each save translates the texts the figure has at that moment, so the frames of an
    animation (whose titles change from frame to frame) are translated one by one.
    Yields the ``[english, chinese]`` pairs met; the figure is left as it was.
    """
    catalog = load_catalog() if catalog is None else catalog
    pairs: list[list[str | None]] = []
    original = fig.savefig

    def savefig(*args: Any, **kwargs: Any) -> None:
        with cjk_fallback(fig), translated(fig, catalog) as found:
            original(*args, **kwargs)
        pairs.extend(pair for pair in found if pair not in pairs)

    fig.savefig = savefig  # type: ignore[method-assign]
    try:
        yield pairs
    finally:
        del fig.savefig


def chinese_png(fig: Figure, catalog: Mapping[str, str] | None = None,
                render: Callable[[Figure], bytes] = png) -> tuple[bytes, list[list]]:
    """``fig`` rendered by ``render`` with its texts in Chinese, and the
    ``[english, chinese]`` pairs. The figure's English texts and tick formatters are
    restored afterwards."""
    with saved_in_chinese(fig, catalog) as pairs:
        data = render(fig)
    return data, pairs


def in_reader_language(render: Callable[[Figure], bytes]) -> Callable[[Figure], bytes]:
    """``render`` drawing in the reader's :func:`~convlib.teaching.translate.language`
    (the widgets use it, so that a Chinese notebook draws them in Chinese)."""

    def rendered(fig: Figure) -> bytes:
        if language() == CHINESE:
            return chinese_png(fig, render=render)[0]
        return render(fig)

    return rendered


_recording = False  # set by install() in the English edition's kernel


def recording() -> bool:
    """Whether figures are being rendered in Chinese too (a chapter being executed)."""
    return _recording


def figure_metadata(fig: Figure) -> tuple[None, dict[str, Any]]:
    """IPython formatter: no data, and the Chinese rendering as the output's metadata."""
    import base64

    data, pairs = chinese_png(fig)
    encoded = base64.b64encode(data).decode("ascii")
    return None, {CHINESE: {"image/png": encoded, "texts": pairs}}


class _Metadata(BaseFormatter):
    """IPython formatter of type :data:`METADATA_KEY`: metadata only, for figures only."""

    format_type = Unicode(METADATA_KEY)
    print_method = ObjectName("_repr_convbook_")  # no class has one: the Figure entry only
    _return_type = (type(None),)

    def pop(self, typ: Any, default: Any = None) -> Any:
        """Keep the Figure entry: the inline backend pops every formatter's at start."""
        return default if typ is Figure else super().pop(typ, default)


def install() -> None:
    """Register the Chinese rendering of figures with the running IPython, if any.

    In the English edition's kernel (``tools/execute.py``), each figure output gets the
    Chinese PNG in its metadata. With ``CONVBOOK_LANGUAGE=zh_CN`` (the Chinese notebooks)
    the figure is shown in Chinese instead: registered again before each cell, because
    ``%matplotlib inline`` removes every formatter's entry for ``Figure``.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    import matplotlib
    import matplotlib.pyplot  # noqa: F401

    matplotlib.get_backend()  # start the inline backend now: it resets the formatters
    formatters = shell.display_formatter.formatters
    if language() == CHINESE:
        def register(*_: Any) -> None:
            formatters["image/png"].for_type(Figure, lambda fig: chinese_png(fig)[0])
    else:
        global _recording
        _recording = True
        formatters[METADATA_KEY] = _Metadata(parent=shell.display_formatter)

        def register(*_: Any) -> None:
            formatters[METADATA_KEY].for_type(Figure, figure_metadata)

    register()
    shell.events.register("pre_run_cell", register)
