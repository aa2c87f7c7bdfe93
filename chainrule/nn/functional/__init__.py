"""``cr.nn.functional``: stateless layers and losses (PyTorch's ``torch.nn.functional`` names, NumPy's ``axis``)."""

from .activation import dropout, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .activation import elu
from .activation import gelu
from .activation import silu
from .activation import softplus
from .attention import scaled_dot_product_attention
from .conv import col2im, conv2d, im2col
from .elementwise_loss import huber_loss
from .elementwise_loss import kl_div
from .elementwise_loss import l1_loss
from .elementwise_loss import smooth_l1_loss
from .conv_transpose import conv1d
from .conv_transpose import conv_transpose2d
from .linear import linear
from .loss import (
    LabelError,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from .normalization import batch_norm
from .normalization import group_norm
from .normalization import layer_norm
from .pooling import max_pool2d
from .pooling_avg import adaptive_avg_pool2d
from .pooling_avg import avg_pool2d
from .pooling_avg import max_pool1d

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "dropout",
    "linear", "conv2d", "im2col", "col2im", "max_pool2d",
    "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "LabelError",
    "gelu",
    "silu",
    "softplus",
    "elu",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
    "conv1d",
    "conv_transpose2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "max_pool1d",
    "batch_norm",
    "group_norm",
    "layer_norm",
    "scaled_dot_product_attention",
]
