"""Pytrees: nested tuples, lists and dicts of leaves (floats, arrays, Tensors), flattened and rebuilt."""

from __future__ import annotations

__all__ = ["TreeDef", "tree_flatten", "tree_leaves", "tree_map", "tree_unflatten"]


class TreeDef:
    """The shape of a pytree without its leaves: what ``tree_unflatten`` needs to rebuild it.

    ``kind`` is ``"leaf"``, ``"none"``, ``"tuple"``, ``"list"``, ``"dict"`` or
    ``"namedtuple"``; ``meta`` holds the dict keys or the namedtuple class.
    """

    __slots__ = ("children", "kind", "meta", "num_leaves")

    def __init__(self, kind, meta, children):
        self.kind = kind
        self.meta = meta
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __eq__(self, other):
        return (isinstance(other, TreeDef) and self.kind == other.kind and self.meta == other.meta
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.num_leaves))

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = ", ".join(map(repr, self.children))
        if self.kind == "dict":
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.meta, self.children))
            return "{" + inner + "}"
        return ("[" + inner + "]") if self.kind == "list" else ("(" + inner + ")")


_LEAF = TreeDef("leaf", None, ())
_NONE = TreeDef("none", None, ())


def _sorted_keys(d):
    # JAX sorts dict keys, so {a, b} and {b, a} flatten alike; unsortable keys keep their order.
    try:
        return sorted(d)
    except TypeError:
        return list(d)


def _flatten(tree, leaves):
    if tree is None:
        return _NONE
    t = type(tree)
    if t is tuple or t is list:
        return TreeDef(t.__name__, None, tuple(_flatten(c, leaves) for c in tree))
    if t is dict:
        keys = _sorted_keys(tree)
        return TreeDef("dict", tuple(keys), tuple(_flatten(tree[k], leaves) for k in keys))
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return TreeDef("namedtuple", t, tuple(_flatten(c, leaves) for c in tree))
    leaves.append(tree)
    return _LEAF


def tree_flatten(tree):
    """``(leaves, treedef)``: the leaves in a fixed order and the structure to rebuild from them.

    >>> from chainrule.transforms.pytree import tree_flatten, tree_unflatten
    >>> leaves, td = tree_flatten({"b": (1.0, 2.0), "a": [3.0]})
    >>> leaves
    [3.0, 1.0, 2.0]
    >>> tree_unflatten(td, [x * 10 for x in leaves])
    {'a': [30.0], 'b': (10.0, 20.0)}
    """
    leaves = []
    treedef = _flatten(tree, leaves)
    return leaves, treedef


def _build(td, it):
    kind = td.kind
    if kind == "leaf":
        return next(it)
    if kind == "none":
        return None
    children = [_build(c, it) for c in td.children]
    if kind == "tuple":
        return tuple(children)
    if kind == "list":
        return children
    if kind == "dict":
        return dict(zip(td.meta, children))
    return td.meta(*children)


def tree_unflatten(treedef, leaves):
    """The pytree of structure ``treedef`` holding ``leaves`` (in ``tree_flatten``'s order)."""
    leaves = list(leaves)
    if treedef.kind == "leaf" and len(leaves) == 1:  # a single value: no structure to build
        return leaves[0]
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"tree_unflatten: the structure {treedef!r} has {treedef.num_leaves} leaves, "
                         f"got {len(leaves)}")
    return _build(treedef, iter(leaves))


def tree_leaves(tree):
    """The leaves of ``tree``, in order."""
    return tree_flatten(tree)[0]


def tree_map(fn, tree, *rest):
    """Apply ``fn`` leaf by leaf to ``tree`` (and to the matching leaves of ``rest``), keeping the structure.

    >>> from chainrule.transforms.pytree import tree_map
    >>> tree_map(lambda a, b: a + b, (1, [2]), (10, [20]))
    (11, [22])
    """
    leaves, td = tree_flatten(tree)
    others = []
    for r in rest:
        rl, rtd = tree_flatten(r)
        if rtd != td:
            raise ValueError(f"tree_map: structures differ: {td!r} and {rtd!r}")
        others.append(rl)
    return tree_unflatten(td, [fn(*xs) for xs in zip(leaves, *others)])
