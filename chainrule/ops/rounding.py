"""Piecewise-constant operations (sign, floor, round, ...: derivative 0, on the graph) and remainders."""

from __future__ import annotations

import numpy as np

from ..core.batching_rules import elementwise as _broadcasting
from ..core.primitive import Primitive
from ..extend import binary, nondifferentiable, zero_derivative, zeros_like

__all__ = ["sign", "floor", "ceil", "round", "trunc", "rint", "floor_divide", "heaviside", "mod", "remainder", "fmod",
           "divmod"]

# ---- piecewise constant: on the graph with derivative 0 (PyTorch, JAX) -----------------------------
# NOTE: 0 at the jumps too, where no derivative exists: a step's gradient is the one-sided value there
sign = zero_derivative("sign", np.sign, convention="sign'(x) = 0 everywhere, at 0 too (PyTorch, JAX)")
floor = zero_derivative("floor", np.floor, convention="0 everywhere, at the integers too (PyTorch, JAX)")
ceil = zero_derivative("ceil", np.ceil, convention="0 everywhere, at the integers too (PyTorch, JAX)")
round = zero_derivative("round", np.round, convention="0 everywhere, at the half-way points too (PyTorch, JAX)")
trunc = zero_derivative("trunc", np.trunc, convention="0 everywhere, at the integers too (PyTorch, JAX)")
rint = zero_derivative("rint", np.rint, convention="0 everywhere, at the half-way points too (PyTorch, JAX)")
floor_divide = zero_derivative("floor_divide", np.floor_divide, 2, operator=" // ",
                               convention="0 in both operands everywhere, at the jumps too (JAX)")

# heaviside(x, h) is 0, h or 1 as x < 0, x = 0, x > 0: piecewise constant in x, h itself where x = 0.
# A boolean mask: ḡ · mask casts it inside the multiply (as relu's rule)
_at_zero = nondifferentiable("_heaviside_at_zero", lambda x: x == 0, batch=_broadcasting)
heaviside = Primitive(
    "heaviside",
    np.heaviside,
    vjp=(lambda g, ans, x, h: zeros_like(g), lambda g, ans, x, h: g * _at_zero(x)),  # ∂/∂h = [x = 0]
    jvp=(lambda t, ans, x, h: zeros_like(t), lambda t, ans, x, h: t * _at_zero(x)),
    save=("args",),
    batch=_broadcasting,
    array_args=True,
    partials=("0", "[{0} = 0]"),
    convention="∂/∂x = 0 everywhere, at the jump x = 0 too (JAX); ∂/∂h = 1 where x = 0, else 0",
)


# ---- remainders: x - q·y for an integer q, so ∂/∂x = 1 and ∂/∂y = -q ---------------------------------
# NOTE: q is read back from the result, round((x - ans) / y), so it is the quotient NumPy's own remainder
# used (floor(x / y) for mod, trunc(x / y) for fmod) even where x / y rounds across an integer
def _quotient(ans, x, y):
    return round((x - ans) / y)


mod = binary("mod", np.remainder, lambda ans, x, y: 1, lambda ans, x, y: -_quotient(ans, x, y),
             save=("args", "ans"), partials=("1", "-floor({0}/{1})"), operator=" mod ",
             convention="as PyTorch and JAX: ∂/∂x = 1 and ∂/∂y = -floor(x/y) on each piece, the one-sided values "
                        "at a jump (where x/y is an integer)")
remainder = mod  # NumPy's two names of one ufunc
fmod = binary("fmod", np.fmod, lambda ans, x, y: 1, lambda ans, x, y: -_quotient(ans, x, y),
              save=("args", "ans"), partials=("1", "-trunc({0}/{1})"),
              convention="as PyTorch and JAX: ∂/∂x = 1 and ∂/∂y = -trunc(x/y) on each piece, the one-sided values "
                         "at a jump (where x/y is an integer)")


def divmod(x, y):
    """``(floor_divide(x, y), mod(x, y))``, as Python's ``divmod`` and ``np.divmod``; the quotient has
    derivative 0, the remainder ∂/∂x = 1, ∂/∂y = -floor(x/y).

    >>> import chainrule as cr
    >>> x = cr.tensor(7.5, requires_grad=True)
    >>> q, r = cr.divmod(x, 2.0)
    >>> (q + r).backward()
    >>> q.item(), r.item(), x.grad.item()
    (3.0, 1.5, 1.0)
    """
    return floor_divide(x, y), mod(x, y)
