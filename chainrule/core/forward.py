"""Forward mode: dual numbers as tangents tagged by level, so nested jvps never confuse perturbations."""

from __future__ import annotations

import numpy as np

from .shapes import astype
from .state import close_level, open_level
from .tensor import Tensor, wrap

__all__ = ["level", "make_dual", "tangent_of", "primal_of"]


class level:
    """Open a new forward-mode level; ``with level() as lv:`` gives its tag.

    Levels nest like JAX's traces: an inner ``jvp`` gets a higher tag, its
    tangents may carry tangents of outer levels, and rules always compute the
    tangent of level L from primals stripped of levels >= L.
    """

    __slots__ = ("tag",)

    def __enter__(self):
        self.tag = open_level()
        return self.tag

    def __exit__(self, *exc):
        close_level(self.tag)
        return False


def _as_tensor(x):
    return x if isinstance(x, Tensor) else wrap(np.asarray(x))


def make_dual(primal, tangent, tag):
    """``primal`` carrying ``tangent`` at level ``tag`` (an alias: same data, same graph node).

    >>> import chainrule as cr
    >>> from chainrule.core.forward import level, make_dual, tangent_of
    >>> with level() as lv:
    ...     x = make_dual(cr.tensor(3.0), cr.tensor(1.0), lv)
    ...     y = x * x
    ...     float(tangent_of(y, lv).item())
    6.0
    """
    primal = _as_tensor(primal)
    tangent = _as_tensor(tangent)
    if tangent.shape != primal.shape:
        raise ValueError(f"jvp: tangent shape {tangent.shape} does not match primal shape {primal.shape}")
    if tangent.dtype != primal.dtype and primal.dtype.kind == "f":
        if tangent.dtype.kind == "c":  # as JAX: casting it to real would drop its imaginary part
            raise TypeError(
                f"jvp: a complex tangent (dtype {tangent.dtype}) for a real primal (dtype {primal.dtype}); "
                f"the tangent of a real value is real: pass its real part, or make the primal complex"
            )

        tangent = astype(tangent, primal.dtype)  # float64 for float32 and the like: transforms rely on it
    fw = dict(primal._fw) if primal._fw else {}
    fw[tag] = tangent
    return wrap(primal.data, primal._node, fw)


def tangent_of(t, tag):
    """The tangent of ``t`` at level ``tag`` (zeros when ``t`` does not depend on that level's input)."""
    if isinstance(t, Tensor) and t._fw is not None and tag in t._fw:
        return t._fw[tag]
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    return wrap(np.zeros_like(data))


def primal_of(t, tag):
    """``t`` with its tangent at level ``tag`` removed (keeps lower levels and the graph node)."""
    if not isinstance(t, Tensor) or t._fw is None or tag not in t._fw:
        return t
    keep = {k: v for k, v in t._fw.items() if k != tag}
    return wrap(t.data, t._node, keep or None)
