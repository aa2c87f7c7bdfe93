"""Creation functions with NumPy's signatures (plus ``requires_grad=``): tensor, zeros, ones, arange, linspace, ...

``tensor`` makes a new leaf from values, as ``torch.tensor`` does. NumPy's ``array``,
``asarray`` and ``copy``, which keep the graph of Tensors given to them, are in
``chainrule.numpy.conversions``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .core.batching import Batched, make
from .core.concrete import GraphDropWarning, check_concrete
from .core.shapes import broadcast_shapes, cast, shape_of
from .core.tensor import Tensor, check_float_for_grad, wrap
from .ops.elementwise import positive, power
from .ops.join import concatenate
from .ops.shape import broadcast_to, expand_dims, moveaxis, reshape

__all__ = ["tensor", "as_tensor", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "empty_like", "arange", "linspace", "logspace", "eye", "identity"]


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


def _on_graph(ts, who):
    """Whether a Tensor of ``ts`` carries a graph or tangents (a traced one, inside a transformation, raises)."""
    for t in ts:
        check_concrete(t, f"{who}(x)")
    return any(t._node is not None or t._fw is not None for t in ts)


_DETACHED = (
    "{who}(data) copies the values into a new leaf, so the graph of the Tensor(s) in data is not kept "
    "(as torch.{who}); to build a Tensor from Tensors and keep their gradients use cr.stack(...) or "
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
        if _on_graph(ts, "cr.tensor"):
            warnings.warn(_DETACHED.format(who="cr.tensor"), GraphDropWarning, stacklevel=2)
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


def as_tensor(data, dtype=None, device=None):
    """A Tensor sharing memory with ``data`` when possible (no copy), as ``torch.as_tensor``.

    A Tensor of that dtype is returned as it is; one of another dtype is cast on the graph
    (``torch.as_tensor(t, dtype)`` is ``t.to(dtype)``). Tensors inside a list are read as values,
    with a warning when they carry a graph, as in :func:`tensor`.

    >>> import numpy as np, chainrule as cr
    >>> a = np.ones(2, np.float32)
    >>> cr.as_tensor(a).data is a
    True
    >>> cr.as_tensor(cr.tensor([1.0], requires_grad=True), np.float32).requires_grad
    True
    """
    _device(device)
    if isinstance(data, Tensor):
        if dtype is None or np.dtype(dtype) == data.dtype:
            return data
        return _differentiable(data, dtype)
    ts = _tensors_in(data)
    if ts and _on_graph(ts, "cr.as_tensor"):
        warnings.warn(_DETACHED.format(who="as_tensor"), GraphDropWarning, stacklevel=2)
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
    """``shape`` filled with ``fill_value``, as ``np.full``: ``cr.full(2, 7.0).tolist() == [7.0, 7.0]``.

    A ``fill_value`` Tensor on the graph (or carrying tangents, or batched inside ``vmap``) keeps its
    graph, as in JAX: the result is it broadcast to ``shape``.
    """
    _device(device), _no_like(like)
    if _traced(fill_value):
        return _filled(fill_value, _shape_tuple(shape), dtype, requires_grad, "full")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.data
    return _make(np.full(shape, fill_value, dtype=dtype, order=order), requires_grad)


def _shape_tuple(shape):
    return tuple(shape) if np.iterable(shape) else (int(shape),)


def _traced(x):
    """Whether ``x`` is a Tensor whose value a transform or the tape follows (not a plain constant)."""
    return isinstance(x, Tensor) and (x._node is not None or x._fw is not None or type(x) is Batched)


def _filled(fill, shape, dtype, requires_grad, who):
    """``fill`` broadcast to ``shape`` (and cast to ``dtype``) on the graph: a copy that keeps its derivatives."""
    if requires_grad:
        raise RuntimeError(
            f"{who}(..., requires_grad=True): the fill value is itself on the graph (or batched), so the "
            f"result is not a leaf; leave requires_grad out, or pass fill_value.detach()"
        )
    if broadcast_shapes(who, fill.shape, shape) != shape:
        raise ValueError(f"{who}: a fill value of shape {fill.shape} cannot fill shape {shape}")
    return _differentiable(broadcast_to(fill, shape), dtype)


def _default(dtype):
    return np.float64 if dtype is None else dtype


def _data(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _constant_like(a, value, dtype, order, shape, requires_grad):
    """``np.full_like(a, value, ...)`` for a constant ``value``; a batched ``a`` gives a batched constant.

    Inside ``vmap`` (or ``jacfwd``/``jacrev``/``hessian``) ``a`` may stand for a batch: the constant
    is then batched at the same levels, one per element, so it can be written into with the batch's
    values (``y = cr.zeros_like(x); y[0] = x[1]``), as ``torch.func.vmap`` does.
    """
    if type(a) is not Batched:
        return _make(np.full_like(_data(a), value, dtype=dtype, order=order, shape=shape), requires_grad)
    out = _batched_constant(a, a.shape if shape is None else _shape_tuple(shape), np.dtype(dtype or a.dtype), value)
    if requires_grad:
        out.requires_grad_(True)  # raises: a batched value cannot become a leaf
    return out


def _batched_constant(a, shape, dtype, value):
    """``value`` of logical ``shape``, batched at every level ``a`` is (outermost wrapper first)."""
    if type(a) is not Batched:
        return wrap(np.full(shape, value, dtype=dtype))
    return make(_batched_constant(a.val, (a.val.shape[0],) + shape, dtype, value), a.level)


def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None, requires_grad=False):
    """Zeros with the shape and dtype of ``a``, as ``np.zeros_like`` (a constant: no graph).

    >>> import chainrule as cr
    >>> cr.zeros_like(cr.ones((2, 2), requires_grad=True)).requires_grad
    False
    """
    _device(device)
    return _constant_like(a, 0, dtype, order, shape, requires_grad)


def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None, requires_grad=False):
    """Ones with the shape and dtype of ``a``, as ``np.ones_like``.

    >>> import numpy as np, chainrule as cr
    >>> cr.vmap(lambda x: x + cr.ones_like(x))(np.zeros((2, 3))).shape  # batched x: batched ones
    (2, 3)
    """
    _device(device)
    return _constant_like(a, 1, dtype, order, shape, requires_grad)


def empty_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None, requires_grad=False):
    """Zeros with the shape and dtype of ``a``, for ``np.empty_like`` (never uninitialised memory)."""
    return zeros_like(a, dtype, order, subok, shape, device=device, requires_grad=requires_grad)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None, requires_grad=False):
    """``fill_value`` with the shape and dtype of ``a``, as ``np.full_like``.

    A ``fill_value`` Tensor on the graph (or carrying tangents, or batched) keeps its graph, as in JAX.

    >>> import chainrule as cr
    >>> s = cr.tensor(2.0, requires_grad=True)
    >>> cr.full_like(cr.zeros(3), s).sum().backward()
    >>> s.grad
    tensor(3.)
    """
    _device(device)
    if _traced(fill_value):
        target = shape_of(a)
        target = target if shape is None else _shape_tuple(shape)
        out = _filled(fill_value, target, dtype or _data_dtype(a), requires_grad, "full_like")
        if type(a) is Batched:  # batched like a, whatever fill_value is
            out = out + _constant_like(a, 0, out.dtype, order, shape, False)
        return out
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.data
    return _constant_like(a, fill_value, dtype, order, shape, requires_grad)


def _data_dtype(a):
    return a.dtype if isinstance(a, Tensor) else np.asarray(a).dtype


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

    Tensor endpoints on the graph (or carrying tangents, or batched) keep it, as in JAX.

    >>> import chainrule as cr
    >>> cr.linspace(0, 1, 3)
    tensor([0. , 0.5, 1. ])
    >>> a = cr.tensor(0.0, requires_grad=True)
    >>> cr.linspace(a, 1.0, 5).sum().backward()
    >>> a.grad  # 1 - i/4 summed over i = 0..4
    tensor(2.5)
    """
    _device(device)
    if _traced(start) or _traced(stop):
        if requires_grad:
            raise RuntimeError("linspace(..., requires_grad=True): the endpoints are on the graph, so the result "
                               "is not a leaf; leave requires_grad out, or pass detached endpoints")
        return _linspace_traced(start, stop, num, endpoint, retstep, dtype, axis)
    out = np.linspace(_plain(start), _plain(stop), num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    if retstep:
        return _make(out[0], requires_grad), out[1]
    return _make(out, requires_grad)


def _plain(x):
    return x.data if isinstance(x, Tensor) else x


def _linspace_traced(start, stop, num, endpoint, retstep, dtype, axis):
    """NumPy's formula, ``start + i * step`` with the last sample ``stop`` exactly, on chainrule operations."""
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    # the working dtype from the values as given: a Python float is weak, so float32 stays float32
    work = np.result_type(*(x.dtype if isinstance(x, Tensor) else x for x in (start, stop)), 1.0)
    start, stop = (x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in (start, stop))
    start, stop = _differentiable(start, work), _differentiable(stop, work)
    shape = np.broadcast_shapes(start.shape, stop.shape)
    div = num - 1 if endpoint else num
    delta = stop - start
    step = delta / div if div > 0 else delta * np.nan
    ramp = np.arange(num, dtype=work).reshape((-1,) + (1,) * len(shape))
    y = (ramp * step if div > 0 else ramp * delta) + start
    y = broadcast_to(y, (num,) + shape)
    if endpoint and num > 1:  # as NumPy: the last sample is stop itself
        y = concatenate([y[:-1], reshape(broadcast_to(stop, shape), (1,) + shape)], axis=0)
    if axis not in (0, -y.ndim):
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        y = _differentiable(y, dtype)
    return (y, step) if retstep else y


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0, *, requires_grad=False):
    """``base ** linspace(start, stop, num)``, as ``np.logspace`` (Tensors on the graph keep it)."""
    if not (_traced(start) or _traced(stop) or _traced(base)):
        out = np.logspace(_plain(start), _plain(stop), num, endpoint=endpoint, base=_plain(base), dtype=dtype,
                          axis=axis)
        return _make(out, requires_grad)

    if requires_grad:
        raise RuntimeError("logspace(..., requires_grad=True): an argument is on the graph, so the result is not "
                           "a leaf; leave requires_grad out")
    y = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    y = y if isinstance(y, Tensor) else Tensor(y.data)
    if np.ndim(base) > 0:
        base = expand_dims(base if isinstance(base, Tensor) else Tensor(np.asarray(base)), axis)
    out = power(base, y)
    return out if dtype is None else _differentiable(out, dtype)


def eye(N, M=None, k=0, dtype=None, order="C", *, device=None, like=None, requires_grad=False):
    """The identity matrix (ones on diagonal ``k``), as ``np.eye``."""
    _device(device), _no_like(like)
    return _make(np.eye(N, M, k, dtype=_default(dtype), order=order), requires_grad)


def identity(n, dtype=None, *, like=None, requires_grad=False):
    """The ``n`` × ``n`` identity matrix, as ``np.identity``."""
    return eye(n, dtype=dtype, like=like, requires_grad=requires_grad)


def _differentiable(x, dtype):
    """A new Tensor with ``x``'s values (and graph), cast to ``dtype`` when given."""
    if dtype is not None and np.dtype(dtype) != x.dtype:
        return cast(x, dtype)
    return positive(x)  # a copy on the graph, like t.copy()
