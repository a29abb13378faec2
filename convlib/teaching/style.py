"""The book's figure style: colours that survive colour-vision deficiency and greyscale.

About 8 % of men of European ancestry have a red-green colour-vision deficiency, and
printed handouts are often grey. So a figure must never tell two things apart by hue
alone. This module is the one home of the book's colour choices:

* :data:`CYCLE` -- the colour cycle: six colours of Okabe and Ito's palette (2002,
  https://jfly.uni-koeln.de/color/, :data:`OKABE_ITO`), chosen to stay apart under
  protanopia, deuteranopia and tritanopia. Black (kept for reference lines) and yellow
  (too light on white) are left out.
* :data:`LINESTYLES` and :data:`MARKERS` -- one dash pattern and one marker per colour,
  so that lines also differ in greyscale, where several of the colours have nearly the
  same lightness. The dash patterns are part of the cycle; markers are added by
  :func:`series` where a line has few points.
* :data:`SEQUENTIAL` (``viridis``) and :data:`DIVERGING` (``RdBu_r``, ColorBrewer's
  colour-blind-safe red-blue, white at zero) -- the colour maps; :data:`COLORMAPS` lists
  every map a figure of the book may use: perceptually uniform maps and single-hue maps
  whose lightness changes monotonically (tests/test_colours.py checks both properties).

:func:`use` puts the style into matplotlib's ``rcParams``. Importing
:mod:`convlib.teaching.viz` calls it, because its figures assume it; a chapter that plots
without ``viz`` calls ``style.use()`` in its setup cell.

>>> use()
>>> import matplotlib as mpl
>>> mpl.rcParams["axes.prop_cycle"].by_key()["color"][:2]
['#0072B2', '#D55E00']
>>> series(1)["marker"]
's'
"""

from __future__ import annotations

from typing import Any

#: The eight colours of the palette of M. Okabe and K. Ito, "Color Universal Design"
#: (2002), by name.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

#: The colour cycle, "C0" to "C5" in a chapter. Blue and vermillion come first, so that
#: the usual two-line figure is blue against red-orange, apart in every deficiency and in
#: lightness.
CYCLE = tuple(OKABE_ITO[name] for name in (
    "blue", "vermillion", "bluish green", "reddish purple", "orange", "sky blue"))

#: One dash pattern per colour of the cycle (solid first, so a single line looks as usual).
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1.5, 1, 1.5, 1, 1.5)), (0, (8, 2)))

#: One filled marker per colour of the cycle, for lines with few points (see series()).
MARKERS = ("o", "s", "^", "D", "v", "P")

#: The colour map for values, perceptually uniform (``image.cmap``).
SEQUENTIAL = "viridis"
#: The colour map for signed values, white at zero (show_array's default for them).
DIVERGING = "RdBu_r"

#: Every colour map a figure may use, with its kind. A "uniform" map is perceptually
#: uniform (lightness rises steadily), a "single hue" map is sequential with a lightness
#: that changes monotonically, and along a "diverging" map lightness rises monotonically
#: from each end to the white centre.
COLORMAPS = {
    "viridis": "uniform", "cividis": "uniform", "magma": "uniform",
    "inferno": "uniform", "plasma": "uniform",
    "gray": "single hue", "gray_r": "single hue", "Greys": "single hue",
    "Greys_r": "single hue", "Blues": "single hue", "Greens": "single hue",
    "Oranges": "single hue", "Reds": "single hue", "Reds_r": "single hue",
    "Purples": "single hue",
    "RdBu_r": "diverging", "RdBu": "diverging", "PuOr": "diverging", "PuOr_r": "diverging",
}


def rc() -> dict[str, Any]:
    """The style as matplotlib ``rcParams`` entries.

    >>> sorted(rc())
    ['axes.prop_cycle', 'image.cmap']
    """
    from cycler import cycler

    return {
        "axes.prop_cycle": cycler(color=list(CYCLE), linestyle=list(LINESTYLES)),
        "image.cmap": SEQUENTIAL,
    }


def use() -> None:
    """Apply the style to matplotlib (for every later figure of the process)."""
    import matplotlib as mpl

    mpl.rcParams.update(rc())


def series(i: int) -> dict[str, Any]:
    """Colour, dash pattern and marker of the ``i``-th line: ``ax.plot(x, y, **series(i))``.

    Use it where lines are drawn with explicit colours (``color="C2"``), so that they keep
    their dash pattern and get a marker as well.

    >>> series(0)
    {'color': '#0072B2', 'linestyle': '-', 'marker': 'o'}
    >>> series(6) == series(0)
    True
    """
    if not isinstance(i, int) or isinstance(i, bool):
        raise TypeError(f"series: i must be an int, got {type(i).__name__}")
    k = i % len(CYCLE)
    return {"color": CYCLE[k], "linestyle": LINESTYLES[k], "marker": MARKERS[k]}


def luminance(rgba: Any) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour (components in 0..1)."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def text_colour(rgba: Any) -> str:
    """Black or white, whichever has the higher WCAG contrast on the cell's colour: at
    least 4.58:1 (the square root of 21) on any colour, so a value written in a cell is
    as legible as body text (WCAG 1.4.3).

    >>> text_colour((0.128, 0.567, 0.551))  # viridis at 0.5: black 5.5:1, white 3.9:1
    'black'
    """
    y = luminance(rgba)
    return "black" if (y + 0.05) / 0.05 >= 1.05 / (y + 0.05) else "white"
