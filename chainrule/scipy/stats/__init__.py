"""``chainrule.scipy.stats``: differentiable distributions of ``scipy.stats`` (``norm``), as functions of the value
and of the parameters.

>>> import chainrule as cr
>>> from chainrule.scipy.stats import norm
>>> norm.cdf(cr.tensor(0.0))
tensor(0.5)
"""

from . import norm

__all__ = ["norm"]
