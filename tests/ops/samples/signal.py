"""Sample cases of convolve, correlate, polyval and interp (ops/signal.py)."""

from __future__ import annotations

import numpy as np

from chainrule.ops import signal as SG
from tests.ops.harness import Case

rng = np.random.default_rng(14)
A = rng.standard_normal(6)
B = rng.standard_normal(3)
P = rng.standard_normal(4)
X = rng.standard_normal((2, 3))
XP = np.array([-1.5, -0.4, 0.3, 1.1, 2.0])
FP = rng.standard_normal(5)
# inside segments and outside the range; none on a knot (there the slope is one-sided)
XI = np.array([-2.2, -1.1, -0.05, 0.7, 1.6, 1.95, 2.6])
KNOTS = np.array([-1.5, -0.4, 1.1, 2.0])


def C(name, fn, args, ref, label, **kw):
    return Case(name=name, fn=fn, args=args, ref=ref, label=label, **kw)


def _knot_ref(u, x, xp, fp):
    """interp at knots: the slope of the segment to the right (of the last segment at the last knot); the knots
    and values are checked by central differences elsewhere, so only x's documented gradient is given here."""
    slope = np.diff(fp) / np.diff(xp)
    seg = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    j = seg
    t = (x - xp[j]) / (xp[j + 1] - xp[j])
    gxp = np.zeros_like(xp)
    gfp = np.zeros_like(fp)
    # d/dxp_j and d/dxp_{j+1}, d/dfp_j and d/dfp_{j+1} of f0 + (x - x0)/(x1 - x0) (f1 - f0)
    np.add.at(gfp, j, u * (1 - t))
    np.add.at(gfp, j + 1, u * t)
    np.add.at(gxp, j, u * slope[j] * (t - 1))
    np.add.at(gxp, j + 1, -u * slope[j] * t)
    return [u * slope[seg], gxp, gfp]


CASES = [
    *[C("pad", lambda a, v, m=m: SG.convolve(a, v, m), (A, B), lambda a, v, m=m: np.convolve(a, v, m),
        f"convolve {m}") for m in ("full", "same", "valid")],
    C("pad", lambda a, v: SG.convolve(a, v, "same"), (B, A), lambda a, v: np.convolve(a, v, "same"),
      "convolve same, shorter first"),
    *[C("pad", lambda a, v, m=m: SG.correlate(a, v, m), (A, B), lambda a, v, m=m: np.correlate(a, v, m),
        f"correlate {m}") for m in ("full", "same", "valid")],
    *[C("pad", lambda a, v, m=m: SG.correlate(a, v, m), (B, A[:5]), lambda a, v, m=m: np.correlate(a, v, m),
        f"correlate {m}, shorter first") for m in ("full", "same", "valid")],
    C("multiply", SG.polyval, (P, X), np.polyval, "polyval"),
    C("multiply", SG.polyval, (P[:1], X), np.polyval, "polyval constant"),
    C("_gather_last", SG.interp, (XI, XP, FP), np.interp, "interp"),
    C("_gather_last", lambda x, xp, fp: SG.interp(x, xp, fp, left=-3.0, right=4.0), (X, XP, FP),
      lambda x, xp, fp: np.interp(x, xp, fp, left=-3.0, right=4.0), "interp left right"),
    C("_gather_last", SG.interp, (KNOTS, XP, FP), np.interp, "interp at knots", grad_ref=_knot_ref,
      order2=False, why="piecewise in x at the knots: the one-sided slope is the documented value"),
]
