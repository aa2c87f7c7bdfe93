"""Result types: arrays in give arrays out, Tensors in give Tensors out, in every transform and composition."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp, vmap
from chainrule.transforms.pytree import tree_leaves

X0 = np.array([0.3, 0.7])
V = np.ones(2)


def f(x):
    return (cr.sin(x) * x).sum()


def fv(x):
    return cr.sin(x) * x


def kinds(result):
    return {type(leaf).__name__ for leaf in tree_leaves(result)}


# ---- a transform evaluated at a fixed point inside another is a constant to it ----------------------------
FIXED_POINT = {
    "grad(y * grad(f)(x0))": lambda: grad(lambda y: y * grad(f)(X0).sum())(1.0),
    "grad(vjp_fn at x0 of u)": lambda: grad(lambda u: vjp(fv, X0)[1](u)[0].sum())(V),
    "jacrev(vjp_fn at x0 of u)": lambda: jacrev(lambda u: vjp(fv, X0)[1](u)[0])(V),
    "jacfwd(vjp_fn at x0 of u)": lambda: jacfwd(lambda u: vjp(fv, X0)[1](u)[0])(V),
    "grad(y * jvp at x0)": lambda: grad(lambda y: y * jvp(f, (X0,), (V,))[1])(1.0),
    "grad(y * hessian at x0)": lambda: grad(lambda y: y * hessian(f)(X0).sum())(1.0),
    "jacrev(y * jacrev at x0)": lambda: jacrev(lambda y: y * jacrev(fv)(X0))(np.ones(1)),
}


@pytest.mark.parametrize("name", list(FIXED_POINT))
def test_inner_transform_at_a_fixed_point_gives_arrays(name):
    out = FIXED_POINT[name]()
    assert kinds(out) == {"ndarray"}, name


def test_inner_transform_at_a_fixed_point_values():
    g = grad(f)(X0)
    assert np.isclose(grad(lambda y: y * grad(f)(X0).sum())(1.0), g.sum())
    d = np.sin(X0) + X0 * np.cos(X0)  # the Jacobian of fv is diagonal
    assert np.allclose(grad(lambda u: vjp(fv, X0)[1](u)[0].sum())(V), d)
    assert np.allclose(jacrev(lambda u: vjp(fv, X0)[1](u)[0])(V), np.diag(d))


def test_a_vjp_taken_earlier_is_a_constant_inside_grad():
    _, fn = vjp(fv, X0)
    g = grad(lambda u: (fn(u)[0] ** 2).sum())(V)
    d = np.sin(X0) + X0 * np.cos(X0)
    assert isinstance(g, np.ndarray) and np.allclose(g, 2 * d * d)


def test_inner_transform_of_the_outer_variable_stays_differentiable():
    # the inner grad depends on x: the outer grad must see it (perturbation confusion, the hard case)
    assert float(grad(lambda x: x * grad(lambda y: x * y)(2.0))(3.0)) == 6.0
    g = grad(lambda x: grad(f)(x).sum())(X0)
    assert isinstance(g, np.ndarray) and np.allclose(g, 2 * np.cos(X0) - X0 * np.sin(X0))


def test_closure_over_a_tensor_that_requires_grad_keeps_the_graph():
    w = cr.tensor(2.0, requires_grad=True)
    g = grad(lambda y: w * y * y)(3.0)  # 2 w y, still a function of w
    assert isinstance(g, cr.Tensor) and g.requires_grad
    g.backward()
    assert float(w.grad.item()) == 6.0
