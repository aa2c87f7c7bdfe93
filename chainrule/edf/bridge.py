"""The bridge to chainrule: ``check`` holds each hand-written backward against the chain rule.

It runs a node's own ``forward`` with chainrule Tensors in place of its inputs' values: NumPy
functions called on Tensors (``np.matmul``, ``np.exp``, indexing) are recorded by chainrule, so the
forward a student wrote is differentiated as written, and its vector-Jacobian product at the
node's upstream gradient is what the hand-written backward must pass to ``addgrad``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.state import enable_grad
from ..core.tensor import Tensor
from .graph import _RUNNING, EDFError, Graph, Input, _is_float, current, describe, inputs_of

__all__ = ["Report", "Row", "check"]


@dataclass(frozen=True)
class Row:
    """One input of one node: ``agree``, where they differ most (``index``, ``hand`` vs ``chain``), the ``message``."""

    node: str
    input: str
    agree: bool
    message: str
    index: tuple | None = None
    hand: float | None = None
    chain: float | None = None


class Report:
    """What :func:`check` found: one :class:`Row` per (node, float input); ``ok`` when every row agrees."""

    def __init__(self, rows):
        self.rows = tuple(rows)
        self.ok = all(r.agree for r in self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __str__(self):
        return "\n".join(r.message for r in self.rows)

    __repr__ = __str__


def _names(nodes):
    """``Affine#1``, ``Affine#2`` where a class occurs twice, else the bare class name."""
    counts, seen, out = {}, {}, []
    for c in nodes:
        counts[describe(c)] = counts.get(describe(c), 0) + 1
    for c in nodes:
        name = describe(c)
        seen[name] = seen.get(name, 0) + 1
        out.append(name if counts[name] == 1 else f"{name}#{seen[name]}")
    return out


def check(target=None, *, upstream="current", rtol=None, seed=0):
    """Compare every node's hand-written ``backward`` with chainrule's vector-Jacobian product of its ``forward``.

    ``target``: a node, a list of nodes, or a :class:`Graph` (default: the current graph), at the
    nodes' current values (a graph runs ``Forward()`` first if a node has none). The upstream gradient
    is each node's current ``grad`` (after ``Backward``), or a random one where a node has none or
    with ``upstream="random"``. For each input of each node, what the backward passes to ``addgrad``
    (summed over the minibatch by a Parameter's) is compared with the chain rule's gradient; a
    row says where they differ most. A backward that passes no gradient to a float input raises
    :class:`EDFError`, as does an ``addgrad`` given a gradient of the wrong shape.

    >>> import numpy as np
    >>> from chainrule import edf
    >>> with edf.Graph() as g:
    ...     x = edf.Input(); x.value = np.array([[0.5, -1.0]])
    ...     s = edf.Sigmoid(x)
    >>> print(edf.check(g))
    Sigmoid → x: agrees with the chain rule (largest difference 0)
    """
    if upstream not in ("current", "random"):
        raise ValueError(f"check: upstream must be 'current' or 'random', got {upstream!r}")
    graph = current() if target is None else target
    if isinstance(graph, Graph):
        nodes = list(graph.CompNodes)
        if any(not hasattr(c, "value") for c in nodes):
            graph.Forward()
    else:
        nodes = list(graph) if isinstance(graph, (list, tuple)) else [graph]
        for c in nodes:
            if not hasattr(c, "value"):
                raise EDFError(f"check: {describe(c)} has no value yet; run Forward() first")
    rng = np.random.default_rng(seed)
    rows = []
    for name, c in zip(_names(nodes), nodes):
        rows += _check_node(c, name, upstream, rtol, rng)
    return Report(rows)


def _upstream(c, how, rng):
    shape = np.shape(c.value)
    grad = getattr(c, "grad", None)
    if how == "current" and grad is not None and not (np.ndim(grad) == 0 and grad == 0):
        try:
            return np.array(np.broadcast_to(grad, shape), dtype=np.result_type(c.value, np.float32))
        except ValueError:
            raise EDFError(f"check: {describe(c)}.grad has shape {np.shape(grad)}, its value {shape}") from None
    return rng.standard_normal(shape).astype(np.result_type(c.value, np.float32))


def _distinct(c):
    """``{id: (label, input)}`` for each distinct input, labels joined where one input is kept twice."""
    found = {}
    for label, obj in inputs_of(c):
        if id(obj) in found:
            found[id(obj)] = (found[id(obj)][0] + ", " + label, obj)
        else:
            found[id(obj)] = (label, obj)
    return found


def _chain_rule(c, found, g):
    """The chain rule's gradient for each float input: c.forward() on Tensors, then backward(g)."""
    leaves, saved = {}, {}
    state = dict(vars(c))  # forward may cache more than its value; all of it is put back
    for key, (label, obj) in found.items():
        if not hasattr(obj, "value"):
            raise EDFError(f"check: the input {label} of {describe(c)} has no value; run Forward() first")
        if _is_float(obj.value):
            saved[key] = obj.value
            leaves[key] = Tensor(np.array(obj.value), requires_grad=True)
            obj.value = leaves[key]
    try:
        with enable_grad():
            c.forward()
        out = c.value
        if not isinstance(out, Tensor):
            raise EDFError(f"check: chainrule could not follow {describe(c)}.forward (it made a {type(out).__name__} "
                           f"from Tensors): write forward with NumPy functions of the inputs' values")
        if out.shape != g.shape:
            raise EDFError(f"check: {describe(c)}.forward gives shape {out.shape} on Tensors but {g.shape} on arrays")
        out.backward(g)
    finally:
        for key, value in saved.items():
            found[key][1].value = value
        vars(c).clear()
        vars(c).update(state)
    return {k: (t.grad.data if t.grad is not None else np.zeros_like(t.data)) for k, t in leaves.items()}


def _hand_written(c, name, found, g, keys):
    """What c.backward() passes for each input in ``keys`` (a Parameter's after its addgrad's minibatch sum)."""
    start = 0  # what Backward sets grads to; an input still holding this object was passed nothing
    saved, calls = {}, {k: 0 for k in keys}
    for key in keys:
        obj = found[key][1]
        saved[key] = (vars(obj).get("grad", _MISSING), vars(obj).get("addgrad", _MISSING))
        obj.grad = start

        def record(delta, key=key, obj=obj):
            calls[key] += 1
            type(obj).addgrad(obj, delta)  # the class's own rule: checks the shape, a Parameter sums
            if isinstance(obj, Input):  # an Input drops its gradient; keep it here to compare
                obj.grad = obj.grad + np.asarray(delta)

        obj.addgrad = record
    had = vars(c).get("grad", _MISSING)
    c.grad = g
    try:
        _RUNNING[0] = c
        c.backward()
        hand = {key: found[key][1].grad for key in keys}
    finally:
        _RUNNING[0] = None
        _restore(c, "grad", had)
        for key in keys:
            obj = found[key][1]
            _restore(obj, "grad", saved[key][0])
            _restore(obj, "addgrad", saved[key][1])
    for key in keys:
        if calls[key] == 0 and hand[key] is start:
            label, obj = found[key]
            raise EDFError(f"{name}.backward never passes a gradient to its input {label} ({describe(obj)}): "
                           f"call self.{label}.addgrad(...) with ∂ℓ/∂{label}'s share")
    return hand


_MISSING = object()


def _restore(obj, attr, value):
    if value is _MISSING:
        vars(obj).pop(attr, None)
    else:
        setattr(obj, attr, value)


def _check_node(c, name, how, rtol, rng):
    found = _distinct(c)
    g = _upstream(c, how, rng)
    chain = _chain_rule(c, found, g)
    hand = _hand_written(c, name, found, g, list(chain))
    batch = np.shape(c.value)[0] if np.ndim(c.value) else None
    return [_compare(name, found[k][0], np.asarray(hand[k]), chain[k], batch, rtol) for k in chain]


def _fmt_index(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _worst(hand, chain, rtol):
    """(agree, index of the worst entry, its badness): |hand - chain| within rtol·(|chain| + max |chain|)."""
    if rtol is None:
        rtol = 1e-7 if np.result_type(hand, chain) == np.float64 else 1e-3
    if chain.size == 0:
        return True, (), 0.0
    err = np.abs(hand - chain)
    scale = rtol * (np.abs(chain) + np.max(np.abs(chain))) + np.finfo(np.float64).tiny
    k = np.unravel_index(np.argmax(err / scale), chain.shape)
    return bool(np.all(err <= scale)), k, float(np.max(err))


def _compare(node, label, hand, chain, batch, rtol):
    where = f"{node} → {label}"
    hand = hand.astype(np.result_type(hand, np.float32))
    if hand.shape != chain.shape:
        msg = f"{where}: hand-written backward has shape {hand.shape}, the chain rule's gradient {chain.shape}"
        if batch is not None and hand.shape == (batch,) + chain.shape:
            ok, k, _ = _worst(hand.sum(axis=0), chain, rtol)
            msg += " (the sum over the minibatch is missing; "
            msg += ("summed over it, it agrees)" if ok else
                    f"summed over it, it still differs at {_fmt_index(k)}: "
                    f"{hand.sum(axis=0)[k]:.3g} vs {chain[k]:.3g})")
        return Row(node, label, False, msg)
    ok, k, diff = _worst(hand, chain, rtol)
    if ok:
        return Row(node, label, True, f"{where}: agrees with the chain rule (largest difference {diff:.2g})")
    msg = (f"{where}: hand-written backward differs from the chain rule at {_fmt_index(k)}: "
           f"{hand[k]:.3g} vs {chain[k]:.3g}")
    if _worst(-hand, chain, rtol)[0]:
        msg += " (the sign is flipped)"
    elif hand.ndim >= 2 and hand.shape[-1] == hand.shape[-2] and _worst(np.swapaxes(hand, -1, -2), chain, rtol)[0]:
        msg += " (a matrix is transposed)"
    return Row(node, label, False, msg, tuple(int(i) for i in k), float(hand[k]), float(chain[k]))
