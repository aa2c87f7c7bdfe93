"""The one-pass forward-mode rule for a product of a large matrix with a vector, and when it pays.

A matrix-vector product reads the whole matrix for a few flops per entry, so it runs at memory
speed; ``W x`` and its tangent ``W v`` read W twice. As one product of W with the two vectors
stacked, block of rows by block of rows, W is read once -- if the BLAS runs a product with two
vectors as fast as one. On some machines it does and on others it is slower than two products
(docs/performance.md has the measurements), so the first large product of each dtype and
orientation times both ways on its own matrix and keeps the faster for the rest of the process
(``_fusion_pays``). The two ways differ only in rounding, and within a process every call takes
the same way. Blocks of at most 128 rows (about 1 MB) keep OpenBLAS from packing the whole
matrix, which made one product with two columns slower than two.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["fused_jvp"]

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


def fused_jvp(i, a, b, t):
    """``(a @ b, tangent)`` with one pass over a large matrix, for a tangent ``t`` on a vector operand.

    Declines (None) unless the other operand is a large 2-D matrix and the tangent's operand
    is a vector (1-D, or a single column / row), and the one-pass product was measured faster
    than two on this machine (``_fusion_pays``); then ``M x`` and ``M v`` are computed together.

    >>> fused_jvp(1, np.eye(3), np.ones(3), np.arange(3.0)) is None  # small: cached anyway, declined
    True
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
