"""Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_(t-1) W_hhᵀ + b_hh), PyTorch's names, layout and init."""

from __future__ import annotations

import math

import numpy as np

from ..ops.join import stack
from ..ops.shape import swapaxes
from . import functional as F
from . import init
from .module import Module, Parameter

_ACTIVATIONS = {"tanh": F.tanh, "relu": F.relu}


def _stack(ts):
    return stack(ts, axis=0)


def _swap01(x):
    return swapaxes(x, 0, 1)


class _Elman(Module):
    """What RNNCell and RNN share: their parameters' names and shapes, and PyTorch's initialisation of them."""

    def _add_parameters(self, suffix, size_in, hidden_size, bias, dtype):
        """``weight_ih``, ``weight_hh`` and, with ``bias``, ``bias_ih``, ``bias_hh``, each name + ``suffix``."""
        shapes = {"weight_ih": (hidden_size, size_in), "weight_hh": (hidden_size, hidden_size)}
        if bias:
            shapes.update(bias_ih=(hidden_size,), bias_hh=(hidden_size,))
        for name, shape in shapes.items():
            setattr(self, name + suffix, Parameter(init._empty_param(shape, dtype)))

    def reset_parameters(self):
        """PyTorch's default: every weight and bias ~ U(±1/√hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)


class RNNCell(_Elman):
    """One step of the Elman cell: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)``.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> cell = nn.RNNCell(3, 5)
    >>> cell(cr.zeros((2, 3), dtype=np.float32)).shape
    (2, 5)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        super().__init__()
        if nonlinearity not in _ACTIVATIONS:
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.nonlinearity = nonlinearity
        self._add_parameters("", input_size, hidden_size, bias, dtype)
        if not bias:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def forward(self, x, h=None):
        batched = len(x.shape) == 2
        if h is None:
            h = np.zeros((x.shape[0], self.hidden_size) if batched else (self.hidden_size,), dtype=x.dtype)
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        return _ACTIVATIONS[self.nonlinearity](pre)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"


class RNN(_Elman):
    """A multi-layer Elman RNN over a whole sequence, PyTorch's ``nn.RNN``.

    Input (L, N, input_size) — or (N, L, input_size) with ``batch_first=True``, or
    unbatched (L, input_size). Returns ``(output, h_n)``: the last layer's hidden
    state at every step, and every layer's final state (num_layers, N, hidden_size).
    The input projection of all steps is one matmul; the recurrence is a loop
    over time steps.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> rnn = nn.RNN(4, 8, num_layers=2)
    >>> out, h = rnn(cr.zeros((5, 3, 4), dtype=np.float32))
    >>> out.shape, h.shape, [n for n, _ in rnn.named_parameters()][:2]
    ((5, 3, 8), (2, 3, 8), ['weight_ih_l0', 'weight_hh_l0'])
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__()
        if nonlinearity not in _ACTIVATIONS:
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        if bidirectional:
            raise NotImplementedError("RNN: bidirectional=True is not supported")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"RNN: dropout must be between 0 and 1, got {dropout}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers = int(num_layers)
        self.nonlinearity = nonlinearity
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = dropout
        for layer in range(self.num_layers):
            size_in = self.input_size if layer == 0 else self.hidden_size
            self._add_parameters(f"_l{layer}", size_in, hidden_size, bias, dtype)
        self.reset_parameters()

    def _layer(self, layer):
        get = self.__dict__.get
        return (get(f"weight_ih_l{layer}"), get(f"weight_hh_l{layer}"), get(f"bias_ih_l{layer}"),
                get(f"bias_hh_l{layer}"))

    def forward(self, input, hx=None):
        shape = tuple(input.shape)
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            raise ValueError(
                f"RNN: expected input (L, N, {self.input_size}) (or batch_first / unbatched (L, {self.input_size})), "
                f"got shape {shape}"
            )
        batched = len(shape) == 3
        x = input
        if not batched:
            x = x.reshape(shape[0], 1, shape[1])
        elif self.batch_first:
            x = _swap01(x)
        steps, n = x.shape[0], x.shape[1]
        want = (self.num_layers, n, self.hidden_size)
        if hx is None:
            hx = np.zeros(want, dtype=x.dtype)
        elif not batched:
            if tuple(hx.shape) != (self.num_layers, self.hidden_size):
                raise ValueError(f"RNN: hx must have shape {(self.num_layers, self.hidden_size)}, got {hx.shape}")
            hx = hx.reshape(want)
        elif tuple(hx.shape) != want:
            raise ValueError(f"RNN: hx must have shape {want}, got {tuple(hx.shape)}")
        act = _ACTIVATIONS[self.nonlinearity]
        finals = []
        seq = x
        for layer in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer(layer)
            if layer > 0 and self.dropout and self.training:
                seq = F.dropout(seq, self.dropout, True)
            xw = F.linear(seq, w_ih, b_ih)  # every step's input projection in one matmul
            h = hx[layer]
            outs = []
            for t in range(steps):
                h = act(xw[t] + F.linear(h, w_hh, b_hh))
                outs.append(h)
            finals.append(h)
            seq = _stack(outs)
        h_n = _stack(finals)
        if not batched:
            return seq.reshape(steps, self.hidden_size), h_n.reshape(self.num_layers, self.hidden_size)
        if self.batch_first:
            seq = _swap01(seq)
        return seq, h_n

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if self.batch_first:
            s += ", batch_first=True"
        return s


__all__ = ["RNN", "RNNCell"]
