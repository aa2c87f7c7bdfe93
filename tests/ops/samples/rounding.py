"""Sample cases of the piecewise-constant operations (derivative 0, on the graph) and the remainders, read by
tests/ops/test_rounding.py, the vmap tests and the coverage test."""

import numpy as np

import chainrule as cr
from chainrule.ops import rounding as RN

from tests.ops.harness import Case

rng = np.random.default_rng(1)


def r(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape)


# ---- piecewise constant: on the graph with derivative 0 (sign, floor, ...) ----------------------------
# Samples keep at least 0.1 from every multiple of 0.5, where these jump; at the jumps themselves the
# derivative is 0 too (PyTorch, JAX), checked with grad_ref.


def away(*shape):
    return 0.5 * rng.integers(-6, 6, shape) + rng.uniform(0.1, 0.4, shape)


def signed(*shape):  # a denominator kept away from 0
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


CASES = []
JUMPS = np.array([-1.0, -0.0, 0.0, 0.5, 1.5, 2.0])
for name, ref in (("sign", np.sign), ("floor", np.floor), ("ceil", np.ceil), ("round", np.round),
                  ("trunc", np.trunc), ("rint", np.rint)):
    prim = getattr(RN, name)
    CASES += [
        Case(name, prim, (away(),), ref, label="0d"),
        Case(name, prim, (away(2, 3),), ref),
        Case(name, lambda x, p=prim: p(x) * x, (away(4),), lambda x, r=ref: r(x) * x, label="times x"),
        Case(name, prim, (JUMPS,), ref, label="at the jumps", grad_ref=lambda u, x: [np.zeros_like(x)],
             order2_zero=True),
    ]
CASES += [
    Case("round", lambda x: RN.round(x, decimals=1), (0.1 * rng.integers(-20, 20, 5) + rng.uniform(0.01, 0.04, 5),),
         lambda x: np.round(x, 1), label="decimals=1"),
    Case("round", lambda x: x.round(2) * x, (np.array([0.123, -1.456, 2.0]),), lambda x: np.round(x, 2) * x,
         label="method, decimals 2"),
    Case("floor_divide", RN.floor_divide, (away(2, 3), signed(3)), np.floor_divide),
    Case("floor_divide", lambda x: (x // 0.5) * x, (away(4),), lambda x: (x // 0.5) * x, label="x // 0.5 times x"),
    Case("heaviside", RN.heaviside, (away(2, 3), r(3)), np.heaviside),
    # NOTE: where x = 0 the result is h itself: ∂/∂h = 1 there; ∂/∂x = 0 everywhere
    Case("heaviside", RN.heaviside, (np.array([-1.0, 0.0, 2.0, 0.0]), r(4)), np.heaviside, label="at 0",
         grad_ref=lambda u, x, h: [np.zeros_like(x), u * (x == 0)], order2_zero=True),
]

# ---- remainders: ∂/∂x = 1, ∂/∂y = -floor(x/y) (mod) or -trunc(x/y) (fmod) --------------------------------
for name, ref in (("mod", np.mod), ("fmod", np.fmod)):
    prim = getattr(RN, name)
    CASES += [
        Case(name, prim, (r() * 3, signed()), ref, label="0d,0d"),
        Case(name, prim, (r(4) * 3, signed(4)), ref),
        Case(name, prim, (r(3, 1, 4) * 3, signed(5, 4)), ref, label="broadcast both ways"),
        Case(name, prim, (r(2, 3) * 3, signed()), ref, label="2x3,scalar"),
        Case(name, prim, (r() * 3, signed(2, 3)), ref, label="scalar,2x3"),
    ]
CASES += [
    Case("mod", lambda x: x % 2.0, (r(5) * 3,), lambda x: x % 2.0, label="x % 2.0"),
    Case("mod", lambda y: 5.0 % y, (signed(5),), lambda y: 5.0 % y, label="5.0 % y"),
    Case("mod", lambda x, y: cr.remainder(x, y) * x, (r(4) * 3, signed(4)), lambda x, y: np.remainder(x, y) * x,
         label="remainder times x"),
    Case("mod", lambda x, y: (lambda q, m: q * x + m * m)(*divmod(x, y)), (r(4) * 3, signed(4)),
         lambda x, y: (lambda q, m: q * x + m * m)(*np.divmod(x, y)), label="divmod"),
    Case("fmod", lambda x: np.fmod(x, 0.75), (r(2, 3) * 3,), lambda x: np.fmod(x, 0.75), label="np.fmod"),
]
