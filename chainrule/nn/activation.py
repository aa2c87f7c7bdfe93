"""Activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax."""

from __future__ import annotations

from . import functional as F
from .module import Module

__all__ = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"]


class ReLU(Module):
    """``max(x, 0)``; ``inplace`` is accepted for PyTorch compatibility and has no effect."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """``x`` if positive else ``negative_slope · x``."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """``1 / (1 + e^(-x))``, stable for large |x|."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """``tanh(x)``."""

    def forward(self, x):
        return F.tanh(x)


class _AlongAxis(Module):
    """A layer applied along one ``axis`` (default -1); PyTorch's ``dim=`` names the same axis."""

    def __init__(self, axis=None, *, dim=None):
        super().__init__()
        if dim is not None:
            if axis is not None and axis != dim:
                raise TypeError("give axis= or PyTorch's dim=, not both")
            axis = dim
        self.axis = -1 if axis is None else axis

    def extra_repr(self):
        return f"axis={self.axis}"


class Softmax(_AlongAxis):
    """Softmax along ``axis`` (default -1; PyTorch's ``dim=`` is accepted too).

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> nn.Softmax()(cr.tensor([0.0, 0.0]))
    tensor([0.5, 0.5])
    """

    def forward(self, x):
        return F.softmax(x, axis=self.axis)


class LogSoftmax(_AlongAxis):
    """log of softmax along ``axis`` (default -1), computed stably."""

    def forward(self, x):
        return F.log_softmax(x, axis=self.axis)
