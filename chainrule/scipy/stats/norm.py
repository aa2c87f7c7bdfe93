"""``chainrule.scipy.stats.norm``: the normal distribution's log density, density, distribution function and their
logs, differentiable in ``x``, ``loc`` and ``scale`` (the tails through SciPy's ``ndtr`` and ``log_ndtr``).

>>> import chainrule as cr
>>> from chainrule.scipy.stats import norm
>>> x = cr.tensor(1.0, requires_grad=True)
>>> norm.logpdf(x).backward()
>>> x.grad.item()   # d/dx (−x²/2) = −x
-1.0
"""

from __future__ import annotations

import math

from ...ops.elementwise import exp, log
from ..special import log_ndtr, ndtr

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def logpdf(x, loc=0.0, scale=1.0):
    """``scipy.stats.norm.logpdf``: ``−((x − loc)/scale)²/2 − log(scale) − log(2π)/2``.

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import norm
    >>> round(norm.logpdf(cr.tensor(0.0)).item(), 6)
    -0.918939
    """
    z = (x - loc) / scale
    # a Python number's log stays a Python float, which keeps a float32 x float32
    return -0.5 * z * z - (math.log(scale) if isinstance(scale, (int, float)) else log(scale)) - _HALF_LOG_2PI


def pdf(x, loc=0.0, scale=1.0):
    """``scipy.stats.norm.pdf``: the density, ``exp(logpdf)``.

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import norm
    >>> round(norm.pdf(cr.tensor(0.0)).item(), 6)
    0.398942
    """
    return exp(logpdf(x, loc, scale))


def cdf(x, loc=0.0, scale=1.0):
    """``scipy.stats.norm.cdf``: ``Φ((x − loc)/scale)``.

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import norm
    >>> norm.cdf(cr.tensor(1.0), loc=1.0)
    tensor(0.5)
    """
    return ndtr((x - loc) / scale)


def logcdf(x, loc=0.0, scale=1.0):
    """``scipy.stats.norm.logcdf``: ``log Φ((x − loc)/scale)``, finite far in the left tail.

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import norm
    >>> round(norm.logcdf(cr.tensor(-40.0)).item(), 3)
    -804.608
    """
    return log_ndtr((x - loc) / scale)


def sf(x, loc=0.0, scale=1.0):
    """``scipy.stats.norm.sf``: ``1 − cdf``, as ``Φ((loc − x)/scale)``.

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import norm
    >>> norm.sf(cr.tensor(0.0))
    tensor(0.5)
    """
    return ndtr((loc - x) / scale)


def logsf(x, loc=0.0, scale=1.0):
    """``scipy.stats.norm.logsf``: ``log(1 − cdf)``, finite far in the right tail.

    >>> import chainrule as cr
    >>> from chainrule.scipy.stats import norm
    >>> round(norm.logsf(cr.tensor(40.0)).item(), 3)
    -804.608
    """
    return log_ndtr((loc - x) / scale)
