"""matmul's fused forward-mode rule: W x and W v in one pass over a large W, used where it was measured faster."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import matmul_fusion as F
from chainrule.ops import products as P


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "product",
    [
        lambda M, z: M @ z,  # rows of a C-contiguous matrix
        lambda M, z: M.T @ z,  # an F-contiguous matrix
        lambda M, z: z @ M,  # the rows' contributions summed
        lambda M, z: z @ M.T,
        lambda M, z: (M @ z.reshape(-1, 1)).reshape(-1),  # a column, as matmul's vjp makes
        lambda M, z: (z.reshape(1, -1) @ M).reshape(-1),  # a row
    ],
)
def test_fused_jvp_matches_the_separate_products(monkeypatch, product, dtype):
    r = np.random.default_rng(0)
    n = 600  # 2.9 MB in float64: above the fusion threshold once it is lowered below
    M = r.standard_normal((n, n)).astype(dtype)
    x, v = r.standard_normal(n).astype(dtype), r.standard_normal(n).astype(dtype)
    calls = []
    fused = F.fused_jvp

    def spy(*a):
        out = fused(*a)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(F, "_FUSE_MIN_BYTES", 1 << 16)
    monkeypatch.setattr(F, "_FUSE", True)
    monkeypatch.setattr(P.matmul_p, "fused_jvp", spy)
    out, tan = cr.jvp(lambda z: product(M, z), (x,), (v,))
    assert calls == [True] and out.dtype == dtype and tan.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(out, product(M, x), rtol=tol, atol=tol)
    np.testing.assert_allclose(tan, product(M, v), rtol=tol, atol=tol)


def test_fused_jvp_serves_forward_over_reverse_hvp(monkeypatch):
    monkeypatch.setattr(F, "_FUSE_MIN_BYTES", 1 << 16)
    monkeypatch.setattr(F, "_FUSE", True)
    r = np.random.default_rng(1)
    W = cr.tensor(r.standard_normal((300, 300)) / 20)
    x, v = r.standard_normal(300), r.standard_normal(300)
    calls = []
    fused = F.fused_jvp
    monkeypatch.setattr(P.matmul_p, "fused_jvp", lambda *a: calls.append(1) or fused(*a))
    f = lambda z: cr.tanh(W @ z).sum()  # noqa: E731
    _, (hv,) = cr.hvp(f, (x,), (v,))
    t = np.tanh(W.data @ x)
    np.testing.assert_allclose(hv, W.data.T @ (-2 * t * (1 - t * t) * (W.data @ v)), rtol=1e-10)
    assert len(calls) == 2  # W x with W v, and Wᵀ ḡ with its tangent


def test_fused_jvp_declines_where_the_tangent_would_be_recorded(monkeypatch):
    monkeypatch.setattr(F, "_FUSE_MIN_BYTES", 0)
    monkeypatch.setattr(F, "_FUSE", True)
    calls = []
    fused = F.fused_jvp
    monkeypatch.setattr(P.matmul_p, "fused_jvp", lambda *a: calls.append(1) or fused(*a))
    v = np.arange(20.0)
    # the matrix is on grad's graph: the tangent W v must be recorded so that grad sees it
    out = cr.grad(lambda w: cr.jvp(lambda z: w @ z, (np.ones(20),), (v,))[1].sum())(np.eye(20))
    np.testing.assert_array_equal(out, np.tile(v, (20, 1)))  # d/dW Σ W v = 1 vᵀ
    assert calls == []
    cr.jvp(lambda z: np.eye(20) @ z, (np.ones(20),), (v,))
    assert calls == [1]


def test_fused_value_and_tangent_are_separate_arrays(monkeypatch):
    monkeypatch.setattr(F, "_FUSE_MIN_BYTES", 0)
    monkeypatch.setattr(F, "_FUSE", True)
    W = np.random.default_rng(2).standard_normal((50, 50))
    x = cr.tensor(np.ones(50), requires_grad=True)
    out, tan = cr.jvp(lambda z: W @ z, (x,), (cr.tensor(np.arange(50.0)),))
    loss = (out * out).sum()
    tan += 1.0  # an in-place write into the tangent leaves the value (saved by multiply) alone
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * W.T @ (W @ np.ones(50)))


@pytest.mark.parametrize("faster", [True, False])
def test_fusion_is_used_only_where_it_was_measured_faster(monkeypatch, faster):
    monkeypatch.setattr(F, "_FUSE_MIN_BYTES", 1 << 16)
    monkeypatch.setattr(F, "_FUSE_PAYS", {})
    timed = []

    def best_times(fused, apart):  # the probe runs both ways on the real matrix; the clock is faked
        a, b = fused(), apart()
        np.testing.assert_allclose(a[1], b[1], rtol=1e-12)
        timed.append(1)
        return [1.0, 2.0] if faster else [1.0, 1.05]  # two products: twice as slow, or about as fast

    monkeypatch.setattr(F, "_best_times", best_times)
    calls = []
    fused = F.fused_jvp
    monkeypatch.setattr(P.matmul_p, "fused_jvp", lambda *a: calls.append(fused(*a) is not None) or None)
    r = np.random.default_rng(3)
    M = r.standard_normal((200, 200))
    x, v = r.standard_normal(200), r.standard_normal(200)
    for product in (lambda z: M @ z, lambda z: M @ z, lambda z: z @ M):
        out, tan = cr.jvp(product, (x,), (v,))
        np.testing.assert_allclose(tan, product(v), rtol=1e-12)
    assert calls == [faster] * 3
    # measured once per kernel and dtype: M @ z twice (one measurement), then z @ M
    assert timed == [1, 1] and F._FUSE_PAYS == {("_rows_times", "d"): faster, ("_times_rows", "d"): faster}
