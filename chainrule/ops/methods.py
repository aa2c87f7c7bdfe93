"""Tensor's operators and methods, bound from one table: ``TENSOR_METHODS``, at the end.

Each entry is a public function or primitive of the families. ``core/tensor.py`` defines what a Tensor is
(its array, facts, place on the tape, conversions); everything that computes is bound here. NumPy's protocols
(``__array_ufunc__``, ``__array_function__``) are bound by ``chainrule/numpy``, the layer that answers them.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..core.backward import backward
from ..core.primitive import Primitive, apply
from ..core.shapes import astype, cast
from ..core.state import STATE
from ..core.tensor import Tensor
from ..core.writes import note_write, rebind
from . import assign as A
from . import complex_numbers as C
from . import elementwise as E
from . import gather as G
from . import indexing as I
from . import linalg as L
from . import products as P
from . import reduce as R
from . import reduce_discrete as RD
from . import rounding as RN
from . import shape as S
from . import special as SP
from . import statistics as ST
from . import elementwise_extra as EX, nan_reduce as NR, sorting as SO

__all__ = ["TENSOR_METHODS"]

_NO_KW = {}  # shared and never mutated: operators take no keywords
_BINARY_OPERATORS = {"add", "subtract", "multiply", "divide", "power", "floor_divide", "mod", "less", "less_equal",
                     "greater", "greater_equal", "equal", "not_equal", "bitwise_and", "bitwise_or", "bitwise_xor"}


def _r(prim):
    """The reflected operator: ``2 - t`` is ``subtract(2, t)``."""
    return lambda self, other: apply(prim, (other, self), _NO_KW)


def _method(prim):
    """A primitive as a method: ``t.round()`` is ``round(t)``."""

    def method(self, *args, **kw):
        return apply(prim, (self, *args), kw)

    if prim.name in _BINARY_OPERATORS:

        def method(self, other):  # noqa: F811 - the two-operand fast path of the same method
            return apply(prim, (self, other), _NO_KW)

    method.__name__ = prim.name
    return method


# ---- PyTorch's spelling of the axis arguments: t.sum(dim=1, keepdim=True) -------------------------
_ALIASES = (("dim", "axis"), ("keepdim", "keepdims"))
_UNSET = object()
# Where PyTorch's method of that name computes something else with dim=, dim= is refused with the reason, so a
# PyTorch habit never gives a different result without a word
_NOT_PYTORCHS = {
    "max": "PyTorch's t.max(dim=) returns (values, indices); chainrule's max follows NumPy: write t.max(axis=...) "
           "for the values and t.argmax(axis=...) for the indices",
    "var": "PyTorch's t.var(dim=) divides by n - 1 by default, NumPy's (chainrule's) by n: write "
           "t.var(axis=..., ddof=1) for PyTorch's default or t.var(axis=...) for NumPy's",
}
_NOT_PYTORCHS["min"] = _NOT_PYTORCHS["max"].replace("max", "min")
_NOT_PYTORCHS["std"] = _NOT_PYTORCHS["var"].replace("var", "std")


def _torch_axes(fn, unlike_pytorch=False):
    """``fn`` as a method that also takes PyTorch's ``dim=`` for ``axis=`` (and ``keepdim=`` for ``keepdims=``).

    The operation stays NumPy's; where PyTorch's method computes something else with ``dim=`` (``max``, ``min``
    return indices too; ``var``, ``std`` divide by n - 1: ``unlike_pytorch``), ``dim=`` raises TypeError saying
    what to write.
    """
    names = list(inspect.signature(fn).parameters)[1:]  # after the Tensor itself
    aliases = [(torch, ours, names.index(ours)) for torch, ours in _ALIASES if ours in names]
    refused = _NOT_PYTORCHS[fn.__name__] if unlike_pytorch else None

    def method(self, *args, **kw):
        if not kw:
            return fn(self, *args)
        if refused is not None and "dim" in kw:
            raise TypeError(f"{fn.__name__}(dim=...): {refused}")
        for torch, ours, at in aliases:
            value = kw.pop(torch, _UNSET)
            if value is _UNSET:
                continue
            if ours in kw or len(args) > at:
                raise TypeError(f"{fn.__name__}: both {ours}= and its PyTorch alias {torch}= were given; pass one")
            kw[ours] = value
        return fn(self, *args, **kw)

    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    method.__wrapped__ = fn
    return method


# ---- in-place operators: t += v changes the Tensor object itself, as in PyTorch and NumPy ----------
def _tracked(t, other):
    """Whether ``t op= other`` must be recorded: a gradient or a tangent flows through it."""
    o = isinstance(other, Tensor)
    if t._fw is not None or (o and other._fw is not None) or STATE.vmap:
        return True
    return STATE.grad and (t._node is not None or (o and other._node is not None))


def _inplace(fn, ufunc, symbol):
    """``t op= other``: recorded, the Tensor is rebound to the result's node (values saved earlier stay
    valid); untracked, NumPy's in-place ufunc on the array (its casting rules: float32 stays float32)."""

    def method(self, other):
        if _tracked(self, other) and self.dtype.kind in "fc":
            node = self._node
            if STATE.grad and node is not None and node.prim is None:
                raise RuntimeError(
                    f"{symbol}: a leaf Tensor that requires grad cannot be changed in place while the tape is "
                    f"recording; to update a parameter do it under `with cr.no_grad():`, or write y = x {symbol[0]} v"
                )
            out = fn(self, other)
            if out.shape != self.shape:
                raise ValueError(
                    f"{symbol}: the result has shape {out.shape}, but an in-place operation must keep the "
                    f"Tensor's shape {self.shape}; write y = x {symbol[:-1]} v instead"
                )
            if out.dtype != self.dtype:
                if not np.can_cast(out.dtype, self.dtype, "same_kind"):
                    raise TypeError(f"{symbol}: cannot store a {out.dtype} result in a {self.dtype} Tensor in place")
                out = astype(out, dtype=self.dtype)
            rebind(self, out, symbol)
            return self
        data = self.data
        o = other.data if isinstance(other, Tensor) else other
        copied = (self._node is not None and self._node.prim is not None) or not data.flags.writeable
        if copied:
            data = data.copy()  # NOTE: a non-leaf's array may be saved by its graph: change a copy
        try:
            ufunc(data, o, out=data)
        except (TypeError, ValueError) as e:
            kind = TypeError if isinstance(e, TypeError) else ValueError
            raise kind(f"{symbol}: {e} (Tensor shape {self.shape}, dtype {self.dtype}; other shape "
                       f"{np.shape(o)})") from None
        if not copied:
            note_write(data)
        self.data = data
        return self

    method.__name__ = f"__i{ufunc.__name__}__"
    return method


def _backward_method(self, grad=None, retain_graph=None, create_graph=False):
    """Backpropagate from this Tensor, accumulating into the ``.grad`` of leaves.

    ``grad`` defaults to 1 for a scalar and is required otherwise.
    ``retain_graph`` defaults to ``create_graph``.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> (x ** 2).backward()
    >>> x.grad.item()
    6.0
    """
    backward(self, grad, retain_graph=create_graph if retain_graph is None else retain_graph,
             create_graph=create_graph)


def _astype_method(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    """``Tensor.astype`` with ``ndarray.astype``'s arguments (chainrule never shares memory, so ``copy`` is moot)."""
    if order not in ("K", "A", "C") and self.ndim > 1:
        raise NotImplementedError(f"astype: only order='K' is supported, got order={order!r}")
    return cast(self, dtype)


# Every operator and method a Tensor has beyond core/tensor.py. A primitive is wrapped as a method (its first
# argument is the Tensor); a function is bound as it is.
TENSOR_METHODS = {
    # arithmetic; the reflected form 2 - t is subtract(2, t)
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
    "__matmul__": P.matmul,
    "__rmatmul__": lambda self, other: P.matmul(other, self),
    "__floordiv__": RN.floor_divide,
    "__rfloordiv__": _r(RN.floor_divide),
    "__mod__": RN.mod,
    "__rmod__": _r(RN.mod),
    "__divmod__": RN.divmod,
    "__rdivmod__": lambda self, other: RN.divmod(other, self),
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
    # in place: t += v changes the Tensor object itself, as in PyTorch and NumPy
    "__iadd__": _inplace(E.add, np.add, "+="),
    "__isub__": _inplace(E.subtract, np.subtract, "-="),
    "__imul__": _inplace(E.multiply, np.multiply, "*="),
    "__itruediv__": _inplace(E.divide, np.true_divide, "/="),
    "__ipow__": _inplace(E.power, np.power, "**="),
    "__imatmul__": _inplace(P.matmul, np.matmul, "@="),
    "__ifloordiv__": _inplace(RN.floor_divide, np.floor_divide, "//="),
    "__imod__": _inplace(RN.mod, np.mod, "%="),
    "__iand__": _inplace(E.bitwise_and, np.bitwise_and, "&="),
    "__ior__": _inplace(E.bitwise_or, np.bitwise_or, "|="),
    "__ixor__": _inplace(E.bitwise_xor, np.bitwise_xor, "^="),
    # indexing: t[i] and t[i] = v
    "__getitem__": I.getitem,
    "__setitem__": A.setitem,
    # ndarray's methods, with its arguments
    "astype": _astype_method,
    "clip": E._clip_method,
    "round": RN.round,
    "copy": E.positive,  # a new array, recorded as the identity
    "conj": C.conj,
    "conjugate": C.conj,
    "real": property(C.real, doc="The real part, as ndarray.real (differentiable)."),
    "imag": property(C.imag, doc="The imaginary part, as ndarray.imag (differentiable; zeros for a real Tensor)."),
    "angle": C.angle,
    "sum": _torch_axes(R.sum),
    "mean": _torch_axes(R.mean),
    "prod": _torch_axes(R.prod),
    "max": _torch_axes(R.max, unlike_pytorch=True),
    "min": _torch_axes(R.min, unlike_pytorch=True),
    "var": _torch_axes(ST.var, unlike_pytorch=True),
    "std": _torch_axes(ST.std, unlike_pytorch=True),
    "cumsum": _torch_axes(R.cumsum),
    "argmax": _torch_axes(RD.argmax),
    "argmin": _torch_axes(RD.argmin),
    "any": _torch_axes(RD.any),
    "all": _torch_axes(RD.all),
    "reshape": S.reshape,
    "transpose": S.transpose,
    "swapaxes": S.swapaxes,
    "squeeze": S.squeeze,
    "flatten": S.flatten,
    "ravel": S.ravel,
    "repeat": S.repeat,
    "T": property(S.T),
    "dot": P.dot,
    "take": G.take,
    "trace": L.trace,
    "diagonal": L.diagonal,
    # issue 11 (ndarray's cumprod; PyTorch's names for the others)
    "cumprod": NR.cumprod,
    "nansum": NR.nansum,
    "nanmean": NR.nanmean,
    "quantile": SO.quantile,
    "nanquantile": SO.nanquantile,
    "sinc": EX.sinc,
    "fmax": EX.fmax,
    "fmin": EX.fmin,
    "logaddexp2": EX.logaddexp2,
    "nan_to_num": EX.nan_to_num,
    "deg2rad": EX.deg2rad,
    "rad2deg": EX.rad2deg,
    # PyTorch's methods (and NumPy's functions as methods), each the cr. function of that name; axes may
    # be given as dim= (PyTorch) as well as axis=
    "amax": _torch_axes(R.amax),
    "amin": _torch_axes(R.amin),
    "logsumexp": _torch_axes(R.logsumexp),
    "count_nonzero": _torch_axes(RD.count_nonzero),
    "softmax": _torch_axes(SP.softmax),
    "log_softmax": _torch_axes(SP.log_softmax),
    "norm": _torch_axes(L.norm),
    "matmul": P.matmul,
    "expand_dims": S.expand_dims,
    "unsqueeze": S.expand_dims,
    "broadcast_to": S.broadcast_to,
    "clamp": E._clip_method,
    "add": E.add,
    "subtract": E.subtract,
    "multiply": E.multiply,
    "divide": E.divide,
    "pow": E.power,
    "maximum": E.maximum,
    "minimum": E.minimum,
    "arctan2": E.arctan2,
    "hypot": E.hypot,
    "logaddexp": E.logaddexp,
    "remainder": RN.remainder,
    "fmod": RN.fmod,
    "floor_divide": RN.floor_divide,
    "heaviside": RN.heaviside,
    "negative": E.negative,
    "exp": E.exp,
    "expm1": E.expm1,
    "exp2": E.exp2,
    "log": E.log,
    "log1p": E.log1p,
    "log2": E.log2,
    "log10": E.log10,
    "sqrt": E.sqrt,
    "square": E.square,
    "reciprocal": E.reciprocal,
    "sin": E.sin,
    "cos": E.cos,
    "tan": E.tan,
    "arcsin": E.arcsin,
    "arccos": E.arccos,
    "arctan": E.arctan,
    "sinh": E.sinh,
    "cosh": E.cosh,
    "tanh": E.tanh,
    "arcsinh": E.arcsinh,
    "arccosh": E.arccosh,
    "arctanh": E.arctanh,
    "sigmoid": E.sigmoid,
    "relu": E.relu,
    "abs": E.abs,
    "sign": RN.sign,
    "floor": RN.floor,
    "ceil": RN.ceil,
    "trunc": RN.trunc,
    "signbit": E.signbit,
    "isfinite": E.isfinite,
    "isnan": E.isnan,
    "isinf": E.isinf,
    # the reverse pass (core/backward.py) from this Tensor
    "backward": _backward_method,
}

for _name, _fn in TENSOR_METHODS.items():
    setattr(Tensor, _name, _method(_fn) if isinstance(_fn, Primitive) else _fn)
