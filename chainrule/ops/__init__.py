"""The rule table, one module per family of primitives, and the public functions built on it."""

from __future__ import annotations

import types

import numpy as np

from ..core.primitive import Primitive
from ..core.shapes import astype
from ..core.tensor import Tensor
from ..numpy import dispatch
from . import elementwise, indexing, linalg, methods, reduce, shape, special

FAMILIES = (elementwise, reduce, shape, linalg, indexing, special)


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

# Operators and methods that cross families, bound in one place.
methods.install(
    {
        "__matmul__": linalg.matmul,
        "__rmatmul__": lambda self, other: linalg.matmul(other, self),
        "__getitem__": indexing.getitem,
        "clip": elementwise.clip,
        "astype": lambda self, dtype, copy=True: astype(self, dtype=np.dtype(dtype)),
        "copy": elementwise.positive,
        "round": elementwise.round,
        "conj": elementwise.positive,
    }
)
Tensor.__array_ufunc__ = dispatch.array_ufunc
Tensor.__array_function__ = dispatch.array_function
dispatch.bind(PUBLIC)
