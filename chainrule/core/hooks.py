"""Gradient hooks: on a Tensor's gradient as the sweep completes it (``register_hook``, ``retain_grad``), and
after backward has added into a leaf's ``.grad`` (post-accumulate)."""

from __future__ import annotations

import weakref

__all__ = ["POST_ACCUMULATE", "TENSOR_HOOKS", "RemovableHandle", "add_node_hook", "register_hook",
           "register_post_accumulate_grad_hook", "retain_grad", "retains_grad", "run_post_accumulate",
           "run_tensor_hooks"]

# {leaf node: [hook, ...]}. Keyed by the node, which refers to its Tensor only weakly, so the table
# never keeps a Tensor alive; an entry leaves with its Tensor (weakref.finalize). The sweep reads
# this dict's truth value once per leaf it reaches: empty, as almost always, it costs nothing more.
POST_ACCUMULATE = {}
# {node: [hook, ...]}: hooks on the gradient of the value a node stands for, leaf or not. Weakly keyed, so a
# hook lives as long as the node: with a leaf's Tensor, or with the graph of an intermediate value (PyTorch
# keeps them on the grad_fn). The sweep tests its truth value once per pass.
TENSOR_HOOKS = weakref.WeakKeyDictionary()


class RemovableHandle:
    """What registering a hook returns: ``handle.remove()`` unregisters it (a second call does nothing)."""

    __slots__ = ("_node", "_hook", "_table")

    def __init__(self, node, hook, table=POST_ACCUMULATE):
        self._node, self._hook, self._table = node, hook, table

    def remove(self):
        hooks = self._table.get(self._node)
        if hooks is None:
            return
        for k in range(len(hooks)):
            if hooks[k] is self._hook:  # by identity: two hooks may compare equal
                del hooks[k]
                break
        if not hooks:
            del self._table[self._node]


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


def add_node_hook(node, hook):
    """Register ``hook(grad)`` on ``node``'s gradient (``register_hook`` without a Tensor: module hooks)."""
    hooks = TENSOR_HOOKS.get(node)
    if hooks is None:
        hooks = TENSOR_HOOKS[node] = []
    hooks.append(hook)
    return RemovableHandle(node, hook, TENSOR_HOOKS)


def register_hook(tensor, hook):
    """Call ``hook(grad)`` when backward has this Tensor's gradient; a Tensor it returns replaces the gradient.

    PyTorch's ``Tensor.register_hook``: on a leaf or an intermediate value, once per pass that reaches it,
    before the gradient flows on (or into a leaf's ``.grad``); ``cr.autograd.grad`` runs them too.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x * 3.0
    >>> handle = y.register_hook(lambda g: g * 10.0)
    >>> y.sum().backward()
    >>> x.grad
    tensor([30., 30.])
    >>> handle.remove()
    """
    if tensor._node is None:
        raise RuntimeError("register_hook: cannot register a hook on a Tensor that does not require grad; create "
                           "it with requires_grad=True or compute it from one")
    if not callable(hook):
        raise TypeError(f"register_hook: the hook must be callable, got {hook!r}")
    return add_node_hook(tensor._node, hook)


class _Retain:
    """The hook ``retain_grad`` adds: keeps a non-leaf's gradient in its ``.grad``, after the user's hooks."""

    __slots__ = ("ref",)

    def __init__(self, tensor):
        self.ref = weakref.ref(tensor)

    def __call__(self, grad):
        t = self.ref()
        if t is not None:
            if grad._node is None:
                grad = grad.copy()  # the sweep may add into its array later; .grad must not change with it
            t._grad = grad if t._grad is None else t._grad + grad
        return None


def retain_grad(tensor):
    """Make backward fill the non-leaf ``tensor``'s ``.grad`` (a leaf's is filled anyway).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x * x
    >>> y.retain_grad()
    >>> y.sum().backward()
    >>> y.grad
    tensor([1., 1.])
    """
    node = tensor._node
    if node is None:
        raise RuntimeError("retain_grad: the Tensor does not require grad, so it has no gradient to keep")
    if node.prim is None or retains_grad(tensor):
        return
    add_node_hook(node, _Retain(tensor))


def retains_grad(tensor):
    """Whether ``retain_grad`` was called on the non-leaf ``tensor``."""
    hooks = TENSOR_HOOKS.get(tensor._node) if tensor._node is not None else None
    return bool(hooks) and any(type(h) is _Retain and h.ref() is tensor for h in hooks)


def run_tensor_hooks(node, g, wrap):
    """``g`` after the hooks on ``node`` (the sweep calls this when ``node``'s gradient is complete)."""
    hooks = TENSOR_HOOKS.get(node)
    if not hooks:
        return g
    raw = not hasattr(g, "_node")
    t = wrap(g) if raw else g
    for hook in sorted(hooks, key=lambda h: type(h) is _Retain):  # retain_grad sees the final gradient
        out = hook(t)
        if out is not None:
            shape = tuple(getattr(out, "shape", ()))
            if shape != tuple(node.shape):
                raise RuntimeError(f"register_hook: the hook returned a gradient of shape {shape}, but the value has "
                                   f"shape {tuple(node.shape)}")
            t = out if hasattr(out, "_node") else wrap(out)
    return t.data if raw else t
