"""Batched Jacobians whose rules run on bare arrays (nothing recorded): the same numbers as one row at a time.

jacfwd runs the forward rules on the primal ndarrays with the basis tangents batched; jacrev runs the
reverse rules on the saved ndarrays with the basis cotangents batched (core/primitive.py ``_raw_tangent``,
core/backward.py ``sweep``'s ``batched``, core/batching.py ``_on_arrays``). These check the cases where
that path meets something else: a cotangent that is not batched (a zero-derivative rule's zeros) added to
one that is, a custom Function (whose rules need Tensors), an enclosing transform that needs a graph.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.function import Function
from chainrule.transforms import grad, hessian, jacfwd, jacobian, jacrev, jvp, vjp


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * 3 * x ** 2


W = np.random.default_rng(0).standard_normal((5, 4))


def f_mixed(x):
    # floor's reverse rule gives unbatched zeros, added to the batched cotangent of the product
    y = cr.tensor(W) @ cr.tanh(x)
    return y * 2.0 + cr.floor(y) + Cube.apply(y) * 0.1 + cr.sum(y * y)


def rows_by_vjp(f, x):
    y, pull = vjp(f, x)
    return np.stack([pull(e)[0] for e in np.eye(y.size).reshape((y.size,) + y.shape)])


def cols_by_jvp(f, x):
    return np.stack([jvp(f, (x,), (e,))[1] for e in np.eye(x.size).reshape((x.size,) + x.shape)], axis=-1)


X = np.random.default_rng(1).standard_normal(4)


@pytest.mark.parametrize("jac", [jacrev, lambda f: jacobian(f, mode="reverse")])
def test_reverse_equals_one_row_at_a_time(jac):
    np.testing.assert_allclose(jac(f_mixed)(X), rows_by_vjp(f_mixed, X), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("jac", [jacfwd, lambda f: jacobian(f, mode="forward"), lambda f: jacobian(f)])
def test_forward_equals_one_column_at_a_time(jac):
    np.testing.assert_allclose(jac(f_mixed)(X), cols_by_jvp(f_mixed, X), rtol=1e-13, atol=1e-13)


def test_forward_and_reverse_agree_with_finite_differences():
    eps = 1e-6
    num = np.stack([(f_mixed(cr.tensor(X + e)).data - f_mixed(cr.tensor(X - e)).data) / (2 * eps)
                    for e in np.eye(4) * eps], axis=-1)
    np.testing.assert_allclose(jacfwd(f_mixed)(X), num, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(jacrev(f_mixed)(X), num, rtol=1e-6, atol=1e-6)


def test_chunks_give_the_same_jacobian():
    np.testing.assert_allclose(jacrev(f_mixed, chunk_size=2)(X), jacrev(f_mixed)(X), rtol=1e-14)
    np.testing.assert_allclose(jacfwd(f_mixed, chunk_size=3)(X), jacfwd(f_mixed)(X), rtol=1e-14)


def test_enclosing_transforms_still_see_the_graph():
    """Inside grad or jvp the rules must record (or carry tangents): the array path must stand aside."""
    def g(x):
        return (jacrev(lambda z: cr.tanh(cr.tensor(W) @ z))(x) ** 2).sum()

    def g_fwd(x):
        return (jacfwd(lambda z: cr.tanh(cr.tensor(W) @ z))(x) ** 2).sum()

    eps = 1e-6
    num = np.array([(g(cr.tensor(X + e)).item() - g(cr.tensor(X - e)).item()) / (2 * eps) for e in np.eye(4) * eps])
    np.testing.assert_allclose(grad(g)(X), num, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grad(g_fwd)(X), num, rtol=1e-6, atol=1e-7)
    H = hessian(lambda x: cr.sum(cr.tanh(cr.tensor(W) @ x) ** 3))(X)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jvp(grad(lambda x: cr.sum(cr.tanh(cr.tensor(W) @ x) ** 3)), (X,), (np.eye(4)[0],))[1],
                               H[:, 0], rtol=1e-12, atol=1e-12)


def test_vmap_of_jacrev_is_per_example():
    xs = np.random.default_rng(2).standard_normal((3, 4))
    Js = cr.vmap(jacrev(f_mixed))(xs)
    for k in range(3):
        np.testing.assert_allclose(Js[k], jacrev(f_mixed)(xs[k]), rtol=1e-13, atol=1e-13)
