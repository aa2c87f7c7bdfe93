"""Against torch.func where PyTorch is installed (skipped otherwise): jvp, vjp, jacrev, jacfwd, hessian."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import hessian, jacfwd, jacrev, jvp, vjp

torch = pytest.importorskip("torch")
tf = pytest.importorskip("torch.func")

X = np.array([0.3, -0.8, 1.2])
V = np.array([1.0, 0.5, -2.0])


def ours(x):
    return cr.tanh(x) * cr.sin(x[::-1]) + cr.exp(x).sum()


def theirs(x):
    return torch.tanh(x) * torch.sin(torch.flip(x, (0,))) + torch.exp(x).sum()


def t(a):
    return torch.tensor(a, dtype=torch.float64)


def test_jvp_vjp():
    _, tan = jvp(ours, (X,), (V,))
    _, tan_t = tf.jvp(theirs, (t(X),), (t(V),))
    assert np.allclose(tan, tan_t.numpy())
    _, fn = vjp(ours, X)
    _, fn_t = tf.vjp(theirs, t(X))
    assert np.allclose(fn(V)[0], fn_t(t(V))[0].numpy())


def test_jacobians_and_hessian():
    assert np.allclose(jacrev(ours)(X), tf.jacrev(theirs)(t(X)).numpy())
    assert np.allclose(jacfwd(ours)(X), tf.jacfwd(theirs)(t(X)).numpy())
    assert np.allclose(hessian(lambda x: ours(x).sum())(X), tf.hessian(lambda x: theirs(x).sum())(t(X)).numpy())
