"""``cr.nn.functional``: stateless layers and losses (PyTorch's ``torch.nn.functional`` names, NumPy's ``axis``)."""

from .activation import dropout, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .attention import scaled_dot_product_attention
from .conv import col2im, conv2d, im2col
from .linear import linear
from .loss import (
    LabelError,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from .pooling import max_pool2d

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "dropout",
    "linear", "conv2d", "im2col", "col2im", "max_pool2d",
    "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "LabelError",
    "scaled_dot_product_attention",
]
