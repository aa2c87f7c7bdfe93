"""Products: matmul (with its one-pass forward-mode rule for a large matrix), dot, inner, outer, vdot."""

from __future__ import annotations

import time

import numpy as np

from ..core.primitive import Primitive
from . import elementwise as E
from .contractions import _arr, tensordot_p
from .shape import reshape, swapaxes

__all__ = ["matmul", "dot", "inner", "outer", "vdot"]


def _mT(x):
    """Swap the last two axes (the matrix transpose of a stack of matrices)."""
    return x.T if x.ndim == 2 else swapaxes(x, -1, -2)


# ---- matmul -----------------------------------------------------------------------
def _matmul(a, b):
    # OpenBLAS runs a gemm whose inner dimension is 1 several times slower than np.dot
    # (2-D) or the equivalent broadcast product (batched): both measured faster.
    if a.ndim >= 2 and b.ndim >= 2 and a.shape[-1] == 1:
        return np.dot(a, b) if a.ndim == 2 and b.ndim == 2 else np.multiply(a, b)
    return np.matmul(a, b)


def _promote(g, a, b):
    """View 1-D operands as a row (a) / column (b) and ḡ with the matching size-1 axes."""
    if a.ndim == 1 and b.ndim == 1:
        return g.reshape((1, 1)), a.reshape((1,) + a.shape), b.reshape(b.shape + (1,))
    if a.ndim == 1:
        return g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]), a.reshape((1,) + a.shape), b
    return g.reshape(g.shape + (1,)), a, b.reshape(b.shape + (1,))


def _matmul_vjp_a(g, ans, a, b):
    if a.ndim > 1 and b.ndim > 1:
        return matmul_p(g, _mT(b))  # ā = ḡ bᵀ (the engine sums broadcast batch axes)
    if a.ndim == 1 and b.ndim == 2:
        return matmul_p(b, g)  # ā = b ḡ: a matrix-vector product, not a product with a column
    g, a2, b2 = _promote(g, a, b)
    ga = matmul_p(g, _mT(b2))
    return ga.reshape(ga.shape[:-2] + a.shape[-1:]) if a.ndim == 1 else ga


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim > 1 and b.ndim > 1:
        return matmul_p(_mT(a), g)  # b̄ = aᵀ ḡ
    if a.ndim == 2 and b.ndim == 1:
        return matmul_p(g, a)  # b̄ = aᵀ ḡ = ḡ a: BLAS's gemv, ~10% faster than aᵀ times a column
    g, a2, b2 = _promote(g, a, b)
    gb = matmul_p(_mT(a2), g)
    # drop the column axis: (..., n, 1) could not be summed back to (n,) by the engine
    return gb.reshape(gb.shape[:-1]) if b.ndim == 1 else gb


# A matrix-vector product reads the whole matrix for a few flops per entry, so it can run at
# memory speed; W x and its tangent W v read W twice. As one product of W with the two vectors
# stacked, block of rows by block of rows, W is read once -- if the BLAS runs a product with two
# vectors as fast as one. That depends on the machine: measured (2000 x 2000, one BLAS thread)
# 1.05-1.15x one product on one Intel VM, in float64 and float32, which is what makes
# forward-over-reverse hvp cheap there; 1.3-3x one product -- slower than two -- on an AMD EPYC
# VM, whose OpenBLAS runs the Haswell kernels. So the first large product of each dtype and
# orientation times both ways on its own matrix and keeps the faster for the rest of the process
# (_fusion_pays); the two ways differ only in rounding, and within a process every call takes the same way.
# (OpenBLAS's gemm on the whole W with two columns is slower than two products; blocks of 128
# rows or fewer, about 1 MB, avoid its packing.)
_FUSE_MIN_BYTES = 1 << 21  # smaller matrices stay in the cache anyway
_BLOCK_BYTES = 1 << 20
_BLOCK_ROWS = 128
_FUSE = None  # None: measure once per kernel and dtype; True / False: always / never fuse (tests)
_FUSE_PAYS = {}  # (kernel name, dtype char) -> whether the one-pass product was measured faster
_PROBE_BYTES = 1 << 25  # the timing reads at most this much of the matrix (a leading block of rows)


def _block_rows(M):
    return max(1, min(_BLOCK_ROWS, _BLOCK_BYTES // max(1, M.strides[0])))


def _rows_times(M, u, t):
    """``(M @ u, M @ t)`` for a C-contiguous matrix M: ``[u; t] @ Mᵀ`` block of rows by block of rows."""
    X = np.stack([u, t])
    y = np.empty((2, M.shape[0]), np.result_type(M, X))
    step = _block_rows(M)
    for i in range(0, M.shape[0], step):
        np.matmul(X, M[i : i + step].T, out=y[:, i : i + step])
    return y[0].copy(), y[1].copy()  # two arrays: a write into the tangent must not touch the value


def _times_rows(u, t, M):
    """``(u @ M, t @ M)`` for a C-contiguous matrix M: each block of rows' contribution, summed."""
    X = np.stack([u, t])
    y = np.zeros((2, M.shape[1]), np.result_type(M, X))
    part = np.empty_like(y)
    step = _block_rows(M)
    for i in range(0, M.shape[0], step):
        y += np.matmul(X[:, i : i + step], M[i : i + step], out=part)
    return y[0].copy(), y[1].copy()  # two arrays: a write into the tangent must not touch the value


def _best_times(*fns, rounds=3):
    """The best of ``rounds`` interleaved timings of each function, in seconds."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for j, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[j] = min(best[j], time.perf_counter() - t0)
    return best


def _fusion_pays(kernel, M, u, t):
    """Whether ``kernel`` (``_rows_times`` or ``_times_rows``) beats two separate products here.

    Measured once per kernel and dtype on a leading block of ``M``'s rows (at most 32 MB), best
    of three interleaved rounds; the one-pass product must be clearly faster (by 10%) to be used.
    """
    if _FUSE is not None:
        return _FUSE
    key = (kernel.__name__, M.dtype.char)
    pays = _FUSE_PAYS.get(key)
    if pays is None:
        rows = max(1, min(M.shape[0], _PROBE_BYTES // max(1, M.strides[0])))
        B = M[:rows]
        if kernel is _rows_times:
            fused, apart = (lambda: _rows_times(B, u, t)), (lambda: (B @ u, B @ t))
        else:
            ub, tb = u[:rows], t[:rows]
            fused, apart = (lambda: _times_rows(ub, tb, B)), (lambda: (ub @ B, tb @ B))
        best = _best_times(fused, apart)
        pays = _FUSE_PAYS[key] = best[0] < 0.9 * best[1]
    return pays


def _matmul_fused(i, a, b, t):
    """``(a @ b, tangent)`` with one pass over a large matrix, for a tangent ``t`` on a vector operand.

    Declines (None) unless the other operand is a large 2-D matrix and the tangent's operand
    is a vector (1-D, or a single column / row), and the one-pass product was measured faster
    than two on this machine (``_fusion_pays``); then ``M x`` and ``M v`` are computed together.
    """
    M, u = (a, b) if i == 1 else (b, a)
    # float16 declines: the blocks' partial sums would round in float16, where one BLAS call does not
    if M.ndim != 2 or M.nbytes < _FUSE_MIN_BYTES or M.dtype.kind != "f" or u.dtype.kind != "f" or \
            min(M.itemsize, u.itemsize, t.itemsize) < 4:
        return None
    if i == 1:  # M @ u, u a vector or a column
        if u.shape not in ((M.shape[1],), (M.shape[1], 1)):
            return None
        shape = (M.shape[0],) + u.shape[1:]
        if M.flags.c_contiguous:
            kernel, args = _rows_times, (M, u.reshape(-1), t.reshape(-1))
        elif M.flags.f_contiguous:
            kernel, args = _times_rows, (u.reshape(-1), t.reshape(-1), M.T)  # M u = (uᵀ Mᵀ)ᵀ, Mᵀ C-contiguous
        else:
            return None
    else:  # u @ M, u a vector or a row
        if u.shape not in ((M.shape[0],), (1, M.shape[0])):
            return None
        shape = u.shape[:-1] + (M.shape[1],)
        if M.flags.c_contiguous:
            kernel, args = _times_rows, (u.reshape(-1), t.reshape(-1), M)
        elif M.flags.f_contiguous:
            kernel, args = _rows_times, (M.T, u.reshape(-1), t.reshape(-1))
        else:
            return None
    C, x, v = (args[0], args[1], args[2]) if kernel is _rows_times else (args[2], args[0], args[1])
    if not _fusion_pays(kernel, C, x, v):
        return None
    y, ty = kernel(*args)
    return y.reshape(shape), ty.reshape(shape)


matmul_p = Primitive(
    "matmul",
    _matmul,
    vjp=(_matmul_vjp_a, _matmul_vjp_b),
    jvp=(lambda t, ans, a, b: matmul_p(t, b), lambda t, ans, a, b: matmul_p(a, t)),  # bilinear
    save=("args",),
    fused_jvp=_matmul_fused,
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
    """``np.vdot`` for real arrays: the dot product of the flattened operands.

    >>> import chainrule as cr
    >>> cr.vdot(cr.ones((2, 2)), cr.ones(4))
    tensor(4.)
    """
    a, b = _arr(a), _arr(b)
    if a.size != b.size:
        raise ValueError(f"vdot: shapes {a.shape} and {b.shape} have different sizes")
    return matmul_p(reshape(a, (a.size,)), reshape(b, (b.size,)))
