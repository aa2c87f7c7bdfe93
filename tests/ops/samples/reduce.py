"""Sample cases of the reduce primitives, read by tests/ops/test_reduce.py, the vmap tests and the coverage test."""

from __future__ import annotations

import numpy as np

from chainrule.ops import reduce as R
from chainrule.ops import reduce_discrete as RD
from chainrule.ops import statistics as ST
from tests.ops.harness import Case

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
    *reduction_cases("var", ST.var, np.var),
    C("var", lambda x: ST.var(x, axis=0, ddof=1), (M,), lambda x: np.var(x, axis=0, ddof=1), "ddof=1"),
    C(
        "var",
        lambda x: x.var(axis=(0, 2), ddof=2, keepdims=True),
        (A3,),
        lambda x: x.var(axis=(0, 2), ddof=2, keepdims=True),
        "method, ddof=2",
    ),
    *reduction_cases("std", ST.std, np.std),
    C("std", lambda x: ST.std(x, axis=1, ddof=1), (M,), lambda x: np.std(x, axis=1, ddof=1), "ddof=1"),
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
    C("argmax", lambda x: RD.argmax(x), (D,), np.argmax, "flat", **NONDIFF),
    C(
        "argmax",
        lambda x: x.argmax(axis=-1, keepdims=True),
        (D,),
        lambda x: x.argmax(-1, keepdims=True),
        "axis",
        **NONDIFF,
    ),
    C("argmin", lambda x: RD.argmin(x, axis=0), (D,), lambda x: np.argmin(x, axis=0), "axis=0", **NONDIFF),
    # (boolean results times 1.0, so that the harness can difference them)
    C("any", lambda x: RD.any(x > 0.5, axis=1) * 1.0, (M,), lambda x: np.any(x > 0.5, axis=1), **NONDIFF),
    C("all", lambda x: (x > -3.0).all(axis=(0, 1)) * 1.0, (A3,), lambda x: np.all(x > -3.0, axis=(0, 1)), **NONDIFF),
    C(
        "count_nonzero",
        lambda x: RD.count_nonzero(x, axis=0, keepdims=True),
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
    C("var", lambda x: ST.var(x, 0, None, None, 1, True), (M,), lambda x: np.var(x, 0, None, None, 1, True),
      "positional ddof, keepdims"),
    C("std", lambda x: x.std(1, None, None, 1), (M,), lambda x: x.std(1, None, None, 1), "method positional ddof"),
    C("var", lambda x: ST.var(x, axis=1, correction=1), (M,), lambda x: np.var(x, axis=1, ddof=1), "correction"),
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
    C("sum", lambda x: ST.var(x, axis=1, where=W | WR), (M,), lambda x: np.var(x, axis=1, where=W | WR), "var where"),
    C("sum", lambda x: ST.std(x, axis=0, ddof=1, where=WR | ~WR), (M,), lambda x: np.std(x, axis=0, ddof=1),
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
