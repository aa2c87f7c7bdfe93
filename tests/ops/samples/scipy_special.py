"""Sample cases of chainrule.scipy.special's primitives (and of scipy.stats.norm, built on them), SciPy the
reference; scipy is one of chainrule's dependencies, so importing it here is fine. (Not scipy.stats: its import
fails where the coverage test blocks torch by a None in sys.modules; tests/ops/test_scipy.py checks norm against it.)"""

from __future__ import annotations

import numpy as np
import scipy.special as sp

import chainrule.scipy.special as csp
from chainrule.scipy.stats import norm
from tests.ops.harness import Case

rng = np.random.default_rng(7)


class st:
    """scipy.stats.norm's functions, from scipy.special."""

    class norm:
        logcdf = staticmethod(lambda x, loc, scale: sp.log_ndtr((x - loc) / scale))
        cdf = staticmethod(lambda x, loc, scale: sp.ndtr((x - loc) / scale))
        sf = staticmethod(lambda x, loc, scale: sp.ndtr((loc - x) / scale))
        logsf = staticmethod(lambda x, loc, scale: sp.log_ndtr((loc - x) / scale))
        logpdf = staticmethod(lambda x, loc, scale: -0.5 * ((x - loc) / scale) ** 2
                              - np.log(scale * np.sqrt(2 * np.pi)))
        pdf = staticmethod(lambda x, loc, scale: np.exp(st.norm.logpdf(x, loc, scale)))


def u(lo, hi, *shape):
    return rng.uniform(lo, hi, shape)


UNARY = [
    # (name, input, label); each against scipy.special's function of that name
    ("erf", u(-2, 2, 5), ""),
    ("erf", np.array([[0.0, -0.3], [4.0, 1.0]]), "zero and tail"),
    ("erfc", u(-2, 2, 2, 3), ""),
    ("erfinv", u(-0.9, 0.9, 6), ""),
    ("gammaln", u(0.3, 6, 5), ""),
    ("gammaln", np.array([-1.5, -0.4, -2.7]), "negative, non-integer"),
    ("digamma", u(0.3, 6, 2, 2), ""),
    ("expit", u(-5, 5, 6), ""),
    ("logit", u(0.05, 0.95, 5), ""),
    ("i0e", u(-4, 4, 6), ""),
    ("i1e", u(-4, 4, 6), ""),
    ("ndtr", u(-4, 4, 6), ""),
    ("log_ndtr", u(-4, 4, 6), ""),
    ("log_ndtr", np.array([-30.0, -12.0, 8.0]), "tails"),
]

CASES = []
for name, x, label in UNARY:
    CASES.append(Case(name, getattr(csp, name), (x,), getattr(sp, name), label))
CASES.append(Case("i1e", csp.i1e, (np.array([0.0, 1.0]),), sp.i1e, "at 0 (i1e'(0) = 1/2)", order2=False,
                  why="the second derivative at 0 goes through the 1/x branch's guard"))
for n in (0, 1, 2):
    CASES.append(Case("polygamma", lambda x, n=n: csp.polygamma(n, x), (u(0.5, 4, 5),),
                      lambda x, n=n: sp.polygamma(n, x), f"n={n}"))
CASES.append(Case("polygamma", lambda x: csp.polygamma(np.array([0, 1, 2]), x), (u(0.5, 4, 2, 3),),
                  lambda x: sp.polygamma(np.array([0, 1, 2]), x), "n per column"))
CASES += [
    Case("xlogy", csp.xlogy, (u(-2, 2, 4), u(0.2, 3, 4)), sp.xlogy),
    Case("xlogy", csp.xlogy, (u(-2, 2, 3, 1), u(0.2, 3, 4)), sp.xlogy, "broadcast"),
    Case("xlog1py", csp.xlog1py, (u(-2, 2, 4), u(-0.8, 3, 4)), sp.xlog1py),
    Case("xlog1py", csp.xlog1py, (u(-2, 2, 2, 3), u(-0.8, 3, 3)), sp.xlog1py, "broadcast"),
    # scipy.stats.norm, differentiable in x, loc and scale
    Case("log_ndtr", norm.logcdf, (u(-5, 3, 4), u(-1, 1, 4), u(0.5, 2, 4)), st.norm.logcdf, "norm.logcdf"),
    Case("ndtr", norm.cdf, (u(-3, 3, 4), u(-1, 1, 4), u(0.5, 2, 4)), st.norm.cdf, "norm.cdf"),
    Case("ndtr", norm.sf, (u(-3, 3, 4), u(-1, 1, 4), u(0.5, 2, 4)), st.norm.sf, "norm.sf"),
    Case("log_ndtr", norm.logsf, (u(-3, 5, 4), u(-1, 1, 4), u(0.5, 2, 4)), st.norm.logsf, "norm.logsf"),
    # logpdf and pdf compose existing primitives: sampled here through the ones they end in
    Case("exp", norm.pdf, (u(-3, 3, 4), u(-1, 1, 4), u(0.5, 2, 4)), st.norm.pdf, "norm.pdf"),
    Case("log", norm.logpdf, (u(-3, 3, 4), u(-1, 1, 4), u(0.5, 2, 4)), st.norm.logpdf, "norm.logpdf"),
    # scipy's logsumexp, softmax and log_softmax run chainrule's own primitives (all axes by default, as SciPy)
    Case("logsumexp", csp.logsumexp, (u(-3, 3, 2, 3),), sp.logsumexp, "all axes"),
    Case("exp", lambda a, b: csp.logsumexp(a, axis=1, b=b), (u(-3, 3, 2, 3), u(0.2, 2, 2, 3)),
         lambda a, b: sp.logsumexp(a, axis=1, b=b), "logsumexp with b"),
    Case("exp", lambda a, b: csp.logsumexp(a, axis=0, b=b, keepdims=True, return_sign=True)[0],
         (u(-3, 3, 3, 2), u(-2, 2, 3, 2)),
         lambda a, b: sp.logsumexp(a, axis=0, b=b, keepdims=True, return_sign=True)[0],
         "logsumexp, signed b"),
    Case("softmax", csp.softmax, (u(-3, 3, 2, 3),), sp.softmax, "scipy, all axes"),
    Case("log_softmax", lambda x: csp.log_softmax(x, axis=0), (u(-3, 3, 2, 3),), lambda x: sp.log_softmax(x, axis=0),
         "scipy, axis 0"),
]
