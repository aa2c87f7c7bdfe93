"""The extension API: declare a primitive once, with its forward, reverse, forward-mode and batching rules.

Two shorthands cover most operations. An elementwise operation needs only its
derivative (it batches by broadcasting); a linear operation only its transpose.
Every shorthand passes further keywords (``batch=``, ``partials=``,
``convention=``, ...) on to :class:`Primitive`:

>>> import numpy as np, chainrule as cr
>>> from chainrule.extend import elementwise
>>> softplus = elementwise("my_softplus", lambda x: np.logaddexp(0, x),
...                        d=lambda ans, x: cr.sigmoid(x))   # d/dx log(1 + e^x) = sigmoid(x)
>>> x = cr.tensor(0.0, requires_grad=True)
>>> softplus(x).backward()
>>> x.grad.item()
0.5
"""

from __future__ import annotations

from .core.batching_rules import elementwise as _broadcasting
from .core.complex_parts import conj_of
from .core.function import Function
from .core.primitive import NONDIFFERENTIABLE, REGISTRY, Primitive

__all__ = ["Function", "Primitive", "elementwise", "binary", "linear", "nondifferentiable", "REGISTRY",
           "NONDIFFERENTIABLE"]


def elementwise(name, impl, d, save=("args",), *, batch=_broadcasting, **declare):
    """A unary elementwise primitive from its derivative ``d(ans, x)``.

    Reverse: ``x̄ = ḡ · conj(d)``; forward: ``ṫ_out = ṫ · d``; batching: the broadcasting rule.
    For complex inputs ``d`` is the complex derivative f'(z) of a holomorphic f, and the
    rules follow PyTorch's convention (``conj`` is a no-op on real values).
    ``save`` says whether ``d`` reads the input (``"args"``), the output
    (``"ans"``), or both.
    """
    return Primitive(
        name,
        impl,
        vjp=(lambda g, ans, x: g * conj_of(d(ans, x)),),
        jvp=(lambda t, ans, x: t * d(ans, x),),
        save=save,
        batch=batch,
        **declare,
    )


def binary(name, impl, dx, dy, save=("args",), *, batch=_broadcasting, **declare):
    """A broadcasting binary elementwise primitive from its partials ``dx(ans, x, y)``, ``dy(ans, x, y)``.

    The rules return cotangents of the output's shape; the engine sums them
    back to each input's shape (and to a real input's real part). It batches by
    broadcasting. Complex inputs: as :func:`elementwise`, the partials of a holomorphic f.
    """
    return Primitive(
        name,
        impl,
        vjp=(lambda g, ans, x, y: g * conj_of(dx(ans, x, y)), lambda g, ans, x, y: g * conj_of(dy(ans, x, y))),
        jvp=(lambda t, ans, x, y: t * dx(ans, x, y), lambda t, ans, x, y: t * dy(ans, x, y)),
        save=save,
        batch=batch,
        **declare,
    )


def linear(name, impl, transpose, save=(), **declare):
    """A primitive linear in its single array input: ``jvp`` is the op itself, ``vjp`` its transpose.

    ``transpose(g, x, **static)`` maps an output cotangent to the input's
    (``x`` is the saved input when ``save=("args",)``, otherwise None).
    """
    prim = Primitive(
        name,
        impl,
        vjp=(lambda g, ans, x, **kw: transpose(g, x, **kw),),
        jvp=(lambda t, ans, x, **kw: prim(t, **kw),),
        save=save,
        **declare,
    )
    return prim


def nondifferentiable(name, impl, **declare):
    """A primitive with no derivative (comparisons, sign, argmax): its result never joins the graph."""
    return Primitive(name, impl, nondiff=True, **declare)
