"""Dropout: active in training mode, the identity in eval mode."""

from __future__ import annotations

from .functional.activation import dropout
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero entries with probability ``p`` during training, scaling the others by 1/(1-p).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> layer = nn.Dropout(0.5).eval()
    >>> layer(cr.ones(3, dtype=np.float32))
    tensor([1., 1., 1.], dtype=float32)
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be between 0 and 1, got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
