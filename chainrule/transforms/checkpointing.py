"""checkpoint: trade compute for memory — a segment keeps only its inputs and is re-run during backward."""

from __future__ import annotations

import functools

import numpy as np

from ..core.batching import Batched
from ..core.concrete import inputs as traced_inputs, is_traced
from ..core.forward import level, make_dual, tangent_of
from ..core.primitive import Primitive, apply
from ..core.state import STATE, enable_grad, live_tangents, no_grad, raw_mode
from ..core.shapes import astype
from ..core.tensor import Tensor, wrap
from ..ops.indexing import getitem
from ..ops.join import concatenate
from ..ops.shape import reshape
from ._util import backprop, fresh
from .pytree import tree_flatten, tree_unflatten

__all__ = ["checkpoint"]


class _Segment:
    """One call of a checkpointed function: how to re-run it, and what it closes over.

    ``pos`` are the positions (among the argument leaves) of the Tensor inputs;
    ``closure`` stands for the graph nodes made before the call that ``f``
    reaches without taking them as arguments (a layer's parameters, an earlier
    result): they become extra operands of the node, so their gradients flow
    too. Only the inputs are kept, never the intermediates.
    """

    __slots__ = (
        "cache",
        "closure",
        "consts",
        "f",
        "kwargs",
        "last",
        "leaves",
        "out_dtypes",
        "out_pos",
        "out_shapes",
        "out_td",
        "pos",
        "td",
        "value",
    )

    def call(self, tensors):
        """Run ``f`` with the Tensor inputs replaced by ``tensors``; the packed float output."""
        leaves = list(self.leaves)
        for p, t in zip(self.pos, tensors):
            leaves[p] = t
        out = self.f(*tree_unflatten(self.td, leaves), **self.kwargs)
        return self.pack(out)

    def pack(self, out):
        outs, td = tree_flatten(out)
        if self.out_td is None:
            self.out_td = td
            self.out_pos = [k for k, o in enumerate(outs) if isinstance(o, Tensor) and o.dtype.kind in "fc"]
            self.out_shapes = [tuple(outs[k].shape) for k in self.out_pos]
            self.out_dtypes = [outs[k].dtype for k in self.out_pos]
            # constants only: the float outputs' Tensors would keep the segment's graph alive
            self.consts = [None if k in self.out_pos else o for k, o in enumerate(outs)]
        ts = [outs[k] for k in self.out_pos]
        if not ts:
            return None  # no float Tensor output: nothing to differentiate (unpack gives the constants)
        if len(ts) == 1:
            return ts[0]
        # The node has one output, so the float outputs travel as one flat array of their common dtype
        # (float32 next to float64 travels as float64, exactly); unpack casts each back to its own dtype.
        common = np.result_type(*self.out_dtypes)
        return concatenate([reshape(t if t.dtype == common else astype(t, common), (-1,)) for t in ts])

    def unpack(self, y):
        if len(self.out_pos) == 1:
            parts = [y]
        else:
            parts, off = [], 0
            for shape, dtype in zip(self.out_shapes, self.out_dtypes):
                n = int(np.prod(shape))
                part = reshape(getitem(y, slice(off, off + n)), shape)
                parts.append(part if part.dtype == dtype else astype(part, dtype))
                off += n
        outs = list(self.consts)
        for k, p in zip(self.out_pos, parts):
            outs[k] = p
        return tree_unflatten(self.out_td, outs)


def _impl(*arrays, seg):
    # the value was computed when the segment ran (with recording, to find its closure): hand it over once;
    # applied again (the per-node check re-runs nodes), it recomputes
    value, seg.value = seg.value, None
    if value is None:
        with no_grad():
            value = seg.call([wrap(a) for a in arrays[: len(seg.pos)]]).data
    return value


def _vjp(i, g, ans, *args, seg):
    # Recompute the segment with recording on, then one targeted backward pass for all its inputs at once.
    cache = seg.cache
    if cache is None or cache[0] is not g:
        n = len(seg.pos)
        closure = seg.closure
        # cut the graph at the closure nodes for the inner pass: what lies beyond them is the enclosing
        # pass's business (through this node's operands), so it is neither visited twice nor freed here
        cut = [(t._node, t._node.parents) for t in closure if t._node.parents]
        for node, _ in cut:
            node.parents = ()
        try:
            gs = _recompute(g, args, seg, n, closure)
        finally:
            for node, parents in cut:
                node.parents = parents
        cache = seg.cache = (g, gs)
    if i == seg.last:  # the last input served: drop the gradients, they are in the sweep's table now
        seg.cache = None
    return cache[1][i]


def _recompute(g, args, seg, n, closure):
    """Run the segment again with recording on and pull ``g`` back to its inputs and closure nodes.

    The recomputed graph is new, so the inner pass frees it as it goes (the
    closure nodes it stops at are targets, never released), unless the
    enclosing pass records (create_graph) and needs it kept.
    """
    if STATE.raw:  # a first-order pass: rules see arrays; record the recomputation on Tensors anyway
        with raw_mode(False), enable_grad():
            ins = [wrap(a).requires_grad_(True) for a in args[:n]]
            out = seg.call(ins)
            gs = backprop([out], [g], ins + closure, False, False)
        return [None if x is None else x.data for x in gs]
    create = STATE.grad
    with enable_grad():
        ins = [fresh(a) for a in args[:n]]
        out = seg.call(ins)
        return backprop([out], [g], ins + closure, create, create)


def _jvp(ts, ans, *args, seg):
    # Forward mode re-runs the segment on dual numbers at a fresh level; the tangents ts (of the level being
    # pushed) may carry lower levels' tangents, which flow through the re-run as usual.
    n = len(seg.pos)
    with level() as tag:
        out = seg.call([make_dual(a, t, tag) for a, t in zip(args[:n], ts[:n])])
        return tangent_of(out, tag)


def _notation(operands, kw, values, call):
    # shown as checkpoint(block)(...), the segment's function by name
    inner = getattr(getattr(kw.get("seg"), "f", None), "__name__", None)
    head = f"checkpoint({inner})" if isinstance(inner, str) else "checkpoint"
    return call([o for o in operands if o is not None], head=head)


checkpoint_p = Primitive("checkpoint", _impl, vjp=_vjp, jvp=_jvp, joint_jvp=True, variadic=True, save=("args",),
                         register=False, notation=_notation)


def _frontier(out, own, start):
    """Nodes made before the segment ran (seq < start) that its graph reaches besides the inputs ``own``:
    what ``f`` closes over (a layer's parameters, an earlier result). Gradients must reach them too."""
    found = []
    node = out._node if isinstance(out, Tensor) else None
    stack = [node] if node is not None and node not in own else []
    seen = set(stack) | own
    while stack:
        node = stack.pop()
        if node.seq < start:
            found.append(node)
            continue
        for p in node.parents:
            if p is not None and p not in seen:
                seen.add(p)
                stack.append(p)
    return found


def _stand_in(node):
    """A Tensor on ``node`` for the checkpoint's operand list (its value is never read: a zero-stride view)."""
    return wrap(np.broadcast_to(np.zeros((), node.dtype), node.shape), node)


def checkpoint(f):
    """``f`` with the same values and gradients, but its intermediates recomputed during backward, not stored.

    The checkpointed call keeps only its inputs on the graph; backward re-runs
    ``f`` with recording on and backpropagates through the fresh graph. Works
    with higher-order derivatives (``create_graph``) and forward mode; when
    its inputs carry tangents (``jvp``, ``jacfwd``, ``hvp``) it is the plain
    call, run once: forward mode stores no intermediates to save.
    Parameters that ``f`` reaches through a closure (a module's weights) get
    their gradients too. ``f`` must be deterministic (it runs again).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import checkpoint
    >>> block = checkpoint(lambda x: cr.tanh(x) * 2)
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> block(x).sum().backward()
    >>> np.round(x.grad.numpy(), 4)
    array([2.    , 0.8399])
    """

    @functools.wraps(f)
    def checkpointed(*args, **kwargs):
        leaves, td = tree_flatten(args)
        pos = [k for k, x in enumerate(leaves) if isinstance(x, Tensor) and x.dtype.kind in "fc"]
        if not STATE.grad or any(type(leaves[k]) is Batched or live_tangents(leaves[k]._fw) is not None
                                 for k in pos):
            # Nothing is recorded, or inside vmap, or forward mode runs through the segment: forward mode
            # stores no intermediates, so there is nothing to save, and the plain call runs f once. (Under
            # forward-over-reverse, hvp, the tangents would keep the segment's intermediates alive anyway.)
            return f(*args, **kwargs)
        seg = _Segment()
        seg.f, seg.td, seg.leaves, seg.pos, seg.kwargs, seg.cache = f, td, leaves, pos, kwargs, None
        seg.out_td = None
        # run once with recording, on fresh leaves, only to learn the value and what f closes over
        start = wrap(np.zeros(0)).requires_grad_(True)._node.seq  # nodes numbered below are older
        ins = [wrap(leaves[k].data).requires_grad_(True) for k in pos]
        # inside a transformation that traces the inputs, so does this run (float(x) of them raises): the
        # re-run during backward, after the transformation's own run, could not tell
        traced = [t._node for k, t in zip(pos, ins) if is_traced(leaves[k])]
        with enable_grad(), traced_inputs(traced):
            out = seg.call(ins)
        if out is None:
            return seg.unpack(None)
        if out._fw is not None:
            # f closes over values carrying tangents (a rare case: the inputs do not): forward mode needs
            # the plain call, so here, and only here, f runs a second time
            return f(*args, **kwargs)
        seg.closure = [_stand_in(n) for n in _frontier(out, {t._node for t in ins}, start)]
        inputs = [leaves[k] for k in pos]
        value = out.data
        del out, ins  # the segment's graph (and its intermediates) goes here
        if not seg.out_pos or not (any(t._node is not None or t._fw is not None for t in inputs) or seg.closure):
            return seg.unpack(wrap(value))  # nothing to differentiate
        seg.value = value
        seg.leaves = [None if k in pos else x for k, x in enumerate(leaves)]  # keep only the constants
        operands = tuple(inputs) + tuple(seg.closure)
        seg.last = max([k for k, t in enumerate(operands) if t._node is not None], default=-1)
        y = apply(checkpoint_p, operands, {"seg": seg})
        return seg.unpack(y)

    return checkpointed
