"""Sample cases of the order statistics (ops/sorting.py): sort, partition, median and the quantiles, with ties."""

from __future__ import annotations

import numpy as np

from chainrule.ops import sorting as SO
from tests.ops.harness import Case

rng = np.random.default_rng(11)
# distinct entries, far apart compared with the finite-difference step: no ties
V = rng.permutation(7) * 0.41 - 1.3
M = (rng.permutation(12) * 0.29 - 1.7).reshape(3, 4)
A3 = (rng.permutation(24) * 0.23 - 2.5).reshape(2, 3, 4)
# NaN at some positions, never a whole slice
MN = M.copy()
MN[0, 1] = MN[2, 3] = MN[2, 0] = np.nan
A3N = A3.copy()
A3N[0, 1, 2] = A3N[1, 0, 0] = A3N[1, 2, 3] = np.nan
TIES = np.array([[2.0, 1.0, 2.0, 3.0], [0.5, 0.5, 0.5, -1.0]])


def C(fn, args, ref, label, **kw):
    return Case(name="_gather_last", fn=fn, args=args, ref=ref, label=label, **kw)


def _stable_scatter(u, x, axis=-1):
    """Sort's documented gradient: u[i] goes to the entry the stable sort puts at i."""
    perm = np.argsort(x, axis=axis, kind="stable")
    g = np.zeros_like(x)
    np.put_along_axis(g, perm, u, axis=axis)
    return [g]


def _median_ties_ref(u, x):
    # rows [2, 1, 2, 3] and [0.5, 0.5, 0.5, -1]: even counts, the two middle sorted entries get u/2 each;
    # the stable order names them: row 0 reads x[0] and x[2], row 1 reads x[0] and x[1]
    g = np.zeros_like(x)
    g[0, [0, 2]] = u[0] / 2
    g[1, [0, 1]] = u[1] / 2
    return [g]


CASES = [
    C(lambda x: SO.sort(x), (V,), np.sort, "sort vector"),
    C(lambda x: SO.sort(x, axis=0), (M,), lambda x: np.sort(x, axis=0), "sort axis=0"),
    C(lambda x: SO.sort(x, axis=1), (A3,), lambda x: np.sort(x, axis=1), "sort axis=1 3-d"),
    C(lambda x: SO.sort(x, axis=None), (M,), lambda x: np.sort(x, axis=None), "sort axis=None"),
    C(lambda x: SO.sort(x), (TIES,), np.sort, "sort ties", grad_ref=lambda u, x: _stable_scatter(u, x),
      order2_zero=True),
    C(lambda x: SO.partition(x, 2), (V,), lambda x: np.partition(x, 2), "partition"),
    C(lambda x: SO.partition(x, (0, 3), axis=0), (A3.reshape(4, 6),),
      lambda x: np.partition(x, (0, 3), axis=0), "partition kth pair axis=0"),
    C(lambda x: SO.median(x), (V,), np.median, "median odd"),
    C(lambda x: SO.median(x, axis=1), (M,), lambda x: np.median(x, axis=1), "median even"),
    C(lambda x: SO.median(x, axis=(0, 2), keepdims=True), (A3,), lambda x: np.median(x, axis=(0, 2), keepdims=True),
      "median axes keepdims"),
    C(lambda x: SO.median(x, axis=-1), (TIES,), lambda x: np.median(x, axis=-1), "median ties",
      grad_ref=_median_ties_ref, order2_zero=True),
    C(lambda x: SO.median(x, axis=0), (np.array([[2.0, 1.0], [2.0, 4.0], [2.0, 0.0]]),),
      lambda x: np.median(x, axis=0), "median odd tie reads the middle of the stable order",
      grad_ref=lambda u, x: [np.array([[0.0, u[1]], [u[0], 0.0], [0.0, 0.0]])], order2_zero=True),
    C(lambda x: SO.quantile(x, 0.3), (V,), lambda x: np.quantile(x, 0.3), "quantile linear"),
    C(lambda x: SO.quantile(x, [0.0, 0.25, 1.0], axis=0), (M,), lambda x: np.quantile(x, [0.0, 0.25, 1.0], axis=0),
      "quantile q vector axis=0"),
    C(lambda x: SO.quantile(x, [[0.1, 0.9], [0.5, 0.7]], axis=(1, 2), keepdims=True), (A3,),
      lambda x: np.quantile(x, [[0.1, 0.9], [0.5, 0.7]], axis=(1, 2), keepdims=True), "quantile q matrix keepdims"),
    *[C(lambda x, m=m: SO.quantile(x, [0.2, 0.5, 0.85], axis=-1, method=m), (A3,),
        lambda x, m=m: np.quantile(x, [0.2, 0.5, 0.85], axis=-1, method=m), f"quantile {m}")
      for m in ("lower", "higher", "nearest", "midpoint")],
    C(lambda x: SO.percentile(x, [10, 50], axis=1), (M,), lambda x: np.percentile(x, [10, 50], axis=1),
      "percentile"),
    C(lambda x: SO.nanmedian(x, axis=1), (MN,), lambda x: np.nanmedian(x, axis=1), "nanmedian"),
    C(lambda x: SO.nanmedian(x), (A3N,), np.nanmedian, "nanmedian all"),
    C(lambda x: SO.nanquantile(x, [0.3, 0.6], axis=(0, 2)), (A3N,),
      lambda x: np.nanquantile(x, [0.3, 0.6], axis=(0, 2)), "nanquantile"),
    C(lambda x: SO.nanpercentile(x, 75, axis=0, keepdims=True), (MN,),
      lambda x: np.nanpercentile(x, 75, axis=0, keepdims=True), "nanpercentile"),
    C(lambda x: SO.gather_p(x, np.array([[2, 0, 2], [1, 1, 3]])), (M[:2],),
      lambda x: np.take_along_axis(x, np.array([[2, 0, 2], [1, 1, 3]]), axis=-1), "repeated indices"),
    Case("_scatter_last", lambda g: SO.scatter_p(g, np.array([[2, 0, 2], [1, 1, 3]]), n=4), (M[:2, :3],),
         None, label="repeated indices"),
    Case("_scatter_last", lambda g: SO.scatter_p(g, np.array([[2, 0, 3, 1], [1, 3, 0, 2]]), n=4, perm=True),
         (M[:2],), lambda g: np.take_along_axis(g, np.argsort([[2, 0, 3, 1], [1, 3, 0, 2]], axis=-1), axis=-1),
         label="permutation"),
]
