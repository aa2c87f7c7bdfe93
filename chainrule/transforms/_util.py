"""Shared machinery of the transforms: argnums, inputs as fresh nodes, the targeted reverse sweep, outputs."""

from __future__ import annotations

import operator
import threading

import numpy as np

from ..core.backward import _sweep
from ..core.batching import Batched, batch_levels, from_level, to_level
from ..core.state import STATE
from ..core.tensor import Tensor, wrap

__all__ = [
    "REV",
    "argnums_tuple",
    "as_float_tensor",
    "backprop",
    "fresh",
    "lift",
    "output",
    "reaches_outer",
    "unlift",
]


class _Rev(threading.local):
    """How many reverse transforms are evaluating their function right now.

    Inside one, an inner ``grad`` must record its backward pass
    (``create_graph``): the outer transform will differentiate the result.
    """

    def __init__(self):
        self.depth = 0


REV = _Rev()


def argnums_tuple(argnums, nargs, who):
    """``(tuple of non-negative argnums, single)``; errors name the transform and the call."""
    single = not isinstance(argnums, (tuple, list))
    items = (argnums,) if single else tuple(argnums)
    out = []
    for a in items:
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(f"{who}: argnums must be an int or a tuple of ints, got {argnums!r}") from None
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{who}: argnums={argnums!r} is out of range: the function was called with {nargs} positional "
                f"argument{'s' if nargs != 1 else ''}"
            )
        out.append(a % nargs)
    if not single and len(set(out)) != len(out):
        raise ValueError(f"{who}: argnums={argnums!r} repeats an argument")
    return tuple(out), single


def as_float_tensor(x, who, where):
    """A pytree leaf as a Tensor of floats (a Python float becomes a 0-d float64 array)."""
    if isinstance(x, Tensor):
        t = x
    else:
        if not isinstance(x, (np.ndarray, np.generic, float, int, complex, bool)):
            raise TypeError(f"{who}: {where} is a {type(x).__name__}; expected a float, a NumPy array or a Tensor "
                            f"(or a tuple, list or dict of them)")
        t = wrap(np.asarray(x))
    if t.dtype.kind not in "fc":
        raise TypeError(
            f"{who}: {where} has dtype {t.dtype}; derivatives are defined only for floating-point inputs. "
            f"Pass floats (3.0 rather than 3, or x.astype(np.float64))"
        )
    return t


# ---- batched inputs: differentiate the physical value (each batch element independently) ----
def lift(x, levels):
    """``x`` as a physical value for the vmap ``levels`` (ascending): their batch axes become leading axes."""
    for lv in reversed(levels):
        x = to_level(x, lv)
    return x


def unlift(y, levels):
    """The inverse of :func:`lift`."""
    for lv in levels:
        y = from_level(y, lv)
    return y


def levels_of(xs):
    out = set()
    for x in xs:
        out.update(batch_levels(x))
    return out


def fresh(x):
    """A new node standing for ``x``, so a reverse transform differentiates with respect to it alone.

    A Tensor on an outer graph gets an identity node on top (gradients still
    reach the outer graph through it); anything else becomes a new leaf.
    Tangents of outer forward-mode levels are kept.
    """
    if x._node is not None:
        from ..ops.elementwise import positive

        return positive(x)
    t = wrap(x.data, None, x._fw)
    t.requires_grad_(True)
    return t


def reaches_outer(outs, own):
    """Whether the graph of ``outs`` reaches a leaf other than the nodes in ``own`` (a closure over a Tensor
    that requires grad): then the result must stay differentiable for whoever owns that leaf."""
    stack = [t._node for t in outs if isinstance(t, Tensor) and t._node is not None and t._node not in own]
    seen = set(stack)
    while stack:
        node = stack.pop()
        if node.prim is None:
            return True
        for p in node.parents:
            if p is not None and p not in seen and p not in own:
                seen.add(p)
                stack.append(p)
    return False


def backprop(outs, cts, targets, create_graph, retain_graph):
    """Gradients of ``outs`` (cotangents ``cts``; None means ones) with respect to the Tensors ``targets``.

    Like ``torch.autograd.grad`` but keeps cotangents that are Tensors as they
    are (batched, carrying tangents, on a graph), and returns None for a target
    the outputs do not reach.
    """
    raw = not create_graph and STATE.depth == 0
    roots = []
    for out, ct in zip(outs, cts):
        node = out._node if isinstance(out, Tensor) else None
        if node is None:
            continue
        if ct is None:
            g = np.ones(out.shape, dtype=out.dtype)
        elif raw:
            g = np.array(ct.data if isinstance(ct, Tensor) else ct, dtype=out.dtype)  # a copy: never alias the caller
        elif isinstance(ct, Tensor):
            g = ct
        else:
            g = np.array(ct, dtype=out.dtype)
        if not raw and not isinstance(g, Tensor):
            g = wrap(g)
        roots.append((node, g))
    if not roots:
        return [None] * len(targets)
    found = _sweep(roots, [t._node for t in targets], retain_graph, create_graph, accumulate=False)
    result = []
    for t in targets:
        g = found.get(t._node)
        if g is not None and not isinstance(g, Tensor):
            g = wrap(g)
        result.append(g)
    return result


def output(x, tensors, keep_graph):
    """A result leaf for the caller: its local graph dropped unless an outer transform needs it; a plain
    array when the inputs were arrays and nothing outer (graph or tangent) rides on it."""
    if not isinstance(x, Tensor):
        return x
    if type(x) is Batched:
        return x
    if x._node is not None and not keep_graph:
        x = wrap(x.data, None, x._fw)
    if tensors or x._fw is not None or x._node is not None:
        return x
    return x.data


def zeros_like(t):
    """Zeros shaped like ``t`` (batched values give batched zeros, as constants)."""
    if type(t) is Batched:
        from ..core.batching import make

        return make(zeros_like(t.val), t.level)
    return wrap(np.zeros(t.shape, dtype=t.dtype))


def check_cotangent(ct, out, who, where):
    shape = ct.shape if isinstance(ct, Tensor) else np.shape(ct)
    if tuple(shape) != tuple(out.shape):
        raise ValueError(f"{who}: the cotangent for {where} has shape {tuple(shape)} but that output has shape "
                         f"{tuple(out.shape)}")
