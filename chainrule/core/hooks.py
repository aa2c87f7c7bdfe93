"""Post-accumulate-grad hooks: call a function each time backward has added into a leaf's ``.grad``."""

from __future__ import annotations

import weakref

__all__ = ["POST_ACCUMULATE", "RemovableHandle", "register_post_accumulate_grad_hook", "run_post_accumulate"]

# {leaf node: [hook, ...]}. Keyed by the node, which refers to its Tensor only weakly, so the table
# never keeps a Tensor alive; an entry leaves with its Tensor (weakref.finalize). The sweep reads
# this dict's truth value once per leaf it reaches: empty, as almost always, it costs nothing more.
POST_ACCUMULATE = {}


class RemovableHandle:
    """What registering a hook returns: ``handle.remove()`` unregisters it (a second call does nothing)."""

    __slots__ = ("_node", "_hook")

    def __init__(self, node, hook):
        self._node, self._hook = node, hook

    def remove(self):
        hooks = POST_ACCUMULATE.get(self._node)
        if hooks is None:
            return
        for k in range(len(hooks)):
            if hooks[k] is self._hook:  # by identity: two hooks may compare equal
                del hooks[k]
                break
        if not hooks:
            del POST_ACCUMULATE[self._node]


def register_post_accumulate_grad_hook(tensor, hook):
    """Call ``hook(tensor)`` each time ``backward`` has accumulated into the leaf ``tensor``'s ``.grad``.

    PyTorch's ``Tensor.register_post_accumulate_grad_hook``: the event that a parameter's gradient is
    ready, which lets data-parallel training start reducing it while the rest of backward runs. Hooks
    run in registration order, once per backward pass that reaches the leaf, after ``.grad`` holds the
    sum; ``cr.grad`` and ``cr.autograd.grad``, which return gradients instead of accumulating, call none.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> seen = []
    >>> handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.data.tolist()))
    >>> (w * w).sum().backward()
    >>> (w * 3.0).sum().backward()
    >>> seen
    [[2.0, 4.0], [5.0, 7.0]]
    >>> handle.remove()
    """
    node = tensor._node
    if node is None or node.prim is not None:
        raise RuntimeError(
            "register_post_accumulate_grad_hook: only a leaf Tensor that requires grad accumulates a .grad; "
            "create it with requires_grad=True"
        )
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: the hook must be callable, got {hook!r}")
    hooks = POST_ACCUMULATE.get(node)
    if hooks is None:
        hooks = POST_ACCUMULATE[node] = []
        weakref.finalize(tensor, POST_ACCUMULATE.pop, node, None)
    hooks.append(hook)
    return RemovableHandle(node, hook)


def run_post_accumulate(node, leaf):
    """Run the hooks registered on ``node`` (the sweep calls this after adding into ``leaf.grad``)."""
    hooks = POST_ACCUMULATE.get(node)
    if hooks:
        for hook in tuple(hooks):  # a hook may remove itself
            hook(leaf)
