"""``cr.linalg``: the differentiable part of ``numpy.linalg`` — norm (and vector_norm, matrix_norm), inv, det,
solve, multi_dot, matrix_transpose, and the products NumPy also lists there.

``np.linalg.norm(t)`` and the others reach these through NumPy's protocols.

>>> import chainrule as cr
>>> cr.linalg.norm(cr.tensor([3.0, 4.0]))
tensor(5.)
"""

import numpy as _np

from .core.shapes import shape_of as _shape_of
from .numpy import dispatch as _dispatch
from .ops import linalg as _L
from .ops.contractions import tensordot
from .ops.linalg import det, inv, norm, solve
from .ops.products import matmul, outer
from .ops.reduce import sum as _sum
from .ops.shape import ravel as _ravel, reshape as _reshape, swapaxes as _swapaxes

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "det", "solve", "multi_dot", "matrix_transpose", "matmul",
           "outer", "tensordot", "trace", "diagonal", "vecdot"]


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """``np.linalg.vector_norm``: the ``ord`` vector norm over ``axis`` (all axes, flattened, by default).

    >>> import chainrule as cr
    >>> cr.linalg.vector_norm(cr.ones((2, 2)))
    tensor(2.)
    """
    if axis is None:
        shape = _shape_of(x)
        out = norm(_ravel(x), ord=ord, axis=0)
        return _reshape(out, (1,) * len(shape)) if keepdims else out
    return norm(x, ord=ord, axis=axis, keepdims=keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """``np.linalg.matrix_norm``: the ``ord`` matrix norm over the last two axes."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def multi_dot(arrays, *, out=None):
    """``np.linalg.multi_dot``: the product of a chain of matrices (a 1-D first or last one as a vector)."""
    if out is not None:
        raise TypeError("multi_dot(..., out=...): chainrule cannot write into an existing array; assign the result")
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays")
    result = arrays[0]
    for a in arrays[1:]:
        result = matmul(result, a)
    return result


def matrix_transpose(x, /):
    """``np.linalg.matrix_transpose``: the last two axes swapped."""
    return _swapaxes(x, -1, -2)


def trace(x, /, *, offset=0, dtype=None):
    """``np.linalg.trace``: the sum along a diagonal of the last two axes (``np.trace`` takes the first two).

    >>> import chainrule as cr
    >>> cr.linalg.trace(cr.ones((2, 3, 3)))
    tensor([3., 3.])
    """
    out = _L.trace(x, offset, -2, -1)
    return out if dtype is None else out.astype(dtype)


def diagonal(x, /, *, offset=0):
    """``np.linalg.diagonal``: the diagonals of the last two axes (``np.diagonal`` takes the first two)."""
    return _L.diagonal(x, offset, -2, -1)


def vecdot(x1, x2, /, *, axis=-1):
    """``np.linalg.vecdot`` for real arrays: the sum of products along ``axis`` (broadcasting the rest)."""
    return _sum(x1 * x2, axis=axis)


# np.linalg.<name>(tensor) runs these (NumPy hands them over through __array_function__).
for _name in __all__:
    if hasattr(_np.linalg, _name):
        _dispatch.NUMPY_FUNCTIONS[getattr(_np.linalg, _name)] = globals()[_name]
