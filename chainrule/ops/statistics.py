"""var and std: the moments of a reduction, divided by ``n - ddof`` as NumPy does."""

from __future__ import annotations

import math

import numpy as np

from ..core.complex_parts import conj, is_complex, real
from ..core.primitive import Primitive
from ..core.shapes import shape_of
from .elementwise import sqrt, where
from .reduce import (_AXIS, _NoValue, _count, _count_where, _mask, _reduced, _reduction_args, _restore, _sum_k, mean_p,
                     sum_p)

__all__ = ["var", "std"]

E_where = where  # for the functions whose where= keyword (NumPy's) shadows it


def _centered(x, axis):
    return x - mean_p(x, axis=axis, keepdims=True, shape=x.shape)


def _tangent(t, x, axis):
    """t · (x − mean), or Re(conj(x − mean) · t) for complex x: the tangent of a real |x − mean|²."""
    c = _centered(x, axis)
    return real(conj(c) * t) if is_complex(c) else t * c


def _per_dof(c, shape, axis, ddof):
    """c / (n - ddof): NumPy's divisor; nan when there are no degrees of freedom left."""
    dof = _count(shape, axis) - ddof
    return c / dof if dof > 0 else math.nan


def _safe(s):
    # NOTE: std'(x) at a constant slice is taken as 0, not nan: there std = 0 and
    # x - mean is exactly 0, so dividing by 1 instead of 0 gives 0 (PyTorch gives nan)
    return where(s == 0, 1, s)


var_p = Primitive(
    "var",
    lambda x, axis, keepdims, ddof: np.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
    # ∂var/∂x_i = 2 (x_i - mean) / (n - ddof)
    vjp=(
        lambda g, ans, x, axis, keepdims, ddof: (
            _restore(g, axis, keepdims) * _centered(x, axis) * _per_dof(2.0, x.shape, axis, ddof)
        ),
    ),
    jvp=(
        lambda t, ans, x, axis, keepdims, ddof: (
            _sum_k(_tangent(t, x, axis), axis, keepdims) * _per_dof(2.0, x.shape, axis, ddof)
        ),
    ),
    save=("args",),
    batch=_AXIS,
    call_args=_reduction_args,
)
std_p = Primitive(
    "std",
    lambda x, axis, keepdims, ddof: np.std(x, axis=axis, ddof=ddof, keepdims=keepdims),
    # ∂std/∂x_i = (x_i - mean) / ((n - ddof) std)
    vjp=(
        lambda g, ans, x, axis, keepdims, ddof: (
            _restore(g, axis, keepdims)
            * _centered(x, axis)
            / _safe(_restore(ans, axis, keepdims))
            * _per_dof(1.0, x.shape, axis, ddof)
        ),
    ),
    jvp=(
        lambda t, ans, x, axis, keepdims, ddof: (
            _sum_k(_tangent(t, x, axis), axis, keepdims) / _safe(ans) * _per_dof(1.0, x.shape, axis, ddof)
        ),
    ),
    save=("args", "ans"),
    batch=_AXIS,
    call_args=_reduction_args,
)


def _ddof(op, ddof, correction):
    if correction is _NoValue:
        return ddof
    if ddof != 0:
        raise ValueError(f"{op}: ddof and correction can't be provided simultaneously")
    return correction


def _var_where(op, a, w, axes, ddof, keepdims):
    """var over the entries ``w`` selects: Σ (x - mean)² / (count - ddof), from chainrule operations."""
    shape = shape_of(a)
    n = _count_where(w, axes, True, a)
    m = sum_p(E_where(w, a, 0), axis=axes, keepdims=True, shape=shape) / n
    d = E_where(w, a - m, 0)
    s = sum_p(real(d * conj(d)) if is_complex(d) else d * d, axis=axes, keepdims=keepdims, shape=shape)  # |d|²
    return s / (_count_where(w, axes, keepdims, s) - ddof)


def _var_args(op, a, axis, dtype, out, ddof, where, mean, correction):
    if mean is not _NoValue:
        raise TypeError(f"{op}(..., mean=...) is not supported: chainrule computes the mean itself")
    a, shape, axes = _reduced(op, a, axis, dtype, out, ufunc=False)
    w = None if where is True else _mask(op, where, shape)
    return a, axes, _ddof(op, ddof, correction), w


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=_NoValue,
        correction=_NoValue):
    """Variance over ``axis``, divided by ``n - ddof`` (``ddof=0`` by default), with ``np.var``'s arguments
    and their order (``correction`` is ``ddof``'s Array-API name).

    >>> import chainrule as cr
    >>> cr.var(cr.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor(1.25)
    """
    a, axes, ddof, w = _var_args("var", a, axis, dtype, out, ddof, where, mean, correction)
    if w is not None:
        return _var_where("var", a, w, axes, ddof, keepdims)
    return var_p(a, axis=axes, keepdims=bool(keepdims), ddof=ddof)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=_NoValue,
        correction=_NoValue):
    """Standard deviation over ``axis`` (``ddof=0`` by default), with ``np.std``'s arguments and their order.

    At a constant input the gradient is 0 (PyTorch gives nan).

    >>> import chainrule as cr
    >>> cr.std(cr.tensor([1.0, 3.0]))
    tensor(1.)
    """
    a, axes, ddof, w = _var_args("std", a, axis, dtype, out, ddof, where, mean, correction)
    if w is not None:
        return sqrt(_var_where("std", a, w, axes, ddof, keepdims))
    return std_p(a, axis=axes, keepdims=bool(keepdims), ddof=ddof)
