"""One step of the LSTM, GRU and Elman cells (PyTorch's gate order and layout), and LSTMCell, GRUCell, RNNCell.

A cell's step stays the graph of its operations: a one-step run of the fused layer primitives
(``functional.recurrent``), reshapes included, measured no faster per step (its fixed cost per call
eats the nodes it saves), so the fused rules serve the sequence modules, where one call covers every
step.
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.join import split
from . import functional as F
from . import init
from .module import Module, Parameter

ACTIVATIONS = {"tanh": F.tanh, "relu": F.relu}
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # rows of weight_ih per hidden unit


def lstm_step(xw, h, c, w_hh, b_hh):
    """The LSTM update from the input projection ``xw`` = x W_ihᵀ + b_ih; gates i, f, g, o as in PyTorch."""
    i, f, g, o = split(xw + F.linear(h, w_hh, b_hh), 4, axis=-1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    return F.sigmoid(o) * F.tanh(c), c


def gru_step(xw, h, w_hh, b_hh):
    """The GRU update from ``xw`` = x W_ihᵀ + b_ih; gates r, z, n, with r applied to W_hn h + b_hn as in PyTorch."""
    xr, xz, xn = split(xw, 3, axis=-1)
    hr, hz, hn = split(F.linear(h, w_hh, b_hh), 3, axis=-1)
    r = F.sigmoid(xr + hr)
    z = F.sigmoid(xz + hz)
    n = F.tanh(xn + r * hn)
    return n + z * (h - n)


def elman_step(xw, h, w_hh, b_hh, nonlinearity):
    """The Elman update ``act(xw + h W_hhᵀ + b_hh)``."""
    return ACTIVATIONS[nonlinearity](xw + F.linear(h, w_hh, b_hh))


def add_parameters(module, suffix, gates, size_in, hidden_size, bias, dtype):
    """``weight_ih``, ``weight_hh`` and, with ``bias``, ``bias_ih``, ``bias_hh`` (each name + ``suffix``)."""
    rows = gates * hidden_size
    shapes = {"weight_ih": (rows, size_in), "weight_hh": (rows, hidden_size)}
    if bias:
        shapes.update(bias_ih=(rows,), bias_hh=(rows,))
    for name, shape in shapes.items():
        setattr(module, name + suffix, Parameter(init._empty_param(shape, dtype)))


class _RecurrentModule(Module):
    """Shared by every recurrent layer and cell: PyTorch's default initialisation."""

    def reset_parameters(self):
        """PyTorch's default: every weight and bias ~ U(±1/√hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)


class _Cell(_RecurrentModule):
    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.bias = bias
        add_parameters(self, "", self.gates, self.input_size, self.hidden_size, bias, dtype)
        if not bias:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def _check(self, x, states):
        """The input's batch shape, after checking the input and each given state against it."""
        name = type(self).__name__
        shape = tuple(x.shape)
        if len(shape) not in (1, 2) or shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input (N, {self.input_size}) or ({self.input_size},), "
                             f"got shape {shape}")
        want = shape[:-1] + (self.hidden_size,)
        for arg, s in states:
            if s is not None and tuple(s.shape) != want:
                raise ValueError(f"{name}: {arg} must have shape {want} for input of shape {shape}, "
                                 f"got {tuple(s.shape)}")
        return want

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class RNNCell(_Cell):
    """One step of the Elman cell: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)``.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> cell = nn.RNNCell(3, 5)
    >>> cell(cr.zeros((2, 3), dtype=np.float32)).shape
    (2, 5)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ACTIVATIONS:
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype)

    def forward(self, input, hx=None):
        want = self._check(input, [("hx", hx)])
        h = np.zeros(want, dtype=input.dtype) if hx is None else hx
        return elman_step(F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                          self.nonlinearity)

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"


class LSTMCell(_Cell):
    """One LSTM step, PyTorch's ``nn.LSTMCell``: ``(h', c') = cell(x, (h, c))``; gates i, f, g, o.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> cell = nn.LSTMCell(3, 5)
    >>> h, c = cell(cr.zeros((2, 3), dtype=np.float32))
    >>> h.shape, c.shape, cell.weight_ih.shape
    ((2, 5), (2, 5), (20, 3))
    """

    gates = 4

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        want = self._check(input, [("hx[0]", h), ("hx[1]", c)])
        h = np.zeros(want, dtype=input.dtype) if h is None else h
        c = np.zeros(want, dtype=input.dtype) if c is None else c
        return lstm_step(F.linear(input, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)


class GRUCell(_Cell):
    """One GRU step, PyTorch's ``nn.GRUCell``: ``h' = cell(x, h)``; gates r, z, n.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> cell = nn.GRUCell(3, 5)
    >>> cell(cr.zeros((2, 3), dtype=np.float32)).shape, cell.weight_hh.shape
    ((2, 5), (15, 5))
    """

    gates = 3

    def forward(self, input, hx=None):
        want = self._check(input, [("hx", hx)])
        h = np.zeros(want, dtype=input.dtype) if hx is None else hx
        return gru_step(F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)


__all__ = ["RNNCell", "LSTMCell", "GRUCell", "lstm_step", "gru_step", "elman_step", "add_parameters"]
