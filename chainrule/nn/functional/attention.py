"""Scaled dot-product attention, composed from matmul, softmax and dropout (PyTorch's mask semantics)."""

from __future__ import annotations

import math

import numpy as np

from ...core.shapes import shape_of
from ...core.tensor import Tensor
from ...ops.products import matmul
from ...ops.shape import swapaxes
from ...ops.special import softmax
from .activation import dropout

__all__ = ["scaled_dot_product_attention"]


def _dtype(x):
    dt = np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _is_bool(mask):
    return np.dtype(mask.dtype if hasattr(mask, "dtype") else np.asarray(mask).dtype) == np.bool_


def bool_to_additive(mask, keep, dtype):
    """An additive float mask from a boolean one: 0 where ``mask == keep``, -inf elsewhere (a NumPy constant)."""
    data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    return np.where(data == keep, 0.0, -np.inf).astype(dtype)


def attention(q, k, v, mask=None, dropout_p=0.0, training=True, scale=None):
    """``softmax(q kᵀ · scale + mask) v`` and the attention weights; ``mask`` is additive (or None)."""
    scale = 1.0 / math.sqrt(shape_of(q)[-1]) if scale is None else scale
    scores = matmul(q, swapaxes(k, -1, -2)) * scale
    if mask is not None:
        scores = scores + mask
    weights = softmax(scores, axis=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training)
    return matmul(weights, v), weights


def _check(q, k, v, attn_mask):
    qs, ks, vs = shape_of(q), shape_of(k), shape_of(v)
    if len(qs) < 2 or len(ks) < 2 or len(vs) < 2:
        raise ValueError(
            f"scaled_dot_product_attention: query, key and value need at least 2 axes (..., L, E), "
            f"got shapes {qs}, {ks}, {vs}"
        )
    if qs[-1] != ks[-1] or ks[-2] != vs[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: query {qs} and key {ks} must share the last axis (E), and key and "
            f"value {vs} the sequence axis (S)"
        )
    if attn_mask is not None:
        ms = shape_of(attn_mask)
        try:
            np.broadcast_shapes(ms, qs[:-1] + (ks[-2],))
        except ValueError:
            raise ValueError(
                f"scaled_dot_product_attention: attn_mask of shape {ms} does not broadcast to the scores' "
                f"shape {qs[:-1] + (ks[-2],)} (..., L, S)"
            ) from None


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """``softmax(query keyᵀ / √E + mask) value`` over the last two axes, PyTorch's ``F.scaled_dot_product_attention``.

    A boolean ``attn_mask`` marks with True the (query, key) pairs that *take part*; a float one is added
    to the scores. ``is_causal`` lets query i see keys 0..i only (upper-left aligned, as in PyTorch).
    ``dropout_p`` drops attention weights (always, as in PyTorch: pass 0.0 when evaluating). A query row
    whose keys are all masked gets NaN, as in PyTorch.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> q = cr.tensor(np.ones((1, 2, 3)))
    >>> v = cr.tensor(np.array([[[1.0], [3.0]]]))
    >>> F.scaled_dot_product_attention(q, q, v).data.ravel().tolist()
    [2.0, 2.0]
    >>> F.scaled_dot_product_attention(q, q, v, is_causal=True).data.ravel().tolist()
    [1.0, 2.0]
    """
    _check(query, key, value, attn_mask)
    dtype = _dtype(query)
    L, S = shape_of(query)[-2], shape_of(key)[-2]
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    if attn_mask is not None and _is_bool(attn_mask):
        attn_mask = bool_to_additive(attn_mask, True, dtype)
    return attention(query, key, value, attn_mask, dropout_p, True, scale)[0]
