"""The extension API: declare a primitive once, with its forward, reverse, forward-mode and batching rules.

Two shorthands cover most operations. An elementwise operation needs only its
derivative (it batches by broadcasting); a linear operation only its transpose.
An operation that is piecewise constant (``floor``, ``sign``) is ``zero_derivative``:
it stays on the graph with derivative 0, as in PyTorch and JAX; one whose result
is not a number to differentiate (a comparison, a mask, an index) is
``nondifferentiable``: its result never joins the graph.
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

import numpy as np

from .core.batching_rules import elementwise as _broadcasting
from .core.complex_parts import conj_of
from .core.function import Function
from .core.primitive import NONDIFFERENTIABLE, REGISTRY, Primitive

_ndarray = np.ndarray

__all__ = ["Function", "Primitive", "elementwise", "binary", "linear", "nondifferentiable", "zero_derivative",
           "zeros_like", "REGISTRY", "NONDIFFERENTIABLE"]


# x̄ = ḡ · conj(∂f/∂x) (PyTorch's convention; conj is the identity on real values). These run once per
# operation in every backward pass, so the real case is tested inline rather than through conj_of's call.
def _unary_vjp(d):
    def rule(g, ans, x):
        r = d(ans, x)
        kind = type(r)
        if kind is _ndarray and r.dtype.kind != "c" or kind is float or kind is int:
            return g * r
        return g * conj_of(r)

    return rule


def _binary_vjp(d):
    def rule(g, ans, x, y):
        r = d(ans, x, y)
        kind = type(r)
        if kind is _ndarray and r.dtype.kind != "c" or kind is float or kind is int:
            return g * r
        return g * conj_of(r)

    return rule


def elementwise(name, impl, d, save=("args",), *, batch=_broadcasting, **declare):
    """A unary elementwise primitive from its derivative ``d(ans, x)``.

    Reverse: ``x̄ = ḡ · conj(d)``; forward: ``ṫ_out = ṫ · d``; batching: the broadcasting rule.
    For complex inputs ``d`` is the complex derivative f'(z) of a holomorphic f, and the
    rules follow PyTorch's convention (``conj`` is a no-op on real values).
    ``save`` says whether ``d`` reads the input (``"args"``), the output
    (``"ans"``), or both.
    """
    declare.setdefault("array_args", batch is _broadcasting)
    return Primitive(
        name,
        impl,
        vjp=(_unary_vjp(d),),
        jvp=(lambda t, ans, x: t * d(ans, x),),
        save=save,
        batch=batch,
        **declare,
    )


def binary(name, impl, dx, dy, save=("args",), *, batch=_broadcasting, **declare):
    """A broadcasting binary elementwise primitive from its partials ``dx(ans, x, y)``, ``dy(ans, x, y)``.

    The rules return cotangents of the output's shape; the engine sums them
    back to each input's shape (and to a real input's real part). It batches by broadcasting; a list or
    tuple operand (``maximum(x, [0, 0])``) is made an array once, before the rules see it. Complex inputs:
    as :func:`elementwise`, the partials of a holomorphic f.
    """
    declare.setdefault("array_args", batch is _broadcasting)
    return Primitive(
        name,
        impl,
        vjp=(_binary_vjp(dx), _binary_vjp(dy)),
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
    """A primitive whose result is not a number to differentiate (comparisons, masks, argmax): it never joins
    the graph, whatever its inputs (a boolean Tensor with no graph)."""
    declare.setdefault("array_args", declare.get("batch") is _broadcasting)
    return Primitive(name, impl, nondiff=True, **declare)


# An exact zero of an array's shape and dtype, itself with no derivative: the rules of zero_derivative.
zeros_like = nondifferentiable("_zeros_like", np.zeros_like, batch=_broadcasting)


def zero_derivative(name, impl, inputs=1, *, batch=_broadcasting, **declare):
    """A piecewise-constant elementwise primitive (``floor``, ``sign``, ``heaviside``) of ``inputs`` operands.

    Its result stays on the graph with derivative 0 everywhere (at the jumps too, as
    PyTorch and JAX): backward through it gives zeros, forward mode a zero tangent.
    It batches by broadcasting.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.extend import zero_derivative
    >>> step = zero_derivative("my_step", lambda x: (x > 0).astype(x.dtype))
    >>> x = cr.tensor([-1.0, 2.0], requires_grad=True)
    >>> (step(x) * x).sum().backward()   # d/dx (step(x)·x) = step(x) away from 0
    >>> x.grad
    tensor([0., 1.])
    """
    declare.setdefault("array_args", batch is _broadcasting)
    declare.setdefault("partials", ("0",) * inputs)
    return Primitive(
        name,
        impl,
        vjp=(lambda g, ans, *args, **kw: zeros_like(g),) * inputs,
        jvp=(lambda t, ans, *args, **kw: zeros_like(t),) * inputs,
        save=(),
        batch=batch,
        **declare,
    )
