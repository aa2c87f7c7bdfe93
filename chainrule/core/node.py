"""Node: one recorded operation on the tape, holding only what its rules need."""

from __future__ import annotations

import itertools

from .state import live_tangents

# A node is always created after its parents, so creation order is a topological
# order: the backward pass sorts by it instead of running a DFS (PyTorch's sequence numbers).
_sequence = itertools.count()
_next_seq = next_sequence = _sequence.__next__

__all__ = ["Node", "new_node", "next_sequence"]


class Node:
    """A vertex of the computation graph, made by :func:`new_node`.

    An operation node remembers its primitive, its parents (one entry per
    positional argument: the parent's Node, or None for constants), the
    argument arrays and output array its rules need (``args``/``ans``, with
    the arguments' forward-mode tangents in ``arg_fw`` when any were live),
    and the facts of its output (``shape``, ``dtype``) so the engine can undo
    broadcasting with ``sum_to``.

    A leaf node (``prim is None``) stands for a user Tensor created with
    ``requires_grad=True``; it reaches that Tensor through a weak reference so
    the graph never keeps user data alive and holds no reference cycle.

    The node never refers to its own output Tensor: a rule that needs the
    output gets a fresh Tensor over ``ans`` pointing back to this node, which is
    how PyTorch's saved variables avoid cycles too.

    The backward sweep (:func:`chainrule.core.backward.sweep`) frees what a
    node saved once the node's rules have run, unless ``retain_graph``: it sets
    ``args``, ``ans``, ``out_fw`` and ``arg_fw`` to None and ``freed``.
    """

    __slots__ = ("prim", "parents", "args", "kw", "ans", "out_fw", "shape", "dtype", "freed", "leaf", "seq", "arg_fw",
                 "__weakref__")

    @classmethod
    def for_leaf(cls, tensor_ref, shape, dtype):
        """The node of a user Tensor with requires_grad=True; ``tensor_ref`` is a weak reference."""
        node = new_node(None, (), None, None, None, shape, dtype, cls)
        node.leaf = tensor_ref
        return node

    def saved_args(self):
        """The saved arguments as Tensors on the graph (constants stay as they were)."""
        from .tensor import wrap  # a cycle inside core: tensor.py imports Node (a leaf Tensor makes one)

        args = self.args
        if args is None:
            return (None,) * len(self.parents)
        fws = self.arg_fw
        out = []
        for i, (a, p) in enumerate(zip(args, self.parents)):
            # only the tangents of levels still open: a closed level's tangent is dead
            fw = live_tangents(fws[i]) if fws is not None else None
            out.append(a if p is None and fw is None else wrap(a, p, fw))
        return tuple(out)

    def forget_level(self, tag):
        """Drop the saved tangents of the (closed) forward-mode level ``tag``; the innermost level left, or None."""
        outer = None
        fw = self.out_fw
        if fw is not None:
            if len(fw) == 1:  # the common case: one level
                self.out_fw = None if tag in fw else fw
            else:  # a new dict: the output Tensor shares this one
                fw = self.out_fw = {k: v for k, v in fw.items() if k != tag} or None
            if self.out_fw:
                outer = max(self.out_fw)
        fws = self.arg_fw
        if fws is not None:
            for d in fws:
                if d and (len(d) > 1 or tag not in d):
                    break
            else:  # the common case: every saved input tangent is of this level alone
                self.arg_fw = None
                return outer
            kept = tuple(None if not d or tag not in d else ({k: v for k, v in d.items() if k != tag} or None)
                         for d in fws)
            self.arg_fw = None if all(d is None for d in kept) else kept
            for d in self.arg_fw or ():
                if d:
                    outer = max(outer or 0, max(d))
        return outer

    @property
    def name(self):
        return "leaf" if self.prim is None else self.prim.name

    def __repr__(self):
        return f"<Node {self.name} shape={self.shape} dtype={self.dtype}>"


_new = object.__new__


def new_node(prim, parents, args, kw, ans, shape, dtype, cls=Node):
    """A new Node: the one constructor, for operations (``apply``) and leaves (``Node.for_leaf``) alike.

    A plain function rather than ``Node(...)``: ``apply`` makes one per recorded operation, and in
    CPython a class call with ``__init__`` costs several times a function call. ``apply`` (core/primitive.py)
    writes the same assignments out inline: a change to the fields changes both.

    >>> from chainrule.core.node import new_node
    >>> new_node(None, (), None, None, None, (2,), "float64")
    <Node leaf shape=(2,) dtype=float64>
    """
    node = _new(cls)
    node.prim = prim
    node.parents = parents
    node.args = args
    node.kw = kw
    node.ans = ans
    node.shape = shape
    node.dtype = dtype
    node.out_fw = node.arg_fw = node.leaf = None
    node.freed = False
    node.seq = _next_seq()
    return node
