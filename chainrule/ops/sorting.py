"""Order statistics: sort, partition, median, quantile, percentile and their NaN-ignoring versions.

Each is a gather of the input at data-dependent positions (``_gather_p``), so its
gradient flows to the entries the result was read from. Where entries tie, the
positions are those NumPy's stable sort gives (``np.argsort(kind="stable")``):
each output entry takes the gradient of the one input entry it was read from.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.batching import Batched
from ..core.batching_rules import leading
from ..core.primitive import Primitive
from ..core.shapes import cast, shape_of
from ..core.state import live_tangents
from ..core.tensor import Tensor
from ..extend import nondifferentiable
from .axes import _normalize_axes, _normalize_axis
from .elementwise import isnan
from .reduce import sum as _sum
from .shape import expand_dims, moveaxis, reshape, transpose

__all__ = ["sort", "partition", "median", "quantile", "percentile", "nanmedian", "nanquantile", "nanpercentile"]

TIE_RULE = ("at a tie in sort, partition or a quantile, the permutation of NumPy's stable sort decides which entry "
            "each output reads (its gradient goes there)")


# ---- the gather along the last axis and its transpose (a scatter-add) --------------
def _gather(x, idx, perm=False):
    return np.take_along_axis(x, idx, axis=-1)


def _scatter(g, idx, n, perm=False):
    out = np.zeros(g.shape[:-1] + (n,), dtype=g.dtype)
    if perm:  # each position named once (a sort's permutation): a plain write, twice as fast as add.at
        np.put_along_axis(out, idx, g, axis=-1)
        return out
    lead = np.indices(g.shape[:-1], sparse=True) if g.ndim > 1 else ()
    np.add.at(out, tuple(i[..., None] for i in lead) + (idx,), g)
    return out


# out[..., j] = x[..., idx[..., j]]; x and idx have the same leading shape
gather_p = Primitive(
    "_gather_last",
    _gather,
    vjp=(lambda g, ans, x, idx, perm=False: scatter_p(g, idx, n=shape_of(x)[-1], perm=perm), None),
    jvp=(lambda t, ans, x, idx, perm=False: gather_p(t, idx, perm=perm), None),
    save=("args",),
    batch=leading,
    vjp_formulas=("scatter_add({g})", ""),
    convention=TIE_RULE,
)
scatter_p = Primitive(
    "_scatter_last",
    _scatter,
    vjp=(lambda g, ans, x, idx, n, perm=False: gather_p(g, idx, perm=perm), None),
    jvp=(lambda t, ans, x, idx, n, perm=False: scatter_p(t, idx, n=n, perm=perm), None),
    save=("args",),
    batch=leading,
)
argsort_p = nondifferentiable("_argsort_last", lambda x: np.argsort(x, axis=-1, kind="stable"), batch=leading)
argpartition_p = nondifferentiable(
    "_argpartition_last", lambda x, kth: np.argpartition(x, kth, axis=-1), batch=leading
)


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Sorted copy of ``a`` along ``axis`` (None: flattened), like ``np.sort``; differentiable.

    Tied entries: each output reads the entry NumPy's stable sort puts there, and its gradient goes to it.

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    >>> (cr.sort(x) * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    >>> x.grad
    tensor([100.,   1.,  10.])
    """
    if order is not None:
        raise TypeError("sort: order= (structured arrays) is not supported on Tensors")
    if axis is None:
        a, axis = reshape(a, -1), 0
    shape = shape_of(a)
    if not shape:
        raise np.exceptions.AxisError("sort: axis is out of bounds for a 0-d array")
    ax = _normalize_axis("sort", axis, shape)
    if ax == len(shape) - 1:
        return gather_p(a, argsort_p(a), perm=True)
    x = moveaxis(a, ax, -1)
    return moveaxis(gather_p(x, argsort_p(x), perm=True), -1, ax)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``a`` rearranged so that the entry at ``kth`` is the one a sort puts there, the smaller ones before it
    and the others after, like ``np.partition`` (the same arrangement); differentiable.

    >>> import chainrule as cr
    >>> cr.partition(cr.tensor([3.0, 1.0, 2.0]), 1)[1]
    tensor(2.)
    """
    if order is not None:
        raise TypeError("partition: order= (structured arrays) is not supported on Tensors")
    if axis is None:
        a, axis = reshape(a, -1), 0
    shape = shape_of(a)
    ax = _normalize_axis("partition", axis, shape)
    kth = tuple(np.atleast_1d(np.asarray(kth.data if isinstance(kth, Tensor) else kth)).tolist())
    if ax == len(shape) - 1:
        return gather_p(a, argpartition_p(a, kth=kth), perm=True)
    x = moveaxis(a, ax, -1)
    return moveaxis(gather_p(x, argpartition_p(x, kth=kth), perm=True), -1, ax)


# ---- quantiles ----------------------------------------------------------------------
METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _plan(s, q, method, skipnan, which):
    """For sorted rows ``s`` (..., n; NaN last): the two positions (which=0) or their weights (which=1) that each
    quantile reads, (..., len(q) * 2). A row holding NaN (all NaN when ``skipnan``) reads its first NaN, with
    weight 0."""
    nan = np.isnan(s)
    n_all = s.shape[-1]
    count = n_all - nan.sum(axis=-1, keepdims=True) if skipnan else np.full(s.shape[:-1] + (1,), n_all)
    pos = (count - 1) * np.asarray(q, dtype=np.float64)  # (..., K)
    lo = np.maximum(np.minimum(np.floor(pos), count - 2), 0)  # at q = 1, the last segment (its slope in q)
    hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
    frac = pos - lo
    if method == "lower":
        lo, frac = np.floor(pos), np.zeros_like(frac)
        hi = lo
    elif method == "higher":
        lo, frac = np.ceil(pos), np.zeros_like(frac)
        hi = lo
    elif method == "nearest":
        lo, frac = np.around(pos), np.zeros_like(frac)
        hi = lo
    elif method == "midpoint":
        lo, hi = np.floor(pos), np.ceil(pos)
        frac = np.where(hi == lo, 0.0, 0.5)
    bad = (count == 0) if skipnan else nan.any(axis=-1, keepdims=True)
    first_nan = np.argmax(nan, axis=-1)[..., None]
    lo = np.where(bad, first_nan, lo)
    hi = np.where(bad, first_nan, hi)
    if which == 0:
        out = np.stack([lo, hi], axis=-1).astype(np.intp)
    else:
        # weight 0 on the NaN a bad row reads: the result is NaN (0 · NaN) and no gradient reaches the row
        w = np.where(bad[..., None], 0.0, np.stack([1 - frac, frac], axis=-1))
        out = w.astype(s.dtype if s.dtype.kind == "f" else np.float64)
    return out.reshape(s.shape[:-1] + (-1,))


plan_index_p = nondifferentiable("_quantile_index", lambda s, q, method, skipnan: _plan(s, q, method, skipnan, 0),
                                 batch=leading)
plan_weight_p = nondifferentiable("_quantile_weight", lambda s, q, method, skipnan: _plan(s, q, method, skipnan, 1),
                                  batch=leading)


def _to_last(a, axes):
    """``a`` with ``axes`` moved last and flattened into one, and the kept shape."""
    shape = shape_of(a)
    keep = [i for i in range(len(shape)) if i not in axes]
    kept = tuple([shape[i] for i in keep])
    perm = tuple(keep) + tuple(axes)
    x = a if perm == tuple(range(len(shape))) else transpose(a, axes=perm)
    flat = kept + (math.prod([shape[i] for i in axes]),)
    return (x if flat == tuple(shape) else reshape(x, flat)), kept


def _quantile(op, a, q, axis, method, keepdims, skipnan, interpolation=None, weights=None):
    if weights is not None:
        raise NotImplementedError(f"{op}: weights= is not supported on Tensors")
    if interpolation is not None:
        method = interpolation
    if method not in METHODS:
        raise NotImplementedError(f"{op}: method={method!r} is not supported; chainrule offers {', '.join(METHODS)}")
    q_traced = q if isinstance(q, Tensor) and _traced(q) else None
    if isinstance(q, Batched):
        raise TypeError(f"{op}: q cannot be batched by vmap (the positions it reads depend on its value); "
                        f"map over the data only, or loop over q")
    q = np.asarray(q.data if isinstance(q, Tensor) else q, dtype=np.float64)
    if np.any(q < 0) or np.any(q > 1) or np.isnan(q).any():
        raise ValueError(f"{op}: quantiles must be in the range [0, 1]" if "perc" not in op
                         else f"{op}: percentiles must be in the range [0, 100]")
    shape = shape_of(a)
    axes = _normalize_axes(op, axis, shape)
    if math.prod([shape[i] for i in axes]) == 0:
        raise ValueError(f"{op}: the reduced axes are empty")
    x, kept = _to_last(a, axes)
    s = gather_p(x, argsort_p(x), perm=True)  # NaN sorts last
    kw = dict(q=tuple(q.ravel().tolist()), method=method, skipnan=skipnan)
    k = q.size
    picked = reshape(gather_p(s, plan_index_p(s, **kw)), kept + (k, 2))
    w = reshape(plan_weight_p(s, **kw), kept + (k, 2))
    out = _sum(picked * w, axis=-1)  # kept + (k,)
    if q_traced is not None and method == "linear":
        # ∂/∂q of s_lo + (q(n - 1) - lo)(s_hi - s_lo) is (n - 1)(s_hi - s_lo): added as a term whose value is
        # exactly 0 (q - q's value), so only derivatives see it
        n1 = (_sum(cast(~isnan(s), s.dtype), axis=-1, keepdims=True) if skipnan else shape_of(s)[-1]) - 1
        out = out + (reshape(q_traced, (k,)) - q.ravel().astype(out.dtype)) * n1 * (picked[..., 1] - picked[..., 0])
    out = reshape(out, kept + q.shape)
    out = moveaxis(out, tuple(range(len(kept), len(kept) + q.ndim)), tuple(range(q.ndim))) if q.ndim else out
    if keepdims:
        out = expand_dims(out, tuple([q.ndim + i for i in axes]))
    return out


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None,
             interpolation=None):
    """The ``q``-th quantiles over ``axis``, like ``np.quantile``; differentiable in ``a`` and in ``q``.

    Methods: linear (the default), lower, higher, nearest, midpoint. A slice holding NaN gives NaN. In ``q`` the
    linear method's slope is that of the segment q falls in (where q(n - 1) is a whole number, the one above it;
    at q = 1 the last); the other methods are piecewise constant in q (derivative 0). ``q`` cannot be batched by
    ``vmap`` (the positions read depend on its value).

    >>> import chainrule as cr
    >>> x = cr.tensor([4.0, 1.0, 3.0, 2.0], requires_grad=True)
    >>> cr.quantile(x, 0.5).backward()  # the mean of the two middle values
    >>> x.grad
    tensor([0. , 0. , 0.5, 0.5])
    """
    _no_out(out, "quantile")
    return _quantile("quantile", a, q, axis, method, keepdims, False, interpolation, weights)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None,
               interpolation=None):
    """The ``q``-th percentiles over ``axis``, like ``np.percentile``: ``quantile`` at ``q / 100``.

    >>> import chainrule as cr
    >>> cr.percentile(cr.tensor([1.0, 2.0, 3.0]), 25)
    tensor(1.5)
    """
    _no_out(out, "percentile")
    return _quantile("percentile", a, _hundredth(q), axis, method, keepdims, False, interpolation, weights)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median over ``axis``, like ``np.median``; of an even count, the mean of the two middle values (each gets
    half the gradient); ties follow the stable sort.

    >>> import chainrule as cr
    >>> cr.median(cr.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]]), axis=1)
    tensor([2., 3.])
    """
    _no_out(out, "median")
    return _quantile("median", a, 0.5, axis, "linear", keepdims, False)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None,
                interpolation=None):
    """``quantile`` ignoring NaN entries (an all-NaN slice gives NaN), like ``np.nanquantile``; NaN entries get
    gradient 0.

    >>> import numpy as np, chainrule as cr
    >>> cr.nanquantile(cr.tensor([1.0, np.nan, 3.0]), 0.5)
    tensor(2.)
    """
    _no_out(out, "nanquantile")
    return _quantile("nanquantile", a, q, axis, method, keepdims, True, interpolation, weights)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None,
                  interpolation=None):
    """``percentile`` ignoring NaN entries, like ``np.nanpercentile``.

    >>> import numpy as np, chainrule as cr
    >>> cr.nanpercentile(cr.tensor([1.0, np.nan, 3.0]), 100)
    tensor(3.)
    """
    _no_out(out, "nanpercentile")
    return _quantile("nanpercentile", a, _hundredth(q), axis, method, keepdims, True, interpolation, weights)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """``median`` ignoring NaN entries, like ``np.nanmedian``.

    >>> import numpy as np, chainrule as cr
    >>> cr.nanmedian(cr.tensor([1.0, np.nan, 3.0, 2.0]))
    tensor(2.)
    """
    _no_out(out, "nanmedian")
    return _quantile("nanmedian", a, 0.5, axis, "linear", keepdims, True)


def _hundredth(q):
    return q / 100 if isinstance(q, Tensor) else np.true_divide(np.asarray(q, dtype=np.float64), 100)


def _traced(t):
    """Whether ``t`` carries a derivative: on the graph, requiring grad, with live tangents or batched."""
    return isinstance(t, Batched) or t.requires_grad or t._node is not None or live_tangents(t._fw) is not None


def _no_out(out, op):
    if out is not None:
        raise TypeError(f"{op}(..., out=...): chainrule cannot write into an existing array; assign the result")

