"""conj, real and imag: the complex primitives the engine and the shorthands need, with PyTorch's convention.

For a real loss L of a complex z the gradient is ``∂L/∂Re z + i ∂L/∂Im z``: the
cotangent of ``w = f(z)`` flows back as ``conj(ḡ)·∂w/∂z̄ + ḡ·conj(∂w/∂z)``, so a
holomorphic f gives ``ḡ·conj(f'(z))`` (the shorthands in ``chainrule.extend``
apply :func:`conj_of` to the derivative) and a tangent ``f'(z)·ż``. The three
primitives here are not holomorphic: their rules come from that formula.
"""

from __future__ import annotations

import numpy as np

from .batching_rules import elementwise as _broadcasting
from .primitive import Primitive

__all__ = ["conj", "real", "imag", "conj_of", "is_complex"]


def is_complex(v):
    """Whether ``v`` (an array, a Tensor, a number) holds complex values.

    >>> is_complex(1j), is_complex(np.ones(2))
    (True, False)
    """
    dtype = getattr(v, "dtype", None)
    if dtype is None:
        return isinstance(v, complex)
    return dtype.kind == "c"


def conj_of(v):
    """``conj(v)`` for a complex value, ``v`` itself otherwise (no operation is recorded for a real one).

    >>> conj_of(np.array([1 + 2j])), conj_of(3.0)
    (tensor([1.-2.j], dtype=complex128), 3.0)
    """
    kind = type(v)
    if kind is np.ndarray:  # the first-order backward pass: rules see bare arrays, so this path is hot
        return conj(v) if v.dtype.kind == "c" else v
    if kind is float or kind is int:  # a Python number operand (x * 2.0): as hot
        return v
    return conj(v) if is_complex(v) else v


# w = z̄: ∂w/∂z = 0, ∂w/∂z̄ = 1, so z̄'s cotangent is conj(ḡ), its tangent conj(ż)
conj = Primitive(
    "conj",
    np.conjugate,
    vjp=(lambda g, ans, x: conj(g),),
    jvp=(lambda t, ans, x: conj(t),),
    save=(),
    batch=_broadcasting,
    vjp_formulas=("conj({g})",),
)


def _real(x):
    return np.real(x).copy() if np.iscomplexobj(x) else np.asarray(x)


def _imag(x):
    return np.imag(x).copy() if np.iscomplexobj(x) else np.zeros_like(x)


# The result is real, so ḡ is real (the engine takes the real part of a complex cotangent reaching a real
# value): Re z's cotangent is ḡ, Im z's is i·ḡ (for a real x, Im x = 0 is constant: its cotangent is 0).
real = Primitive(
    "real",
    _real,
    vjp=(lambda g, ans, x: g,),
    jvp=(lambda t, ans, x: real(t),),
    save=(),
    batch=_broadcasting,
    vjp_formulas=("{g}",),
)
imag = Primitive(
    "imag",
    _imag,
    vjp=(lambda g, ans, x: g * 1j if is_complex(x) else g * 0,),
    jvp=(lambda t, ans, x: imag(t),),
    save=("args",),
    batch=_broadcasting,
    vjp_formulas=("i·{g}",),
)
