"""Module hooks: ``register_forward_hook`` and ``register_full_backward_hook``, run by ``Module.__call__``."""

from __future__ import annotations

from ..core.hooks import add_node_hook
from ..core.tensor import Tensor
from ..ops.elementwise import positive

__all__ = ["ModuleHandle", "call_with_hooks"]


class ModuleHandle:
    """What registering a module hook returns: ``remove()`` unregisters it (a second call does nothing)."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        for k in range(len(self._hooks)):
            if self._hooks[k] is self._hook:
                del self._hooks[k]
                return


def _tensors(value):
    return [value] if isinstance(value, Tensor) else [v for v in value if isinstance(v, Tensor)] \
        if isinstance(value, (tuple, list)) else []


class _Backward:
    """One call's bookkeeping: the gradients of the module's outputs and inputs as the sweep delivers them.

    Inputs and outputs pass through an identity operation each, so that the hooks see only the gradient
    flowing through this module. The sweep visits nodes newest first: the outputs' gradients arrive
    before any input's, and input 0's identity (made first) is reached last, when every other input's
    gradient is known; the user's hooks run then, and a tuple they return replaces input 0's gradient
    (PyTorch's single-input case; the other inputs' gradients have flowed on already).
    """

    def __init__(self, module, n_in, n_out, wanted):
        self.module = module
        self.grad_input = [None] * n_in
        self.grad_output = [None] * n_out
        self.wanted = wanted  # indices of inputs on the graph

    def output_hook(self, k, last):
        def hook(g):
            self.grad_output[k] = g
            if last and not self.wanted:  # no input requires grad: the hooks run with the outputs' gradients
                self.run()
            return None

        return hook

    def input_hook(self, i):
        def hook(g):
            self.grad_input[i] = g
            if i == self.wanted[0]:
                out = self.run()
                if out is not None:
                    return out[i]
            return None

        return hook

    def run(self):
        result = None
        for hook in tuple(self.module._backward_hooks):
            r = hook(self.module, tuple(self.grad_input), tuple(self.grad_output))
            if r is not None:
                r = tuple(r)
                if len(r) != len(self.grad_input):
                    raise RuntimeError(f"{type(self.module).__name__} backward hook returned {len(r)} gradients for "
                                       f"{len(self.grad_input)} inputs")
                self.grad_input = list(r)
                result = r
        return result


def call_with_hooks(module, args, kwargs):
    """``module.forward(*args, **kwargs)`` with its forward and full backward hooks."""
    state = None
    if module._backward_hooks:
        wanted = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a._node is not None]
        args = tuple(positive(a) if i in wanted else a for i, a in enumerate(args))
        wanted = [i for i in wanted if args[i]._node is not None]  # under no_grad nothing is recorded
        state = _Backward(module, len(args), 0, wanted)
        for i in wanted:
            add_node_hook(args[i]._node, state.input_hook(i))
    out = module.forward(*args, **kwargs)
    for hook in tuple(module._forward_hooks):
        r = hook(module, args, out)
        if r is not None:
            out = r
    if state is not None:
        single = isinstance(out, Tensor)
        outs = [positive(o) if isinstance(o, Tensor) and o._node is not None else o
                for o in ([out] if single else out)] if single or isinstance(out, (tuple, list)) else [out]
        state.grad_output = [None] * len(outs)
        on_graph = [k for k, o in enumerate(outs) if isinstance(o, Tensor) and o._node is not None]
        for k in on_graph:
            add_node_hook(outs[k]._node, state.output_hook(k, k == on_graph[0]))
        out = outs[0] if single else type(out)(outs) if isinstance(out, (tuple, list)) else out
    return out
