"""Figures readable with a colour-vision deficiency and in greyscale (WCAG 1.4.1, 1.4.11).

Colour vision is simulated with Machado, Oliveira & Fernandes (2009), "A
Physiologically-based Model for Simulation of Color Vision Deficiency" (IEEE TVCG 15(6)),
severity 1.0 matrices for protanopia, deuteranopia and tritanopia, applied to linear sRGB.
Differences are CIE 1976 ΔE*ab in CIELAB (D65 white).

The threshold: ΔE*ab ≈ 2.3 is the just-noticeable difference of two large patches side by
side (Sharma, *Digital Color Imaging Handbook*, 2003), but the difference that is noticed
grows quickly as marks shrink (Stone, Albers Szafir & Setlur 2014, "An Engineering Model
for Color Difference as a Function of Size": several times larger for marks a few pixels
wide). A line or a marker in a figure is such a mark, and a legend puts the two colours
apart, not side by side, so two colours must differ by ``MIN_DELTA_E = 15`` (about six
large-patch JNDs) under every simulated deficiency. The same number is the lightness
difference ΔL* below which two lines are taken to look alike in greyscale, where they must
then differ in dash pattern and marker. As a check that the threshold means something,
matplotlib's old default red and green (``tab:red``, ``tab:green``) are 7 apart under
deuteranopia and fail it.

The scan reads every chapter's code cells and ``convlib/teaching``: every colour map named
is one of ``style.COLORMAPS``, no two explicit colours in one cell are told apart only by
normal colour vision, and every chapter that plots applies the style.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from pathlib import Path

import matplotlib as mpl
import matplotlib.colors as mcolors
import numpy as np
import pytest

from convlib.teaching import style

ROOT = Path(__file__).resolve().parent.parent
MIN_DELTA_E = 15.0
# WCAG 2.1 SC 1.4.11: graphical objects need 3:1 against their background (white here)
MIN_CONTRAST = 3.0

# Machado et al. (2009), Table 1, severity 1.0 (linear RGB -> simulated linear RGB)
MACHADO = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
VISIONS = ["normal", *MACHADO]

# Chapters another change is rewriting; what they still need is in the issue (#25).
PENDING: set[str] = set()

# Pairs of colours that one piece of code draws but no reader has to tell apart.
NEVER_COMPARED = {
    # the sliding window: the blank kernel's fill (left panel) against the hatch of the
    # padding and the cells of the output (other panels); each is labelled by its title
    ("convlib/teaching/_sliding.py", "__init__"): {frozenset({"#c0c0c0", "#fde0dd"}),
                                                   frozenset({"#fdd0a2", "#fde0dd"})},
}


# --- colour maths ----------------------------------------------------------------------

def _linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=float)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def lab(colour, vision: str = "normal") -> np.ndarray:
    """CIELAB of a matplotlib colour as seen with ``vision`` (Machado 2009)."""
    lin = _linear(mcolors.to_rgb(colour))
    if vision != "normal":
        lin = np.clip(MACHADO[vision] @ lin, 0.0, 1.0)
    t = (_SRGB_TO_XYZ @ lin) / _WHITE
    d = 6 / 29
    f = np.where(t > d**3, np.cbrt(t), t / (3 * d**2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a, b, vision: str = "normal") -> float:
    return float(np.linalg.norm(lab(a, vision) - lab(b, vision)))


def contrast_on_white(colour) -> float:
    """WCAG contrast ratio of ``colour`` against white."""
    y = float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(mcolors.to_rgb(colour)))
    return 1.05 / (y + 0.05)


# --- the simulation and the threshold ---------------------------------------------------

def test_simulation_keeps_white_and_black():
    for vision in VISIONS:
        assert lab("white", vision) == pytest.approx([100, 0, 0], abs=0.05)
        assert lab("black", vision) == pytest.approx([0, 0, 0], abs=1e-9)


def test_threshold_rejects_a_red_green_pair():
    """The test below can fail: tab:red and tab:green, far apart for normal vision, are
    closer than MIN_DELTA_E for a deuteranope (and so is pure red against pure green
    in lightness alone)."""
    assert delta_e("tab:red", "tab:green") > 100
    assert delta_e("tab:red", "tab:green", "deuteranopia") < MIN_DELTA_E
    assert abs(lab("tab:red")[0] - lab("tab:green")[0]) < MIN_DELTA_E


# --- the style --------------------------------------------------------------------------

@pytest.mark.parametrize("vision", VISIONS)
def test_cycle_colours_distinguishable(vision):
    close = [(a, b, round(delta_e(a, b, vision), 1))
             for a, b in itertools.combinations(style.CYCLE, 2)
             if delta_e(a, b, vision) < MIN_DELTA_E]
    assert not close, f"colours of the cycle closer than ΔE {MIN_DELTA_E} ({vision}): {close}"


def test_cycle_lines_distinguishable_in_greyscale():
    """Lines whose colours have nearly the same lightness differ in dash pattern and in
    marker; every dash pattern and marker of the cycle is different."""
    n = len(style.CYCLE)
    assert len(style.LINESTYLES) == len(style.MARKERS) == n
    assert len({str(s) for s in style.LINESTYLES}) == n
    assert len(set(style.MARKERS)) == n
    for i, j in itertools.combinations(range(n), 2):
        dl = abs(lab(style.CYCLE[i])[0] - lab(style.CYCLE[j])[0])
        if dl < MIN_DELTA_E:
            assert style.series(i)["linestyle"] != style.series(j)["linestyle"]
            assert style.series(i)["marker"] != style.series(j)["marker"]


def test_first_colours_have_contrast_on_white():
    """C0-C3 reach WCAG's 3:1 for graphical objects on white. C4 (orange) and C5 (sky
    blue) do not (about 2.3:1): a figure with more than four series relies on their dash
    patterns and markers as well, and this test records where the line is."""
    ratios = [contrast_on_white(c) for c in style.CYCLE]
    assert all(r >= MIN_CONTRAST for r in ratios[:4]), ratios
    assert all(r < MIN_CONTRAST for r in ratios[4:]), ratios


def test_use_sets_the_cycle():
    with mpl.rc_context():
        style.use()
        cycle = mpl.rcParams["axes.prop_cycle"].by_key()
        assert cycle["color"] == list(style.CYCLE)
        assert mpl.rcParams["image.cmap"] == style.SEQUENTIAL


def test_importing_viz_applies_the_style():
    import convlib.teaching.viz  # noqa: F401

    with mpl.rc_context():
        mpl.rcdefaults()
        import importlib

        importlib.reload(convlib.teaching.viz)
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == list(style.CYCLE)


def _lightness(name: str, n: int = 64) -> np.ndarray:
    cmap = mpl.colormaps[name]
    return np.array([lab(cmap(x)[:3])[0] for x in np.linspace(0, 1, n)])


@pytest.mark.parametrize("name", sorted(style.COLORMAPS))
def test_colormap_lightness_is_monotonic(name):
    """Greyscale keeps the order of the values: lightness rises or falls steadily along a
    sequential map, and from each end to the centre of a diverging one."""
    light = _lightness(name)
    step = np.diff(light)
    if style.COLORMAPS[name] == "diverging":
        half = len(light) // 2
        rising, falling = np.diff(light[:half]), np.diff(light[half:])
        assert (rising > -0.5).all() and (falling < 0.5).all(), name
        assert light[half - 1] - min(light[0], light[-1]) > 50, name
    else:
        assert (step > -0.5).all() or (step < 0.5).all(), name
        assert abs(light[-1] - light[0]) > 50, name


@pytest.mark.parametrize("vision", VISIONS)
def test_diverging_map_signs_distinguishable(vision):
    """Equal magnitudes of opposite sign get colours apart under every deficiency."""
    cmap = mpl.colormaps[style.DIVERGING]
    for x in (0.15, 0.3, 0.45):
        assert delta_e(cmap(0.5 - x)[:3], cmap(0.5 + x)[:3], vision) >= MIN_DELTA_E, x


# --- the scan of the chapters and the teaching code ------------------------------------

COLOUR_KEYWORDS = {"color", "c", "ec", "fc", "edgecolor", "facecolor", "colors", "mec",
                   "mfc", "markeredgecolor", "markerfacecolor", "hatchcolor"}
PLOT_CALLS = {"plot", "semilogx", "semilogy", "loglog"}
FMT = re.compile(r"^[-.:o^sv*+xDd|_<>p]*([rgbcmyk])[-.:o^sv*+xDd|_<>p]*$")


def _code_cells():
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
                yield path.stem, f"cell {i}", "\n".join(lines)
    # a module is read one function at a time: each draws one figure (or one part of it)
    for path in sorted((ROOT / "convlib" / "teaching").glob("*.py")):
        source = path.read_text(encoding="utf8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"convlib/teaching/{path.name}", node.name, ast.get_source_segment(
                    source, node)


def _is_colour(s: str) -> bool:
    return bool(re.fullmatch(r"#[0-9a-fA-F]{6}|C\d|tab:\w+|0?\.\d+", s)
                or s in mcolors.CSS4_COLORS or s in mcolors.BASE_COLORS)


def _resolve(s: str):
    m = re.fullmatch(r"C(\d)", s)
    return style.CYCLE[int(m.group(1)) % len(style.CYCLE)] if m else s


def colours_in(tree: ast.AST) -> set[str]:
    """Explicit colours of a piece of code: colour keywords, plot format letters ("r-")
    and the strings of a variable whose name says colour."""
    found: set[str] = set()

    def strings(node):
        return [n.value for n in ast.walk(node)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)]

    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in COLOUR_KEYWORDS:
            found.update(s for s in strings(node.value) if _is_colour(s))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) in PLOT_CALLS:
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    m = FMT.match(arg.value)
                    if m and arg.value:
                        found.add(m.group(1))
        elif isinstance(node, (ast.Assign, ast.For)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            if any("colo" in n.lower() for n in names):
                value = node.value if isinstance(node, ast.Assign) else node.iter
                found.update(s for s in strings(value) if _is_colour(s))
    return {_resolve(s) for s in found}


def colormaps_in(tree: ast.AST) -> set[str]:
    """Every string that names a registered matplotlib colour map (and not a colour:
    "grey" is both)."""
    return {n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and n.value in mpl.colormaps and not _is_colour(n.value)}


def _scan():
    for where, cell, source in _code_cells():
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        yield where, cell, source, tree


def test_scan_finds_what_it_should():
    tree = ast.parse('ax.plot(x, y, "r-")\nax.plot(x, z, color="g")\nplt.imshow(a, cmap="jet")')
    assert colours_in(tree) == {"r", "g"}
    assert colormaps_in(tree) == {"jet"}
    tree = ast.parse('for v, colour in [(1, "C0"), (2, "tab:red")]:\n    pass')
    assert colours_in(tree) == {style.CYCLE[0], "tab:red"}


def hue_only_pairs(colours: set[str]) -> list[tuple[str, str, str]]:
    """Pairs apart for normal vision but not for one deficiency."""
    bad = []
    for a, b in itertools.combinations(sorted(colours), 2):
        if delta_e(a, b) < MIN_DELTA_E:
            continue  # alike for everyone: not a distinction the figure can rely on anyway
        for vision in MACHADO:
            if delta_e(a, b, vision) < MIN_DELTA_E:
                bad.append((a, b, vision))
    return bad


def test_hue_only_pairs_are_found():
    assert hue_only_pairs({"r", "g"})
    assert not hue_only_pairs({style.CYCLE[0], style.CYCLE[1]})


def test_chapters_use_only_safe_colormaps_and_colours():
    problems = []
    for where, cell, _, tree in _scan():
        if where in PENDING:
            continue
        bad_maps = colormaps_in(tree) - set(style.COLORMAPS)
        if bad_maps:
            problems.append(f"{where} {cell}: colour maps {sorted(bad_maps)}")
        for a, b, vision in hue_only_pairs(colours_in(tree)):
            if frozenset({a, b}) in NEVER_COMPARED.get((where, cell), set()):
                continue
            problems.append(f"{where} {cell}: {a} and {b} look alike with {vision}")
    assert not problems, "\n".join(problems)


def test_chapters_that_plot_apply_the_style():
    plotting = re.compile(r"\b(plt|ax|axes|fig)\b\.\w+\(|\.plot\(")
    missing = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        if path.stem in PENDING:
            continue
        code = "\n".join("".join(c["source"]) for c in
                         json.loads(path.read_text(encoding="utf8"))["cells"]
                         if c["cell_type"] == "code")
        applies = "import convlib.teaching.viz" in code or "style.use()" in code
        if plotting.search(code) and not applies:
            missing.append(path.stem)
    assert not missing, f"chapters that plot without the book's style: {missing}"


def _contrast(a, b) -> float:
    ya, yb = (float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(mcolors.to_rgb(c)))
              for c in (a, b))
    return (max(ya, yb) + 0.05) / (min(ya, yb) + 0.05)


@pytest.mark.parametrize("name", sorted(style.COLORMAPS))
def test_values_written_in_cells_have_text_contrast(name):
    """show_array writes a cell's value in black or white: at least 4.5:1 against the
    cell's colour (WCAG 1.4.3 applies to text in images) on every colour of every map."""
    from convlib.teaching.style import text_colour as _text_colour

    cmap = mpl.colormaps[name]
    worst = min(_contrast(cmap(x)[:3], _text_colour(cmap(x))) for x in np.linspace(0, 1, 256))
    assert worst >= 4.5, (name, worst)
