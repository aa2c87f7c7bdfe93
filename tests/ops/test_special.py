"""softmax and log_softmax: rules against NumPy and finite differences, and stability at ±1000 and -inf."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.backward import grad_of
from chainrule.ops.indexing import getitem
from chainrule.ops.special import log_softmax, softmax
from tests.ops.harness import check_case
from tests.ops.samples.special import CASES


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


# ---- stability: exact finite values, no floating-point warnings ---------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stable_at_plus_minus_1000(dtype):
    with np.errstate(all="raise"):
        x = cr.tensor(np.array([1000.0, -1000.0, 0.0], dtype), requires_grad=True)
        s = softmax(x)
        np.testing.assert_array_equal(s.data, [1.0, 0.0, 0.0])
        ls = log_softmax(x)
        np.testing.assert_array_equal(ls.data, np.array([0.0, -2000.0, -1000.0], dtype))
        assert s.dtype == dtype and ls.dtype == dtype
        (s * cr.tensor(np.array([1.0, 2.0, 3.0], dtype))).sum().backward()
        np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
        x.grad = None
        ls.backward(cr.tensor(np.array([1.0, 2.0, 3.0], dtype)))
        np.testing.assert_array_equal(x.grad.data, [1.0 - 6.0, 2.0, 3.0])


def test_rows_with_minus_infinity():
    with np.errstate(all="raise"):
        x = cr.tensor([[-np.inf, 0.0, 0.0], [1.0, -np.inf, 1.0]], requires_grad=True)
        s = softmax(x)
        np.testing.assert_array_equal(s.data, [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])
        ls = log_softmax(x)
        np.testing.assert_array_equal(ls.data, [[-np.inf, -np.log(2), -np.log(2)], [-np.log(2), -np.inf, -np.log(2)]])
        s.sum(axis=None).backward()
        np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))
        x.grad = None
        getitem(ls, ([0, 1], [1, 0])).sum().backward()  # finite: the -inf entries are never picked
        np.testing.assert_allclose(x.grad.data, [[0.0, 0.5, -0.5], [0.5, 0.0, -0.5]])


def test_forward_mode_is_warning_free_at_1000():
    from chainrule.core.forward import level, make_dual, tangent_of

    with np.errstate(all="raise"), level() as lv:
        x = make_dual(cr.tensor([1000.0, -1000.0]), cr.tensor([1.0, 5.0]), lv)
        np.testing.assert_array_equal(tangent_of(log_softmax(x), lv).data, [0.0, 4.0])
        np.testing.assert_array_equal(tangent_of(softmax(x), lv).data, [0.0, 0.0])


def test_second_order_known_value():
    # d²/dx² of log_softmax([x, 0])[0] = -σ(x)(1-σ(x)); at x = 0 that is -1/4
    x = cr.tensor([0.0, 0.0], requires_grad=True)
    (g,) = grad_of(getitem(log_softmax(x), 0), [x], create_graph=True)
    (h,) = grad_of(getitem(g, 0), [x])
    np.testing.assert_allclose(h.data, [-0.25, 0.25])


def test_integer_input_gives_float64():
    assert softmax(cr.tensor([1, 2, 3])).dtype == np.float64
    np.testing.assert_allclose(log_softmax(np.array([1, 1])), np.log([0.5, 0.5]))


def test_empty_and_single():
    assert softmax(cr.tensor(np.zeros((0, 3)))).shape == (0, 3)
    assert softmax(cr.tensor(3.0)).item() == 1.0
    assert log_softmax(cr.tensor(3.0)).item() == 0.0


def test_axis_errors():
    with pytest.raises(np.exceptions.AxisError, match="softmax: axis 2 is out of bounds .* dimension 2"):
        softmax(cr.tensor(np.zeros((2, 2))), axis=2)
    with pytest.raises(TypeError, match="log_softmax: axis must be an integer"):
        log_softmax(cr.tensor(np.zeros(2)), axis=0.5)
