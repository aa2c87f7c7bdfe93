"""Joining and splitting along an axis, and padding: concatenate, stack (and h/v/d/column_stack), split, pad."""

from __future__ import annotations

import itertools

import numpy as np

from ..core.batching_rules import axis_rule, fallback
from ..core.shapes import cast
from ..core.primitive import Primitive, apply
from ..core.shapes import shape_of
from ..core.tensor import Tensor
from ..extend import linear
from .axes import _INT, _index, _normalize_axis
from .shape import atleast_1d, atleast_2d, atleast_3d, ravel, reshape_p, squeeze_p

__all__ = ["concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack", "split", "array_split",
           "hsplit", "vsplit", "dsplit", "pad"]

# All linear: crop is pad's transpose and the adjoint of every join and split; like the shape
# primitives, none saves its input (what a rule needs rides in the static keywords).


_AXIS = axis_rule("axis")  # batched, a static axis shifts by one


def _joined_notation(operands, kw, values, call):
    # concatenate([a, b]) and stack([a, b]) are called with a list
    return None if None in operands else call([f"[{', '.join(operands)}]"])


def _axis_args(kw, shapes):
    return [] if kw["axis"] == 0 else [("axis", kw["axis"])]


def _pad_args(kw, shapes):
    mode, constant = kw["mode"], kw["constant_values"]
    return ([(None, kw["pad_width"])] + ([] if mode == "constant" else [("mode", mode)])
            + ([] if mode != "constant" or constant == 0 else [("constant_values", constant)]))


def _pad_batch(prim, vals, bat, kw, size):
    # pad and crop: the batch axis is not padded (an array of constant values takes the loop)
    if "constant_values" in kw and np.ndim(kw["constant_values"]) != 0:
        return fallback(prim, vals, bat, kw, size)
    return apply(prim, vals, dict(kw, pad_width=((0, 0),) + tuple(kw["pad_width"])))


def _window(ndim, axis, before, after):
    """Pad widths that are zero on every axis but ``axis``."""
    return ((0, 0),) * axis + ((before, after),) + ((0, 0),) * (ndim - axis - 1)


# ---- joining ---------------------------------------------------------------------
def _concatenate(*arrays, axis, bounds):
    return np.concatenate(arrays, axis=axis)


def _stack(*arrays, axis):
    return np.stack(arrays, axis=axis)


concatenate_p = Primitive(
    "concatenate",
    _concatenate,
    # input i's adjoint is its own window of ḡ: bounds[i]:bounds[i+1] along axis
    vjp=lambda i, g, ans, *args, axis, bounds: crop_p(
        g, pad_width=_window(g.ndim, axis, bounds[i], bounds[-1] - bounds[i + 1])
    ),
    jvp=lambda ts, ans, *args, axis, bounds: concatenate_p(*ts, axis=axis, bounds=bounds),
    joint_jvp=True,
    variadic=True,
    save=(),
    batch=_AXIS,
    call_args=_axis_args,
    notation=_joined_notation,
)
stack_p = Primitive(
    "stack",
    _stack,
    # input i's adjoint is slice i of ḡ along the new axis
    vjp=lambda i, g, ans, *args, axis: squeeze_p(
        crop_p(g, pad_width=_window(g.ndim, axis, i, len(args) - 1 - i)), axis=(axis,)
    ),
    jvp=lambda ts, ans, *args, axis: stack_p(*ts, axis=axis),
    joint_jvp=True,
    variadic=True,
    save=(),
    batch=_AXIS,
    call_args=_axis_args,
    notation=_joined_notation,
)


def _shapes_text(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


def _arrays_in(op, arrays, out, dtype, casting):
    """The arrays to join, as a tuple of at least one, after NumPy's ``out=`` (refused) and ``dtype=`` (each
    input cast first, as ``casting`` allows)."""
    arrays = tuple(arrays)
    if not arrays:
        raise ValueError(f"{op}: need at least one array to {op}")
    if out is not None:
        raise TypeError(f"{op}(..., out=...): chainrule cannot write into an existing array or Tensor; "
                        f"assign the result instead")
    if dtype is None:
        return arrays

    dtype = np.dtype(dtype)
    for a in arrays:
        have = a.dtype if isinstance(a, (Tensor, np.ndarray)) else np.asarray(a).dtype
        if not np.can_cast(have, dtype, casting=casting):
            raise TypeError(
                f"{op}: cannot cast an array from dtype {have} to {dtype} according to the rule {casting!r}"
            )
    return tuple([cast(a, dtype) for a in arrays])


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join a sequence of arrays along an existing axis (``axis=None`` flattens them first), like ``np.concatenate``.

    >>> import chainrule as cr
    >>> cr.concatenate([cr.ones((2, 3)), cr.zeros((1, 3))]).shape
    (3, 3)
    """
    arrays = _arrays_in("concatenate", arrays, out, dtype, casting)
    if axis is None:
        arrays = tuple([ravel(a) for a in arrays])
        axis = 0
    shapes = [shape_of(a) for a in arrays]
    first = shapes[0]
    if not first:
        raise ValueError(f"concatenate: zero-dimensional arrays cannot be concatenated (shapes {_shapes_text(shapes)})")
    ax = _normalize_axis("concatenate", axis, first)
    bounds = [0]
    for s in shapes:
        if len(s) != len(first) or s[:ax] != first[:ax] or s[ax + 1 :] != first[ax + 1 :]:
            raise ValueError(
                f"concatenate: all input shapes must match except along axis {ax}, got shapes {_shapes_text(shapes)}"
            )
        bounds.append(bounds[-1] + s[ax])
    return concatenate_p(*arrays, axis=ax, bounds=tuple(bounds))


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join a sequence of same-shaped arrays along a new axis, like ``np.stack``.

    >>> import chainrule as cr
    >>> cr.stack([cr.ones(3), cr.zeros(3)], axis=1).shape
    (3, 2)
    """
    arrays = _arrays_in("stack", arrays, out, dtype, casting)
    shapes = [shape_of(a) for a in arrays]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all input arrays must have the same shape, got shapes {_shapes_text(shapes)}")
    ax = _normalize_axis("stack", axis, shapes[0], len(shapes[0]) + 1)
    return stack_p(*arrays, axis=ax)


def _each(arys, nd):
    """Every array of ``arys`` with at least ``nd`` axes, as np.atleast_1d/2d/3d give them (always a list)."""
    fn = {1: atleast_1d, 2: atleast_2d, 3: atleast_3d}[nd]
    return [fn(a) for a in arys]


def _sequence(op, tup):
    if isinstance(tup, (Tensor, np.ndarray)):
        raise TypeError(f"{op}: arrays to stack must be passed as a sequence (a list or tuple), not one array")
    tup = tuple(tup)
    if not tup:
        raise ValueError(f"{op}: need at least one array to concatenate")
    return tup


def hstack(tup, *, dtype=None, casting="same_kind"):
    """Join arrays column-wise (along axis 1, or 0 for 1-D ones), like ``np.hstack``.

    >>> import chainrule as cr
    >>> cr.hstack([cr.ones(2), cr.zeros(3)]).shape
    (5,)
    """
    arrs = _each(_sequence("hstack", tup), 1)
    return concatenate(arrs, axis=0 if len(shape_of(arrs[0])) == 1 else 1, dtype=dtype, casting=casting)


def vstack(tup, *, dtype=None, casting="same_kind"):
    """Join arrays row-wise (1-D ones become rows), like ``np.vstack``.

    >>> import chainrule as cr
    >>> cr.vstack([cr.ones(3), cr.zeros((2, 3))]).shape
    (3, 3)
    """
    return concatenate(_each(_sequence("vstack", tup), 2), axis=0, dtype=dtype, casting=casting)


def row_stack(tup, *, dtype=None, casting="same_kind"):
    """``vstack`` under NumPy's older name (deprecated there since NumPy 2.0)."""
    return vstack(tup, dtype=dtype, casting=casting)


def dstack(tup):
    """Join arrays along a third axis, like ``np.dstack``: (m, n) pieces give (m, n, k)."""
    return concatenate(_each(_sequence("dstack", tup), 3), axis=2)


def column_stack(tup):
    """Join 1-D arrays as columns (and 2-D ones as they are), like ``np.column_stack``.

    >>> import chainrule as cr
    >>> cr.column_stack([cr.ones(3), cr.zeros(3)]).shape
    (3, 2)
    """
    cols = []
    for a in _sequence("column_stack", tup):
        s = shape_of(a)
        cols.append(reshape_p(a, shape=(s[0] if s else 1, 1), in_shape=s) if len(s) < 2 else a)
    return concatenate(cols, axis=1)


# ---- splitting: crop is pad's transpose ------------------------------------------
def _crop(x, pad_width):
    x = np.asarray(x)
    return x[tuple([slice(b, n - a) for (b, a), n in zip(pad_width, x.shape)])]


# crop drops pad_width[i] entries from both ends of axis i; its adjoint pads ḡ with zeros
crop_p = linear(
    "crop", _crop, lambda g, x, pad_width: pad_p(g, pad_width=pad_width, mode="constant", constant_values=0),
    batch=_pad_batch,
)


def _split(op, x, sections, axis, equal):
    shape = shape_of(x)
    nd = len(shape)
    ax = _normalize_axis(op, axis, shape)
    n = shape[ax]
    if isinstance(sections, _INT):
        k = int(sections)
        if k <= 0:
            raise ValueError(f"{op}: the number of sections must be larger than 0, got {k}")
        if equal and n % k:
            raise ValueError(
                f"split: array split does not result in an equal division: axis {ax} of shape {tuple(shape)} "
                f"has length {n}, which is not a multiple of {k} (array_split allows unequal sections)"
            )
        each, extra = divmod(n, k)
        stops = [0]
        for i in range(k):
            stops.append(stops[-1] + each + (i < extra))
    else:
        stops = [0] + [_index(i) for i in sections] + [n]
    pieces = []
    for st, en in itertools.pairwise(stops):
        st, en, _ = slice(st, en).indices(n)  # Python slicing, as NumPy's sary[st:en]
        en = max(st, en)
        pieces.append(crop_p(x, pad_width=_window(nd, ax, st, n - en)))
    return pieces


def split(x, indices_or_sections, axis=0):
    """Split into equal sections (an int) or at the given indices, like ``np.split``; returns a list.

    >>> import chainrule as cr
    >>> [p.shape for p in cr.split(cr.ones((6, 2)), [1, 4])]
    [(1, 2), (3, 2), (2, 2)]
    """
    return _split("split", x, indices_or_sections, axis, True)


def array_split(x, indices_or_sections, axis=0):
    """``split`` that allows unequal sections, like ``np.array_split`` (the first ones get one more).

    >>> import chainrule as cr
    >>> [p.shape for p in cr.array_split(cr.ones(5), 3)]
    [(2,), (2,), (1,)]
    """
    return _split("array_split", x, indices_or_sections, axis, False)


def _split_at_least(op, x, indices_or_sections, nd, axis):
    if len(shape_of(x)) < nd:
        raise ValueError(f"{op} only works on arrays of {nd} or more dimensions, got shape {tuple(shape_of(x))}")
    return _split("split", x, indices_or_sections, axis, True)


def hsplit(x, indices_or_sections):
    """``split`` along the columns (axis 1, or 0 for a 1-D array), like ``np.hsplit``.

    >>> import chainrule as cr
    >>> [p.shape for p in cr.hsplit(cr.ones((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    return _split_at_least("hsplit", x, indices_or_sections, 1, 1 if len(shape_of(x)) > 1 else 0)


def vsplit(x, indices_or_sections):
    """``split`` along the rows (axis 0) of an array with at least 2 axes, like ``np.vsplit``.

    >>> import chainrule as cr
    >>> [p.shape for p in cr.vsplit(cr.ones((4, 2)), [1])]
    [(1, 2), (3, 2)]
    """
    return _split_at_least("vsplit", x, indices_or_sections, 2, 0)


def dsplit(x, indices_or_sections):
    """``split`` along the third axis of an array with at least 3 axes, like ``np.dsplit``."""
    return _split_at_least("dsplit", x, indices_or_sections, 3, 2)


# ---- pad -------------------------------------------------------------------------
def _pad(x, pad_width, mode, constant_values):
    x = np.asarray(x)
    if mode == "constant" and np.ndim(constant_values) == 0:  # one allocation, one copy
        out = np.full([n + b + a for n, (b, a) in zip(x.shape, pad_width)], constant_values, dtype=x.dtype)
        out[tuple([slice(b, b + n) for n, (b, _) in zip(x.shape, pad_width)])] = x
        return out
    if mode == "constant":
        return np.pad(x, pad_width, mode="constant", constant_values=constant_values)
    return np.pad(x, pad_width, mode=mode)


def _pad_index(n, before, after, mode):
    """For each entry of an axis padded by ``mode``, the entry of x it copies: NumPy's own pad of an arange.

    np.pad repeats reflections as often as a wide border needs, so this is right for any width.
    """
    return np.pad(np.arange(n, dtype=np.intp), (before, after), mode=mode)


def _pad_fold(g, axis, before, after, mode):
    """The transpose of padding one axis: each entry of x gets the sum of the cotangents of its copies."""
    g = np.asarray(g)
    idx = _pad_index(g.shape[axis] - before - after, before, after, mode)
    order = np.argsort(idx, kind="stable")
    srt = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], srt[1:] != srt[:-1])))  # every entry is copied at least once
    return np.add.reduceat(np.take(g, order, axis=axis), starts, axis=axis)


# folding one axis is linear; its transpose pads that axis again (with the same mode)
pad_fold_p = linear(
    "_pad_fold",
    _pad_fold,
    lambda g, x, axis, before, after, mode: pad_p(
        g, pad_width=_window(g.ndim, axis, before, after), mode=mode, constant_values=0
    ),
    batch=_AXIS,
)


def _pad_vjp(g, ans, x, pad_width, mode, constant_values):
    if mode == "constant":
        return crop_p(g, pad_width=pad_width)  # the border holds constants: x̄ is the centre of ḡ
    # np.pad fills one axis after another (corners come from the axes padded earlier), so
    # the adjoint undoes the axes in reverse order, each by folding the copies back
    for axis in range(len(pad_width) - 1, -1, -1):
        b, a = pad_width[axis]
        if b or a:
            g = pad_fold_p(g, axis=axis, before=b, after=a, mode=mode)
    return g


pad_p = Primitive(
    "pad",
    _pad,
    vjp=(_pad_vjp,),
    # linear in x (the constants are not perturbed)
    jvp=(
        lambda t, ans, x, pad_width, mode, constant_values: pad_p(t, pad_width=pad_width, mode=mode, constant_values=0),
    ),
    save=(),
    batch=_pad_batch,
    call_args=_pad_args,
)

_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode="constant", constant_values=0):
    """Pad with a constant (default 0), or in mode "edge", "reflect", "symmetric" or "wrap", like ``np.pad``.

    ``pad_width`` takes NumPy's forms: ``n``, ``(before, after)`` or one pair per axis. A border
    wider than the axis repeats the pattern, as NumPy's does.

    >>> import chainrule as cr
    >>> cr.pad(cr.tensor([1.0, 2.0]), (1, 2))
    tensor([0., 1., 2., 0., 0.])
    """
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; use one of {', '.join(map(repr, _PAD_MODES))}")
    shape = shape_of(x)
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be integers, got {pad_width!r}")
    try:
        widths = np.broadcast_to(widths, (len(shape), 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit an array of shape {tuple(shape)}") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    pad_width = tuple([(int(b), int(a)) for b, a in widths])
    if mode != "constant":
        for n, (b, a) in zip(shape, pad_width):
            if n == 0 and (b or a):
                raise ValueError(f"pad: cannot extend an empty axis in mode {mode!r} (shape {tuple(shape)}); "
                                 f"use mode='constant'")
    if isinstance(constant_values, Tensor):
        if constant_values.requires_grad:
            raise TypeError("pad: constant_values must be a constant; its gradient is not supported")
        constant_values = constant_values.data
    return pad_p(x, pad_width=pad_width, mode=mode, constant_values=constant_values)
