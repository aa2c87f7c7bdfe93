"""Creation functions with NumPy's signatures (plus ``requires_grad=``): tensor, zeros, ones, arange, ... and array.

``tensor`` makes a new leaf from values, as ``torch.tensor`` does; ``array``,
``asarray`` and ``copy`` are the NumPy forms behind ``chainrule.numpy``: given
Tensors (or lists of them) they keep the graph.
"""

from __future__ import annotations

import warnings

import numpy as np

from .core.tensor import Tensor, check_float_for_grad

__all__ = ["tensor", "as_tensor", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "empty_like", "arange", "linspace", "logspace", "eye", "identity", "array", "asarray", "asanyarray",
           "ascontiguousarray", "copy"]


def _make(arr, requires_grad):
    t = Tensor(arr)
    if requires_grad:
        check_float_for_grad(arr.dtype)
        t.requires_grad_(True)
    return t


def _tensors_in(data):
    """The Tensors in ``data`` (a Tensor, or nested lists and tuples of them and numbers)."""
    if isinstance(data, Tensor):
        return [data]
    if isinstance(data, (list, tuple)):
        return [t for d in data for t in _tensors_in(d)]
    return []


def _on_graph(ts):
    return any(t._node is not None or t._fw is not None for t in ts)


_DETACHED = (
    "cr.tensor(data) copies the values into a new leaf, so the graph of the Tensor(s) in data is not kept "
    "(as torch.tensor); to build a Tensor from Tensors and keep their gradients use cr.stack(...) or "
    "chainrule.numpy.array(...); pass t.detach() to silence this warning"
)


def tensor(data, dtype=None, requires_grad=False):
    """A new leaf Tensor holding a copy of ``data`` (NumPy's dtype rules: Python floats give float64).

    Like ``torch.tensor``, it copies values and never keeps a graph: Tensors inside ``data``
    are read as values (with a warning when they carry a graph or tangents). To build a Tensor
    out of Tensors and keep their gradients use ``cr.stack`` or ``chainrule.numpy.array``.

    >>> import chainrule as cr
    >>> cr.tensor([1, 2, 3]).dtype
    dtype('int64')
    >>> cr.tensor(2.0, requires_grad=True)
    tensor(2., requires_grad=True)
    """
    ts = _tensors_in(data)
    if ts:
        if _on_graph(ts):
            warnings.warn(_DETACHED, UserWarning, stacklevel=2)
        data = data.data if isinstance(data, Tensor) else _values(data)
    arr = np.array(data, dtype=dtype)  # a copy, as torch.tensor makes
    if arr.dtype == object:
        raise TypeError(f"cr.tensor: cannot make a numeric Tensor from {type(data).__name__} (object dtype)")
    return _make(arr, requires_grad)


def _values(data):
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (list, tuple)):
        return [_values(d) for d in data]
    return data


def as_tensor(data, dtype=None):
    """A Tensor sharing memory with ``data`` when possible (no copy); a Tensor of that dtype is returned as is."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    return Tensor(np.asarray(_values(data), dtype=dtype))


def _device(device):
    if device not in (None, "cpu"):
        raise ValueError(f"chainrule runs on NumPy arrays: device must be None or 'cpu', got {device!r}")


def _no_like(like):
    if like is not None:
        raise TypeError("like= is not supported: chainrule creation functions always return Tensors")


def zeros(shape, dtype=None, order="C", *, device=None, like=None, requires_grad=False):
    """Zeros of ``shape`` (float64 by default), as ``np.zeros``.

    >>> import chainrule as cr
    >>> cr.zeros((2, 3)).shape
    (2, 3)
    """
    _device(device), _no_like(like)
    return _make(np.zeros(shape, dtype=_default(dtype), order=order), requires_grad)


def ones(shape, dtype=None, order="C", *, device=None, like=None, requires_grad=False):
    """Ones of ``shape``, as ``np.ones``: ``cr.ones(3).sum().item() == 3.0``."""
    _device(device), _no_like(like)
    return _make(np.ones(shape, dtype=_default(dtype), order=order), requires_grad)


def empty(shape, dtype=None, order="C", *, device=None, like=None, requires_grad=False):
    """Zeros of ``shape`` (chainrule never hands out uninitialised memory), for ``np.empty``."""
    return zeros(shape, dtype, order, device=device, like=like, requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, order="C", *, device=None, like=None, requires_grad=False):
    """``shape`` filled with ``fill_value``, as ``np.full``: ``cr.full(2, 7.0).tolist() == [7.0, 7.0]``."""
    _device(device), _no_like(like)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.data
    return _make(np.full(shape, fill_value, dtype=dtype, order=order), requires_grad)


def _default(dtype):
    return np.float64 if dtype is None else dtype


def _data(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None, requires_grad=False):
    """Zeros with the shape and dtype of ``a``, as ``np.zeros_like`` (a constant: no graph).

    >>> import chainrule as cr
    >>> cr.zeros_like(cr.ones((2, 2), requires_grad=True)).requires_grad
    False
    """
    _device(device)
    return _make(np.zeros_like(_data(a), dtype=dtype, order=order, shape=shape), requires_grad)


def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None, requires_grad=False):
    """Ones with the shape and dtype of ``a``, as ``np.ones_like``."""
    _device(device)
    return _make(np.ones_like(_data(a), dtype=dtype, order=order, shape=shape), requires_grad)


def empty_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None, requires_grad=False):
    """Zeros with the shape and dtype of ``a``, for ``np.empty_like`` (never uninitialised memory)."""
    return zeros_like(a, dtype, order, subok, shape, device=device, requires_grad=requires_grad)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None, requires_grad=False):
    """``fill_value`` with the shape and dtype of ``a``, as ``np.full_like``."""
    _device(device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.data
    return _make(np.full_like(_data(a), fill_value, dtype=dtype, order=order, shape=shape), requires_grad)


def arange(*args, dtype=None, device=None, like=None, requires_grad=False, **kw):
    """Evenly spaced values, as ``np.arange`` (``start``, ``stop``, ``step`` positionally or by keyword).

    >>> import chainrule as cr
    >>> cr.arange(3)
    tensor([0, 1, 2])
    """
    _device(device), _no_like(like)
    return _make(np.arange(*args, dtype=dtype, **kw), requires_grad)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None,
             requires_grad=False):
    """``num`` evenly spaced values from ``start`` to ``stop``, as ``np.linspace`` (``retstep`` adds the step).

    >>> import chainrule as cr
    >>> cr.linspace(0, 1, 3)
    tensor([0. , 0.5, 1. ])
    """
    _device(device)
    out = np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    if retstep:
        return _make(out[0], requires_grad), out[1]
    return _make(out, requires_grad)


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0, *, requires_grad=False):
    """``base ** linspace(start, stop, num)``, as ``np.logspace``."""
    return _make(np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dtype, axis=axis), requires_grad)


def eye(N, M=None, k=0, dtype=None, order="C", *, device=None, like=None, requires_grad=False):
    """The identity matrix (ones on diagonal ``k``), as ``np.eye``."""
    _device(device), _no_like(like)
    return _make(np.eye(N, M, k, dtype=_default(dtype), order=order), requires_grad)


def identity(n, dtype=None, *, like=None, requires_grad=False):
    """The ``n`` × ``n`` identity matrix, as ``np.identity``."""
    return eye(n, dtype=dtype, like=like, requires_grad=requires_grad)


# ---- the NumPy conversions: Tensors in keep their graph ------------------------------
def _differentiable(x, dtype):
    """A new Tensor with ``x``'s values (and graph), cast to ``dtype`` when given."""
    from .core.shapes import cast
    from .ops.elementwise import positive

    if dtype is not None and np.dtype(dtype) != x.dtype:
        return cast(x, dtype)
    return positive(x)  # a copy on the graph, like t.copy()


def _build(obj):
    """Nested lists of Tensors and numbers as one Tensor, stacked on the graph."""
    from .ops.shape import stack

    if isinstance(obj, (list, tuple)):
        if not obj:
            return Tensor(np.zeros(0))
        return stack([_build(o) for o in obj])
    return obj if isinstance(obj, Tensor) else np.asarray(obj)


def _ndmin(t, ndmin):
    from .ops.shape import reshape

    if t.ndim >= ndmin:
        return t
    return reshape(t, (1,) * (ndmin - t.ndim) + t.shape)


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):  # noqa: A002
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
    return Tensor(np.array(object, dtype=dtype, copy=copy, order=order, ndmin=ndmin))


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
