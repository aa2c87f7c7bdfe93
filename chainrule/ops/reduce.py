"""Reductions: sum, mean, prod, max, min, logsumexp, cumsum, and the argument handling every reduction shares."""

from __future__ import annotations

import math
import operator

import numpy as np

from ..core.batching_rules import axis_rule, leading
from ..core.complex_parts import conj_of
from ..core.primitive import Primitive
from ..core.shapes import broadcast_to, cast, shape_of
from ..core.tensor import Tensor
from ..extend import linear, nondifferentiable
from .axes import _inverse, _normalize_axes, _normalize_axis
from .elementwise import exp, maximum, minimum, where
from .join import stack
from .shape import expand_dims_p, flip_p, ravel, reshape_p, transpose_p

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "logsumexp", "cumsum"]

# Every reduction takes static ``axis`` (a sorted tuple of non-negative axes,
# normalised once by the wrapper) and ``keepdims``; batched, the axes shift by one.
_AXIS = axis_rule("axis")
_AXIS_SHAPE = axis_rule("axis", shape_keys=("shape",))


def _reduction_args(kw, shapes):
    """The public arguments of a reduction's call (``cr.explain``, graph pictures): ``axis`` left out when
    it covers every axis (NumPy's axis=None), ``keepdims`` and ``ddof`` when default."""
    out = []
    axis = kw.get("axis", kw.get("axes"))
    if axis is not None and not (shapes[0] is not None and tuple(axis) == tuple(range(len(shapes[0])))):
        out.append(("axis", axis[0] if isinstance(axis, tuple) and len(axis) == 1 else axis))
    if kw.get("keepdims"):
        out.append(("keepdims", True))
    if kw.get("ddof"):
        out.append(("ddof", kw["ddof"]))
    return out


def _restore(g, axis, keepdims):
    """``g`` with the reduced axes put back as size 1, so it broadcasts against the input."""
    return g if keepdims or not axis else expand_dims_p(g, axis=axis)


def _count(shape, axis):
    return math.prod([shape[a] for a in axis])


def _sum_k(y, axis, keepdims):
    """sum inside rules (``y`` is a Tensor or an ndarray)."""
    return sum_p(y, axis=axis, keepdims=keepdims, shape=y.shape)


_NoValue = np._NoValue
E_where = where  # for the functions whose where= keyword (NumPy's) shadows it


def _dtype_out(op, x, dtype, out):
    """NumPy's ``dtype=`` (a cast first: differentiable to float dtypes) and ``out=`` (refused)."""
    if out is not None:
        raise TypeError(
            f"{op}(..., out=...): chainrule cannot write into an existing array or Tensor; "
            f"assign the result instead (y = {op}(...))"
        )
    return x if dtype is None else cast(x, dtype)


def _ufunc_axes(op, axis, shape):
    """``_normalize_axes`` with NumPy's legacy rule for ufunc reductions: on a 0-d array an integer axis
    0 or -1 means no axis (``np.sum(np.float64(1), axis=0)`` works; ``mean``/``var``/``std`` refuse it)."""
    if not shape and axis is not None and not isinstance(axis, (tuple, list)):
        try:
            a = operator.index(axis)
        except TypeError:
            raise TypeError(f"{op}: axis must be an integer, got {axis!r}") from None
        if a in (0, -1):
            return ()
    return _normalize_axes(op, axis, shape)


def _reduced(op, a, axis, dtype, out, ufunc=True):
    """A reduction's input after NumPy's ``dtype=`` and ``out=`` (``_dtype_out``), its shape, and ``axis``
    normalised (with the ufunc rule for 0-d inputs unless ``ufunc`` is false: mean, var and std refuse it)."""
    a = _stacked(a)
    if dtype is not None or out is not None:
        a = _dtype_out(op, a, dtype, out)
    shape = shape_of(a)
    return a, shape, (_ufunc_axes if ufunc else _normalize_axes)(op, axis, shape)


def _holds_tensor(a):
    return isinstance(a, Tensor) or (isinstance(a, (list, tuple)) and any(_holds_tensor(o) for o in a))


def _stacked(a):
    """A list or tuple holding Tensors (``cr.mean([x, y])``) as one Tensor on the graph, nested as NumPy
    would nest it: reducing the values NumPy makes of it would drop the graph."""
    if isinstance(a, (list, tuple)) and _holds_tensor(a):
        return stack([_stacked(o) for o in a])
    return a


def _mask(op, where, shape):
    """A ``where=`` mask as a boolean ndarray of ``shape`` (NumPy broadcasts it against the input)."""
    w = where.data if isinstance(where, Tensor) else np.asarray(where)
    if w.dtype != np.bool_:
        raise TypeError(f"{op}: where= must be a boolean array, got dtype {w.dtype}")
    try:
        return np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(
            f"{op}: where= of shape {w.shape} cannot be broadcast to the input's shape {tuple(shape)}"
        ) from None


def _initial(x, initial):
    """``initial`` in the result's dtype, so float32 stays float32 (a Tensor stays a Tensor)."""
    if isinstance(initial, Tensor):
        return initial
    dt = x.dtype if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x).dtype
    return np.asarray(initial, dtype=dt if dt.kind in "fc" else None)


# ---- sum and mean: linear, so they keep only the input's shape -------------------
def _sum(x, axis, keepdims, shape):
    return np.add.reduce(x, axis=axis, keepdims=keepdims)  # np.sum without its Python wrapper


def _mean(x, axis, keepdims, shape):
    return np.mean(x, axis=axis, keepdims=keepdims)


# x̄ = ḡ copied over the summed axes
sum_p = linear("sum", _sum, lambda g, x, axis, keepdims, shape: broadcast_to(_restore(g, axis, keepdims), shape),
               batch=_AXIS_SHAPE,
               vjp_formulas=("broadcast({g})",),
               call_args=_reduction_args,
)
# x̄ = ḡ / n copied over the averaged axes
mean_p = linear(
    "mean",
    _mean,
    lambda g, x, axis, keepdims, shape: broadcast_to(_restore(g, axis, keepdims) / _count(shape, axis), shape),
    batch=_AXIS_SHAPE,
    vjp_formulas=("broadcast({g}) / n",),
    call_args=_reduction_args,
)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue, where=True):
    """Sum over ``axis`` (None: all; an int or a tuple), with ``np.sum``'s arguments and their order.

    ``dtype`` casts first (to a float dtype the sum stays differentiable); ``where``
    masks entries out and ``initial`` is added; ``out`` is refused.

    >>> import chainrule as cr
    >>> cr.sum(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    tensor([4., 6.])
    """
    a, shape, axes = _reduced("sum", a, axis, dtype, out)
    if where is not True:
        a = E_where(_mask("sum", where, shape), a, 0)
    y = sum_p(a, axis=axes, keepdims=bool(keepdims), shape=shape)
    return y if initial is _NoValue else y + _initial(y, initial)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """Arithmetic mean over ``axis``, with ``np.mean``'s arguments and their order (``where`` averages
    only the selected entries).

    >>> import chainrule as cr
    >>> cr.mean(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    tensor([1.5, 3.5])
    """
    a, shape, axes = _reduced("mean", a, axis, dtype, out, ufunc=False)
    if where is not True:
        w = _mask("mean", where, shape)
        total = sum_p(E_where(w, a, 0), axis=axes, keepdims=bool(keepdims), shape=shape)
        return total / _count_where(w, axes, keepdims, total)
    return mean_p(a, axis=axes, keepdims=bool(keepdims), shape=shape)


def _count_where(w, axes, keepdims, like):
    """How many entries ``w`` selects in each slice, in ``like``'s float dtype (a constant)."""
    n = np.sum(w, axis=axes, keepdims=bool(keepdims))
    dt = like.dtype if like.dtype.kind in "fc" else np.dtype(np.float64)
    return np.asarray(n, dtype=dt)


# ---- prod: the gradient is the product of the others, never ans / x ----------------
def _prod(x, axis, keepdims):
    return np.multiply.reduce(x, axis=axis, keepdims=keepdims)


def _prod_others(x):
    """out_i = Π_{j≠i} x_j along the last axis, as (Π_{j<i} x_j)(Π_{j>i} x_j): exact with zeros."""
    out = np.ones_like(x)
    if x.shape[-1] > 1:
        np.cumprod(x[..., :-1], axis=-1, out=out[..., 1:])
        out[..., :-1] *= np.cumprod(x[..., :0:-1], axis=-1)[..., ::-1]
    return out


def _pair_products(x):
    """M (..., n, n) with M_ij = Π_{k∉{i,j}} x_k off the diagonal and 0 on it (symmetric).

    Row j is _prod_others of x with x_j replaced by 1. O(n²): only higher-order
    derivatives of prod reach it.
    """
    eye = np.eye(x.shape[-1], dtype=bool)
    rows = where(eye, 1, expand_dims_p(x, axis=(x.ndim - 1,)))
    return where(eye, 0, prod_others_p(rows))


def _apply_pairs(x, v):
    # ∂ out_i / ∂ x_j = M_ij, and M is symmetric: both the vjp and the jvp are M v
    return _sum_k(_pair_products(x) * expand_dims_p(v, axis=(v.ndim - 1,)), (x.ndim,), False)


prod_others_p = Primitive(
    "_prod_others",
    _prod_others,
    vjp=(lambda g, ans, x: _apply_pairs(conj_of(x), g),),  # conj(M(x)) = M(conj x): PyTorch's convention
    jvp=(lambda t, ans, x: _apply_pairs(x, t),),
    save=("args",),
    batch=leading,
)


def _others(x, axis):
    """Π over the reduced axes of every entry but x_i, for each i (the reduced axes moved last and flattened)."""
    nd = x.ndim
    if axis == (nd - 1,):
        return prod_others_p(x)
    shape = x.shape
    keep = tuple([i for i in range(nd) if i not in axis])
    perm = keep + axis
    moved = tuple([shape[i] for i in perm])
    flat = moved[: len(keep)] + (_count(shape, axis),)
    y = prod_others_p(reshape_p(transpose_p(x, axes=perm), shape=flat, in_shape=moved))
    return transpose_p(reshape_p(y, shape=moved, in_shape=flat), axes=_inverse(perm))


prod_p = Primitive(
    "prod",
    _prod,
    # ∂Π/∂x_i = Π_{j≠i} x_j (conjugated for complex x: PyTorch's convention)
    vjp=(lambda g, ans, x, axis, keepdims: _restore(g, axis, keepdims) * conj_of(_others(x, axis)),),
    jvp=(lambda t, ans, x, axis, keepdims: _sum_k(t * _others(x, axis), axis, keepdims),),
    save=("args",),
    batch=_AXIS,
    call_args=_reduction_args,
)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NoValue, where=True):
    """Product over ``axis``, with ``np.prod``'s arguments and their order; the gradient is exact when
    entries are zero.

    >>> import chainrule as cr
    >>> x = cr.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> cr.prod(x).backward()
    >>> x.grad
    tensor([0., 6., 0.])
    """
    a, shape, axes = _reduced("prod", a, axis, dtype, out)
    if where is not True:
        a = E_where(_mask("prod", where, shape), a, 1)
    y = prod_p(a, axis=axes, keepdims=bool(keepdims))
    return y if initial is _NoValue else y * _initial(y, initial)


# ---- max and min: ties split the gradient evenly ----------------------------------
def _tie_weights(x, ans, axis, keepdims):
    """1/k on each of the k entries of a slice that attain its max (or min), 0 elsewhere."""
    if not keepdims:
        ans = np.expand_dims(ans, axis)
    hit = x == ans
    if ans.dtype.kind == "f" and np.isnan(ans).any():
        hit |= np.isnan(x)  # NumPy propagates NaN: the NaN entries are the extremum
    return (hit / hit.sum(axis=axis, keepdims=True)).astype(x.dtype, copy=False)


tie_weights_p = nondifferentiable("_reduce_tie_weights", _tie_weights, batch=_AXIS)


def _extremum(name, impl):
    return Primitive(
        name,
        impl,
        # NOTE: at a tie the gradient is split evenly among the tied entries (1/k each)
        vjp=(
            lambda g, ans, x, axis, keepdims: (
                _restore(g, axis, keepdims) * tie_weights_p(x, ans, axis=axis, keepdims=keepdims)
            ),
        ),
        jvp=(
            lambda t, ans, x, axis, keepdims: _sum_k(
                t * tie_weights_p(x, ans, axis=axis, keepdims=keepdims), axis, keepdims
            ),
        ),
        save=("args", "ans"),
        batch=_AXIS,
        call_args=_reduction_args,
        convention="at a tie the gradient is split evenly among the tied entries (1/k each)",
    )


max_p = _extremum("max", lambda x, axis, keepdims: np.maximum.reduce(x, axis=axis, keepdims=keepdims))
min_p = _extremum("min", lambda x, axis, keepdims: np.minimum.reduce(x, axis=axis, keepdims=keepdims))


def _extreme(op, prim, pick, a, axis, out, keepdims, initial, where):
    """max / min with NumPy's ``initial`` (the result is at least / at most it) and ``where`` (which needs it)."""
    a, shape, axes = _reduced(op, a, axis, None, out)
    keepdims = bool(keepdims)
    if initial is _NoValue:
        if where is not True:
            name = "maximum" if op == "max" else "minimum"
            raise ValueError(
                f"{op}: reduction operation {name!r} does not have an identity, so to use a where mask one "
                f"has to specify 'initial'"
            )
        return prim(a, axis=axes, keepdims=keepdims)
    init = _initial(a, initial)
    if where is not True:
        a = E_where(_mask(op, where, shape), a, init)
    if _count(shape, axes) == 0:  # an empty slice gives `initial`, with gradient 0 for a
        return sum_p(a, axis=axes, keepdims=keepdims, shape=shape) * 0 + init
    return pick(prim(a, axis=axes, keepdims=keepdims), init)


def max(a, axis=None, out=None, keepdims=False, initial=_NoValue, where=True):
    """Largest entry over ``axis``, with ``np.max``'s arguments and their order (alias ``amax``); ties
    share the gradient evenly.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> cr.max(x).backward()
    >>> x.grad
    tensor([0. , 0.5, 0.5])
    """
    return _extreme("max", max_p, maximum, a, axis, out, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=_NoValue, where=True):
    """Smallest entry over ``axis``, with ``np.min``'s arguments and their order (alias ``amin``); ties
    share the gradient evenly.

    >>> import chainrule as cr
    >>> cr.min(cr.tensor([[1.0, 5.0], [4.0, 2.0]]), axis=1)
    tensor([1., 2.])
    """
    return _extreme("min", min_p, minimum, a, axis, out, keepdims, initial, where)


amax = max
amin = min




# ---- logsumexp -------------------------------------------------------------------
def _logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # an all -inf (or inf) slice: no shift, so the result is -inf (inf), not nan
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


logsumexp_p = Primitive(
    "logsumexp",
    _logsumexp,
    # ∂/∂x_i log Σ_j exp x_j = exp(x_i - logsumexp x) = softmax(x)_i
    vjp=(lambda g, ans, x, axis, keepdims: _restore(g, axis, keepdims) * conj_of(exp(x - _restore(ans, axis,
                                                                                                    keepdims))),),
    jvp=(lambda t, ans, x, axis, keepdims: _sum_k(t * exp(x - _restore(ans, axis, keepdims)), axis, keepdims),),
    save=("args", "ans"),
    batch=_AXIS,
    call_args=_reduction_args,
)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably (shifted by the max); its gradient is the softmax.

    >>> import chainrule as cr
    >>> cr.logsumexp(cr.tensor([1000.0, 1000.0]))  # 1000 + log 2, where exp overflows
    tensor(1000.69314718)
    """
    shape = shape_of(x)
    return logsumexp_p(x, axis=_normalize_axes("logsumexp", axis, shape), keepdims=bool(keepdims))


# ---- cumsum ----------------------------------------------------------------------
def _cumsum(x, axis):
    return np.cumsum(x, axis=axis)


# x̄_i = Σ_{j≥i} ḡ_j: a cumulative sum taken from the end
cumsum_p = linear(
    "cumsum", _cumsum, lambda g, x, axis: flip_p(cumsum_p(flip_p(g, axis=(axis,)), axis=axis), axis=(axis,)),
    batch=_AXIS,
    call_args=lambda kw, shapes: [] if shapes[0] is not None and len(shapes[0]) == 1 else [("axis", kw["axis"])],
)


def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along ``axis`` (None: of the flattened input), with ``np.cumsum``'s arguments.

    >>> import chainrule as cr
    >>> cr.cumsum(cr.tensor([1.0, 2.0, 3.0]))
    tensor([1., 3., 6.])
    """
    if dtype is not None or out is not None:
        a = _dtype_out("cumsum", a, dtype, out)
    if axis is None or not shape_of(a):  # NumPy flattens a 0-d input first, whatever the axis
        a = ravel(a)
        axis = 0 if axis is None else axis
    return cumsum_p(a, axis=_normalize_axis("cumsum", axis, shape_of(a)))
