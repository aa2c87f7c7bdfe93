"""The notes' node classes, forward and hand-written backward: Affine, Relu, Sigmoid, Softmax, LogLoss, VDot, Sum.

Every value carries the minibatch index first; Parameters carry none. Each backward is the
notes' swap rule written out: swap an input with the output and add "grad" (times f' for a
function of a tensor product), the index comment above it giving the rule.
"""

from __future__ import annotations

import numpy as np

from .graph import CompNode, CompNodes

__all__ = ["Affine", "Relu", "Sigmoid", "Softmax", "LogLoss", "VDot", "Sum"]


class Affine(CompNode):
    """``y[b,j] = x[b,i] W[i,j] + B[j]`` with the parameter package ``Phi`` holding ``Phi.w`` and ``Phi.b``."""

    def __init__(self, Phi, x):
        CompNodes.append(self)
        self.x = x
        self.Phi = Phi

    def forward(self):
        # y.value[b,j] = x.value[b,i]W.value[i,j]
        # y.value[b,j] += B.value[j]
        self.value = (np.matmul(self.x.value,
                                self.Phi.w.value)
                      + self.Phi.b.value)

    def backward(self):
        self.x.addgrad(
            # x.grad[b,i] += y.grad[b,j]W.value[i,j]
            np.matmul(self.grad,
                      self.Phi.w.value.transpose()))

        # B.grad[j] += y.grad[b,j]
        self.Phi.b.addgrad(self.grad)

        # W.grad[i,j] += y.grad[b,j]x.value[b,i]   (Parameter.addgrad sums over b)
        # (The notes' first printing writes x.value[i], dropping the b, and their broadcasting
        # slide closes a parenthesis early; this is the intended product, one per example.)
        self.Phi.w.addgrad(self.x.value[:, :, np.newaxis]
                           * self.grad[:, np.newaxis, :])


class Relu(CompNode):
    """``y = max(x, 0)`` entry by entry."""

    def __init__(self, x):
        CompNodes.append(self)
        self.x = x

    def forward(self):
        # NOTE: relu'(0) = 0. Written as x·[x > 0] rather than np.maximum(x, 0), whose chain rule
        # splits a tie in half, so that check agrees with this backward even at an exact 0.
        self.value = self.x.value * (self.x.value > 0)

    def backward(self):
        self.x.addgrad(self.grad * (self.value > 0))


class Sigmoid(CompNode):
    """``y = 1 / (1 + e^-x)`` entry by entry."""

    # The notes print ``class Sigmoid:`` and ``self.x.grad += ...``; their intent (and every other
    # node) is a CompNode whose backward hands its gradient to addgrad, which checks its shape.
    def __init__(self, x):
        CompNodes.append(self)
        self.x = x

    def forward(self):
        self.value = 1. / (1. + np.exp(-self.x.value))

    def backward(self):
        self.x.addgrad(self.grad
                       * self.value
                       * (1. - self.value))


class Softmax(CompNode):
    """``P[b,j] = e^x[b,j] / Z[b]`` over the last index, ``Z[b] = Σ_j e^x[b,j]``."""

    def __init__(self, x):
        CompNodes.append(self)
        self.x = x

    def forward(self):
        # The notes' P = e^L / Z overflows for large L; subtracting each row's maximum first gives the
        # same P (the factor cancels in the ratio) without overflow.
        e = np.exp(self.x.value - np.max(self.x.value, axis=-1, keepdims=True))
        self.value = e / np.sum(e, axis=-1, keepdims=True)

    def backward(self):
        # x.grad[b,i] += P.grad[b,j] P[b,j] (δ[i,j] - P[b,i]) = P[b,i] (P.grad[b,i] - P.grad[b,j] P[b,j])
        self.x.addgrad(self.value
                       * (self.grad - np.sum(self.grad * self.value, axis=-1, keepdims=True)))


class LogLoss(CompNode):
    """``ℓ[b] = -log P[b, y[b]]``: one loss per example, for class labels ``y`` (an Input of integers)."""

    def __init__(self, P, y):
        CompNodes.append(self)
        self.P = P
        self.y = y

    def forward(self):
        rows = np.arange(len(self.y.value))
        self.value = -np.log(self.P.value[rows, self.y.value])

    def backward(self):
        # P.grad[b, y[b]] += -ℓ.grad[b] / P[b, y[b]]; every other entry gets 0
        rows = np.arange(len(self.y.value))
        delta = np.zeros_like(self.P.value)
        delta[rows, self.y.value] = -self.grad / self.P.value[rows, self.y.value]
        self.P.addgrad(delta)


class VDot(CompNode):
    """``v[b] = x[b,i] y[b,i]``, or ``x[b,i] y[i]`` when ``y`` is a Parameter (no minibatch index)."""

    def __init__(self, x, y):
        CompNodes.append(self)
        self.x = x
        self.y = y

    def forward(self):
        self.value = np.sum(self.x.value * self.y.value, axis=-1)

    def backward(self):
        # the swap rule: x.grad[b,i] += v.grad[b] y[b,i];  y.grad[b,i] += v.grad[b] x[b,i]
        g = np.reshape(self.grad, (-1, 1))  # the loss's grad may be the scalar 1/nBatch
        self.x.addgrad(np.broadcast_to(g * self.y.value, np.shape(self.x.value)))  # a Parameter y has no b
        self.y.addgrad(g * self.x.value)  # a Parameter y sums this over b in its addgrad


class Sum(CompNode):
    """``s[b] = Σ_i x[b,i]``: the sum of each example's entries (all indices after the first)."""

    def __init__(self, x):
        CompNodes.append(self)
        self.x = x

    def forward(self):
        self.value = np.sum(self.x.value.reshape(len(self.x.value), -1), axis=1)

    def backward(self):
        # x.grad[b,i] += s.grad[b]
        grad = np.reshape(self.grad, (-1,) + (1,) * (np.ndim(self.x.value) - 1))  # b first, then broadcast
        self.x.addgrad(grad * np.ones_like(self.x.value))
