"""Products: matmul, dot, inner, outer, vdot, kron, cross (matmul's one-pass forward rule: ``matmul_fusion``)."""

from __future__ import annotations

import math

import numpy as np

from ..core.batching import moveaxis
from ..core.batching_rules import ndim_of, reshape_to, shape_of
from ..core.complex_parts import conj_of
from ..core.primitive import Primitive, apply
from ..core.shapes import broadcast_to as _broadcast_to
from ..core.tensor import Tensor
from . import elementwise as E
from .contractions import _arr, tensordot_p
from .join import stack
from .matmul_fusion import fused_jvp
from .matmul_outer import outer_matmul
from .shape import moveaxis as _moveaxis, reshape, swapaxes

__all__ = ["matmul", "dot", "inner", "outer", "vdot", "kron", "cross"]

_ndarray = np.ndarray
_NO_KW = {}  # shared and never mutated: matmul takes no keywords


def _mT(x):
    """Swap the last two axes (the matrix transpose of a stack of matrices)."""
    return x.T if x.ndim == 2 else swapaxes(x, -1, -2)


# ---- matmul -----------------------------------------------------------------------
def _matmul(a, b):
    # OpenBLAS runs a gemm whose inner dimension is 1 several times slower than np.dot
    # (2-D) or the equivalent broadcast product: an outer product takes the faster (matmul_outer).
    sa = a.shape
    if sa and sa[-1] == 1 and a.ndim >= 2 and b.ndim >= 2:  # (the rare case first: one test for the rest)
        return outer_matmul(a, b) if a.ndim == 2 and b.ndim == 2 else np.multiply(a, b)
    return np.matmul(a, b)


def _promote(g, a, b):
    """View 1-D operands as a row (a) / column (b) and ḡ with the matching size-1 axes."""
    if a.ndim == 1 and b.ndim == 1:
        return g.reshape((1, 1)), a.reshape((1,) + a.shape), b.reshape(b.shape + (1,))
    if a.ndim == 1:
        return g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]), a.reshape((1,) + a.shape), b
    return g.reshape(g.shape + (1,)), a, b.reshape(b.shape + (1,))


def _matmul_vjp_a(g, ans, a, b):
    if type(g) is _ndarray and type(b) is _ndarray and b.ndim == 2 and a.ndim == 2 and b.dtype.kind != "c":
        # the first-order pass (rules on ndarrays: matmul_p would run _matmul itself) on real matrices: ā = ḡ bᵀ
        return _matmul(g, b.T)
    b = conj_of(b)  # ā = ḡ conj(b)ᵀ for complex operands (PyTorch's convention)
    if a.ndim > 1 and b.ndim > 1:
        return matmul_p(g, _mT(b))  # ā = ḡ bᵀ (the engine sums broadcast batch axes)
    if a.ndim == 1 and b.ndim == 2:
        return matmul_p(b, g)  # ā = b ḡ: a matrix-vector product, not a product with a column
    g, a2, b2 = _promote(g, a, b)
    ga = matmul_p(g, _mT(b2))
    return ga.reshape(ga.shape[:-2] + a.shape[-1:]) if a.ndim == 1 else ga


def _matmul_vjp_b(g, ans, a, b):
    if type(g) is _ndarray and type(a) is _ndarray and a.ndim == 2 and b.ndim == 2 and a.dtype.kind != "c":
        return _matmul(a.T, g)  # as in _matmul_vjp_a: b̄ = aᵀ ḡ
    a = conj_of(a)  # b̄ = conj(a)ᵀ ḡ for complex operands
    if a.ndim > 1 and b.ndim > 1:
        return matmul_p(_mT(a), g)  # b̄ = aᵀ ḡ
    if a.ndim == 2 and b.ndim == 1:
        return matmul_p(g, a)  # b̄ = aᵀ ḡ = ḡ a: BLAS's gemv, ~10% faster than aᵀ times a column
    g, a2, b2 = _promote(g, a, b)
    gb = matmul_p(_mT(a2), g)
    # drop the column axis: (..., n, 1) could not be summed back to (n,) by the engine
    return gb.reshape(gb.shape[:-1]) if b.ndim == 1 else gb


def _matmul_batch(prim, vals, bat, kw, size, fold=True):
    """matmul (and, with ``fold=False``, solve) batched: fold the batch into one BLAS call where it can,
    else line up the stack axes of the batched operands."""
    a, b = vals
    ba, bb = bat
    sa = shape_of(a)[1:] if ba else shape_of(a)
    sb = shape_of(b)[1:] if bb else shape_of(b)
    if fold and ba and not bb and len(sb) <= 2 and len(sa) >= 1:
        # the batch folds into the rows of a: one BLAS call instead of a stack of small ones (4x faster)
        k = sa[-1]
        # the explicit shape (not -1), so that reshape_to sees an operand already of it (a batch of vectors)
        out = apply(prim, (reshape_to(a, (size * math.prod(sa[:-1]), k)), b), kw)
        return reshape_to(out, (size,) + sa[:-1] + sb[1:])
    if fold and bb and not ba and len(sa) == 2 and len(sb) >= 1:
        # the batch folds into the columns of b: a @ [b_1 ... b_B]
        k = sa[-1]
        if len(sb) == 1:  # [a b_1 ... a b_B] = (b aᵀ): batch first, one product
            return apply(prim, (b, _mT(a)), kw)
        cols = reshape_to(moveaxis(b, len(sb) - 1, 0), (k, -1))  # (k, B * lead * m)
        out = reshape_to(apply(prim, (a, cols), kw), (sa[0], size) + sb[:-2] + sb[-1:])
        return moveaxis(out, 0, len(sb) - 1)  # (B, *lead, n, m)
    promoted = False
    if len(sa) == 1 and ba:  # a batch of row vectors: (B, k) -> (B, 1, k)
        a = reshape_to(a, (size, 1) + sa)
        promoted = True
    if len(sb) == 1 and bb:  # a batch of column vectors: (B, k) -> (B, k, 1)
        b = reshape_to(b, (size,) + sb + (1,))
        promoted = True
    # give the batched operands the same number of leading (stack) axes after the batch axis
    la = ndim_of(a) - ba - 2 if ndim_of(a) - ba >= 2 else 0
    lb = ndim_of(b) - bb - 2 if ndim_of(b) - bb >= 2 else 0
    lead = max(la, lb)
    if ba and la < lead:
        a = reshape_to(a, (size,) + (1,) * (lead - la) + shape_of(a)[1:])
    if bb and lb < lead:
        b = reshape_to(b, (size,) + (1,) * (lead - lb) + shape_of(b)[1:])
    out = apply(prim, (a, b), kw)
    if promoted:  # drop the unit axes the promotion added: the logical result of NumPy's matmul
        stacks = np.broadcast_shapes(sa[:-2], sb[:-2])
        final = stacks + sa[-2:-1] * (len(sa) >= 2) + sb[-1:] * (len(sb) >= 2)
        out = reshape_to(out, (size,) + tuple(final))
    return out


_matmul_batch.raw_ok = True  # primitives alone: runs on bare arrays when nothing records (core/batching.py)

matmul_p = Primitive(
    "matmul",
    _matmul,
    vjp=(_matmul_vjp_a, _matmul_vjp_b),
    jvp=(lambda t, ans, a, b: matmul_p(t, b), lambda t, ans, a, b: matmul_p(a, t)),  # bilinear
    save=("args",),
    fused_jvp=fused_jvp,
    batch=_matmul_batch,
    operator=" @ ",
    vjp_formulas=("{g} @ {1}ᵀ", "{0}ᵀ @ {g}"),
)


def _check_matmul(op, a, b, batch=True):
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError(f"{op}: operands need at least 1 dimension, got shapes {sa} and {sb} (use * for scalars)")
    inner = sb[-2] if len(sb) > 1 else sb[0]
    if sa[-1] != inner:
        raise ValueError(f"{op}: shapes {sa} and {sb} are not aligned: {sa[-1]} (last axis of the first) != "
                         f"{inner} ({'second-to-last' if len(sb) > 1 else 'only'} axis of the second)")
    if batch and len(sa) > 2 and len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"{op}: the batch axes of shapes {sa} and {sb} cannot be broadcast together") from None


def matmul(a, b):
    """Matrix product with NumPy's rules (1-D operands, broadcast batch axes); also ``a @ b``.

    >>> import chainrule as cr
    >>> cr.matmul(cr.ones((2, 3)), cr.ones((3,)))
    tensor([3., 3.])
    """
    if type(a) is Tensor and type(b) is Tensor:  # the common case, with the fewest calls
        sa, sb = a.data.shape, b.data.shape
        if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0]:  # two matrices that line up: nothing else to check
            return apply(matmul_p, (a, b), _NO_KW)
    a, b = _arr(a), _arr(b)
    _check_matmul("matmul", a, b)
    return matmul_p(a, b)


def dot(a, b):
    """``np.dot``: a product for scalars, matmul up to 2-D, a sum over a's last and b's second-to-last axis beyond.

    >>> import chainrule as cr
    >>> cr.dot(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0]))
    tensor(11.)
    """
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        return E.multiply(a, b)
    _check_matmul("dot", a, b, batch=False)
    if (a.ndim <= 2 and b.ndim <= 2) or a.ndim == 1 or b.ndim == 1:
        return matmul_p(a, b)  # the same contraction as np.dot for these shapes
    return tensordot_p(a, b, axes=((a.ndim - 1,), (b.ndim - 2,)))


def inner(a, b):
    """``np.inner``: sum over the last axes of both operands.

    >>> import chainrule as cr
    >>> cr.inner(cr.ones((2, 3)), cr.ones(3))
    tensor([3., 3.])
    """
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        return E.multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: the last axes of shapes {a.shape} and {b.shape} differ")
    if a.ndim == 1 and b.ndim == 1:
        return matmul_p(a, b)
    return tensordot_p(a, b, axes=((a.ndim - 1,), (b.ndim - 1,)))


def outer(a, b):
    """``np.outer``: every product of the flattened operands, shape (a.size, b.size).

    >>> import chainrule as cr
    >>> cr.outer(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 10.0]))
    tensor([[ 1., 10.],
            [ 2., 20.]])
    """
    a, b = _arr(a), _arr(b)
    return E.multiply(reshape(a, (a.size, 1)), reshape(b, (1, b.size)))


def vdot(a, b):
    """``np.vdot``: the dot product of the flattened operands, the first conjugated (for complex values).

    >>> import chainrule as cr
    >>> cr.vdot(cr.ones((2, 2)), cr.ones(4))
    tensor(4.)
    """
    a, b = _arr(a), _arr(b)
    if a.size != b.size:
        raise ValueError(f"vdot: shapes {a.shape} and {b.shape} have different sizes")
    return matmul_p(reshape(conj_of(a), (a.size,)), reshape(b, (b.size,)))


# ---- kron and cross: compositions of reshape, multiply and stack (no rules of their own) ----
def kron(a, b):
    """The Kronecker product, like ``np.kron``: blocks ``a[i, j] * b`` (any number of axes, the shorter
    shape padded with leading 1s).

    >>> import chainrule as cr
    >>> cr.kron(cr.tensor([1.0, 10.0]), cr.tensor([1.0, 2.0]))
    tensor([ 1.,  2., 10., 20.])
    """
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        return E.multiply(a, b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    # a's axis i and b's axis i side by side, so the product's row-major order is the block order
    spread_a = reshape(a, tuple(v for n in sa for v in (n, 1)))
    spread_b = reshape(b, tuple(v for n in sb for v in (1, n)))
    wide = E.multiply(spread_a, spread_b)
    return reshape(wide, tuple(m * n for m, n in zip(sa, sb)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or 2-vectors, read with a zero third component) along ``axisa``/``axisb``,
    broadcast over the other axes, the result's vectors along ``axisc``; like ``np.cross``.

    Two 2-vectors give the scalar third component, as in NumPy.

    >>> import chainrule as cr
    >>> cr.cross(cr.tensor([1.0, 0.0, 0.0]), cr.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("cross: both inputs must have at least one dimension")
    a, b = _moveaxis(a, axisa, -1), _moveaxis(b, axisb, -1)
    da, db = a.shape[-1], b.shape[-1]
    if da not in (2, 3) or db not in (2, 3):
        raise ValueError(f"cross: incompatible dimensions for cross product (dimension must be 2 or 3), got "
                         f"{da} and {db}")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    c2 = a0 * b1 - a1 * b0
    if da == 2 and db == 2:
        return c2
    if da == 3 and db == 3:
        a2, b2 = a[..., 2], b[..., 2]
        c0, c1 = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    elif da == 2:
        b2 = b[..., 2]
        c0, c1 = a1 * b2, -(a0 * b2)
    else:
        a2 = a[..., 2]
        c0, c1 = -(a2 * b1), a2 * b0
    lead = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    cs = [_broadcast_to(c, lead) if tuple(c.shape) != lead else c for c in (c0, c1, c2)]
    out = stack(cs, axis=-1)
    return _moveaxis(out, -1, axisc)
