"""Argument normalisation shared by the families: axes (one or several), permutations."""

from __future__ import annotations

import operator

import numpy as np

__all__ = []  # the families' axis helpers, all private to ops

_index = operator.index
_INT = (int, np.integer)
_ALL = tuple(tuple(range(n)) for n in range(65))  # NumPy arrays have at most 64 axes
_REV = tuple(tuple(range(n - 1, -1, -1)) for n in range(65))


def _normalize_axis(op, axis, shape, ndim=None):
    """One axis as a non-negative int, or an error naming the operation, the axis and the shape."""
    if ndim is None:
        ndim = len(shape)
    try:
        a = _index(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an integer, got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(
            f"{op}: axis {a} is out of bounds for an array of dimension {ndim} (input shape {tuple(shape)})"
        )
    return a + ndim if a < 0 else a


def _normalize_axes(op, axis, shape, ndim=None):
    """``axis`` (None, an int or a sequence of ints) as a sorted tuple of distinct non-negative axes."""
    if ndim is None:
        ndim = len(shape)
    if axis is None:
        return _ALL[ndim]
    if not isinstance(axis, (tuple, list)):
        return (_normalize_axis(op, axis, shape, ndim),)
    out = sorted([_normalize_axis(op, a, shape, ndim) for a in axis])
    for i in range(1, len(out)):
        if out[i] == out[i - 1]:
            raise ValueError(f"{op}: repeated axis in axis={axis!r} (input shape {tuple(shape)})")
    return tuple(out)


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)
