"""Rearranging entries, composed of differentiable primitives: roll, rot90, fliplr, flipud, append, insert, delete,
diff, select."""

from __future__ import annotations

import math

import numpy as np

from ..core.shapes import broadcast_to as _broadcast_to, cast, shape_of
from ..core.tensor import Tensor
from .axes import _index, _normalize_axis
from .elementwise import where as _where
from .indexing import Index, getitem_p
from .join import _window, concatenate, crop_p
from .shape import flip, ravel, reshape, transpose

__all__ = ["roll", "rot90", "fliplr", "flipud", "append", "insert", "delete", "diff", "select"]

# Nothing here is a primitive of its own: each function is a composition of linear primitives (crop,
# concatenate, flip, transpose, a gather) or of where, so their rules, batching and second order are
# those of the parts, and no new rule can be wrong.


def _values(x):
    """A Tensor stays; anything else becomes an ndarray (for its shape and dtype)."""
    return x if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x)


def _piece(x, axis, start, stop):
    """``x[start:stop]`` along ``axis`` (0 <= start <= stop <= length), recorded as a crop."""
    shape = shape_of(x)
    return crop_p(x, pad_width=_window(len(shape), axis, start, shape[axis] - stop))


# ---- roll -----------------------------------------------------------------------------
def roll(a, shift, axis=None):
    """Shift entries cyclically by ``shift`` along ``axis`` (the flattened array when None), like ``np.roll``.

    ``shift`` and ``axis`` may be sequences (broadcast against each other); shifts of one axis add up.

    >>> import chainrule as cr
    >>> cr.roll(cr.tensor([1.0, 2.0, 3.0, 4.0]), 1)
    tensor([4., 1., 2., 3.])
    """
    a = _values(a)
    shape = shape_of(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), tuple(shape))
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    if shifts.dtype.kind not in "iu" or axes.dtype.kind not in "iu":
        raise TypeError(f"roll: shift and axis must be integers, got shift={shift!r}, axis={axis!r}")
    total = {}
    for s, ax in zip(shifts.ravel().tolist(), axes.ravel().tolist()):
        ax = _normalize_axis("roll", ax, shape)
        total[ax] = total.get(ax, 0) + s
    out = a
    for ax, s in total.items():
        n = shape[ax]
        s = s % n if n else 0
        # the last s entries move to the front
        out = concatenate([_piece(out, ax, n - s, n), _piece(out, ax, 0, n - s)], axis=ax) if s else out
    return out if out is not a else flip(a, ())  # a new Tensor even when nothing moves, as np.roll copies


# ---- rot90, fliplr, flipud ------------------------------------------------------------
def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (from the first towards the second), like
    ``np.rot90``.

    >>> import chainrule as cr
    >>> cr.rot90(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[2., 4.],
            [1., 3.]])
    """
    m = _values(m)
    nd = len(shape_of(m))
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError(f"rot90: len(axes) must be 2, got axes={axes!r}")
    a0, a1 = (_normalize_axis("rot90", a, shape_of(m)) for a in axes)
    if a0 == a1:
        raise ValueError(f"rot90: axes must be different, got axes={axes!r} for an array of {nd} dimensions")
    k = _index(k) % 4
    if k == 0:
        return flip(m, ())
    if k == 2:
        return flip(m, (a0, a1))
    perm = list(range(nd))
    perm[a0], perm[a1] = a1, a0
    return transpose(flip(m, a1), perm) if k == 1 else flip(transpose(m, perm), a1)


def fliplr(m):
    """Reverse the order of the columns (axis 1), like ``np.fliplr``; needs at least 2 axes.

    >>> import chainrule as cr
    >>> cr.fliplr(cr.tensor([[1.0, 2.0]]))
    tensor([[2., 1.]])
    """
    m = _values(m)
    if len(shape_of(m)) < 2:
        raise ValueError(f"fliplr: the input must have at least 2 dimensions, got shape {tuple(shape_of(m))}")
    return flip(m, 1)


def flipud(m):
    """Reverse the order of the rows (axis 0), like ``np.flipud``; needs at least 1 axis.

    >>> import chainrule as cr
    >>> cr.flipud(cr.tensor([1.0, 2.0]))
    tensor([2., 1.])
    """
    m = _values(m)
    if len(shape_of(m)) < 1:
        raise ValueError("flipud: the input must have at least 1 dimension, got a 0-d array")
    return flip(m, 0)


# ---- append, insert, delete -----------------------------------------------------------
def append(arr, values, axis=None):
    """``arr`` with ``values`` added at the end of ``axis`` (both flattened when None), like ``np.append``.

    >>> import chainrule as cr
    >>> cr.append(cr.tensor([1.0, 2.0]), [[3.0]])
    tensor([1., 2., 3.])
    """
    arr, values = _values(arr), _values(values)
    if axis is None:
        arr, values = ravel(arr), ravel(values)
        axis = 0
    return concatenate((arr, values), axis=axis)


def _gather_flat(source, ids, unique):
    """``ravel(source)[ids]`` as one recorded gather (ids: an integer array of the result's shape)."""
    flat = ravel(source)
    ids = np.asarray(ids, dtype=np.intp)
    return getitem_p(flat, index=Index((ids,), tuple(shape_of(flat)), True, unique=unique))


def _obj(obj):
    return obj.data if isinstance(obj, Tensor) else obj


def insert(arr, obj, values, axis=None):
    """``arr`` with ``values`` inserted before the index or indices ``obj`` along ``axis`` (the flattened array
    when None), like ``np.insert``; differentiable in both ``arr`` and ``values``.

    NumPy's own ``np.insert`` decides where each entry goes (run on entry numbers); the result is one gather from
    ``arr`` and ``values``, so a value broadcast to several places gets the sum of their gradients.

    >>> import chainrule as cr
    >>> cr.insert(cr.tensor([1.0, 2.0, 3.0]), 1, 9.0)
    tensor([1., 9., 2., 3.])
    """
    arr, values = _values(arr), _values(values)
    shape, vshape = tuple(shape_of(arr)), tuple(shape_of(values))
    if values.dtype != arr.dtype:  # NumPy casts the values to arr's dtype
        values = cast(values, arr.dtype) if isinstance(values, Tensor) else values.astype(arr.dtype)
    size = math.prod(shape)
    ids = np.arange(size, dtype=np.intp).reshape(shape)
    vids = -1 - np.arange(math.prod(vshape), dtype=np.intp).reshape(vshape)  # values' entries, as negatives
    placed = np.insert(ids, _obj(obj), vids, axis=axis)
    source = concatenate([ravel(arr), ravel(values)])
    return _gather_flat(source, np.where(placed >= 0, placed, size - 1 - placed), False)


def delete(arr, obj, axis=None):
    """``arr`` without the entries at the index or indices ``obj`` along ``axis`` (of the flattened array when
    None), like ``np.delete``; ``obj`` may also be a slice or a boolean mask.

    >>> import chainrule as cr
    >>> cr.delete(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), 0, axis=1)
    tensor([[2.],
            [4.]])
    """
    arr = _values(arr)
    shape = tuple(shape_of(arr))
    kept = np.delete(np.arange(math.prod(shape), dtype=np.intp).reshape(shape), _obj(obj), axis=axis)
    return _gather_flat(arr, kept, True)


# ---- diff -----------------------------------------------------------------------------
def _edge(v, shape, axis, dtype):
    """``prepend``/``append`` of ``diff``: a scalar is broadcast to one slice along ``axis``."""
    if isinstance(v, (int, float)) and dtype.kind in "fc":
        v = np.asarray(v, dtype=dtype)  # a Python number takes a's dtype (NumPy would make float32 input float64)
    v = _values(v)
    if not shape_of(v):
        return _broadcast_to(v, tuple(shape[:axis]) + (1,) + tuple(shape[axis + 1:]))
    return v


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """The ``n``-th forward difference ``a[i+1] - a[i]`` along ``axis``, like ``np.diff`` (``prepend`` and
    ``append`` are joined to ``a`` first; they are differentiable too).

    >>> import chainrule as cr
    >>> cr.diff(cr.tensor([1.0, 4.0, 9.0, 16.0]), n=2)
    tensor([2., 2.])
    """
    a = _values(a)
    n = _index(n)
    if n < 0:
        raise ValueError(f"diff: order must be non-negative, got n={n}")
    shape = shape_of(a)
    if not shape:
        raise ValueError("diff: requires an input with at least one dimension, got a 0-d array")
    ax = _normalize_axis("diff", axis, shape)
    if n == 0:
        return a
    parts = ([] if prepend is np._NoValue else [_edge(prepend, shape, ax, a.dtype)]) + [a]
    parts += [] if append is np._NoValue else [_edge(append, shape, ax, a.dtype)]
    if len(parts) > 1:
        a = concatenate(parts, axis=ax)
    for _ in range(n):
        length = shape_of(a)[ax]
        if length == 0:
            break
        a = _piece(a, ax, 1, length) - _piece(a, ax, 0, length - 1)
    return a


# ---- select ---------------------------------------------------------------------------
def select(condlist, choicelist, default=0):
    """From ``choicelist``, the entry of the first choice whose condition holds (else ``default``), like
    ``np.select``; differentiable in the choices and the default.

    >>> import chainrule as cr
    >>> x = cr.tensor([-1.0, 0.5, 2.0])
    >>> cr.select([x < 0, x > 1], [-x, x * 10], default=x)
    tensor([ 1. ,  0.5, 20. ])
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: list of cases must be same length as list of conditions, got {len(choicelist)} "
                         f"choices and {len(condlist)} conditions")
    if not condlist:
        raise ValueError("select: select with an empty condition list is not possible")
    out = default  # a Python scalar stays weak, as in NumPy: float32 choices give float32
    for i in range(len(condlist) - 1, -1, -1):  # the first condition that holds wins: apply it last
        cond = _obj(condlist[i])
        cond = np.asarray(cond)
        if cond.dtype != np.bool_:
            raise TypeError(f"select: invalid entry {i} in condlist: should be boolean ndarray, got {cond.dtype}")
        out = _where(cond, choicelist[i], out)
    return out if isinstance(out, Tensor) else Tensor(out)

