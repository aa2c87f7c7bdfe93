"""What a Tensor's graph can show: every node's value and gradient, from the tape, by recomputation, or recorded.

The tape keeps only what the derivative rules need, and ``backward`` frees even that (unless
``retain_graph=True``). :func:`node_values` finds each node's value from what is left: the output
itself, the leaves, the values the nodes saved, and, from those, a recomputation of the operations
whose operands are all known. A constant operand of an operation that saves nothing (the ``b`` in
``W @ x + b``) is kept nowhere, so to draw *every* value build the graph inside :class:`record`:

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> with cr.viz.record():
...     y = cr.sum(x + cr.tensor([10.0, 20.0]))
>>> y.backward()
>>> "[10, 20]" in cr.viz.to_dot(y)
True
"""

from __future__ import annotations

import weakref

import numpy as np

from ..core.backward import sweep, toposort
from ..core.primitive import REGISTRY, tracing
from ..core.tensor import Tensor
from ..core.writes import WRITES, _written_after

__all__ = ["CHANGED", "CHANGED_SINCE", "MAX_RECOMPUTE", "RECORD_COPY", "node_adjoints", "node_values", "record"]

MAX_RECOMPUTE = 10**6  # entries; a picture shows small values, so bigger ones are not recomputed
# record() keeps a copy of every operand and output up to this many entries, so a later in-place write
# (an optimiser step, t[i] = v) cannot change what the picture shows; bigger ones are kept by reference
# and, when written after the graph used them, left out (see node_values)
RECORD_COPY = 10**4
CHANGED = "changed in place after use"  # the note of a value left out because it was overwritten
CHANGED_SINCE = "changed in place since"  # the note of a leaf shown with the value used, which is now different

# node -> (operand arrays, output array), for graphs built inside record(); weak, so a graph that is
# dropped takes its recorded values with it
_RECORDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
UNKNOWN = object()  # a value the tape no longer has


def _keep(application):
    """The tracing hook of :class:`record`: keep each recorded node's operands and output."""
    node = application.node
    if node is not None:
        _RECORDED[node] = (tuple(_snapshot(d) for d in application.args), _snapshot(application.ans))


def _snapshot(value):
    """A copy of a small array (what the graph computed with, whatever is written into it later)."""
    if type(value) is np.ndarray and value.size <= RECORD_COPY:
        return value.copy()
    return value


def _changed(array, seq):
    """True when ``array`` (or memory it shares) was written in place after tape position ``seq``."""
    return bool(WRITES) and isinstance(array, np.ndarray) and _written_after(array, seq)


class record:
    """``with cr.viz.record():`` keeps every value and constant of the graphs built inside it, for :func:`to_dot`.

    Without it a picture shows what the tape still holds (see :mod:`chainrule.viz.tape`); with it, every
    node's value and, after ``backward``, its gradient, even once ``backward`` has freed the tape. The
    values live as long as the graph does. Values of up to :data:`RECORD_COPY` entries are copied, so
    the picture shows what the graph computed with even after an optimiser step or ``t[i] = v``
    changed the arrays in place.

    >>> import chainrule as cr
    >>> w = cr.tensor(2.0, requires_grad=True)
    >>> with cr.viz.record():
    ...     loss = (w * 3.0 - 1.0) ** 2
    >>> loss.backward()
    >>> "grad = 10" in cr.viz.to_dot(loss)  # ∂loss/∂(3w - 1) = 2 (3w - 1), which the tape does not keep
    True
    """

    def __enter__(self):
        self._hook = tracing(_keep)
        self._hook.__enter__()
        return self

    def __exit__(self, *exc):
        return self._hook.__exit__(*exc)


def _constant(node, i):
    """The value of operand ``i`` of ``node`` that is not on the graph (a number, an array, None), or UNKNOWN."""
    if node in _RECORDED:
        return _RECORDED[node][0][i]
    if node.args is not None:
        return node.args[i]
    return UNKNOWN


def node_values(order, roots):
    """``({node: array}, {(node, i): value}, {key: note})``: the values of the nodes of ``order``
    (topological) and of their constant operands that can be known, and notes on values changed in
    place (chainrule.core.writes): a value written after the graph used it is left out, noted
    :data:`CHANGED`, rather than shown next to numbers computed from the old one (and nothing is
    recomputed from it); a leaf shown with the value the graph used (kept by :class:`record`) whose
    array has been written since is noted :data:`CHANGED_SINCE`."""
    values, constants, notes = {}, {}, {}
    first_use = {}  # node -> the tape position of its first consumer: writes after it change the picture
    for node in order:
        for p in node.parents:
            if p is not None and p not in first_use:
                first_use[p] = node.seq

    def offer(key, value, seq, table=values):
        if key in table:
            return
        if _changed(value, seq):
            notes[key] = CHANGED
        else:
            table[key] = value

    for t in roots:
        if t._node is not None and t._node.prim is not None:
            offer(t._node, t.data, t._node.seq)
    for node in order:
        if node in _RECORDED:
            offer(node, _RECORDED[node][1], node.seq)
        elif node.ans is not None:
            offer(node, node.ans, node.seq)
        saved = _RECORDED[node][0] if node in _RECORDED else node.args
        for i, p in enumerate(node.parents):
            if p is None:
                c = _constant(node, i)
                if c is not UNKNOWN:
                    offer((node, i), c, node.seq, constants)
            elif saved is not None:
                offer(p, np.asarray(saved[i]), node.seq)  # what the child was computed from
    for node in order:
        if node.prim is None:
            leaf = node.leaf()
            if leaf is None:
                continue
            seq = first_use.get(node, node.seq)
            if node not in values:
                offer(node, leaf.data, seq)
            elif _changed(leaf.data, seq) or leaf.data.shape != values[node].shape:
                notes[node] = CHANGED_SINCE  # shown as the graph used it (a record() copy)
            elif values[node] is not leaf.data and not np.array_equal(values[node], leaf.data, equal_nan=True):
                notes[node] = CHANGED_SINCE  # written without chainrule knowing (t.data[...] = v)
    for key in values:
        if notes.get(key) == CHANGED:
            del notes[key]  # another source (a record() copy) had the value the graph used
    for node in order:  # recompute, inputs first, what is still missing
        if node in values or node.prim is None or REGISTRY.get(node.prim.name) is not node.prim:
            continue  # a cr.Function or a checkpoint runs user code: never re-run it for a picture
        if int(np.prod(node.shape)) > MAX_RECOMPUTE:
            continue
        args = _operands(node, values, constants)
        if args is None:
            continue
        try:
            with np.errstate(all="ignore"):
                values[node] = np.asarray(node.prim.impl(*args, **(node.kw or {})))
        except Exception:  # noqa: BLE001, S112 - a picture shows what it can; the value stays unknown
            continue
    return values, constants, notes


def _operands(node, values, constants, missing=None):
    """The operands' values in order; an unknown one is ``missing``, or with ``missing=None`` the answer is None."""
    args = []
    for i, p in enumerate(node.parents):
        key = p if p is not None else (node, i)
        table = values if p is not None else constants
        if key not in table:
            if missing is None:
                return None
            args.append(missing)
            continue
        args.append(table[key])
    return args


def node_adjoints(order, roots, values, constants):
    """``{node: ∂root/∂node}``: the engine's reverse sweep over ``order``, seeded with 1 at each scalar root, run
    with the values known here (recorded, saved or recomputed) instead of the tape's, which ``backward`` may
    have freed. A node is left out when a rule on its way to the root needs a value that is no longer known
    (a rule reads exactly what its primitive saves), or is user code (a cr.Function, a checkpoint), which a
    picture never re-runs."""
    seeds = [(t._node, np.ones_like(t.data)) for t in roots if t._node is not None and t.data.size == 1]
    if not seeds:
        return {}
    reached = set(toposort([n for n, _ in seeds]))
    incomplete = set()  # nodes some of whose gradient is not known: shown without one
    for node in order:
        if node not in reached:  # no seed reaches it, so what it sends back is not known
            incomplete.update(p for p in node.parents if p is not None)

    def saved(node):
        prim = node.prim
        ans = values.get(node)
        args = _operands(node, values, constants, missing=UNKNOWN)
        usable = (
            node not in incomplete
            and REGISTRY.get(prim.name) is prim
            and not (prim.save_ans and ans is None)
            and not (prim.save_args and any(a is UNKNOWN for a in args))
            and all(_has_rule(prim, i) for i, p in enumerate(node.parents) if p is not None)
        )
        if not usable:
            incomplete.update(p for p in node.parents if p is not None)
            return None
        # arguments the primitive does not save are never read by its rules: None stands in for them
        return [None if a is UNKNOWN else a for a in args], ans

    try:
        with np.errstate(all="ignore"):
            found = sweep(seeds, order, retain_graph=True, saved=saved)
    except Exception:  # noqa: BLE001 - a picture shows what it can: then no gradient is shown
        return {}
    return {n: np.asarray(g.data if isinstance(g, Tensor) else g) for n, g in found.items()
            if g is not None and n not in incomplete}


def _has_rule(prim, i):
    try:
        prim.vjp_rule(i)
    except NotImplementedError:
        return False
    return True
