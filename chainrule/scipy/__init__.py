"""``chainrule.scipy``: differentiable parts of SciPy, as HIPS autograd offers them — ``chainrule.scipy.special``
(erf, gammaln, digamma, polygamma, expit, logit, xlogy, logsumexp, softmax, i0e, ...) and
``chainrule.scipy.stats.norm`` (logpdf, pdf, cdf, logcdf). SciPy computes the values.

``import chainrule`` does not import SciPy (it stays fast); ``import chainrule.scipy`` does.

>>> import chainrule as cr, chainrule.scipy as csp
>>> csp.special.expit(cr.tensor(0.0))
tensor(0.5)
"""

from . import special, stats

__all__ = ["special", "stats"]
