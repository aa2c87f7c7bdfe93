"""More of NumPy's elementwise functions: fmax/fmin, logaddexp2, sinc, nan_to_num and the angle conversions."""

from __future__ import annotations

import math

import numpy as np

from ..core.batching_rules import elementwise as _broadcasting
from ..core.complex_parts import imag, real
from ..core.complex_parts import conj_of
from ..core.primitive import Primitive
from ..core.tensor import Tensor
from ..extend import binary
from .elementwise import exp2, isinf, isnan, maximum, minimum, where

__all__ = ["fmax", "fmin", "logaddexp2", "sinc", "nan_to_num", "radians", "degrees", "deg2rad", "rad2deg"]


def _arr(x):
    return x if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x)


def fmax(x1, x2):
    """Elementwise maximum ignoring NaN (NaN only where both are), like ``np.fmax``; at a tie the gradient is split
    evenly, ½ to each input (``maximum``'s rule); a NaN input gets gradient 0.

    >>> import numpy as np, chainrule as cr
    >>> cr.fmax(cr.tensor([1.0, np.nan, 3.0]), cr.tensor([2.0, 0.5, np.nan]))
    tensor([2. , 0.5, 3. ])
    """
    x1, x2 = _arr(x1), _arr(x2)
    return where(isnan(x2), x1, where(isnan(x1), x2, maximum(x1, x2)))


def fmin(x1, x2):
    """Elementwise minimum ignoring NaN, like ``np.fmin``; ties split the gradient evenly (``minimum``'s rule).

    >>> import numpy as np, chainrule as cr
    >>> cr.fmin(cr.tensor([1.0, np.nan]), cr.tensor([2.0, 0.5]))
    tensor([1. , 0.5])
    """
    x1, x2 = _arr(x1), _arr(x2)
    return where(isnan(x2), x1, where(isnan(x1), x2, minimum(x1, x2)))


logaddexp2 = binary(
    "logaddexp2",
    np.logaddexp2,
    lambda ans, x, y: exp2(x - ans),  # ∂/∂x log₂(2ˣ + 2ʸ) = 2ˣ / (2ˣ + 2ʸ)
    lambda ans, x, y: exp2(y - ans),
    save=("args", "ans"),
    partials=("2^({0} - {out})", "2^({1} - {out})"),
)


# ---- sinc and all its derivatives, exact at the removable singularity ---------------
_SERIES_BELOW = 2.0  # |πx| under which the Taylor series is used (no cancellation), above it the closed form
_TERMS = 30


def _sinc_derivative(x, order):
    """d^order/dx^order of sin(πx)/(πx), as f^(order)(πx)·π^order with f(u) = sin(u)/u."""
    dt = x.dtype if x.dtype.kind in "fc" else np.dtype(np.float64)
    u = np.pi * np.asarray(x, dtype=np.complex128 if x.dtype.kind == "c" else np.float64)  # sinc is entire
    small = np.abs(u) < _SERIES_BELOW
    us = np.where(small, u, 0.0)
    series = np.zeros_like(u)
    # f(u) = Σ (-1)^n u^(2n) / (2n+1)!, differentiated `order` times term by term
    for n in range((order + 1) // 2, _TERMS):
        p = 2 * n - order
        c = (-1) ** n * math.factorial(2 * n) / (math.factorial(p) * math.factorial(2 * n + 1))
        series += c * us ** p
    ub = np.where(small, 1.0, u)
    closed = np.zeros_like(u)
    # Leibniz on sin(u) · u⁻¹: Σ_j C(k, j) sin^(j)(u) · (-1)^(k-j) (k-j)! u^-(k-j+1)
    for j in range(order + 1):
        m = order - j
        closed += math.comb(order, j) * np.sin(ub + j * np.pi / 2) * (-1) ** m * math.factorial(m) / ub ** (m + 1)
    return (np.where(small, series, closed) * np.pi ** order).astype(dt, copy=False)


sinc_p = Primitive(
    "sinc",
    lambda x, order: _sinc_derivative(x, order) if order else np.sinc(x),
    vjp=(lambda g, ans, x, order: g * conj_of(sinc_p(x, order=order + 1)),),  # conj: complex x (holomorphic)
    jvp=(lambda t, ans, x, order: t * sinc_p(x, order=order + 1),),
    save=("args",),
    batch=_broadcasting,
    partials=lambda i, texts, out, values, number: f"sinc'({texts[0]})",
    call_args=lambda kw, shapes: [("order", kw["order"])] if kw["order"] else [],
    convention="sinc(0) = 1 and every derivative at 0 is the limit (sinc'(0) = 0, sinc''(0) = -π²/3)",
)


def sinc(x):
    """The normalised sinc, sin(πx)/(πx) with sinc(0) = 1, like ``np.sinc`` (real or complex x); its derivatives of
    every order are exact at 0 (sinc'(0) = 0).

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 0.5], requires_grad=True)
    >>> cr.sinc(x).sum().backward()
    >>> x.grad
    tensor([ 0.        , -1.27323954])
    """
    return sinc_p(_arr(x), order=0)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN and infinities replaced by finite numbers, like ``np.nan_to_num``; derivative 1 where ``x`` is finite,
    0 where an entry was replaced.

    >>> import numpy as np, chainrule as cr
    >>> cr.nan_to_num(cr.tensor([np.nan, 1.0, -np.inf]), neginf=-9.0)
    tensor([ 0.,  1., -9.])
    """
    x = _arr(x)
    if x.dtype.kind not in "fc":
        return x
    if x.dtype.kind == "c":  # as NumPy: the real and imaginary parts separately
        parts = [nan_to_num(p(x), copy, nan, posinf, neginf) for p in (real, imag)]
        return parts[0] + 1j * parts[1]
    big = np.finfo(x.dtype).max
    pos = big if posinf is None else posinf
    neg = -big if neginf is None else neginf
    inf = isinf(x)
    return where(isnan(x), np.asarray(nan, x.dtype), where(inf & (x > 0), np.asarray(pos, x.dtype),
                                                           where(inf, np.asarray(neg, x.dtype), x)))


def radians(x):
    """Degrees to radians, like ``np.radians`` (alias ``deg2rad``): x · π/180.

    >>> import chainrule as cr
    >>> cr.radians(cr.tensor(180.0))
    tensor(3.14159265)
    """
    x = _arr(x)
    return x * _const(np.pi / 180, x)


def degrees(x):
    """Radians to degrees, like ``np.degrees`` (alias ``rad2deg``): x · 180/π.

    >>> import numpy as np, chainrule as cr
    >>> cr.degrees(cr.tensor(np.pi))
    tensor(180.)
    """
    x = _arr(x)
    return x * _const(180 / np.pi, x)


def _const(c, x):
    """``c`` in ``x``'s float dtype, so float32 stays float32."""
    return np.asarray(c, dtype=x.dtype if x.dtype.kind == "f" else np.float64)


def deg2rad(x):
    """``radians``: ``cr.deg2rad(cr.tensor(90.0))`` is π/2."""
    return radians(x)


def rad2deg(x):
    """``degrees``: ``cr.rad2deg(cr.tensor(1.0))`` is 180/π."""
    return degrees(x)
