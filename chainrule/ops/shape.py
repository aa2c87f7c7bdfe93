"""Shape primitives: reshape, transpose, expand_dims, squeeze, concatenate, stack, crop/split, pad, flip, repeat."""

from __future__ import annotations

import itertools
import operator

import numpy as np

from ..core.primitive import Primitive
from ..core.shapes import broadcast_to as _broadcast_to
from ..core.tensor import Tensor
from ..extend import linear

# Every primitive here is linear, so each declares only its transpose (``linear``):
# the jvp is the primitive itself. None saves its input: what a transpose needs
# (a shape, a permutation, the pad widths) rides in the static keywords.

_index = operator.index
_INT = (int, np.integer)
_ALL = tuple(tuple(range(n)) for n in range(65))  # NumPy arrays have at most 64 axes
_REV = tuple(tuple(range(n - 1, -1, -1)) for n in range(65))


# ---- argument normalisation, shared with reduce.py -------------------------------
def _shape_of(x):
    """The shape of a Tensor, ndarray, scalar or nested list (no conversion, no NumPy dispatch)."""
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


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


def _window(ndim, axis, before, after):
    """Pad widths that are zero on every axis but ``axis``."""
    return ((0, 0),) * axis + ((before, after),) + ((0, 0),) * (ndim - axis - 1)


# ---- reshape, flatten, ravel -----------------------------------------------------
def _reshape(x, shape, in_shape):
    return np.reshape(x, shape)


# the adjoint of a reshape is the reshape back (to the static in_shape: x is not kept)
reshape_p = linear("reshape", _reshape, lambda g, x, shape, in_shape: reshape_p(g, shape=in_shape, in_shape=g.shape))


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
    return reshape_p(x, shape=shape, in_shape=_shape_of(x))


def ravel(x, order="C"):
    """The entries as a 1-D Tensor, like ``np.ravel`` (also ``t.ravel()`` and ``t.flatten()``).

    >>> import chainrule as cr
    >>> cr.ravel(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([1., 2., 3., 4.])
    """
    if order != "C":
        raise NotImplementedError(f"ravel: only order='C' is supported, got order={order!r}")
    return reshape_p(x, shape=(-1,), in_shape=_shape_of(x))


flatten = ravel


# ---- permutations of the axes ----------------------------------------------------
def _transpose(x, axes):
    return np.transpose(x, axes)


# the adjoint of permuting axes is the inverse permutation
transpose_p = linear("transpose", _transpose, lambda g, x, axes: transpose_p(g, axes=_inverse(axes)))


def transpose(x, *args, axes=None):
    """Permute the axes (reverse them by default), like ``np.transpose``; also ``t.transpose(1, 0, 2)``.

    >>> import chainrule as cr
    >>> cr.transpose(cr.ones((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    if args:
        axes = args[0] if len(args) == 1 and not isinstance(args[0], _INT) else args
    shape = _shape_of(x)
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
    nd = len(_shape_of(x))
    return x if nd < 2 else transpose_p(x, axes=_REV[nd])


def swapaxes(x, axis1, axis2):
    """Interchange two axes, like ``np.swapaxes``.

    >>> import chainrule as cr
    >>> cr.swapaxes(cr.ones((2, 3, 4)), 0, -1).shape
    (4, 3, 2)
    """
    shape = _shape_of(x)
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
    shape = _shape_of(x)
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
expand_dims_p = linear("expand_dims", _expand_dims, lambda g, x, axis: squeeze_p(g, axis=axis))
squeeze_p = linear("squeeze", _squeeze, lambda g, x, axis: expand_dims_p(g, axis=axis))


def expand_dims(x, axis):
    """Insert unit axes at the positions ``axis`` (an int or a tuple) of the result, like ``np.expand_dims``.

    >>> import chainrule as cr
    >>> cr.expand_dims(cr.ones((2, 3)), (0, -1)).shape
    (1, 2, 3, 1)
    """
    shape = _shape_of(x)
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
    shape = _shape_of(x)
    if axis is None:
        axis = tuple([i for i, s in enumerate(shape) if s == 1])
    elif not shape and isinstance(axis, _INT) and axis in (0, -1):  # NumPy's legacy rule for 0-d arrays
        axis = ()
    else:
        axis = _normalize_axes("squeeze", axis, shape)
        for a in axis:
            if shape[a] != 1:
                raise ValueError(
                    f"squeeze: cannot squeeze axis {a} of an array of shape {tuple(shape)}: its size is {shape[a]}, not 1"
                )
    return squeeze_p(x, axis=axis)


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
)


def _shapes_text(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


def _dtype_casting(op, arrays, out, dtype, casting):
    """NumPy's ``out=`` (refused) and ``dtype=`` (each input cast first, as ``casting`` allows)."""
    if out is not None:
        raise TypeError(f"{op}(..., out=...): chainrule cannot write into an existing array or Tensor; "
                        f"assign the result instead")
    if dtype is None:
        return arrays
    from ..core.shapes import cast

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
    arrays = tuple(arrays)
    if not arrays:
        raise ValueError("concatenate: need at least one array to concatenate")
    if out is not None or dtype is not None:
        arrays = _dtype_casting("concatenate", arrays, out, dtype, casting)
    if axis is None:
        arrays = tuple([ravel(a) for a in arrays])
        axis = 0
    shapes = [_shape_of(a) for a in arrays]
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
    arrays = tuple(arrays)
    if not arrays:
        raise ValueError("stack: need at least one array to stack")
    if out is not None or dtype is not None:
        arrays = _dtype_casting("stack", arrays, out, dtype, casting)
    shapes = [_shape_of(a) for a in arrays]
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
    return concatenate(arrs, axis=0 if len(_shape_of(arrs[0])) == 1 else 1, dtype=dtype, casting=casting)


def vstack(tup, *, dtype=None, casting="same_kind"):
    """Join arrays row-wise (1-D ones become rows), like ``np.vstack``.

    >>> import chainrule as cr
    >>> cr.vstack([cr.ones(3), cr.zeros((2, 3))]).shape
    (3, 3)
    """
    return concatenate(_each(_sequence("vstack", tup), 2), axis=0, dtype=dtype, casting=casting)


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
        s = _shape_of(a)
        cols.append(reshape_p(a, shape=(s[0] if s else 1, 1), in_shape=s) if len(s) < 2 else a)
    return concatenate(cols, axis=1)


# ---- splitting: crop is pad's transpose ------------------------------------------
def _crop(x, pad_width):
    x = np.asarray(x)
    return x[tuple([slice(b, n - a) for (b, a), n in zip(pad_width, x.shape)])]


# crop drops pad_width[i] entries from both ends of axis i; its adjoint pads ḡ with zeros
crop_p = linear(
    "crop", _crop, lambda g, x, pad_width: pad_p(g, pad_width=pad_width, mode="constant", constant_values=0)
)


def _split(op, x, sections, axis, equal):
    shape = _shape_of(x)
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
    shape = _shape_of(x)
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


# ---- flip, repeat, tile, broadcast_to ---------------------------------------------
def _flip(x, axis):
    return np.flip(x, axis)


flip_p = linear("flip", _flip, lambda g, x, axis: flip_p(g, axis=axis))  # a reversal is its own adjoint


def flip(x, axis=None):
    """Reverse the order of entries along ``axis`` (all axes by default), like ``np.flip``.

    >>> import chainrule as cr
    >>> cr.flip(cr.tensor([1.0, 2.0, 3.0]))
    tensor([3., 2., 1.])
    """
    shape = _shape_of(x)
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
repeat_p = linear("repeat", _repeat, lambda g, x, repeats, axis: sum_repeats_p(g, repeats=repeats, axis=axis))
sum_repeats_p = linear(
    "_sum_repeats", _sum_repeats, lambda g, x, repeats, axis: repeat_p(g, repeats=repeats, axis=axis)
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
    shape = _shape_of(x)
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
    shape = _shape_of(x)
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
        s = _shape_of(x)
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


# Tensor methods (the lead binds them); T is bound as the property Tensor.T.
METHODS = {
    "reshape": reshape,
    "transpose": transpose,
    "swapaxes": swapaxes,
    "squeeze": squeeze,
    "flatten": flatten,
    "ravel": ravel,
    "repeat": repeat,
    "T": property(T),
}
