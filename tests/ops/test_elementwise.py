"""Sample table for the elementwise family and the engine's own primitives (sum_to, broadcast_to, astype)."""

import math

import numpy as np
import pytest

import chainrule as cr

from tests.ops.harness import check_case
from tests.ops.samples.elementwise import CASES


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


def test_kink_conventions():
    x = cr.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    (cr.relu(x).sum() + cr.abs(x).sum()).backward()
    # NOTE: relu'(0) = 0 and abs'(0) = 0 (documented choices)
    np.testing.assert_array_equal(x.grad.data, [0.0 - 1.0, 0.0, 2.0])


def test_maximum_minimum_ties_split_evenly():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = cr.tensor([1.0, 5.0, 3.0], requires_grad=True)
    (cr.maximum(x, y).sum() + cr.minimum(x, y).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])  # ½+½ at each tie, 0+1 elsewhere
    np.testing.assert_array_equal(y.grad.data, [1.0, 1.0, 1.0])
    x.grad = None
    cr.maximum(x, 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 1.0])


def test_stable_at_plus_minus_1000():
    x = cr.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is exact enough
        s = cr.sigmoid(x)
        l = cr.logaddexp(x, 0.0)
        (s.sum() + l.sum()).backward()
    assert np.all(np.isfinite(s.data)) and np.all(np.isfinite(x.grad.data))
    assert s.data[0] == 0.0 and s.data[-1] == 1.0 and l.data[-1] == 1000.0


def test_log1p_expm1_keep_precision():
    x = cr.tensor(1e-12, requires_grad=True)
    assert cr.log1p(x).item() == pytest.approx(1e-12, rel=1e-12)
    assert cr.expm1(x).item() == pytest.approx(1e-12, rel=1e-12)


def test_power_exponent_gradient_at_zero_base():
    x = cr.tensor([0.0, 2.0], requires_grad=True)
    y = cr.tensor([2.0, 3.0], requires_grad=True)
    (x**y).sum().backward()
    np.testing.assert_allclose(y.grad.data, [0.0, 8 * math.log(2)])  # NOTE: 0 at x = 0
    np.testing.assert_allclose(x.grad.data, [0.0, 12.0])


def test_comparisons_are_boolean_without_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for c in (x > 1, x >= 1, x < 1, x <= 1, x == 1, x != 1):
        assert c.dtype == np.bool_ and not c.requires_grad
    assert cr.sign(x).requires_grad  # piecewise constant: on the graph with derivative 0 (test_silent_gradients.py)


def test_shape_mismatch_names_operation_and_shapes():
    with pytest.raises(ValueError, match=r"add.*\(3,\).*\(4,\)"):
        cr.tensor(np.ones(3)) + cr.tensor(np.ones(4))


# ---- the power rule at 0, to every order ------------------------------------------------
def test_power_with_exponent_zero_at_zero():
    x = cr.tensor([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])  # PyTorch: [0, 0]
    _, t = cr.jvp(lambda a: a**0, (0.0,), (1.0,))
    assert t == 0.0
    z = cr.tensor([0.0, 0.0], requires_grad=True)
    (z ** cr.tensor([0.0, 1.0])).sum().backward()  # an exponent array holding 0
    np.testing.assert_array_equal(z.grad.data, [0.0, 1.0])


def test_third_derivative_of_square_at_zero():
    d3 = cr.grad(cr.grad(cr.grad(lambda a: a**2)))
    assert d3(0.0) == 0.0 and d3(1.5) == 0.0
    assert cr.grad(cr.grad(lambda a: a**2))(0.0) == 2.0
    d3 = cr.grad(cr.grad(cr.grad(lambda a: a**3)))
    assert d3(0.0) == 6.0
    d2 = cr.grad(cr.grad(lambda a: a ** np.float64(2.0)))  # a NumPy scalar exponent takes the masked path
    assert d2(0.0) == 2.0
    assert cr.grad(cr.grad(cr.grad(lambda a: a ** np.float64(2.0))))(0.0) == 0.0


# ---- ties and kinks: second order and forward mode ----------------------------------------
@pytest.mark.parametrize("op", [cr.maximum, cr.minimum])
def test_ties_split_evenly_in_forward_mode_and_second_order_is_zero(op):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([1.0, 2.0], requires_grad=True)
    _, t = cr.jvp(lambda a, b: op(a, b), (x.data, y.data), (np.array([1.0, 0.0]), np.array([3.0, 2.0])))
    np.testing.assert_array_equal(t, [2.0, 1.0])  # ½ ẋ + ½ ẏ
    (gx,) = cr.autograd.grad(op(x, y).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(gx.data, [0.5, 0.5])
    h = cr.autograd.grad(gx.sum(), [x, y], allow_unused=True)
    assert all(g is None or not np.any(g.data) for g in h)


def test_kinks_second_order_and_forward_mode():
    _, t = cr.jvp(lambda a: cr.relu(a) + cr.abs(a), (np.zeros(2),), (np.ones(2),))
    np.testing.assert_array_equal(t, [0.0, 0.0])
    h = cr.hessian(lambda a: (cr.relu(a) + cr.abs(a)).sum())(np.array([0.0, 1.0]))
    np.testing.assert_array_equal(h, np.zeros((2, 2)))


# ---- casts: to integer or bool leave the graph, between floats stay on it -----------------
def test_cast_to_integer_or_bool_leaves_the_graph():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    for dt in (np.int64, np.int32, np.uint8, bool, "int16"):
        y = x.astype(dt)
        assert not y.requires_grad and y.dtype == np.dtype(dt)
        assert not np.astype(x, dt).requires_grad and not cr.astype(x, dt).requires_grad
    with pytest.raises(RuntimeError):
        (x.astype(np.int64) * 1.0).sum().backward()
    _, t = cr.jvp(lambda a: a.astype(np.int64) * 1.0, (np.array([1.5]),), (np.array([1.0]),))
    np.testing.assert_array_equal(t, [0.0])
    # NumPy's dtype= on a reduction is the same cast
    assert not cr.sum(x, dtype=np.int64).requires_grad and cr.sum(x, dtype=np.int64).item() == 3


def test_cast_between_floats_differentiates():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    y = x.astype(np.float32)
    assert y.requires_grad and y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.data, [3.0, 5.0])
    _, t = cr.jvp(lambda a: a.astype(np.float32), (np.array([1.0]),), (np.array([2.0]),))
    assert t.dtype == np.float32 and t[0] == 2.0


# ---- clip: NumPy's arguments, differentiable bounds --------------------------------------
def test_clip_bounds_get_gradients():
    x = cr.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    lo = cr.tensor(0.0, requires_grad=True)
    hi = cr.tensor([1.0, 1.0, 1.5], requires_grad=True)
    cr.clip(x, lo, hi).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])
    assert lo.grad.item() == 1.0  # PyTorch: 1
    np.testing.assert_array_equal(hi.grad.data, [0.0, 0.0, 1.0])
    # lo > hi: the result is hi (NumPy), and hi gets the gradient
    x.grad = lo.grad = hi.grad = None
    cr.clip(x, cr.tensor(3.0), hi).sum().backward()
    np.testing.assert_array_equal(hi.grad.data, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])


def test_clip_records_through_numpy_with_a_tensor_bound():
    t = cr.tensor(1.0, requires_grad=True)
    y = np.clip(np.array([0.0, 2.0, 9.0]), t, 5)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y.sum().backward()
    assert t.grad.item() == 1.0


def test_clip_follows_numpy_arguments():
    x = cr.tensor([-2.0, 0.5, 3.0])
    a = x.data
    for got, want in [
        (cr.clip(x, 0.0, 1.0), np.clip(a, 0.0, 1.0)),
        (cr.clip(x, min=0.0, max=1.0), np.clip(a, min=0.0, max=1.0)),
        (np.clip(x, min=0.0), np.clip(a, min=0.0)),
        (cr.clip(x, a_min=None, a_max=1.0), np.clip(a, a_min=None, a_max=1.0)),
        (x.clip(min=0.0, max=1.0), a.clip(min=0.0, max=1.0)),
        (x.clip(0.0), a.clip(0.0)),
        (x.clip(max=1.0), a.clip(max=1.0)),
        (cr.clip(x), np.clip(a)),
        (cr.clip(x, None, None), np.clip(a, None, None)),
    ]:
        np.testing.assert_array_equal(got.data, want)
    with pytest.raises(TypeError, match="a_max"):
        cr.clip(x, 0.0)
    with pytest.raises(ValueError, match="min"):
        cr.clip(x, 0.0, 1.0, min=0.5)
    with pytest.raises(TypeError, match="out="):
        cr.clip(x, 0.0, 1.0, out=np.empty(3))


def test_numpy_errors_with_extra_constructor_arguments_keep_the_message():
    with pytest.raises(TypeError, match=r"multiply: .*loop.*\(input shapes: \(1,\), str\)"):
        cr.tensor([1.0]) * "a"
    with pytest.raises(TypeError, match="add"):
        cr.tensor([1.0]) + np.array(["x"])
    from chainrule.ops.shape import squeeze_p

    with pytest.raises(np.exceptions.AxisError, match=r"squeeze: .*\(input shapes: \(2, 1\)\)"):
        squeeze_p(cr.ones((2, 1)), axis=(3,))  # AxisError keeps its type
