"""Linear (a fully connected layer) and Identity."""

from __future__ import annotations

from . import init
from .functional.linear import linear, linear_p
from .module import Module

__all__ = ["Linear", "Identity"]


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, x):
        return x


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` (out_features, in_features), PyTorch's layout and init.

    Weights and bias start uniform in ±1/√in_features (PyTorch's
    ``kaiming_uniform_(a=√5)``), float32 unless ``dtype`` says otherwise.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> layer = nn.Linear(3, 2)
    >>> layer.weight.shape, layer.weight.dtype, layer(cr.ones((4, 3), dtype=np.float32)).dtype
    ((2, 3), dtype('float32'), dtype('float32'))
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        init._add_weight_and_bias(self, (self.out_features, self.in_features), bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: weight ~ kaiming_uniform(a=√5) = U(±1/√fan_in), bias ~ U(±1/√fan_in)."""
        init._reset_weight_and_bias(self.weight, self.bias)

    def forward(self, x):
        shape = x.shape if hasattr(x, "shape") else ()
        if len(shape) == 2 and shape[1] == self.in_features:
            return linear_p(x, self.weight, self.bias)  # the common case, already validated
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
