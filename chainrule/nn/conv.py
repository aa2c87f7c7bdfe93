"""Conv2d: NCHW input, OIHW weight, PyTorch's defaults and initialisation."""

from __future__ import annotations

from . import init
from .functional.conv import _pair, conv2d, resolve_padding
from .module import Module

__all__ = ["Conv2d"]


class Conv2d(Module):
    """2-D convolution (cross-correlation) with ``stride`` and ``padding``; weight (out, in, kH, kW).

    Input (N, C, H, W) or unbatched (C, H, W). ``padding`` is an int, a pair,
    'valid' or 'same' (stride 1 only; an even kernel pads one more row and
    column at the bottom and right, as PyTorch does).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
    >>> conv.weight.shape, conv(cr.ones((2, 1, 8, 8), dtype=np.float32)).shape
    ((8, 1, 3, 3), (2, 8, 8, 8))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, dtype=None):
        super().__init__()
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = _pair(stride, "stride", "Conv2d", 1)
        if isinstance(padding, str):
            resolve_padding(padding, self.kernel_size, self.stride, "Conv2d")  # a bad string fails here, as in torch
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", "Conv2d", 0)
        init._add_weight_and_bias(self, (self.out_channels, self.in_channels) + self.kernel_size, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: U(±1/√fan_in) for weight and bias, fan_in = in_channels·kH·kW."""
        init._reset_weight_and_bias(self.weight, self.bias)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0, 0), "valid"):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s
