"""cr.jit: record a function's NumPy calls once per input signature and replay them without the tape."""

from .api import Jitted, RetraceWarning, jit
from .traced import Traced

__all__ = ["jit", "Jitted", "RetraceWarning", "Traced"]
