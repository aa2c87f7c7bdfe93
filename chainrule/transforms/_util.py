"""Shared machinery of the transforms: argnums, inputs as fresh nodes, the targeted reverse sweep, outputs."""

from __future__ import annotations

import operator
import threading
import weakref

import numpy as np

from ..core.backward import check_seed_dtype, sweep, toposort
from ..core.batching import Batched, batch_levels, from_level, make, to_level
from ..core.node import Node
from ..core.primitive import tracing
from ..core.shapes import shape_of
from ..core.state import STATE, live_tangents
from ..core.tensor import Tensor, wrap
from ..ops.elementwise import positive
from .pytree import tree_flatten

__all__ = [
    "OwnLeaf",
    "Recorder",
    "argnums_tuple",
    "as_float_tensor",
    "backprop",
    "fresh",
    "has_tensor",
    "leaf_tensor",
    "lift",
    "output",
    "reaches_outer",
    "split_aux",
    "unlift",
]


def argnums_tuple(argnums, nargs, who):
    """``(tuple of non-negative argnums, single)``; errors name the transform and the call."""
    if type(argnums) is int and -nargs <= argnums < nargs:  # the usual call, checked once per call
        return (argnums % nargs,), True
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


def leaf_tensor(x):
    """``x`` as a Tensor where it is one array, Python float or plain Tensor (the transforms' fast paths), else None.

    >>> leaf_tensor(2.0).data, leaf_tensor([2.0])
    (array(2.), None)
    """
    tx = type(x)
    if tx is np.ndarray or tx is float:
        return wrap(np.asarray(x))
    return x if tx is Tensor else None


def split_aux(out, who):
    """``(output, aux)`` from what a function with ``has_aux=True`` returned, or a TypeError naming ``who``."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{who}: with has_aux=True the function must return a pair (output, aux), "
                        f"got {type(out).__name__}")
    return out[0], out[1]


def has_tensor(*trees):
    """Whether any leaf of these pytrees is a Tensor.

    The one rule for result types, decided once per call: when any input of
    the call (any leaf of any argument, differentiated or not, and the
    tangents or cotangents handed in) is a Tensor, every result is a Tensor;
    otherwise every result is an ndarray (a Python float gives a 0-d array).
    """
    for tree in trees:
        for x in tree_flatten(tree)[0]:
            if isinstance(x, Tensor):
                return True
    return False


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


class OwnLeaf(Node):
    """The leaf node of a value a transform made for itself (:func:`fresh`), not a user's Tensor.

    Only its own transform ever sweeps to it, and only while that transform
    is running (``active``: its function is being evaluated). Once it is
    done, a graph that reaches this leaf needs no gradient for it: no one
    else can ask for one. :func:`reaches_outer` relies on that.
    """

    __slots__ = ("active",)


def own_leaf(data, fw=None):
    """A Tensor over ``data`` (carrying tangents ``fw``) on a new :class:`OwnLeaf`, not active yet."""
    t = wrap(data, None, fw)
    node = OwnLeaf.for_leaf(weakref.ref(t), np.shape(data), data.dtype)
    node.active = False
    t._node = node
    return t


def fresh(x):
    """A new node standing for ``x``, so a reverse transform differentiates with respect to it alone.

    A Tensor on an outer graph gets an identity node on top (gradients still
    reach the outer graph through it); anything else becomes a new
    :class:`OwnLeaf`. Tangents of outer forward-mode levels are kept.
    """
    if x._node is not None:
        return positive(x)
    return own_leaf(x.data, x._fw)


def reaches_outer(outs):
    """``(order, reaches)``: the nodes of the graph of ``outs`` in topological order (what the backward sweep
    visits: :func:`~chainrule.core.backward.toposort`), and whether among them is a leaf someone may still want
    a gradient for: a user's Tensor that requires grad (a closure), or an input of an enclosing transform that
    is evaluating its function right now. Then the result must stay differentiable.

    Leaves of transforms that have finished (an inner ``grad`` evaluated at a fixed point, a ``vjp`` taken
    earlier, this transform's own inputs once ``f`` has returned) do not count: their graphs are private to them.
    The sweep is handed the order (``sweep(order=...)``), so the graph is walked once per call, not twice.

    >>> import chainrule as cr
    >>> w = cr.tensor(2.0, requires_grad=True)
    >>> x = own_leaf(np.array(3.0))
    >>> [reaches_outer([x * 2.0])[1], reaches_outer([x * w])[1]]
    [False, True]
    """
    order = toposort([t._node for t in outs if isinstance(t, Tensor) and t._node is not None])
    own = OwnLeaf
    for node in order:
        if node.prim is None and (type(node) is not own or node.active):
            return order, True
    return order, False


class Recorder:
    """Records every primitive application of this thread while active, with the arrays it saw.

    A :func:`~chainrule.core.primitive.tracing` hook (as ``cr.explain``'s trace
    is): ``apply`` hands it an ``Application(prim, args, parents, kw, node, ans)``
    for every operation, which is all one needs to run a node again on its own
    or to push tangents through the recorded graph, whatever the primitive chose
    to save. Operations of other threads are not recorded.

    >>> import chainrule as cr
    >>> from chainrule.transforms._util import Recorder
    >>> with Recorder() as rec:
    ...     y = cr.exp(cr.tensor(1.0, requires_grad=True)) * 2
    >>> [entry[0].name for entry in rec.entries]
    ['exp', 'multiply']
    """

    __slots__ = ("entries", "thread", "_hook")

    def __init__(self):
        self.entries = []
        self.thread = threading.get_ident()
        self._hook = None

    def append(self, entry):
        if threading.get_ident() == self.thread:
            self.entries.append(entry)

    def __enter__(self):
        self._hook = tracing(self.append)
        self._hook.__enter__()
        return self

    def __exit__(self, *exc):
        return self._hook.__exit__(*exc)


def backprop(outs, cts, targets, create_graph, retain_graph, order=None):
    """Gradients of ``outs`` (cotangents ``cts``; None means ones) with respect to the Tensors ``targets``.

    Like ``torch.autograd.grad`` but keeps cotangents that are Tensors as they
    are (batched, carrying tangents, on a graph), and returns None for a target
    the outputs do not reach. ``order``: the graph of all of ``outs`` in
    topological order, where the caller has it (:func:`reaches_outer`).
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
    if order is not None and len(roots) != sum(1 for o in outs if isinstance(o, Tensor) and o._node is not None):
        order = None  # (every output with a node is a root: the order of all of them is the order of the roots)
    found = sweep(roots, [t._node for t in targets], retain_graph=retain_graph, create_graph=create_graph,
                  order=order)
    result = []
    for t in targets:
        g = found.get(t._node)
        if g is not None and not isinstance(g, Tensor):
            g = wrap(g)
        result.append(g)
    return result


_NUMBERS = (float, int, complex, bool, np.generic, np.ndarray)


def output(x, tensors, keep_graph):
    """A result leaf for the caller, by the rule of :func:`has_tensor` (``tensors``: the call had a Tensor).

    Its local graph is dropped unless an outer transform needs it
    (``keep_graph``); it stays a Tensor when something outer (a graph node
    or a live tangent) rides on it, since then it is inside a function an
    enclosing transform is evaluating. A constant (a Python float, an
    array) becomes an array, or a Tensor if the call had one.
    """
    if not isinstance(x, Tensor):
        if not isinstance(x, _NUMBERS):
            return x  # not a number (a string in a pytree): passed through as it is
        a = np.asarray(x)
        return wrap(a) if tensors else a
    if not keep_graph and (x._node is not None or x._fw is not None or type(x) is Batched):
        x = _detached(x)
    elif type(x) is Batched:
        return x
    else:
        fw = live_tangents(x._fw)
        if fw is not x._fw:
            x = wrap(x.data, x._node, fw)
    if type(x) is Batched or tensors or x._fw is not None or x._node is not None:
        return x
    return x.data


def _detached(t):
    """``t`` with no graph node on it, on its batch's physical value or on its live tangents (recursively):
    the transform's own trace must not stay reachable from its result."""
    if type(t) is Batched:
        return make(_detached(t.val), t.level)
    fw = live_tangents(t._fw)
    if fw is not None:
        fw = {k: _detached(v) for k, v in fw.items()}
    return wrap(t.data, None, fw)


def aux_output(x, tensors, keep_graph):
    """An auxiliary result (``has_aux``): Tensors follow :func:`output`, anything else is returned as is."""
    return output(x, tensors, keep_graph) if isinstance(x, Tensor) else x


def zeros_like(t):
    """Zeros shaped like ``t`` (batched values give batched zeros, as constants)."""
    if type(t) is Batched:
        return make(zeros_like(t.val), t.level)
    return wrap(np.zeros(t.shape, dtype=t.dtype))


def check_cotangent(ct, out, who, where):
    shape = shape_of(ct)
    if shape != tuple(out.shape):
        raise ValueError(f"{who}: the cotangent for {where} has shape {tuple(shape)} but that output has shape "
                         f"{tuple(out.shape)}")
    check_seed_dtype(ct, out, f"{who}: the cotangent for {where}")
