"""``chainrule.numpy.fft``: ``numpy.fft`` with chainrule's differentiable transforms (``cr.fft``); the rest
(``fftfreq``, ``rfftfreq``) is NumPy's and raises ``TypeError`` naming the function when given a Tensor.

>>> import chainrule as cr, chainrule.numpy as cnp
>>> cnp.fft.rfft(cr.ones(4))
tensor([4.+0.j, 0.+0.j, 0.+0.j], dtype=complex128)
"""

import numpy as _np

from ..fft import *  # noqa: F403
from ..fft import __all__ as _ours

__all__ = list(_ours)  # cr.fft's functions; NumPy's others are reached through __getattr__


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_np.fft, name)
    except AttributeError:
        raise AttributeError(f"module 'chainrule.numpy.fft' has no attribute {name!r}") from None


def __dir__():
    return sorted(set(dir(_np.fft)) | set(_ours))
