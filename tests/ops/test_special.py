"""softmax and log_softmax: rules against NumPy and finite differences, and stability at ±1000 and -inf."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.backward import grad_of
from chainrule.ops.indexing import getitem
from chainrule.ops.special import log_softmax, softmax
from tests.ops.harness import Case, check_case

rng = np.random.default_rng(1)


def np_log_softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    z = x - m
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def np_softmax(x, axis=-1):
    return np.exp(np_log_softmax(x, axis))


BIG = np.array([[1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -999.5]])
SAMPLES = [
    (rng.standard_normal(5), {}, "vector"),
    (rng.standard_normal((3, 4)), {}, "rows"),
    (rng.standard_normal((3, 4)), {"axis": 0}, "axis 0"),
    (rng.standard_normal((3, 4)), {"axis": -2}, "axis -2"),
    (rng.standard_normal((3, 4)), {"axis": None}, "axis None"),
    (rng.standard_normal((2, 3, 4)), {"axis": (0, 2)}, "axis tuple"),
    (rng.standard_normal((2, 3, 4)), {"axis": 1}, "3-D middle axis"),
    (np.array(0.7), {}, "0-d"),
    (rng.standard_normal((4, 1)), {}, "one class"),
    (BIG, {}, "±1000"),
    (np.array([2.0, 2.0, 2.0, -1.0]), {}, "ties"),
]

CASES = []
for x, kw, label in SAMPLES:
    CASES.append(Case("softmax", lambda x, kw=kw: softmax(x, **kw), (x,), lambda x, kw=kw: np_softmax(x, **kw), label))
    CASES.append(Case("log_softmax", lambda x, kw=kw: log_softmax(x, **kw), (x,),
                      lambda x, kw=kw: np_log_softmax(x, **kw), label))
# composed as in a classifier: gradient of the picked log-probabilities, to second order
CASES.append(Case("log_softmax", lambda x: log_softmax(x * x, axis=1) * x, (rng.standard_normal((2, 3)),),
                  lambda x: np_log_softmax(x * x, axis=1) * x, "composed"))
CASES.append(Case("softmax", lambda x: softmax(x, axis=0) * softmax(x, axis=1), (rng.standard_normal((3, 3)),),
                  lambda x: np_softmax(x, axis=0) * np_softmax(x, axis=1), "two axes"))


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
