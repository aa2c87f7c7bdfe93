"""Tensor's operators and methods: every one delegates to a primitive, in this single block."""

from __future__ import annotations

from ..core.primitive import Primitive, apply
from ..core.tensor import Tensor
from . import elementwise as E


_NO_KW = {}  # shared and never mutated: operators take no keywords
_BINARY_OPERATORS = {"add", "subtract", "multiply", "divide", "power", "floor_divide", "mod", "less", "less_equal",
                     "greater", "greater_equal", "equal", "not_equal", "bitwise_and", "bitwise_or", "bitwise_xor"}


def _r(prim):
    """The reflected operator: ``2 - t`` is ``subtract(2, t)``."""
    return lambda self, other: apply(prim, (other, self), _NO_KW)


OPERATORS = {
    "__add__": E.add,
    "__radd__": _r(E.add),
    "__sub__": E.subtract,
    "__rsub__": _r(E.subtract),
    "__mul__": E.multiply,
    "__rmul__": _r(E.multiply),
    "__truediv__": E.divide,
    "__rtruediv__": _r(E.divide),
    "__pow__": E.power,
    "__rpow__": _r(E.power),
    "__floordiv__": E.floor_divide,
    "__rfloordiv__": _r(E.floor_divide),
    "__mod__": E.mod,
    "__rmod__": _r(E.mod),
    "__neg__": E.negative,
    "__pos__": E.positive,
    "__abs__": E.abs,
    "__invert__": E.invert,
    "__and__": E.bitwise_and,
    "__or__": E.bitwise_or,
    "__xor__": E.bitwise_xor,
    # comparisons are not differentiable: boolean Tensors with no graph
    "__lt__": E.less,
    "__le__": E.less_equal,
    "__gt__": E.greater,
    "__ge__": E.greater_equal,
    "__eq__": E.equal,
    "__ne__": E.not_equal,
}


def install(methods):
    """Bind ``{name: function}`` onto Tensor; a function's first argument is the Tensor."""
    for name, fn in methods.items():
        if isinstance(fn, Primitive):
            fn = _method(fn)
        setattr(Tensor, name, fn)


def _method(prim):
    def method(self, *args, **kw):
        return apply(prim, (self, *args), kw)

    if prim.name in _BINARY_OPERATORS:

        def method(self, other):  # noqa: F811 - the two-operand fast path of the same method
            return apply(prim, (self, other), _NO_KW)

    method.__name__ = prim.name
    return method


install(OPERATORS)
