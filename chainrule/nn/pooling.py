"""MaxPool1d, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d: PyTorch's arguments and defaults."""

from __future__ import annotations

from .functional.pooling import max_pool2d
from .functional.pooling_avg import adaptive_avg_pool2d, avg_pool2d, max_pool1d
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


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


class MaxPool1d(Module):
    """Max over windows of length ``kernel_size`` of (N, C, L) or unbatched (C, L) input.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> nn.MaxPool1d(3, stride=2, padding=1)(cr.ones((2, 4, 9))).shape
    (2, 4, 5)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over ``kernel_size`` windows; ``count_include_pad`` and ``ceil_mode`` as in PyTorch.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)(cr.ones((1, 2, 8, 8))).shape
    (1, 2, 5, 5)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to ``output_size`` (an int, or a pair whose ``None`` keeps that axis) whatever the input size.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> nn.AdaptiveAvgPool2d((2, 3))(cr.ones((4, 8, 7, 9))).shape
    (4, 8, 2, 3)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
