"""The eigendecomposition of a general real or complex matrix (eig, eigvals), batched, its rules in real arithmetic.

The primitive's output packs the real and imaginary parts of the eigenvalues and eigenvectors into one real
array (rows: Re w, Im w, Re V, Im V), so its rules never need a complex conjugate; the public functions
assemble w = Re w + i Im w. Complex arithmetic in the rules runs on (real, imaginary) pairs.
"""

from __future__ import annotations

import numpy as np

from ..core.batching_rules import leading
from ..core.complex_parts import imag, is_complex, real
from ..core.primitive import Primitive
from . import elementwise as E
from . import join as J
from . import reduce as R
from .contractions import _arr, einsum
from .linalg import inv_p
from .products import _mT, matmul_p
from .spectral import _cols, _diag, _rows, _square

__all__ = []  # public through cr.linalg (as numpy.linalg), which imports them


def _eig(a, complex_input):
    w, v = np.linalg.eig(a)
    dtype = a.real.dtype  # the packed parts are real, for a complex a too
    parts = [w.real[..., None, :], w.imag[..., None, :], v.real, v.imag]
    return np.concatenate(parts, axis=-2).astype(dtype, copy=False)


def _split(p):
    n = p.shape[-1]
    return (p[..., 0, :], p[..., 1, :]), (p[..., 2:2 + n, :], p[..., 2 + n:, :])


def _mm(x, y):
    """The complex matrix product of two (real, imaginary) pairs."""
    (xr, xi), (yr, yi) = x, y
    return matmul_p(xr, yr) - matmul_p(xi, yi), matmul_p(xr, yi) + matmul_p(xi, yr)


def _H(x):
    return _mT(x[0]), -_mT(x[1])


def _inverse(v):
    """V⁻¹ as a pair, from the real 2n x 2n form [[Re V, -Im V], [Im V, Re V]]."""
    vr, vi = v
    n = vr.shape[-1]
    block = J.concatenate([J.concatenate([vr, -vi], axis=-1), J.concatenate([vi, vr], axis=-1)], axis=-2)
    b = inv_p(block)
    return b[..., :n, :n], b[..., n:, :n]


def _coupling(w):
    """F[i, j] = 1 / (w_j - w_i) as a pair, 0 on the diagonal and where w_i, w_j coincide (as eigh's convention)."""
    wr, wi = w
    dr, di = _rows(wr) - _cols(wr), _rows(wi) - _cols(wi)
    size = dr * dr + di * di
    eps = np.finfo(wr.dtype).eps
    scale = _cols(R.max(wr * wr + wi * wi, axis=-1, keepdims=True))
    tie = size <= scale * (10 * wr.shape[-1] * eps) ** 2 + np.finfo(wr.dtype).tiny
    inv = E.where(tie, 0, 1 / E.where(tie, 1, size))
    return dr * inv, -di * inv


def _eig_jvp(t, ans, a, complex_input):
    # M = V⁻¹ dA V; dw = diag(M); dV₀ = V (F ∘ M), less V diag(Re(vⱼᴴ dv₀ⱼ)) so that each column keeps norm 1
    w, v = _split(ans)
    dt = (real(t), imag(t)) if is_complex(t) else (t, E._zeros_like(t))
    m = _mm(_inverse(v), _mm(dt, v))
    fr, fi = _coupling(w)
    dv0 = _mm(v, (fr * m[0] - fi * m[1], fr * m[1] + fi * m[0]))
    c = _rows(R.sum(v[0] * dv0[0] + v[1] * dv0[1], axis=-2))
    dvr, dvi = dv0[0] - v[0] * c, dv0[1] - v[1] * c
    dwr, dwi = einsum("...ii->...i", m[0]), einsum("...ii->...i", m[1])
    return J.concatenate([_rows(dwr), _rows(dwi), dvr, dvi], axis=-2)


def _eig_vjp(g, ans, a, complex_input):
    # the adjoint of the rule above: V̄₀ = V̄ − V diag(Re(vⱼᴴ v̄ⱼ)), K = diag(w̄) + conj(F) ∘ (Vᴴ V̄₀),
    # Ā = V⁻ᴴ K Vᴴ (its real part for a real A)
    w, v = _split(ans)
    gw, gv = _split(g)
    e = _rows(R.sum(gv[0] * v[0] + gv[1] * v[1], axis=-2))
    g0 = gv[0] - v[0] * e, gv[1] - v[1] * e
    fr, fi = _coupling(w)
    h = _mm(_H(v), g0)
    k = _diag(gw[0]) + fr * h[0] + fi * h[1], _diag(gw[1]) + fr * h[1] - fi * h[0]
    out = _mm(_H(_inverse(v)), _mm(k, _H(v)))
    return out[0] + 1j * out[1] if complex_input else out[0]


eig_p = Primitive(
    "eig",
    _eig,
    vjp=(_eig_vjp,),
    jvp=(_eig_jvp,),
    save=("ans",),
    batch=leading,
    call_args=lambda kw, shapes: [],
    convention="eigenvectors keep NumPy's unit norm; their phase is LAPACK's choice, so only phase-independent "
    "functions of them (|v|², v vᴴ) have a derivative; repeated eigenvalues: the coupling term is taken as 0",
)


def eig_parts(a):
    """(Re w, Im w, Re V, Im V) of ``np.linalg.eig(a)``, as real Tensors (the differentiable core of eig)."""
    a = _arr(a)
    _square("eig", a)
    (wr, wi), (vr, vi) = _split(eig_p(a, complex_input=a.dtype.kind == "c"))
    return wr, wi, vr, vi


def _all_real(wi):
    """Whether every eigenvalue is real, as NumPy decides its result's dtype; None when the values are abstract
    (inside vmap, where the result stays complex)."""
    try:
        return not np.any(wi.data)
    except TypeError:
        return None


def eig(a):
    """``np.linalg.eig``: eigenvalues w and unit eigenvectors V (columns) of a square matrix, batched.

    For a real matrix, complex results where some eigenvalue is complex (real ones otherwise, as NumPy;
    always complex inside ``vmap``); complex ones for a complex matrix. Differentiable in w, and in V
    through functions that do not depend on each eigenvector's phase (LAPACK's choice), such as
    ``abs(V)**2``.

    >>> import numpy as np, chainrule as cr
    >>> w, v = cr.linalg.eig(cr.tensor([[2.0, 0.0], [0.0, 3.0]]))
    >>> w
    tensor([2., 3.])
    """
    wr, wi, vr, vi = eig_parts(a)
    if _arr(a).dtype.kind != "c" and _all_real(wi):
        return wr, vr
    return wr + 1j * wi, vr + 1j * vi


def eigvals(a):
    """``np.linalg.eigvals``: the eigenvalues of a square matrix, batched (complex where NumPy's are).

    >>> import chainrule as cr
    >>> cr.linalg.eigvals(cr.tensor([[0.0, 1.0], [-1.0, 0.0]]))
    tensor([0.+1.j, 0.-1.j], dtype=complex128)
    """
    return eig(a)[0]
