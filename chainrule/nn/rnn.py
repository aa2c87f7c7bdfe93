"""Multi-layer RNN, LSTM and GRU over whole sequences, with PyTorch's names, layouts, options and init."""

from __future__ import annotations

import numpy as np

from ..ops.join import concatenate, stack
from ..ops.shape import swapaxes
from . import functional as F
from .functional.recurrent import gru_layer, lstm_layer, rnn_layer
from .recurrent_cells import ACTIVATIONS, GATES, GRUCell, LSTMCell, RNNCell, _RecurrentModule, add_parameters


class _RNNBase(_RecurrentModule):
    """Layers × directions of one cell type; ``forward`` runs each layer over the whole sequence in turn.

    Each layer and direction is one fused recurrent primitive (``functional.recurrent``): one tape
    node, the input projection one GEMM over all steps, backpropagation through time in its reverse rule.
    """

    mode = "RNN_TANH"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"{name}: dropout must be between 0 and 1, got {dropout}")
        if int(num_layers) < 1:
            raise ValueError(f"{name}: num_layers must be at least 1, got {num_layers}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers = int(num_layers)
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        directions = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            size_in = self.input_size if layer == 0 else self.hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                add_parameters(self, f"_l{layer}{suffix}", GATES[self.mode], size_in, self.hidden_size, bias, dtype)
        self.reset_parameters()

    def _weights(self, layer, suffix):
        get = self.__dict__.get
        return tuple(get(f"{n}_l{layer}{suffix}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _layer(self, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
        hs, h = rnn_layer(x, state[0], w_ih, w_hh, b_ih, b_hh, self.nonlinearity, reverse)
        return hs, (h,)

    def _states(self, hx, n, batched, dtype):
        """The initial states as a tuple of (layers·directions, N, H) arrays, after checking ``hx``."""
        count = len(self._state_names())
        want = (self.num_layers * (2 if self.bidirectional else 1), n, self.hidden_size)
        if hx is None:
            return (np.zeros(want, dtype=dtype),) * count
        given = tuple(hx) if count > 1 else (hx,)
        if len(given) != count:
            raise ValueError(f"{type(self).__name__}: hx must be a tuple (h_0, c_0), got {len(given)} items")
        out = []
        for arg, s in zip(self._state_names(), given):
            need = want if batched else (want[0], want[2])
            if tuple(s.shape) != need:
                raise ValueError(f"{type(self).__name__}: {arg} must have shape {need}, got {tuple(s.shape)}")
            out.append(s if batched else s.reshape(want))
        return tuple(out)

    def _state_names(self):
        return ("hx",)

    def forward(self, input, hx=None):
        name = type(self).__name__
        shape = tuple(input.shape)
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input (L, N, {self.input_size}) (or batch_first / unbatched "
                             f"(L, {self.input_size})), got shape {shape}")
        batched = len(shape) == 3
        x = input
        if not batched:
            x = x.reshape(shape[0], 1, shape[1])
        elif self.batch_first:
            x = swapaxes(x, 0, 1)
        steps, n = x.shape[0], x.shape[1]
        if steps == 0:
            raise ValueError(f"{name}: the input sequence has no steps (input of shape {shape}); a recurrent layer "
                             f"needs at least one")
        init_states = self._states(hx, n, batched, x.dtype)
        directions = 2 if self.bidirectional else 1
        finals = []
        seq = x
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout and self.training:
                seq = F.dropout(seq, self.dropout, True)
            outs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, suffix)
                state = tuple(s[layer * directions + d] for s in init_states)
                hs, state = self._layer(seq, state, w_ih, w_hh, b_ih, b_hh, bool(d))
                finals.append(state)
                outs.append(hs)
            seq = outs[0] if directions == 1 else concatenate(outs, axis=-1)
        if len(finals) == 1:  # one layer, one direction: a view, not a copy
            final = tuple(f.reshape((1,) + tuple(f.shape)) for f in finals[0])
        else:
            final = tuple(stack([f[i] for f in finals], axis=0) for i in range(len(init_states)))
        if not batched:
            seq = seq.reshape(steps, seq.shape[-1])
            final = tuple(f.reshape(f.shape[0], self.hidden_size) for f in final)
        elif self.batch_first:
            seq = swapaxes(seq, 0, 1)
        return seq, (final if len(final) > 1 else final[0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        for key, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s


class RNN(_RNNBase):
    """A multi-layer Elman RNN over a whole sequence, PyTorch's ``nn.RNN``.

    Input (L, N, input_size) — or (N, L, input_size) with ``batch_first=True``, or
    unbatched (L, input_size). Returns ``(output, h_n)``: the last layer's hidden
    state at every step (both directions concatenated with ``bidirectional``), and
    every layer's final state (num_layers·directions, N, hidden_size).
    The input projection of all steps is one matmul; the recurrence over time
    steps is one fused primitive per layer and direction.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> rnn = nn.RNN(4, 8, num_layers=2)
    >>> out, h = rnn(cr.zeros((5, 3, 4), dtype=np.float32))
    >>> out.shape, h.shape, [n for n, _ in rnn.named_parameters()][:2]
    ((5, 3, 8), (2, 3, 8), ['weight_ih_l0', 'weight_hh_l0'])
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ACTIVATIONS:
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_" + nonlinearity.upper()
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype)


class LSTM(_RNNBase):
    """A multi-layer LSTM, PyTorch's ``nn.LSTM``: ``output, (h_n, c_n) = lstm(input, (h_0, c_0))``.

    Layouts as ``RNN``; the weights stack the gates i, f, g, o row-wise
    (``weight_ih_l0`` is (4·hidden_size, input_size)).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> lstm = nn.LSTM(4, 8, batch_first=True, bidirectional=True)
    >>> out, (h, c) = lstm(cr.zeros((3, 5, 4), dtype=np.float32))
    >>> out.shape, h.shape, c.shape, lstm.weight_ih_l0_reverse.shape
    ((3, 5, 16), (2, 3, 8), (2, 3, 8), (32, 4))
    """

    mode = "LSTM"

    def _state_names(self):
        return ("h_0", "c_0")

    def _layer(self, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
        hs, h, c = lstm_layer(x, state[0], state[1], w_ih, w_hh, b_ih, b_hh, reverse)
        return hs, (h, c)


class GRU(_RNNBase):
    """A multi-layer GRU, PyTorch's ``nn.GRU``: ``output, h_n = gru(input, h_0)``; gates r, z, n.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> gru = nn.GRU(4, 8, num_layers=2)
    >>> out, h = gru(cr.zeros((5, 3, 4), dtype=np.float32))
    >>> out.shape, h.shape, gru.weight_hh_l1.shape
    ((5, 3, 8), (2, 3, 8), (24, 8))
    """

    mode = "GRU"

    def _layer(self, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
        hs, h = gru_layer(x, state[0], w_ih, w_hh, b_ih, b_hh, reverse)
        return hs, (h,)


__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
