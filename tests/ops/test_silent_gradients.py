"""Issue 11's silent wrong answers in the elementwise family, pinned: remainders differentiate, piecewise-constant
operations stay on the graph with derivative 0, list operands work in both modes, PyTorch's Tensor methods."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import REGISTRY
from chainrule.ops import elementwise as E
from chainrule.ops import rounding as RN


# ---- x % y: ∂/∂x = 1, ∂/∂y = -floor(x/y) (main gave 0 for both) ---------------------------------------
def test_mod_by_a_constant_has_gradient_one():
    x = cr.tensor([3.3, -2.7, 0.4], requires_grad=True)
    (x % 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("y", [1.5, -1.5, 0.7, 3.0001])
def test_constant_mod_y_has_gradient_minus_floor(y):
    t = cr.tensor(y, requires_grad=True)
    (5.0 % t).backward()
    assert t.grad.item() == -math.floor(5.0 / y)
    t = cr.tensor(y, requires_grad=True)
    cr.fmod(5.0, t).backward()
    assert t.grad.item() == -math.trunc(5.0 / y)


def test_mod_tangent_is_one():
    _, tangent = cr.jvp(lambda x: x % 1.0, (cr.tensor(2.3),), (cr.tensor(1.0),))
    assert tangent.item() == 1.0
    _, tangent = cr.jvp(lambda y: 5.0 % y, (cr.tensor(1.5),), (cr.tensor(1.0),))
    assert tangent.item() == -3.0


def test_every_spelling_of_the_remainder_differentiates():
    x0, y0 = np.array([7.5, -7.5, 2.25]), np.array([2.0, 2.0, -0.5])
    q = np.floor(x0 / y0)
    for f, quotient in ((lambda x, y: x % y, q), (cr.mod, q), (cr.remainder, q), (np.mod, q), (np.remainder, q),
                        (lambda x, y: divmod(x, y)[1], q), (lambda x, y: np.divmod(x, y)[1], q),
                        (cr.fmod, np.trunc(x0 / y0)), (np.fmod, np.trunc(x0 / y0))):
        x, y = cr.tensor(x0, requires_grad=True), cr.tensor(y0, requires_grad=True)
        f(x, y).sum().backward()
        np.testing.assert_array_equal(x.grad.data, np.ones(3))
        np.testing.assert_array_equal(y.grad.data, -quotient)


def test_divmod_is_floor_divide_and_mod():
    x = cr.tensor([7.5, -3.0], requires_grad=True)
    q, m = divmod(x, 2.0)
    np.testing.assert_array_equal(q.data, [3.0, -2.0])
    np.testing.assert_array_equal(m.data, [1.5, 1.0])
    q2, m2 = divmod(10.0, cr.tensor(4.0))  # __rdivmod__
    assert (q2.item(), m2.item()) == (2.0, 2.0)


# ---- piecewise constant: a zero gradient, not "does not require grad" -----------------------------------
ZERO = {"sign": np.sign, "floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc, "rint": np.rint}


@pytest.mark.parametrize("name", sorted(ZERO))
def test_piecewise_constant_backward_gives_zeros(name):
    f = getattr(cr, name)
    x = cr.tensor([1.3, -2.0, 0.0, 0.5], requires_grad=True)
    y = f(x)
    assert y.requires_grad and y.grad_fn is not None
    np.testing.assert_array_equal(y.data, ZERO[name](x.data))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(4))
    _, tangent = cr.jvp(f, (x.detach(),), (cr.ones(4),))
    np.testing.assert_array_equal(tangent.data, np.zeros(4))
    np.testing.assert_array_equal(cr.grad(lambda x: f(x).sum())(x.detach()).data, np.zeros(4))


def test_piecewise_constant_factors_keep_the_rest_of_the_gradient():
    x = cr.tensor([1.3, -2.6], requires_grad=True)
    (cr.floor(x) * x).sum().backward()  # d/dx floor(x)·x = floor(x) away from the jumps
    np.testing.assert_array_equal(x.grad.data, [1.0, -3.0])
    h = cr.hessian(lambda x: (cr.floor(x) * x * x).sum())(cr.tensor([1.3, -2.6]))
    np.testing.assert_allclose(h.data, np.diag([2.0, -6.0]))
    assert cr.grad(cr.grad(lambda x: cr.sign(x)))(cr.tensor(1.0)).item() == 0.0


def test_floor_divide_and_heaviside():
    x = cr.tensor([3.5, -1.0, 0.0], requires_grad=True)
    h = cr.tensor([0.5, 0.5, 0.25], requires_grad=True)
    (x // 2.0 + cr.heaviside(x, h)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(3))
    np.testing.assert_array_equal(h.grad.data, [0.0, 0.0, 1.0])  # heaviside(0, h) is h itself


def test_comparisons_and_masks_stay_off_the_graph():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    for c in (x > 0, x == 1, cr.isnan(x), cr.signbit(x), cr.logical_not(x > 0)):
        assert c.dtype == np.bool_ and not c.requires_grad and c.grad_fn is None


def test_zero_derivative_and_nondifferentiable_are_declared_apart():
    for name in ("sign", "floor", "ceil", "round", "trunc", "rint", "floor_divide", "heaviside", "mod", "fmod"):
        assert not REGISTRY[name].nondiff, name
    for name in ("equal", "less", "greater", "logical_and", "isnan", "signbit", "bitwise_and", "argmax"):
        assert REGISTRY[name].nondiff, name


# ---- a Python list (or tuple) as an operand: main crashed in backward and jvp ----------------------------
def _binary_primitives():
    """Every registered differentiable elementwise primitive of two operands."""
    return sorted(name for name, p in REGISTRY.items()
                  if p.array_args and not p.nondiff and len(p.vjp_table) == 2 and not name.startswith("_"))


def test_the_binary_list_covers_the_issues_cases():
    names = _binary_primitives()
    assert {"maximum", "minimum", "power", "arctan2", "add", "multiply", "divide", "mod", "fmod"} <= set(names)


@pytest.mark.parametrize("name", _binary_primitives())
@pytest.mark.parametrize("side", [0, 1])
@pytest.mark.parametrize("kind", [list, tuple])
def test_a_list_operand_works_in_both_modes(name, side, kind):
    prim = REGISTRY[name]
    x0 = np.array([1.25, 0.75, 1.5])
    other = [0.5, 2.0, 1.5]  # a tie with x0 at the end (maximum, minimum)

    def f(x, c):
        return prim(x, c) if side == 0 else prim(c, x)

    x = cr.tensor(x0, requires_grad=True)
    f(x, kind(other)).sum().backward()
    xa = cr.tensor(x0, requires_grad=True)
    f(xa, np.array(other)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, xa.grad.data)
    v = cr.tensor([1.0, -2.0, 0.5])
    _, t_list = cr.jvp(lambda x: f(x, kind(other)), (cr.tensor(x0),), (v,))
    _, t_array = cr.jvp(lambda x: f(x, np.array(other)), (cr.tensor(x0),), (v,))
    np.testing.assert_array_equal(t_list.data, t_array.data)
    batched = cr.vmap(lambda x: f(x, kind(other)))(cr.tensor(np.stack([x0, x0 + 0.125])))
    np.testing.assert_array_equal(batched.data[0], f(cr.tensor(x0), np.array(other)).data)


def test_the_issues_list_examples():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    y = cr.maximum(x, [0.0, 0.0]) + x ** [2.0, 2.0] + cr.arctan2(x, [1.0, 2.0]) + cr.minimum(x, [0.0, 0.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0 + 2.0 + 0.5 + 0.0, 0.0 - 4.0 + 0.25 + 1.0])
    _, t = cr.jvp(lambda x: cr.maximum(x, [0.0, 0.0]), (cr.tensor([1.0, -2.0]),), (cr.ones(2),))
    np.testing.assert_array_equal(t.data, [1.0, 0.0])
    y = cr.tensor([0.5, -0.5], requires_grad=True)
    cr.where([True, False], y, [3.0, 4.0]).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [1.0, 0.0])


def test_a_list_holding_a_tensor_on_the_graph_is_refused_not_dropped():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    t = cr.tensor(3.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"maximum: operand 1 is a list holding a Tensor that is on the graph.*stack"):
        cr.maximum(x, [t, 0.0])
    with pytest.raises(TypeError, match="operand 0 is a tuple"):
        cr.add(((t, 1.0),), x)
    with pytest.raises(TypeError, match="on the graph"):
        cr.grad(lambda s: (x * [s, 1.0]).sum())(cr.tensor(2.0))
    y = cr.maximum(x, [cr.tensor(3.0), t.detach()])  # Tensors off the graph are values, as NumPy's
    np.testing.assert_array_equal(y.data, [3.0, 3.0])


# ---- PyTorch users' methods (API.md, "Tensor methods") ----------------------------------------------------
_A = np.array([[0.5, 1.5, 2.0], [1.0, 0.25, 3.0]])
METHODS = [  # method call, the same cr. function
    (lambda t: t.exp(), cr.exp), (lambda t: t.log(), cr.log), (lambda t: t.sqrt(), cr.sqrt),
    (lambda t: t.sin(), cr.sin), (lambda t: t.tanh(), cr.tanh), (lambda t: t.sigmoid(), cr.sigmoid),
    (lambda t: t.relu(), cr.relu), (lambda t: t.abs(), cr.abs), (lambda t: t.sign(), cr.sign),
    (lambda t: t.pow(2), lambda t: cr.power(t, 2)), (lambda t: t.clamp(0.6, 2.5), lambda t: cr.clip(t, 0.6, 2.5)),
    (lambda t: t.clamp(min=1.0), lambda t: cr.clip(t, 1.0, None)),
    (lambda t: t.matmul(t.T), lambda t: cr.matmul(t, t.T)),
    (lambda t: t.softmax(axis=-1), lambda t: cr.softmax(t, axis=-1)),
    (lambda t: t.softmax(dim=0), lambda t: cr.softmax(t, axis=0)),
    (lambda t: t.log_softmax(axis=-1), lambda t: cr.log_softmax(t, axis=-1)),
    (lambda t: t.log_softmax(dim=0), lambda t: cr.log_softmax(t, axis=0)),
    (lambda t: t.logsumexp(axis=-1), lambda t: cr.logsumexp(t, axis=-1)),
    (lambda t: t.logsumexp(dim=1, keepdim=True), lambda t: cr.logsumexp(t, axis=1, keepdims=True)),
    (lambda t: t.norm(), cr.norm), (lambda t: t.norm(dim=1), lambda t: cr.norm(t, axis=1)),
    (lambda t: t.expand_dims(0), lambda t: cr.expand_dims(t, 0)),
    (lambda t: t.unsqueeze(1), lambda t: cr.expand_dims(t, 1)),
    (lambda t: t.broadcast_to((4, 2, 3)), lambda t: cr.broadcast_to(t, (4, 2, 3))),
    (lambda t: t.sum(dim=1), lambda t: cr.sum(t, axis=1)), (lambda t: t.mean(dim=0), lambda t: cr.mean(t, axis=0)),
    (lambda t: t.max(axis=1), lambda t: cr.max(t, axis=1)), (lambda t: t.prod(dim=1), lambda t: cr.prod(t, axis=1)),
    (lambda t: t.amax(dim=0), lambda t: cr.amax(t, axis=0)),
    (lambda t: t.maximum(t.T.sum(axis=1)[:1]), lambda t: cr.maximum(t, t.T.sum(axis=1)[:1])),
    (lambda t: t.remainder(0.75), lambda t: cr.remainder(t, 0.75)),
    (lambda t: t.fmod(0.75), lambda t: cr.fmod(t, 0.75)),
    (lambda t: t.arctan2(t + 1), lambda t: cr.arctan2(t, t + 1)),
    (lambda t: t.log1p(), cr.log1p), (lambda t: t.cosh(), cr.cosh), (lambda t: t.floor(), cr.floor),
    (lambda t: t.add(2.0), lambda t: cr.add(t, 2.0)), (lambda t: t.multiply(t), lambda t: cr.multiply(t, t)),
]


@pytest.mark.parametrize("k", range(len(METHODS)))
def test_a_pytorch_method_is_the_function(k):
    method, fn = METHODS[k]
    x = cr.tensor(_A, requires_grad=True)
    y = cr.tensor(_A, requires_grad=True)
    a, b = method(x), fn(y)
    np.testing.assert_allclose(a.data, b.data)
    u = np.linspace(-1.0, 1.0, b.size).reshape(b.shape)
    (a * u).sum().backward()
    (b * u).sum().backward()
    np.testing.assert_allclose(x.grad.data, y.grad.data)


def test_every_elementwise_function_is_a_method():
    # each public elementwise operation a PyTorch or NumPy user reaches as t.<name>() (NumPy-only spellings
    # without a method in either library are left out)
    skip = {"positive", "where", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
            "logical_and", "logical_or", "logical_xor", "logical_not", "invert", "bitwise_and", "bitwise_or",
            "bitwise_xor", "mod", "divmod", "rint", "cbrt", "power", "clip"}
    missing = [name for name in E.__all__ + RN.__all__ if name not in skip and not hasattr(cr.Tensor, name)]
    assert not missing


def test_dim_and_axis_together_are_refused():
    x = cr.tensor(_A)
    for call in (lambda: x.sum(axis=0, dim=1), lambda: x.softmax(0, dim=1), lambda: x.sum(keepdims=True, keepdim=True),
                 lambda: x.norm(None, 1, dim=1)):
        with pytest.raises(TypeError, match="PyTorch alias"):
            call()
