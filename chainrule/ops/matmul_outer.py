"""Products whose inner dimension is 1 (outer products), by the kernel measured fastest here.

``a @ b`` with ``a`` of shape (m, 1) and ``b`` of shape (1, n) is an outer product: every entry is one
multiplication, so the work is writing the m × n result. NumPy's ``matmul`` sends it to a BLAS gemm
with k = 1, which OpenBLAS runs several times slower than either ``np.dot`` (the same gemm called
another way) or a broadcast product (``a * b``); which of those two is faster depends on the BLAS
and the dtype (on one AMD EPYC VM: ``np.dot`` for float32, broadcasting for float64). The first
large outer product of each dtype times both on its own operands and keeps the faster for the rest
of the process. With one factor per entry, no sum, both give the same numbers.

This is the weight gradient of a batch-1 layer (W̄ = ḡᵀ x) and of ``x.T @ g`` written by hand.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["outer_matmul"]

_MEASURE_MIN = 1 << 16  # entries of the result: below this both are fast, broadcasting has less call overhead
_DOT_PAYS = {}  # dtype char -> whether np.dot was measured faster than broadcasting
_dot = np.dot
_multiply = np.multiply


def _dot_pays(a, b):
    """Whether ``np.dot`` beats broadcasting for this dtype, measured once (best of three interleaved rounds)."""
    key = np.result_type(a, b).char
    pays = _DOT_PAYS.get(key)
    if pays is None:
        best = [float("inf"), float("inf")]
        for _ in range(3):
            for j, fn in enumerate((_dot, _multiply)):
                t0 = time.perf_counter()
                fn(a, b)
                best[j] = min(best[j], time.perf_counter() - t0)
        pays = _DOT_PAYS[key] = best[0] < best[1]
    return pays


def outer_matmul(a, b):
    """``a @ b`` for 2-D ``a`` of shape (m, 1) and ``b`` of shape (1, n), as an outer product.

    >>> import numpy as np
    >>> outer_matmul(np.array([[1.0], [2.0]]), np.array([[3.0, 4.0, 5.0]]))
    array([[ 3.,  4.,  5.],
           [ 6.,  8., 10.]])
    """
    if a.shape[0] * b.shape[1] >= _MEASURE_MIN and a.dtype.kind in "fc" and b.dtype.kind in "fc" \
            and _dot_pays(a, b):
        return _dot(a, b)
    return _multiply(a, b)
