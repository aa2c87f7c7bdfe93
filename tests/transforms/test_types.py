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


# ---- one rule for every transform: any Tensor among the call's inputs makes every result a Tensor ---------
@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobian_modes_agree_on_types(mode, argnums):
    f = lambda x, y: x * y
    arrays = jacobian(f, argnums=argnums, mode=mode)(np.ones(2), np.ones(2))
    mixed = jacobian(f, argnums=argnums, mode=mode)(np.ones(2), cr.tensor(np.ones(2)))
    assert kinds(arrays) == {"ndarray"} and kinds(mixed) == {"Tensor"}
    assert all(not t.requires_grad for t in tree_leaves(mixed))  # nothing outer: no graph kept


MIXED = {  # x an array, y a Tensor that needs no gradient
    "grad": lambda x, y: grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(x, y),
    "value_and_grad": lambda x, y: value_and_grad(lambda x, y: (x * y).sum())(x, y),
    "vjp": lambda x, y: vjp(lambda x, y: x * y, x, y)[1](np.ones(2)),
    "vjp out": lambda x, y: vjp(lambda x, y: x * y, x, y)[0],
    "jvp": lambda x, y: jvp(lambda x, y: x * y, (x, y), (np.ones(2), np.ones(2))),
    "jacfwd": lambda x, y: jacfwd(lambda x, y: x * y)(x, y),
    "jacrev": lambda x, y: jacrev(lambda x, y: x * y)(x, y),
    "hessian": lambda x, y: hessian(lambda x, y: (x * x * y).sum())(x, y),
    "hvp": lambda x, y: hvp(lambda x, y: (x * x * y).sum(), (x, y), (np.ones(2), np.ones(2))),
    "vmap": lambda x, y: vmap(lambda x, y: x * y)(x, y),
    "kwarg Tensor": lambda x, y: grad(lambda x, *, y: (x * y).sum())(x, y=y),
}


@pytest.mark.parametrize("name", list(MIXED))
def test_a_tensor_anywhere_in_the_call_gives_tensors(name):
    assert kinds(MIXED[name](np.ones(2), np.full(2, 2.0))) == {"ndarray"}
    assert kinds(MIXED[name](np.ones(2), cr.tensor(np.full(2, 2.0)))) == {"Tensor"}


def test_a_tensor_cotangent_or_tangent_gives_tensors():
    _, fn = vjp(lambda x: x * 2, np.ones(2))
    assert isinstance(fn(np.ones(2))[0], np.ndarray) and isinstance(fn(cr.ones(2))[0], cr.Tensor)
    assert kinds(jvp(lambda x: x * 2, (np.ones(2),), (cr.ones(2),))) == {"Tensor"}


COMPOSITIONS = {
    "grad(grad)": lambda x: grad(lambda z: grad(f)(z).sum())(x),
    "jvp(grad)": lambda x: jvp(grad(f), (x,), (V,)),
    "grad(jvp)": lambda x: grad(lambda z: jvp(f, (z,), (V,))[1])(x),
    "vjp(grad)": lambda x: vjp(grad(f), x)[1](V),
    "jacfwd(jacrev)": lambda x: jacfwd(jacrev(f))(x),
    "jacrev(jacfwd)": lambda x: jacrev(jacfwd(f))(x),
    "jacrev(jacrev)": lambda x: jacrev(jacrev(f))(x),
    "jacobian(grad)": lambda x: jacobian(grad(f))(x),
    "jacobian(jacobian)": lambda x: jacobian(jacobian(fv))(x),
    "hessian(grad sum)": lambda x: hessian(lambda z: grad(f)(z).sum())(x),
    "hvp": lambda x: hvp(f, (x,), (V,)),
    "vmap(grad)": lambda x: vmap(grad(lambda z: cr.sin(z)))(x),
    "grad(vmap)": lambda x: grad(lambda z: vmap(cr.sin)(z).sum())(x),
    "jvp(jvp)": lambda x: jvp(lambda z: jvp(f, (z,), (V,))[1], (x,), (V,)),
    "grad^3 scalar": lambda x: grad(grad(grad(lambda z: (cr.sin(z) * z).sum())))(x[0]),
}


@pytest.mark.parametrize("name", list(COMPOSITIONS))
def test_compositions_give_arrays_for_arrays_and_tensors_for_tensors(name):
    out = COMPOSITIONS[name](X0)
    assert kinds(out) == {"ndarray"}, name
    out = COMPOSITIONS[name](cr.tensor(X0))
    assert kinds(out) == {"Tensor"}, name
    assert all(t._fw is None and not t.requires_grad for t in tree_leaves(out))  # no stale tangent or graph


def test_python_floats_and_constants_give_0d_arrays():
    out, t = jvp(lambda x: 3.0, (2.0,), (1.0,))
    assert type(out) is np.ndarray and out.shape == () and float(out) == 3.0
    assert type(t) is np.ndarray and float(t) == 0.0
    v, g = value_and_grad(lambda x: 3.0)(2.0)
    assert type(v) is np.ndarray and type(g) is np.ndarray and float(g) == 0.0
    out, _ = vjp(lambda x: 3.0, 2.0)
    assert type(out) is np.ndarray
    out, _ = jvp(lambda x: 3.0, (cr.tensor(2.0),), (1.0,))
    assert isinstance(out, cr.Tensor)
    _, aux = grad(lambda x: (x * x, "note"), has_aux=True)(2.0)
    assert aux == "note"  # aux values that are not numbers pass through as they are


def test_inner_traces_do_not_leak_through_vmap_or_forward_mode():
    # the result of a reverse transform inside vmap / jvp / jacfwd carries none of its own trace
    f = lambda y: np.sum(y ** 2)  # noqa: E731
    x, v = np.array([0.3, 0.8, 1.2]), np.array([1.0, 2.0, 3.0])
    r = cr.vmap(lambda r: cr.value_and_grad(f)(r)[0])(np.ones((2, 3)))
    assert type(r) is np.ndarray and np.array_equal(r, [3.0, 3.0])
    r = cr.jvp(lambda x: cr.value_and_grad(f)(x)[0], (x,), (v,))[1]
    assert type(r) is np.ndarray and np.isclose(r, 2 * x @ v)
    r = cr.jacfwd(lambda x: cr.vjp(np.sin, x)[0])(x)
    assert type(r) is np.ndarray and np.allclose(r, np.diag(np.cos(x)))
    r = cr.jvp(lambda x: cr.grad(lambda y: (f(y), np.mean(y ** 2)), has_aux=True)(x)[1], (x,), (v,))[1]
    assert type(r) is np.ndarray and np.isclose(r, np.mean(2 * x * v))
