"""The rule table, one module per family of primitives, and the public functions built on it."""

from __future__ import annotations

import numpy as np

from ..core.shapes import cast
from ..core.tensor import Tensor
from . import (assign, contractions, elementwise, gather, indexing, join, linalg, products, reduce, reduce_discrete,
               shape, special, statistics)
from . import rearrange, triangular
from . import complex_numbers
from . import elementwise_extra, nan_reduce, signal, sorting
from . import rounding
from . import decompositions, eig, spectral
from . import methods  # noqa: F401 - importing it binds Tensor's operators and methods (TENSOR_METHODS)

__all__ = ["FAMILIES", "PUBLIC", "astype", "where"]

FAMILIES = (elementwise, reduce, statistics, reduce_discrete, shape, join, products, contractions, linalg, indexing,
            gather, assign, special)
FAMILIES += (rearrange, triangular)
FAMILIES += (complex_numbers,)
FAMILIES += (sorting, nan_reduce, elementwise_extra, signal)
FAMILIES += (rounding,)
FAMILIES += (spectral, decompositions, eig)


def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` as ``dtype`` (``np.astype``; also ``t.astype(dtype)``): differentiable to a float dtype,
    off the graph to an integer or boolean one (as PyTorch: such values have no gradient).

    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor([1.5, 2.5], requires_grad=True)
    >>> x.astype(np.int64)
    tensor([1, 2])
    >>> x.astype(np.int64).requires_grad, x.astype(np.float32).requires_grad
    (False, True)
    """
    return cast(x, dtype)


def where(condition, x=np._NoValue, y=np._NoValue):
    """``np.where``: ``x`` where ``condition`` holds, else ``y`` (broadcast; differentiable in both);
    with the condition alone, the indices of its true entries (``np.nonzero``), as integer Tensors.

    >>> import chainrule as cr
    >>> cr.where(cr.tensor([True, False]), 1.0, cr.tensor([5.0, 6.0]))
    tensor([1., 6.])
    >>> cr.where(cr.tensor([0.0, 2.0]) > 1)
    (tensor([1]),)
    """
    if x is np._NoValue and y is np._NoValue:
        c = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
        return tuple([Tensor(i) for i in np.nonzero(c)])
    if x is np._NoValue or y is np._NoValue:
        raise ValueError("where: either both or neither of x and y should be given")
    return elementwise.where(condition, x, y)


# Every family's public functions (its __all__), by name: what cr.* and chainrule.numpy's dispatch tables hold
# (cr.* leaves inv, det and solve to cr.linalg, as NumPy does).
PUBLIC: dict = {name: getattr(family, name) for family in FAMILIES for name in family.__all__}
PUBLIC["astype"] = astype
PUBLIC["where"] = where

