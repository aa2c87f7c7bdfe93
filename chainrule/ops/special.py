"""softmax and log_softmax along axes: max-shifted forwards, rules written with chainrule operations."""

from __future__ import annotations

import operator

import numpy as np

from ..core.batching_rules import axis_rule
from ..core.complex_parts import conj_of
from ..core.primitive import Primitive
from ..core.tensor import Tensor
from .elementwise import exp as _exp
from .reduce import sum as _sum

__all__ = ["softmax", "log_softmax"]


def _ndim(x):
    # np.ndim(tensor) would go through __array_function__ dispatch: read the attribute
    return x.ndim if isinstance(x, (Tensor, np.ndarray)) else np.ndim(x)


def _axes(axis, ndim, op):
    """``axis`` (int, tuple or None for all) as a sorted tuple of non-negative axes; errors name ``op``."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    out = set()
    for a in items:
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(f"{op}: axis must be an integer, a tuple of integers or None, got {axis!r}") from None
        if ndim == 0 and a in (0, -1):  # a 0-d input is one class: softmax 1, log_softmax 0
            continue
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(f"{op}: axis {a} is out of bounds for an array of dimension {ndim}")
        out.add(a % ndim)
    return tuple(sorted(out))


def _shifted(x, axes):
    """``x - max(x)`` over ``axes``: every exponent is <= 0, so exp never overflows."""
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        x = x.astype(np.float64)
    if x.size == 0:
        return x.copy()
    z = x - np.max(x, axis=axes, keepdims=True)
    return z if type(z) is np.ndarray else np.array(z)  # a 0-d input gives a NumPy scalar


def _softmax_args(kw, shapes):
    # the shown call: axis=-1 is the default; every axis of a 2-D or larger input reads axis=None
    axes, shape = kw["axes"], shapes[0]
    if shape is not None and axes == (len(shape) - 1,):
        return []
    every = shape is not None and tuple(axes) == tuple(range(len(shape)))
    return [("axis", None if every and len(axes) > 1 else axes[0] if len(axes) == 1 else axes)]


def _softmax(x, axes):
    e = _shifted(x, axes)
    with np.errstate(under="ignore"):  # exp(-2000) = 0 is the right answer, not an error
        np.exp(e, out=e)
        e /= np.sum(e, axis=axes, keepdims=True)  # the sum is >= 1 (the max contributes e⁰)
    return e


def _log_softmax(x, axes):
    z = _shifted(x, axes)
    with np.errstate(under="ignore"):
        s = np.sum(np.exp(z), axis=axes, keepdims=True)
    z -= np.log(s)  # log_softmax = (x - m) - log Σ e^(x - m), stable at ±1000 and with -inf entries
    return z


def _exp_of(ans):
    """softmax recovered from log_softmax's output; e^(-2000) underflowing to 0 is expected."""
    with np.errstate(under="ignore"):
        return _exp(ans)


# s = softmax(x): ∂s_i/∂x_j = s_i (δ_ij - s_j), a symmetric Jacobian, so reverse and forward match:
# x̄ = s ⊙ (ḡ - Σ ḡ⊙s),  ṡ = s ⊙ (ṫ - Σ ṫ⊙s)   (Σ over the softmax axes)
softmax_p = Primitive(
    "softmax",
    _softmax,
    # conj(s) for complex x: PyTorch's convention (the Jacobian's conjugate transpose)
    vjp=(lambda g, ans, x, axes: conj_of(ans) * (g - _sum(g * conj_of(ans), axis=axes, keepdims=True)),),
    jvp=(lambda t, ans, x, axes: ans * (t - _sum(t * ans, axis=axes, keepdims=True)),),
    save=("ans",),
    batch=axis_rule("axes"),
    vjp_formulas=("{out} ∘ ({g} - Σ({g} ∘ {out}))",),
    call_args=_softmax_args,
)

# l = log_softmax(x) = x - logsumexp(x): ∂l_i/∂x_j = δ_ij - s_j with s = e^l
# x̄ = ḡ - s Σ ḡ,  l̇ = ṫ - Σ s⊙ṫ
log_softmax_p = Primitive(
    "log_softmax",
    _log_softmax,
    vjp=(lambda g, ans, x, axes: g - conj_of(_exp_of(ans)) * _sum(g, axis=axes, keepdims=True),),
    jvp=(lambda t, ans, x, axes: t - _sum(_exp_of(ans) * t, axis=axes, keepdims=True),),
    save=("ans",),
    batch=axis_rule("axes"),
    vjp_formulas=("{g} - exp({out}) ∘ Σ({g})",),
    call_args=_softmax_args,
)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int, a tuple, or None for all axes), computed stably.

    >>> import chainrule as cr
    >>> from chainrule.ops.special import softmax
    >>> softmax(cr.tensor([1000.0, 1000.0, -1000.0]))
    tensor([0.5, 0.5, 0. ])
    """
    return softmax_p(x, axes=_axes(axis, _ndim(x), "softmax"))


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along ``axis`` (an int, a tuple, or None for all axes), computed stably.

    >>> import chainrule as cr
    >>> from chainrule.ops.special import log_softmax
    >>> log_softmax(cr.tensor([1000.0, -1000.0]))
    tensor([    0., -2000.])
    """
    return log_softmax_p(x, axes=_axes(axis, _ndim(x), "log_softmax"))
