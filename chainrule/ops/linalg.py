"""Matrix functions: diagonal, trace, norm, inv, det, solve."""

from __future__ import annotations

import functools
import math

import numpy as np

from ..core.batching_rules import axis_rule, leading, ndim_of, reshape_to, shape_of
from ..core.complex_parts import conj, conj_of, is_complex, real
from ..core.primitive import Primitive, apply
from ..core.shapes import astype as _astype
from . import elementwise as E
from . import reduce as R
from .contractions import _LETTERS, _arr, einsum, einsum_p
from .products import _matmul_batch, _mT, matmul_p
from .shape import moveaxis, reshape
from .spectral import svdvals

__all__ = ["diagonal", "trace", "norm", "inv", "det", "solve"]


# ---- diagonal and trace -----------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _diag_subscripts(ndim, axis1, axis2):
    """einsum subscripts moving ḡ onto the rows that hold the diagonal, then out to both axes."""
    names = [c for c in _LETTERS if c not in "ijk"][:ndim]
    rest = "".join(c for k, c in enumerate(names) if k not in (axis1, axis2))
    names[axis1], names[axis2] = "i", "j"
    return f"{rest}k,ik->{rest}i", f"{rest}i,ij->{''.join(names)}"


def _diagonal_vjp(g, ans, x, offset, axis1, axis2, shape):
    # x̄ = ḡ put back on the diagonal, zeros elsewhere (the transpose of the linear map "take the diagonal")
    to_rows, spread = _diag_subscripts(len(shape), axis1, axis2)
    k = g.shape[-1]
    rows, cols = np.arange(k) + max(-offset, 0), np.arange(k) + max(offset, 0)
    onto = np.zeros((shape[axis1], k), dtype=g.dtype)  # constant one-hot maps, O(n²) work
    onto[rows, np.arange(k)] = 1
    mask = np.zeros((shape[axis1], shape[axis2]), dtype=g.dtype)
    mask[rows, cols] = 1
    return einsum_p(einsum_p(g, onto, subscripts=to_rows), mask, subscripts=spread)


def _diagonal_batch(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, axis1=kw["axis1"] + 1, axis2=kw["axis2"] + 1, shape=(size,) + tuple(kw["shape"])))


diagonal_p = Primitive(
    "diagonal",
    lambda x, offset, axis1, axis2, shape: np.diagonal(x, offset, axis1, axis2),
    vjp=(_diagonal_vjp,),
    jvp=(lambda t, ans, x, **kw: diagonal_p(t, **kw),),  # linear
    save=(),  # the rule needs only the shape, passed as a static argument,
    batch=_diagonal_batch,
    call_args=lambda kw, shapes: [(k, kw[k]) for k, default in (("offset", 0), ("axis1", 0), ("axis2", 1))
                                       if kw[k] != default],
)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """``np.diagonal``: the diagonal over ``axis1``/``axis2``, appended as the last axis.

    >>> import chainrule as cr
    >>> cr.diagonal(cr.eye(3) * 2)
    tensor([2., 2., 2.])
    """
    x = _arr(x)
    if x.ndim < 2 or not (-x.ndim <= axis1 < x.ndim and -x.ndim <= axis2 < x.ndim):
        raise ValueError(f"diagonal: axis1={axis1}, axis2={axis2} do not fit shape {x.shape}")
    a1, a2 = axis1 % x.ndim, axis2 % x.ndim
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2} for shape {x.shape}")
    return diagonal_p(x, offset=int(offset), axis1=a1, axis2=a2, shape=x.shape)


def trace(x, offset=0, axis1=0, axis2=1):
    """``np.trace``: the sum along a diagonal.

    >>> import chainrule as cr
    >>> cr.trace(cr.eye(3))
    tensor(3.)
    """
    return R.sum(diagonal(x, offset, axis1, axis2), axis=-1)


# ---- norm -------------------------------------------------------------------------
def _keep(g, shape, axes, keepdims):
    """``g`` with the reduced axes put back as size 1, so it broadcasts against the input."""
    if keepdims or not axes:
        return g
    return g.reshape(tuple(1 if k in axes else n for k, n in enumerate(shape)))


def _pnorm(x, p, axes, keepdims):
    if p == 0:  # the count of non-zero entries, in x's float dtype (as NumPy)
        return np.sum(x != 0, axis=axes, keepdims=keepdims).astype(x.dtype)
    if p == 2:
        sq = x * x if x.dtype.kind != "c" else x.real * x.real + x.imag * x.imag  # |x|², real
        return np.sqrt(np.sum(sq, axis=axes, keepdims=keepdims))
    return np.sum(np.abs(x) ** p, axis=axes, keepdims=keepdims) ** (1.0 / p)


def _dnorm(ans, x, p, axes, keepdims):
    """∂‖x‖_p/∂x = sign(x) (|x| / ‖x‖)^(p-1), which is x / ‖x‖ for p = 2."""
    if p == 0:
        return E._zeros_like(x)  # NOTE: the count of non-zeros is piecewise constant: gradient 0, as PyTorch
    ans = _keep(ans, x.shape, axes, keepdims)
    zero = ans == 0
    safe = E.where(zero, 1, ans)
    # for complex x: ∂/∂Re + i ∂/∂Im (PyTorch's convention), with sgn(z) = z/|z| differentiable again
    d = x / safe if p == 2 else E._sgn(x, E.abs(x)) * (E.abs(x) / safe) ** (p - 1)
    # NOTE: at the zero vector the gradient, and every higher derivative, is taken as 0 (not NaN)
    return E.where(zero, 0, d)


def _real_dot(d, t):
    # the tangent of a real function: Re(conj(d)·ṫ) for complex x (d being ∂/∂Re + i ∂/∂Im)
    return real(conj(d) * t) if is_complex(d) else t * d


def _norm_args(kw, shapes):
    # ord=None is the 2-norm (Frobenius for matrices)
    out = [] if kw["p"] == 2 else [("ord", kw["p"])]
    return out + R._reduction_args({k: v for k, v in kw.items() if k != "p"}, shapes)


norm_p = Primitive(
    "norm",
    _pnorm,
    vjp=(lambda g, ans, x, p, axes, keepdims: _keep(g, x.shape, axes, keepdims) * _dnorm(ans, x, p, axes, keepdims),),
    jvp=(lambda t, ans, x, p, axes, keepdims: R.sum(_real_dot(_dnorm(ans, x, p, axes, keepdims), t), axis=axes,
                                                     keepdims=keepdims),),
    save=("args", "ans"),
    batch=axis_rule("axes"),
    call_args=_norm_args,
)


def _vector_norm(x, ord, axes, keepdims):
    if ord is None or ord == 2:
        return norm_p(x, p=2.0, axes=axes, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors (input shape {x.shape}, axis {axes[0]})")
    if ord == math.inf or ord == -math.inf:  # max / min |x|: ties split the gradient like max / min
        return (R.max if ord > 0 else R.min)(E.abs(x), axis=axes, keepdims=keepdims)
    if ord == 1:
        return R.sum(E.abs(x), axis=axes, keepdims=keepdims)  # NOTE: abs'(0) = 0
    if ord == 0:  # the count of non-zero entries: on the graph, with gradient 0
        return norm_p(x, p=0.0, axes=axes, keepdims=keepdims)
    return norm_p(x, p=float(ord), axes=axes, keepdims=keepdims)


def _matrix_norm(x, ord, axes, keepdims):
    if ord is None or ord == "fro":
        return norm_p(x, p=2.0, axes=axes, keepdims=keepdims)
    if isinstance(ord, str) and ord == "nuc" or ord in (2, -2):  # from the singular values: max, min or sum
        s = svdvals(moveaxis(x, axes, (-2, -1)))
        out = R.sum(s, axis=-1) if isinstance(ord, str) else (R.max if ord > 0 else R.min)(s, axis=-1)
        return reshape(out, tuple(1 if k in axes else n for k, n in enumerate(x.shape))) if keepdims else out
    if ord not in (1, -1, math.inf, -math.inf):
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices (input shape {x.shape}, axes {axes})")
    # 1 / -1: max / min column sum; inf / -inf: max / min row sum (NumPy's definitions)
    summed, over = (axes[0], axes[1]) if ord in (1, -1) else (axes[1], axes[0])
    out = (R.max if ord > 0 else R.min)(R.sum(E.abs(x), axis=summed, keepdims=True), axis=over, keepdims=True)
    return out if keepdims else reshape(out, tuple(n for k, n in enumerate(x.shape) if k not in axes))


def norm(x, ord=None, axis=None, keepdims=False):
    """``np.linalg.norm``: vector norms (ord None/2/1/inf/-inf/0/p) and matrix norms (None/'fro'/'nuc'/2/-2/1/-1/
    inf/-inf; 2, -2 and 'nuc' from the singular values, with svd's conventions).

    The gradient at the zero vector is 0 (not NaN).

    >>> import chainrule as cr
    >>> cr.norm(cr.tensor([3.0, 4.0]))
    tensor(5.)
    """
    x = _arr(x)
    if x.dtype.kind in "biu":  # like NumPy: integers are measured as floats (x*x must not overflow)
        x = _astype(x, dtype=np.dtype(np.float64))
    nd = x.ndim
    if axis is None:
        axes = tuple(range(nd))
        if ord is None:  # the 2-norm of the flattened array
            return norm_p(x, p=2.0, axes=axes, keepdims=bool(keepdims))
        if nd not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D input, got shape {x.shape}")
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        if not all(-nd <= int(a) < nd for a in axes) or len(axes) not in (1, 2):
            raise ValueError(f"norm: axis={axis!r} does not fit shape {x.shape} (give one axis or two)")
        axes = tuple(int(a) % nd for a in axes)
        if len(set(axes)) < len(axes):
            raise ValueError(f"norm: axis={axis!r} repeats an axis of shape {x.shape}")
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, bool(keepdims))
    return _matrix_norm(x, ord, axes, bool(keepdims))


# ---- inverse, determinant, solve --------------------------------------------------
def _square(op, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{op}: expected a square matrix or a stack of them, got shape {a.shape}")


def _inv(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError("inv: singular matrix; its inverse does not exist, nor the derivatives that "
                                    "need it (det, slogdet, solve; eig of a defective matrix)") from None


inv_p = Primitive(
    "inv",
    _inv,
    # d(A⁻¹) = -A⁻¹ dA A⁻¹, so Ā = -A⁻ᵀ ḡ A⁻ᵀ
    vjp=(lambda g, ans, a: -matmul_p(_mT(conj_of(ans)), matmul_p(g, _mT(conj_of(ans)))),),  # conj: complex A
    jvp=(lambda t, ans, a: -matmul_p(ans, matmul_p(t, ans)),),
    save=("ans",),
    batch=leading,
)


def inv(a):
    """``np.linalg.inv`` of a square matrix or a stack of them.

    >>> import chainrule as cr
    >>> from chainrule.ops.linalg import inv
    >>> inv(cr.eye(2) * 2)
    tensor([[0.5, 0. ],
            [0. , 0.5]])
    """
    a = _arr(a)
    _square("inv", a)
    return inv_p(a)


def _unsqueeze2(v):
    return v.reshape(v.shape + (1, 1))


det_p = Primitive(
    "det",
    np.linalg.det,
    # Jacobi's formula: d det A = det A · tr(A⁻¹ dA), so Ā = ḡ det A · A⁻ᵀ (A must be invertible)
    vjp=(lambda g, ans, a: _unsqueeze2(g * conj_of(ans)) * _mT(conj_of(inv_p(a))),),  # conj: complex A
    jvp=(lambda t, ans, a: ans * einsum("...ij,...ji->...", inv_p(a), t),),
    save=("args", "ans"),
    batch=leading,
)


def det(a):
    """``np.linalg.det`` of a square matrix or a stack of them (its gradient needs an invertible matrix).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.ops.linalg import det
    >>> float(det(cr.tensor(np.diag([2.0, 3.0]))))
    6.0
    """
    a = _arr(a)
    _square("det", a)
    return det_p(a)


def _col(v, b):
    """A vector right-hand side (b 1-D) as a column, so batched solves and products read it right."""
    return v.reshape(v.shape + (1,)) if b.ndim == 1 else v


def _uncol(v, b):
    return v.reshape(v.shape[:-1]) if b.ndim == 1 else v


def _solve_vjp_b(g, ans, a, b):
    return _uncol(solve_p(_mT(conj_of(a)), _col(g, b)), b)  # b̄ = A⁻ᵀ ḡ (A⁻ᴴ ḡ for complex A)


def _solve_vjp_a(g, ans, a, b):
    gb = solve_p(_mT(conj_of(a)), _col(g, b))  # Ā = -b̄ xᵀ (b̄ as a column when b is a vector; xᴴ if complex)
    return -matmul_p(gb, _mT(conj_of(_col(ans, b))))


def _solve_batch(prim, vals, bat, kw, size):
    a, b = vals
    bb = bat[1]
    if ndim_of(b) - bb == 1:
        if not bb:  # NumPy solves a stack of systems against one vector
            return apply(prim, (a, b), kw)
        # a batch of vectors: solve against them as columns (B, n, 1), stacks aligned as in matmul
        col = _matmul_batch(prim, (a, reshape_to(b, shape_of(b) + (1,))), bat, kw, size, fold=False)
        return reshape_to(col, shape_of(col)[:-1])
    return _matmul_batch(prim, vals, bat, kw, size, fold=False)


solve_p = Primitive(
    "solve",
    np.linalg.solve,
    vjp=(_solve_vjp_a, _solve_vjp_b),
    # dx = A⁻¹ (db - dA x)
    jvp=(lambda t, ans, a, b: -_uncol(solve_p(a, matmul_p(t, _col(ans, b))), b), lambda t, ans, a, b: solve_p(a, t)),
    save=("args", "ans"),
    batch=_solve_batch,
)


def solve(a, b):
    """``np.linalg.solve`` (NumPy 2 rules: b is a vector only when 1-D, else a stack of matrices).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.ops.linalg import solve
    >>> solve(cr.tensor(np.diag([2.0, 4.0])), cr.tensor([2.0, 2.0]))
    tensor([1. , 0.5])
    """
    a, b = _arr(a), _arr(b)
    _square("solve", a)
    if b.ndim == 0 or (b.shape[-1] if b.ndim == 1 else b.shape[-2]) != a.shape[-1]:
        raise ValueError(f"solve: shapes {a.shape} and {b.shape} do not fit (b must be (M,) or (..., M, K))")
    return solve_p(a, b)
