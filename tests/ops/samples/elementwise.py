"""Sample cases of the elementwise primitives (and sum_to, broadcast_to, astype), read by
tests/ops/test_elementwise.py, the vmap tests and the coverage test."""

import math

import numpy as np

import chainrule as cr
from chainrule.core.shapes import astype, broadcast_to, sum_to
from chainrule.ops import elementwise as E

from tests.ops.harness import Case

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
    ("sigmoid", lambda x: np.exp(-np.logaddexp(0, -x)), r),  # 1 / (1 + e^-x), without overflow at -1000
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

# Edge values per op, each far enough (> 1e-4) from a kink or a domain edge for central differences:
# 0, limits (±large where the function saturates or grows), tiny values where precision matters,
# and points near the edge of the domain (kept 3% inside: the vmap tests perturb the samples by 2%).
# The kinks themselves are cases with grad_ref below.
HALF_PI = math.pi / 2
EDGES = {
    "negative": [0.0, -3.5, 1e3],
    "positive": [0.0, -3.5, 1e3],
    "exp": [0.0, -1e-8, 1e-8, -50.0, 30.0],
    "expm1": [0.0, 1e-10, -1e-10, -30.0, 20.0],
    "exp2": [0.0, -40.0, 40.0, 1e-9],
    "log": [0.05, 1.0, 1e6, 1.0 + 1e-9],
    "log1p": [0.0, 1e-10, -1e-10, -0.97, 1e6],
    "log2": [0.05, 1.0, 1e6],
    "log10": [0.05, 1.0, 1e6],
    "sqrt": [0.05, 1.0, 1e6],
    "cbrt": [1e-3, -1e-3, -8.0, 1e6],
    "square": [0.0, -1e3, 1e3],
    "reciprocal": [1e-3, -1e-3, 1e3],
    "sin": [0.0, HALF_PI, math.pi, -1e3],
    "cos": [0.0, HALF_PI, math.pi, -1e3],
    "tan": [0.0, 1.5, -1.5],
    "arcsin": [0.0, 0.97, -0.97],
    "arccos": [0.0, 0.97, -0.97],
    "arctan": [0.0, 1e3, -1e3],
    "sinh": [0.0, 20.0, -20.0],
    "cosh": [0.0, 20.0, -20.0],
    "tanh": [0.0, 30.0, -30.0, 1e3, -1e3],
    "arcsinh": [0.0, 1e3, -1e3],
    "arccosh": [1.05, 1e3],
    "arctanh": [0.0, 0.97, -0.97],
    "sigmoid": [0.0, 30.0, -30.0, 1e3, -1e3],
    "relu": [1e-3, -1e-3, 1e3, -1e3],
    "abs": [1e-3, -1e-3, 1e3, -1e3],
}
# float32 cannot hold these to float64's relative precision: checked in float64 only (the reason in `why`)
F32_OFF = {"log": "1 + 1e-9 rounds to 1 in float32"}

CASES = []
for name, ref, draw in UNARY:
    prim = getattr(E, name)
    CASES.append(Case(name, prim, (draw(),), ref, label="0d"))
    CASES.append(Case(name, prim, (draw(2, 3),), ref))
    CASES.append(Case(name, prim, (draw(3, 1, 4),), ref))
    CASES.append(Case(name, prim, (np.broadcast_to(draw(1, 4), (3, 4)),), ref, label="broadcast view"))
    for v in EDGES[name]:  # one case each: central differences of a sum mixing 1e13 and 1e-8 mean nothing
        CASES.append(Case(name, prim, (np.array(v),), ref, label=f"edge {v:g}", f32=name not in F32_OFF,
                          why=F32_OFF.get(name, "")))
for name, ref, da, db in BINARY:
    prim = getattr(E, name)
    CASES.append(Case(name, prim, (da(), db()), ref, label="0d,0d"))
    CASES.append(Case(name, prim, (da(4), db(4)), ref))
    CASES.append(Case(name, prim, (da(3, 1, 4), db(5, 4)), ref))  # broadcasting both ways
    CASES.append(Case(name, prim, (da(2, 3), db()), ref, label="2x3,scalar"))
    CASES.append(Case(name, prim, (da(), db(2, 3)), ref, label="scalar,2x3"))

# kinks, at the point itself: the documented conventions, and a zero second derivative
KINKS = np.array([0.0, -0.0, 1.5, -1.5])
CASES += [
    # NOTE: relu'(0) = 0 and abs'(0) = sign(0) = 0
    Case("relu", E.relu, (KINKS,), lambda x: np.maximum(x, 0), label="at 0",
         grad_ref=lambda u, x: [u * (x > 0)], order2_zero=True),
    Case("abs", E.abs, (KINKS,), np.abs, label="at 0", grad_ref=lambda u, x: [u * np.sign(x)], order2_zero=True),
]
# maximum / minimum with ties: NOTE ties split evenly (½ each); central differences agree at a
# tie of two (nudging either entry moves the result by ε one way and not at all the other), but
# not for the second derivative, which is 0 (the weights are piecewise constant)
TIE_X = np.array([1.0, 2.0, -3.0, 0.5])
TIE_Y = np.array([1.0, 5.0, -3.0, 0.5])
for name, ref in (("maximum", np.maximum), ("minimum", np.minimum)):
    prim = getattr(E, name)
    CASES += [
        Case(name, prim, (TIE_X, TIE_Y), ref, label="ties", order2_zero=True),
        Case(name, prim, (np.array(0.25), np.array(0.25)), ref, label="0d tie", order2_zero=True),
        Case(name, prim, (TIE_X.reshape(4, 1), np.array([0.5, 1.0, 2.0])), ref, label="ties broadcast",
             order2_zero=True),
        Case(name, lambda x, p=prim: p(x, 2.0), (np.array([1.0, 2.0, 3.0]),), lambda x, r=ref: r(x, 2.0),
             label="tie with a constant", order2_zero=True),
    ]

C3 = np.array([True, False, True])
CASES += [
    Case("power", lambda x: x**3, (r(5),), lambda x: x**3, label="x**3"),
    Case("power", lambda x: x**0.5, (pos(4),), np.sqrt, label="x**0.5"),
    Case("power", lambda x: 2.0**x, (r(4),), lambda x: 2.0**x, label="2**x"),
    # NOTE: d/dx x^0 = 0 at x = 0 too (not 0 · 0^-1 = nan), at every order
    Case("power", lambda x: x**0, (np.array([0.0, 2.0, -1.5]),), lambda x: x**0, label="x**0 at 0"),
    Case("power", lambda x: x**2, (np.array([0.0, -1.0]),), lambda x: x**2, label="x**2 at 0"),
    Case("power", lambda x: x**1, (np.array([0.0, -1.0]),), lambda x: x**1, label="x**1 at 0"),
    Case("power", lambda x: x ** np.array([0.0, 2.0, 0.0, 3.0], x.dtype), (np.array([0.0, 0.0, 1.5, 0.0]),),
         lambda x: x ** np.array([0.0, 2.0, 0.0, 3.0]), label="array exponent with 0 at 0"),
    Case("power", lambda x, y: x**y, (pos(3), np.array([0.0, 1.0, -2.0])), np.power, label="exponent 0"),
    # where: the condition is a constant; 0-d, scalar branches, three-way broadcasting
    Case("where", lambda x, y: E.where(C3, x, y), (r(3), r(3)), lambda x, y: np.where(C3, x, y)),
    Case("where", lambda x, y: E.where(np.array([[True], [False]]), x, y), (r(2, 3), r(3)),
         lambda x, y: np.where([[True], [False]], x, y), label="broadcast"),
    Case("where", lambda x, y: E.where(np.array(True), x, y), (r(), r()), lambda x, y: np.where(True, x, y),
         label="0d"),
    Case("where", lambda x, y: E.where(np.array(False), x, y), (r(), r(3)), lambda x, y: np.where(False, x, y),
         label="0d condition, broadcast"),
    Case("where", lambda x: E.where(C3, x, 2.0), (r(3),), lambda x: np.where(C3, x, 2.0), label="scalar y"),
    Case("where", lambda y: E.where(C3, 0.5, y), (r(2, 3),), lambda y: np.where(C3, 0.5, y), label="scalar x"),
    Case("where", lambda x, y: E.where(np.array([[[True]], [[False]]]), x, y), (r(1, 3, 1), r(1, 1, 4)),
         lambda x, y: np.where(np.array([[[True]], [[False]]]), x, y), label="three-way broadcast"),
    Case("where", lambda x, y: cr.where(x > y, x, y), (r(4), r(4)), lambda x, y: np.where(x > y, x, y),
         label="public, data-dependent condition"),
    # clip: bounds as numbers, arrays and Tensors (differentiable), 0-d, values at a bound
    Case("clip", lambda x: cr.clip(x, -0.5, 0.7), (np.array([-1.0, -0.2, 0.3, 1.5]),),
         lambda x: np.clip(x, -0.5, 0.7)),
    Case("clip", lambda x: cr.clip(x, None, 0.0), (np.array([[-1.0, 0.5], [0.3, -2.0]]),),
         lambda x: np.clip(x, None, 0.0), label="upper only"),
    Case("clip", lambda x: cr.clip(x, 0.0, None), (np.array([[-1.0, 0.5], [0.3, -2.0]]),),
         lambda x: np.clip(x, 0.0, None), label="lower only"),
    Case("clip", lambda x: cr.clip(x, -0.5, 0.5), (np.array(0.9),), lambda x: np.clip(x, -0.5, 0.5), label="0d"),
    Case("clip", lambda x: cr.clip(x, np.array([-1.0, 0.0, 0.2], x.dtype), 0.5), (r(2, 3),),
         lambda x: np.clip(x, [-1.0, 0.0, 0.2], 0.5), label="array bound"),
    Case("clip", lambda x, lo, hi: cr.clip(x, lo, hi),
         (np.array([-2.0, 0.1, 0.3, 3.0]), np.array([-1.0, 0.0, 0.5, 0.0]), np.array([1.0, 0.2, 0.4, 2.0])),
         np.clip, label="Tensor bounds: x below, inside, bounds crossed, above"),
    Case("clip", lambda x, lo: cr.clip(x, lo, 1.0), (r(3, 4), r(4) * 0.5), lambda x, lo: np.clip(x, lo, 1.0),
         label="Tensor bound broadcast"),
    Case("clip", lambda x, hi: x.clip(max=hi), (r(2, 3), r()), lambda x, hi: np.clip(x, None, hi),
         label="method, 0d Tensor bound"),
    # NOTE: at a bound the gradient passes to x (lo <= x <= hi), as in PyTorch
    Case("clip", lambda x: cr.clip(x, -0.5, 0.5), (np.array([-0.5, 0.5, 0.0, 2.0]),),
         lambda x: np.clip(x, -0.5, 0.5), label="at the bounds",
         grad_ref=lambda u, x: [u * (np.abs(x) <= 0.5)], order2_zero=True),
    # sum_to, broadcast_to, astype: the engine's own primitives
    Case("sum_to", lambda x: sum_to(x, (1, 4)), (r(3, 2, 4),), lambda x: x.sum(axis=(0, 1)).reshape(1, 4)),
    Case("sum_to", lambda x: sum_to(x, ()), (r(2, 3),), np.sum, label="to 0-d"),
    Case("sum_to", lambda x: sum_to(x, (3,)), (r(2, 3),), lambda x: x.sum(0), label="leading axis"),
    Case("sum_to", lambda x: sum_to(x, (2, 1)), (r(2, 3),), lambda x: x.sum(1, keepdims=True), label="unit axis"),
    Case("sum_to", lambda x: sum_to(x, (2, 1, 3)), (r(4, 2, 5, 3),), lambda x: x.sum(0).sum(1, keepdims=True),
         label="leading and unit axes"),
    Case("sum_to", lambda x: sum_to(x, (2, 3)), (r(2, 3),), lambda x: x, label="same shape"),
    Case("sum_to", lambda x: sum_to(x, ()), (r(),), lambda x: x, label="0-d to 0-d"),
    Case("broadcast_to", lambda x: broadcast_to(x, (3, 2, 4)), (r(2, 1),), lambda x: np.broadcast_to(x, (3, 2, 4))),
    Case("astype", lambda x: astype(x, np.float64), (r(3),), lambda x: x, f32=False,
         why="a cast to float64 gives float64"),
    Case("astype", lambda x: astype(x, x.dtype), (r(2, 3),), lambda x: x, label="to its own dtype"),
    Case("astype", lambda x: x.astype(x.dtype), (r(),), lambda x: x, label="method, 0d"),
    Case("astype", lambda x: cr.astype(x * x, x.dtype) * x, (r(4),), lambda x: x**3, label="composed"),
    Case("astype", lambda x: np.astype(x, np.float64), (r(2, 2),), lambda x: x, label="np.astype", f32=False,
         why="a cast to float64 gives float64"),
    Case("astype_discrete", lambda x: x.astype(np.int64) * 1.0, (np.array([1.5, -2.5, 3.25]),), np.trunc,
         label="to int", f32=False, why="an integer result: no gradient, no float32 output"),
    Case("astype_discrete", lambda x: x.astype(bool) * 1.0, (np.array([0.0, -2.5]),), lambda x: x != 0,
         label="to bool", f32=False, why="a boolean result: no gradient, no float32 output"),
]

