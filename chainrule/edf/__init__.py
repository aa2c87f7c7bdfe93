"""chainrule.edf: the notes' Educational Framework (EDF) as written, every hand-written backward checkable by chainrule.

The notes' multilayer perceptron runs as printed:

>>> import numpy as np
>>> from chainrule.edf import *
>>> rng = np.random.default_rng(0)
>>> with Graph(learning_rate=0.5) as g:
...     x, y = Input(), Input()
...     Phi1 = ParameterPackage(w=rng.normal(0, 0.5, (4, 8)), b=np.zeros(8))
...     Phi2 = ParameterPackage(w=rng.normal(0, 0.5, (8, 3)), b=np.zeros(3))
...     L1 = Relu(Affine(Phi1, x))
...     P = Softmax(Sigmoid(Affine(Phi2, L1)))
...     ell = LogLoss(P, y)
>>> x.value, y.value = rng.normal(size=(5, 4)), np.array([0, 2, 1, 0, 2])
>>> with g:                            # the notes' core runs on the current graph
...     Forward(); Backward(ell); SGD()
>>> ell.value.shape, Phi1.w.grad.shape  # a loss per example; parameters without the minibatch index
((5,), (4, 8))
>>> check(g).ok                         # every hand-written backward agrees with the chain rule
True
"""

from __future__ import annotations

import sys
import types

from .bridge import Report, Row, check
from .graph import (DEFAULT, SGD, Backward, CompNode, CompNodes, EDFError, Forward, Graph, Input, Parameter,
                    ParameterPackage, Parameters, as_function, current)
from .nodes import Affine, LogLoss, Relu, Sigmoid, Softmax, Sum, VDot

__all__ = [
    "Graph", "Input", "Parameter", "CompNode", "ParameterPackage", "CompNodes", "Parameters",
    "Forward", "Backward", "SGD",
    "Affine", "Relu", "Sigmoid", "Softmax", "LogLoss", "VDot", "Sum",
    "check", "Report", "Row", "EDFError", "as_function", "current", "DEFAULT",
]


class _EDFModule(types.ModuleType):
    """``edf.learning_rate`` and ``edf.nBatch``, the notes' globals, read and set the current graph's."""

    @property
    def learning_rate(self):
        return current().learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        current().learning_rate = value

    @property
    def nBatch(self):
        return current().nBatch


sys.modules[__name__].__class__ = _EDFModule
