"""``cr.func``: torch.func's functional face of a Module, for ``grad`` and ``vmap`` over its parameters."""

from __future__ import annotations

from .nn.module import Module

__all__ = ["functional_call"]


def _owner(module, name):
    """The submodule holding dotted ``name`` and the attribute's own name there."""
    *path, leaf = name.split(".")
    mod = module
    for part in path:
        child = mod._modules.get(part)
        if child is None:
            raise KeyError(f"functional_call: {name!r} names no parameter or buffer of {type(module).__name__} "
                           f"(no submodule {part!r})")
        mod = child
    if leaf in mod._parameters:
        return mod, "_parameters", leaf
    if leaf in mod._buffers:
        return mod, "_buffers", leaf
    raise KeyError(f"functional_call: {name!r} names no parameter or buffer of {type(module).__name__}; its "
                   f"names are those of named_parameters() and named_buffers()")


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *, strict=False):
    """Call ``module(*args, **kwargs)`` with its parameters and buffers replaced by the given values.

    The values (any Tensors: traced inside ``cr.grad``, batched inside ``cr.vmap``) stand in for the
    dotted names of ``named_parameters()`` / ``named_buffers()`` during this one call; the module is
    unchanged afterwards. A dict or a tuple of dicts, as torch.func's; ``strict=True`` requires every
    parameter and buffer to be given.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> lin = nn.Linear(2, 1)
    >>> params = {"weight": cr.tensor([[1.0, 2.0]]), "bias": cr.tensor([0.5])}
    >>> cr.func.functional_call(lin, params, (cr.tensor([[1.0, 1.0]]),))
    tensor([[3.5]])
    >>> g = cr.grad(lambda p, x: cr.func.functional_call(lin, p, (x,)).sum())(params, cr.tensor([[1.0, 3.0]]))
    >>> g["weight"]
    tensor([[1., 3.]])
    """
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: module must be an nn.Module, got {type(module).__name__}")
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    else:
        values = {}
        for d in parameter_and_buffer_dicts:
            clash = values.keys() & d.keys()
            if clash:
                raise ValueError(f"functional_call: {sorted(clash)} given in more than one dict")
            values.update(d)
    if strict:
        names = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        names |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
        missing = sorted(names - values.keys())
        if missing:
            raise KeyError(f"functional_call: strict=True and no value for {missing}")
    if not isinstance(args, tuple):
        args = (args,)
    saved = []
    try:
        for name, value in values.items():
            mod, table, leaf = _owner(module, name)
            saved.append((mod, table, leaf, getattr(mod, table)[leaf]))
            getattr(mod, table)[leaf] = value
            object.__setattr__(mod, leaf, value)  # forward reads self.<name> from the instance dict
        return module(*args, **(kwargs or {}))
    finally:
        for mod, table, leaf, old in reversed(saved):
            getattr(mod, table)[leaf] = old
            object.__setattr__(mod, leaf, old)
