"""Rows 6, 7 and 8: a wide Jacobian by forward mode, a tall one by reverse mode, and an HVP against its gradient."""

from __future__ import annotations

import numpy as np

import chainrule as cr

from .harness import Case, Row, twice

__all__ = ["ROWS"]

# (inputs, outputs) of the two Jacobians, and n of the HVP, float64
JAC_SIZES = {"full": 2000, "quick": 2000, "tiny": 30}
HVP_SIZES = {"full": 2000, "quick": 2000, "tiny": 20}


def _matrix(rows, cols, seed):
    return np.random.default_rng(seed).standard_normal((rows, cols)) / np.sqrt(cols)


def _jacobian_build(mode):
    """f(x) = tanh(A x): R¹⁰ → R²⁰⁰⁰ (A tall) by forward mode, R²⁰⁰⁰ → R¹⁰ (A wide) by reverse mode."""

    def build(col, size):
        big = JAC_SIZES[size]
        shape = (big, 10) if mode == "forward" else (10, big)
        A = _matrix(*shape, seed=1)
        x = np.random.default_rng(2).standard_normal(shape[1])
        if col == "numpy":
            def fn():
                t = np.tanh(A @ x)
                return (1 - t * t)[:, None] * A  # ∂ tanh(Ax)/∂x = diag(1 - tanh²) A

            return twice(fn)
        if col in ("eager", "jit"):
            At = cr.tensor(A)
            jac = (cr.jacfwd if mode == "forward" else cr.jacrev)(lambda v: cr.tanh(At @ v))
            if col == "jit":
                jac = cr.jit(jac)
            return twice(lambda: jac(x))
        if col == "torch":
            import torch

            At, xt = torch.from_numpy(A), torch.from_numpy(x)
            jac = (torch.func.jacfwd if mode == "forward" else torch.func.jacrev)(lambda v: torch.tanh(At @ v))
            return twice(lambda: jac(xt))
        if col == "jax":
            import jax
            import jax.numpy as jnp

            Aj, xj = jnp.asarray(A), jnp.asarray(x)
            jac = jax.jit((jax.jacfwd if mode == "forward" else jax.jacrev)(lambda v: jnp.tanh(Aj @ v)))
            return twice(lambda: jac(xj).block_until_ready())
        if col == "autograd":
            import autograd
            import autograd.numpy as anp

            f = lambda v: anp.tanh(A @ v)  # noqa: E731
            if mode == "forward":  # autograd's forward mode gives one column per jvp
                basis = np.eye(x.size)
                return twice(lambda: np.stack([autograd.make_jvp(f)(x)(e)[1] for e in basis], axis=1))
            jac = autograd.jacobian(f)  # one vjp per output row
            return twice(lambda: jac(x))
        return None

    return build


def _hvp_build(col, size):
    """f(x) = Σ tanh(W x): the gradient and the Hessian-vector product (forward over reverse where offered)."""
    n = HVP_SIZES[size]
    W = _matrix(n, n, seed=3)
    rng = np.random.default_rng(4)
    x, v = rng.standard_normal(n), rng.standard_normal(n)

    def case(grad, hvp, hv=lambda r: r):
        return Case({"grad": grad, "hvp": hvp}, lambda: [grad(), hv(hvp()), grad(), hv(hvp())])

    if col == "numpy":
        def grad():
            t = np.tanh(W @ x)
            return W.T @ (1 - t * t)

        def hvp():  # the gradient too, as forward over reverse gives it: ∇f = Wᵀ d, H v = Wᵀ (-2 tanh(Wx) d ⊙ W v)
            t = np.tanh(W @ x)
            d = 1 - t * t
            return W.T @ d, W.T @ (-2 * t * d * (W @ v))

        return case(grad, hvp, lambda r: r[1])
    if col in ("eager", "jit"):
        Wt = cr.tensor(W)
        f = lambda y: cr.tanh(Wt @ y).sum()  # noqa: E731
        g = cr.grad(f)
        h = lambda y, w: cr.hvp(f, (y,), (w,))[1][0]  # noqa: E731
        if col == "jit":
            g, h = cr.jit(g), cr.jit(h)
        return case(lambda: g(x), lambda: h(x, v))
    if col == "torch":
        import torch

        Wt, xt, vt = torch.from_numpy(W), torch.from_numpy(x), torch.from_numpy(v)
        f = lambda y: torch.tanh(Wt @ y).sum()  # noqa: E731
        g = torch.func.grad(f)
        return case(lambda: g(xt), lambda: torch.func.jvp(g, (xt,), (vt,))[1])
    if col == "jax":
        import jax
        import jax.numpy as jnp

        Wj, xj, vj = jnp.asarray(W), jnp.asarray(x), jnp.asarray(v)
        g = jax.jit(jax.grad(lambda y: jnp.tanh(Wj @ y).sum()))
        h = jax.jit(lambda y, w: jax.jvp(g, (y,), (w,))[1])
        return case(lambda: g(xj).block_until_ready(), lambda: h(xj, vj).block_until_ready())
    if col == "autograd":
        import autograd
        import autograd.numpy as anp

        f = lambda y: anp.sum(anp.tanh(W @ y))  # noqa: E731
        g, h = autograd.grad(f), autograd.hessian_vector_product(f)
        return case(lambda: g(x), lambda: h(x, v))
    return None


ROWS = [
    Row("jacfwd", "Jacobian R¹⁰→R²⁰⁰⁰, forward mode", "ratio", _jacobian_build("forward"), rtol=1e-9, atol=1e-12),
    Row("jacrev", "Jacobian R²⁰⁰⁰→R¹⁰, reverse mode", "ratio", _jacobian_build("reverse"), rtol=1e-9, atol=1e-12),
    Row("hvp", "HVP time / grad time, Σ tanh(W x), n = 2000", "hvp/grad", _hvp_build, rtol=1e-8, atol=1e-10),
]
