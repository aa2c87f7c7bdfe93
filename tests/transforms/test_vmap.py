"""vmap: axes, nesting, errors, and its composition with every other transform (per-example gradients)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import grad, hessian, hvp, jacfwd, jacrev, jvp, vjp, vmap

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 4))
Y = rng.standard_normal((5, 3))
W = rng.standard_normal((3, 4))


def f(x):
    return cr.sin(x) * x.sum()


def loss(W, x, y):
    return ((cr.tanh(W @ x) - y) ** 2).sum()


def loop(fn, *args, axes=None):
    axes = axes or (0,) * len(args)
    n = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
    return np.stack([np.asarray(fn(*[a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, axes)]))
                     for i in range(n)])


def test_basic_and_types():
    out = vmap(lambda r: (r * r).sum())(np.arange(6.0).reshape(3, 2))
    assert isinstance(out, np.ndarray) and np.allclose(out, [1.0, 13.0, 41.0])
    out = vmap(lambda r: r * 2)(cr.tensor(X))
    assert isinstance(out, cr.Tensor) and np.allclose(out.data, 2 * X)


def test_in_axes_out_axes_and_pytrees():
    out = vmap(lambda a, b: a * b, in_axes=(1, None))(X.T, np.arange(4.0))
    assert np.allclose(out, X * np.arange(4.0))
    out = vmap(lambda x: x * 2, out_axes=1)(X)
    assert out.shape == (4, 5) and np.allclose(out, 2 * X.T)
    out = vmap(lambda p: {"s": p["a"] + p["b"]}, in_axes=({"a": 0, "b": None},))({"a": X, "b": np.ones(4)})
    assert np.allclose(out["s"], X + 1)
    out = vmap(lambda x: (x.sum(), 3.0))(X)  # a constant output is broadcast
    assert np.allclose(out[0], X.sum(axis=1)) and np.allclose(out[1], np.full(5, 3.0))


def test_nested():
    Z = rng.standard_normal((2, 3, 4))
    out = vmap(vmap(lambda v: (v * v).sum()))(Z)
    assert np.allclose(out, (Z * Z).sum(-1))
    # outer over the columns of B, inner over the rows of A: out[j, i] = A[i] · B[:, j]
    A, B = X, rng.standard_normal((4, 6))
    out = vmap(vmap(lambda a, b: (a * b).sum(), in_axes=(0, None)), in_axes=(None, 1))(A, B)
    assert out.shape == (6, 5) and np.allclose(out, (A @ B).T)


def test_per_example_gradients():
    pe = vmap(grad(loss), in_axes=(None, 0, 0))(W, X, Y)
    assert pe.shape == (5, 3, 4) and np.allclose(pe, loop(grad(loss), W, X, Y, axes=(None, 0, 0)))
    px = vmap(grad(loss, argnums=1), in_axes=(None, 0, 0))(W, X, Y)
    assert np.allclose(px, loop(grad(loss, argnums=1), W, X, Y, axes=(None, 0, 0)))


def test_grad_inside_vmap_with_a_batched_closure():
    got = vmap(lambda y: grad(lambda w: (w * y).sum() ** 2)(np.ones(3)))(Y)
    assert np.allclose(got, loop(lambda y: grad(lambda w: (w * y).sum() ** 2)(np.ones(3)), Y))


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_jacobians_inside_and_around_vmap(jac):
    assert np.allclose(vmap(jac(f))(X), loop(jac(f), X))
    J = jac(vmap(f))(X)
    assert J.shape == (5, 4, 5, 4) and np.allclose(J[2, :, 2], jac(f)(X[2])) and np.allclose(J[2, :, 3], 0)


def test_hessian_and_hvp_inside_vmap():
    h = hessian(lambda x: f(x).sum())
    assert np.allclose(vmap(h)(X), loop(h, X))
    V = rng.standard_normal((5, 4))
    one = lambda x, v: hvp(lambda z: f(z).sum(), (x,), (v,))[1][0]
    assert np.allclose(vmap(one)(X, V), loop(one, X, V))


def test_jvp_and_vjp_with_vmap():
    V = rng.standard_normal((5, 4))
    per = lambda x, v: jvp(f, (x,), (v,))[1]
    assert np.allclose(vmap(per)(X, V), loop(per, X, V))
    assert np.allclose(jvp(vmap(f), (X,), (V,))[1], loop(per, X, V))

    def pull(x, c):
        return vjp(f, x)[1](c)[0]

    assert np.allclose(vmap(pull)(X, V), loop(pull, X, V))


def test_vmap_inside_grad():
    h = lambda W: vmap(lambda x, y: loss(W, x, y))(X, Y).sum()
    assert np.allclose(grad(h)(W), sum(grad(loss)(W, X[i], Y[i]) for i in range(5)))


def test_errors():
    with pytest.raises(ValueError, match="different sizes"):
        vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="no argument is mapped"):
        vmap(lambda a: a, in_axes=None)(np.ones(3))
    with pytest.raises(ValueError, match="out of range"):
        vmap(lambda a: a, in_axes=1)(np.ones(3))
    with pytest.raises(TypeError, match="no single concrete value"):
        vmap(lambda a: float(a))(np.ones(3))
    with pytest.raises(TypeError, match="no single concrete value"):
        vmap(lambda a: 1.0 if a > 0 else 0.0)(np.ones(3))
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        vmap(lambda a, b: a, in_axes=(0,))(np.ones(3), np.ones(3))
