"""Sample table for the elementwise family and the engine's own primitives (sum_to, broadcast_to, astype)."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.shapes import astype, broadcast_to, sum_to
from chainrule.ops import elementwise as E

from .harness import Case, check_case

rng = np.random.default_rng(0)


def r(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, shape)


UNARY = [  # name, NumPy reference, input sampler
    ("negative", np.negative, r),
    ("positive", np.positive, r),
    ("exp", np.exp, r),
    ("expm1", np.expm1, r),
    ("exp2", np.exp2, r),
    ("log", np.log, pos),
    ("log1p", np.log1p, pos),
    ("log2", np.log2, pos),
    ("log10", np.log10, pos),
    ("sqrt", np.sqrt, pos),
    ("cbrt", np.cbrt, pos),
    ("square", np.square, r),
    ("reciprocal", np.reciprocal, pos),
    ("sin", np.sin, r),
    ("cos", np.cos, r),
    ("tan", np.tan, lambda *s: rng.uniform(-1.2, 1.2, s)),
    ("arcsin", np.arcsin, lambda *s: rng.uniform(-0.9, 0.9, s)),
    ("arccos", np.arccos, lambda *s: rng.uniform(-0.9, 0.9, s)),
    ("arctan", np.arctan, r),
    ("sinh", np.sinh, r),
    ("cosh", np.cosh, r),
    ("tanh", np.tanh, r),
    ("arcsinh", np.arcsinh, r),
    ("arccosh", np.arccosh, lambda *s: rng.uniform(1.2, 3.0, s)),
    ("arctanh", np.arctanh, lambda *s: rng.uniform(-0.9, 0.9, s)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), r),
    ("relu", lambda x: np.maximum(x, 0), lambda *s: np.sign(r(*s)) * rng.uniform(0.1, 2, s)),
    ("abs", np.abs, lambda *s: np.sign(r(*s)) * rng.uniform(0.1, 2, s)),
]

BINARY = [
    ("add", np.add, r, r),
    ("subtract", np.subtract, r, r),
    ("multiply", np.multiply, r, r),
    ("divide", np.divide, r, pos),
    ("power", np.power, pos, r),
    ("arctan2", np.arctan2, r, pos),
    ("hypot", np.hypot, pos, pos),
    ("logaddexp", np.logaddexp, r, r),
    ("maximum", np.maximum, r, r),
    ("minimum", np.minimum, r, r),
]

CASES = []
for name, ref, draw in UNARY:
    prim = getattr(E, name)
    CASES.append(Case(name, prim, (draw(),), ref, label="0d"))
    CASES.append(Case(name, prim, (draw(2, 3),), ref))
for name, ref, da, db in BINARY:
    prim = getattr(E, name)
    CASES.append(Case(name, prim, (da(), db()), ref, label="0d,0d"))
    CASES.append(Case(name, prim, (da(4), db(4)), ref))
    CASES.append(Case(name, prim, (da(3, 1, 4), db(5, 4)), ref))  # broadcasting both ways
    CASES.append(Case(name, prim, (da(2, 3), db()), ref, label="2x3,scalar"))

CASES += [
    Case("power", lambda x: x**3, (r(5),), lambda x: x**3, label="x**3"),
    Case("power", lambda x: x**0.5, (pos(4),), np.sqrt, label="x**0.5"),
    Case("power", lambda x: 2.0**x, (r(4),), lambda x: 2.0**x, label="2**x"),
    Case("where", lambda x, y: E.where(np.array([True, False, True]), x, y), (r(3), r(3)),
         lambda x, y: np.where([True, False, True], x, y)),
    Case("where", lambda x, y: E.where(np.array([[True], [False]]), x, y), (r(2, 3), r(3)),
         lambda x, y: np.where([[True], [False]], x, y), label="broadcast"),
    Case("clip", lambda x: cr.clip(x, -0.5, 0.7), (np.array([-1.0, -0.2, 0.3, 1.5]),),
         lambda x: np.clip(x, -0.5, 0.7)),
    Case("clip", lambda x: cr.clip(x, None, 0.0), (np.array([[-1.0, 0.5], [0.3, -2.0]]),),
         lambda x: np.clip(x, None, 0.0), label="upper only"),
    Case("sum_to", lambda x: sum_to(x, (1, 4)), (r(3, 2, 4),), lambda x: x.sum(axis=(0, 1)).reshape(1, 4)),
    Case("broadcast_to", lambda x: broadcast_to(x, (3, 2, 4)), (r(2, 1),), lambda x: np.broadcast_to(x, (3, 2, 4))),
    Case("astype", lambda x: astype(x, np.float64), (r(3),), lambda x: x, f32=False),
]


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
    assert not cr.sign(x).requires_grad


def test_shape_mismatch_names_operation_and_shapes():
    with pytest.raises(ValueError, match=r"add.*\(3,\).*\(4,\)"):
        cr.tensor(np.ones(3)) + cr.tensor(np.ones(4))
