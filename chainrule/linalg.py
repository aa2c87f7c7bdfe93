"""``cr.linalg``: norm, inv, det and solve with their derivative rules, as in ``numpy.linalg``."""

from .ops.linalg import det, inv, norm, solve

__all__ = ["norm", "inv", "det", "solve"]
