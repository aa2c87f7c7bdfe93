"""Shape primitives: reshape, transpose, swapaxes, moveaxis, expand_dims, squeeze, flip, repeat, tile, broadcast_to."""

from __future__ import annotations

import numpy as np

from ..core.batching_rules import axis_rule, shift
from ..core.primitive import apply
from ..core.shapes import broadcast_to as _broadcast_to, reshape_p, shape_of
from ..core.tensor import Tensor
from ..extend import linear
from .axes import _ALL, _INT, _REV, _index, _inverse, _normalize_axes, _normalize_axis

__all__ = ["reshape", "ravel", "flatten", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze", "flip",
           "repeat", "tile", "broadcast_to", "atleast_1d", "atleast_2d", "atleast_3d"]

# Every primitive here is linear, so each declares only its transpose (``linear``):
# the jvp is the primitive itself. None saves its input: what a transpose needs
# (a shape, a permutation, the repeat counts) rides in the static keywords.


_AXIS = axis_rule("axis")  # batched, a static axis shifts by one


# ---- reshape, flatten, ravel -----------------------------------------------------
# reshape_p is declared in core (core/shapes.py): the batching rules need it to align ranks


def reshape(x, *args, shape=None, order="C"):
    """Reshape like ``np.reshape`` (one ``-1`` allowed): ``cr.reshape(x, (2, 3))``, ``t.reshape(2, 3)``.

    >>> import chainrule as cr
    >>> cr.reshape(cr.tensor([1.0, 2.0, 3.0, 4.0]), (2, -1)).shape
    (2, 2)
    """
    if args:
        shape = args[0] if len(args) == 1 and not isinstance(args[0], _INT) else args
    elif shape is None:
        raise TypeError("reshape: missing the new shape")
    if order != "C":
        raise NotImplementedError(f"reshape: only order='C' is supported, got order={order!r}")
    try:
        shape = (_index(shape),) if isinstance(shape, _INT) else tuple([_index(s) for s in shape])
    except TypeError:
        raise TypeError(f"reshape: the new shape must be integers, got {shape!r}") from None
    return reshape_p(x, shape=shape, in_shape=shape_of(x))


def ravel(x, order="C"):
    """The entries as a 1-D Tensor, like ``np.ravel`` (also ``t.ravel()`` and ``t.flatten()``).

    >>> import chainrule as cr
    >>> cr.ravel(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([1., 2., 3., 4.])
    """
    if order != "C":
        raise NotImplementedError(f"ravel: only order='C' is supported, got order={order!r}")
    return reshape_p(x, shape=(-1,), in_shape=shape_of(x))


flatten = ravel


# ---- permutations of the axes ----------------------------------------------------
def _transpose(x, axes):
    return np.transpose(x, axes)


def _transpose_batch(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, axes=(0,) + shift(tuple(kw["axes"]))))


def _transpose_args(kw, shapes):
    # the shown call: the default (reversed axes) reads transpose(x)
    return [] if kw["axes"] == tuple(range(len(kw["axes"])))[::-1] else [(None, kw["axes"])]


# the adjoint of permuting axes is the inverse permutation
transpose_p = linear(
    "transpose",
    _transpose,
    lambda g, x, axes: transpose_p(g, axes=_inverse(axes)),
    batch=_transpose_batch,
    vjp_formulas=("transpose({g})",),
    call_args=_transpose_args,
)


def transpose(x, *args, axes=None):
    """Permute the axes (reverse them by default), like ``np.transpose``; also ``t.transpose(1, 0, 2)``.

    >>> import chainrule as cr
    >>> cr.transpose(cr.ones((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    if args:
        axes = args[0] if len(args) == 1 and not isinstance(args[0], _INT) else args
    shape = shape_of(x)
    nd = len(shape)
    if axes is None:
        return transpose_p(x, axes=_REV[nd])
    try:
        perm = tuple([_index(a) for a in axes])
    except TypeError:
        raise TypeError(f"transpose: axes must be a sequence of integers, got {axes!r}") from None
    norm = tuple([a + nd if a < 0 else a for a in perm])
    if sorted(norm) != list(_ALL[nd]):
        raise ValueError(
            f"transpose: axes {perm} is not a permutation of the {nd} axes of an array of shape {tuple(shape)}"
        )
    return transpose_p(x, axes=norm)


def T(x):
    """All axes reversed, like NumPy's ``a.T`` (bound as the ``Tensor.T`` property); 0-d and 1-d are unchanged.

    >>> import chainrule as cr
    >>> cr.ones((2, 3)).T.shape
    (3, 2)
    """
    nd = len(shape_of(x))
    return x if nd < 2 else transpose_p(x, axes=_REV[nd])


def swapaxes(x, axis1, axis2):
    """Interchange two axes, like ``np.swapaxes``.

    >>> import chainrule as cr
    >>> cr.swapaxes(cr.ones((2, 3, 4)), 0, -1).shape
    (4, 3, 2)
    """
    shape = shape_of(x)
    a = _normalize_axis("swapaxes", axis1, shape)
    b = _normalize_axis("swapaxes", axis2, shape)
    perm = list(_ALL[len(shape)])
    perm[a], perm[b] = b, a
    return transpose_p(x, axes=tuple(perm))


def moveaxis(x, source, destination):
    """Move axes to new positions, the others keeping their order, like ``np.moveaxis``.

    >>> import chainrule as cr
    >>> cr.moveaxis(cr.ones((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    shape = shape_of(x)
    src = [source] if isinstance(source, _INT) else list(source)
    dst = [destination] if isinstance(destination, _INT) else list(destination)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source!r} and destination {destination!r} differ in length")
    src = [_normalize_axis("moveaxis", a, shape) for a in src]
    dst = [_normalize_axis("moveaxis", a, shape) for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"moveaxis: repeated axis in source {source!r} or destination {destination!r}")
    order = [a for a in range(len(shape)) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose_p(x, axes=tuple(order))


# ---- unit axes -------------------------------------------------------------------
def _expand_dims(x, axis):
    shape = list(np.shape(x))
    for a in axis:  # ascending, so each position is final when inserted
        shape.insert(a, 1)
    return np.reshape(x, shape)


def _squeeze(x, axis):
    return np.squeeze(x, axis=axis)


# inserting unit axes and removing them are each other's adjoint
expand_dims_p = linear("expand_dims", _expand_dims, lambda g, x, axis: squeeze_p(g, axis=axis), batch=_AXIS)
squeeze_p = linear("squeeze", _squeeze, lambda g, x, axis: expand_dims_p(g, axis=axis), batch=_AXIS)


def expand_dims(x, axis):
    """Insert unit axes at the positions ``axis`` (an int or a tuple) of the result, like ``np.expand_dims``.

    >>> import chainrule as cr
    >>> cr.expand_dims(cr.ones((2, 3)), (0, -1)).shape
    (1, 2, 3, 1)
    """
    shape = shape_of(x)
    if axis is None:
        raise TypeError("expand_dims: axis must be an integer or a tuple of integers, not None")
    added = 1 if isinstance(axis, _INT) else len(axis)
    return expand_dims_p(x, axis=_normalize_axes("expand_dims", axis, shape, len(shape) + added))


def squeeze(x, axis=None):
    """Remove unit axes (all of them, or those in ``axis``), like ``np.squeeze``.

    >>> import chainrule as cr
    >>> cr.squeeze(cr.ones((1, 3, 1)), axis=0).shape
    (3, 1)
    """
    shape = shape_of(x)
    if axis is None:
        axis = tuple([i for i, s in enumerate(shape) if s == 1])
    elif not shape and isinstance(axis, _INT) and axis in (0, -1):  # NumPy's legacy rule for 0-d arrays
        axis = ()
    else:
        axis = _normalize_axes("squeeze", axis, shape)
        for a in axis:
            if shape[a] != 1:
                raise ValueError(
                    f"squeeze: cannot squeeze axis {a} of an array of shape {tuple(shape)}: its size is "
                    f"{shape[a]}, not 1"
                )
    return squeeze_p(x, axis=axis)


# ---- flip, repeat, tile, broadcast_to ---------------------------------------------
def _flip(x, axis):
    return np.flip(x, axis)


flip_p = linear("flip", _flip, lambda g, x, axis: flip_p(g, axis=axis), batch=_AXIS)  # a reversal is its own adjoint


def flip(x, axis=None):
    """Reverse the order of entries along ``axis`` (all axes by default), like ``np.flip``.

    >>> import chainrule as cr
    >>> cr.flip(cr.tensor([1.0, 2.0, 3.0]))
    tensor([3., 2., 1.])
    """
    shape = shape_of(x)
    return flip_p(x, axis=_normalize_axes("flip", axis, shape))


def _repeat(x, repeats, axis):
    return np.repeat(x, repeats, axis)


def _sum_repeats(g, repeats, axis):
    """Sum each run of copies made by ``repeat``: an int (all runs equal) or one count per entry."""
    shape = g.shape
    if type(repeats) is int:
        return g.reshape(shape[:axis] + (shape[axis] // repeats, repeats) + shape[axis + 1 :]).sum(axis=axis + 1)
    reps = np.asarray(repeats)
    starts = np.concatenate(([0], np.cumsum(reps)[:-1]))
    full = reps > 0
    if full.all():
        return np.add.reduceat(g, starts, axis=axis)
    out = np.zeros(shape[:axis] + (len(reps),) + shape[axis + 1 :], g.dtype)
    if full.any():  # entries repeated 0 times get 0
        out[(slice(None),) * axis + (np.flatnonzero(full),)] = np.add.reduceat(g, starts[full], axis=axis)
    return out


# each entry was copied repeats times: its adjoint sums the copies (and the adjoint of that sum copies)
repeat_p = linear(
    "repeat",
    _repeat,
    lambda g, x, repeats, axis: sum_repeats_p(g, repeats=repeats, axis=axis),
    batch=_AXIS,
    call_args=lambda kw, shapes: [(None, kw["repeats"])] + [(k, v) for k, v in kw.items() if k != "repeats"],
)
sum_repeats_p = linear(
    "_sum_repeats", _sum_repeats, lambda g, x, repeats, axis: repeat_p(g, repeats=repeats, axis=axis),
    batch=_AXIS,
)


def repeat(x, repeats, axis=None):
    """Repeat each entry ``repeats`` times (an int, or one count per entry) along ``axis``, like ``np.repeat``.

    ``axis=None`` flattens first.

    >>> import chainrule as cr
    >>> cr.repeat(cr.tensor([1.0, 2.0]), [1, 2])
    tensor([1., 2., 2.])
    """
    if axis is None:
        x = ravel(x)
        axis = 0
    shape = shape_of(x)
    ax = _normalize_axis("repeat", axis, shape)
    reps = [_index(repeats)] if isinstance(repeats, _INT) else [_index(r) for r in np.ravel(np.asarray(repeats))]
    if len(reps) != 1 and len(reps) != shape[ax]:
        raise ValueError(
            f"repeat: repeats has {len(reps)} entries but axis {ax} of shape {tuple(shape)} has length {shape[ax]}"
        )
    if min(reps, default=0) < 0:
        raise ValueError(f"repeat: repeats must be non-negative, got {repeats!r}")
    if len(set(reps)) == 1 and reps[0] > 0:
        reps = reps[0]  # one count for all: the adjoint is a reshape and a sum
    else:
        reps = tuple(reps) * (shape[ax] if len(reps) == 1 else 1)
    return repeat_p(x, repeats=reps, axis=ax)


def tile(x, reps):
    """Tile ``x`` ``reps`` times per axis, like ``np.tile`` (a reshape, a broadcast and a reshape).

    >>> import chainrule as cr
    >>> cr.tile(cr.tensor([1.0, 2.0]), 2)
    tensor([1., 2., 1., 2.])
    """
    reps = (_index(reps),) if isinstance(reps, _INT) else tuple([_index(r) for r in reps])
    if min(reps, default=0) < 0:
        raise ValueError(f"tile: reps must be non-negative, got {reps}")
    shape = shape_of(x)
    d = max(len(shape), len(reps))
    s = (1,) * (d - len(shape)) + tuple(shape)
    r = (1,) * (d - len(reps)) + reps
    spread = tuple([v for si in s for v in (1, si)])
    copies = tuple([v for ri, si in zip(r, s) for v in (ri, si)])
    y = _broadcast_to(reshape_p(x, shape=spread, in_shape=shape), copies)
    return reshape_p(y, shape=tuple([ri * si for ri, si in zip(r, s)]), in_shape=copies)


def broadcast_to(x, shape):
    """Broadcast to ``shape`` like ``np.broadcast_to``; the gradient sums over the copies.

    >>> import chainrule as cr
    >>> cr.broadcast_to(cr.tensor([1.0, 2.0]), (3, 2)).shape
    (3, 2)
    """
    shape = (_index(shape),) if isinstance(shape, _INT) else tuple([_index(s) for s in shape])
    return _broadcast_to(x, shape)


def _atleast(arys, nd, new_shape):
    out = []
    for x in arys:
        s = shape_of(x)
        if len(s) >= nd:
            out.append(x if isinstance(x, Tensor) else Tensor(x))
        else:
            out.append(reshape_p(x, shape=new_shape(tuple(s)), in_shape=s))
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*arys):
    """Each input with at least one axis, like ``np.atleast_1d``: ``cr.atleast_1d(cr.tensor(2.0)).shape == (1,)``."""
    return _atleast(arys, 1, lambda s: (1,))


def atleast_2d(*arys):
    """Each input with at least two axes, like ``np.atleast_2d``: (n,) becomes (1, n).

    >>> import chainrule as cr
    >>> cr.atleast_2d(cr.ones(3)).shape
    (1, 3)
    """
    return _atleast(arys, 2, lambda s: (1,) * (2 - len(s)) + s)


def atleast_3d(*arys):
    """Each input with at least three axes, like ``np.atleast_3d``: (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)."""
    return _atleast(arys, 3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])
