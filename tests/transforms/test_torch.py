"""Against torch.func where PyTorch is installed (skipped otherwise): jvp, vjp, jacrev, jacfwd, hessian, hvp."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import hessian, hvp, jacfwd, jacobian, jacrev, jvp, vjp

torch = pytest.importorskip("torch")
tf = pytest.importorskip("torch.func")

X = np.array([0.3, -0.8, 1.2])
V = np.array([1.0, 0.5, -2.0])
RNG = np.random.default_rng(7)
W1 = RNG.standard_normal((4, 3))
W2 = RNG.standard_normal((2, 4))
B = RNG.standard_normal((2, 1))  # broadcasts against a (3,) row


def ours(x):
    return cr.tanh(x) * cr.sin(x[::-1]) + cr.exp(x).sum()


def theirs(x):
    return torch.tanh(x) * torch.sin(torch.flip(x, (0,))) + torch.exp(x).sum()


def t(a):
    return torch.tensor(a, dtype=torch.float64)


# (chainrule, torch) pairs of the same function of one vector x of shape (3,)
PAIRS = {
    "elementwise": (
        lambda x: cr.sin(x) * cr.exp(x) / (1 + x * x) + cr.sqrt(x * x + 1) * cr.log1p(x * x),
        lambda x: torch.sin(x) * torch.exp(x) / (1 + x * x) + torch.sqrt(x * x + 1) * torch.log1p(x * x),
    ),
    "matmul chain": (
        lambda x: cr.tensor(W2) @ cr.tanh(cr.tensor(W1) @ x),
        lambda x: t(W2) @ torch.tanh(t(W1) @ x),
    ),
    "matrix chain": (
        lambda x: (cr.outer(x, x) @ cr.tensor(W1.T) @ cr.tensor(W2.T)).reshape(-1),
        lambda x: (torch.outer(x, x) @ t(W1.T) @ t(W2.T)).reshape(-1),
    ),
    "softmax": (
        lambda x: cr.softmax(cr.tensor(W1) @ x) * cr.log_softmax(x * x[::-1])[0],
        lambda x: torch.softmax(t(W1) @ x, -1) * torch.log_softmax(x * torch.flip(x, (0,)), -1)[0],
    ),
    "softmax axis 0": (
        lambda x: cr.softmax(cr.outer(x, cr.tensor(W1[0])), axis=0).reshape(-1),
        lambda x: torch.softmax(torch.outer(x, t(W1[0])), 0).reshape(-1),
    ),
    "reductions with axis": (
        lambda x: cr.concatenate([
            cr.sum(cr.outer(x, x) ** 2, axis=0), cr.mean(cr.outer(x, cr.exp(x)), axis=1),
            cr.max(cr.outer(x, x[::-1]), axis=1), cr.prod(cr.outer(x, x) + 2, axis=0),
            cr.logsumexp(cr.outer(x, x), axis=1), cr.var(cr.outer(x, x * 3), axis=0),
        ]),
        lambda x: torch.cat([
            torch.sum(torch.outer(x, x) ** 2, 0), torch.mean(torch.outer(x, torch.exp(x)), 1),
            torch.amax(torch.outer(x, torch.flip(x, (0,))), 1), torch.prod(torch.outer(x, x) + 2, 0),
            torch.logsumexp(torch.outer(x, x), 1), torch.var(torch.outer(x, x * 3), 0, unbiased=False),
        ]),
    ),
    "broadcasting": (
        lambda x: (cr.tanh(x[None, :] * cr.tensor(B) + x) * (x[:, None] - x[None, :])[:2]).reshape(-1),
        lambda x: (torch.tanh(x[None, :] * t(B) + x) * (x[:, None] - x[None, :])[:2]).reshape(-1),
    ),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_jvp_and_vjp(name):
    f, g = PAIRS[name]
    out, tan = jvp(f, (X,), (V,))
    out_t, tan_t = tf.jvp(g, (t(X),), (t(V),))
    assert np.allclose(out, out_t.numpy()) and np.allclose(tan, tan_t.numpy())
    u = RNG.standard_normal(np.shape(out))
    _, fn = vjp(f, X)
    _, fn_t = tf.vjp(g, t(X))
    assert np.allclose(fn(u)[0], fn_t(t(u))[0].numpy())


@pytest.mark.parametrize("name", list(PAIRS))
def test_jacobians(name):
    f, g = PAIRS[name]
    ref = tf.jacrev(g)(t(X)).numpy()
    assert np.allclose(tf.jacfwd(g)(t(X)).numpy(), ref)
    for jac in (jacrev, jacfwd, jacobian):
        assert np.allclose(jac(f)(X), ref), jac.__name__


@pytest.mark.parametrize("name", list(PAIRS))
def test_hessian_and_hvp(name):
    f, g = PAIRS[name]
    loss = lambda x: cr.sum(f(x) ** 2) / 2
    loss_t = lambda x: torch.sum(g(x) ** 2) / 2
    H = tf.hessian(loss_t)(t(X)).numpy()
    assert np.allclose(hessian(loss)(X), H)
    (gx,), (hv,) = hvp(loss, (X,), (V,))
    _, hv_t = tf.jvp(tf.grad(loss_t), (t(X),), (t(V),))  # torch.func's forward-over-reverse hvp
    assert np.allclose(hv, hv_t.numpy()) and np.allclose(hv, H @ V)
    assert np.allclose(gx, tf.grad(loss_t)(t(X)).numpy())


def test_two_arguments_and_float32():
    f = lambda x, w: cr.tanh(w @ x) * x.sum()
    g = lambda x, w: torch.tanh(w @ x) * x.sum()
    for jac, jac_t in ((jacrev, tf.jacrev), (jacfwd, tf.jacfwd)):
        ours_x, ours_w = jac(f, argnums=(0, 1))(X, W1)
        ref_x, ref_w = jac_t(g, argnums=(0, 1))(t(X), t(W1))
        assert np.allclose(ours_x, ref_x.numpy()) and np.allclose(ours_w, ref_w.numpy())
    x32 = X.astype(np.float32)
    J = jacrev(f)(x32, W1.astype(np.float32))
    ref = tf.jacrev(g)(torch.tensor(x32), torch.tensor(W1.astype(np.float32))).numpy()
    assert J.dtype == np.float32 and np.allclose(J, ref, atol=1e-5)


def test_original_pair():
    _, tan = jvp(ours, (X,), (V,))
    _, tan_t = tf.jvp(theirs, (t(X),), (t(V),))
    assert np.allclose(tan, tan_t.numpy())
    assert np.allclose(hessian(lambda x: ours(x).sum())(X), tf.hessian(lambda x: theirs(x).sum())(t(X)).numpy())
