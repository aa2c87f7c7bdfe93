"""Spectral decompositions: eigh / eigvalsh of symmetric matrices, svd / svdvals, all batched over leading axes.

Each decomposition is one primitive whose output packs its factors into one array (``eigh``: the eigenvalues as
row 0 above the eigenvectors; ``svd``: U, s and Vh flattened side by side); the public functions slice the factors
out, so one reverse rule sees the cotangents of all of them together.
"""

from __future__ import annotations

import numpy as np

from ..core.batching_rules import leading
from ..core.complex_parts import conj_of, imag, is_complex, real
from ..core.primitive import Primitive
from . import elementwise as E
from . import join as J
from . import reduce as R
from .contractions import _arr, einsum
from .products import _mT, matmul_p

__all__ = []  # public through cr.linalg (as numpy.linalg), not as cr.eigh: cr.linalg imports them

CONVENTION_TIES = ("where two eigenvalues (or singular values) coincide, within n·10·eps of the largest, their "
                   "coupling term is taken as 0: gradients of the eigenvalues, and of functions that do not depend "
                   "on the basis chosen inside a repeated eigenspace, are exact; those of single vectors are not "
                   "defined there")


def _square(op, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{op}: expected a square matrix or a stack of them, got shape {a.shape}")


def _mH(x):
    """The conjugate transpose of the last two axes (the transpose for a real x)."""
    return conj_of(_mT(x))


def _re(x):
    """The real part of a complex x (x itself when real): eigenvalues and singular values packed beside complex
    vectors."""
    return real(x) if is_complex(x) else x


def _diag(v):
    """A stack of vectors (..., k) as diagonal matrices (..., k, k)."""
    k = v.shape[-1]
    return v.reshape(tuple(v.shape) + (1,)) * np.eye(k, dtype=v.dtype)


def _rows(v):
    """(..., k) -> (..., 1, k): scales the columns of a matrix it multiplies."""
    return v.reshape(tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _cols(v):
    """(..., k) -> (..., k, 1): scales the rows of a matrix it multiplies."""
    return v.reshape(tuple(v.shape) + (1,))


def _coupling(w):
    """F[i, j] = 1 / (w_j - w_i), and 0 on the diagonal and where w_i and w_j coincide (CONVENTION_TIES)."""
    d = _rows(w) - _cols(w)
    eps = np.finfo(w.dtype).eps
    scale = _cols(R.max(E.abs(w), axis=-1, keepdims=True))
    tie = E.abs(d) <= scale * (10 * w.shape[-1] * eps) + np.finfo(w.dtype).tiny
    return E.where(tie, 0, 1 / E.where(tie, 1, d))


def _masks(n, dtype):
    return np.tril(np.ones((n, n), dtype=dtype), -1), np.eye(n, dtype=dtype)


def lower_symmetric(t):
    """The symmetric (Hermitian) matrix NumPy's eigh and cholesky read from ``t``: its lower triangle, mirrored
    (conjugated), and the real part of its diagonal (LAPACK ignores the imaginary one)."""
    lower, eye = _masks(t.shape[-1], t.dtype)
    diag = real(t) * eye if is_complex(t) else t * eye
    return t * lower + diag + _mH(t * lower)


def onto_lower(g):
    """The cotangent of A for a function of lower_symmetric(A) whose cotangent is ``g`` (the adjoint map)."""
    lower, eye = _masks(g.shape[-1], g.dtype)
    diag = real(g) * eye if is_complex(g) else g * eye
    return (g + _mH(g)) * lower + diag


# ---- eigh ---------------------------------------------------------------------------
def _eigh(a):
    w, v = np.linalg.eigh(a)  # UPLO="L": only the lower triangle is read
    return np.concatenate([w[..., None, :], v], axis=-2)


def _split_eigh(p):
    return _re(p[..., 0, :]), p[..., 1:, :]


def _eigh_vjp(g, ans, a):
    # Ā_sym = V (diag(w̄) + F ∘ (Vᴴ V̄)) Vᴴ, then carried onto the lower triangle that NumPy reads (whose Hermitian
    # projection drops the part of Vᴴ V̄ that a complex eigenvector's free phase would take)
    w, v = _split_eigh(ans)
    gw, gv = _split_eigh(g)
    inner = _diag(gw) + _coupling(w) * matmul_p(_mH(v), gv)
    return onto_lower(matmul_p(v, matmul_p(inner, _mH(v))))


def _eigh_jvp(t, ans, a):
    # M = Vᴴ dS V: dw = diag(M) (real), dV = V (F ∘ M) (each vector's phase held: diag(Vᴴ dV) = 0)
    w, v = _split_eigh(ans)
    m = matmul_p(_mH(v), matmul_p(lower_symmetric(t), v))
    dw = _re(einsum("...ii->...i", m))
    dv = matmul_p(v, _coupling(w) * m)
    return J.concatenate([_rows(dw), dv], axis=-2)


eigh_p = Primitive(
    "eigh",
    _eigh,
    vjp=(_eigh_vjp,),
    jvp=(_eigh_jvp,),
    save=("ans",),
    batch=leading,
    convention="eigh reads the lower triangle of A, and the real part of a complex diagonal (as NumPy); a complex "
    "eigenvector's phase is free: only functions that do not depend on it have a derivative; " + CONVENTION_TIES,
)


def eigh(a, UPLO="L"):
    """``np.linalg.eigh``: eigenvalues (ascending) and eigenvectors of a symmetric (Hermitian) matrix, batched.

    Differentiable as NumPy computes it: from the lower triangle (``UPLO="L"``) or the upper one; for a
    complex matrix, through functions that do not depend on each eigenvector's phase (as PyTorch).
    Where eigenvalues repeat, the eigenvector coupling is taken as 0 (see ``CONVENTION_TIES``):
    gradients of eigenvalues and of basis-independent functions stay exact.

    >>> import numpy as np, chainrule as cr
    >>> w, v = cr.linalg.eigh(cr.tensor(np.diag([2.0, 1.0])))
    >>> w
    tensor([1., 2.])
    """
    a = _arr(a)
    _square("eigh", a)
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    p = eigh_p(a if UPLO == "L" else _mH(a))
    return _split_eigh(p)


def eigvalsh(a, UPLO="L"):
    """``np.linalg.eigvalsh``: the eigenvalues of a symmetric matrix, ascending, batched.

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.eigvalsh(cr.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """
    return eigh(a, UPLO)[0]


# ---- svd ----------------------------------------------------------------------------
def _flat(x, batch):
    """The last two axes as one (sizes spelled out: a batch may hold no element)."""
    return x.reshape(batch + (x.shape[-2] * x.shape[-1],))


def _svd(a, full):
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    batch = a.shape[:-2]
    return np.concatenate([_flat(u, batch), s, _flat(vh, batch)], axis=-1)


def _split_svd(p, m, n, full):
    k = min(m, n)
    mu, nv = (m, n) if full else (k, k)
    batch = tuple(p.shape[:-1])
    u = p[..., :m * mu].reshape(batch + (m, mu))
    s = _re(p[..., m * mu:m * mu + k])
    vh = p[..., m * mu + k:].reshape(batch + (nv, n))
    return u, s, vh


def _safe_inverse(s):
    """1/s, with 0 for a zero singular value (whose vectors' tail terms are then dropped, as in a pseudo-inverse)."""
    zero = s == 0
    return E.where(zero, 0, 1 / E.where(zero, 1, s))


def _phase(uhgu, vhgv, inv_s):
    """The diagonal a complex pair's common phase adds: i·(Im diag(UᴴŪ) − Im diag(VᴴV̄)) / 2s, half the phase to each
    of u_j and v_j (for a function that does not depend on it, Im diag(UᴴŪ) = −Im diag(VᴴV̄) and either half is
    the whole)."""
    d = imag(einsum("...ii->...i", uhgu)) - imag(einsum("...ii->...i", vhgv))
    return _diag(d * inv_s * 0.5j)


def _svd_vjp(g, ans, a, full):
    m, n = a.shape[-2:]
    k = min(m, n)
    u, s, vh = _split_svd(ans, m, n, full)
    gu, gs, gvh = _split_svd(g, m, n, full)
    v, gv = _mH(vh), _mH(gvh)
    # with full_matrices the completion columns move only as orthogonality to the first k asks: U₂ᴴ dU₂ = 0
    if full and m > k:
        u, u2, gu, gu2 = u[..., :k], u[..., k:], gu[..., :k], gu[..., k:]
        gu = gu - matmul_p(u2, matmul_p(_mH(gu2), u))
    if full and n > k:
        v, v2, gv, gv2 = v[..., :k], v[..., k:], gv[..., :k], gv[..., k:]
        gv = gv - matmul_p(v2, matmul_p(_mH(gv2), v))
    f = _coupling(s * s)  # 1 / (s_j² - s_i²)
    utgu, vtgv = matmul_p(_mH(u), gu), matmul_p(_mH(v), gv)
    core = (f * (utgu - _mH(utgu))) * _rows(s) + _diag(gs) + _cols(s) * (f * (vtgv - _mH(vtgv)))
    inv_s = _safe_inverse(s)
    if is_complex(utgu):
        core = core + _phase(utgu, vtgv, inv_s)
    out = matmul_p(u, matmul_p(core, _mH(v)))
    if m > k:  # (I - U Uᴴ) Ū S⁻¹ Vᴴ
        out = out + matmul_p((gu - matmul_p(u, utgu)) * _rows(inv_s), _mH(v))
    if n > k:  # U S⁻¹ V̄ᴴ (I - V Vᴴ)
        out = out + matmul_p(u, _mH((gv - matmul_p(v, vtgv)) * _rows(inv_s)))
    return out


def _svd_jvp(t, ans, a, full):
    m, n = a.shape[-2:]
    k = min(m, n)
    u, s, vh = _split_svd(ans, m, n, full)
    v = _mH(vh)
    if full and m > k:
        u, u2 = u[..., :k], u[..., k:]
    if full and n > k:
        v, v2 = v[..., :k], v[..., k:]
    dp = matmul_p(_mH(u), matmul_p(t, v))  # Uᴴ dA V
    f = _coupling(s * s)
    ds = _re(einsum("...ii->...i", dp))
    dps = dp * _rows(s)
    sdp = _cols(s) * dp
    du = matmul_p(u, f * (dps + _mH(dps)))
    dv = matmul_p(v, f * (sdp + _mH(sdp)))
    inv_s = _safe_inverse(s)
    if is_complex(dp):  # Im diag(Uᴴ dA V) = s_j (phase of u_j − phase of v_j): split in halves, as the reverse rule
        half = _diag(imag(einsum("...ii->...i", dp)) * inv_s * 0.5j)
        du, dv = du + matmul_p(u, half), dv - matmul_p(v, half)
    if m > k:
        du = du + (matmul_p(t, v) - matmul_p(u, dp)) * _rows(inv_s)
    if n > k:
        dv = dv + (matmul_p(_mH(t), u) - matmul_p(v, _mH(dp))) * _rows(inv_s)
    if full and m > k:
        du = J.concatenate([du, -matmul_p(u, matmul_p(_mH(du), u2))], axis=-1)
    if full and n > k:
        dv = J.concatenate([dv, -matmul_p(v, matmul_p(_mH(dv), v2))], axis=-1)
    batch = tuple(t.shape[:-2])
    return J.concatenate([_flat(du, batch), ds, _flat(_mH(dv), batch)], axis=-1)


svd_p = Primitive(
    "svd",
    _svd,
    vjp=(_svd_vjp,),
    jvp=(_svd_jvp,),
    save=("args", "ans"),
    batch=leading,
    convention=CONVENTION_TIES + "; a zero singular value drops its vectors' tail terms (1/0 taken as 0); with "
    "full_matrices=True the completion columns satisfy U₂ᴴ dU₂ = 0 (only basis-independent functions of them have "
    "a derivative); for a complex matrix the common phase of u_j and v_j is free: only functions that do not "
    "depend on it have a derivative",
)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """``np.linalg.svd``: U, s, Vh with ``a = U @ diag(s) @ Vh`` (or s alone), batched over leading axes.

    ``hermitian=True`` runs the general algorithm (a valid SVD; the same singular values). Complex matrices
    differentiate through functions that do not depend on the common phase of u_j and v_j (as PyTorch).
    Derivatives follow the usual rules (see ``svd_p.convention`` for repeated or zero singular values
    and for the completion columns of ``full_matrices=True``).

    >>> import numpy as np, chainrule as cr
    >>> u, s, vh = cr.linalg.svd(cr.tensor(np.diag([3.0, 4.0])))
    >>> s
    tensor([4., 3.])
    """
    a = _arr(a)
    if a.ndim < 2:
        raise ValueError(f"svd: expected a matrix or a stack of them, got shape {a.shape}")
    m, n = a.shape[-2:]
    full = bool(full_matrices) and compute_uv
    u, s, vh = _split_svd(svd_p(a, full=full), m, n, full)
    return (u, s, vh) if compute_uv else s


def svdvals(x, /):
    """``np.linalg.svdvals``: the singular values, descending, batched (gradient U diag(s̄) Vᵀ).

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.svdvals(cr.tensor([[0.0, 2.0], [1.0, 0.0]]))
    tensor([2., 1.])
    """
    return svd(x, full_matrices=False, compute_uv=False)
