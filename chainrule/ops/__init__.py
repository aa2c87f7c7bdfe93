"""The rule table, one module per family of primitives, and the public functions built on it."""

from __future__ import annotations

import types

import numpy as np

from ..core.primitive import Primitive
from ..core.shapes import cast
from ..core.tensor import Tensor
from ..numpy import dispatch
from . import contractions, elementwise, indexing, join, linalg, methods, products, reduce, shape, special

FAMILIES = (elementwise, reduce, shape, join, products, contractions, linalg, indexing, special)


def _public(module):
    """A family's public functions: primitives and functions it defines, not underscored, not ``*_p``."""
    out = {}
    for name, obj in vars(module).items():
        if name.startswith("_") or name.endswith("_p") or name in _NOT_PUBLIC:
            continue
        if isinstance(obj, Primitive) and not obj.nondiff and obj.name.startswith("_"):
            continue
        if isinstance(obj, Primitive) or (isinstance(obj, types.FunctionType) and obj.__module__ == module.__name__):
            out[name] = obj
    return out


# Operator implementations reached as t[i], t[i] = v and t.T, not as cr.<name>.
_NOT_PUBLIC = {"METHODS", "annotations", "getitem", "setitem", "T"}
PUBLIC: dict = {}
for _family in FAMILIES:
    PUBLIC.update(_public(_family))
    methods.install(getattr(_family, "METHODS", {}))


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


def _astype_method(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    """``Tensor.astype`` with ``ndarray.astype``'s arguments (chainrule never shares memory, so ``copy`` is moot)."""
    if order not in ("K", "A", "C") and self.ndim > 1:
        raise NotImplementedError(f"astype: only order='K' is supported, got order={order!r}")
    return cast(self, dtype)


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


PUBLIC["astype"] = astype
PUBLIC["where"] = where

# Operators and methods that cross families, bound in one place.
methods.install(
    {
        "__matmul__": products.matmul,
        "__rmatmul__": lambda self, other: products.matmul(other, self),
        "__getitem__": indexing.getitem,
        "__setitem__": indexing.setitem,
        "clip": elementwise._clip_method,
        "astype": _astype_method,
        "copy": elementwise.positive,
        "round": elementwise.round,
        "conj": elementwise.positive,
    }
)
Tensor.__array_ufunc__ = dispatch.array_ufunc
Tensor.__array_function__ = dispatch.array_function
dispatch.bind(PUBLIC)
