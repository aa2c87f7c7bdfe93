"""Activations and dropout for ``cr.nn.functional``: the shared elementwise/special primitives, plus dropout."""

from __future__ import annotations

import numpy as np

from ... import random as _random
from ...core.tensor import Tensor
from ...core.shapes import shape_of
from ...ops.elementwise import relu, sigmoid, tanh, where
from ...ops.special import log_softmax, softmax

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "dropout"]


def leaky_relu(x, negative_slope=0.01):
    """``x`` where positive, ``negative_slope · x`` elsewhere.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.leaky_relu(cr.tensor([-1.0, 2.0]), 0.1)
    tensor([-0.1,  2. ])
    """
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    return where(data > 0, x, x * negative_slope)


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
