"""Module and Parameter: PyTorch's containers of learnable state, with dotted names and state dicts."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from ..core.tensor import Tensor, check_float_for_grad, wrap, zero_grads
from ..core.writes import note_write
from .hooks import ModuleHandle, call_with_hooks

__all__ = ["Module", "Parameter"]


def _type_name(value):
    """``torch.Tensor`` rather than a bare ``Tensor``, so that two libraries' Tensors are told apart in errors."""
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _as_array(key, value):
    """A state-dict value as an ndarray: arrays, Tensors, numbers, or anything with ``__array__`` (a torch Tensor)."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        return np.asarray(value)
    if hasattr(value, "__array__"):
        try:
            return np.asarray(value)
        except Exception as e:  # e.g. a torch Tensor on a GPU, or one that requires grad
            raise TypeError(
                f"load_state_dict: value for {key!r} ({_type_name(value)}) could not be read as a NumPy array: {e}"
            ) from e
    raise TypeError(
        f"load_state_dict: value for {key!r} must be an array, a Tensor or have __array__, got {_type_name(value)}"
    )


def _fits(source, target):
    """Whether values of dtype ``source`` may be copied into an array of dtype ``target`` by load_state_dict.

    Numbers only (no objects, strings or dates), and no cast to a lesser kind (float into int, complex into
    float); a float64 checkpoint loads into float32 parameters, as in PyTorch.

    >>> _fits(np.dtype("float64"), np.dtype("float32")), _fits(np.dtype("float32"), np.dtype("int64"))
    (True, False)
    """
    numeric = source.kind not in "OUSMmV" or source.name == "bfloat16"  # (ml_dtypes' bfloat16 is kind V)
    return numeric and np.can_cast(source, target, "same_kind")


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight: a leaf with ``requires_grad=True``.

    An ndarray or Tensor is used as it is (memory shared, dtype kept, as
    ``torch.nn.Parameter`` does); Python numbers and lists become float32, the
    library's default for parameters.

    >>> import numpy as np
    >>> from chainrule.nn import Parameter
    >>> w = Parameter(np.zeros((2, 3), dtype=np.float32))
    >>> w.requires_grad, w.is_leaf, w.shape
    (True, True, (2, 3))
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, np.ndarray):
            arr = data
        else:
            arr = np.asarray(data)
            if arr.dtype == np.float64:
                arr = arr.astype(np.float32)  # Python floats: the float32 default, as in PyTorch
        if requires_grad:
            check_float_for_grad(arr.dtype, "Parameter")
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self):
        return (Parameter, (self.data.copy(), self.requires_grad))

    def __deepcopy__(self, memo):
        out = Parameter(self.data.copy(), requires_grad=self.requires_grad)
        memo[id(self)] = out
        return out


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _as_buffer(value, name):
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor(value)
    raise TypeError(f"buffer {name!r} must be a Tensor, a NumPy array or None, got {type(value).__name__}")


class Module:
    """Base class of every layer and model: holds Parameters, buffers and sub-modules.

    Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it,
    so ``named_parameters()`` and ``state_dict()`` find it under a dotted name
    (``"0.weight"``, ``"encoder.fc.bias"``), exactly as in PyTorch.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    >>> model(cr.zeros((5, 4), dtype="float32")).shape
    (5, 2)
    """

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); subclasses of Module define it")

    _forward_hooks = _backward_hooks = ()  # made lists on a module's first registration

    def __call__(self, *args, **kwargs):
        if self._forward_hooks or self._backward_hooks:
            return call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after each forward; a value it returns replaces the output.
        Returns a handle whose ``remove()`` unregisters it."""
        if not self._forward_hooks:
            object.__setattr__(self, "_forward_hooks", [])
        self._forward_hooks.append(hook)
        return ModuleHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook):
        """Call ``hook(module, grad_input, grad_output)`` when backward has the gradients of this call's
        positional Tensor inputs and of its outputs (None where there is none); a tuple it returns replaces
        ``grad_input`` (see ``chainrule.nn.hooks``). Returns a handle whose ``remove()`` unregisters it.

        >>> import chainrule as cr
        >>> from chainrule import nn
        >>> layer = nn.Linear(2, 1, bias=False)
        >>> seen = []
        >>> h = layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi[0].shape, go[0].shape)))
        >>> layer(cr.ones((3, 2), requires_grad=True)).sum().backward()
        >>> seen
        [((3, 2), (3, 1))]
        """
        if not self._backward_hooks:
            object.__setattr__(self, "_backward_hooks", [])
        self._backward_hooks.append(hook)
        return ModuleHandle(self._backward_hooks, hook)

    # ---- registration ----------------------------------------------------------
    # Registered values live both in their table (for traversal) and in the
    # instance __dict__ (so `self.weight` in forward is a plain attribute read).
    def _check_init(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign parameters or sub-modules before Module.__init__() is called "
                f"(call super().__init__() first in {type(self).__name__}.__init__)"
            )

    def _forget(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        self._non_persistent.discard(name)

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._check_init()
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._check_init()
            self._forget(name)
            self._modules[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} (a Parameter or None is required)"
                )
            self._parameters[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            self._buffers[name] = value = _as_buffer(value, name)
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r}")
            self._modules[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if "_parameters" in self.__dict__:
            self._forget(name)
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Add ``param`` (a Parameter or None) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._check_init()
        self._forget(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Add a non-learnable state Tensor (e.g. running statistics); persistent ones go in the state dict."""
        self._check_init()
        self._forget(name)
        self._buffers[name] = tensor = _as_buffer(tensor, name)
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        """Add a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        if not isinstance(name, str) or "." in name or not name:
            raise KeyError(f"add_module: module name must be a non-empty string without '.', got {name!r}")
        self._check_init()
        self._forget(name)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # ---- traversal -------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(dotted name, module)`` for this module and every descendant, parents first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        """This module and every descendant."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """``(name, module)`` for the direct children."""
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self):
        """The direct children."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, table, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in getattr(mod, table).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, Parameter)`` pairs; a Parameter shared by two layers is listed once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every Parameter, in registration order (what an optimiser is given)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, buffer Tensor)`` pairs."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- state dicts -----------------------------------------------------------
    def _state_items(self):
        """(dotted name, owning module, attribute name, Tensor) for every entry of the state dict."""
        for mod_prefix, mod in self.named_modules(remove_duplicate=False):
            for table in ("_parameters", "_buffers"):
                for name, value in getattr(mod, table).items():
                    if value is None or (table == "_buffers" and name in mod._non_persistent):
                        continue
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), mod, name, value

    def state_dict(self, prefix="", keep_vars=False):
        """An ordered dict of dotted name -> Tensor: parameters and persistent buffers.

        Values share memory with the module (like PyTorch); pass the dict to
        ``cr.save`` to write it, to ``load_state_dict`` to copy it back.

        >>> from chainrule import nn
        >>> list(nn.BatchNorm1d(3).state_dict())
        ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
        """
        out = OrderedDict()
        for name, _, _, value in self._state_items():
            out[prefix + name] = value if keep_vars else wrap(value.data)
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into this module's parameters and buffers, in place.

        Keys must match ``state_dict()``'s (with ``strict=True``, the default,
        missing or unexpected keys are an error) and every shape must match.
        Values may be NumPy arrays, Tensors or anything NumPy can read through
        ``__array__``, such as a ``torch.nn.Module.state_dict()``'s tensors.
        Nothing is changed unless the whole dict is valid. Returns
        ``(missing_keys, unexpected_keys)``.

        >>> from chainrule import nn
        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> b.load_state_dict(a.state_dict())
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        >>> bool((a.weight.data == b.weight.data).all())
        True
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a dict of name -> array, got {type(state_dict).__name__}")
        own = {name: value for name, _, _, value in self._state_items()}
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems, type_problems = [], []
        values = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            try:
                arr = _as_array(key, state_dict[key])
            except TypeError as e:
                type_problems.append(str(e))
                continue
            if arr.shape != target.shape:
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {arr.shape} from checkpoint, "
                    f"the shape in current model is {target.shape}."
                )
            if not _fits(arr.dtype, target.dtype):
                problems.append(
                    f"dtype mismatch for {key}: cannot copy {arr.dtype} into the model's {target.dtype} "
                    f"(numbers of the same kind or narrower only: bool, int, float)."
                )
            values[key] = arr
        if strict:
            if missing:
                problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                problems.insert(
                    1 if missing else 0,
                    "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".",
                )
        if type_problems:  # a value that is no array at all; the message still lists every other problem
            raise TypeError("\n\t".join(type_problems + problems))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems)
            )
        # every value was checked above, so none of these copies can fail half way
        for key, arr in values.items():
            target = own[key]
            target.data[...] = arr  # in place: optimisers keep referring to the same arrays
            note_write(target.data)  # a graph recorded before the load must not backpropagate the new values
        return _IncompatibleKeys(missing, unexpected)

    # ---- modes and gradients ---------------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout active, BatchNorm uses batch statistics) on this module and all below."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Reset the ``.grad`` of every parameter (to None by default, as PyTorch does)."""
        zero_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording on or off for every parameter (freezing layers)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant, then on this module; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, dtype):
        """Convert floating-point parameters and buffers to ``dtype`` in place (``model.to(np.float64)``)."""
        dtype = np.dtype(dtype)
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None and p.dtype.kind == "f" and p.dtype != dtype:
                    flag = p.requires_grad
                    p.requires_grad_(False)  # the leaf's node records the dtype: make a fresh one
                    p.data = p.data.astype(dtype)
                    p.grad = None
                    p.requires_grad_(flag)
            for b in m._buffers.values():
                if b is not None and b.dtype.kind == "f":
                    b.data = b.data.astype(dtype)
        return self

    def float(self):
        """Parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self):
        """Parameters and buffers to float64 (useful for finite-difference checks)."""
        return self.to(np.float64)

    # ---- printing --------------------------------------------------------------
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        main = type(self).__name__ + "("
        if not lines:
            return main + ")"
        if len(lines) == 1 and not self._modules:
            return main + lines[0] + ")"
        return main + "\n  " + "\n  ".join(lines) + "\n)"
