"""NumPy's conversions on Tensors: ``array``, ``asarray``, ``copy`` of Tensors (or lists of them) keep the graph.

Behind ``chainrule.numpy.array`` and friends, and ``np.copy(t)``. (``cr.tensor``, by contrast,
makes a new leaf from values, as ``torch.tensor`` does.)
"""

from __future__ import annotations

import numpy as np

from ..core.tensor import Tensor
from ..creation import _device, _differentiable, _no_like, _tensors_in
from ..ops.join import stack
from ..ops.shape import reshape

__all__ = ["array", "asarray", "asanyarray", "ascontiguousarray", "copy"]


def _build(obj):
    """Nested lists of Tensors and numbers as one Tensor, stacked on the graph."""
    if isinstance(obj, (list, tuple)):
        if not obj:
            return Tensor(np.zeros(0))
        return stack([_build(o) for o in obj])
    return obj if isinstance(obj, Tensor) else np.asarray(obj)


def _ndmin(t, ndmin):
    if t.ndim >= ndmin:
        return t
    return reshape(t, (1,) * (ndmin - t.ndim) + t.shape)


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, ndmax=0, like=None):  # noqa: A002
    """A Tensor from ``object``, as ``np.array``: from a Tensor or a list holding Tensors it is a
    copy on the graph (stacked), so gradients flow back to them; from anything else a constant.

    >>> import chainrule as cr, chainrule.numpy as cnp
    >>> t = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = cnp.array([t[1], t[0] * 3])
    >>> y.sum().backward()
    >>> t.grad
    tensor([3., 1.])
    """
    _no_like(like)
    if _tensors_in(object):
        out = _differentiable(object if isinstance(object, Tensor) else _build(object), dtype)
        return _ndmin(out, ndmin)
    extra = {"ndmax": ndmax} if ndmax else {}  # NumPy >= 2.4 only
    return Tensor(np.array(object, dtype=dtype, copy=copy, order=order, ndmin=ndmin, **extra))


def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """``a`` as a Tensor, as ``np.asarray``: a Tensor is returned as it is (cast on the graph if
    ``dtype`` differs), a list holding Tensors is stacked on the graph, anything else is a constant.

    >>> import chainrule as cr, chainrule.numpy as cnp
    >>> t = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> cnp.asarray(t) is t
    True
    """
    _device(device), _no_like(like)
    if isinstance(a, Tensor):
        if copy:
            return _differentiable(a, dtype)
        if dtype is None or np.dtype(dtype) == a.dtype:
            return a
        if copy is False:
            raise ValueError("asarray: a cast to another dtype needs a copy, but copy=False was passed")
        return _differentiable(a, dtype)
    if _tensors_in(a):
        return _differentiable(_build(a), dtype)
    return Tensor(np.asarray(a, dtype=dtype, order=order, copy=copy))


def asanyarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """The same as :func:`asarray` (a Tensor is the only array type chainrule returns)."""
    return asarray(a, dtype, order, device=device, copy=copy, like=like)


def ascontiguousarray(a, dtype=None, *, like=None):
    """``a`` as a Tensor (chainrule's arrays are always contiguous), for ``np.ascontiguousarray``."""
    return asarray(a, dtype, like=like)


def copy(a, order="K", subok=False):
    """A copy of ``a`` that keeps its graph (``np.copy``; the same as ``t.copy()``).

    >>> import chainrule as cr, numpy as np
    >>> t = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> np.copy(t).requires_grad
    True
    """
    if isinstance(a, Tensor) or _tensors_in(a):
        return _differentiable(a if isinstance(a, Tensor) else _build(a), None)
    return Tensor(np.array(a, order=order, copy=True))
