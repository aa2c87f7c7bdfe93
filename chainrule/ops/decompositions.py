"""Factorizations and what is built on them: cholesky, qr, slogdet, pinv (batched over leading axes)."""

from __future__ import annotations

import numpy as np

from ..core.batching_rules import leading
from ..core.primitive import Primitive
from ..extend import nondifferentiable
from . import elementwise as E
from . import join as J
from .contractions import _arr, einsum
from .linalg import inv_p, solve_p
from .products import _mT, matmul_p
from .spectral import _flat, _real, _square, lower_symmetric, onto_lower

__all__ = []  # public through cr.linalg (as numpy.linalg), which imports them


# ---- cholesky -----------------------------------------------------------------------
def _cholesky(a):
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError as e:
        raise np.linalg.LinAlgError(f"cholesky: the matrix is not positive definite (NumPy: {e}); the factor, and "
                                    f"its derivative, exist only for a symmetric positive-definite matrix") from None


def _phi(x):
    """The lower triangle of x, its diagonal halved (dL = L Φ(L⁻¹ dS L⁻ᵀ))."""
    n = x.shape[-1]
    return x * (np.tril(np.ones((n, n), dtype=x.dtype), -1) + 0.5 * np.eye(n, dtype=x.dtype))


def _cholesky_vjp(g, ans, a):
    # S̄ = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹ (Φ is self-adjoint), carried onto the lower triangle NumPy reads
    li = inv_p(ans)
    return onto_lower(matmul_p(_mT(li), matmul_p(_phi(matmul_p(_mT(ans), g)), li)))


def _cholesky_jvp(t, ans, a):
    li = inv_p(ans)
    return matmul_p(ans, _phi(matmul_p(li, matmul_p(lower_symmetric(t), _mT(li)))))


cholesky_p = Primitive(
    "cholesky",
    _cholesky,
    vjp=(_cholesky_vjp,),
    jvp=(_cholesky_jvp,),
    save=("ans",),
    batch=leading,
    vjp_formulas=("{out}⁻ᵀ Φ({out}ᵀ {g}) {out}⁻¹ folded onto the lower triangle",),
    convention="cholesky reads the lower triangle of A (as NumPy); a matrix that is not positive definite raises",
)


def cholesky(a, /, *, upper=False):
    """``np.linalg.cholesky``: L (or U = Lᵀ with ``upper=True``) with ``a = L @ Lᵀ``, batched.

    Differentiable as NumPy computes it, from the lower triangle; a matrix that is not positive
    definite raises ``LinAlgError`` naming cholesky.

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.cholesky(cr.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 0.],
            [1., 1.]])
    """
    a = _arr(a)
    _square("cholesky", a)
    out = cholesky_p(a)
    return _mT(out) if upper else out


# ---- qr -----------------------------------------------------------------------------
def _qr(a, complete):
    q, r = np.linalg.qr(a, mode="complete" if complete else "reduced")
    batch = a.shape[:-2]
    return np.concatenate([_flat(q, batch), _flat(r, batch)], axis=-1)


def _split_qr(p, m, n, complete=False):
    k = m if complete else min(m, n)
    batch = tuple(p.shape[:-1])
    return p[..., :m * k].reshape(batch + (m, k)), p[..., m * k:].reshape(batch + (k, n))


def _qr_shape(a):
    m, n = a.shape[-2:]
    if m < n:
        raise NotImplementedError(f"qr: the primitive's derivative is implemented for m >= n (a tall or square "
                                  f"matrix); got shape {a.shape}: call chainrule.linalg.qr, which splits a wide one")
    return m, n


def _right_rinv(x, r):
    """x R⁻¹, by a solve with Rᵀ."""
    return _mT(solve_p(_mT(r), _mT(x)))


def _qr_vjp(g, ans, a, complete):
    # M = QᵀQ̄ − R̄Rᵀ, N = tril(M − Mᵀ, −1) − M, Ā = (Q N + Q̄) R⁻ᵀ
    m, n = _qr_shape(a)
    q, r = _split_qr(ans, m, n, complete)
    gq, gr = _split_qr(g, m, n, complete)
    if complete and m > n:  # Q's completion moves only as orthogonality asks (Q₂ᵀ dQ₂ = 0); R's zero rows stay 0
        q, q2, gq, gq2 = q[..., :n], q[..., n:], gq[..., :n], gq[..., n:]
        gq = gq - matmul_p(q2, matmul_p(_mT(gq2), q))
        r, gr = r[..., :n, :], gr[..., :n, :]
    mm = matmul_p(_mT(q), gq) - matmul_p(gr, _mT(r))
    strict = np.tril(np.ones((n, n), dtype=mm.dtype), -1)
    nn = (mm - _mT(mm)) * strict - mm
    return _mT(solve_p(r, _mT(matmul_p(q, nn) + gq)))


def _qr_jvp(t, ans, a, complete):
    # C = Qᵀ dA R⁻¹, Ω = tril(C, −1) − tril(C, −1)ᵀ: dQ = Q (Ω − C) + dA R⁻¹, dR = (C − Ω) R
    m, n = _qr_shape(a)
    q, r = _split_qr(ans, m, n, complete)
    full = complete and m > n
    if full:
        q, q2, r = q[..., :n], q[..., n:], r[..., :n, :]
    dar = _right_rinv(t, r)
    c = matmul_p(_mT(q), dar)
    low = c * np.tril(np.ones((n, n), dtype=c.dtype), -1)
    omega = low - _mT(low)
    dq = matmul_p(q, omega - c) + dar
    dr = matmul_p(c - omega, r)
    if full:
        dq = J.concatenate([dq, -matmul_p(q, matmul_p(_mT(dq), q2))], axis=-1)
        dr = J.concatenate([dr, E._zeros_like(t[..., n:, :])], axis=-2)
    batch = tuple(t.shape[:-2])
    return J.concatenate([_flat(dq, batch), _flat(dr, batch)], axis=-1)


qr_p = Primitive(
    "qr",
    _qr,
    vjp=(_qr_vjp,),
    jvp=(_qr_jvp,),
    save=("args", "ans"),
    batch=leading,
    convention="the derivative needs m >= n and a full-rank matrix (R invertible); mode='complete': Q's completion "
    "columns satisfy Q₂ᵀ dQ₂ = 0 (only basis-independent functions of them have a derivative)",
)


def qr(a, mode="reduced"):
    """``np.linalg.qr``: Q, R with ``a = Q @ R`` (modes ``"reduced"``, ``"complete"``), or R alone (``"r"``),
    batched.

    Differentiable where the leading min(m, n) columns have full rank (a wide matrix's leading square block is
    factored, the rest carried by Qᵀ); ``"complete"``'s extra columns of Q, a basis LAPACK chooses, only
    through basis-independent functions (see ``qr_p.convention``); mode ``"raw"`` is not supported.

    >>> import numpy as np, chainrule as cr
    >>> q, r = cr.linalg.qr(cr.tensor([[3.0, 0.0], [4.0, 5.0]]))
    >>> abs(float(r[0, 0]))
    5.0
    """
    a = _arr(a)
    _real("qr", a)
    if a.ndim < 2:
        raise ValueError(f"qr: expected a matrix or a stack of them, got shape {a.shape}")
    if mode not in ("reduced", "complete", "r"):
        raise NotImplementedError(f"qr: mode={mode!r} is not differentiable here; use 'reduced', 'complete' or 'r'")
    m, n = a.shape[-2:]
    if m < n:  # a wide matrix [X | Y]: Q R_X = X (the same reflectors as LAPACK's), and R = [R_X | Qᵀ Y]
        q, rx = _split_qr(qr_p(a[..., :, :m], complete=False), m, m)
        r = J.concatenate([rx, matmul_p(_mT(q), a[..., :, m:])], axis=-1)
    else:
        complete = mode == "complete"
        q, r = _split_qr(qr_p(a, complete=complete), m, n, complete)
    return r if mode == "r" else (q, r)


# ---- slogdet ------------------------------------------------------------------------
def _unsqueeze2(v):
    return v.reshape(tuple(v.shape) + (1, 1))


logabsdet_p = Primitive(
    "logabsdet",
    lambda a: np.linalg.slogdet(a)[1],
    # d log|det A| = tr(A⁻¹ dA), so Ā = ḡ A⁻ᵀ (A must be invertible)
    vjp=(lambda g, ans, a: _unsqueeze2(g) * _mT(inv_p(a)),),
    jvp=(lambda t, ans, a: einsum("...ij,...ji->...", inv_p(a), t),),
    save=("args",),
    batch=leading,
    vjp_formulas=("{g} · {0}⁻ᵀ",),
)


def slogdet(a):
    """``np.linalg.slogdet``: (sign, log|det a|), batched; the sign is a constant, the log differentiable.

    >>> import numpy as np, chainrule as cr
    >>> sign, logdet = cr.linalg.slogdet(cr.tensor(np.diag([-2.0, 3.0])))
    >>> float(sign), round(float(logdet), 4)
    (-1.0, 1.7918)
    """
    a = _arr(a)
    _square("slogdet", a)
    return slogdet_sign_p(a), logabsdet_p(a)


# the sign of det a: np.linalg.slogdet's first output, piecewise constant (no derivative)
slogdet_sign_p = nondifferentiable("slogdet_sign", lambda a: np.linalg.slogdet(a)[0], batch=leading)


# the numerical rank from the singular values: those above max(atol, rcond · the largest) (matrix_rank, lstsq)
rank_p = nondifferentiable(
    "matrix_rank",
    lambda s, rcond, atol: np.sum(s > np.maximum(atol, rcond * s.max(axis=-1, keepdims=True, initial=0)), axis=-1),
    batch=leading,
)


# ---- pinv ---------------------------------------------------------------------------
def _eye_like(n, x):
    return np.eye(n, dtype=x.dtype)


def _pinv_jvp(t, ans, a, rcond):
    # dP = −P dA P + P Pᵀ dAᵀ (I − A P) + (I − P A) dAᵀ Pᵀ P   (constant rank)
    m, n = a.shape[-2:]
    p, tt = ans, _mT(t)
    left = _eye_like(m, p) - matmul_p(a, p)
    right = _eye_like(n, p) - matmul_p(p, a)
    return (-matmul_p(p, matmul_p(t, p)) + matmul_p(matmul_p(p, _mT(p)), matmul_p(tt, left))
            + matmul_p(right, matmul_p(tt, matmul_p(_mT(p), p))))


def _pinv_vjp(g, ans, a, rcond):
    # the adjoint of the rule above: Ā = −Pᵀ ḡ Pᵀ + (I − A P) ḡᵀ P Pᵀ + Pᵀ P ḡᵀ (I − P A)
    m, n = a.shape[-2:]
    p, gt = ans, _mT(g)
    left = _eye_like(m, p) - matmul_p(a, p)
    right = _eye_like(n, p) - matmul_p(p, a)
    return (-matmul_p(_mT(p), matmul_p(g, _mT(p))) + matmul_p(left, matmul_p(gt, matmul_p(p, _mT(p))))
            + matmul_p(matmul_p(_mT(p), p), matmul_p(gt, right)))


pinv_p = Primitive(
    "pinv",
    lambda a, rcond: np.linalg.pinv(a, rcond=rcond),
    vjp=(_pinv_vjp,),
    jvp=(_pinv_jvp,),
    save=("args", "ans"),
    batch=leading,
    convention="the derivative holds where the rank is locally constant (no singular value at the rcond cutoff)",
)


def pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """``np.linalg.pinv``: the Moore-Penrose pseudo-inverse, batched; differentiable at constant rank
    (``hermitian`` is accepted: the general algorithm gives the same result).

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.pinv(cr.tensor([[2.0, 0.0]]))
    tensor([[0.5],
            [0. ]])
    """
    a = _arr(a)
    _real("pinv", a)
    if a.ndim < 2:
        raise ValueError(f"pinv: expected a matrix or a stack of them, got shape {a.shape}")
    if rcond is None:  # NumPy's defaults: 1e-15, or max(M, N)·eps for rtol=None
        rcond = 1e-15 if rtol is np._NoValue else max(a.shape[-2:]) * np.finfo(a.dtype).eps if rtol is None else rtol
    elif rtol is not np._NoValue:
        raise ValueError("pinv: rtol and rcond can't be both set")
    return pinv_p(a, rcond=float(rcond))
