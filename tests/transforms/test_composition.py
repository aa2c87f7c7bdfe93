"""Any transform inside any other: perturbation confusion, forward/reverse mixes, 4th order."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import grad, hessian, jacfwd, jacrev, jvp, vjp


def fwd(f):
    """d/dx by forward mode."""
    return lambda x: jvp(f, (x,), (1.0,))[1]


def rev(f):
    """d/dx by reverse mode."""
    return grad(f)


@pytest.mark.parametrize("outer", [fwd, rev], ids=["fwd", "rev"])
@pytest.mark.parametrize("inner", [fwd, rev], ids=["fwd", "rev"])
@pytest.mark.parametrize("x", [0.5, 3.0])
def test_perturbation_confusion(outer, inner, x):
    # d/dx [x · d/dy (x + y)] = 1 for every x;  d/dx [x · d/dy (x·y)] = 2x   (Siskind & Pearlmutter)
    assert float(outer(lambda x: x * inner(lambda y: x + y)(1.0))(x)) == 1.0
    assert np.isclose(float(outer(lambda x: x * inner(lambda y: x * y)(2.0))(x)), 2 * x)
    # the inner transform is evaluated at the outer variable itself
    assert np.isclose(float(outer(lambda x: x * inner(lambda y: x * y)(x))(x)), 2 * x)


@pytest.mark.parametrize("combo", ["rrrr", "ffff", "frfr", "rfrf", "ffrr", "rrff"])
def test_fourth_order_mixed(combo):
    f = lambda x: cr.sin(x) * cr.exp(x)
    d = f
    for c in combo:
        d = fwd(d) if c == "f" else rev(d)
    x = 0.4
    assert np.isclose(float(d(x)), 4 * np.exp(x) * np.sin(x + np.pi), atol=1e-12)  # 2² eˣ sin(x + π)


def test_vjp_of_grad_and_grad_of_jvp():
    f = lambda x: (x ** 3).sum()
    x = np.array([1.0, 2.0])
    _, fn = vjp(grad(f), x)
    (hv,) = fn(np.array([1.0, 1.0]))
    assert np.allclose(hv, 6 * x)
    g = grad(lambda x: jvp(f, (x,), (np.ones(2),))[1])(x)  # ∇(∇f·v) = H v
    assert np.allclose(g, 6 * x)


def test_transforms_inside_transformed_functions():
    def inner_newton_step(a):
        # one Newton step for the root of y² - a starting at y = 1, written with grad
        f = lambda y: y * y - a
        y = 1.0 + 0.0 * a
        return y - f(y) / grad(f)(y)

    # d/da [(1 + a)/2] = 1/2
    assert np.isclose(float(grad(inner_newton_step)(4.0)), 0.5)


def test_jacfwd_of_jacrev_equals_jacrev_of_jacrev():
    f = lambda x: (cr.tanh(x) * x[::-1]).sum() * cr.exp(x[0])
    x = np.array([0.3, -0.2, 0.5])
    assert np.allclose(hessian(f)(x), jacrev(jacrev(f))(x))
    assert np.allclose(jacfwd(jacfwd(f))(x), jacrev(jacfwd(f))(x))


def test_third_order_tensor():
    f = lambda x: (x ** 4).sum()
    t = jacfwd(jacrev(jacrev(f)))(np.array([1.0, 2.0]))
    assert t.shape == (2, 2, 2) and t[0, 0, 0] == 24.0 and t[1, 1, 1] == 48.0 and t[0, 1, 1] == 0.0
