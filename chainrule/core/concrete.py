"""Concrete values: when turning a Tensor into a NumPy array or a Python number would drop its graph.

Inside a transformation (``grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``,
``hvp``, ``vmap``) a value that depends on the transformation's inputs is
*traced*: its derivative is what the transformation computes, so a NumPy or
Python copy of it would be a constant that silently drops terms from the
result. Converting one raises :class:`ConcretizationError` (as JAX's
``ConcretizationTypeError``). A value is traced when it carries the tangent of
a live forward-mode level, is batched at a live vmap level (``Batched``), or
its graph reaches the inputs of a reverse-mode transformation that is
evaluating its function right now (registered here by :func:`inputs`).

Outside transformations, ``np.asarray(t)`` of a Tensor that requires grad
gives its values off the tape, as documented, but never silently: it warns
:class:`GraphDropWarning` once per call site (``t.detach()``, ``t.numpy()`` and
``cr.no_grad()`` say it was meant).
"""

from __future__ import annotations

import os
import sys
import threading
import warnings

import numpy as np

from .state import STATE, live_tangents

__all__ = ["ConcretizationError", "GraphDropWarning", "check_concrete", "inputs", "is_traced", "warn_drop"]


class ConcretizationError(TypeError):
    """A traced value (one a transformation differentiates or batches) was turned into a number or an array.

    >>> import chainrule as cr
    >>> try:
    ...     cr.grad(lambda x: x * x.item())(3.0)
    ... except cr.ConcretizationError as e:
    ...     print(str(e).split(":")[0])
    x.item() inside a transformation
    >>> float(cr.grad(lambda x: x * x.detach().item())(3.0))   # a constant, said so: d(3x)/dx
    3.0
    """


class GraphDropWarning(UserWarning):
    """NumPy converted a Tensor that requires grad into an array: the result is off the tape.

    >>> import warnings, numpy as np, chainrule as cr
    >>> t = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     a = np.asarray(t)
    >>> caught[0].category is cr.GraphDropWarning
    True
    >>> np.asarray(t.detach()).tolist()   # detached: meant, no warning
    [1.0, 2.0]
    """


class _Inputs(threading.local):
    def __init__(self):
        self.nodes = []  # one list of input nodes per reverse-mode evaluation running on this thread


_INPUTS = _Inputs()


class inputs:
    """While a reverse-mode transformation evaluates its function: its input ``nodes`` make values traced."""

    __slots__ = ("nodes",)

    def __init__(self, nodes):
        self.nodes = [n for n in nodes if n is not None]

    def __enter__(self):
        _INPUTS.nodes.append(self.nodes)
        return self

    def __exit__(self, *exc):
        _INPUTS.nodes.pop()
        return False


def _reaches_inputs(node):
    """Whether the graph above ``node`` contains an input node of a running reverse-mode evaluation."""
    targets = {id(n) for group in _INPUTS.nodes for n in group}
    stack = [node]
    seen = {id(node)}
    while stack:
        n = stack.pop()
        if id(n) in targets:
            return True
        for p in n.parents or ():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return False


def is_traced(t):
    """Whether the Tensor ``t`` depends on the inputs of a transformation that is running now (a batched
    value answers for itself: its conversions always raise)."""
    if t._fw is not None and live_tangents(t._fw) is not None:
        return True
    node = t._node
    return node is not None and bool(_INPUTS.nodes) and _reaches_inputs(node)


_BATCHED = ("it is batched (inside cr.vmap, jacfwd, jacrev or hessian): it stands for a whole batch of arrays, "
            "so it has no single concrete value")
_TRACED = ("it depends on the input of the transformation, so a Python or NumPy copy of it would be a "
           "constant and its terms would silently vanish from the derivative")
_INSTEAD = ("use chainrule operations on the Tensor instead (cr.sin(x) rather than math.sin(x), cr.stack([x, y]) "
            "rather than np.array([x, y]), cr.where(x > 0, a, b) rather than `if x > 0`)")


def error(call, batched=False):
    """The :class:`ConcretizationError` for ``call`` (``"float(x)"``, ``"np.asarray(x)"``) of a traced value."""
    if batched:
        return ConcretizationError(f"{call} inside a transformation: {_BATCHED}; {_INSTEAD}")
    return ConcretizationError(f"{call} inside a transformation: {_TRACED}; {_INSTEAD}; if you mean a constant, "
                               f"take x.detach() first")


def check_concrete(t, call):
    """Raise :class:`ConcretizationError` naming ``call`` when ``t`` is traced."""
    if (t._fw is not None or _INPUTS.nodes) and is_traced(t):
        raise error(call)


# Frames in these folders are NumPy's or chainrule's; a warning points at the first frame outside them.
_OWN = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep, os.path.dirname(np.__file__) + os.sep)


def _user_stacklevel():
    level = 2  # the caller of warn_drop
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_OWN):
        f = f.f_back
        level += 1
    return level


_DROP = ("NumPy converted a Tensor that requires grad into an array (np.asarray, np.array, or a NumPy function "
         "given a list of Tensors): the result is off the tape and no gradient flows back through it. Build "
         "one Tensor with chainrule (cr.stack, cr.concatenate, chainrule.numpy.array) and use chainrule or "
         "NumPy functions on it; if a constant is meant, convert t.detach() or t.numpy(), or work under "
         "cr.no_grad()")


def warn_drop(t):
    """Warn :class:`GraphDropWarning` when NumPy's conversion of ``t`` leaves a graph that would record."""
    if t._node is not None and STATE.grad:
        warnings.warn(_DROP, GraphDropWarning, stacklevel=_user_stacklevel())
