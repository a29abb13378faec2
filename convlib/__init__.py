"""convlib: convolution for teaching, with a NumPy reference and a PyTorch path.

Every operation takes NumPy arrays or torch tensors and answers in the same kind:
on ``np.ndarray`` it runs the NumPy reference, on a ``torch.Tensor`` (any device,
autograd on) it runs the PyTorch path. Signatures follow ``torch.nn.functional``.

>>> import numpy as np, convlib
>>> convlib.output_size(28, 5)
24
"""

# this module only re-exports the public names of the submodules
# ruff: noqa: F401
from .activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad
from .arithmetic import ReceptiveField, output_size, receptive_field, same_padding
from .backward import conv1d_backward, conv2d_backward, conv3d_backward
from .conv import choose_conv_method, conv1d, conv2d, conv3d
from .conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from .gradcheck import GradcheckError, GradcheckReport, gradcheck, numerical_gradient
from .im2col import col2im, conv_matrix, im2col
from .init import (
    calculate_gain,
    fan_in_and_fan_out,
    kaiming_normal,
    kaiming_uniform,
    normal,
    ones,
    uniform,
    xavier_normal,
    xavier_uniform,
    zeros,
)
from .padding import pad
from .pooling import *  # noqa: F403 (every name of convlib.pooling.__all__)
from .signal import convolve1d, convolve2d, correlate1d, correlate2d

__version__ = "0.1.0"
