"""Multi-head attention with PyTorch's names, parameter layout, initialisation and mask semantics."""

from __future__ import annotations

import numpy as np

from ..core.shapes import shape_of
from ..core.tensor import Tensor
from ..ops.shape import reshape, swapaxes, transpose
from ..ops.reduce import mean
from . import init
from .functional.attention import attention, bool_to_additive
from .functional.linear import linear
from .linear import Linear
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


def _mask_dtype(mask, name):
    dt = np.dtype(mask.dtype if hasattr(mask, "dtype") else np.asarray(mask).dtype)
    if dt != np.bool_ and dt.kind != "f":
        raise TypeError(f"MultiheadAttention: {name} must be boolean or floating point, got dtype {dt}")
    return dt


def _additive(mask, name, dtype):
    """A boolean mask (True = may not attend) as 0/-inf; a float mask as it is."""
    if _mask_dtype(mask, name) == np.bool_:
        return bool_to_additive(mask, False, dtype)
    return mask if isinstance(mask, Tensor) else np.asarray(mask, dtype=dtype)


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim // num_heads`` features each (PyTorch's layer).

    Parameters as in PyTorch: ``in_proj_weight`` (3·embed_dim, embed_dim) stacks the query, key and value
    projections (``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` instead when ``kdim`` or ``vdim``
    differ from ``embed_dim``), ``in_proj_bias`` (3·embed_dim,), and ``out_proj`` a Linear. Inputs are
    (L, N, E), or (N, L, E) with ``batch_first``, or unbatched (L, E). A boolean ``attn_mask`` or
    ``key_padding_mask`` marks with True what may *not* be attended to; a float one is added to the scores.
    ``forward`` returns ``(output, weights)``; weights are averaged over heads unless
    ``average_attn_weights=False``, and None when ``need_weights=False``.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = cr.tensor(np.zeros((3, 5, 8), dtype=np.float32))
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    ((3, 5, 8), (3, 5, 5))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive multiple of num_heads ({num_heads})"
            )
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first = float(dropout), batch_first
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(init._empty_param((3 * E, E), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(init._empty_param((E, E), dtype))
            self.k_proj_weight = Parameter(init._empty_param((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(init._empty_param((E, self.vdim), dtype))
        if bias:
            self.in_proj_bias = Parameter(init._empty_param((3 * E,), dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's: Xavier-uniform projections, zero biases; ``out_proj.weight`` keeps Linear's init."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _project(self, query, key, value):
        E, b = self.embed_dim, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one product, then split the features
                qkv = linear(query, w, b)
                return qkv[..., :E], qkv[..., E : 2 * E], qkv[..., 2 * E :]
            wq, wk, wv = w[:E], w[E : 2 * E], w[2 * E :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)

    def _check_inputs(self, query, key, value):
        qs, ks, vs = shape_of(query), shape_of(key), shape_of(value)
        if len(qs) not in (2, 3) or len(ks) != len(qs) or len(vs) != len(qs):
            raise ValueError(
                f"MultiheadAttention: query, key and value must all be 3-D (batched) or 2-D (unbatched), "
                f"got shapes {qs}, {ks}, {vs}"
            )
        if qs[-1] != self.embed_dim or ks[-1] != self.kdim or vs[-1] != self.vdim:
            raise ValueError(
                f"MultiheadAttention: query, key, value shapes {qs}, {ks}, {vs} must end with "
                f"embed_dim={self.embed_dim}, kdim={self.kdim}, vdim={self.vdim}"
            )
        b = 0 if self.batch_first else 1
        if ks[:-1] != vs[:-1] or (len(qs) == 3 and qs[b] != ks[b]):
            raise ValueError(
                f"MultiheadAttention: query {qs}, key {ks} and value {vs} disagree on the batch or source length"
            )

    def _merged_mask(self, attn_mask, key_padding_mask, N, L, S, dtype):
        """The additive mask of shape broadcastable to (N, H, L, S), or None."""
        H, mask = self.num_heads, None
        if attn_mask is not None:
            ms = shape_of(attn_mask)
            if ms == (L, S):
                mask = _additive(attn_mask, "attn_mask", dtype)
            elif ms == (N * H, L, S):
                mask = reshape(_additive(attn_mask, "attn_mask", dtype), (N, H, L, S))
            else:
                raise ValueError(
                    f"MultiheadAttention: attn_mask must have shape {(L, S)} or {(N * H, L, S)} "
                    f"(L, S or batch·num_heads, L, S), got {ms}"
                )
        if key_padding_mask is not None:
            ks = shape_of(key_padding_mask)
            if ks != (N, S):
                raise ValueError(f"MultiheadAttention: key_padding_mask must have shape {(N, S)} (N, S), got {ks}")
            kpm = reshape(_additive(key_padding_mask, "key_padding_mask", dtype), (N, 1, 1, S))
            mask = kpm if mask is None else mask + kpm
        return mask

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        self._check_inputs(query, key, value)
        batched = len(shape_of(query)) == 3
        if not batched:
            query, key, value = (x if x is None else reshape(x, (1,) + shape_of(x)) for x in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = np.asarray(key_padding_mask.data if isinstance(key_padding_mask, Tensor)
                                              else key_padding_mask)[None]
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            same_kv, same_qk = key is value, query is key
            query = swapaxes(query, 0, 1)
            key = query if same_qk else swapaxes(key, 0, 1)
            value = key if same_kv else swapaxes(value, 0, 1)
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True needs attn_mask (it is only a hint, as in PyTorch)")
        N, L, _ = shape_of(query)
        S = shape_of(key)[1]
        dtype = np.dtype(query.dtype) if np.dtype(query.dtype).kind == "f" else np.dtype(np.float64)
        mask = self._merged_mask(attn_mask, key_padding_mask, N, L, S, dtype)
        q, k, v = self._project(query, key, value)
        H, D = self.num_heads, self.head_dim
        q, k, v = (transpose(reshape(t, (N, n, H, D)), axes=(0, 2, 1, 3)) for t, n in ((q, L), (k, S), (v, S)))
        out, weights = attention(q, k, v, mask, self.dropout if self.training else 0.0, self.training)
        out = self.out_proj(reshape(transpose(out, axes=(0, 2, 1, 3)), (N, L, self.embed_dim)))
        if not batched:
            out = reshape(out, (L, self.embed_dim))
        elif not self.batch_first:
            out = swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = mean(weights, axis=1)
        if not batched:
            weights = reshape(weights, shape_of(weights)[1:])
        return out, weights

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")
