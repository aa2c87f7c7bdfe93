"""take, take_along_axis and put_along_axis: gathers (and a write) along one axis, as getitem (setitem) with an
integer index."""

from __future__ import annotations

import math
import operator

import numpy as np

from ..core.batching import Batched, make, to_level
from ..core.shapes import shape_of
from ..core.tensor import Tensor
from ..core.writes import rebind
from .assign import index_update_p, setitem
from .indexing import _FULL, Index, _fit, _normalise, getitem, getitem_p
from .shape import reshape as _reshape

__all__ = ["take", "take_along_axis", "put_along_axis"]


def _axis(axis, ndim, op):
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an integer or None, got {type(axis).__name__}") from None
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(f"{op}: axis {a} is out of bounds for an array of dimension {ndim}")
    return a % ndim


def _int_indices(indices, op):
    if isinstance(indices, Tensor):
        indices = indices.data
    indices = np.array(indices)  # a copy: the node keeps it for backward, the caller may change theirs
    if indices.dtype.kind not in "iu":
        if indices.size == 0:
            return indices.astype(np.intp)
        raise IndexError(f"{op}: indices must be integers, got dtype {indices.dtype}")
    return indices


def take(a, indices, axis=None):
    """Entries of ``a`` at ``indices`` along ``axis`` (of the flattened ``a`` when None), like ``np.take``.

    >>> import chainrule as cr
    >>> from chainrule.ops.gather import take
    >>> take(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 1], axis=1)
    tensor([[2., 2.],
            [4., 4.]])
    """
    indices = _int_indices(indices, "take")
    ndim = len(shape_of(a))
    if axis is None:
        if ndim != 1:
            a = _reshape(a, -1)
        return getitem(a, indices)
    return getitem(a, (_FULL,) * _axis(axis, ndim, "take") + (indices,))


def _check_along(ishape, shape, axis, op):
    """``axis`` normalised, once ``ishape`` is known to broadcast against ``shape`` off ``axis``."""
    if len(ishape) != len(shape):
        raise ValueError(
            f"{op}: indices and {'a' if op == 'take_along_axis' else 'arr'} must have the same number of "
            f"dimensions, got shapes {tuple(ishape)} and {tuple(shape)}"
        )
    ax = _axis(axis, len(shape), op)
    if any(i != n and i != 1 and n != 1 for d, (i, n) in enumerate(zip(ishape, shape)) if d != ax):
        raise ValueError(
            f"{op}: indices of shape {tuple(ishape)} do not broadcast against an array of shape {tuple(shape)} "
            f"off axis {ax}"
        )
    return ax


def _along_key(indices, shape, axis, op):
    """The index of ``np.take_along_axis``/``put_along_axis`` (an arange for every other axis, broadcast against
    the indices, NumPy's own construction), and whether it names every position at most once."""
    ax = _check_along(indices.shape, shape, axis, op)
    key = tuple(
        indices if d == ax else np.arange(n, dtype=np.intp).reshape((1,) * d + (n,) + (1,) * (len(shape) - d - 1))
        for d, n in enumerate(shape)
    )
    # one index per row along the axis, on axes not stretched from 1, names each position once
    unique = indices.shape[ax] == 1 and all(n != 1 or i == 1 for i, n in zip(indices.shape, shape))
    return key, unique


def _flat_along(a, indices, op):
    """``axis=None``: ``a`` flattened, checked against 1-D indices."""
    if len(shape_of(indices)) != 1:
        raise ValueError(f"{op}: with axis=None the indices must be 1-D, got shape {tuple(shape_of(indices))}")
    return a if len(shape_of(a)) == 1 else _reshape(a, -1)


def _batched_int(indices, op):
    if indices.dtype.kind not in "iu":
        raise IndexError(f"{op}: indices must be integers, got dtype {indices.dtype}")
    return indices


def take_along_axis(a, indices, axis):
    """Pick ``a``'s entries at ``indices`` along ``axis`` (the other axes match), like ``np.take_along_axis``.

    The gather behind ``nll_loss``: the label's log-probability in each row. Inside ``vmap`` the indices may
    be batched too (per-example indices): the whole batch is one gather.

    >>> import chainrule as cr
    >>> from chainrule.ops.gather import take_along_axis
    >>> logp = cr.tensor([[-0.1, -2.0], [-1.5, -0.3]])
    >>> take_along_axis(logp, cr.tensor([[0], [1]]), axis=1)
    tensor([[-0.1],
            [-0.3]])
    """
    if type(indices) is not Batched:
        indices = _int_indices(indices, "take_along_axis")
    if axis is None:
        a, axis = _flat_along(a, indices, "take_along_axis"), 0
    shape = shape_of(a)
    ax = _check_along(shape_of(indices), shape, axis, "take_along_axis")
    if type(indices) is Batched:
        return _take_along_batched(a, _batched_int(indices, "take_along_axis"), ax)
    key, unique = _along_key(indices, shape, ax, "take_along_axis")
    return getitem_p(a, index=Index(key, tuple(shape), True, unique=unique))


def _take_along_batched(a, indices, ax):
    """``take_along_axis`` inside vmap with per-example ``indices``: the batch axis becomes one more axis of
    the gather (``ax + 1``), level by level, so each example reads its own indices in one ``getitem``."""
    if type(a) is Batched and a.level > indices.level:  # a has the outer level: the indices are shared there
        return make(take_along_axis(a.val, to_level(indices, a.level), ax + 1), a.level)
    top = indices.level
    if type(a) is Batched and a.level == top:
        return make(take_along_axis(a.val, indices.val, ax + 1), top)
    if type(indices.val) is Batched:  # batched at an inner level too: give a the batch axis, then recurse
        return make(take_along_axis(to_level(a, top), indices.val, ax + 1), top)
    # a shared by the batch: gather straight from it (no copy per example), with the batch axis in front
    idx = _int_indices(indices.val, "take_along_axis")  # (n, *index shape)
    shape = tuple(shape_of(a))
    k = len(shape)
    key = tuple(
        idx if d == ax else np.arange(m, dtype=np.intp).reshape((1,) * (d + 1) + (m,) + (1,) * (k - d - 1))
        for d, m in enumerate(shape)
    )
    return make(getitem_p(a, index=Index(key, shape, True)), top)  # examples may share entries: not unique


def put_along_axis(arr, indices, values, axis, inplace=True):
    """Write ``values`` into ``arr`` at ``indices`` along ``axis``, like ``np.put_along_axis`` (``axis=None``: of
    the flattened ``arr``); differentiable in ``arr`` and ``values``.

    By default, as NumPy, ``arr`` (a Tensor) is written in place (through ``t[...] = v``, which records the
    write) and None is returned; ``inplace=False`` leaves ``arr`` alone and returns the new Tensor, as
    ``jax.numpy.put_along_axis(..., inplace=False)``. Where an index repeats, the last write wins (NumPy's
    assignment), and only it gets a gradient.

    >>> import chainrule as cr
    >>> from chainrule.ops.gather import put_along_axis
    >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> put_along_axis(x, cr.tensor([[1], [0]]), 0.0, axis=1, inplace=False)
    tensor([[1., 0.],
            [0., 4.]], grad_fn=<index_update>)
    """
    if type(indices) is Batched:
        return _put_along_batched(arr, _batched_int(indices, "put_along_axis"), values, axis, inplace)
    indices = _int_indices(indices, "put_along_axis")
    shape = tuple(shape_of(arr))
    if axis is None:
        if indices.ndim != 1:
            raise ValueError(f"put_along_axis: with axis=None the indices must be 1-D, got shape {indices.shape}")
        size = math.prod(shape)
        if indices.size and not (-size <= indices.min() and indices.max() < size):
            raise IndexError(f"put_along_axis: an index is out of bounds for an array of {size} entries")
        key, unique = np.unravel_index(indices % max(size, 1), shape), False
    else:
        key, unique = _along_key(indices, shape, axis, "put_along_axis")
    if inplace:
        if not isinstance(arr, Tensor):
            raise TypeError("put_along_axis: writing a Tensor into an ndarray in place would drop its graph; "
                            "pass inplace=False for the result as a new Tensor")
        setitem(arr, key, values)
        return None
    index = _normalise(key, shape, "put_along_axis")
    index.unique = unique
    return index_update_p(arr if isinstance(arr, Tensor) else Tensor(arr), _fit(values, index, "put_along_axis"),
                          index=index)


def _put_along_batched(arr, indices, values, axis, inplace):
    """``put_along_axis`` inside vmap with per-example ``indices``: the batch axis becomes one more axis of the
    write (``ax + 1``) at the outermost batched level among the operands, recursing through inner ones."""
    if inplace and not isinstance(arr, Tensor):
        raise TypeError("put_along_axis: writing a Tensor into an ndarray in place would drop its graph; "
                        "pass inplace=False for the result as a new Tensor")
    shape = tuple(shape_of(arr))
    target = _reshape(arr, -1) if axis is None and len(shape) != 1 else arr
    if axis is None:
        _flat_along(target, indices, "put_along_axis")
        axis = 0
    ishape, tshape = shape_of(indices), shape_of(target)
    ax = _check_along(ishape, tshape, axis, "put_along_axis")
    out_shape = tuple(i if d == ax else max(i, n) for d, (i, n) in enumerate(zip(ishape, tshape)))
    vshape = shape_of(values)
    extra = len(vshape) - len(out_shape)
    if extra > 0 and all(m == 1 for m in vshape[:extra]):  # NumPy accepts (1, 3) into (3,)
        values, vshape = _reshape(values, vshape[extra:]), vshape[extra:]
    try:
        fits = np.broadcast_shapes(vshape, out_shape) == out_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"put_along_axis: cannot write a value of shape {vshape} into the indexed part of shape "
                         f"{out_shape} (of an array of shape {tshape})")
    top = max(v.level for v in (target, indices, values) if type(v) is Batched)
    if type(values) is Batched and values.level == top:  # (n, *vshape) aligned to (n, *out_shape)
        values = to_level(values, top)
        values = _reshape(values, (shape_of(values)[0],) + (1,) * (len(out_shape) - len(vshape)) + tuple(vshape))
    new = make(put_along_axis(to_level(target, top), to_level(indices, top), values, ax + 1, inplace=False), top)
    if target is not arr:
        new = _reshape(new, shape)
    if inplace:
        rebind(arr, new, "put_along_axis")
        return None
    return new
