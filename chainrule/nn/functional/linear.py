"""The fused affine map ``x @ W.T + b`` as one primitive: one node on the tape, one matmul each way."""

from __future__ import annotations

import numpy as np

from ...core.batching_rules import fallback
from ...core.primitive import Primitive, apply
from ...core.shapes import shape_of
from ...ops.matmul_outer import outer_matmul


def _linear_batch(prim, vals, bat, kw, size):
    # x @ Wᵀ + b maps over x's leading axes: a batch axis is one more (a batched weight takes the loop)
    if bat[1] or bat[2]:
        return fallback(prim, vals, bat, kw, size)
    return apply(prim, vals, kw)


__all__ = ["linear"]


def _linear(x, w, b):
    if x.dtype.kind in "biu":
        x = x.astype(w.dtype)  # integer data (raw pixels, one-hot ids) takes the weight's dtype
    if x.ndim > 2:  # fold the batch axes into rows: one GEMM is ~2x faster than matmul's stacked loop
        out = np.matmul(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
    else:
        out = np.matmul(x, w.T)
    if b is not None:
        if out.dtype == b.dtype or out.dtype == np.result_type(out, b):
            out += b  # a fresh array: add in place, saving one temporary
        else:
            out = out + b
    return out


def _flat(a, n):
    """``a`` as a matrix with ``n`` columns (the batch axes folded into the rows)."""
    return a if a.ndim == 2 else a.reshape(-1, n)


def _weight_bar(g, ans, x, w, b):
    # W̄ = ḡᵀ x, summed over every batch axis
    g2 = _flat(g, w.shape[0])
    x2 = _flat(x, w.shape[1])
    if g2.shape[0] == 1:
        # NOTE: an outer product (matmul_outer): BLAS's gemm is many times slower on an inner dimension of 1
        return outer_matmul(g2.T, x2)
    return g2.T @ x2


# y = x Wᵀ + b:  x̄ = ḡ W,  W̄ = ḡᵀ x,  b̄ = ḡ (summed over the batch by the engine)
linear_p = Primitive(
    "linear",
    _linear,
    vjp=(
        lambda g, ans, x, w, b: g @ w,
        _weight_bar,
        lambda g, ans, x, w, b: g.sum(axis=0) if g.ndim == 2 else g,  # (the engine sums other batch shapes)
    ),
    jvp=(
        lambda t, ans, x, w, b: t @ w.T,
        lambda t, ans, x, w, b: x @ t.T,
        lambda t, ans, x, w, b: t,
    ),
    save=("args",),
    batch=_linear_batch,
)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias``, PyTorch's layout: ``weight`` is (out_features, in_features).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> x = cr.ones((2, 3), dtype=np.float32)
    >>> w = cr.ones((4, 3), dtype=np.float32)
    >>> F.linear(x, w, cr.zeros(4, dtype=np.float32)).shape
    (2, 4)
    """
    xs, ws = shape_of(x), shape_of(weight)
    if len(ws) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {ws}")
    if len(xs) == 0 or xs[-1] != ws[1]:
        raise ValueError(
            f"linear: input of shape {xs} does not match weight of shape {ws}: the last axis of the input "
            f"must have in_features = {ws[1]} entries"
        )
    if bias is not None and shape_of(bias) != (ws[0],):
        raise ValueError(f"linear: bias must have shape ({ws[0]},) to match weight {ws}, got {shape_of(bias)}")
    return linear_p(x, weight, bias)
