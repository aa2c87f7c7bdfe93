"""Products with an inner dimension of 1 (batch-1 layers): the outer-product kernels and the gradients through them."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional as F
from chainrule.ops import matmul_outer


@pytest.fixture(params=[True, False], ids=["dot", "broadcast"])
def kernel(request, monkeypatch):
    """Either kernel, whatever this machine measured: both must give matmul's numbers."""
    monkeypatch.setattr(matmul_outer, "_DOT_PAYS", {c: request.param for c in "efdgFDG"})
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("m,n", [(3, 4), (300, 400)])  # below and above the size that is measured
def test_outer_matmul_equals_matmul(kernel, dtype, m, n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, 1)).astype(dtype)
    b = rng.standard_normal((1, n)).astype(dtype)
    got = matmul_outer.outer_matmul(a, b)
    assert got.dtype == np.matmul(a, b).dtype and got.shape == (m, n)
    # one multiplication per entry: the same numbers, whichever kernel ran
    np.testing.assert_allclose(got, np.matmul(a, b), rtol=1e-6 if dtype == np.float32 else 1e-15)


def test_the_measured_choice_is_cached_per_dtype(monkeypatch):
    monkeypatch.setattr(matmul_outer, "_DOT_PAYS", {})
    a, b = np.ones((512, 1), np.float32), np.ones((1, 256), np.float32)
    matmul_outer.outer_matmul(a, b)
    assert set(matmul_outer._DOT_PAYS) == {"f"}
    matmul_outer.outer_matmul(a[:4], b)  # small: not measured
    assert set(matmul_outer._DOT_PAYS) == {"f"}


def test_matmul_with_inner_dimension_one_records_and_differentiates(kernel):
    rng = np.random.default_rng(1)
    a = cr.tensor(rng.standard_normal((300, 1)), requires_grad=True)
    b = cr.tensor(rng.standard_normal((1, 400)), requires_grad=True)
    y = a @ b
    np.testing.assert_allclose(y.data, a.data @ b.data, rtol=1e-15)
    w = rng.standard_normal((300, 400))
    (y * cr.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.data, w @ b.data.T, rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, a.data.T @ w, rtol=1e-12)


def _linear_grads(x, W, b):
    W, b = cr.tensor(W, requires_grad=True), cr.tensor(b, requires_grad=True)
    x = cr.tensor(x, requires_grad=True)
    (cr.tanh(F.linear(x, W, b)) ** 2).sum().backward()
    return x.grad.data, W.grad.data, b.grad.data


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_one_linear_matches_the_generic_path(kernel, dtype):
    """W̄ = ḡᵀ x at batch 1 (an outer product) equals row 0's share of the same layer at batch 2 (a gemm)."""
    rng = np.random.default_rng(2)
    W = rng.standard_normal((512, 300)).astype(dtype) / 20
    b = rng.standard_normal(512).astype(dtype)
    x = rng.standard_normal((1, 300)).astype(dtype)
    gx1, gW1, gb1 = _linear_grads(x, W, b)
    gx2, gW2, gb2 = _linear_grads(np.concatenate([x, np.zeros_like(x)]), W, b)
    gb0 = _linear_grads(np.zeros_like(x), W, b)[2]  # the zero row's share of b̄ (its share of W̄ is 0)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert gW1.dtype == dtype
    np.testing.assert_allclose(gW1, gW2, rtol=tol, atol=tol)
    np.testing.assert_allclose(gx1[0], gx2[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(gb1, gb2 - gb0, rtol=tol, atol=tol)


def test_batch_one_linear_against_finite_differences(kernel):
    rng = np.random.default_rng(3)
    W = rng.standard_normal((6, 5))
    b = rng.standard_normal(6)
    x = rng.standard_normal((1, 5))
    assert cr.gradcheck(lambda x, W, b: cr.tanh(F.linear(x, W, b)).sum(), (x, W, b))
    assert cr.gradcheck(lambda x, W: cr.sin(x.T @ (x @ W.T)).sum(), (x, W))  # x.T @ g: inner dimension 1
