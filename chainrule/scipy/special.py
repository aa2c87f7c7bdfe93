"""``chainrule.scipy.special``: SciPy's special functions as primitives (SciPy computes the values; the derivatives
are written with chainrule operations, so they differentiate again), as HIPS autograd offers them.

>>> import chainrule as cr
>>> import chainrule.scipy.special as sp
>>> x = cr.tensor(0.0, requires_grad=True)
>>> sp.erf(x).backward()
>>> round(x.grad.item(), 6)   # 2/√π
1.128379
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _sp

from ..core.batching_rules import elementwise as _broadcasting
from ..core.tensor import Tensor
from ..extend import Primitive, binary, elementwise
from ..ops import special as _special
from ..core.shapes import shape_of
from ..ops.elementwise import abs as _abs, exp, isfinite, log, log1p, sign, where
from ..ops.reduce import logsumexp as _logsumexp, max as _max, sum as _sum
from ..ops.shape import squeeze as _squeeze

__all__ = ["erf", "erfc", "erfinv", "gammaln", "digamma", "polygamma", "expit", "logit", "xlogy", "xlog1py", "i0e",
           "i1e", "ndtr", "log_ndtr", "logsumexp", "softmax", "log_softmax"]

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _keep(out, *xs):
    """SciPy's result in the inputs' float dtype (``polygamma`` computes in float64 whatever it is given)."""
    dtype = np.result_type(*[x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype for x in xs], np.float16)
    return np.asarray(out, dtype=dtype) if dtype.kind == "f" else np.asarray(out)


erf = elementwise("erf", _sp.erf, lambda ans, x: _TWO_OVER_SQRT_PI * exp(-x * x), partials=("2/√π·exp(-{0}²)",))
erfc = elementwise("erfc", _sp.erfc, lambda ans, x: -_TWO_OVER_SQRT_PI * exp(-x * x),
                   partials=("-2/√π·exp(-{0}²)",))
# erfinv' = 1 / erf'(erfinv x) = √π/2 · exp(erfinv(x)²)
erfinv = elementwise("erfinv", _sp.erfinv, lambda ans, x: (math.sqrt(math.pi) / 2) * exp(ans * ans), save=("ans",),
                     partials=("√π/2·exp({out}²)",))
digamma = elementwise("digamma", _sp.digamma, lambda ans, x: polygamma_p(1, x), partials=("ψ₁({0})",))
gammaln = elementwise("gammaln", _sp.gammaln, lambda ans, x: digamma(x), partials=("ψ({0})",))
expit = elementwise("expit", _sp.expit, lambda ans, x: ans * (1 - ans), save=("ans",),
                    partials=("σ({0})·(1 - σ({0}))",))
logit = elementwise("logit", _sp.logit, lambda ans, x: 1 / (x * (1 - x)), partials=("1/({0}·(1 - {0}))",))
i0e = elementwise("i0e", _sp.i0e, lambda ans, x: i1e(x) - sign(x) * ans, save=("args", "ans"),
                  partials=("i1e({0}) - sign({0})·i0e({0})",))


def _i1e_d(ans, x):
    # i1e' = i0e − sign(x)·i1e − i1e/x, whose limit at 0 is 1/2 (i1e(x) ≈ x/2 there)
    zero = x == 0
    return where(zero, 0.5, i0e(x) - sign(x) * ans - ans / where(zero, 1.0, x))


i1e = elementwise("i1e", _sp.i1e, _i1e_d, save=("args", "ans"), partials=("i0e({0}) - (sign({0}) + 1/{0})·i1e({0})",))
ndtr = elementwise("ndtr", _sp.ndtr, lambda ans, x: _INV_SQRT_2PI * exp(-0.5 * x * x), partials=("φ({0})",))
# (log Φ)' = φ/Φ, as exp(−x²/2 − log Φ(x)) so that it stays finite far in the left tail
log_ndtr = elementwise("log_ndtr", _sp.log_ndtr, lambda ans, x: _INV_SQRT_2PI * exp(-0.5 * x * x - ans),
                       save=("args", "ans"), partials=("φ({0})/Φ({0})",))

xlogy = binary("xlogy", _sp.xlogy, lambda ans, x, y: log(y), lambda ans, x, y: x / y,
               partials=("log({1})", "{0}/{1}"), convention="x log y is 0 at x = 0 (SciPy); its x-derivative is log y")
xlog1py = binary("xlog1py", _sp.xlog1py, lambda ans, x, y: log1p(y), lambda ans, x, y: x / (1 + y),
                 partials=("log(1 + {1})", "{0}/(1 + {1})"))


def _polygamma(n, x):
    return _keep(_sp.polygamma(n, x), x)


# n (the order) is an integer and has no derivative; d/dx ψ⁽ⁿ⁾ = ψ⁽ⁿ⁺¹⁾
polygamma_p = Primitive(
    "polygamma",
    _polygamma,
    vjp=(None, lambda g, ans, n, x: g * polygamma_p(n + 1, x)),
    jvp=(None, lambda t, ans, n, x: t * polygamma_p(n + 1, x)),
    save=("args",),
    batch=_broadcasting,
    vjp_formulas=("", "{g}·ψ⁽ⁿ⁺¹⁾({1})"),
)


def polygamma(n, x):
    """``scipy.special.polygamma``: the n-th derivative of the digamma function (differentiable in ``x``).

    >>> import chainrule as cr, chainrule.scipy.special as sp
    >>> round(sp.polygamma(1, cr.tensor(1.0)).item(), 6)   # π²/6
    1.644934
    """
    n = n.data if isinstance(n, Tensor) else n
    if not np.all(np.asarray(n) == np.floor(n)) or np.any(np.asarray(n) < 0):
        raise ValueError(f"polygamma: the order n must be a non-negative integer, got {n!r}")
    return polygamma_p(np.asarray(n, dtype=np.int64) if np.ndim(n) else int(n), x)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``scipy.special.logsumexp``: ``log(sum(b * exp(a)))`` over ``axis``, stably; differentiable in ``a`` and ``b``
    (``return_sign``: the log of the absolute value and the sign, for weights of either sign).

    >>> import chainrule as cr, chainrule.scipy.special as sp
    >>> sp.logsumexp(cr.tensor([1000.0, 1000.0]), b=cr.tensor([1.0, 3.0]))   # 1000 + log 4
    tensor(1001.38629436)
    """
    if b is None and not return_sign:
        return _logsumexp(a, axis=axis, keepdims=keepdims)
    m = _max(a, axis=axis, keepdims=True)
    # the shift cancels in value and in derivative; a non-finite maximum is replaced by 0 (as SciPy does)
    m = where(isfinite(m), m, 0.0)
    s = _sum(exp(a - m) if b is None else b * exp(a - m), axis=axis, keepdims=True)
    out = (log(_abs(s)) if return_sign else log(s)) + m
    sgn = sign(s)
    if not keepdims:
        axes = tuple(range(len(shape_of(out)))) if axis is None else axis
        out, sgn = _squeeze(out, axis=axes), _squeeze(sgn, axis=axes)
    return (out, sgn) if return_sign else out


def softmax(x, axis=None):
    """``scipy.special.softmax``: ``exp(x) / sum(exp(x))`` over ``axis`` (all axes by default, as SciPy).

    >>> import chainrule as cr, chainrule.scipy.special as sp
    >>> sp.softmax(cr.tensor([0.0, 0.0]))
    tensor([0.5, 0.5])
    """
    return _special.softmax(x, axis=axis)


def log_softmax(x, axis=None):
    """``scipy.special.log_softmax``: ``x − logsumexp(x)`` over ``axis`` (all axes by default, as SciPy).

    >>> import chainrule as cr, chainrule.scipy.special as sp
    >>> sp.log_softmax(cr.tensor([1.0, 1.0]))
    tensor([-0.69314718, -0.69314718])
    """
    return _special.log_softmax(x, axis=axis)
