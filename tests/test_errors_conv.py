"""Bad input to convolution, transposed convolution and im2col: the error type and a message
that names the argument and the shapes involved."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convlib.conv import choose_conv_method, conv1d, conv2d, conv3d, conv_nd_numpy
from convlib.conv_transpose import conv_transpose2d
from convlib.im2col import col2im, conv_matrix, im2col

X = np.zeros((2, 4, 8, 8))
W = np.zeros((6, 4, 3, 3))
SHAPES = r"\(input shape \(2, 4, 8, 8\), weight shape \(6, 4, 3, 3\)\)"


def both(x, w):
    """The same arrays as NumPy and as torch: both backends must reject alike."""
    return [(x, w), (torch.from_numpy(x), torch.from_numpy(w))]


@pytest.mark.parametrize("x, w", both(X, W))
class TestConvArguments:
    def test_wrong_input_ndim(self, x, w):
        with pytest.raises(ValueError, match=r"input must be 3-D \(C, H, W\) or 4-D "
                                             r"\(N, C, H, W\), got .*shape \(8, 8\)"):
            conv2d(x[0, 0], w)

    def test_wrong_weight_ndim(self, x, w):
        with pytest.raises(ValueError, match=r"weight must be 3-D .* shape \(6, 4, 3, 3\)"):
            conv1d(x[:, :, 0], w)

    def test_conv3d_needs_5d(self, x, w):
        with pytest.raises(ValueError, match=r"input must be 4-D \(C, D, H, W\) or 5-D "
                                             r"\(N, C, D, H, W\).*\(4, 8, 8\)"):
            conv3d(x[0], w[..., None])

    def test_channels_not_divisible_by_groups(self, x, w):
        with pytest.raises(ValueError, match=r"input channels \(4\) must be divisible by "
                                             r"groups \(3\); input has shape \(2, 4, 8, 8\)"):
            conv2d(x, w[:, :1], groups=3)

    def test_out_channels_not_divisible_by_groups(self, x, w):
        with pytest.raises(ValueError, match=r"weight's output channels \(6\) must be divisible "
                                             r"by groups \(4\); weight has shape \(6, 1, 3, 3\)"):
            conv2d(x, w[:, :1], groups=4)

    def test_weight_input_channel_mismatch(self, x, w):
        with pytest.raises(ValueError, match=r"weight of shape \(6, 3, 3, 3\) expects 3 input "
                                             r"channels .* input of shape \(2, 4, 8, 8\) has 4"):
            conv2d(x, w[:, :3])

    def test_kernel_larger_than_padded_input(self, x, w):
        with pytest.raises(ValueError, match=r"kernel larger than the padded input: weight "
                                             r"\(6, 4, 3, 3\) with dilation \(4, 4\) spans 9 .* "
                                             r"input \(2, 4, 8, 8\) padded by \(0, 0\) is only 8"):
            conv2d(x, w, dilation=4)

    @pytest.mark.parametrize("name, value, text", [
        ("stride", 0, "stride must be positive, got 0"),
        ("stride", (1, -2), r"stride must be positive, got \(1, -2\)"),
        ("dilation", 0, "dilation must be positive, got 0"),
        ("dilation", -1, "dilation must be positive, got -1"),
        ("padding", -1, "padding must be >= 0, got -1"),
        ("padding", (1, 2, 3), r"padding must be an int or a tuple of 2 ints .* length 3"),
        ("padding", "full", "padding must be an int, a tuple, 'same' or 'valid', got 'full'"),
        ("padding_mode", "mirror", r"padding_mode must be one of \('zeros', 'reflect', "
                                   r"'replicate', 'circular'\), got 'mirror'"),
        ("groups", 0, "groups must be a positive int, got 0"),
    ])
    def test_bad_scalar_argument(self, x, w, name, value, text):
        with pytest.raises(ValueError, match=text + ".*" + SHAPES):
            conv2d(x, w, **{name: value})

    def test_non_int_stride(self, x, w):
        with pytest.raises(TypeError, match=r"stride must be an int or a tuple of 2 ints, got "
                                            r"1.5 " + SHAPES):
            conv2d(x, w, stride=1.5)

    def test_same_with_stride(self, x, w):
        with pytest.raises(ValueError, match=r"padding='same' is not supported for strided "
                                             r"convolutions \(stride=\(2, 1\)\).*" + SHAPES):
            conv2d(x, w, padding="same", stride=(2, 1))

    def test_reflect_padding_too_large(self, x, w):
        with pytest.raises(ValueError, match=r"reflect padding of 8 in spatial dim 0 needs an "
                                             r"input of at least 9 there; input has shape "
                                             r"\(2, 4, 8, 8\)"):
            conv2d(x, w, padding=8, padding_mode="reflect")

    def test_bias_shape(self, x, w):
        b = x[0, 0, 0, :5]
        with pytest.raises(ValueError, match=r"bias must have 6 elements .* weight "
                                             r"\(6, 4, 3, 3\)\), got shape \(5,\)"):
            conv2d(x, w, b)

    def test_unknown_method(self, x, w):
        with pytest.raises(ValueError, match=r"method must be one of .* for .* of shape "
                                             r"\(2, 4, 8, 8\).*got 'winograd'"):
            conv2d(x, w, method="winograd")


def test_method_belongs_to_the_backend():
    with pytest.raises(ValueError, match=r"method must be one of \('auto', 'native', 'im2col'\) "
                                         r"for torch tensor of shape \(2, 4, 8, 8\).*'gemm'"):
        conv2d(torch.from_numpy(X), torch.from_numpy(W), method="gemm")
    with pytest.raises(ValueError, match=r"method must be one of \('auto', 'loops', 'im2col', "
                                         r"'gemm', 'fft', 'depthwise'\) for numpy array of shape "
                                         r"\(2, 4, 8, 8\).*'native'"):
        conv2d(X, W, method="native")
    with pytest.raises(ValueError, match=r"'unfold'"):  # the tensors' old name only
        conv2d(X, W, method="unfold")


def test_method_and_padding_mode_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        conv2d(X, W, None, 1, 1, 1, 1, "reflect")


def test_mixed_numpy_and_torch():
    with pytest.raises(TypeError, match=r"input is a numpy array but weight is a torch array.*"
                                        r"shape \(2, 4, 8, 8\).* vs torch tensor of shape "
                                        r"\(6, 4, 3, 3\)"):
        conv2d(X, torch.from_numpy(W))
    with pytest.raises(TypeError, match=r"input is a torch array but bias is a numpy array.*"
                                        r"shape \(2, 4, 8, 8\).*shape \(6,\)"):
        conv2d(torch.from_numpy(X), torch.from_numpy(W), np.zeros(6))


def test_mismatched_dtypes():
    with pytest.raises(TypeError, match="weight has dtype float32 but input has dtype float64"):
        conv2d(X, W.astype(np.float32))
    with pytest.raises(TypeError, match="bias has dtype torch.float32 but input has dtype "
                                        "torch.float64"):
        conv2d(torch.from_numpy(X), torch.from_numpy(W), torch.zeros(6))


def test_mismatched_devices():
    with pytest.raises(TypeError, match="weight is on meta but input is on cpu"):
        conv2d(torch.from_numpy(X), torch.from_numpy(W).to("meta"))


def test_not_an_array_and_integer_dtype():
    with pytest.raises(TypeError, match="input must be a numpy.ndarray or torch.Tensor, got list"):
        conv1d([[[1.0, 2.0]]], np.ones((1, 1, 1)))
    with pytest.raises(TypeError, match="input must have a floating dtype .* got int64"):
        conv1d(np.ones((1, 1, 4), dtype=np.int64), np.ones((1, 1, 2), dtype=np.int64))


def test_choose_conv_method_checks_like_conv():
    with pytest.raises(ValueError, match=r"weight of shape \(6, 3, 3, 3\) expects 3 input"):
        choose_conv_method(X, W[:, :3])


def test_conv_nd_numpy_checks_out_and_method():
    with pytest.raises(ValueError, match=r"out must have shape \(2, 6, 6, 6\), got \(2, 6, 8, 8\)"):
        conv_nd_numpy(X, W, (1, 1), (1, 1), out=np.zeros((2, 6, 8, 8)))
    with pytest.raises(ValueError, match=r"method must be one of .* numpy array of shape "
                                         r"\(2, 4, 8, 8\).*'auto'"):
        conv_nd_numpy(X, W, (1, 1), (1, 1), method="auto")


# ----------------------------------------------------------------------------- transposed


WT = np.zeros((4, 3, 3, 3))  # (C_in, C_out/groups, kh, kw)


@pytest.mark.parametrize("x, w", both(X, WT))
class TestConvTransposeArguments:
    def test_wrong_ndim(self, x, w):
        with pytest.raises(ValueError, match=r"input must be 3-D .* or 4-D .*shape \(8, 8\)"):
            conv_transpose2d(x[0, 0], w)

    def test_channel_mismatch(self, x, w):
        with pytest.raises(ValueError, match=r"weight of shape \(3, 3, 3, 3\) expects 3 input "
                                             r"channels .* input of shape \(2, 4, 8, 8\) has 4"):
            conv_transpose2d(x, w[:3])

    def test_groups(self, x, w):
        with pytest.raises(ValueError, match=r"input channels \(4\) must be divisible by groups "
                                             r"\(3\); input has shape \(2, 4, 8, 8\)"):
            conv_transpose2d(x, w, groups=3)

    def test_output_padding_too_large(self, x, w):
        with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than "
                                             r"stride \(2, 2\) or dilation \(1, 1\)"):
            conv_transpose2d(x, w, stride=2, output_padding=2)

    def test_negative_output_padding(self, x, w):
        with pytest.raises(ValueError, match=r"output_padding must be >= 0, got -1 \(input "
                                             r"shape \(2, 4, 8, 8\), weight shape \(4, 3, 3, 3\)"):
            conv_transpose2d(x, w, output_padding=-1)

    def test_string_padding(self, x, w):
        with pytest.raises(ValueError, match=r"padding of a transposed convolution must be an "
                                             r"int or a tuple of 2 ints, got 'same' \(input shape"):
            conv_transpose2d(x, w, padding="same")

    def test_padding_leaves_nothing(self, x, w):
        with pytest.raises(ValueError, match=r"padding \(5, 5\) is too large: input "
                                             r"\(2, 4, 8, 8\) with weight \(4, 3, 3, 3\)"):
            conv_transpose2d(x, w, padding=5)

    def test_bias_shape(self, x, w):
        with pytest.raises(ValueError, match=r"bias must have 3 elements .* weight "
                                             r"\(4, 3, 3, 3\)\), got shape \(4,\)"):
            conv_transpose2d(x, w, x[0, :, 0, 0])

    def test_zero_stride(self, x, w):
        with pytest.raises(ValueError, match=r"stride must be positive, got 0 \(input shape "
                                             r"\(2, 4, 8, 8\)"):
            conv_transpose2d(x, w, stride=0)


# ----------------------------------------------------------------------------- im2col


@pytest.mark.parametrize("x", [X, torch.from_numpy(X)])
def test_im2col_arguments(x):
    with pytest.raises(ValueError, match=r"x must be 4-D \(N, C, H, W\) or 3-D \(C, H, W\), "
                                         r"got .*shape \(8, 8\)"):
        im2col(x[0, 0], 3)
    with pytest.raises(ValueError, match=r"kernel larger than the padded input: kernel_size "
                                         r"\(9, 9\) with dilation \(1, 1\) spans 9 in spatial "
                                         r"dim 0, but .*shape \(2, 4, 8, 8\).* is only 8"):
        im2col(x, 9)
    with pytest.raises(ValueError, match="stride must be positive, got 0"):
        im2col(x, 3, stride=0)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_col2im_arguments(kind):
    cols = np.zeros((2, 36, 36))
    cols = torch.from_numpy(cols) if kind == "torch" else cols
    with pytest.raises(ValueError, match=r"cols of shape \(2, 36, 35\) does not fit "
                                         r"output_size \(8, 8\) with kernel_size \(3, 3\).* "
                                         r"expected C\*9 rows and 36 columns"):
        col2im(cols[:, :, :35], (8, 8), 3)
    with pytest.raises(ValueError, match=r"cols must be 3-D .* got .*shape \(36,\)"):
        col2im(cols[0, 0], (8, 8), 3)
    with pytest.raises(ValueError, match=r"cols of shape \(2, 35, 36\) does not fit"):
        col2im(cols[:, :35], (8, 8), 3)


def test_conv_matrix_arguments():
    with pytest.raises(ValueError, match=r"input_shape must be \(C_in, \*spatial\) or "
                                         r"\(1, C_in, \*spatial\) with 2 spatial dims .* "
                                         r"shape \(6, 4, 3, 3\).*got \(2, 4, 8, 8\)"):
        conv_matrix(W, (2, 4, 8, 8))
    with pytest.raises(ValueError, match=r"weight of shape \(6, 4, 3, 3\) expects 4 input "
                                         r"channels .* input of shape \(1, 3, 8, 8\) has 3"):
        conv_matrix(W, (3, 8, 8))
    with pytest.raises(ValueError, match=r"kernel larger than the padded input"):
        conv_matrix(W, (4, 2, 2))
