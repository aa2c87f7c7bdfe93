"""Factorizations and what is built on them: cholesky, qr, slogdet, pinv (batched over leading axes)."""

from __future__ import annotations

import numpy as np

from ..core.batching_rules import leading
from ..core.complex_parts import conj, imag, is_complex, real
from ..core.primitive import Primitive
from ..extend import nondifferentiable
from . import elementwise as E
from . import join as J
from .contractions import _arr, einsum
from .linalg import inv_p, solve_p
from .products import _mT, matmul_p
from .spectral import _flat, _mH, _square, lower_symmetric, onto_lower

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
    # S̄ = L⁻ᴴ Φ(Lᴴ L̄) L⁻¹ (Φ is self-adjoint), carried onto the lower triangle NumPy reads
    li = inv_p(ans)
    return onto_lower(matmul_p(_mH(li), matmul_p(_phi(matmul_p(_mH(ans), g)), li)))


def _cholesky_jvp(t, ans, a):
    li = inv_p(ans)
    return matmul_p(ans, _phi(matmul_p(li, matmul_p(lower_symmetric(t), _mH(li)))))


cholesky_p = Primitive(
    "cholesky",
    _cholesky,
    vjp=(_cholesky_vjp,),
    jvp=(_cholesky_jvp,),
    save=("ans",),
    batch=leading,
    vjp_formulas=("{out}⁻ᴴ Φ({out}ᴴ {g}) {out}⁻¹ folded onto the lower triangle",),
    convention="cholesky reads the lower triangle of A, and the real part of a complex diagonal (as NumPy); a "
    "matrix that is not positive definite raises",
)


def cholesky(a, /, *, upper=False):
    """``np.linalg.cholesky``: L (or U = Lᴴ with ``upper=True``) with ``a = L @ Lᴴ``, batched; real or complex
    (Hermitian) matrices.

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
    return _mH(out) if upper else out


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
    # M = QᴴQ̄ − R̄Rᴴ, N = tril(M − Mᴴ, −1) + i·Im diag(M) − M, Ā = (Q N + Q̄) R⁻ᴴ
    m, n = _qr_shape(a)
    q, r = _split_qr(ans, m, n, complete)
    gq, gr = _split_qr(g, m, n, complete)
    if complete and m > n:  # Q's completion moves only as orthogonality asks (Q₂ᴴ dQ₂ = 0); R's zero rows stay 0
        q, q2, gq, gq2 = q[..., :n], q[..., n:], gq[..., :n], gq[..., n:]
        gq = gq - matmul_p(q2, matmul_p(_mH(gq2), q))
        r, gr = r[..., :n, :], gr[..., :n, :]
    mm = matmul_p(_mH(q), gq) - matmul_p(gr, _mH(r))
    strict = np.tril(np.ones((n, n), dtype=mm.dtype), -1)
    nn = (mm - _mH(mm)) * strict - mm
    if is_complex(mm):
        nn = nn + _imag_diagonal(mm)
    return _mH(solve_p(r, _mH(matmul_p(q, nn) + gq)))


def _imag_diagonal(c):
    """i·Im of c's diagonal, as a matrix (0 for a real c): the part of a complex QᴴdQ that R's real diagonal leaves
    to Q (LAPACK's R has a real diagonal, so Qᴴ dQ is skew-Hermitian with an imaginary diagonal)."""
    return (c - _mH(c)) * (0.5 * np.eye(c.shape[-1], dtype=c.dtype))


def _qr_jvp(t, ans, a, complete):
    # C = Qᴴ dA R⁻¹, Ω = tril(C, −1) − tril(C, −1)ᴴ + i·Im diag(C): dQ = Q (Ω − C) + dA R⁻¹, dR = (C − Ω) R
    m, n = _qr_shape(a)
    q, r = _split_qr(ans, m, n, complete)
    full = complete and m > n
    if full:
        q, q2, r = q[..., :n], q[..., n:], r[..., :n, :]
    dar = _right_rinv(t, r)
    c = matmul_p(_mH(q), dar)
    low = c * np.tril(np.ones((n, n), dtype=c.dtype), -1)
    omega = low - _mH(low)
    if is_complex(c):
        omega = omega + _imag_diagonal(c)
    dq = matmul_p(q, omega - c) + dar
    dr = matmul_p(c - omega, r)
    if full:
        dq = J.concatenate([dq, -matmul_p(q, matmul_p(_mH(dq), q2))], axis=-1)
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
    "columns satisfy Q₂ᴴ dQ₂ = 0 (only basis-independent functions of them have a derivative)",
)


def qr(a, mode="reduced"):
    """``np.linalg.qr``: Q, R with ``a = Q @ R`` (modes ``"reduced"``, ``"complete"``), or R alone (``"r"``),
    batched; real or complex matrices.

    Differentiable where the leading min(m, n) columns have full rank (a wide matrix's leading square block is
    factored, the rest carried by Qᵀ); ``"complete"``'s extra columns of Q, a basis LAPACK chooses, only
    through basis-independent functions (see ``qr_p.convention``); mode ``"raw"`` is not supported.

    >>> import numpy as np, chainrule as cr
    >>> q, r = cr.linalg.qr(cr.tensor([[3.0, 0.0], [4.0, 5.0]]))
    >>> abs(float(r[0, 0]))
    5.0
    """
    a = _arr(a)
    if a.ndim < 2:
        raise ValueError(f"qr: expected a matrix or a stack of them, got shape {a.shape}")
    if mode not in ("reduced", "complete", "r"):
        raise NotImplementedError(f"qr: mode={mode!r} is not differentiable here; use 'reduced', 'complete' or 'r'")
    m, n = a.shape[-2:]
    if m < n:  # a wide matrix [X | Y]: Q R_X = X (the same reflectors as LAPACK's), and R = [R_X | Qᴴ Y]
        q, rx = _split_qr(qr_p(a[..., :, :m], complete=False), m, m)
        r = J.concatenate([rx, matmul_p(_mH(q), a[..., :, m:])], axis=-1)
    else:
        complete = mode == "complete"
        q, r = _split_qr(qr_p(a, complete=complete), m, n, complete)
    return r if mode == "r" else (q, r)


# ---- slogdet ------------------------------------------------------------------------
def _unsqueeze2(v):
    return v.reshape(tuple(v.shape) + (1, 1))


def _logabsdet_jvp(t, ans, a):
    d = einsum("...ij,...ji->...", inv_p(a), t)  # d log det A = tr(A⁻¹ dA); its real part for a complex A
    return real(d) if is_complex(d) else d


logabsdet_p = Primitive(
    "logabsdet",
    lambda a: np.linalg.slogdet(a)[1],
    # d log|det A| = Re tr(A⁻¹ dA), so Ā = ḡ A⁻ᴴ (A must be invertible)
    vjp=(lambda g, ans, a: _unsqueeze2(g) * _mH(inv_p(a)),),
    jvp=(_logabsdet_jvp,),
    save=("args",),
    batch=leading,
    vjp_formulas=("{g} · {0}⁻ᴴ",),
)


def _phase_vjp(g, ans, a):
    # d sign = sign · i·Im tr(A⁻¹ dA): Ā = c · i A⁻ᴴ with c = Re(conj(ḡ) · i · sign) = Im(ḡ · conj(sign))
    c = imag(g * conj(ans))
    return _unsqueeze2(c * 1j) * _mH(inv_p(a))


slogdet_phase_p = Primitive(
    "slogdet_phase",
    lambda a: np.linalg.slogdet(a)[0],
    vjp=(_phase_vjp,),
    jvp=(lambda t, ans, a: ans * (1j * imag(einsum("...ij,...ji->...", inv_p(a), t))),),
    save=("args", "ans"),
    batch=leading,
    vjp_formulas=("i · Im({g} · conj({out})) · {0}⁻ᴴ",),
    convention="for a complex matrix, the sign det A / |det A| moves with A (its phase); a real matrix's sign is "
    "piecewise constant (slogdet_sign)",
)


def slogdet(a):
    """``np.linalg.slogdet``: (sign, log|det a|), batched; the log differentiable, and the sign too for a complex
    matrix (a real one's ±1 is a constant).

    >>> import numpy as np, chainrule as cr
    >>> sign, logdet = cr.linalg.slogdet(cr.tensor(np.diag([-2.0, 3.0])))
    >>> float(sign), round(float(logdet), 4)
    (-1.0, 1.7918)
    """
    a = _arr(a)
    _square("slogdet", a)
    sign = slogdet_phase_p(a) if a.dtype.kind == "c" else slogdet_sign_p(a)
    return sign, logabsdet_p(a)


# the sign of a real det a: np.linalg.slogdet's first output, piecewise constant (no derivative)
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
    # dP = −P dA P + P Pᴴ dAᴴ (I − A P) + (I − P A) dAᴴ Pᴴ P   (constant rank)
    m, n = a.shape[-2:]
    p, tt = ans, _mH(t)
    left = _eye_like(m, p) - matmul_p(a, p)
    right = _eye_like(n, p) - matmul_p(p, a)
    return (-matmul_p(p, matmul_p(t, p)) + matmul_p(matmul_p(p, _mH(p)), matmul_p(tt, left))
            + matmul_p(right, matmul_p(tt, matmul_p(_mH(p), p))))


def _pinv_vjp(g, ans, a, rcond):
    # the adjoint of the rule above: Ā = −Pᴴ ḡ Pᴴ + (I − A P) ḡᴴ P Pᴴ + Pᴴ P ḡᴴ (I − P A)
    m, n = a.shape[-2:]
    p, gt = ans, _mH(g)
    left = _eye_like(m, p) - matmul_p(a, p)
    right = _eye_like(n, p) - matmul_p(p, a)
    return (-matmul_p(_mH(p), matmul_p(g, _mH(p))) + matmul_p(left, matmul_p(gt, matmul_p(p, _mH(p))))
            + matmul_p(matmul_p(_mH(p), p), matmul_p(gt, right)))


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
    """``np.linalg.pinv``: the Moore-Penrose pseudo-inverse, batched, real or complex; differentiable at constant rank
    (``hermitian`` is accepted: the general algorithm gives the same result).

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.pinv(cr.tensor([[2.0, 0.0]]))
    tensor([[0.5],
            [0. ]])
    """
    a = _arr(a)
    if a.ndim < 2:
        raise ValueError(f"pinv: expected a matrix or a stack of them, got shape {a.shape}")
    if rcond is None:  # NumPy's defaults: 1e-15, or max(M, N)·eps for rtol=None
        rcond = 1e-15 if rtol is np._NoValue else max(a.shape[-2:]) * np.finfo(a.dtype).eps if rtol is None else rtol
    elif rtol is not np._NoValue:
        raise ValueError("pinv: rtol and rcond can't be both set")
    return pinv_p(a, rcond=float(rcond))
