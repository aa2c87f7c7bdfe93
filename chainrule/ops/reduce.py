"""Reductions: sum, mean, prod, max, min, var, std, logsumexp, cumsum, and the non-differentiable argmax, any, ..."""

from __future__ import annotations

import math

import numpy as np

from ..core.primitive import Primitive
from ..core.shapes import astype, broadcast_to
from ..extend import linear, nondifferentiable
from .elementwise import exp, where
from .shape import (
    _inverse,
    _normalize_axes,
    _normalize_axis,
    _shape_of,
    expand_dims_p,
    flip_p,
    ravel,
    reshape_p,
    transpose_p,
)

# Every reduction takes static ``axis`` (a sorted tuple of non-negative axes,
# normalised once by the wrapper) and ``keepdims``.


def _restore(g, axis, keepdims):
    """``g`` with the reduced axes put back as size 1, so it broadcasts against the input."""
    return g if keepdims or not axis else expand_dims_p(g, axis=axis)


def _count(shape, axis):
    return math.prod([shape[a] for a in axis])


def _sum_k(y, axis, keepdims):
    """sum inside rules (``y`` is a Tensor or an ndarray)."""
    return sum_p(y, axis=axis, keepdims=keepdims, shape=y.shape)


def _dtype_out(op, x, dtype, out):
    """NumPy's ``dtype=`` (a cast first) and ``out=`` (refused): ``np.sum(t)`` may pass both."""
    if out is not None:
        raise TypeError(f"{op}: out= is not supported; chainrule operations return new Tensors")
    return x if dtype is None else astype(x, np.dtype(dtype))


# ---- sum and mean: linear, so they keep only the input's shape -------------------
def _sum(x, axis, keepdims, shape):
    return np.add.reduce(x, axis=axis, keepdims=keepdims)  # np.sum without its Python wrapper


def _mean(x, axis, keepdims, shape):
    return np.mean(x, axis=axis, keepdims=keepdims)


# x̄ = ḡ copied over the summed axes
sum_p = linear("sum", _sum, lambda g, x, axis, keepdims, shape: broadcast_to(_restore(g, axis, keepdims), shape))
# x̄ = ḡ / n copied over the averaged axes
mean_p = linear(
    "mean",
    _mean,
    lambda g, x, axis, keepdims, shape: broadcast_to(_restore(g, axis, keepdims) / _count(shape, axis), shape),
)


def sum(x, axis=None, keepdims=False, *, dtype=None, out=None):
    """Sum over ``axis`` (None: all; an int or a tuple), like ``np.sum``.

    >>> import chainrule as cr
    >>> cr.sum(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    tensor([4., 6.])
    """
    if dtype is not None or out is not None:
        x = _dtype_out("sum", x, dtype, out)
    shape = _shape_of(x)
    return sum_p(x, axis=_normalize_axes("sum", axis, shape), keepdims=bool(keepdims), shape=shape)


def mean(x, axis=None, keepdims=False, *, dtype=None, out=None):
    """Arithmetic mean over ``axis``, like ``np.mean``.

    >>> import chainrule as cr
    >>> cr.mean(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    tensor([1.5, 3.5])
    """
    if dtype is not None or out is not None:
        x = _dtype_out("mean", x, dtype, out)
    shape = _shape_of(x)
    return mean_p(x, axis=_normalize_axes("mean", axis, shape), keepdims=bool(keepdims), shape=shape)


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
    vjp=(lambda g, ans, x: _apply_pairs(x, g),),
    jvp=(lambda t, ans, x: _apply_pairs(x, t),),
    save=("args",),
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
    vjp=(lambda g, ans, x, axis, keepdims: _restore(g, axis, keepdims) * _others(x, axis),),  # ∂Π/∂x_i = Π_{j≠i} x_j
    jvp=(lambda t, ans, x, axis, keepdims: _sum_k(t * _others(x, axis), axis, keepdims),),
    save=("args",),
)


def prod(x, axis=None, keepdims=False, *, dtype=None, out=None):
    """Product over ``axis``, like ``np.prod``; the gradient is exact when entries are zero.

    >>> import chainrule as cr
    >>> x = cr.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> cr.prod(x).backward()
    >>> x.grad
    tensor([0., 6., 0.])
    """
    if dtype is not None or out is not None:
        x = _dtype_out("prod", x, dtype, out)
    shape = _shape_of(x)
    return prod_p(x, axis=_normalize_axes("prod", axis, shape), keepdims=bool(keepdims))


# ---- max and min: ties split the gradient evenly ----------------------------------
def _tie_weights(x, ans, axis, keepdims):
    """1/k on each of the k entries of a slice that attain its max (or min), 0 elsewhere."""
    if not keepdims:
        ans = np.expand_dims(ans, axis)
    hit = x == ans
    if ans.dtype.kind == "f" and np.isnan(ans).any():
        hit |= np.isnan(x)  # NumPy propagates NaN: the NaN entries are the extremum
    return (hit / hit.sum(axis=axis, keepdims=True)).astype(x.dtype, copy=False)


tie_weights_p = nondifferentiable("_reduce_tie_weights", _tie_weights)


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
    )


max_p = _extremum("max", lambda x, axis, keepdims: np.maximum.reduce(x, axis=axis, keepdims=keepdims))
min_p = _extremum("min", lambda x, axis, keepdims: np.minimum.reduce(x, axis=axis, keepdims=keepdims))


def max(x, axis=None, keepdims=False, *, out=None):
    """Largest entry over ``axis``, like ``np.max`` (alias ``amax``); ties share the gradient evenly.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> cr.max(x).backward()
    >>> x.grad
    tensor([0. , 0.5, 0.5])
    """
    if out is not None:
        _dtype_out("max", x, None, out)
    shape = _shape_of(x)
    return max_p(x, axis=_normalize_axes("max", axis, shape), keepdims=bool(keepdims))


def min(x, axis=None, keepdims=False, *, out=None):
    """Smallest entry over ``axis``, like ``np.min`` (alias ``amin``); ties share the gradient evenly.

    >>> import chainrule as cr
    >>> cr.min(cr.tensor([[1.0, 5.0], [4.0, 2.0]]), axis=1)
    tensor([1., 2.])
    """
    if out is not None:
        _dtype_out("min", x, None, out)
    shape = _shape_of(x)
    return min_p(x, axis=_normalize_axes("min", axis, shape), keepdims=bool(keepdims))


amax = max
amin = min


# ---- var and std -----------------------------------------------------------------
def _centered(x, axis):
    return x - mean_p(x, axis=axis, keepdims=True, shape=x.shape)


def _per_dof(c, shape, axis, ddof):
    """c / (n - ddof): NumPy's divisor; nan when there are no degrees of freedom left."""
    dof = _count(shape, axis) - ddof
    return c / dof if dof > 0 else math.nan


def _safe(s):
    # NOTE: std'(x) at a constant slice is taken as 0, not nan: there std = 0 and
    # x - mean is exactly 0, so dividing by 1 instead of 0 gives 0 (PyTorch gives nan)
    return where(s == 0, 1, s)


var_p = Primitive(
    "var",
    lambda x, axis, keepdims, ddof: np.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
    # ∂var/∂x_i = 2 (x_i - mean) / (n - ddof)
    vjp=(
        lambda g, ans, x, axis, keepdims, ddof: (
            _restore(g, axis, keepdims) * _centered(x, axis) * _per_dof(2.0, x.shape, axis, ddof)
        ),
    ),
    jvp=(
        lambda t, ans, x, axis, keepdims, ddof: (
            _sum_k(t * _centered(x, axis), axis, keepdims) * _per_dof(2.0, x.shape, axis, ddof)
        ),
    ),
    save=("args",),
)
std_p = Primitive(
    "std",
    lambda x, axis, keepdims, ddof: np.std(x, axis=axis, ddof=ddof, keepdims=keepdims),
    # ∂std/∂x_i = (x_i - mean) / ((n - ddof) std)
    vjp=(
        lambda g, ans, x, axis, keepdims, ddof: (
            _restore(g, axis, keepdims)
            * _centered(x, axis)
            / _safe(_restore(ans, axis, keepdims))
            * _per_dof(1.0, x.shape, axis, ddof)
        ),
    ),
    jvp=(
        lambda t, ans, x, axis, keepdims, ddof: (
            _sum_k(t * _centered(x, axis), axis, keepdims) / _safe(ans) * _per_dof(1.0, x.shape, axis, ddof)
        ),
    ),
    save=("args", "ans"),
)


def var(x, axis=None, ddof=0, keepdims=False, *, dtype=None, out=None):
    """Variance over ``axis``, divided by ``n - ddof`` (``ddof=0`` by default), like ``np.var``.

    >>> import chainrule as cr
    >>> cr.var(cr.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor(1.25)
    """
    if dtype is not None or out is not None:
        x = _dtype_out("var", x, dtype, out)
    shape = _shape_of(x)
    return var_p(x, axis=_normalize_axes("var", axis, shape), keepdims=bool(keepdims), ddof=ddof)


def std(x, axis=None, ddof=0, keepdims=False, *, dtype=None, out=None):
    """Standard deviation over ``axis`` (``ddof=0`` by default), like ``np.std``.

    At a constant input the gradient is 0 (PyTorch gives nan).

    >>> import chainrule as cr
    >>> cr.std(cr.tensor([1.0, 3.0]))
    tensor(1.)
    """
    if dtype is not None or out is not None:
        x = _dtype_out("std", x, dtype, out)
    shape = _shape_of(x)
    return std_p(x, axis=_normalize_axes("std", axis, shape), keepdims=bool(keepdims), ddof=ddof)


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
    vjp=(lambda g, ans, x, axis, keepdims: _restore(g, axis, keepdims) * exp(x - _restore(ans, axis, keepdims)),),
    jvp=(lambda t, ans, x, axis, keepdims: _sum_k(t * exp(x - _restore(ans, axis, keepdims)), axis, keepdims),),
    save=("args", "ans"),
)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably (shifted by the max); its gradient is the softmax.

    >>> import chainrule as cr
    >>> cr.logsumexp(cr.tensor([1000.0, 1000.0]))  # 1000 + log 2, where exp overflows
    tensor(1000.69314718)
    """
    shape = _shape_of(x)
    return logsumexp_p(x, axis=_normalize_axes("logsumexp", axis, shape), keepdims=bool(keepdims))


# ---- cumsum ----------------------------------------------------------------------
def _cumsum(x, axis):
    return np.cumsum(x, axis=axis)


# x̄_i = Σ_{j≥i} ḡ_j: a cumulative sum taken from the end
cumsum_p = linear(
    "cumsum", _cumsum, lambda g, x, axis: flip_p(cumsum_p(flip_p(g, axis=(axis,)), axis=axis), axis=(axis,))
)


def cumsum(x, axis=None, *, dtype=None, out=None):
    """Cumulative sum along ``axis`` (None: of the flattened input), like ``np.cumsum``.

    >>> import chainrule as cr
    >>> cr.cumsum(cr.tensor([1.0, 2.0, 3.0]))
    tensor([1., 3., 6.])
    """
    if dtype is not None or out is not None:
        x = _dtype_out("cumsum", x, dtype, out)
    if axis is None:
        x = ravel(x)
        axis = 0
    return cumsum_p(x, axis=_normalize_axis("cumsum", axis, _shape_of(x)))


# ---- the non-differentiable reductions ---------------------------------------------
argmax_p = nondifferentiable("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims))
argmin_p = nondifferentiable("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims))
any_p = nondifferentiable("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims))
all_p = nondifferentiable("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims))
count_nonzero_p = nondifferentiable(
    "count_nonzero", lambda x, axis, keepdims: np.count_nonzero(x, axis=axis, keepdims=keepdims)
)


def argmax(x, axis=None, keepdims=False, *, out=None):
    """Index of the largest entry (of the flattened input when ``axis`` is None), like ``np.argmax``.

    >>> import chainrule as cr
    >>> cr.argmax(cr.tensor([[1.0, 5.0], [4.0, 2.0]]), axis=1)
    tensor([1, 0])
    """
    if out is not None:
        _dtype_out("argmax", x, None, out)
    if axis is not None:
        axis = _normalize_axis("argmax", axis, _shape_of(x))
    return argmax_p(x, axis=axis, keepdims=bool(keepdims))


def argmin(x, axis=None, keepdims=False, *, out=None):
    """Index of the smallest entry, like ``np.argmin``: ``cr.argmin(cr.tensor([3.0, 1.0])).item() == 1``."""
    if out is not None:
        _dtype_out("argmin", x, None, out)
    if axis is not None:
        axis = _normalize_axis("argmin", axis, _shape_of(x))
    return argmin_p(x, axis=axis, keepdims=bool(keepdims))


def any(x, axis=None, keepdims=False, *, out=None):
    """Whether any entry over ``axis`` is true (non-zero), like ``np.any``: ``cr.any(cr.tensor([0.0, 2.0])).item()``."""
    if out is not None:
        _dtype_out("any", x, None, out)
    return any_p(x, axis=_normalize_axes("any", axis, _shape_of(x)), keepdims=bool(keepdims))


def all(x, axis=None, keepdims=False, *, out=None):
    """Whether every entry over ``axis`` is true (non-zero), like ``np.all``: ``cr.all(cr.tensor([1.0, 2.0])).item()``."""
    if out is not None:
        _dtype_out("all", x, None, out)
    return all_p(x, axis=_normalize_axes("all", axis, _shape_of(x)), keepdims=bool(keepdims))


def count_nonzero(x, axis=None, keepdims=False):
    """Number of non-zero entries over ``axis``, like ``np.count_nonzero``.

    >>> import chainrule as cr
    >>> cr.count_nonzero(cr.tensor([[0.0, 1.0], [2.0, 3.0]]), axis=0)
    tensor([1, 2])
    """
    return count_nonzero_p(x, axis=_normalize_axes("count_nonzero", axis, _shape_of(x)), keepdims=bool(keepdims))


# Tensor methods (the lead binds them).
METHODS = {
    "sum": sum,
    "mean": mean,
    "prod": prod,
    "max": max,
    "min": min,
    "var": var,
    "std": std,
    "cumsum": cumsum,
    "argmax": argmax,
    "argmin": argmin,
    "any": any,
    "all": all,
}
