"""Forward mode inside ``apply``: the output's tangent at each live level, by the primitive's forward rules."""

from __future__ import annotations

import numpy as np

from .state import STATE
from .tensor import Tensor, wrap

__all__ = ["fused", "output_tangent", "push_tangents"]

_ndarray = np.ndarray
_asarray = np.asarray
_asanyarray = np.asanyarray  # keeps cr.jit's Traced


def fused(prim, args, datas, kw):
    """``(ans, {level: tangent})`` from ``prim.fused_jvp``, or None to take the usual path.

    Offered only where the jvp rule's result would be a plain array: one operand
    carries one live tangent that is itself plain (no graph, no tangents, not
    batched), and the tangent rule would record nothing on another operand's graph.
    ``apply`` does not offer it while a :func:`~chainrule.core.primitive.tracing` hook is active.

    >>> from chainrule.core.primitive import REGISTRY
    >>> fused(REGISTRY["matmul"], (wrap(np.eye(2)), wrap(np.ones(2))), (np.eye(2), np.ones(2)), {}) is None
    True
    """
    live = STATE.live
    which = level = t = None
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            continue
        fw = a._fw
        if fw is None:
            if a._node is not None and STATE.grad:
                return None
            continue
        if which is not None or len(fw) != 1:
            return None
        ((level, t),) = fw.items()
        if level not in live or type(t) is not Tensor or t._node is not None or t._fw is not None:
            return None
        which = i
    if which is None:
        return None
    res = prim.fused_jvp(which, *datas, t.data, **kw)
    if res is None:
        return None
    ans, tangent = res
    if tangent.dtype != ans.dtype and ans.dtype.kind in "fc":
        tangent = tangent.astype(ans.dtype)
    return ans, {level: wrap(tangent)}


def _strip(a, level):
    """``a`` with its tangents at ``level`` and above removed (an alias on the same node)."""
    if not isinstance(a, Tensor) or a._fw is None or max(a._fw) < level:
        return a
    keep = {k: v for k, v in a._fw.items() if k < level}
    return wrap(a.data, a._node, keep or None)


def push_tangents(prim, args, kw, out, node, arrays_ok=True):
    """Forward mode: one tangent per live level, lowest first (JAX's nesting of levels).

    The tangent at level L is computed from primals stripped of levels >= L, so
    an inner ``jvp`` never reads an outer perturbation as its own; the rules use
    chainrule operations, so lower-level tangents flow through them in turn.
    The tangents are filed on ``out`` (and on ``node`` when the primitive saves its output).
    ``arrays_ok=False`` (``apply`` passes it while a tracing hook is active) keeps the rules on Tensors, so
    the hook sees their applications.

    >>> from chainrule.core.forward import level, make_dual
    >>> from chainrule.core.primitive import REGISTRY
    >>> with level() as tag:
    ...     x = make_dual(wrap(np.array(0.0)), wrap(np.array(2.0)), tag)
    ...     out = wrap(np.sin(x.data))
    ...     push_tangents(REGISTRY["sin"], (x,), {}, out, None)
    ...     float(out._fw[tag])  # cos 0 · 2
    2.0
    """
    live = STATE.live
    levels = None
    for a in args:  # the live levels of the operands' tangents; almost always one, so no set unless there are more
        if isinstance(a, Tensor) and a._fw is not None:
            for lv in a._fw:
                if lv in live:
                    if levels is None:
                        levels = [lv]
                    elif lv not in levels:
                        levels.append(lv)
    if levels is None:
        return  # only tangents of levels that have closed: nothing to push
    if len(levels) > 1:
        levels.sort()
    if arrays_ok and len(levels) == 1 and (node is None or not STATE.grad) and prim.raw_ok:
        tangent = _raw_tangent(prim, args, kw, out.data, levels[0])
        if tangent is not NotImplemented:
            if tangent is not None:
                out._fw = {levels[0]: tangent}
                if node is not None and prim.save_ans:
                    node.out_fw = out._fw
            return
    out_fw = {}
    for lv in levels:
        pargs = tuple([_strip(a, lv) for a in args])
        ans = wrap(out.data, node, dict(out_fw) if out_fw else None)
        ts = [a._fw.get(lv) if isinstance(a, Tensor) and a._fw is not None else None for a in args]
        tangent = output_tangent(prim, ts, ans, pargs, kw)
        if tangent is not None:
            out_fw[lv] = tangent
    if out_fw:
        out._fw = out_fw
        if node is not None and prim.save_ans:
            node.out_fw = out_fw


def _raw_tangent(prim, args, kw, ans, level):
    """The output's tangent at ``level`` with the forward rules run on the primal ndarrays (``STATE.raw``), as
    the first-order backward pass runs the reverse rules; NotImplemented where that does not apply.

    It applies when nothing is recorded: no graph to extend (the caller checks), one live level, and
    tangents that are plain or batched over plain arrays (``jvp``, ``jacfwd``'s basis). The rules' work on
    primal values (``1 - tanh²``) then runs at NumPy speed; the tangents stay Tensors, so a batched one
    still goes through its batching rule.
    """
    pargs = []
    ts = []
    for a in args:
        if isinstance(a, Tensor):
            data = a.data
            if type(data) is not _ndarray:  # batched at a level: its rules need the Tensor
                return NotImplemented
            fw = a._fw
            t = fw.get(level) if fw is not None else None
            # the tangent must record nothing when used: off the graph, with no tangent of its own, and either a
            # plain array or a value batched at one level over one (jacfwd's basis; its .val, core/batching.py)
            if t is not None:
                if t._node is not None or t._fw is not None:
                    return NotImplemented
                if type(t.data) is not _ndarray:
                    v = getattr(t, "val", None)
                    if v is None or v._node is not None or v._fw is not None or type(v.data) is not _ndarray:
                        return NotImplemented
            pargs.append(data)
            ts.append(t)
        else:
            pargs.append(a)
            ts.append(None)
    state = STATE
    raw, grad, plain = state.raw, state.grad, state.plain
    # STATE.set(raw=True, grad=False) and back, written out (twice per operation in forward mode): the three
    # flags are restored together, so ``plain`` stays consistent with the other two
    state.raw, state.grad, state.plain = True, False, False
    try:
        return output_tangent(prim, ts, ans, tuple(pargs), kw)
    except (TypeError, ValueError, IndexError, AttributeError):
        return NotImplemented  # the usual path runs the rules again and raises with the operation's name
    finally:
        state.raw, state.grad, state.plain = raw, grad, plain


def output_tangent(prim, ts, ans, args, kw):
    """The tangent of ``prim``'s output for the input tangents ``ts`` (None where an input has none), by its
    forward rules, shaped and typed like ``ans`` (a Tensor); None when no rule gave one.

    The one place forward-mode rules are called: ``apply`` pushes each live level's tangents through here,
    and ``cr.explain`` shows each input's share by passing one tangent at a time.

    >>> import numpy as np
    >>> from chainrule.core.primitive import REGISTRY, output_tangent
    >>> from chainrule.core.tensor import wrap
    >>> x = wrap(np.array(0.0))
    >>> float(output_tangent(REGISTRY["sin"], [wrap(np.array(3.0))], wrap(np.sin(x.data)), (x,), {}))  # cos 0 · 3
    3.0
    """
    if prim.jvp is None:
        raise NotImplementedError(
            f"no forward-mode (jvp) rule for {prim.name!r}: it cannot be used inside jvp/jacfwd/hvp; "
            f"use reverse mode (grad, jacrev) instead"
        )
    if prim.joint_jvp:
        ts = [t if t is not None else _zeros_for(a) for t, a in zip(ts, args)]
        tangent = prim.jvp(ts, ans, *args, **kw)
    else:
        tangent = None
        for i, t in enumerate(ts):
            if t is None:
                continue
            rule = prim.jvp[i] if i < len(prim.jvp) else None
            if rule is None:
                raise NotImplementedError(f"no forward-mode (jvp) rule for input {i} of primitive {prim.name!r}")
            c = rule(t, ans, *args, **kw)
            tangent = c if tangent is None else tangent + c
    if tangent is None:
        return None
    if not isinstance(tangent, Tensor):
        tangent = wrap(_asanyarray(tangent))
    out = ans.data if isinstance(ans, Tensor) else ans  # an ndarray from _raw_tangent
    shape, dtype = out.shape, out.dtype
    if tangent.data.shape != shape:
        from .shapes import broadcast_to  # shapes declares its primitives with this module

        tangent = broadcast_to(tangent, shape)
    if tangent.data.dtype != dtype and dtype.kind in "fc":
        from .shapes import astype

        tangent = astype(tangent, dtype)
    return tangent


def _zeros_for(a):
    if isinstance(a, Tensor):
        return wrap(np.zeros_like(a.data))
    return wrap(np.zeros_like(_asarray(a)))
