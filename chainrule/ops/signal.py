"""One-dimensional signal functions: convolve, correlate, polyval and interp, differentiable in every array input."""

from __future__ import annotations

import numpy as np

from ..core.batching_rules import fallback
from ..core.complex_parts import conj_of
from ..core.primitive import apply
from ..core.shapes import shape_of
from ..core.tensor import Tensor
from ..extend import nondifferentiable
from .elementwise import where
from .join import pad
from .shape import broadcast_to, flip
from .sorting import gather_p

__all__ = ["convolve", "correlate", "polyval", "interp"]


def _arr(x):
    return x if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x)


def _vector(op, x):
    x = _arr(x)
    shape = shape_of(x)
    if len(shape) != 1:
        raise ValueError(f"{op}: the inputs must be 1-D, got shape {tuple(shape)}")
    if shape[0] == 0:
        raise ValueError(f"{op}: the inputs cannot be empty")
    return x


def _full(a, v):
    """The full convolution of a (n) and v (m): Σ_j v_j · a shifted by j (n + m - 1 entries)."""
    m = shape_of(v)[0]
    out = None
    for j in range(m):
        term = v[j] * pad(a, ((j, m - 1 - j),))
        out = term if out is None else out + term
    return out


def _crop(full, n, m, mode, op):
    """``mode``'s part of a full convolution of lengths n >= m, as NumPy crops it."""
    if mode == "full":
        return full
    if mode == "valid":
        return full[m - 1:n]
    if mode == "same":
        start = (m - 1) // 2
        return full[start:start + n]
    raise ValueError(f"{op}: mode must be one of 'full', 'same', 'valid', got {mode!r}")


def convolve(a, v, mode="full"):
    """Discrete linear convolution of two 1-D sequences, like ``np.convolve`` (modes full, same, valid);
    differentiable in both, real or complex.

    >>> import chainrule as cr
    >>> cr.convolve(cr.tensor([1.0, 2.0, 3.0]), cr.tensor([0.0, 1.0, 0.5]))
    tensor([0. , 1. , 2.5, 4. , 1.5])
    """
    a, v = _vector("convolve", a), _vector("convolve", v)
    if shape_of(v)[0] > shape_of(a)[0]:
        a, v = v, a
    return _crop(_full(a, v), shape_of(a)[0], shape_of(v)[0], mode, "convolve")


def correlate(a, v, mode="valid"):
    """Cross-correlation of two 1-D sequences, c_k = Σ_n a_{n+k} conj(v_n), like ``np.correlate`` (modes valid,
    same, full); differentiable in both, real or complex.

    >>> import chainrule as cr
    >>> cr.correlate(cr.tensor([1.0, 2.0, 3.0]), cr.tensor([0.0, 1.0, 0.5]))
    tensor([3.5])
    """
    a, v = _vector("correlate", a), conj_of(_vector("correlate", v))  # NumPy conjugates v, then correlates
    n, m = shape_of(a)[0], shape_of(v)[0]
    if m > n:  # NumPy swaps the two and reverses the result
        return flip(_crop(_full(v, flip(a)), m, n, mode, "correlate"))
    return _crop(_full(a, flip(v)), n, m, mode, "correlate")


def polyval(p, x):
    """The polynomial with coefficients ``p`` (highest power first) at ``x``, like ``np.polyval`` (Horner's
    rule); differentiable in both.

    >>> import chainrule as cr
    >>> cr.polyval(cr.tensor([1.0, 0.0, -2.0]), cr.tensor([0.0, 3.0]))
    tensor([-2.,  7.])
    """
    p, x = _arr(p), _arr(x)
    if len(shape_of(p)) != 1:
        raise ValueError(f"polyval: p must be 1-D, got shape {tuple(shape_of(p))}")
    dt = np.result_type(p.dtype, x.dtype)
    y = np.zeros(shape_of(x), dtype=dt)
    for i in range(shape_of(p)[0]):
        y = y * x + p[i]
    return y


# ---- interp ------------------------------------------------------------------------
def _segments(x, xp):
    """For each x, the knots (j, j + 1) of its segment: xp_j <= x < xp_{j+1}, clipped to the first and last."""
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, max(len(xp) - 2, 0))
    return np.stack([j, np.minimum(j + 1, len(xp) - 1)], axis=-1)


def _segments_batch(prim, vals, bat, kw, size):
    if bat[1]:  # a batch of knot sequences: one search each
        return fallback(prim, vals, bat, kw, size)
    return apply(prim, vals, kw)  # the search is elementwise in x


segments_p = nondifferentiable("_interp_segments", _segments, batch=_segments_batch)


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points (xp, fp) at ``x``, like ``np.interp`` (``xp`` increasing);
    differentiable in ``x``, ``xp`` and ``fp``.

    At a knot the slope is that of the segment to its right (at the last knot, of the last segment); outside
    [xp_0, xp_-1] the result is ``left``/``right`` (default fp_0, fp_-1) and its derivative in x is 0.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.5, 1.5], requires_grad=True)
    >>> cr.interp(x, [0.0, 1.0, 2.0], [0.0, 10.0, 0.0]).sum().backward()
    >>> x.grad
    tensor([ 10., -10.])
    """
    if period is not None:
        raise NotImplementedError("interp: period= is not supported on Tensors")
    x, xp, fp = _arr(x), _vector("interp", xp), _arr(fp)
    if len(shape_of(fp)) != 1 or shape_of(fp) != shape_of(xp):
        raise ValueError("interp: fp and xp are not of the same length")
    shape = tuple(shape_of(x))
    m = shape_of(xp)[0]
    idx = segments_p(x, xp)
    x0x1 = gather_p(broadcast_to(xp, shape + (m,)), idx)
    f0f1 = gather_p(broadcast_to(fp, shape + (m,)), idx)
    x0, x1 = x0x1[..., 0], x0x1[..., 1]
    f0, f1 = f0f1[..., 0], f0f1[..., 1]
    width = x1 - x0
    flat = width == 0  # one knot, or repeated knots: the value is f0
    val = f0 + (x - x0) / where(flat, 1, width) * where(flat, 0, f1 - f0)
    lo = fp[0] if left is None else left
    hi = fp[m - 1] if right is None else right
    return where(x < xp[0], lo, where(x > xp[m - 1], hi, val))
