"""LSTMCell, GRUCell, RNNCell (PyTorch's gate order and layout): one step of the fused recurrent layers."""

from __future__ import annotations

import math

import numpy as np

from . import functional as F
from .functional.recurrent import gru_layer, lstm_layer, rnn_layer
from . import init
from .module import Module, Parameter

ACTIVATIONS = {"tanh": F.tanh, "relu": F.relu}
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # rows of weight_ih per hidden unit


def _one_step(cell, x, states, want):
    """A cell's step as a one-step run of its fused layer primitive: the final states, shaped ``want``."""
    x = x.reshape(1, -1, x.shape[-1])
    states = [s.reshape(-1, s.shape[-1]) for s in states]
    w = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    if isinstance(cell, LSTMCell):
        finals = lstm_layer(x, *states, *w)[1:]
    elif isinstance(cell, GRUCell):
        finals = gru_layer(x, *states, *w)[1:]
    else:
        finals = rnn_layer(x, *states, *w, cell.nonlinearity)[1:]
    return tuple(f.reshape(want) for f in finals)


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
        return _one_step(self, input, [h], want)[0]

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
        return _one_step(self, input, [h, c], want)


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
        return _one_step(self, input, [h], want)[0]


__all__ = ["RNNCell", "LSTMCell", "GRUCell", "add_parameters"]
