"""Reduction rules against NumPy, finite differences, forward mode and second order, plus hand tests of conventions."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.backward import grad_of
from chainrule.core.forward import level, make_dual, tangent_of
from chainrule.ops import reduce as R
from tests.ops.harness import Case, check_case

rng = np.random.default_rng(1)
S0 = np.array(0.7)
V = rng.standard_normal(5)
M = rng.standard_normal((3, 4))
A3 = rng.standard_normal((2, 3, 4))
A4 = rng.standard_normal((2, 3, 2, 2))
B1 = rng.standard_normal((3, 1, 4))
B2 = rng.standard_normal((5, 4))
# tie-free inputs for max/min: distinct entries, far apart compared with the finite-difference step
D = rng.permutation(24).reshape(2, 3, 4) * 0.37 - 4.0
Z1 = np.array([1.5, 0.0, -2.0, 0.7])  # one zero
Z2 = np.array([[1.5, 0.0, -2.0], [0.0, 0.8, 0.0], [1.2, -0.5, 0.9]])  # rows with 1, 2 and 0 zeros
BIG = np.array([[1000.0, 1000.5, 999.0], [-1000.0, -999.5, -1001.0]])
NONDIFF = {"f32": False, "why": "integer or boolean result: no gradient, no float32 output"}


def C(name, fn, args, ref, label="", **kw):
    return Case(name=name, fn=fn, args=args, ref=ref, label=label, **kw)


def reduction_cases(name, fn, ref, data=(S0, V, M, A3)):
    """The standard axis/keepdims variants of one reduction."""
    s0, v, m, a3 = data
    return [
        C(name, lambda x: fn(x), (s0,), lambda x: ref(x), "0-d"),
        C(name, lambda x: fn(x), (v,), lambda x: ref(x), "vector"),
        C(name, lambda x: fn(x, axis=0), (m,), lambda x: ref(x, axis=0), "axis=0"),
        C(name, lambda x: fn(x, axis=-1), (m,), lambda x: ref(x, axis=-1), "axis=-1"),
        C(name, lambda x: fn(x, axis=(0, 2)), (a3,), lambda x: ref(x, axis=(0, 2)), "axis=(0,2)"),
        C(name, lambda x: fn(x, axis=(2, -3)), (a3,), lambda x: ref(x, axis=(2, 0)), "unsorted negative tuple"),
        C(name, lambda x: fn(x, axis=1, keepdims=True), (a3,), lambda x: ref(x, axis=1, keepdims=True), "keepdims"),
        C(name, lambda x: fn(x, keepdims=True), (m,), lambda x: ref(x, keepdims=True), "None, keepdims"),
        C(name, lambda x: fn(x, axis=()), (m,), lambda x: ref(x, axis=()), "axis=()"),
    ]


CASES = [
    *reduction_cases("sum", R.sum, np.sum),
    C("sum", lambda x, y: R.sum(x * y, axis=0), (B1, B2), lambda x, y: np.sum(x * y, axis=0), "broadcast pair"),
    C("sum", lambda x: x.sum(1), (M,), lambda x: x.sum(1), "method"),
    *reduction_cases("mean", R.mean, np.mean),
    C(
        "mean",
        lambda x: x.mean(axis=(1, 2), keepdims=True),
        (A3,),
        lambda x: x.mean(axis=(1, 2), keepdims=True),
        "method",
    ),
    *reduction_cases("prod", R.prod, np.prod),
    C("prod", lambda x: R.prod(x), (Z1,), np.prod, "one zero"),
    C("prod", lambda x: R.prod(x, axis=1), (Z2,), lambda x: np.prod(x, axis=1), "rows with 1, 2, 0 zeros"),
    C("prod", lambda x: R.prod(x, axis=0), (Z2,), lambda x: np.prod(x, axis=0), "columns with zeros"),
    C("prod", lambda x: R.prod(x), (Z2,), np.prod, "several zeros, all axes"),
    C("prod", lambda x: x.prod(axis=(0, 2)), (A4,), lambda x: x.prod(axis=(0, 2)), "method, inner axes"),
    C("prod", lambda x, y: R.prod(x * y, axis=-1), (B1, B2), lambda x, y: np.prod(x * y, axis=-1), "broadcast pair"),
    C(
        "_prod_others",
        lambda x: R.prod_others_p(x),
        (Z2,),
        lambda x: np.stack([np.prod(np.delete(x, i, axis=-1), axis=-1) for i in range(3)], axis=-1),
        "zeros",
    ),
    C(
        "_prod_others",
        lambda x: R.prod_others_p(x),
        (V,),
        lambda x: np.array([np.prod(np.delete(x, i)) for i in range(5)]),
        "vector",
    ),
    *reduction_cases("max", R.max, np.max, (S0, D[0, 0], D[0], D)),
    C("max", lambda x: x.max(axis=1), (D,), lambda x: x.max(axis=1), "method"),
    C("max", lambda x: R.amax(x, 0), (D[1],), lambda x: np.amax(x, 0), "amax"),
    *reduction_cases("min", R.min, np.min, (S0, D[0, 0], D[0], D)),
    C("min", lambda x: x.min(axis=-1, keepdims=True), (D,), lambda x: x.min(axis=-1, keepdims=True), "method"),
    C("min", lambda x: R.amin(x), (D[0],), np.amin, "amin"),
    C(
        "_reduce_tie_weights",
        lambda x: R.tie_weights_p(x, R.max(x, axis=1), axis=(1,), keepdims=False),
        (np.array([[1.0, 3.0, 2.0], [2.0, 0.0, 1.0]]),),
        lambda x: np.array([[0, 1, 0], [1, 0, 0]]),
        "one-hot",
        **NONDIFF,
    ),
    *reduction_cases("var", R.var, np.var),
    C("var", lambda x: R.var(x, axis=0, ddof=1), (M,), lambda x: np.var(x, axis=0, ddof=1), "ddof=1"),
    C(
        "var",
        lambda x: x.var(axis=(0, 2), ddof=2, keepdims=True),
        (A3,),
        lambda x: x.var(axis=(0, 2), ddof=2, keepdims=True),
        "method, ddof=2",
    ),
    *reduction_cases("std", R.std, np.std),
    C("std", lambda x: R.std(x, axis=1, ddof=1), (M,), lambda x: np.std(x, axis=1, ddof=1), "ddof=1"),
    C("std", lambda x: x.std(), (A3,), lambda x: x.std(), "method"),
    C("logsumexp", lambda x: R.logsumexp(x), (S0,), lambda x: x, "0-d"),
    C("logsumexp", lambda x: R.logsumexp(x), (M,), lambda x: np.log(np.exp(x).sum()), "all"),
    C("logsumexp", lambda x: R.logsumexp(x, axis=-1), (A3,), lambda x: np.log(np.exp(x).sum(-1)), "axis=-1"),
    C(
        "logsumexp",
        lambda x: R.logsumexp(x, axis=(0, 2), keepdims=True),
        (A3,),
        lambda x: np.log(np.exp(x).sum((0, 2), keepdims=True)),
        "tuple, keepdims",
    ),
    C(
        "logsumexp",
        lambda x: R.logsumexp(x, axis=1),
        (BIG,),
        lambda x: np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) + x.max(1),
        "±1000",
    ),
    C("cumsum", lambda x: R.cumsum(x), (S0,), np.cumsum, "0-d"),
    C("cumsum", lambda x: R.cumsum(x), (M,), np.cumsum, "None flattens"),
    C("cumsum", lambda x: R.cumsum(x, axis=0), (M,), lambda x: np.cumsum(x, axis=0), "axis=0"),
    C("cumsum", lambda x: x.cumsum(-1), (A3,), lambda x: x.cumsum(-1), "method, axis=-1"),
    C("argmax", lambda x: R.argmax(x), (D,), np.argmax, "flat", **NONDIFF),
    C(
        "argmax",
        lambda x: x.argmax(axis=-1, keepdims=True),
        (D,),
        lambda x: x.argmax(-1, keepdims=True),
        "axis",
        **NONDIFF,
    ),
    C("argmin", lambda x: R.argmin(x, axis=0), (D,), lambda x: np.argmin(x, axis=0), "axis=0", **NONDIFF),
    # (boolean results times 1.0, so that the harness can difference them)
    C("any", lambda x: R.any(x > 0.5, axis=1) * 1.0, (M,), lambda x: np.any(x > 0.5, axis=1), **NONDIFF),
    C("all", lambda x: (x > -3.0).all(axis=(0, 1)) * 1.0, (A3,), lambda x: np.all(x > -3.0, axis=(0, 1)), **NONDIFF),
    C(
        "count_nonzero",
        lambda x: R.count_nonzero(x, axis=0, keepdims=True),
        (Z2,),
        lambda x: np.count_nonzero(x, axis=0, keepdims=True),
        **NONDIFF,
    ),
]


W = M > 0  # a where= mask with some entries out in every column
WR = np.array([[True], [False], [True]])  # one that broadcasts along rows
CASES += [
    # NumPy's positional order: axis, dtype, out, (ddof,) keepdims
    C("sum", lambda x: R.sum(x, 0, None, None, True), (M,), lambda x: np.sum(x, 0, None, None, True), "positional"),
    C("sum", lambda x: R.sum(x, 1, x.dtype), (M,), lambda x: np.sum(x, 1), "positional dtype"),
    C("mean", lambda x: x.mean(0, x.dtype, None, True), (M,), lambda x: x.mean(0, None, None, True),
      "method positional"),
    C("var", lambda x: R.var(x, 0, None, None, 1, True), (M,), lambda x: np.var(x, 0, None, None, 1, True),
      "positional ddof, keepdims"),
    C("std", lambda x: x.std(1, None, None, 1), (M,), lambda x: x.std(1, None, None, 1), "method positional ddof"),
    C("var", lambda x: R.var(x, axis=1, correction=1), (M,), lambda x: np.var(x, axis=1, ddof=1), "correction"),
    C("max", lambda x: R.max(x, 0, None, True), (D[0],), lambda x: np.max(x, 0, None, True), "positional keepdims"),
    C("prod", lambda x: R.prod(x, 1, None, None, True), (M,), lambda x: np.prod(x, 1, None, None, True),
      "positional keepdims"),
    C("cumsum", lambda x: R.cumsum(x, 0, x.dtype), (M,), lambda x: np.cumsum(x, 0), "positional dtype"),
    # where= and initial=
    C("sum", lambda x: R.sum(x, axis=0, where=W), (M,), lambda x: np.sum(x, axis=0, where=W), "where"),
    C("sum", lambda x: R.sum(x, axis=1, where=WR, initial=2.0), (M,),
      lambda x: np.sum(x, axis=1, where=WR, initial=2.0), "where broadcast, initial"),
    C("sum", lambda x: R.sum(x, initial=1.5), (S0,), lambda x: np.sum(x, initial=1.5), "0-d initial"),
    C("sum", lambda x: R.mean(x, axis=1, where=W | WR), (M,), lambda x: np.mean(x, axis=1, where=W | WR), "mean where"),
    C("sum", lambda x: R.var(x, axis=1, where=W | WR), (M,), lambda x: np.var(x, axis=1, where=W | WR), "var where"),
    C("sum", lambda x: R.std(x, axis=0, ddof=1, where=WR | ~WR), (M,), lambda x: np.std(x, axis=0, ddof=1),
      "std where"),
    C("prod", lambda x: R.prod(x, axis=0, where=W, initial=2.0), (M,),
      lambda x: np.prod(x, axis=0, where=W, initial=2.0), "where, initial"),
    C("max", lambda x: R.max(x, axis=1, initial=-0.5), (D[0] * 0.1,), lambda x: np.max(x, axis=1, initial=-0.5),
      "initial"),
    C("max", lambda x: R.max(x, axis=0, where=D[0] > -2, initial=-5.0), (D[0],),
      lambda x: np.max(x, axis=0, where=D[0] > -2, initial=-5.0), "where, initial"),
    C("min", lambda x: R.min(x, axis=1, initial=0.0, keepdims=True), (D[0],),
      lambda x: np.min(x, axis=1, initial=0.0, keepdims=True), "initial, keepdims"),
    # NumPy's legacy rule: on a 0-d array a ufunc reduction takes axis 0 or -1
    C("sum", lambda x: R.sum(x, axis=0), (S0,), lambda x: np.sum(x, axis=0), "0-d, axis=0"),
    C("prod", lambda x: R.prod(x, axis=-1), (S0,), lambda x: np.prod(x, axis=-1), "0-d, axis=-1"),
    C("max", lambda x: R.max(x, axis=0, keepdims=True), (S0,), lambda x: np.max(x, axis=0, keepdims=True),
      "0-d, axis=0"),
    C("min", lambda x: x.min(-1), (S0,), lambda x: x.min(-1), "0-d method, axis=-1"),
    C("cumsum", lambda x: R.cumsum(x, axis=0), (S0,), lambda x: np.cumsum(x, axis=0), "0-d, axis=0"),
    # max / min ties of two: central differences agree with the even split at a tie of two
    C("max", lambda x: R.max(x, axis=1), (np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 2.0]]),),
      lambda x: np.max(x, axis=1), "ties of two", order2=False,
      why="the tie weights jump across a tie: the second derivative (0) has no finite-difference check"),
    C("min", lambda x: R.min(x), (np.array([0.5, -1.0, -1.0]),), np.min, "tie of two", order2=False,
      why="the tie weights jump across a tie"),
]


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
    assert np.array_equal(grad(R.std, [2.0, 2.0, 2.0]), [0, 0, 0])
    g = grad(lambda x: R.std(x, axis=1).sum(), [[1.0, 1.0], [0.0, 2.0]])
    assert np.allclose(g, [[0, 0], [-0.5, 0.5]])
    assert np.isfinite(grad(lambda x: R.std(x, ddof=1), np.zeros(4))).all()


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
    for out in (R.argmax(x), R.argmin(x, axis=1), R.any(x), R.all(x, axis=0), R.count_nonzero(x)):
        assert not out.requires_grad
    assert R.argmax(x).item() == 1 and R.count_nonzero(x).item() == 4


# ---- axis normalisation and errors ---------------------------------------------------
def test_axis_forms_agree():
    x = cr.tensor(A3)
    for axis in (1, -2, (1,), [-2], np.int64(1)):
        assert np.allclose(R.sum(x, axis=axis).data, A3.sum(1))
    assert np.allclose(R.mean(x, axis=(-1, 0)).data, A3.mean((0, 2)))


@pytest.mark.parametrize("fn", [R.sum, R.mean, R.prod, R.max, R.min, R.var, R.std, R.logsumexp, R.any, R.all])
def test_axis_out_of_range_names_op_axis_and_shape(fn):
    with pytest.raises(np.exceptions.AxisError, match=rf"{fn.__name__}: axis 3 .*\(2, 3\)"):
        fn(cr.ones((2, 3)), axis=3)
    with pytest.raises(ValueError, match=rf"{fn.__name__}: repeated axis"):
        fn(cr.ones((2, 3)), axis=(0, -2))


def test_other_axis_errors():
    with pytest.raises(np.exceptions.AxisError, match=r"argmax: axis -3 .*\(2, 3\)"):
        R.argmax(cr.ones((2, 3)), axis=-3)
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


@pytest.mark.parametrize("fn", [R.sum, R.mean, R.prod, R.max, R.min, R.var, R.std, R.logsumexp, R.cumsum])
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
    for f in (R.sum, R.mean, R.prod, R.var, R.std, R.cumsum):
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
        R.var(cr.tensor(M), ddof=1, correction=1)
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
