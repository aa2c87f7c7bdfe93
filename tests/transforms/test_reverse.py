"""grad, value_and_grad, vjp: closed forms to 4th order, pytrees and types, has_aux, dtypes, errors."""

import math
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.transforms import grad, value_and_grad, vjp


def f_sin_exp(x):
    return cr.sin(x) * cr.exp(x)


def sin_exp_derivative(n, x):
    # dⁿ/dxⁿ (sin x · eˣ) = 2^(n/2) eˣ sin(x + nπ/4)
    return 2 ** (n / 2) * math.exp(x) * math.sin(x + n * math.pi / 4)


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.7])
def test_sin_exp_to_fourth_order(x):
    d = f_sin_exp
    for n in range(1, 5):
        d = grad(d)
        assert np.isclose(float(d(x)), sin_exp_derivative(n, x), rtol=1e-12, atol=1e-12)


def test_fourth_order_of_polynomial_and_fifth_is_zero():
    d4 = grad(grad(grad(grad(lambda x: x ** 4))))
    assert float(d4(3.0)) == 24.0
    assert float(grad(d4)(3.0)) == 0.0


def test_gradient_of_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    g = grad(lambda x: 0.5 * x @ cr.tensor(A) @ x)(x)
    assert np.allclose(g, 0.5 * (A + A.T) @ x)


def test_types_follow_the_inputs():
    g = grad(lambda x: (x * x).sum())
    assert isinstance(g(np.array([1.0, 2.0])), np.ndarray)
    out = g(cr.tensor([1.0, 2.0]))
    assert isinstance(out, cr.Tensor) and np.allclose(out.data, [2.0, 4.0])
    s = grad(lambda x: x * x)(3.0)  # a Python float gives a 0-d array
    assert isinstance(s, np.ndarray) and s.shape == () and s.dtype == np.float64 and float(s) == 6.0


def test_dtype_is_kept():
    g = grad(lambda x: (cr.tanh(x) * 2.0).sum())(np.ones(3, np.float32))
    assert g.dtype == np.float32
    v, g = value_and_grad(lambda x: (x * x).sum())(cr.tensor(np.ones(2, np.float32)))
    assert v.dtype == np.float32 and g.dtype == np.float32


def test_argnums_int_and_tuple():
    f = lambda x, y, z: x * y * y + z
    assert float(grad(f, argnums=1)(2.0, 3.0, 1.0)) == 12.0
    gx, gz = grad(f, argnums=(0, 2))(2.0, 3.0, 1.0)
    assert float(gx) == 9.0 and float(gz) == 1.0
    assert float(grad(f, argnums=-1)(2.0, 3.0, 1.0)) == 1.0


def test_pytree_inputs():
    params = {"w": np.array([1.0, 2.0]), "b": 0.5, "layers": [np.ones(2), (np.full(2, 2.0),)]}

    def loss(p, x):
        h = (p["w"] * x).sum() + p["b"]
        return h * h + (p["layers"][0] * p["layers"][1][0]).sum()

    g = grad(loss)(params, np.array([3.0, 4.0]))
    h = 1 * 3 + 2 * 4 + 0.5
    assert set(g) == {"w", "b", "layers"}
    assert np.allclose(g["w"], 2 * h * np.array([3.0, 4.0]))
    assert isinstance(g["b"], np.ndarray) and np.isclose(g["b"], 2 * h)
    assert isinstance(g["layers"], list) and isinstance(g["layers"][1], tuple)
    assert np.allclose(g["layers"][0], 2.0) and np.allclose(g["layers"][1][0], 1.0)


def test_has_aux():
    def f(x):
        y = (x * x).sum()
        return y, {"y": y, "note": "kept"}

    g, aux = grad(f, has_aux=True)(np.array([1.0, 2.0]))
    assert np.allclose(g, [2.0, 4.0]) and float(aux["y"]) == 5.0 and aux["note"] == "kept"
    (v, aux), g = value_and_grad(f, has_aux=True)(np.array([1.0, 2.0]))
    assert float(v) == 5.0 and np.allclose(g, [2.0, 4.0])
    with pytest.raises(TypeError, match="pair"):
        grad(lambda x: x * x, has_aux=True)(1.0)


def test_constant_function_has_zero_gradient():
    assert np.array_equal(grad(lambda x: 3.0)(np.ones(3)), np.zeros(3))
    assert np.array_equal(grad(lambda x, y: (y * y).sum(), argnums=0)(np.ones(2), np.ones(2)), np.zeros(2))


def test_tensor_inputs_keep_a_graph_for_later_backward():
    x = cr.tensor(2.0, requires_grad=True)
    gx = grad(lambda t: t ** 3)(x)  # 3x², still on the graph of x
    assert x.grad is None
    gx.backward()
    assert float(x.grad.item()) == 12.0  # 6x


def test_closure_over_tensor_that_requires_grad_gradient_penalty():
    w = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)
    gx = grad(lambda x: (cr.tanh(w * x)).sum())(np.array([0.3, 0.1]))
    assert isinstance(gx, cr.Tensor)  # it depends on w, so it stays differentiable
    (gx * gx).sum().backward()
    # finite differences of the penalty with respect to w
    def penalty(wv):
        x = np.array([0.3, 0.1])
        return np.sum((wv * (1 - np.tanh(wv * x) ** 2)) ** 2)
    eps = 1e-6
    num = [(penalty(w.data + eps * e) - penalty(w.data - eps * e)) / (2 * eps) for e in np.eye(2)]
    assert np.allclose(w.grad.data, num, atol=1e-6)


def test_grad_works_under_no_grad():
    x = cr.tensor(3.0, requires_grad=True)
    with cr.no_grad():
        assert float(grad(lambda x: x * x)(3.0)) == 6.0
        g = grad(lambda t: t ** 3)(x)
    assert float(g.item()) == 27.0 and not g.requires_grad  # recording was off outside the transform


def test_value_and_grad():
    v, g = value_and_grad(lambda x: cr.sin(x))(0.5)
    assert np.isclose(v, np.sin(0.5)) and np.isclose(g, np.cos(0.5))


def test_vjp_many_primals_pytree_output_and_repeated_calls():
    out, fn = vjp(lambda x, y: {"p": x * y, "s": (x + y).sum()}, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert np.allclose(out["p"], [3.0, 8.0]) and float(out["s"]) == 10.0
    for _ in range(2):  # vjp_fn can be called again: the graph is kept
        gx, gy = fn({"p": np.array([1.0, 10.0]), "s": 1.0})
        assert np.allclose(gx, [3.0 + 1, 40.0 + 1]) and np.allclose(gy, [1.0 + 1, 20.0 + 1])
    with pytest.raises(ValueError, match="shape"):
        fn({"p": np.ones(3), "s": 1.0})
    with pytest.raises(ValueError, match="structure"):
        fn(np.ones(2))


def test_vjp_has_aux_and_cotangent_not_aliased():
    _, fn, aux = vjp(lambda x: (x * 1.0, "aux"), np.ones(2), has_aux=True)
    assert aux == "aux"
    u = np.array([1.0, 2.0])
    (g,) = fn(u)
    g[0] = 99.0
    assert u[0] == 1.0


# ---- errors ----------------------------------------------------------------------------
def test_non_scalar_output_error_shows_shape():
    with pytest.raises(TypeError, match=r"must be a scalar.*shape \(3,\)"):
        grad(lambda x: x * 2)(np.ones(3))
    # one entry is not a scalar either (as in JAX and torch.func): the shape is shown, with what to do
    for shape in [(1,), (1, 1)]:
        with pytest.raises(TypeError, match=rf"^grad: the output must be a scalar \(shape \(\)\), but it has shape "
                                            rf"{re.escape(str(shape))}; index or reshape it"):
            grad(lambda x: x * 2)(np.ones(shape))
    with pytest.raises(TypeError, match=r"^value_and_grad: the output must be a scalar"):
        value_and_grad(lambda x: x * 2)(np.ones(1))
    assert float(grad(lambda x: (x * 2)[0])(np.ones(1))[0]) == 2.0


def test_integer_inputs_error():
    with pytest.raises(TypeError, match="int64.*floating-point"):
        grad(lambda x: x * x)(np.arange(3))
    with pytest.raises(TypeError, match="floating-point"):
        grad(lambda x: x * x)(3)


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match=r"argnums=2 is out of range.*2 positional"):
        grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums"):
        grad(lambda x: x, argnums="0")(1.0)


def test_pytree_output_to_grad_is_an_error():
    with pytest.raises(TypeError, match="single scalar"):
        grad(lambda x: (x, x))(1.0)


def test_non_float_output_error():
    with pytest.raises(TypeError, match="dtype"):
        grad(lambda x: cr.argmax(x))(np.ones(3))


def test_an_integer_output_has_no_gradient():
    # as JAX: not a silent zero
    with pytest.raises(TypeError, match="grad: the output must be a floating-point scalar, but its dtype is int"):
        cr.grad(lambda x: 3)(1.0)
    assert cr.grad(lambda x: 3.0)(1.0) == 0.0


def test_a_closure_found_by_the_shared_walk_keeps_the_result_differentiable():
    w = cr.tensor(np.array([0.5, -1.0]), requires_grad=True)
    x = np.array([1.0, 2.0])
    g = grad(lambda v: (w * v * v).sum())(x)  # 2 w x, a function of w
    assert g._node is not None
    g.sum().backward()
    assert np.allclose(w.grad.data, 2 * x)
    free = grad(lambda v: (w.detach() * v * v).sum())(x)
    assert not isinstance(free, cr.Tensor) or free._node is None
