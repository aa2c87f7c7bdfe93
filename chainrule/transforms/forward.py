"""Forward mode as a function: jvp by dual numbers (a tangent rides on each value, tagged by level)."""

from __future__ import annotations

import numpy as np

from ..core.batching import Batched, from_level, to_level
from ..core.forward import level, make_dual, primal_of, tangent_of
from ..core.tensor import Tensor, wrap
from ._util import as_float_tensor, aux_output, has_tensor, output, split_aux
from .pytree import tree_flatten, tree_unflatten

__all__ = ["jvp"]


def dual(p, t, tag):
    """``p`` carrying tangent ``t`` at level ``tag``; a batched ``p`` carries it on its physical value."""
    if type(p) is Batched:
        return from_level(dual(p.val, to_level(t, p.level), tag), p.level)
    return make_dual(p, t, tag)


def tangent_out(o, tag):
    """The tangent of ``o`` at level ``tag`` (zeros when ``o`` does not depend on that level's input)."""
    if type(o) is Batched:  # the tangent may be batched at a higher level: from_level keeps the nesting right
        return from_level(tangent_out(o.val, tag), o.level)
    if not isinstance(o, Tensor):  # a constant output
        a = np.asarray(o)
        return wrap(np.zeros(a.shape, dtype=a.dtype if a.dtype.kind in "fc" else np.float64))
    return tangent_of(o, tag)


def primal_out(o, tag):
    """``o`` without its tangent at level ``tag``."""
    if type(o) is Batched:
        return from_level(primal_out(o.val, tag), o.level)
    return primal_of(o, tag)


def push(f, primal_leaves, tangent_leaves, rebuild, kwargs=None, has_aux=False, who="jvp"):
    """Run ``f`` on duals; returns ``(out treedef, primal leaves, tangent leaves, aux)`` as Tensors.

    ``rebuild(duals)`` gives the positional arguments for ``f``. Tangents may
    be batched (``jacfwd`` pushes a whole basis through at once).
    """
    with level() as tag:
        duals = [dual(p, t, tag) for p, t in zip(primal_leaves, tangent_leaves)]
        out = f(*rebuild(duals), **(kwargs or {}))
        aux = None
        if has_aux:
            out, aux = split_aux(out, who)
        leaves, td = tree_flatten(out)
        primals = [primal_out(o, tag) if isinstance(o, Tensor) else o for o in leaves]
        tangents = [tangent_out(o, tag) for o in leaves]
        if aux is not None:
            aux_leaves, aux_td = tree_flatten(aux)
            aux = tree_unflatten(aux_td, [primal_out(a, tag) if isinstance(a, Tensor) else a for a in aux_leaves])
    return td, primals, tangents, aux


def jvp(f, primals, tangents, has_aux=False):
    """``(f(*primals), J·tangents)`` by true forward mode: dual numbers through the jvp rules, no tape.

    ``primals`` and ``tangents`` are tuples of matching pytrees. Results are
    Tensors when any primal or tangent is a Tensor, ndarrays otherwise (a
    constant output gives its value as an array and a zero tangent).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import jvp
    >>> jvp(lambda x: x ** 3, (2.0,), (1.0,))
    (array(8.), array(12.))
    """
    return _jvp(f, primals, tangents, has_aux, "jvp", "tangent")


def _jvp(f, primals, tangents, has_aux, who, what):
    """``jvp`` whose errors name ``who`` (the transform the user called) and call the tangents ``what``."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{who}: primals and {what}s must be tuples (one entry per positional argument of f), "
                        f"got {type(primals).__name__} and {type(tangents).__name__}")
    if len(primals) != len(tangents):
        raise ValueError(f"{who}: {len(primals)} primals but {len(tangents)} {what}s")
    p_leaves, p_td = tree_flatten(tuple(primals))
    t_leaves, t_td = tree_flatten(tuple(tangents))
    if p_td != t_td:
        raise ValueError(f"{who}: primals have structure {p_td!r} but {what}s have {t_td!r}")
    ps = [as_float_tensor(x, who, f"primal leaf {k}") for k, x in enumerate(p_leaves)]
    ts = []
    for k, (p, t) in enumerate(zip(ps, t_leaves)):
        t = t if isinstance(t, Tensor) else wrap(np.asarray(t))
        if tuple(t.shape) != tuple(p.shape):
            raise ValueError(f"{who}: {what} leaf {k} has shape {tuple(t.shape)} but its primal has shape "
                             f"{tuple(p.shape)}; give each primal a {what} of its own shape")
        ts.append(t)
    tensors = has_tensor(p_leaves, t_leaves)
    td, outs, touts, aux = push(f, ps, ts, lambda duals: tuple(tree_unflatten(p_td, duals)), has_aux=has_aux,
                                who=who)
    out = tree_unflatten(td, [output(o, tensors, True) for o in outs])
    tout = tree_unflatten(td, [output(t, tensors, True) for t in touts])
    if has_aux:
        aux_leaves, aux_td = tree_flatten(aux)
        return out, tout, tree_unflatten(aux_td, [aux_output(a, tensors, True) for a in aux_leaves])
    return out, tout
