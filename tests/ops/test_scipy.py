"""chainrule.scipy.special and chainrule.scipy.stats.norm: the sample table's checks, closed-form derivatives, the
tails, vmap and forward mode, and SciPy staying out of ``import chainrule``."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats

import chainrule as cr
import chainrule.scipy.special as csp
from chainrule.scipy.stats import norm
from tests.ops.harness import check_case
from tests.ops.samples.scipy_special import CASES


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rules(case):
    check_case(case)


def _d(f, x):
    return cr.grad(f)(cr.tensor(x)).item()


def test_closed_form_derivatives():
    euler = 0.5772156649015329
    assert math.isclose(_d(csp.erf, 0.0), 2 / math.sqrt(math.pi))
    assert math.isclose(_d(csp.erfinv, 0.0), math.sqrt(math.pi) / 2)
    assert math.isclose(_d(csp.gammaln, 1.0), -euler)
    assert math.isclose(_d(csp.digamma, 1.0), math.pi ** 2 / 6)
    assert math.isclose(_d(lambda x: csp.polygamma(1, x), 1.0), -2 * 1.2020569031595942)  # ψ₂(1) = −2ζ(3)
    assert math.isclose(_d(csp.i1e, 0.0), 0.5)
    assert math.isclose(_d(csp.i0e, 0.0), 0.0, abs_tol=1e-15)
    assert math.isclose(_d(lambda x: csp.logit(csp.expit(x)), 0.3), 1.0)
    assert math.isclose(_d(lambda y: csp.xlogy(2.0, y), 4.0), 0.5)
    # second derivative: d²/dx² gammaln = ψ₁
    assert math.isclose(cr.grad(cr.grad(csp.gammaln))(cr.tensor(2.5)).item(), sp.polygamma(1, 2.5))


def test_tails_stay_finite():
    # (log Φ)'(x) ≈ −x far in the left tail, where Φ underflows
    x = cr.tensor(np.array([-40.0, -200.0]), requires_grad=True)
    norm.logcdf(x).sum().backward()
    assert np.allclose(x.grad.data, [40.0249, 200.005], rtol=1e-4)
    assert np.isfinite(norm.logsf(cr.tensor(200.0)).item())


def test_norm_against_scipy_stats():
    x, loc, scale = np.linspace(-30, 30, 13), 0.7, 1.9
    for name in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        ours = getattr(norm, name)(cr.tensor(x), loc, scale).data
        assert np.allclose(ours, getattr(scipy.stats.norm, name)(x, loc, scale), rtol=1e-10, atol=0), name


def test_norm_parameters():
    x, loc, scale = cr.tensor(1.5), cr.tensor(0.5, requires_grad=True), cr.tensor(2.0, requires_grad=True)
    norm.logpdf(x, loc, scale).backward()
    z = (1.5 - 0.5) / 2.0
    assert math.isclose(loc.grad.item(), z / 2.0) and math.isclose(scale.grad.item(), (z * z - 1) / 2.0)
    x32 = cr.tensor(np.float32([0.3, -1.0]), requires_grad=True)
    for f in (norm.logpdf, norm.pdf, norm.cdf, norm.logcdf, lambda x: norm.logpdf(x, 1.0, 3.0)):
        assert f(x32).dtype == np.float32


def test_vmap_and_forward_mode():
    x = np.random.default_rng(0).uniform(0.5, 3.0, (4, 3))
    per_row = cr.vmap(cr.grad(lambda r: csp.gammaln(r).sum()))(cr.tensor(x))
    assert np.allclose(per_row.data, sp.digamma(x))
    _, t = cr.jvp(lambda v: csp.logsumexp(v, b=np.array([1.0, 2.0, 3.0])), (cr.tensor(x[0]),),
                  (cr.tensor(np.ones(3)),))
    assert np.isclose(t.item(), 1.0)  # shifting every entry by s shifts logsumexp by s


def test_errors_and_signs():
    with pytest.raises(ValueError, match="non-negative integer"):
        csp.polygamma(1.5, cr.tensor(1.0))
    value, sign = csp.logsumexp(cr.tensor([0.0, 0.0]), b=np.array([1.0, -2.0]), return_sign=True)
    assert np.isclose(value.item(), 0.0) and sign.item() == -1


def test_import_chainrule_does_not_import_scipy():
    code = "import sys, chainrule; assert 'scipy' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
