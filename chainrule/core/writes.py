"""In-place writes: which arrays changed after the tape saved them, so backward can refuse stale values.

The tape saves arrays, not Tensors. An untracked write into a Tensor's array
(``t[i] = v`` or ``t -= v`` under ``cr.no_grad()``, on a plain Tensor, or an
optimiser step) changes the array in place, as in PyTorch and NumPy, and is
noted here with a sequence stamp. The backward pass then checks every node it
runs: if an array the node saved (or a view of the same memory) was written
after the node was made, its derivative would use the new values, so the
pass stops with an error instead of returning a silently wrong gradient
(PyTorch's "modified by an inplace operation", from its version counters).

A tracked write (on the graph, with tangents, or inside vmap) is no write at all: :func:`rebind` makes the
Tensor the result of a new operation, so the old values the tape saved stay as they were.

Nothing is noted or checked until the first such write, so a program that
never writes in place pays nothing. The check is per node and conservative:
a node is refused if any array it saved was written, even one that the
gradients asked for would not read (PyTorch tracks each saved tensor).

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> c = cr.tensor([3.0, 4.0])
>>> y = (c * x).sum()
>>> c[0] = 0.0
>>> try:
...     y.backward()
... except RuntimeError as e:
...     print(str(e)[:57])
backward: an array that 'multiply' saved for the backward
"""

from __future__ import annotations

import weakref

import numpy as np

from .node import _sequence
from .state import STATE

__all__ = ["WRITES", "note_write", "check_saved", "rebind"]

# id(root array) -> (stamp of the write, weak reference to that array). An id is
# reused only after its array is freed; the weak reference tells a new array
# with an old id apart, and a saved array is alive, so it can never be confused.
WRITES: dict[int, tuple[int, weakref.ref]] = {}
_prune_at = 4096  # grows with the live entries, so pruning stays amortised O(1) per write

_ndarray = np.ndarray


def _root(a):
    """The array that owns ``a``'s memory (views share their root's writes)."""
    while isinstance(a.base, _ndarray):
        a = a.base
    return a


def note_write(array) -> None:
    """Record that ``array``'s memory was just changed in place."""
    global _prune_at
    root = _root(array)
    if len(WRITES) >= _prune_at:
        # list() copies the items at once (under the GIL), so writes from other threads cannot
        # change the dict while it is scanned; pop(k, None) tolerates two threads pruning together
        dead = [k for k, (_, ref) in list(WRITES.items()) if ref() is None]
        for k in dead:
            WRITES.pop(k, None)
        _prune_at = max(4096, 2 * len(WRITES))
    WRITES[id(root)] = (next(_sequence), weakref.ref(root))


def _written_after(a, seq):
    root = _root(a)
    hit = WRITES.get(id(root))
    return hit is not None and hit[0] > seq and hit[1]() is root


def check_saved(node) -> None:
    """Raise if an array ``node`` saved was written in place after ``node`` was recorded."""
    seq = node.seq
    args = node.args
    if args is not None:
        for i, a in enumerate(args):
            if type(a) is _ndarray and _written_after(a, seq):
                _refuse(node, f"input {i} (shape {a.shape})")
    ans = node.ans
    if ans is not None and type(ans) is _ndarray and _written_after(ans, seq):
        _refuse(node, f"its output (shape {ans.shape})")


def _refuse(node, what):
    raise RuntimeError(
        f"backward: an array that {node.prim.name!r} saved for the backward pass, {what}, was changed in place "
        f"after it was saved (t[...] = v or an in-place operator such as -= under cr.no_grad(), an optimiser "
        f"step, load_state_dict, an nn.init function or BatchNorm's running statistics), so its gradient would "
        f"be computed from the new values. Run backward before changing it, or "
        f"compute the graph again after the change (or write into a copy: t = t.copy())"
    )


def rebind(t, out, op):
    """Make ``t`` the result ``out`` of an in-place operation ``op`` (``+=``, ``setitem``): a new node."""
    batched = hasattr(out, "val")  # a Batched result, inside vmap
    if batched and hasattr(t, "val") and out.level == t.level:  # t is batched at that level: its slots
        t.val, t.data = out.val, out.data
        return
    if batched:  # t is unbatched, or batched at an outer vmap only
        # as torch.func.vmap: an unbatched Tensor cannot come to hold a whole batch in place
        raise ValueError(
            f"{op}: inside vmap, this Tensor is not batched (at this vmap level) but the value written into it "
            f"is, so it would "
            f"have to hold the whole batch; start from a batched value instead (e.g. y = cr.zeros_like(x) "
            f"for a batched x), or compute a new value (y = y + v)"
        )
    t.data, t._fw = out.data, out._fw
    if STATE.grad:
        t._node = out._node
