"""Complex parts: conj, real, imag and angle, differentiable with PyTorch's convention.

For a real loss L of a complex z, ``z.grad`` is ``∂L/∂Re z + i ∂L/∂Im z`` (so
``|z|²`` gives ``2z``). conj, real and imag are declared in ``core.complex_parts``
(the engine takes a real value's part of a complex cotangent with ``real``, the
shorthands conjugate derivatives with ``conj``); angle is declared here.
"""

from __future__ import annotations

import numpy as np

from ..core.batching_rules import elementwise as _broadcasting
from ..core.complex_parts import conj, imag, is_complex, real
from ..core.primitive import Primitive
from . import elementwise as E

__all__ = ["conj", "conjugate", "real", "imag", "angle"]

conjugate = conj  # NumPy's two names for one ufunc


def _angle_d(x):
    # ∂ arg z/∂Re z + i ∂ arg z/∂Im z = (-Im z + i Re z)/|z|² = i z/|z|²; taken as 0 at z = 0 (as PyTorch)
    r2 = real(x * conj(x))
    zero = r2 == 0
    return E.where(zero, 0, x * 1j / E.where(zero, 1, r2))


def _angle_vjp(g, ans, x):
    # a real x has angle 0 or π: constant off 0, so its derivative is 0
    return g * _angle_d(x) if is_complex(x) else E._zeros_like(x)


def _angle_jvp(t, ans, x):
    # d arg z = Im(conj(z)·ż)/|z|² = Re(conj(i z/|z|²)·ż)
    return real(conj(_angle_d(x)) * t) if is_complex(x) else E._zeros_like(ans)


angle_p = Primitive(
    "angle",
    np.angle,
    vjp=(_angle_vjp,),
    jvp=(_angle_jvp,),
    save=("args",),
    batch=_broadcasting,
    vjp_formulas=("i·{0}·{g}/|{0}|²",),
    convention="the derivative at z = 0 is taken as 0 (as PyTorch); for real inputs it is 0",
)


def angle(z, deg=False):
    """``np.angle``: the argument of each complex entry, in radians (degrees with ``deg=True``).

    Differentiable with PyTorch's convention: ``z.grad = i·z/|z|²`` for L = angle(z).

    >>> import chainrule as cr
    >>> z = cr.tensor(1j, requires_grad=True)
    >>> a = cr.angle(z)
    >>> a.backward()
    >>> round(a.item(), 4), z.grad.item()
    (1.5708, (-1+0j))
    """
    a = angle_p(z)
    return a * (180.0 / np.pi) if deg else a
