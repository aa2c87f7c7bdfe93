"""``--model edf``: the EDF notes' MLP run by chainrule.edf's Forward and hand-written backward methods."""

from __future__ import annotations

import numpy as np

from ... import edf, nn
from ...core.function import Function
from ...random import get_rng

__all__ = ["HIDDEN", "build_edf"]

HIDDEN = 256


def build_edf(features, classes, hidden=HIDDEN):
    """The notes' ``L1 = Relu(Affine(Phi1, x)); P = Softmax(Sigmoid(Affine(Phi2, L1)))`` as an ``nn.Module``.

    Its output is log P, so the train loop's cross-entropy of it is the notes' ``LogLoss(P, y)``
    (log-softmax leaves a log-probability unchanged). The forward pass is EDF's ``Forward()``; the
    backward pass is EDF's ``Backward`` seeded at P with the loop's gradient, so every gradient comes
    from the nodes' hand-written backward methods. The optimiser steps the Module's Parameters.

    >>> import numpy as np, chainrule as cr
    >>> net = build_edf(64, 10)
    >>> logp = net(cr.tensor(np.zeros((2, 64), np.float32)))
    >>> logp.shape, bool(np.allclose(np.exp(logp.data).sum(axis=1), 1))
    ((2, 10), True)
    """
    class Phi(nn.Module):
        """A parameter package of the notes: ``w`` (in, out), Glorot-uniform, and ``b`` (out,), zero."""

        def __init__(self, n_in, n_out):
            super().__init__()
            bound = np.sqrt(6.0 / (n_in + n_out))
            rng = _rng()
            self.w = nn.Parameter(rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32))
            self.b = nn.Parameter(np.zeros(n_out, dtype=np.float32))

    graph = edf.Graph()
    with graph:
        x = edf.Input()
        Phi1 = edf.ParameterPackage(w=np.zeros((features, hidden), np.float32), b=np.zeros(hidden, np.float32))
        Phi2 = edf.ParameterPackage(w=np.zeros((hidden, classes), np.float32), b=np.zeros(classes, np.float32))
        L1 = edf.Relu(edf.Affine(Phi1, x))
        P = edf.Softmax(edf.Sigmoid(edf.Affine(Phi2, L1)))
    params = (Phi1.w, Phi1.b, Phi2.w, Phi2.b)

    class EDFPass(Function):
        """log P from (x, Phi1.w, Phi1.b, Phi2.w, Phi2.b), both ways through the EDF graph."""

        @staticmethod
        def forward(ctx, xb, *values):
            x.value = xb
            for p, v in zip(params, values):
                p.value = v
            graph.Forward()
            return np.log(P.value)  # P ≥ e^-1 / (classes·e) after the sigmoid: the log is safe

        @staticmethod
        def backward(ctx, g):
            # ∂/∂P of Σ g·log P is g / P; Backward runs every hand-written backward from there
            graph.Backward(P, grad=g.data / P.value)
            return (None,) + tuple(p.grad for p in params)

    class EDFMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.Phi1 = Phi(features, hidden)
            self.Phi2 = Phi(hidden, classes)

        def forward(self, xb):
            return EDFPass.apply(xb, self.Phi1.w, self.Phi1.b, self.Phi2.w, self.Phi2.b)

    return EDFMLP()


def _rng():
    return get_rng()
