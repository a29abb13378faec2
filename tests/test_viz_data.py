"""Smoke tests of the teaching aids: convlib.teaching.data, .viz and .widgets.

Figures are drawn with the Agg backend; the tests check what each function promises
(panels, titles, the numbers written in cells, frame counts, shapes and dtypes), not pixels.
"""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from convlib.teaching import data, viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- data ----------------------------------------------------------------------------


@pytest.mark.parametrize("name, shape", [("grace_hopper", (600, 512)), ("china", (427, 640))])
def test_sample_image_gray_and_colour(name, shape):
    gray = data.sample_image(name)
    rgb = data.sample_image(name, gray=False)
    assert gray.shape == shape and gray.dtype == np.float64
    assert rgb.shape == shape + (3,) and rgb.dtype == np.float64
    assert 0.0 <= gray.min() < gray.max() <= 1.0
    assert 0.0 <= rgb.min() < rgb.max() <= 1.0
    # gray is the BT.601 luma of the colour image, as Pillow computes it (in 8 bits)
    pixels = np.round(rgb * 255).astype(np.uint8)
    luma = np.asarray(Image.fromarray(pixels).convert("L"), dtype=np.float64) / 255
    np.testing.assert_allclose(gray, luma, atol=1 / 255)
    assert np.abs(gray - rgb.mean(axis=-1)).max() > 2 / 255  # luma, not the plain mean


def test_sample_image_sizes():
    assert data.sample_image(size=64).shape == (64, 64)
    assert data.sample_image("china", gray=False, size=(30, 45)).shape == (30, 45, 3)


@pytest.mark.parametrize("size, error", [(0, ValueError), ((0, 5), ValueError),
                                         ("big", TypeError), ((1, 2, 3), TypeError)])
def test_sample_image_bad_size(size, error):
    with pytest.raises(error, match="size"):
        data.sample_image(size=size)


def test_sample_image_bad_name():
    with pytest.raises(ValueError, match="name must be one of"):
        data.sample_image("lena")
    with pytest.raises(TypeError, match="name"):
        data.sample_image(3)


def test_digits():
    images, labels = data.digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float64
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels.tolist()) == set(range(10))
    raw, _ = data.digits(scale=False)
    assert raw.max() == 16.0 and np.allclose(raw / 16.0, images)


def test_data_downloads_nothing():
    """Loading the data must not need the network: run it with sockets disabled."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from convlib.teaching import data\n"
        "data.sample_image('grace_hopper'); data.sample_image('china'); data.digits()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --- viz -------------------------------------------------------------------------------


def test_show_array_annotates_small_arrays_only():
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    ax = viz.show_array(sobel, title="Sobel")
    assert [t.get_text() for t in ax.texts] == [str(v) for v in sobel.ravel()]
    assert ax.get_title() == "Sobel"
    ax = viz.show_array(np.random.default_rng(0).random((40, 40)))
    assert len(ax.texts) == 0
    ax = viz.show_array(np.array([[0.5, 0.25]]))
    assert [t.get_text() for t in ax.texts] == ["0.50", "0.25"]


def test_show_array_accepts_tensors_and_nchw():
    ax = viz.show_array(torch.arange(4.0).reshape(1, 1, 2, 2))
    assert ax.get_images()[0].get_array().shape == (2, 2)
    with pytest.raises(ValueError, match="1D or 2D"):
        viz.show_array(np.zeros((2, 3, 4)))


def test_show_arrays_grid():
    fig = viz.show_arrays({"a": np.ones((3, 3)), "b": np.eye(4), "c": np.zeros(5)}, ncols=2)
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["a", "b", "c"] and len(fig.axes) == 4  # the fourth cell is off
    assert not fig.axes[3].axison
    with pytest.raises(ValueError, match="titles"):
        viz.show_arrays([np.ones(2)], ["x", "y"])


def test_plot_signals_rows():
    fig = viz.plot_signals({"x": np.arange(5), "y": [1, 2]})
    assert [ax.get_ylabel() for ax in fig.axes] == ["x", "y"]


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def test_sliding_window_numbers_match_torch():
    x = np.arange(1.0, 26.0).reshape(5, 5)
    w = np.array([[1.0, 0, -1], [0, 1, 0], [-1, 0, 1]])
    fig = viz.sliding_window(x, w, (2, 2), padding=1, stride=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["kernel w", "input x, padding 1", "output y: 3×3"]
    y = F.conv2d(torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None],
                 stride=2, padding=1)[0, 0].numpy()
    out_image = fig.axes[2].get_images()[0].get_array()
    # the last step: every output value is shown, and each is torch's
    np.testing.assert_allclose(np.ma.filled(out_image, np.nan), y)
    # an earlier step, (1, 0): the values up to it are torch's, those after it still empty
    early = viz.sliding_window(x, w, (1, 0), padding=1, stride=2)
    shown = np.ma.filled(early.axes[2].get_images()[0].get_array(), np.nan).ravel()
    np.testing.assert_allclose(shown[:4], y.ravel()[:4])
    assert np.isnan(shown[4:]).all()
    (equation,) = fig.texts
    assert equation.get_text().endswith(f"= {y[2, 2]:.0f}")
    fig = viz.sliding_window(x, w, 0, title="step 0")
    assert fig.get_suptitle() == "step 0" and fig.axes[1].get_title() == "input x"


def test_sliding_window_steps_fill_the_output():
    x = np.arange(16.0).reshape(4, 4)
    fig = viz.sliding_window(x, np.ones((2, 2)), 4)  # output 3x3, step 4 = (1, 1)
    shown = np.ma.filled(fig.axes[2].get_images()[0].get_array(), np.nan)
    assert np.isfinite(shown.ravel()[:5]).all() and np.isnan(shown.ravel()[5:]).all()


def test_sliding_window_flip_is_convolution():
    x = np.array([0.0, 1, 2, 5, 3, 1, 0])
    w = np.array([1.0, 0, -1])
    fig = viz.sliding_window(x, w, 2, flip=True)
    assert fig.axes[0].get_title() == "kernel w, flipped"
    shown = np.ma.filled(fig.axes[2].get_images()[0].get_array(), np.nan)[0]
    assert np.allclose(shown[:3], np.convolve(x, w, mode="valid")[:3])


def test_sliding_window_shapes_only_and_window_position():
    fig = viz.sliding_window((7, 7), (3, 3), (1, 2), stride=2, padding=1, dilation=2)
    ax_x = fig.axes[1]
    # the outlined window spans d(k-1)+1 = 5 cells and starts at (s*i, s*j) = (2, 4)
    outlines = [p for p in ax_x.patches if not p.get_fill()]
    (window,) = outlines
    assert window.get_xy() == (4 - 0.5, 2 - 0.5)
    assert (window.get_width(), window.get_height()) == (5, 5)
    assert fig.axes[2].get_title() == "output y: 3×3"


@pytest.mark.parametrize("position", [9, (3, 0), (0, 3), -1])
def test_sliding_window_rejects_positions_outside_the_output(position):
    with pytest.raises(ValueError, match="position"):
        viz.sliding_window(np.ones((5, 5)), np.ones((3, 3)), position)


def test_sliding_window_rejects_mixed_dimensions():
    with pytest.raises(ValueError, match="both be 1D or both 2D"):
        viz.sliding_window(np.ones(5), np.ones((3, 3)))


def test_sliding_window_animation_frames_and_html():
    x = np.arange(1.0, 26.0).reshape(5, 5)
    anim = viz.sliding_window_animation(x, np.ones((3, 3)), positions=[0, 4, 8])
    assert isinstance(anim, FuncAnimation)
    assert list(anim.new_frame_seq()) == [0, 4, 8]
    n_figures = len(plt.get_fignums())
    html = viz.animation_html(anim).data
    assert html.count("data:image/png;base64") == 3 and "<script" in html
    assert len(plt.get_fignums()) == n_figures - 1  # the figure was closed
    full = viz.sliding_window_animation(np.arange(6.0), np.ones(2), stride=2)
    assert len(list(full.new_frame_seq())) == 3
    assert viz.animation_html(full).data.count("data:image/png;base64") == 3
    with pytest.raises(ValueError, match="position"):
        viz.sliding_window_animation(x, np.ones((3, 3)), positions=[9])


def test_padding_modes_match_torch_pad():
    a = np.arange(16.0).reshape(4, 4)
    fig = viz.padding_modes(a, 2)
    assert [ax.get_title() for ax in fig.axes] == ["zeros", "reflect", "replicate", "circular"]
    t = torch.from_numpy(a)[None, None]
    for ax, mode in zip(fig.axes, ["constant", "reflect", "replicate", "circular"]):
        expected = F.pad(t, (2, 2, 2, 2), mode=mode)[0, 0].numpy()
        assert np.array_equal(ax.get_images()[0].get_array(), expected)
    fig = viz.padding_modes(np.random.default_rng(0).random((50, 60)), 5, ["reflect"], crop=10)
    assert fig.axes[0].get_images()[0].get_array().shape == (15, 15)
    with pytest.raises(ValueError, match="modes"):
        viz.padding_modes(a, 1, ["mirror"])


@pytest.mark.parametrize(
    "layers", [[(3, 1), (3, 1)], [(3, 2), (3, 2)], [(3, 1), (3, 1, 2), (3, 1, 4)], [(5, 1), (2, 2)]]
)
def test_receptive_field_figure_agrees_with_receptive_field(layers):
    import convlib

    fig = viz.receptive_field_figure(layers)
    size = convlib.receptive_field(layers).size
    assert fig.axes[0].get_title() == f"receptive field: {size} input cells"


def test_receptive_field_figure_gaps():
    # a dilated first layer leaves holes: the span is 5 cells, only 3 are read
    fig = viz.receptive_field_figure([(3, 1, 2)])
    assert fig.axes[0].get_title() == "receptive field: spans 5 input cells, reads 3"


# --- widgets -----------------------------------------------------------------------------


def test_output_size_explorer_tracks_the_formula():
    import convlib
    from convlib.teaching import widgets

    box = widgets.output_size_explorer(7, 3)
    hbox, text, picture = box.children
    sliders = {s.description: s for s in hbox.children[0].children}
    (step,) = hbox.children[1].children
    assert box.output_size == 5 and step.max == 24
    assert bytes(picture.value).startswith(b"\x89PNG")
    sliders["stride s"].value = 2
    sliders["padding p"].value = 1
    sliders["dilation d"].value = 2
    assert box.output_size == convlib.output_size(7, 3, 2, 1, 2) == 3
    assert step.max == 8 and text.value.endswith("= 3</code>")
    step.value = 8
    sliders["dilation d"].value = 3  # n_out = 2: the position is clamped to the last one
    assert box.output_size == 2 and (step.max, step.value) == (3, 3)
    sliders["input size n"].value = 2  # span 5 > 2 + 2 padded
    assert box.output_size is None and "No output" in text.value


def test_output_size_text():
    from convlib.teaching import widgets

    assert widgets.output_size_text(5, 3).endswith("= 3")
    assert "larger than the padded input 3" in widgets.output_size_text(3, 5, p=0, d=1)


def test_kernel_explorer_fills_the_grid_and_draws():
    from convlib.teaching import widgets

    image = np.random.default_rng(0).random((16, 16))
    kernels = {"sobel x": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
               "box 5": np.ones((5, 5)) / 25}
    box = widgets.kernel_explorer(image, kernels)
    choice, row, picture = box.children
    cells = row.children[1].children
    assert [c.value for c in cells] == [1, 0, -1, 2, 0, -2, 1, 0, -1]
    first = picture.value
    choice.value = "box 5"
    assert picture.value != first and bytes(picture.value).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="image must be 2D"):
        widgets.kernel_explorer(np.ones((2, 3, 4)), kernels)


def test_import_convlib_loads_neither_torch_nor_matplotlib():
    """The maths are NumPy and SciPy only: a fresh interpreter proves it."""
    code = ("import sys, convlib\n"
            "bad = [m for m in ('torch', 'matplotlib', 'ipywidgets') if m in sys.modules]\n"
            "assert not bad, bad\n"
            "convlib.conv2d(convlib.pad(__import__('numpy').ones((1, 1, 3, 3)), (1, 1, 1, 1)),\n"
            "               __import__('numpy').ones((1, 1, 2, 2)))\n"
            "bad = [m for m in ('torch', 'matplotlib', 'ipywidgets') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
