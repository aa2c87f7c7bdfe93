"""Decomposition rules (eigh, svd, cholesky, qr, slogdet, pinv) from their samples, and their conventions."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.decompositions import qr_p
from chainrule.ops.eig import eig_parts
from tests.ops.harness import check_case
from tests.ops.samples.decompositions import CASES, sym, wellsvd

LA = cr.linalg


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


@pytest.mark.parametrize("name", ["eigh", "eigvalsh", "eig", "eigvals", "svd", "svdvals", "cholesky", "qr", "slogdet",
                                  "pinv", "lstsq", "matrix_power", "inv", "det", "solve", "norm", "multi_dot", "cond",
                                  "tensorinv"])
def test_numpy_linalg_dispatches_to_chainrule(name):
    assert getattr(np.linalg, name) is not None
    assert getattr(cr.numpy.linalg, name) is getattr(LA, name)
    a = cr.tensor(sym(3) + 6 * np.eye(3), requires_grad=True)
    args = {"matrix_power": (a, 2), "solve": (a, np.ones(3)), "lstsq": (a, np.ones(3)), "multi_dot": ([a, a],),
            "tensorinv": (a, 1)}
    out = getattr(np.linalg, name)(*args.get(name, (a,)))
    first = out[0] if isinstance(out, tuple) else out
    leaf = out[1] if name == "slogdet" else first
    assert isinstance(leaf, cr.Tensor) and leaf.requires_grad, f"np.linalg.{name} dropped the graph"


def test_repeated_eigenvalues_give_exact_eigenvalue_gradients():
    # the identity's eigenvalues all coincide: d(sum of eigenvalues)/dA = I (the trace), no NaN
    a = cr.tensor(np.eye(3), requires_grad=True)
    LA.eigvalsh(a).sum().backward()
    assert np.allclose(a.grad.data, np.eye(3))
    # a basis-independent function of a repeated eigenspace (its projection) has a finite gradient
    a = cr.tensor(np.diag([1.0, 1.0, 3.0]), requires_grad=True)
    v = LA.eigh(a)[1][:, :2]
    (cr.matmul(v, v.T) * np.arange(9.0).reshape(3, 3)).sum().backward()
    assert np.isfinite(a.grad.data).all()


def test_repeated_singular_values_give_exact_singular_value_gradients():
    a = cr.tensor(2 * np.eye(3), requires_grad=True)
    LA.svdvals(a).sum().backward()
    assert np.allclose(a.grad.data, np.eye(3))
    x = cr.tensor(np.diag([2.0, 2.0]), requires_grad=True)
    LA.norm(x, "nuc").backward()
    assert np.allclose(x.grad.data, np.eye(2))


def test_cholesky_of_a_matrix_that_is_not_positive_definite_raises_naming_it():
    with pytest.raises(np.linalg.LinAlgError, match="cholesky: the matrix is not positive definite"):
        LA.cholesky(cr.tensor(-np.eye(2), requires_grad=True))


def test_singular_matrix_raises_naming_inv():
    a = cr.tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match="inv: singular matrix"):
        LA.inv(a)
    d = LA.det(a)  # the value exists (0); its gradient needs the inverse
    with pytest.raises(np.linalg.LinAlgError, match="inv: singular matrix"):
        d.backward()


def test_qr_primitive_refuses_a_wide_matrix_and_the_function_splits_it():
    a = cr.tensor(np.arange(6.0).reshape(2, 3) + np.eye(2, 3), requires_grad=True)
    q, r = LA.qr(a)
    assert np.allclose(q.data, np.linalg.qr(a.data)[0]) and np.allclose(r.data, np.linalg.qr(a.data)[1])
    packed = qr_p(a, complete=False)
    with pytest.raises(NotImplementedError, match="qr: the primitive's derivative is implemented for m >= n"):
        packed.sum().backward()


def test_svd_zero_singular_value_is_finite():
    # a rank-one tall matrix: the tail terms of its zero singular value are dropped (1/0 taken as 0)
    a = cr.tensor(np.outer([1.0, 2.0, 3.0], [1.0, 1.0]), requires_grad=True)
    u, s, vh = LA.svd(a, full_matrices=False)
    (u[:, 0] ** 2).sum().backward()
    assert np.isfinite(a.grad.data).all()


def test_gradients_under_vmap_match_a_loop():
    a = np.stack([wellsvd(3, 2) for _ in range(3)])
    f = lambda x: LA.norm(x, 2) + LA.svd(x, full_matrices=False)[0][:, 0].__pow__(2).sum()
    got = cr.vmap(cr.grad(f))(cr.tensor(a))
    ref = np.stack([cr.grad(f)(cr.tensor(x)).data for x in a])
    assert np.allclose(got.data, ref)
    e = np.stack([sym(3) for _ in range(2)])
    g = lambda x: (LA.eigh(x)[1] ** 2 * np.arange(9.0).reshape(3, 3)).sum() + LA.slogdet(x)[1]
    got = cr.vmap(cr.grad(g))(cr.tensor(e))
    ref = np.stack([cr.grad(g)(cr.tensor(x)).data for x in e])
    assert np.allclose(got.data, ref)


def _numeric_grad(f, a, eps=1e-6):
    out = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = eps
        out[idx] = (f(a + e) - f(a - e)) / (2 * eps)
    return out


def test_complex_eig_through_its_real_parts():
    # |w| and |V|² (phase-independent) of a matrix with a complex pair, against central differences of NumPy
    p = np.random.default_rng(0).standard_normal((3, 3)) + 3 * np.eye(3)
    a = p @ np.array([[1.0, -2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 3.0]]) @ np.linalg.inv(p)  # 1 ± 2i and 3
    weights = np.arange(9.0).reshape(3, 3)

    def f(x):
        wr, wi, vr, vi = eig_parts(x)
        return cr.sqrt(wr ** 2 + wi ** 2).sum() + ((vr ** 2 + vi ** 2) * weights).sum()

    ref = lambda x: np.abs(np.linalg.eigvals(x)).sum() + (np.abs(np.linalg.eig(x)[1]) ** 2 * weights).sum()
    assert LA.eigvals(cr.tensor(a)).dtype.kind == "c"
    assert np.allclose(cr.grad(f)(cr.tensor(a)).data, _numeric_grad(ref, a), atol=1e-6)
