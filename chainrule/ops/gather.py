"""take, take_along_axis and put_along_axis: gathers (and a write) along one axis, as getitem (setitem) with an
integer index."""

from __future__ import annotations

import math
import operator

import numpy as np

from ..core.shapes import shape_of
from ..core.tensor import Tensor
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


def _along_key(indices, shape, axis, op):
    """The index of ``np.take_along_axis``/``put_along_axis`` (an arange for every other axis, broadcast against
    the indices, NumPy's own construction), and whether it names every position at most once."""
    ax = _axis(axis, len(shape), op)
    if any(i != n and i != 1 and n != 1 for d, (i, n) in enumerate(zip(indices.shape, shape)) if d != ax):
        raise ValueError(
            f"{op}: indices of shape {indices.shape} do not broadcast against an array of shape {tuple(shape)} "
            f"off axis {ax}"
        )
    key = tuple(
        indices if d == ax else np.arange(n, dtype=np.intp).reshape((1,) * d + (n,) + (1,) * (len(shape) - d - 1))
        for d, n in enumerate(shape)
    )
    # one index per row along the axis, on axes not stretched from 1, names each position once
    unique = indices.shape[ax] == 1 and all(n != 1 or i == 1 for i, n in zip(indices.shape, shape))
    return key, unique


def take_along_axis(a, indices, axis):
    """Pick ``a``'s entries at ``indices`` along ``axis`` (the other axes match), like ``np.take_along_axis``.

    The gather behind ``nll_loss``: the label's log-probability in each row.

    >>> import chainrule as cr
    >>> from chainrule.ops.gather import take_along_axis
    >>> logp = cr.tensor([[-0.1, -2.0], [-1.5, -0.3]])
    >>> take_along_axis(logp, cr.tensor([[0], [1]]), axis=1)
    tensor([[-0.1],
            [-0.3]])
    """
    indices = _int_indices(indices, "take_along_axis")
    if axis is None:
        if indices.ndim != 1:
            raise ValueError(f"take_along_axis: with axis=None the indices must be 1-D, got shape {indices.shape}")
        if len(shape_of(a)) != 1:
            a = _reshape(a, -1)
        axis = 0
    shape = shape_of(a)
    if indices.ndim != len(shape):
        raise ValueError(
            f"take_along_axis: indices and a must have the same number of dimensions, got shapes "
            f"{indices.shape} and {shape}"
        )
    key, unique = _along_key(indices, shape, axis, "take_along_axis")
    return getitem_p(a, index=Index(key, tuple(shape), True, unique=unique))


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
        if indices.ndim != len(shape):
            raise ValueError(
                f"put_along_axis: indices and arr must have the same number of dimensions, got shapes "
                f"{indices.shape} and {shape}"
            )
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
