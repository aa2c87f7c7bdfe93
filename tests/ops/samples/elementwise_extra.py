"""Sample cases of fmax/fmin, logaddexp2, sinc, nan_to_num and the angle conversions (ops/elementwise_extra.py)."""

from __future__ import annotations

import numpy as np

from chainrule.ops import elementwise_extra as EX
from tests.ops.harness import Case

rng = np.random.default_rng(13)
X = rng.standard_normal((3, 4))
Y = rng.standard_normal((3, 4))
R = rng.standard_normal(4)
XN = X.copy()
XN[0, 0] = XN[1, 2] = XN[2, 3] = np.nan
YN = Y.copy()
YN[0, 1] = YN[2, 0] = np.nan  # never NaN in both (the output would be NaN, with no derivative)
SINC = np.array([0.0, 1e-7, -0.2, 0.31, 0.63, -0.64, 1.0, 1.7, -3.3, 7.25])
INF = np.array([1.5, np.nan, np.inf, -0.3, -np.inf, 2.0])


def C(name, fn, args, ref, label, **kw):
    return Case(name=name, fn=fn, args=args, ref=ref, label=label, **kw)


CASES = [
    C("maximum", EX.fmax, (X, Y), np.fmax, "fmax"),
    C("maximum", EX.fmax, (XN, YN), np.fmax, "fmax NaN"),
    C("maximum", EX.fmax, (X, R), np.fmax, "fmax broadcast"),
    C("maximum", EX.fmax, (np.array([1.0, 2.0, np.nan]), np.array([1.0, 0.5, 3.0])), np.fmax, "fmax tie",
      grad_ref=lambda u, x, y: [u * [0.5, 1, 0], u * [0.5, 0, 1]], order2_zero=True),
    C("minimum", EX.fmin, (XN, YN), np.fmin, "fmin NaN"),
    C("minimum", EX.fmin, (np.array([1.0, 2.0, np.nan]), np.array([1.0, 0.5, 3.0])), np.fmin, "fmin tie",
      grad_ref=lambda u, x, y: [u * [0.5, 0, 0], u * [0.5, 1, 1]], order2_zero=True),
    C("logaddexp2", EX.logaddexp2, (X, Y), np.logaddexp2, "same shape"),
    C("logaddexp2", EX.logaddexp2, (X, R), np.logaddexp2, "broadcast"),
    C("logaddexp2", EX.logaddexp2, (np.array([1000.0, -1000.0]), np.array([1000.5, -999.0])), np.logaddexp2,
      "large"),
    C("sinc", EX.sinc, (SINC,), np.sinc, "through 0"),
    C("sinc", EX.sinc, (X,), np.sinc, "matrix"),
    C("sinc", lambda x: EX.sinc(x * 0), (R,), lambda x: np.sinc(x * 0), "at 0 exactly"),
    C("where", lambda x: EX.nan_to_num(x, posinf=7.0, neginf=-7.0), (INF,),
      lambda x: np.nan_to_num(x, posinf=7.0, neginf=-7.0), "nan_to_num",
      grad_ref=lambda u, x: [u * np.isfinite(x)]),
    C("where", lambda x: EX.nan_to_num(x, nan=-1.0, posinf=3.0, neginf=-3.0), (XN,),
      lambda x: np.nan_to_num(x, nan=-1.0, posinf=3.0, neginf=-3.0), "nan_to_num nan="),
    C("multiply", EX.radians, (X,), np.radians, "radians"),
    C("multiply", EX.deg2rad, (X,), np.deg2rad, "deg2rad"),
    C("multiply", EX.degrees, (X,), np.degrees, "degrees"),
    C("multiply", EX.rad2deg, (X,), np.rad2deg, "rad2deg"),
]
