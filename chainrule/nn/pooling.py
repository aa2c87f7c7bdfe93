"""MaxPool2d."""

from __future__ import annotations

from .functional.pooling import max_pool2d
from .module import Module

__all__ = ["MaxPool2d"]


class MaxPool2d(Module):
    """Max over ``kernel_size`` windows of (N, C, H, W) or unbatched (C, H, W) input.

    ``stride`` defaults to ``kernel_size`` (PyTorch's default).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> nn.MaxPool2d(2)(cr.ones((1, 3, 8, 8), dtype=np.float32)).shape
    (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
