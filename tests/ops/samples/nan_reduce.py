"""Sample cases of the NaN-ignoring reductions, average, ptp and cumprod (ops/nan_reduce.py).

They are compositions: each case is named after the primitive that carries its derivative, and labelled with
the function.
"""

from __future__ import annotations

import numpy as np

from chainrule.ops import nan_reduce as NR
from tests.ops.harness import Case

rng = np.random.default_rng(12)
V = rng.standard_normal(6)
M = rng.standard_normal((3, 4))
A3 = rng.standard_normal((2, 3, 4))
# NaN at some positions, never a whole slice along any axis used below
MN = M.copy()
MN[0, 1] = MN[2, 3] = MN[1, 0] = np.nan
A3N = A3.copy()
A3N[0, 1, 2] = A3N[1, 0, 0] = A3N[1, 2, 3] = np.nan
D = (rng.permutation(12) * 0.37 - 2.0).reshape(3, 4)  # tie-free, for max and min
DN = D.copy()
DN[1, 2] = DN[0, 0] = np.nan
TIES = np.array([[1.0, 3.0, 3.0, np.nan], [2.0, np.nan, -1.0, -1.0]])
Z = np.array([[1.5, 0.0, -2.0, 0.7], [0.0, 0.8, 0.0, 1.1]])  # zeros: cumprod's gradient stays exact


def C(name, fn, args, ref, label, **kw):
    return Case(name=name, fn=fn, args=args, ref=ref, label=label, **kw)


def _variants(name, prim, fn, ref, data=(MN, A3N)):
    m, a3 = data
    return [
        C(prim, lambda x: fn(x), (m,), lambda x: ref(x), f"{name} all"),
        C(prim, lambda x: fn(x, axis=0), (m,), lambda x: ref(x, axis=0), f"{name} axis=0"),
        C(prim, lambda x: fn(x, axis=-1, keepdims=True), (m,), lambda x: ref(x, axis=-1, keepdims=True),
          f"{name} keepdims"),
        C(prim, lambda x: fn(x, axis=(0, 2)), (a3,), lambda x: ref(x, axis=(0, 2)), f"{name} axis=(0,2)"),
    ]


def _tie_ref(u, x):
    # nanmax of row 0: its two 3s share u; nanmin of row 1: its two -1s share u; NaN gets 0
    g = np.zeros_like(x)
    g[0, [1, 2]] = u / 2
    g[1, [2, 3]] = u / 2
    return [g]


CASES = [
    *_variants("nansum", "sum", NR.nansum, np.nansum),
    *_variants("nanmean", "sum", NR.nanmean, np.nanmean),
    *_variants("nanvar", "sum", NR.nanvar, np.nanvar),
    C("sum", lambda x: NR.nanvar(x, axis=1, ddof=1), (MN,), lambda x: np.nanvar(x, axis=1, ddof=1), "nanvar ddof=1"),
    *_variants("nanstd", "sqrt", NR.nanstd, np.nanstd),
    C("sqrt", lambda x: NR.nanstd(x, axis=0, ddof=1), (MN,), lambda x: np.nanstd(x, axis=0, ddof=1),
      "nanstd ddof=1"),
    *_variants("nanprod", "prod", NR.nanprod, np.nanprod),
    *_variants("nanmax", "max", NR.nanmax, np.nanmax, (DN, np.where(np.isnan(A3N), np.nan, A3))),
    *_variants("nanmin", "min", NR.nanmin, np.nanmin, (DN, np.where(np.isnan(A3N), np.nan, A3))),
    C("max", lambda x: NR.nanmax(x[0]) + NR.nanmin(x[1]), (TIES,),
      lambda x: np.nanmax(x[0]) + np.nanmin(x[1]), "nanmax nanmin ties", grad_ref=_tie_ref, order2_zero=True),
    C("cumsum", lambda x: NR.nancumsum(x, axis=1), (MN,), lambda x: np.nancumsum(x, axis=1), "nancumsum"),
    C("cumsum", lambda x: NR.nancumsum(x), (MN,), np.nancumsum, "nancumsum flat"),
    C("prod", lambda x: NR.cumprod(x), (V,), np.cumprod, "cumprod vector"),
    C("prod", lambda x: NR.cumprod(x, axis=0), (A3,), lambda x: np.cumprod(x, axis=0), "cumprod axis=0"),
    C("prod", lambda x: NR.cumprod(x, axis=-1), (Z,), lambda x: np.cumprod(x, axis=-1), "cumprod zeros"),
    C("prod", lambda x: NR.cumprod(x), (M,), np.cumprod, "cumprod flat"),
    C("prod", lambda x: NR.nancumprod(x, axis=1), (MN,), lambda x: np.nancumprod(x, axis=1), "nancumprod"),
    C("max", lambda x: NR.ptp(x), (D,), np.ptp, "ptp all"),
    C("max", lambda x: NR.ptp(x, axis=1, keepdims=True), (D,), lambda x: np.ptp(x, axis=1, keepdims=True),
      "ptp keepdims"),
    C("sum", lambda x: NR.average(x, axis=0), (M,), lambda x: np.average(x, axis=0), "average unweighted"),
    C("sum", lambda x, w: NR.average(x, weights=w), (M, np.abs(M) + 0.5),
      lambda x, w: np.average(x, weights=w), "average weights same shape"),
    C("sum", lambda x, w: NR.average(x, axis=1, weights=w), (A3, np.abs(V[:3]) + 0.5),
      lambda x, w: np.average(x, axis=1, weights=w), "average 1-d weights along axis"),
    C("sum", lambda x, w: sum(NR.average(x, axis=(0, 2), weights=w, returned=True, keepdims=True)),
      (A3, np.abs(A3[:, 0, :]) + 0.5),
      lambda x, w: sum(np.average(x, axis=(0, 2), weights=w, returned=True, keepdims=True)),
      "average returned keepdims"),
]
