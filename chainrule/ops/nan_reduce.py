"""NaN-ignoring reductions (nansum, nanmean, nanvar, ...), weighted average, ptp and cumprod, built on the reductions.

Each is a composition of recorded primitives, so every mode and vmap follow from
theirs. NaN entries are masked out with ``where`` before reducing: they get
gradient 0, and a NaN never multiplies a zero cotangent.
"""

from __future__ import annotations

import numpy as np

from ..core.complex_parts import conj, is_complex, real
from ..core.shapes import cast, shape_of
from ..core.tensor import Tensor
from .axes import _normalize_axis
from .elementwise import isnan, sqrt, where
from .reduce import _dtype_out, cumsum, max, min, prod, sum
from .shape import broadcast_to, expand_dims, moveaxis, reshape

__all__ = ["nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanprod", "nancumsum", "nancumprod",
           "cumprod", "average", "ptp"]

_NoValue = np._NoValue
E_where = where  # for the functions whose where= keyword (NumPy's) shadows it


def _float(x):
    """``x``'s float dtype (float64 for integers and booleans)."""
    dt = x.dtype if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x).dtype
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _prep(op, a, dtype, out):
    if dtype is not None or out is not None:
        a = _dtype_out(op, a, dtype, out)
    return a if isinstance(a, Tensor) else np.asarray(a)


def _fill(a, value):
    """``a`` with its NaN entries replaced by ``value`` (gradient 0 there)."""
    return where(isnan(a), value, a)


def _count(a, axis, keepdims):
    """How many entries are not NaN, in ``a``'s float dtype (a constant)."""
    return sum(cast(~isnan(a), _float(a)), axis=axis, keepdims=keepdims)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue, where=True):
    """Sum treating NaN as 0, like ``np.nansum``.

    >>> import numpy as np, chainrule as cr
    >>> cr.nansum(cr.tensor([1.0, np.nan, 2.0]))
    tensor(3.)
    """
    a = _prep("nansum", a, dtype, out)
    return sum(_fill(a, 0), axis=axis, keepdims=keepdims, initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue, where=True):
    """Product treating NaN as 1, like ``np.nanprod``.

    >>> import numpy as np, chainrule as cr
    >>> cr.nanprod(cr.tensor([2.0, np.nan, 3.0]))
    tensor(6.)
    """
    a = _prep("nanprod", a, dtype, out)
    return prod(_fill(a, 1), axis=axis, keepdims=keepdims, initial=initial, where=where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """Mean of the entries that are not NaN (an all-NaN slice gives NaN), like ``np.nanmean``.

    >>> import numpy as np, chainrule as cr
    >>> cr.nanmean(cr.tensor([1.0, np.nan, 2.0]))
    tensor(1.5)
    """
    if where is not True:
        raise NotImplementedError("nanmean: where= is not supported on Tensors")
    a = _prep("nanmean", a, dtype, out)
    return _per(sum(_fill(a, 0), axis=axis, keepdims=keepdims), _count(a, axis, keepdims))


def _per(total, n):
    """total / n, NaN (with gradient 0) where n is not positive: an all-NaN slice, no degrees of freedom left."""
    ok = n > 0
    return E_where(ok, total / E_where(ok, n, 1), np.nan)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=_NoValue,
           correction=_NoValue):
    """Variance of the entries that are not NaN, divided by ``count - ddof`` (NaN where that is not positive),
    like ``np.nanvar``.

    >>> import numpy as np, chainrule as cr
    >>> cr.nanvar(cr.tensor([1.0, np.nan, 3.0]))
    tensor(1.)
    """
    if where is not True or mean is not _NoValue:
        raise NotImplementedError("nanvar: where= and mean= are not supported on Tensors")
    if correction is not _NoValue:
        if ddof != 0:
            raise ValueError("nanvar: ddof and correction can't be provided simultaneously")
        ddof = correction
    a = _prep("nanvar", a, dtype, out)
    m = nanmean(a, axis=axis, keepdims=True)
    d = _fill(a - m, 0)
    n = _count(a, axis, keepdims)
    if is_complex(d):  # |d|², real, as NumPy's nanvar of complex values
        dd, n = real(d * conj(d)), real(n)
    else:
        dd = d * d
    return _per(sum(dd, axis=axis, keepdims=keepdims), n - ddof)



def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=_NoValue,
           correction=_NoValue):
    """Standard deviation of the entries that are not NaN, like ``np.nanstd``; at a constant slice the gradient
    is 0 (as ``std``'s).

    >>> import numpy as np, chainrule as cr
    >>> cr.nanstd(cr.tensor([1.0, np.nan, 3.0]))
    tensor(1.)
    """
    v = nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    zero = v == 0
    return E_where(zero, 0, sqrt(E_where(zero, 1, v)))  # NOTE: std'(x) at a constant slice is taken as 0


def _nan_extreme(op, reduce, fill, a, axis, out, keepdims, initial, where):
    a = _prep(op, a, None, out)
    y = reduce(_fill(a, fill), axis=axis, keepdims=keepdims, initial=initial, where=where)
    if initial is not _NoValue:
        return y
    all_nan = ~(sum(cast(~isnan(a), np.float64), axis=axis, keepdims=keepdims) > 0)
    return E_where(all_nan, np.nan, y)


def nanmax(a, axis=None, out=None, keepdims=False, initial=_NoValue, where=True):
    """Largest entry ignoring NaN (an all-NaN slice gives NaN), like ``np.nanmax``; ties share the gradient
    evenly, as ``max``'s.

    >>> import numpy as np, chainrule as cr
    >>> cr.nanmax(cr.tensor([1.0, np.nan, 3.0]))
    tensor(3.)
    """
    return _nan_extreme("nanmax", max, -np.inf, a, axis, out, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=_NoValue, where=True):
    """Smallest entry ignoring NaN (an all-NaN slice gives NaN), like ``np.nanmin``; ties share the gradient
    evenly, as ``min``'s.

    >>> import numpy as np, chainrule as cr
    >>> cr.nanmin(cr.tensor([1.0, np.nan, 3.0]))
    tensor(1.)
    """
    return _nan_extreme("nanmin", min, np.inf, a, axis, out, keepdims, initial, where)


def nancumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum treating NaN as 0, like ``np.nancumsum``.

    >>> import numpy as np, chainrule as cr
    >>> cr.nancumsum(cr.tensor([1.0, np.nan, 2.0]))
    tensor([1., 1., 3.])
    """
    return cumsum(_fill(_prep("nancumsum", a, dtype, out), 0), axis=axis)


def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product along ``axis`` (None: of the flattened input), like ``np.cumprod``; the gradient is
    exact where entries are zero (it is prod's, on the n prefixes: O(n²) memory along the axis).

    >>> import chainrule as cr
    >>> x = cr.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> cr.cumprod(x).sum().backward()
    >>> x.grad
    tensor([1., 8., 0.])
    """
    a = _prep("cumprod", a, dtype, out)
    if axis is None or not shape_of(a):
        a, axis = reshape(a, -1), 0
    ax = _normalize_axis("cumprod", axis, shape_of(a))
    last = ax == len(shape_of(a)) - 1
    x = a if last else moveaxis(a, ax, -1)
    n = shape_of(x)[-1]
    prefixes = E_where(np.tri(n, dtype=bool), expand_dims(x, -2), 1)  # row i: x_0 .. x_i, then ones
    y = prod(prefixes, axis=-1)
    return y if last else moveaxis(y, -1, ax)


def nancumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product treating NaN as 1, like ``np.nancumprod``.

    >>> import numpy as np, chainrule as cr
    >>> cr.nancumprod(cr.tensor([2.0, np.nan, 3.0]))
    tensor([2., 2., 6.])
    """
    return cumprod(_fill(_prep("nancumprod", a, dtype, out), 1), axis=axis)


def ptp(a, axis=None, out=None, keepdims=False):
    """Range (max - min) over ``axis``, like ``np.ptp``; tied extremes share the gradient evenly.

    >>> import chainrule as cr
    >>> cr.ptp(cr.tensor([[1.0, 4.0], [2.0, 0.5]]), axis=1)
    tensor([3. , 1.5])
    """
    a = _prep("ptp", a, None, out)
    return max(a, axis=axis, keepdims=keepdims) - min(a, axis=axis, keepdims=keepdims)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted mean over ``axis``, like ``np.average``: differentiable in ``a`` and ``weights``; with
    ``returned`` also the sum of the weights.

    >>> import chainrule as cr
    >>> cr.average(cr.tensor([1.0, 3.0]), weights=cr.tensor([3.0, 1.0]))
    tensor(1.5)
    """
    a = a if isinstance(a, Tensor) else np.asarray(a)
    shape = shape_of(a)
    if weights is None:
        avg = sum(a, axis=axis, keepdims=keepdims)
        n = np.prod([shape[i] for i in _axes(axis, shape)]) if shape else 1
        avg = avg / np.asarray(n, dtype=_float(a))
        scl = np.asarray(n, dtype=_float(avg))
    else:
        w = weights if isinstance(weights, Tensor) else np.asarray(weights)
        wshape = shape_of(w)
        if wshape != shape:
            if axis is None:
                raise TypeError("average: axis must be specified when shapes of a and weights differ")
            axes = _axes(axis, shape)
            if wshape != tuple([shape[i] for i in axes]):
                raise ValueError("average: shape of weights must be consistent with shape of a along specified axis")
            # NumPy's rule: the weights run along the given axes, broadcast over the others
            w = reshape(w, tuple([shape[i] if i in axes else 1 for i in range(len(shape))]))
        scl = sum(broadcast_to(w, shape) if shape_of(w) != shape else w, axis=axis, keepdims=keepdims)
        if isinstance(scl, Tensor) and isinstance(scl.data, np.ndarray) and np.any(scl.data == 0.0):
            raise ZeroDivisionError("average: weights sum to zero, can't be normalized")
        avg = sum(a * w, axis=axis, keepdims=keepdims) / scl
    if returned:
        return avg, (broadcast_to(scl, shape_of(avg)) if shape_of(scl) != shape_of(avg) else scl)
    return avg


def _axes(axis, shape):
    if axis is None:
        return tuple(range(len(shape)))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(_normalize_axis("average", x, shape) for x in axes))
