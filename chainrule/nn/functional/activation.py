"""Activations and dropout for ``cr.nn.functional``: the shared primitives, compositions of them (GELU, SiLU,
Softplus, ELU) and dropout."""

from __future__ import annotations

import math

import numpy as np

from ... import random as _random
from ...core.shapes import shape_of
from ...core.tensor import Tensor
from ...ops.elementwise import expm1, greater, logaddexp, relu, sigmoid, tanh, where
from ...ops import special as _special

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "gelu", "silu", "softplus", "elu",
           "dropout"]

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def leaky_relu(x, negative_slope=0.01):
    """``x`` where positive, ``negative_slope · x`` elsewhere.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.leaky_relu(cr.tensor([-1.0, 2.0]), 0.1)
    tensor([-0.1,  2. ])
    """
    return where(greater(x, 0), x, x * negative_slope)  # a primitive comparison, so that vmap can batch it


def gelu(x, approximate="none"):
    """Gaussian error linear unit ``x·Φ(x)``: exact (``erf``) or PyTorch's ``approximate="tanh"`` form.

    Composed of differentiable primitives, so every order of derivative follows;
    finite at |x| = 1000 (Φ saturates, the Gaussian term underflows to 0).

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> round(F.gelu(cr.tensor(1.0)).item(), 6), round(F.gelu(cr.tensor(1.0), approximate="tanh").item(), 6)
    (0.841345, 0.841192)
    """
    if approximate == "none":
        from ...scipy.special import erf  # here, not at the top: `import chainrule` must not import SciPy

        return x * (0.5 + 0.5 * erf(x * _SQRT_HALF))
    if approximate == "tanh":
        return x * (0.5 + 0.5 * tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x):
    """Sigmoid linear unit (swish) ``x·sigmoid(x)``.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> round(F.silu(cr.tensor(1.0)).item(), 6)
    0.731059
    """
    return x * sigmoid(x)


def softplus(x, beta=1.0, threshold=20.0):
    """``log(1 + e^(β·x)) / β``, and ``x`` itself where ``β·x > threshold`` (PyTorch's linear region).

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> round(F.softplus(cr.tensor(0.0)).item(), 6), F.softplus(cr.tensor(1000.0)).item()
    (0.693147, 1000.0)
    """
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero")
    bx = x * beta if beta != 1 else x
    soft = logaddexp(0.0, bx)  # stable on both sides, and its derivative sigmoid(βx) never overflows
    if beta != 1:
        soft = soft * (1.0 / beta)
    return where(greater(bx, threshold), x, soft)


def elu(x, alpha=1.0):
    """``x`` where positive, ``α·(eˣ - 1)`` elsewhere.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> round(F.elu(cr.tensor(-1.0)).item(), 6), F.elu(cr.tensor(2.0)).item()
    (-0.632121, 2.0)
    """
    # NOTE: expm1 of x zeroed where positive, so the branch `where` discards has no e^1000 whose zero cotangent
    # would give 0·inf; at x = 0 the derivative is α, PyTorch's
    positive = greater(x, 0)
    return where(positive, x, alpha * expm1(where(positive, 0.0, x)))


def dropout(x, p=0.5, training=True):
    """Zero each entry with probability ``p`` and scale the rest by 1/(1-p) (inverted dropout); identity in eval.

    The mask comes from ``cr.random``'s generator, so ``cr.random.seed`` makes it repeat.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.dropout(cr.ones(4, dtype=np.float32), p=0.5, training=False)
    tensor([1., 1., 1., 1.], dtype=float32)
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return x
    shape = shape_of(x)
    dtype = x.dtype if hasattr(x, "dtype") and np.dtype(x.dtype).kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        return x * np.zeros(shape, dtype=dtype)
    rng = _random.get_rng()
    draw = _random._draw(lambda s: rng.random(s, dtype=np.float32 if dtype == np.float32 else np.float64), shape,
                         who="dropout")  # inside vmap, one mask per example
    if type(draw) is Tensor:
        mask = (draw.data >= p).astype(dtype)
        mask *= 1.0 / (1.0 - p)  # in place keeps the dtype
    else:
        mask = (draw >= p).astype(dtype) * np.asarray(1.0 / (1.0 - p), dtype)
    return x * mask


_LAST = object()  # axis= not given (None is NumPy's "all axes")


def _axis(who, dim, axis):
    if dim is not None and axis is not _LAST:
        raise TypeError(f"{who}: both dim= and axis= were given; pass one (dim is PyTorch's name for axis)")
    if dim is not None:
        return dim
    return -1 if axis is _LAST else axis


def softmax(input, dim=None, *, axis=_LAST):
    """``F.softmax`` as PyTorch names it: ``dim`` (or NumPy's ``axis``; default the last axis).

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.softmax(cr.tensor([[0.0, 0.0]]), dim=1)
    tensor([[0.5, 0.5]])
    """
    return _special.softmax(input, axis=_axis("softmax", dim, axis))


def log_softmax(input, dim=None, *, axis=_LAST):
    """``F.log_softmax`` as PyTorch names it: ``dim`` (or NumPy's ``axis``; default the last axis).

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.log_softmax(cr.tensor([0.0, 0.0]), dim=0).exp()
    tensor([0.5, 0.5])
    """
    return _special.log_softmax(input, axis=_axis("log_softmax", dim, axis))

