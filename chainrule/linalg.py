"""``cr.linalg``: the differentiable part of ``numpy.linalg`` — norm (and vector_norm, matrix_norm), inv, det,
slogdet, solve, cholesky, qr, eig, eigvals, eigh, eigvalsh, svd, svdvals, pinv, lstsq, matrix_power, multi_dot,
matrix_transpose, and the products NumPy also lists there.

``np.linalg.norm(t)`` and the others reach these through NumPy's protocols.

>>> import chainrule as cr
>>> cr.linalg.norm(cr.tensor([3.0, 4.0]))
tensor(5.)
"""

import numpy as _np

from .core.shapes import shape_of as _shape_of
from .numpy import dispatch as _dispatch
from .ops import decompositions as _D, linalg as _L
from .ops.contractions import tensordot
from .ops.decompositions import cholesky, pinv, qr, slogdet
from .ops.eig import eig, eigvals
from .ops.linalg import det, inv, norm, solve
from .ops.spectral import eigh, eigvalsh, svd, svdvals
from .ops.products import matmul, outer
from .ops.elementwise import abs as _abs
from .ops.reduce import max as _max, sum as _sum
from .ops.shape import ravel as _ravel, reshape as _reshape, swapaxes as _swapaxes, transpose as _transpose

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "det", "solve", "multi_dot", "matrix_transpose", "matmul",
           "outer", "tensordot", "trace", "diagonal", "vecdot", "slogdet", "cholesky", "qr", "eigh", "eigvalsh", "svd",
           "svdvals", "pinv", "lstsq", "matrix_power", "eig", "eigvals", "matrix_rank", "cond", "tensorinv",
           "tensorsolve"]


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


def matrix_power(a, n):
    """``np.linalg.matrix_power``: ``a`` to the integer power ``n`` (by repeated squaring; ``inv`` first for n < 0).

    >>> import chainrule as cr
    >>> cr.linalg.matrix_power(cr.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    if not isinstance(n, (int, _np.integer)):
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}")
    shape = _shape_of(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"matrix_power: expected a square matrix or a stack of them, got shape {shape}")
    if n < 0:
        a, n = inv(a), -n
    if n == 0:  # the identity, on the graph with gradient 0
        return a * 0 + _np.eye(shape[-1], dtype=_dtype_of(a))
    result, power = None, a
    while n:
        if n & 1:
            result = power if result is None else matmul(result, power)
        n >>= 1
        if n:
            power = matmul(power, power)
    return result


def lstsq(a, b, rcond=None):
    """``np.linalg.lstsq``: (x, residuals, rank, s), x = pinv(a) @ b minimising ‖a x − b‖ (differentiable at
    constant rank, in a and b); residuals, when a has full column rank and more rows, the squared error; s svdvals(a).
    Under ``vmap`` the rank is a Tensor, and the residuals are given whenever M > N.

    >>> import chainrule as cr
    >>> x, res, rank, s = cr.linalg.lstsq(cr.tensor([[1.0], [1.0]]), cr.tensor([1.0, 3.0]))
    >>> x, res, rank
    (tensor([2.]), tensor([2.]), 1)
    """
    shape, bshape = _shape_of(a), _shape_of(b)
    if len(shape) != 2 or len(bshape) not in (1, 2) or bshape[0] != shape[0]:
        raise ValueError(f"lstsq: a must be (M, N) and b (M,) or (M, K); got shapes {shape} and {bshape}")
    m, n = shape
    s = svdvals(a)
    if rcond is None:
        rcond = max(m, n) * _np.finfo(_np.result_type(_dtype_of(a), float)).eps
    rank = _D.rank_p(s, rcond=float(rcond), atol=0.0)
    x = matmul(pinv(a, rcond=rcond), b)
    try:
        rank, concrete = int(rank.data), True
    except TypeError:  # a batched value (inside vmap) has no single rank
        concrete = False
    if m > n and (not concrete or rank == n):  # under vmap the rank is not known: residuals whenever m > n
        r = matmul(a, x) - b
        res = _sum(_abs(r) ** 2 if _dtype_of(r).kind == "c" else r ** 2, axis=0)  # |r|², real, as NumPy
        residuals = _reshape(res, (1,)) if len(bshape) == 1 else res
    else:
        residuals = _np.empty((0,), dtype=_dtype_of(s))
    return x, residuals, rank, s


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """``np.linalg.matrix_rank``: the number of singular values above the tolerance (a count: no derivative).

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.matrix_rank(cr.tensor(np.diag([1.0, 0.0, 2.0])))
    tensor(2)
    """
    shape = _shape_of(A)
    if len(shape) < 2:  # as NumPy: 1 unless every entry is 0
        return _D.rank_p(_reshape(_max(_abs(A)), (1,)), rcond=0.0, atol=0.0)
    s = svdvals(A)
    if tol is not None:
        return _D.rank_p(s, rcond=0.0, atol=float(tol))
    rcond = max(shape[-2:]) * _np.finfo(_np.result_type(_dtype_of(A), float)).eps if rtol is None else rtol
    return _D.rank_p(s, rcond=float(rcond), atol=0.0)


def cond(x, p=None):
    """``np.linalg.cond``: the condition number in the ``p`` norm (s_max / s_min for None and 2), batched.

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.cond(cr.tensor(np.diag([1.0, 4.0])))
    tensor(4.)
    """
    if p is None or p in (2, -2):
        s = svdvals(x)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


def tensorinv(a, ind=2):
    """``np.linalg.tensorinv``: the inverse of ``a`` read as a matrix over its first ``ind`` axes and the rest.

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.tensorinv(cr.tensor(np.eye(4).reshape(4, 2, 2)), ind=1).shape
    (2, 2, 4)
    """
    shape = _shape_of(a)
    if ind <= 0:
        raise ValueError("tensorinv: ind must be a positive integer")
    rows = int(_np.prod(shape[:ind]))
    return _reshape(inv(_reshape(a, (rows, -1))), shape[ind:] + shape[:ind])


def tensorsolve(a, b, axes=None):
    """``np.linalg.tensorsolve``: x with ``tensordot(a, x, x.ndim) == b``, through one matrix solve.

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.tensorsolve(cr.tensor(np.eye(4).reshape(2, 2, 4)), cr.tensor(np.ones((2, 2))))
    tensor([1., 1., 1., 1.])
    """
    if axes is not None:
        nd = len(_shape_of(a))
        axes = [k % nd for k in axes]
        a = _transpose(a, [k for k in range(nd) if k not in axes] + axes)
    shape, bshape = _shape_of(a), _shape_of(b)
    unknown = shape[len(bshape):]
    size = int(_np.prod(unknown))
    x = solve(_reshape(a, (-1, size)), _ravel(b))
    return _reshape(x, unknown)


def _dtype_of(t):
    return getattr(t, "dtype", None) or _np.asarray(t).dtype


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
