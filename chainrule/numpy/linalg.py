"""``chainrule.numpy.linalg``: ``numpy.linalg`` with chainrule's differentiable functions (``cr.linalg``: the
decompositions, solves, norms and products); the few others are NumPy's and raise ``TypeError`` naming them
when given a Tensor.

>>> import chainrule as cr, chainrule.numpy as cnp
>>> cnp.linalg.det(cr.eye(2) * 3)
tensor(9.)
"""

import numpy as _np

from ..linalg import *  # noqa: F403
from ..linalg import __all__ as _ours

__all__ = list(_ours)  # cr.linalg's functions; NumPy's others are reached through __getattr__


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_np.linalg, name)  # LinAlgError, and functions NumPy dispatches to Tensors
    except AttributeError:
        raise AttributeError(f"module 'chainrule.numpy.linalg' has no attribute {name!r}") from None


def __dir__():
    return sorted(set(dir(_np.linalg)) | set(_ours))
