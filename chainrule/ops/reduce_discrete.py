"""The non-differentiable reductions: argmax, argmin, any, all, count_nonzero."""

from __future__ import annotations

import numpy as np

from ..core.batching_rules import fallback, shift
from ..core.primitive import apply
from ..core.shapes import reshape_to, shape_of
from ..extend import nondifferentiable
from .axes import _normalize_axis
from .elementwise import where as E_where
from .reduce import _AXIS, _dtype_out, _mask, _reduced, _ufunc_axes
from .shape import ravel

__all__ = ["argmax", "argmin", "any", "all", "count_nonzero"]


def _flat_arg_batch(prim, vals, bat, kw, size):
    # argmax/argmin with axis=None index the flattened array: flatten each batch element
    if kw.get("axis") is None:
        if kw.get("keepdims"):
            return fallback(prim, vals, bat, kw, size)
        x = reshape_to(vals[0], (size, -1) if shape_of(vals[0])[1:] else (size, 1))
        return apply(prim, (x,), dict(kw, axis=1))
    return apply(prim, (vals[0],), dict(kw, axis=shift(kw["axis"])))


argmax_p = nondifferentiable("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims),
                             batch=_flat_arg_batch)
argmin_p = nondifferentiable("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims),
                             batch=_flat_arg_batch)
any_p = nondifferentiable("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims), batch=_AXIS)
all_p = nondifferentiable("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims), batch=_AXIS)
count_nonzero_p = nondifferentiable(
    "count_nonzero", lambda x, axis, keepdims: np.count_nonzero(x, axis=axis, keepdims=keepdims),
    batch=_AXIS,
)


def _arg(op, prim, a, axis, out, keepdims):
    if out is not None:
        _dtype_out(op, a, None, out)
    if axis is not None:
        if not shape_of(a):  # NumPy flattens a 0-d input first
            a = ravel(a)
        axis = _normalize_axis(op, axis, shape_of(a))
    return prim(a, axis=axis, keepdims=bool(keepdims))


def argmax(a, axis=None, out=None, *, keepdims=False):
    """Index of the largest entry (of the flattened input when ``axis`` is None), like ``np.argmax``.

    >>> import chainrule as cr
    >>> cr.argmax(cr.tensor([[1.0, 5.0], [4.0, 2.0]]), axis=1)
    tensor([1, 0])
    """
    return _arg("argmax", argmax_p, a, axis, out, keepdims)


def argmin(a, axis=None, out=None, *, keepdims=False):
    """Index of the smallest entry, like ``np.argmin``: ``cr.argmin(cr.tensor([3.0, 1.0])).item() == 1``."""
    return _arg("argmin", argmin_p, a, axis, out, keepdims)


def _logical(op, prim, fill, a, axis, out, keepdims, where):
    a, shape, axes = _reduced(op, a, axis, None, out)
    if where is not True:
        a = E_where(_mask(op, where, shape), a, fill)
    return prim(a, axis=axes, keepdims=bool(keepdims))


def any(a, axis=None, out=None, keepdims=False, *, where=True):
    """Whether any entry over ``axis`` is true (non-zero), like ``np.any``: ``cr.any(cr.tensor([0.0, 2.0])).item()``."""
    return _logical("any", any_p, False, a, axis, out, keepdims, where)


def all(a, axis=None, out=None, keepdims=False, *, where=True):
    """Whether every entry over ``axis`` is true (non-zero), like ``np.all``: ``cr.all(cr.tensor([1.0])).item()``."""
    return _logical("all", all_p, True, a, axis, out, keepdims, where)


def count_nonzero(a, axis=None, *, keepdims=False):
    """Number of non-zero entries over ``axis``, like ``np.count_nonzero``.

    >>> import chainrule as cr
    >>> cr.count_nonzero(cr.tensor([[0.0, 1.0], [2.0, 3.0]]), axis=0)
    tensor([1, 2])
    """
    return count_nonzero_p(a, axis=_ufunc_axes("count_nonzero", axis, shape_of(a)), keepdims=bool(keepdims))
