"""Embedding: a lookup table of learnable vectors indexed by integer ids."""

from __future__ import annotations

import numpy as np

from ..core.tensor import Tensor
from ..ops.elementwise import where
from . import init
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Row ``i`` of ``weight`` (num_embeddings, embedding_dim) for each id ``i``; init N(0, 1) as in PyTorch.

    The gradient of repeated ids accumulates; the ``padding_idx`` row gets none.

    >>> import numpy as np
    >>> from chainrule import nn
    >>> emb = nn.Embedding(10, 3)
    >>> emb(np.array([[1, 2], [3, 1]])).shape
    (2, 2, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for {num_embeddings} rows")
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(init._empty_param((self.num_embeddings, self.embedding_dim), dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, ids):
        idx = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding: ids must be integers, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx[(idx < 0) | (idx >= self.num_embeddings)].reshape(-1)[0]
            raise IndexError(f"Embedding: id {int(bad)} is out of range for {self.num_embeddings} embeddings")
        out = self.weight[idx]
        if self.padding_idx is not None:
            # same values, but no gradient reaches the padding row
            out = where((idx != self.padding_idx)[..., None], out, self.weight.data[idx])
        return out

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"
