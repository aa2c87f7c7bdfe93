"""Indexing: t[idx] (basic and advanced) and its transpose scatter_add (t[idx] = v: assign.py; take: gather.py)."""

from __future__ import annotations

import math

import numpy as np

from ..core.batching import Batched, level_size, make, moveaxis, stack, take, to_level
from ..core.primitive import Primitive, apply
from ..core.shapes import broadcast_to as _broadcast_to
from ..core.shapes import shape_of
from ..core.tensor import Tensor
from .shape import reshape as _reshape
from .shape import transpose

__all__ = ["scatter_add"]

_FULL = slice(None)
_ndarray = np.ndarray


class Index:
    """A static, normalised index for an array of ``shape``; it rides in the primitives' keywords.

    ``key``: ints, slices, None, 0-d booleans and integer ndarrays (Ellipsis
    expanded; lists and Tensors made ndarrays; boolean masks replaced by their
    ``nonzero()``, which is how NumPy defines ``x[mask]``). ``shape`` lets the
    rules scatter back without saving x. ``unique``: the key cannot repeat a
    position, so scattering is plain assignment. The scatter plan is cached.
    """

    __slots__ = ("key", "shape", "advanced", "unique", "_plan", "_out_shape", "_winners")

    def __init__(self, key, shape, advanced, unique=False):
        self.key = key
        self.shape = shape
        self.advanced = advanced
        self.unique = unique  # True when the key is known to name every position at most once
        self._plan = None
        self._out_shape = None
        self._winners = None

    @property
    def out_shape(self):
        """The shape of ``x[key]`` (indexing a stride-0 view: no array of x's size is made)."""
        if self._out_shape is None:
            self._out_shape = np.broadcast_to(np.empty((), np.bool_), self.shape)[self.key].shape
        return self._out_shape

    def __repr__(self):
        def show(e):
            if type(e) is slice:
                parts = ["" if p is None else str(p) for p in (e.start, e.stop, e.step)]
                return ":".join(parts if e.step is not None else parts[:2])
            return np.array2string(e, separator=",", threshold=8) if type(e) is _ndarray else repr(e)

        return "[" + ", ".join(show(e) for e in self.key) + "]"


# ---- normalising an index ----------------------------------------------------------
def _entry(e, op):
    """One index entry as int, slice, None, Ellipsis, bool (a 0-d mask) or integer/boolean ndarray."""
    if e is None or e is Ellipsis or type(e) is slice or type(e) is int:
        return e
    if isinstance(e, Tensor):
        e = e.data
    if isinstance(e, (bool, np.bool_)):  # before int: bool is an int subclass
        return bool(e)
    if isinstance(e, (int, np.integer)):
        return int(e)
    if isinstance(e, (list, tuple)):
        e = np.asarray(e) if len(e) else np.zeros(0, np.intp)  # NumPy reads x[[]] as an empty int index
    elif isinstance(e, _ndarray) and e.ndim:
        # NOTE: a copy: the node keeps the index for its backward pass, and the caller may change theirs
        e = e.copy()
    if isinstance(e, _ndarray):
        if e.dtype == np.bool_:
            return e if e.ndim else bool(e)
        if e.dtype.kind in "iu":
            return e if e.ndim else int(e)  # NumPy treats a 0-d integer array as an integer
        raise IndexError(f"{op}: arrays used as indices must be of integer or boolean type, got dtype {e.dtype}")
    raise IndexError(
        f"{op}: only integers, slices (`:`), ellipsis (`...`), None (np.newaxis) and integer or boolean "
        f"arrays are valid indices; got {type(e).__name__} {e!r}"
    )


def _normalise(index, shape, op):
    """The Index for ``x[index]`` with ``x.shape == shape``; errors name ``op`` and the shape."""
    shape = tuple(shape)
    if type(index) is int or type(index) is slice:  # the common case, x[i] and x[a:b]
        return Index((index,), shape, False)
    key = [_entry(e, op) for e in (index if type(index) is tuple else (index,))]
    consumed = 0
    ellipsis = None
    for i, e in enumerate(key):
        if e is Ellipsis:
            if ellipsis is not None:
                raise IndexError(f"{op}: an index can only have a single ellipsis ('...')")
            ellipsis = i
        elif type(e) is _ndarray and e.dtype == np.bool_:
            consumed += e.ndim
        elif e is not None and type(e) is not bool:
            consumed += 1
    if consumed > len(shape):
        raise IndexError(
            f"{op}: too many indices for an array of shape {shape}: it is {len(shape)}-dimensional, "
            f"but {consumed} were indexed"
        )
    if ellipsis is not None:
        key[ellipsis : ellipsis + 1] = [_FULL] * (len(shape) - consumed)
    out = []
    dim = 0
    masks = others = 0  # boolean masks, other advanced entries
    for e in key:
        if type(e) is _ndarray:
            if e.dtype == np.bool_:
                covered = shape[dim : dim + e.ndim]
                if e.shape != covered:
                    raise IndexError(
                        f"{op}: boolean index of shape {e.shape} does not match the axes {covered} it "
                        f"indexes (array shape {shape})"
                    )
                out.extend(np.nonzero(e))
                dim += e.ndim
                masks += 1
                continue
            dim += 1
            others += 1
        elif type(e) is bool:
            others += 1
        elif e is not None:
            dim += 1
        out.append(e)
    # one mask alone names each position once: its scatter is a plain assignment
    return Index(tuple(out), shape, bool(masks or others), unique=masks == 1 and not others)


# ---- scatter-add: assignment where no position repeats, np.bincount where one may -----------------
def _is_full(e):
    return type(e) is slice and e.start is None and e.stop is None and e.step in (None, 1)


def _block(index):
    """``(head, lead, block)``: the key without its trailing whole axes, x's leading shape, the block size.

    Trailing axes the key keeps whole (``:`` or not mentioned) form a contiguous
    ``block`` in every row: x is viewed as ``(prod(lead), block)``.
    """
    key, shape = index.key, index.shape
    k = len(shape) - sum(1 for e in key if e is not None and type(e) is not bool)
    j = len(key)
    while j and _is_full(key[j - 1]):
        j -= 1
        k += 1
    return key[:j], shape[: len(shape) - k], math.prod(shape[len(shape) - k :])


def _plan(index):
    """``[nlead, block, rows, repeats]`` for an advanced index, cached on the Index.

    ``rows`` holds, for every row of the result, the flat row of x it came
    from: the key indexes stride-0 views of ``arange(n_d) * stride_d`` (one
    per leading axis) and the parts are added, so NumPy's own rules place the
    advanced axes, at O(result rows) cost. The last entry is filled by _rows_repeat.
    """
    if index._plan is None:
        head, lead, block = _block(index)
        rows = None
        stride = 1
        for d in range(len(lead) - 1, -1, -1):
            coord = (np.arange(lead[d], dtype=np.intp) * stride).reshape((lead[d],) + (1,) * (len(lead) - 1 - d))
            part = np.broadcast_to(coord, lead)[head]
            rows = (part if part.flags.writeable else part.copy()) if rows is None else np.add(rows, part, out=rows)
            stride *= lead[d]
        if rows is None:  # no leading axes: only None / 0-d masks in the head
            rows = np.zeros((), np.intp)[head]
        index._plan = [math.prod(lead), block, rows.reshape(-1), None]
    return index._plan


def _rows_repeat(plan):
    """Whether some row of x is indexed more than once (cached on the plan)."""
    if plan[3] is None:
        nlead, _, rows, _ = plan
        plan[3] = bool(rows.size > 1 and np.bincount(rows, minlength=nlead).max() > 1)
    return plan[3]


def _bincount(flat, w, size):
    """``zeros(size)`` with ``w[k]`` added at ``flat[k]``: np.bincount, faster than np.add.at.

    bincount sums in float64 (then cast back: float32 stays float32, and is summed more
    accurately); complex values are summed as two real halves.
    """
    if w.dtype.kind == "c":
        return _bincount(flat, w.real, size) + 1j * _bincount(flat, w.imag, size)
    return np.bincount(flat, weights=w.reshape(-1), minlength=size).astype(w.dtype, copy=False)


def _scatter_add(g, index):
    """zeros(index.shape) with ``g`` added at ``index.key``, repeated positions accumulating.

    Assignment where no position can repeat (basic indexing, distinct rows); otherwise
    ``np.bincount`` over the flat positions of every element. Both beat ``np.add.at`` by far
    (the timings: docs/performance.md).
    """
    g = np.asarray(g)
    if index.advanced and not index.unique:
        nlead, block, rows, _ = plan = _plan(index)
        if block == 1:
            return _bincount(rows, g, nlead).reshape(index.shape)
        g2 = g.reshape(rows.size, block)
        if _rows_repeat(plan):
            flat = (rows[:, None] * block + np.arange(block, dtype=np.intp)).reshape(-1)
            return _bincount(flat, g2, nlead * block).reshape(index.shape)
        out = np.zeros(index.shape, dtype=g.dtype)
        out.reshape(nlead, block)[rows] = g2
        return out
    out = np.zeros(index.shape, dtype=g.dtype)
    out[index.key] = g  # basic indexing, or one mask alone, never repeats a position
    return out


def _getitem(x, index):
    return x[index.key]


# ---- batching: the batch axis is a leading full slice ----------------------------------
def _batch_position(key):
    """Where NumPy puts the batch axis of ``x[(:,) + key]``: 0, unless the advanced indices are split up."""
    if not any(type(e) is _ndarray or type(e) is bool for e in key):
        return 0
    adv = [i for i, e in enumerate(key) if type(e) is _ndarray or type(e) is bool or type(e) is int]
    if adv == list(range(adv[0], adv[-1] + 1)):
        return 0
    shapes = [key[i].shape if type(key[i]) is _ndarray else (((1,) if key[i] else (0,)) if type(key[i]) is bool else ())
              for i in adv]
    return len(np.broadcast_shapes(*shapes))


def _batched_index(index, size):
    return Index((slice(None),) + tuple(index.key), (size,) + tuple(index.shape), index.advanced), _batch_position(
        index.key
    )


def _getitem_batch(prim, vals, bat, kw, size):
    index, p = _batched_index(kw["index"], size)
    return moveaxis(apply(prim, vals, dict(kw, index=index)), p, 0)


def _scatter_add_batch(prim, vals, bat, kw, size):
    index, p = _batched_index(kw["index"], size)
    return apply(prim, (moveaxis(vals[0], 0, p),), dict(kw, index=index))



def _index_text(index):
    """An index as NumPy syntax in brackets: ``[0]``, ``[1:3]``, ``[[0,2]]``, ``[0, :]``."""
    text = repr(index)  # the Index object shows itself as NumPy syntax, "[0, 1:3]"
    return text if text.startswith("[") else f"[{text}]"


def _getitem_notation(operands, kw, values, call):
    if "index" not in kw:
        return None
    shown = [o for o in operands if o is not None]
    return (shown[0] if shown else "getitem") + _index_text(kw["index"])


# getitem and scatter_add are a linear pair: each one's vjp is the other, and each one's jvp is itself.
getitem_p = Primitive(
    "getitem",
    _getitem,
    vjp=(lambda g, ans, x, index: scatter_add_p(g, index=index),),  # x̄ = ḡ added back at the indexed places
    jvp=(lambda t, ans, x, index: getitem_p(t, index=index),),
    save=(),
    batch=_getitem_batch,
    vjp_formulas=("scatter({g})",),
    notation=_getitem_notation,
)
scatter_add_p = Primitive(
    "scatter_add",
    _scatter_add,
    vjp=(lambda g, ans, v, index: getitem_p(g, index=index),),  # the transpose of a scatter is a gather
    jvp=(lambda t, ans, v, index: scatter_add_p(t, index=index),),
    save=(),
    batch=_scatter_add_batch,
)


# ---- public functions ---------------------------------------------------------------
def getitem(x, index):
    """``x[index]`` with NumPy's basic and advanced indexing; this is ``Tensor.__getitem__``.

    Gradients of repeated integer indices accumulate.

    >>> import chainrule as cr
    >>> from chainrule.ops.indexing import getitem
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> getitem(x, [0, 0, 2]).sum().backward()
    >>> x.grad
    tensor([2., 0., 1.])
    """
    if type(index) is Batched or (type(index) is tuple and any(type(e) is Batched for e in index)):
        return _getitem_batched_index(x, index)
    return getitem_p(x, index=_normalise(index, shape_of(x), "getitem"))


def _is_adv(e):
    return type(e) is Batched or isinstance(e, (int, np.integer, list, np.ndarray, Tensor)) and e is not None


def _getitem_batched_index(x, index):
    """``x[index]`` inside vmap where an index entry is itself batched (per-example labels, ``logits[y]``).

    At the top level the batch becomes one more advanced index, ``arange(n)`` on x's batch axis, so
    every example is indexed in one gather; NumPy places the advanced block first when the entries are
    split by a slice, and the logical axes are put back where one example would have them.
    """
    key = list(index) if type(index) is tuple else [index]
    top = max(e.level for e in key + [x] if type(e) is Batched)
    n = level_size(top)
    ndim = len(shape_of(x))
    if Ellipsis in [e for e in key if type(e) is not Batched and not isinstance(e, (Tensor, np.ndarray))]:
        k = next(i for i, e in enumerate(key) if e is Ellipsis)
        used = sum(1 for e in key if e is not None and e is not Ellipsis)
        key[k : k + 1] = [_FULL] * (ndim - used)
    phys = []
    for e in key:
        if type(e) is Batched and e.level == top:
            if e.dtype.kind not in "iu":
                raise IndexError(f"getitem: a batched index inside vmap must hold integers, got dtype {e.dtype}")
            e = e.val
        phys.append(e)
    if any(type(e) is Batched for e in phys):  # batched at a lower level too: one example at a time
        xs = to_level(x, top)
        outs = []
        for i in range(n):
            ki = tuple(take(e, i, 0, n) if type(k) is Batched and k.level == top else k for e, k in zip(phys, key))
            outs.append(getitem(take(xs, i, 0, n), ki))
        return make(stack(outs, 0), top)
    adv = [i for i, e in enumerate(key) if _is_adv(e)]
    logical = np.broadcast_shapes(*[np.shape(e.data if isinstance(e, Tensor) else e) for e in (key[i] for i in adv)])
    for i in adv:
        if type(key[i]) is Batched:  # physical (n, *logical): the batch axis in front of the broadcast block
            arr = np.asarray(phys[i].data)
            phys[i] = arr.reshape((n,) + (1,) * (len(logical) - arr.ndim + 1) + arr.shape[1:])
    block = len(logical) + 1  # with the batch axis
    ar = np.arange(n).reshape((n,) + (1,) * (block - 1))
    out = getitem(to_level(x, top), (ar, *phys))
    contiguous = adv == list(range(adv[0], adv[-1] + 1))
    if contiguous and adv[0] > 0:  # physical (n, block, before, rest) -> (n, before, block, rest)
        before = sum(1 for e in key[: adv[0]])
        nd = len(shape_of(out))
        perm = [0, *range(block, block + before), *range(1, block), *range(block + before, nd)]
        out = transpose(out, tuple(perm))
    return make(out, top)


def scatter_add(values, index, shape):
    """A zero array of ``shape`` with ``values`` added at ``index``; repeated positions accumulate.

    The functional ``np.add.at(np.zeros(shape), index, values)`` (JAX: ``zeros.at[index].add(values)``).

    >>> import chainrule as cr
    >>> from chainrule.ops.indexing import scatter_add
    >>> scatter_add(cr.tensor([1.0, 2.0, 3.0]), [0, 0, 2], (4,))
    tensor([3., 0., 3., 0.])
    """
    idx = _normalise(index, tuple(shape), "scatter_add")
    vshape = shape_of(values)
    if vshape != idx.out_shape:
        values = _broadcast_to(_fit(values, idx, "scatter_add"), idx.out_shape)
    return scatter_add_p(values, index=idx)


def _fit(value, idx, op):
    """``value`` ready to be written at ``idx``: checked to broadcast, extra leading 1-axes dropped."""
    vshape = shape_of(value)
    if not vshape:
        return value
    target = idx.out_shape
    extra = len(vshape) - len(target)
    if extra > 0 and all(s == 1 for s in vshape[:extra]):  # NumPy accepts (1, 3) into (3,)
        value, vshape = _reshape(value, vshape[extra:]), vshape[extra:]
    try:
        ok = np.broadcast_shapes(vshape, target) == target
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{op}: cannot write a value of shape {vshape} into the indexed part of shape {target} "
            f"(of an array of shape {idx.shape})"
        )
    return value
