"""viz.transposed_conv_animation: the drawn output is torch's conv_transpose2d."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from convlib.teaching import viz  # noqa: E402

# the tests inspect the first frame and never play the animation
pytestmark = pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")


@pytest.mark.parametrize(
    "shape, k, s, p, a",
    [((2, 2), 3, 1, 0, 0), ((3, 3), 3, 2, 1, 0), ((2, 3), 3, 2, 0, 1), ((3, 2), 4, 2, 1, 1),
     ((2, 2), 2, 3, 1, 2)],
)
def test_last_frame_shows_conv_transpose2d(shape, k, s, p, a):
    rng = np.random.default_rng(0)
    x, w = rng.integers(-3, 4, shape).astype(float), rng.integers(-2, 3, (k, k)).astype(float)
    ref = F.conv_transpose2d(torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None],
                             stride=s, padding=p, output_padding=a)[0, 0].numpy()
    last = ref.size - 1
    anim = viz.transposed_conv_animation(x, w, stride=s, padding=p, output_padding=a,
                                         positions=[last])
    fig = anim._fig
    shown = fig.axes[2].get_images()[0].get_array()
    assert shown.shape == ref.shape
    np.testing.assert_allclose(np.asarray(shown), ref)
    # the input panel: (n - 1) * s + 1 + a cells plus k - 1 - p padding on each side
    assert "zeros between cells" in fig.axes[1].get_title()
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"padding": 3}, "padding"), ({"stride": 2, "output_padding": 2}, "output_padding"),
     ({"positions": []}, "positions")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.transposed_conv_animation(np.ones((2, 2)), np.ones((3, 3)), **kwargs)


def test_needs_2d():
    with pytest.raises(ValueError, match="2D"):
        viz.transposed_conv_animation(np.ones(4), np.ones(2))
