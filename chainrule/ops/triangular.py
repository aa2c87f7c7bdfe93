"""Triangles and diagonals of matrices: triu, tril, diag, diagflat (compositions of where, pad and reshape)."""

from __future__ import annotations

import numpy as np

from ..core.shapes import shape_of
from ..core.tensor import Tensor
from .axes import _index
from .elementwise import where as _where
from .join import crop_p, pad
from .linalg import diagonal
from .shape import ravel, reshape

__all__ = ["triu", "tril", "diag", "diagflat"]

# No new primitive: a triangle is where(mask, m, 0) with a constant mask, and a diagonal matrix is built by
# padding and reshaping, so the rules (and the batching) are those of where, pad, crop and reshape.


def _values(x):
    return x if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x)


def _triangle(op, m, mask_k, keep_lower):
    m = _values(m)
    shape = shape_of(m)
    if not shape:
        raise ValueError(f"{op}: the input must have at least 1 dimension, got a 0-d array")
    rows, cols = tuple(shape[-2:]) if len(shape) >= 2 else (shape[0], shape[0])
    lower = np.tri(rows, cols, mask_k, dtype=bool)  # True on and below diagonal mask_k
    zero = np.zeros((), dtype=m.dtype)
    # where, not a product with the mask: inf and nan outside the triangle become 0, as in NumPy
    return _where(lower, m, zero) if keep_lower else _where(lower, zero, m)


def triu(m, k=0):
    """The upper triangle (on and above diagonal ``k``) of the last two axes, zeros below, like ``np.triu``.

    A 1-D input is taken as the rows of a square matrix, as NumPy does.

    >>> import chainrule as cr
    >>> cr.triu(cr.ones((2, 3)), 1)
    tensor([[0., 1., 1.],
            [0., 0., 1.]])
    """
    return _triangle("triu", m, _index(k) - 1, False)


def tril(m, k=0):
    """The lower triangle (on and below diagonal ``k``) of the last two axes, zeros above, like ``np.tril``.

    >>> import chainrule as cr
    >>> cr.tril(cr.ones((2, 2)))
    tensor([[1., 0.],
            [1., 1.]])
    """
    return _triangle("tril", m, _index(k), True)


def diag(v, k=0):
    """``np.diag``: a 1-D ``v`` becomes a square matrix with ``v`` on diagonal ``k``; a 2-D ``v`` gives its
    diagonal ``k``.

    >>> import chainrule as cr
    >>> cr.diag(cr.tensor([1.0, 2.0]), 1)
    tensor([[0., 1., 0.],
            [0., 0., 2.],
            [0., 0., 0.]])
    """
    v = _values(v)
    shape = shape_of(v)
    k = _index(k)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ValueError(f"diag: the input must be 1-D or 2-D, got shape {tuple(shape)}")
    n = shape[0]
    # each row holds v[i] and then n zeros: read row-major, v[i] lands n + 1 entries after v[i-1],
    # which is on the diagonal of an n-by-n matrix once the last n zeros are cut
    rows = pad(reshape(v, (n, 1)), ((0, 0), (0, n)))
    flat = crop_p(ravel(rows), pad_width=((0, n),))
    square = reshape(flat, (n, n))
    if k == 0:
        return square
    w = abs(k)
    return pad(square, ((0, w), (w, 0)) if k > 0 else ((w, 0), (0, w)))


def diagflat(v, k=0):
    """A 2-D matrix with the flattened ``v`` on diagonal ``k``, like ``np.diagflat``.

    >>> import chainrule as cr
    >>> cr.diagflat(cr.tensor([[1.0, 2.0]]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    return diag(ravel(_values(v)), k)
