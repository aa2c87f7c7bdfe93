"""Sample cases of the decompositions (cholesky, qr, eigh, svd, pinv, slogdet) and what cr.linalg builds on them.

Eigenvectors and singular vectors are checked through functions that do not depend on their sign (squares,
projections, the outer product u vᵀ of a singular pair): the factors' signs are a choice of LAPACK's.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.ops.eig import eig_parts
from tests.ops.harness import Case

_rng = np.random.default_rng(7)
LA = cr.linalg
F32 = 2e-3  # float32 decompositions lose a few digits more than elementwise operations


def r(*shape):
    return _rng.standard_normal(shape)


def orth(n, batch=()):
    q, _ = np.linalg.qr(r(*batch, n, n))
    return q


def sym(n, batch=()):
    """Symmetric matrices with eigenvalues spread apart (1, 2.5, 4, ...), one sign negative."""
    q = orth(n, batch)
    w = 1.0 + 1.5 * np.arange(n)
    w[0] = -w[0]
    return q * w[..., None, :] @ np.swapaxes(q, -1, -2)


def spd(n, batch=()):
    a = r(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def wellsvd(m, n, batch=()):
    """Matrices with singular values spread apart (3, 2, 1, ...)."""
    k = min(m, n)
    u, v = orth(m, batch)[..., :k], orth(n, batch)[..., :k]
    s = 3.0 - np.arange(k) * (2.0 / k)
    return u * s[..., None, :] @ np.swapaxes(v, -1, -2)


def c(name, fn, ref, *args, label, **kw):
    return Case(name, fn, args, ref, label=label, f32_tol=F32, **kw)


def _npu(a, full=False):
    return np.linalg.svd(a, full_matrices=full)


def _proj(q):
    return q @ np.swapaxes(q, -1, -2)


def _cproj(q):
    return cr.matmul(q, cr.swapaxes(q, -1, -2))


CASES = [
    # eigh / eigvalsh: values, squared vectors, both UPLO, batched, through np.linalg
    c("eigh", LA.eigvalsh, np.linalg.eigvalsh, sym(3), label="eigvalsh 3x3"),
    c("eigh", LA.eigvalsh, np.linalg.eigvalsh, sym(4, (2,)), label="eigvalsh batched"),
    c("eigh", lambda a: LA.eigh(a)[1] ** 2, lambda a: np.linalg.eigh(a)[1] ** 2, sym(3), label="eigenvectors²"),
    c("eigh", lambda a: LA.eigh(a)[0][..., None, :] * LA.eigh(a)[1] ** 2,
      lambda a: np.linalg.eigh(a)[0][..., None, :] * np.linalg.eigh(a)[1] ** 2, sym(3, (2,)),
      label="values and vectors² batched"),
    c("eigh", lambda a: LA.eigh(a, UPLO="U")[1] ** 2, lambda a: np.linalg.eigh(a, UPLO="U")[1] ** 2, sym(3),
      label="UPLO=U"),
    c("eigh", lambda a: np.linalg.eigvalsh(a), np.linalg.eigvalsh, r(3, 3) + 4 * np.diag([0.0, 1, 2]),
      label="np.linalg.eigvalsh, not symmetric: the lower triangle counts"),
    c("eigh", lambda a: _cproj(LA.eigh(a)[1][..., :, 1:]), lambda a: _proj(np.linalg.eigh(a)[1][..., :, 1:]),
      sym(4), label="projection onto the top eigenspace"),
    # svd / svdvals: reduced and full, tall, wide, square, batched
    c("svd", LA.svdvals, np.linalg.svdvals, wellsvd(3, 3), label="svdvals 3x3"),
    c("svd", LA.svdvals, np.linalg.svdvals, wellsvd(4, 2), label="svdvals tall"),
    c("svd", LA.svdvals, np.linalg.svdvals, wellsvd(2, 4, (2,)), label="svdvals wide batched"),
    c("svd", lambda a: np.linalg.svd(a, compute_uv=False), lambda a: np.linalg.svd(a, compute_uv=False),
      wellsvd(3, 2), label="np.linalg.svd compute_uv=False"),
    c("svd", lambda a: LA.svd(a, full_matrices=False)[0] ** 2, lambda a: _npu(a)[0] ** 2, wellsvd(4, 3),
      label="U² tall reduced"),
    c("svd", lambda a: LA.svd(a, full_matrices=False)[2] ** 2, lambda a: _npu(a)[2] ** 2, wellsvd(3, 4),
      label="Vh² wide reduced"),
    c("svd", lambda a: (lambda u, s, vh: u[..., :, :1] * vh[..., :1, :])(*LA.svd(a, full_matrices=False)),
      lambda a: (lambda u, s, vh: u[..., :, :1] * vh[..., :1, :])(*_npu(a)), wellsvd(3, 4, (2,)),
      label="first singular pair u vᵀ, batched"),
    c("svd", lambda a: (lambda u, s, vh: u[..., :, 1:2] * vh[..., 1:2, :])(*LA.svd(a, full_matrices=False)),
      lambda a: (lambda u, s, vh: u[..., :, 1:2] * vh[..., 1:2, :])(*_npu(a)), wellsvd(4, 3),
      label="second singular pair u vᵀ, tall"),
    c("svd", lambda a: _cproj(LA.svd(a)[0][..., :, 2:]), lambda a: _proj(_npu(a, True)[0][..., :, 2:]),
      wellsvd(4, 2), label="full_matrices: projection onto U's completion"),
    c("svd", lambda a: LA.svd(a)[0][..., :, :2] ** 2, lambda a: _npu(a, True)[0][..., :, :2] ** 2,
      wellsvd(4, 2), label="full_matrices: U's first columns²"),
    c("svd", lambda a: _cproj(cr.swapaxes(LA.svd(a)[2][..., 2:, :], -1, -2)),
      lambda a: _proj(np.swapaxes(_npu(a, True)[2][..., 2:, :], -1, -2)), wellsvd(2, 4, (2,)),
      label="full_matrices: projection onto V's completion, batched"),
    c("svd", lambda a: (lambda u, s, vh: cr.matmul(u * s[..., None, :], vh))(*LA.svd(a)), lambda a: a,
      wellsvd(3, 3), label="U diag(s) Vh is a"),
    # norms from the singular values
    c("svd", lambda a: LA.norm(a, 2), lambda a: np.linalg.norm(a, 2), wellsvd(3, 4), label="norm ord=2"),
    c("svd", lambda a: LA.norm(a, -2), lambda a: np.linalg.norm(a, -2), wellsvd(4, 3), label="norm ord=-2"),
    c("svd", lambda a: LA.norm(a, "nuc"), lambda a: np.linalg.norm(a, "nuc"), wellsvd(3, 3), label="norm nuc"),
    c("svd", lambda a: np.linalg.norm(a, 2, axis=(2, 0), keepdims=True),
      lambda a: np.linalg.norm(a, 2, axis=(2, 0), keepdims=True), r(3, 2, 4), label="np.linalg.norm 2 axes (2,0)"),
    c("svd", lambda a: LA.matrix_norm(a, ord="nuc"), lambda a: np.linalg.matrix_norm(a, ord="nuc"),
      wellsvd(3, 2, (2,)), label="matrix_norm nuc batched"),
    # cholesky
    c("cholesky", LA.cholesky, np.linalg.cholesky, spd(3), label="3x3"),
    c("cholesky", LA.cholesky, np.linalg.cholesky, spd(3, (2,)), label="batched"),
    c("cholesky", lambda a: LA.cholesky(a, upper=True), lambda a: np.linalg.cholesky(a, upper=True), spd(2),
      label="upper"),
    c("cholesky", lambda a: np.linalg.cholesky(a), np.linalg.cholesky, np.tril(r(3, 3)) + spd(3),
      label="np.linalg.cholesky, not symmetric: the lower triangle counts"),
    # qr (tall and square)
    c("qr", lambda a: LA.qr(a)[0], lambda a: np.linalg.qr(a)[0], r(4, 3), label="Q tall"),
    c("qr", lambda a: LA.qr(a)[1], lambda a: np.linalg.qr(a)[1], r(4, 3), label="R tall"),
    c("qr", lambda a: LA.qr(a)[0], lambda a: np.linalg.qr(a)[0], r(2, 3, 3), label="Q batched square"),
    c("qr", lambda a: LA.qr(a, mode="r"), lambda a: np.linalg.qr(a, mode="r"), r(2, 3, 2), label="mode r batched"),
    c("qr", lambda a: LA.qr(a)[0], lambda a: np.linalg.qr(a)[0], r(2, 4), label="Q wide"),
    c("qr", lambda a: _cproj(LA.qr(a, "complete")[0][..., :, 2:]),
      lambda a: _proj(np.linalg.qr(a, "complete")[0][..., :, 2:]), r(2, 4, 2), label="complete: Q₂ Q₂ᵀ batched"),
    c("qr", lambda a: LA.qr(a, "complete")[0][..., :, :2] * 1 + LA.qr(a, "complete")[1][..., :2, :].sum(),
      lambda a: np.linalg.qr(a, "complete")[0][..., :, :2] + np.linalg.qr(a, "complete")[1][..., :2, :].sum(),
      r(3, 2), label="complete: Q₁ and R"),
    c("qr", lambda a: np.linalg.qr(a)[1], lambda a: np.linalg.qr(a)[1], r(2, 2, 4), label="R wide batched"),
    # slogdet
    c("logabsdet", lambda a: LA.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1], sym(3), label="negative det"),
    c("logabsdet", lambda a: np.linalg.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1], spd(3, (2,)),
      label="np.linalg.slogdet batched"),
    c("slogdet_sign", lambda a: LA.slogdet(a)[0], lambda a: np.linalg.slogdet(a)[0], sym(3, (2,)), label="sign"),
    # pinv
    c("pinv", LA.pinv, np.linalg.pinv, wellsvd(3, 3), label="square"),
    c("pinv", LA.pinv, np.linalg.pinv, wellsvd(4, 2), label="tall"),
    c("pinv", LA.pinv, np.linalg.pinv, wellsvd(2, 3, (2,)), label="wide batched"),
    c("pinv", lambda a: np.linalg.pinv(a), np.linalg.pinv, wellsvd(3, 2), label="np.linalg.pinv"),
    # lstsq: x and residuals, vector and matrix right-hand sides
    c("pinv", lambda a, b: LA.lstsq(a, b)[0], lambda a, b: np.linalg.lstsq(a, b)[0], wellsvd(4, 2), r(4),
      label="lstsq x"),
    c("pinv", lambda a, b: LA.lstsq(a, b)[1], lambda a, b: np.linalg.lstsq(a, b)[1], wellsvd(4, 2), r(4, 2),
      label="lstsq residuals"),
    c("pinv", lambda a, b: np.linalg.lstsq(a, b)[0], lambda a, b: np.linalg.lstsq(a, b)[0], wellsvd(2, 3), r(2),
      label="np.linalg.lstsq underdetermined"),
    # matrix_power, multi_dot, inv / det / solve through np.linalg
    c("matmul", lambda a: LA.matrix_power(a, 3), lambda a: np.linalg.matrix_power(a, 3), r(3, 3) / 2,
      label="matrix_power 3"),
    c("matmul", lambda a: np.linalg.matrix_power(a, 5), lambda a: np.linalg.matrix_power(a, 5), r(2, 2, 2) / 2,
      label="np.linalg.matrix_power 5 batched"),
    c("inv", lambda a: LA.matrix_power(a, -2), lambda a: np.linalg.matrix_power(a, -2), spd(3),
      label="matrix_power -2"),
    c("multiply", lambda a: LA.matrix_power(a, 0), lambda a: np.linalg.matrix_power(a, 0), r(2, 2),
      label="matrix_power 0"),
    c("matmul", lambda a, b: np.linalg.multi_dot([a, b, a]), lambda a, b: np.linalg.multi_dot([a, b, a]),
      r(3, 3), r(3, 3), label="np.linalg.multi_dot"),
    c("inv", lambda a: np.linalg.inv(a), np.linalg.inv, spd(3, (2,)), label="np.linalg.inv batched"),
    c("det", lambda a: np.linalg.det(a), np.linalg.det, spd(3, (2,)), label="np.linalg.det batched"),
    c("solve", lambda a, b: np.linalg.solve(a, b), np.linalg.solve, spd(3, (2,)), r(2, 3, 2),
      label="np.linalg.solve batched"),
]


def _parts(a, which):
    return eig_parts(a)[which]


def _npparts(a):
    w, v = np.linalg.eig(a)
    return w.real, w.imag, v.real, v.imag


def realeig(n, batch=()):
    """Matrices with real eigenvalues spread apart (1, 2.5, 4, ...), not symmetric."""
    p = r(*batch, n, n) + 2 * n * np.eye(n)
    return p * (1.0 + 1.5 * np.arange(n))[..., None, :] @ np.linalg.inv(p)


CASES += [
    # eig / eigvals: real and complex eigenvalues, eigenvectors through |v|², batched, through np.linalg
    c("eig", lambda a: _parts(a, 0), lambda a: _npparts(a)[0], r(4, 4), label="Re w"),
    c("eig", lambda a: _parts(a, 1), lambda a: _npparts(a)[1], r(4, 4), label="Im w"),
    c("eig", lambda a: _parts(a, 2) ** 2 + _parts(a, 3) ** 2, lambda a: _npparts(a)[2] ** 2 + _npparts(a)[3] ** 2,
      r(2, 3, 3), label="|V|² batched"),
    c("eig", lambda a: np.linalg.eigvals(a), np.linalg.eigvals, realeig(3), label="np.linalg.eigvals, real"),
    c("eig", lambda a: LA.eig(a)[1] ** 2, lambda a: np.linalg.eig(a)[1] ** 2, realeig(3, (2,)),
      label="eigenvectors² real, batched"),
]
CASES.append(c("matrix_rank", lambda a, b: LA.lstsq(a, b)[2] + 0 * a[0, 0], None, wellsvd(4, 2), r(4),
               label="lstsq rank"))
CASES += [
    # composites: cond, tensorinv, tensorsolve, matrix_rank (a count)
    c("svd", LA.cond, np.linalg.cond, wellsvd(3, 3, (2,)), label="cond batched"),
    c("svd", lambda a: np.linalg.cond(a, -2), lambda a: np.linalg.cond(a, -2), wellsvd(3, 3), label="cond -2"),
    c("inv", lambda a: np.linalg.cond(a, "fro"), lambda a: np.linalg.cond(a, "fro"), spd(3), label="cond fro"),
    c("inv", lambda a: np.linalg.tensorinv(a, ind=1), lambda a: np.linalg.tensorinv(a, ind=1),
      spd(4).reshape(4, 2, 2), label="tensorinv"),
    c("solve", lambda a, b: np.linalg.tensorsolve(a, b), np.linalg.tensorsolve, spd(4).reshape(2, 2, 4),
      r(2, 2), label="tensorsolve"),
    c("solve", lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)), lambda a, b: np.linalg.tensorsolve(a, b, (0,)),
      spd(4).reshape(4, 2, 2), r(2, 2), label="tensorsolve axes"),
    c("matrix_rank", lambda a: np.linalg.matrix_rank(a).astype(a.dtype) + 0 * a[..., 0, 0], None, wellsvd(3, 2, (2,)),
      label="matrix_rank"),
]
