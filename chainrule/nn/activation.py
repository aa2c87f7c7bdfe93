"""Activation layers: ReLU, LeakyReLU, GELU, SiLU, Softplus, ELU, Sigmoid, Tanh, Softmax, LogSoftmax."""

from __future__ import annotations

from . import functional as F
from .module import Module

__all__ = ["ReLU", "LeakyReLU", "GELU", "SiLU", "Softplus", "ELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"]


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


class GELU(Module):
    """``x·Φ(x)``, exact (``approximate="none"``) or with PyTorch's tanh approximation.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> round(nn.GELU()(cr.tensor(1.0)).item(), 6)
    0.841345
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x·sigmoid(x)`` (swish); ``inplace`` is accepted for PyTorch compatibility and has no effect."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.silu(x)


class Softplus(Module):
    """``log(1 + e^(β·x)) / β``, linear where ``β·x > threshold``.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> round(nn.Softplus(beta=2.0)(cr.tensor(0.0)).item(), 6)
    0.346574
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """``x`` if positive else ``α·(eˣ - 1)``."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


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
