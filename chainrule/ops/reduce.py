"""Reductions: sum, mean, prod, max, min, var, std, logsumexp, cumsum, argmax, with axis and keepdims."""

from __future__ import annotations

import numpy as np

from ..core.primitive import Primitive
from ..core.shapes import broadcast_to


def _axes(axis, ndim):
    """Normalise ``axis`` (None, int or tuple) to a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise np.exceptions.AxisError(f"axis {a} is out of bounds for array of dimension {ndim}")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def _restore(g, shape, axes, keepdims):
    """Put back the reduced axes of ``g`` (as size 1) so it broadcasts against the input."""
    if keepdims or not axes:
        return g
    from .shape import reshape

    kept = tuple(1 if i in axes else s for i, s in enumerate(shape))
    return reshape(g, kept)


def _sum(x, axes, keepdims):
    return np.sum(x, axis=axes, keepdims=keepdims)


# x̄ = broadcast of ḡ over the summed axes
sum_p = Primitive(
    "sum",
    _sum,
    vjp=(lambda g, ans, x, axes, keepdims: broadcast_to(_restore(g, x.shape, axes, keepdims), x.shape),),
    jvp=(lambda t, ans, x, axes, keepdims: sum_p(t, axes=axes, keepdims=keepdims),),
    save=("args",),
)


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (all axes by default), like ``np.sum``.

    >>> import chainrule as cr
    >>> cr.sum(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    tensor([4., 6.])
    """
    return sum_p(x, axes=_axes(axis, np.ndim(x)), keepdims=bool(keepdims))


METHODS = {"sum": sum}
