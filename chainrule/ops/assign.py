"""t[index] = v: the index_update primitive (its functional form) and setitem, a write that differentiates."""

from __future__ import annotations

import math

import numpy as np

from ..core.batching import Batched
from ..core.batching_rules import fallback, lift, with_batch
from ..core.primitive import Primitive, apply
from ..core.state import STATE
from ..core.tensor import Tensor
from ..core.writes import note_write, rebind
from .indexing import _batched_index, _fit, _index_text, _normalise, _plan, _rows_repeat, getitem_p

__all__ = []  # setitem is Tensor.__setitem__ (bound in ops/methods.py), which records index_update_p

_ndarray = np.ndarray


# ---- index_update: the functional form of t[index] = v ------------------------------
def _index_update_batch(prim, vals, bat, kw, size):
    index, p = _batched_index(kw["index"], size)
    if p != 0:
        return fallback(prim, vals, bat, kw, size)
    x, v = vals
    if not bat[0]:
        x = with_batch(x, size)
    if bat[1]:
        v = lift(v, len(kw["index"].out_shape))
    return apply(prim, (x, v), dict(kw, index=index))


def _index_update(x, v, index):
    out = np.array(x, copy=True)  # never write into x: other nodes may have saved it
    out[index.key] = v
    return out


def _winners(index):
    """Where ``index`` repeats a position, a mask of the writes NumPy's assignment keeps; else None.

    Found by asking NumPy: assign each write's number and read back which survived.
    """
    if index._winners is None:
        index._winners = False
        if index.advanced and not index.unique and _rows_repeat(_plan(index)):
            ids = np.arange(math.prod(index.out_shape), dtype=np.intp).reshape(index.out_shape)
            scratch = np.full(index.shape, -1, dtype=np.intp)
            scratch[index.key] = ids
            index._winners = scratch[index.key] == ids
    return None if index._winners is False else index._winners


def _v_bar(g, ans, x, v, index):
    # v̄ = ḡ[index], summed over v's broadcasting by the engine.
    # NOTE: with repeated indices NumPy keeps one write per position (the last); only that write
    # reaches the output, so only it gets ḡ (PyTorch's index_put_ gives every duplicate ḡ).
    gv = getitem_p(g, index=index)
    w = _winners(index)
    return gv if w is None else gv * w


def _index_update_notation(operands, kw, values, call):
    # t[i] = v recorded as a new value: the old one with [i] written (the operands may be edges)
    if "index" not in kw:
        return None
    index = _index_text(kw["index"])
    shown = [o for o in operands if o is not None]
    return f"setitem({shown[0]}, {index}, {shown[1]})" if len(shown) == 2 else f"setitem({index})"


def _index_update_vjp_text(i, texts, g, out, kw, shape=None):
    if "index" not in kw:
        return None
    index = _index_text(kw["index"])
    if i == 0:
        return f"setitem({g}, {index}, 0)"  # overwritten entries get nothing
    if shape is None or tuple(shape) == kw["index"].out_shape:
        return f"{g}{index}"
    # v was broadcast into t[i]: its adjoint is the slice summed back to v's shape
    return f"sum({g}{index})" if tuple(shape) == () else f"sum_to({g}{index}, {tuple(shape)})"


index_update_p = Primitive(
    "index_update",
    _index_update,
    vjp=(
        lambda g, ans, x, v, index: index_update_p(g, 0, index=index),  # x̄ = ḡ, zero where overwritten
        _v_bar,
    ),
    # linear in (x, v) together: the tangent is the same update applied to the tangents
    jvp=lambda ts, ans, x, v, index: index_update_p(ts[0], ts[1], index=index),
    joint_jvp=True,
    save=(),
    batch=_index_update_batch,
    vjp_formulas=_index_update_vjp_text,
    notation=_index_update_notation,
)


LEAF_MESSAGE = (
    "setitem: a leaf Variable that requires grad is being used in an in-place operation; write into a "
    "copy (y = x * 1 or x.detach().copy()) or, to change a parameter's values, do it under "
    "`with cr.no_grad():`"
)


def setitem(t, index, value):
    """``t[index] = value`` (``Tensor.__setitem__``): a write that differentiates correctly.

    When a gradient or tangent flows, the write is recorded as ``index_update``
    and ``t`` is rebound to the new node; the old array is never changed, so
    values saved earlier stay valid. Writing into a leaf that requires grad is
    an error, as in PyTorch, except under ``cr.no_grad()``, where (like any
    untracked write into a leaf or a plain Tensor) it changes ``t.data`` in place;
    a graph that saved that array then refuses to backpropagate through it
    (``core/writes.py``) rather than use the new values.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = x * 1
    >>> y[1:] = 0.0
    >>> (y * y).sum().backward()
    >>> x.grad
    tensor([2., 0., 0.])
    """
    idx = _normalise(index, t.shape, "setitem")
    is_t = isinstance(value, Tensor)
    if not is_t and not isinstance(value, _ndarray):
        value = np.asarray(value)
    node = t._node
    tangents = t._fw is not None or (is_t and value._fw is not None)
    graph = STATE.grad and (node is not None or (is_t and value._node is not None))
    # inside vmap: the functional update (rebind says whether t can hold a batched value)
    batched = type(t) is Batched or is_t and type(value) is Batched
    if (graph or tangents) and t.data.dtype.kind in "fc" or batched:
        if graph and node is not None and node.prim is None:
            raise RuntimeError(LEAF_MESSAGE)
        rebind(t, index_update_p(t, _fit(value, idx, "setitem"), index=idx), "setitem")
        return
    # Untracked: NumPy's in-place assignment (and its casting: 2.7 into an int Tensor gives 2).
    data = t.data
    copied = (node is not None and node.prim is not None) or not data.flags.writeable
    if copied:
        # NOTE: under no_grad a non-leaf's array may be saved by the graph: write into a copy
        data = data.copy()
    try:
        data[idx.key] = value.data if is_t else value
    except ValueError as e:
        raise ValueError(f"setitem: {e} (array shape {t.shape})") from None
    if not copied:
        note_write(data)  # a graph that saved this array must not backpropagate through the new values
    t.data = data
