"""cr.Function: a custom primitive as a class — forward on NumPy arrays, backward (and jvp) with chainrule ops."""

from __future__ import annotations

import numpy as np

from .batching import fallback, innermost
from .primitive import Primitive, apply
from .state import STATE
from .tensor import Tensor, wrap

__all__ = ["Function", "FunctionCtx", "FunctionPrimitive"]


class FunctionCtx:
    """The ``ctx`` handed to a Function's ``forward``, ``backward`` and ``jvp``.

    ``save_for_backward(*arrays)`` keeps arrays for the rules; ``saved_tensors``
    gives them back as Tensors *on the graph*: an input's array comes back as
    that input Tensor, the output's array as the output Tensor, anything else
    as a constant. So a ``backward`` written with chainrule operations is
    itself differentiable (second derivatives through the Function work).
    ``needs_input_grad`` says which inputs a gradient flows to; any other
    attribute may be set freely in ``forward``.
    """

    def __init__(self):
        self._saved = ()
        self._inputs = ()
        self._ans = None
        self._cache = None
        self._out = None
        self.needs_input_grad = ()

    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved_tensors(self):
        out = []
        for a in self._saved:
            out.append(self._on_graph(a))
        return tuple(out)

    def _on_graph(self, a):
        if a is None or isinstance(a, Tensor):
            return a
        for x in self._inputs:
            if isinstance(x, Tensor) and x.data is a:
                return x
            if x is a:
                return wrap(a)
        if self._ans is not None and (self._ans.data is a or self._out is a):
            return self._ans
        return wrap(np.asarray(a))


class FunctionPrimitive(Primitive):
    """The primitive behind one Function subclass (not registered: Functions are user code)."""

    __slots__ = ("fn",)


def _make_primitive(cls):
    name = cls.__name__

    def impl(*arrays, ctx):
        out = cls.forward(ctx, *arrays)
        if isinstance(out, (tuple, list)):
            raise TypeError(f"{name}.forward must return one array (a Function has a single output), "
                            f"got a {type(out).__name__}")
        if isinstance(out, Tensor):
            out = out.data
        ctx._out = out  # what forward returned (a NumPy scalar from 0-d math is not the array we store)
        return np.asarray(out)

    def vjp(i, g, ans, *args, ctx):
        # backward runs once per cotangent; its results serve every input in turn
        cache = ctx._cache
        if cache is None or cache[0] is not g:
            ctx._inputs, ctx._ans = args, ans
            try:
                res = cls.backward(ctx, g)
            finally:  # the output Tensor points back at this node: never keep it (no reference cycle)
                ctx._inputs, ctx._ans = (), None
            if not isinstance(res, (tuple, list)):
                res = (res,)
            if len(res) != len(args):
                raise TypeError(f"{name}.backward returned {len(res)} gradient(s) but {name}.apply got "
                                f"{len(args)} input(s); return one per input (None where there is none)")
            res = tuple(r if r is None or isinstance(r, Tensor) else wrap(np.asarray(r)) for r in res)
            cache = ctx._cache = (g, res)
        gi = cache[1][i]
        if i == _last_differentiable(args):
            ctx._cache = None
        return gi

    def jvp(ts, ans, *args, ctx):
        if not _has_jvp(cls):
            raise NotImplementedError(
                f"the custom Function {name} has no jvp, so forward mode (jvp, jacfwd, hessian, hvp) cannot go "
                f"through it; add a staticmethod jvp(ctx, *tangents) to {name}, or use reverse mode (grad, jacrev)"
            )
        ctx._inputs, ctx._ans = args, ans
        try:
            return cls.jvp(ctx, *ts)
        finally:
            ctx._inputs, ctx._ans = (), None

    # vmap over a Function: one apply per batch element, each with its own ctx
    prim = FunctionPrimitive(name, impl, vjp=vjp, jvp=jvp, joint_jvp=True, variadic=True, raw_ok=False,
                             register=False, save=("args", "ans"),
                             batch=lambda p, vals, bat, kw, size: fallback(p, vals, bat, kw, size, call=cls.apply))
    prim.fn = cls
    return prim


def _last_differentiable(args):
    last = -1
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and a._node is not None:
            last = i
    return last


def _has_jvp(cls):
    return getattr(cls, "jvp", None) is not getattr(Function, "jvp", None)


class Function:
    """A custom differentiable operation, PyTorch style.

    Subclass it with staticmethods ``forward(ctx, *arrays)`` (NumPy arrays in,
    one array out), ``backward(ctx, g)`` (``g`` a Tensor; chainrule operations;
    one cotangent per input, None where there is none) and optionally
    ``jvp(ctx, *tangents)`` for forward mode; call it with ``YourFunction.apply``.

    >>> import chainrule as cr
    >>> from chainrule.core.function import Function
    >>> class Cube(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return g * 3 * x ** 2
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad.item()
    12.0
    """

    _prim = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._prim = _make_primitive(cls)

    @staticmethod
    def forward(ctx, *arrays):
        raise NotImplementedError("a Function subclass must define forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError("a Function subclass must define backward(ctx, g) to be differentiated")

    @classmethod
    def apply(cls, *args):
        """Run the Function on ``args`` (Tensors, arrays or numbers) and record it on the graph."""
        if cls._prim is None:
            raise TypeError("call apply on a subclass of cr.Function, not on Function itself")
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(
            bool(STATE.grad) and isinstance(a, Tensor) and innermost(a)._node is not None for a in args
        )
        return apply(cls._prim, args, {"ctx": ctx})
