"""Tensor: a NumPy array plus its place on the tape and any forward-mode tangents."""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from .concrete import check_concrete, warn_drop
from .hooks import register_hook as _register_hook
from .hooks import register_post_accumulate_grad_hook as _register_post_accumulate
from .hooks import retain_grad as _retain_grad
from .hooks import retains_grad as _retains_grad
from .node import Node

__all__ = ["Tensor", "wrap", "check_float_for_grad", "zero_grads"]

_FLOAT_KINDS = ("f", "c")


def check_float_for_grad(dtype, what="requires_grad"):
    if np.dtype(dtype).kind not in _FLOAT_KINDS:
        raise TypeError(
            f"{what}: only floating-point Tensors can require gradients, got dtype {np.dtype(dtype)}; "
            f"convert first, e.g. cr.tensor(x, dtype=np.float32, requires_grad=True)"
        )


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Make one with :func:`chainrule.tensor`; the array is in ``.data``.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # Everything that computes (t + u, t @ w, t.sum(), t[i] = v, t.T, ...) is bound from one table,
    # TENSOR_METHODS in ops/methods.py; NumPy's protocols are bound by chainrule/numpy.

    # _node: Node of the operation that made this value (or its leaf node);
    #        None when no gradient flows to it.
    # _fw:   {level: tangent Tensor} for live forward-mode levels, or None.
    __slots__ = ("data", "_node", "_fw", "_grad", "__weakref__")

    # Make NumPy defer to Tensor in mixed expressions (ndarray + Tensor).
    __array_priority__ = 1000.0

    def __init__(self, data, dtype=None, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        arr = np.asarray(data, dtype=dtype)
        if arr.dtype == object:
            raise TypeError(f"cr.Tensor: cannot hold a value of type {type(data).__name__} (object dtype)")
        self.data = arr
        self._node = None
        self._fw = None
        self._grad = None
        if requires_grad:
            self.requires_grad_(True)

    # ---- facts -------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return self.data.shape[0]

    # ---- the tape ----------------------------------------------------------
    @property
    def requires_grad(self):
        return self._node is not None

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        """Mark a leaf Tensor as a variable to differentiate with respect to."""
        node = self._node
        if node is not None and node.prim is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad of leaf Tensors; "
                "use .detach() to get a Tensor without a graph"
            )
        if requires_grad:
            if node is None:
                check_float_for_grad(self.data.dtype)
                self._node = Node.for_leaf(weakref.ref(self), self.data.shape, self.data.dtype)
        else:
            self._node = None
        return self

    @property
    def is_leaf(self):
        node = self._node
        return node is None or node.prim is None

    @property
    def grad(self):
        g = self._grad
        if g is None:
            node = self._node
            if node is not None and node.prim is not None and not _retains_grad(self):
                warnings.warn(
                    "The .grad attribute of a Tensor that is not a leaf is being accessed: backward does not fill "
                    "it. Call .retain_grad() on it before backward if you want its gradient, or use a leaf "
                    "(.detach().requires_grad_()) instead.", UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        # As PyTorch: a gradient has the Tensor's shape and dtype (a float64 grad on a float32
        # parameter would make the optimiser's step, and everything after it, float64).
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor(value)
            if value.dtype != self.data.dtype:
                raise TypeError(
                    f"assigned grad has dtype {value.dtype}, but the Tensor has dtype {self.data.dtype}; "
                    f"cast it first, e.g. t.grad = g.astype(np.{self.data.dtype})"
                )
            if value.shape != self.shape:
                raise ValueError(f"assigned grad has shape {value.shape}, but the Tensor has shape {self.shape}")
        self._grad = value

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` each time backward has added into this leaf's ``.grad``; returns a handle
        whose ``remove()`` unregisters it (see :func:`chainrule.core.hooks.register_post_accumulate_grad_hook`)."""
        return _register_post_accumulate(self, hook)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when backward has this Tensor's gradient; a returned Tensor replaces it. Returns a
        handle with ``remove()`` (see :func:`chainrule.core.hooks.register_hook`)."""
        return _register_hook(self, hook)

    def retain_grad(self):
        """Have backward fill this non-leaf Tensor's ``.grad`` (see :func:`chainrule.core.hooks.retain_grad`)."""
        _retain_grad(self)

    @property
    def retains_grad(self):
        """Whether ``retain_grad()`` was called on this non-leaf Tensor."""
        return _retains_grad(self)

    @property
    def grad_fn(self):
        node = self._node
        return None if node is None or node.prim is None else node

    # ---- leaving the tape --------------------------------------------------
    def detach(self):
        """The same values, cut from the graph (shares memory, like PyTorch)."""
        return wrap(self.data)

    # Each conversion to NumPy or Python raises ConcretizationError for a value a running transformation
    # traces (core/concrete.py), rather than hand it a constant that silently drops terms of the derivative.
    def numpy(self):
        """The underlying ndarray (shares memory; it is not tracked)."""
        check_concrete(self, "x.numpy()")
        return self.data

    def item(self):
        """The value of a one-element Tensor as a Python number."""
        check_concrete(self, "x.item()")
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element Tensors can be converted, this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        check_concrete(self, "x.tolist()")
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        check_concrete(self, "np.asarray(x) (or np.array, or a NumPy function given x in a list)")
        warn_drop(self)
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        if copy:
            return self.data.copy()
        return self.data

    def __float__(self):
        check_concrete(self, "float(x) (or math.sin(x) and other math functions)")
        return float(self.item())

    def __int__(self):
        check_concrete(self, "int(x)")
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer one-element Tensors can be used as an index")
        return int(self.data.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a Tensor with {self.data.size} elements is ambiguous; use .any() or .all()"
            )
        check_concrete(self, "bool(x) (an `if` or `while` on x)")
        return bool(self.data.item())

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d Tensor")
        return (self[i] for i in range(self.data.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        node = self._node
        if node is not None:
            extras.append("requires_grad=True" if node.prim is None else f"grad_fn=<{node.prim.name}>")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __reduce__(self):
        # Tensors are not pickled by chainrule (cr.save writes safetensors); this
        # keeps copy.deepcopy working for data and requires_grad alone.
        return (_rebuild, (self.data.copy(), self.is_leaf and self.requires_grad))

    def __deepcopy__(self, memo):
        out = Tensor(self.data.copy())
        if self.is_leaf and self.requires_grad:
            out.requires_grad_(True)
        memo[id(self)] = out
        return out


def zero_grads(params, set_to_none=True):
    """Reset the ``.grad`` of each Tensor in ``params``: to None (by default, as PyTorch does), or, with
    ``set_to_none=False``, to zeros where it has one. What ``Module.zero_grad`` and ``Optimizer.zero_grad`` do.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> zero_grads([w], set_to_none=False); w.grad
    tensor([0., 0.])
    >>> zero_grads([w]); w.grad is None
    True
    """
    for p in params:
        if set_to_none:
            p.grad = None
        elif p.grad is not None:
            p.grad = np.zeros_like(p.data)


def _rebuild(data, requires_grad):
    return Tensor(data, requires_grad=requires_grad)


_new = object.__new__


def wrap(data, node=None, fw=None):
    """Internal fast constructor: no conversion, no checks."""
    t = _new(Tensor)
    t.data = data
    t._node = node
    t._fw = fw
    t._grad = None
    return t
