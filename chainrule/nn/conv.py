"""Conv1d, Conv2d and ConvTranspose2d: PyTorch's layouts, arguments, defaults and initialisation."""

from __future__ import annotations

from . import init
from .functional.conv import _pair, check_groups, conv2d, resolve_padding
from .functional.conv_transpose import _single, conv1d, conv_transpose2d
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]


class _ConvNd(Module):
    """The shared constructor: channels, groups, padding (int, tuple, 'valid' or 'same'), weight and bias."""

    _as_tuple = staticmethod(_pair)

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, dtype,
                 transposed=False, output_padding=0):
        super().__init__()
        name = type(self).__name__
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.groups = check_groups(groups, self.in_channels, self.out_channels, name)
        self.kernel_size = self._as_tuple(kernel_size, "kernel_size", name, 1)
        self.stride = self._as_tuple(stride, "stride", name, 1)
        self.dilation = self._as_tuple(dilation, "dilation", name, 1)
        if isinstance(padding, str):
            if transposed:
                raise ValueError(f"{name}: padding must be an int or a tuple, got {padding!r}")
            k2, s2, d2 = (v if len(v) == 2 else (1,) + v for v in (self.kernel_size, self.stride, self.dilation))
            resolve_padding(padding, k2, s2, name, d2)  # a bad string (or 'same' with a stride) fails here, as in torch
            self.padding = padding
        else:
            self.padding = self._as_tuple(padding, "padding", name, 0)
        self.output_padding = self._as_tuple(output_padding, "output_padding", name, 0)
        g = self.groups
        if transposed:
            shape = (self.in_channels, self.out_channels // g) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // g) + self.kernel_size
        init._add_weight_and_bias(self, shape, False, dtype)
        if bias:
            self.bias = Parameter(init._empty_param((self.out_channels,), dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: U(±1/√fan_in) for weight and bias, fan_in = weight.shape[1]·kernel size."""
        init._reset_weight_and_bias(self.weight, self.bias)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0,), (0, 0), "valid"):
            s += f", padding={self.padding}"
        if any(v != 1 for v in self.dilation):
            s += f", dilation={self.dilation}"
        if any(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


def _one(v, what, op, minimum):
    return (_single(v, what, op, minimum),)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or unbatched (C, L) input; weight (out, in/groups, k).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> conv = nn.Conv1d(4, 6, 3, padding="same", dilation=2, groups=2)
    >>> conv.weight.shape, conv(cr.ones((2, 4, 10), dtype=np.float32)).shape
    ((6, 2, 3), (2, 6, 10))
    """

    _as_tuple = staticmethod(_one)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, dtype)

    def forward(self, x):
        return conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation); weight (out, in/groups, kH, kW).

    Input (N, C, H, W) or unbatched (C, H, W). ``padding`` is an int, a pair,
    'valid' or 'same' (stride 1 only; an odd total padding puts the extra row
    and column at the bottom and right, as PyTorch does).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
    >>> conv.weight.shape, conv(cr.ones((2, 1, 8, 8), dtype=np.float32)).shape
    ((8, 1, 3, 3), (2, 8, 8, 8))
    >>> nn.Conv2d(4, 8, 3, dilation=2, groups=4).weight.shape
    (8, 1, 3, 3)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, dtype)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution; weight (in, out/groups, kH, kW), PyTorch's layout.

    Output height (H - 1)·stride - 2·padding + dilation·(kH - 1) + output_padding + 1.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    >>> up.weight.shape, up(cr.ones((2, 8, 5, 5), dtype=np.float32)).shape
    ((8, 4, 3, 3), (2, 4, 10, 10))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, dtype,
                         transposed=True, output_padding=output_padding)

    def forward(self, x):
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                self.groups, self.dilation)
