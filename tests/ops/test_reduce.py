"""Reduction rules against NumPy, finite differences, forward mode and second order, plus hand tests of conventions."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.backward import grad_of
from chainrule.core.forward import level, make_dual, tangent_of
from chainrule.ops import reduce as R
from chainrule.ops import reduce_discrete as RD
from chainrule.ops import statistics as ST
from tests.ops.harness import check_case
from tests.ops.samples.reduce import CASES, A3, M, W


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


def grad(f, x):
    x = cr.tensor(x, requires_grad=True)
    f(x).backward()
    return x.grad.data


# ---- conventions -------------------------------------------------------------------
def test_max_min_ties_split_evenly():
    assert np.allclose(grad(R.max, [1.0, 3.0, 3.0]), [0, 0.5, 0.5])
    assert np.allclose(grad(R.min, [2.0, 2.0, 2.0]), [1 / 3] * 3)
    g = grad(lambda x: (R.max(x, axis=1) * cr.tensor([1.0, 10.0])).sum(), [[4.0, 1.0, 4.0], [0.0, 7.0, 7.0]])
    assert np.allclose(g, [[0.5, 0, 0.5], [0, 5, 5]])
    g = grad(lambda x: R.max(x, axis=0, keepdims=True).sum(), [[1.0, 2.0], [1.0, 0.0]])
    assert np.allclose(g, [[0.5, 1], [0.5, 0]])
    # forward mode sees the same split: the tangent is the mean of the tied entries' tangents
    with level() as lv:
        x = make_dual(cr.tensor([3.0, 3.0, 1.0]), cr.tensor([1.0, 2.0, 5.0]), lv)
        assert np.isclose(tangent_of(R.max(x), lv).item(), 1.5)


def test_prod_gradient_with_zeros():
    assert np.allclose(grad(R.prod, [2.0, 0.0, 3.0]), [0, 6, 0])
    assert np.allclose(grad(R.prod, [2.0, 0.0, 0.0]), [0, 0, 0])
    x = [[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]]
    assert np.allclose(grad(lambda x: R.prod(x, axis=1).sum(), x), [[0, 6, 0], [0, 0, 0], [6, 3, 2]])
    # second order at a zero: d²/dx0 dx1 of x0 x1 x2 is x2
    x = cr.tensor([0.0, 0.0, 5.0], requires_grad=True)
    (g,) = grad_of(R.prod(x), [x], create_graph=True)
    h = [grad_of(R.sum(g * cr.tensor(e)), [x], retain_graph=True)[0].data for e in np.eye(3)]
    assert np.allclose(h, [[0, 5, 0], [5, 0, 0], [0, 0, 0]])


def test_std_at_a_constant_input_has_gradient_zero():
    assert np.array_equal(grad(ST.std, [2.0, 2.0, 2.0]), [0, 0, 0])
    g = grad(lambda x: ST.std(x, axis=1).sum(), [[1.0, 1.0], [0.0, 2.0]])
    assert np.allclose(g, [[0, 0], [-0.5, 0.5]])
    assert np.isfinite(grad(lambda x: ST.std(x, ddof=1), np.zeros(4))).all()


def test_logsumexp_is_stable_and_handles_minus_inf():
    x = np.array([1000.0, 1000.0, -1000.0])
    assert np.isclose(R.logsumexp(x).item(), 1000 + np.log(2))
    assert np.allclose(grad(R.logsumexp, x), [0.5, 0.5, 0])
    x = np.array([[0.0, -np.inf, 0.0], [-np.inf, -np.inf, -np.inf]])
    out = R.logsumexp(x, axis=1)
    assert np.isclose(out.data[0], np.log(2)) and out.data[1] == -np.inf
    assert np.allclose(grad(lambda x: R.logsumexp(x), x[0]), [0.5, 0, 0.5])
    assert R.logsumexp(np.array([1.0, np.inf])).item() == np.inf


def test_cumsum_gradient_is_a_reversed_cumsum():
    assert np.allclose(grad(lambda x: (R.cumsum(x) * cr.tensor([1.0, 2.0, 3.0])).sum(), [5.0, 6.0, 7.0]), [6, 5, 3])
    assert np.allclose(grad(lambda x: R.cumsum(x).sum(), np.ones((2, 2))), [[4, 3], [2, 1]])


def test_nondifferentiable_reductions_leave_the_graph():
    x = cr.tensor([[1.0, 5.0], [4.0, 2.0]], requires_grad=True)
    for out in (RD.argmax(x), RD.argmin(x, axis=1), RD.any(x), RD.all(x, axis=0), RD.count_nonzero(x)):
        assert not out.requires_grad
    assert RD.argmax(x).item() == 1 and RD.count_nonzero(x).item() == 4


# ---- axis normalisation and errors ---------------------------------------------------
def test_axis_forms_agree():
    x = cr.tensor(A3)
    for axis in (1, -2, (1,), [-2], np.int64(1)):
        assert np.allclose(R.sum(x, axis=axis).data, A3.sum(1))
    assert np.allclose(R.mean(x, axis=(-1, 0)).data, A3.mean((0, 2)))


@pytest.mark.parametrize("fn", [R.sum, R.mean, R.prod, R.max, R.min, ST.var, ST.std, R.logsumexp, RD.any, RD.all])
def test_axis_out_of_range_names_op_axis_and_shape(fn):
    with pytest.raises(np.exceptions.AxisError, match=rf"{fn.__name__}: axis 3 .*\(2, 3\)"):
        fn(cr.ones((2, 3)), axis=3)
    with pytest.raises(ValueError, match=rf"{fn.__name__}: repeated axis"):
        fn(cr.ones((2, 3)), axis=(0, -2))


def test_other_axis_errors():
    with pytest.raises(np.exceptions.AxisError, match=r"argmax: axis -3 .*\(2, 3\)"):
        RD.argmax(cr.ones((2, 3)), axis=-3)
    with pytest.raises(np.exceptions.AxisError, match=r"cumsum: axis 2"):
        R.cumsum(cr.ones((2, 3)), axis=2)
    with pytest.raises(np.exceptions.AxisError, match="sum: axis 1"):
        R.sum(cr.tensor(1.0), axis=1)
    with pytest.raises(np.exceptions.AxisError, match="sum: axis 0"):
        R.sum(cr.tensor(1.0), axis=(0,))  # NumPy's legacy rule covers an integer axis only
    with pytest.raises(np.exceptions.AxisError, match="mean: axis 0"):
        R.mean(cr.tensor(1.0), axis=0)  # mean, var and std refuse it, as NumPy's do
    with pytest.raises(TypeError, match="sum: axis must be an integer"):
        R.sum(cr.ones(3), axis=1.0)
    with pytest.raises(TypeError, match=r"mean\(\.\.\., out=\.\.\.\)"):
        R.mean(cr.ones(3), out=np.zeros(()))


def test_numpy_keywords_and_dispatch():
    x = cr.tensor(M, requires_grad=True)
    assert np.allclose(x.sum(axis=0, out=None).data, M.sum(0))
    y = R.sum(cr.tensor([1, 2, 3]), dtype=np.float32)
    assert y.dtype == np.float32 and y.item() == 6
    assert np.allclose(np.var(x, axis=1, ddof=1).data, np.var(M, axis=1, ddof=1))
    assert np.allclose(np.max(x, axis=0).data, M.max(0))
    assert np.allclose(np.add.reduce(x, axis=1).data, M.sum(1))


@pytest.mark.parametrize("fn", [R.sum, R.mean, R.prod, R.max, R.min, ST.var, ST.std, R.logsumexp, R.cumsum])
def test_float32_is_preserved(fn):
    x = cr.tensor(M.astype(np.float32), requires_grad=True)
    out = fn(x, axis=1)
    assert out.dtype == np.float32
    (out * out).sum().backward()
    assert x.grad.dtype == np.float32


def test_int_inputs_follow_numpy():
    x = cr.tensor([[1, 2], [3, 4]])
    assert R.sum(x).dtype == np.sum(x.data).dtype
    assert R.mean(x, axis=0).dtype == np.float64
    assert R.max(x).item() == 4


# ---- NumPy's signatures: positional order, dtype, out, where, initial ------------------------
def _same(got, want):
    assert isinstance(got, cr.Tensor)
    assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype, (got, want)
    np.testing.assert_allclose(got.data, want)


T = cr.tensor(M, requires_grad=True)
POSITIONAL = [
    (lambda m: np.sum(m, 0, np.float32), "np.sum(t, 0, float32)"),
    (lambda m: np.sum(m, 1, float), "np.sum(t, 1, float)"),
    (lambda m: m.mean(0, float), "t.mean(0, float)"),
    (lambda m: np.mean(m, 0, np.float32), "np.mean(t, 0, float32)"),
    (lambda m: np.var(m, 0, None, None, 1), "np.var ddof positional"),
    (lambda m: np.var(m, 0, np.float64), "np.var(t, 0, float64)"),
    (lambda m: np.std(m, 1, None, None, 1, True), "np.std ddof, keepdims positional"),
    (lambda m: np.max(m, 0, None, True), "np.max keepdims positional"),
    (lambda m: np.min(m, 1, None, True), "np.min keepdims positional"),
    (lambda m: np.prod(m, 1, None, None, True), "np.prod keepdims positional"),
    (lambda m: np.cumsum(m, 0, float), "np.cumsum(t, 0, float)"),
    (lambda m: np.cumsum(m, 1, np.float32), "np.cumsum(t, 1, float32)"),
    (lambda m: m.sum(axis=0, dtype=np.float32), "t.sum(dtype=float32)"),
    (lambda m: m.var(1, None, None, 1), "t.var ddof positional"),
    (lambda m: np.sum(m, where=m > 0), "np.sum where"),
    (lambda m: np.sum(m, axis=0, initial=1.0), "np.sum initial"),
    (lambda m: np.max(m, axis=1, where=m > 0, initial=-1.0), "np.max where initial"),
    (lambda m: np.amax(m, 1, None, False, 0.0), "np.amax initial positional"),
    (lambda m: np.mean(m, axis=1, where=m > -1), "np.mean where"),
    (lambda m: np.var(m, axis=0, where=m > -1, ddof=1), "np.var where ddof"),
    (lambda m: np.add.reduce(m, 1, None, None, True), "np.add.reduce positional"),
    (lambda m: np.add.reduce(m, axis=0, dtype=np.float32, initial=2.0), "np.add.reduce dtype initial"),
    (lambda m: np.maximum.reduce(m, axis=0, initial=0.0, where=m < 1), "np.maximum.reduce initial where"),
    (lambda m: np.multiply.reduce(m, axis=1, keepdims=True), "np.multiply.reduce keepdims"),
    (lambda m: np.add.accumulate(m, 1, np.float32), "np.add.accumulate dtype"),
    (lambda m: np.argmax(m, 0, None, keepdims=True), "np.argmax keepdims"),
    (lambda m: np.any(m > 0, 0, None, True), "np.any keepdims positional"),
    (lambda m: np.all(m > -3, axis=1, where=m > 0), "np.all where"),
    (lambda m: np.count_nonzero(m > 0, axis=1, keepdims=True), "np.count_nonzero keepdims"),
]


@pytest.mark.parametrize("call, label", POSITIONAL, ids=[p[1] for p in POSITIONAL])
def test_numpy_signatures_are_followed(call, label):
    _same(call(T), call(M))


@pytest.mark.parametrize("f", [np.sum, np.prod, np.max, np.min, np.argmax, np.any, np.count_nonzero])
@pytest.mark.parametrize("axis", [0, -1])
def test_zero_d_with_axis_0_or_minus_1_follows_numpy(f, axis):
    _same(f(cr.tensor(0.7), axis=axis), f(np.array(0.7), axis=axis))


def test_dtype_casts_and_stays_differentiable_for_floats():
    x = cr.tensor(M, requires_grad=True)
    y = np.sum(x, 0, np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float64 and np.array_equal(x.grad.data, np.ones_like(M))
    for f in (R.sum, R.mean, R.prod, ST.var, ST.std, R.cumsum):
        assert f(x, dtype=np.float32).requires_grad
    assert not R.sum(x, dtype=np.int64).requires_grad


@pytest.mark.parametrize("call", [
    lambda x: R.sum(x, out=np.zeros(())),
    lambda x: R.prod(x, 0, None, np.zeros(4)),
    lambda x: np.max(x, out=np.zeros(())),
    lambda x: np.var(x, out=np.zeros(())),
    lambda x: np.cumsum(x, out=np.zeros(12)),
    lambda x: np.argmax(x, out=np.zeros((), int)),
    lambda x: np.add.reduce(x, out=np.zeros(4)), lambda x: x.mean(out=np.zeros(())),
])
def test_out_raises_a_clear_type_error(call):
    with pytest.raises(TypeError, match="out="):
        call(cr.tensor(M))


def test_where_without_initial_and_other_refusals():
    with pytest.raises(ValueError, match="max: .*'initial'"):
        R.max(cr.tensor(M), where=M > 0)
    with pytest.raises(TypeError, match="mean="):
        np.var(cr.tensor(M), mean=np.zeros((1, 4)))
    with pytest.raises(ValueError, match="ddof and correction"):
        ST.var(cr.tensor(M), ddof=1, correction=1)
    with pytest.raises(TypeError, match="data type"):
        cr.tensor(M).var(0, 1)  # as ndarray.var(0, 1): the second positional argument is the dtype
    with pytest.raises(ValueError, match="where="):
        R.sum(cr.tensor(M), where=np.ones(3, bool))


def test_where_gradient_is_zero_off_the_mask():
    x = cr.tensor(M, requires_grad=True)
    R.sum(x, where=W).backward()
    np.testing.assert_array_equal(x.grad.data, W * 1.0)
    x.grad = None
    R.max(x, axis=0, where=W, initial=-10.0).sum().backward()
    assert not np.any(x.grad.data[~W])
    x.grad = None
    R.max(x, axis=0, where=np.zeros_like(W), initial=-10.0).sum().backward()  # every slice empty: initial
    np.testing.assert_array_equal(x.grad.data, np.zeros_like(M))
