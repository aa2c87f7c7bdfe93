"""Creation functions: tensor, zeros, ones, full, arange, linspace, eye and their _like forms."""

from __future__ import annotations

import numpy as np

from .core.tensor import Tensor, check_float_for_grad

__all__ = ["tensor", "as_tensor", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "arange", "linspace", "eye"]


def _make(arr, requires_grad):
    t = Tensor(arr)
    if requires_grad:
        check_float_for_grad(arr.dtype)
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad=False):
    """A new Tensor holding a copy of ``data`` (NumPy's dtype rules: Python floats give float64).

    >>> import chainrule as cr
    >>> cr.tensor([1, 2, 3]).dtype
    dtype('int64')
    >>> cr.tensor(2.0, requires_grad=True)
    tensor(2., requires_grad=True)
    """
    if isinstance(data, Tensor):
        data = data.data
    elif isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        data = [np.asarray(d) for d in data]
    arr = np.array(data, dtype=dtype)  # a copy, as torch.tensor makes
    if arr.dtype == object:
        raise TypeError(f"cr.tensor: cannot make a numeric Tensor from {type(data).__name__} (object dtype)")
    return _make(arr, requires_grad)


def as_tensor(data, dtype=None):
    """A Tensor sharing memory with ``data`` when possible (no copy)."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    return Tensor(np.asarray(data, dtype=dtype))


def _default(dtype):
    return np.float64 if dtype is None else dtype


def zeros(shape, dtype=None, requires_grad=False):
    """Zeros of ``shape`` (float64 by default, as NumPy).

    >>> import chainrule as cr
    >>> cr.zeros((2, 3)).shape
    (2, 3)
    """
    return _make(np.zeros(shape, dtype=_default(dtype)), requires_grad)


def ones(shape, dtype=None, requires_grad=False):
    """Ones of ``shape``."""
    return _make(np.ones(shape, dtype=_default(dtype)), requires_grad)


def empty(shape, dtype=None, requires_grad=False):
    """Zeros of ``shape`` (chainrule never hands out uninitialised memory)."""
    return zeros(shape, dtype, requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """``shape`` filled with ``fill_value``."""
    return _make(np.full(shape, fill_value, dtype=dtype), requires_grad)


def _data(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def zeros_like(x, dtype=None, requires_grad=False):
    """Zeros with the shape and dtype of ``x``."""
    return _make(np.zeros_like(_data(x), dtype=dtype), requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    """Ones with the shape and dtype of ``x``."""
    return _make(np.ones_like(_data(x), dtype=dtype), requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    """``fill_value`` with the shape and dtype of ``x``."""
    return _make(np.full_like(_data(x), fill_value, dtype=dtype), requires_grad)


def arange(*args, dtype=None, requires_grad=False):
    """Evenly spaced values, as ``np.arange``.

    >>> import chainrule as cr
    >>> cr.arange(3)
    tensor([0, 1, 2])
    """
    return _make(np.arange(*args, dtype=dtype), requires_grad)


def linspace(start, stop, num=50, endpoint=True, dtype=None, requires_grad=False):
    """``num`` evenly spaced values from ``start`` to ``stop``, as ``np.linspace``."""
    return _make(np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype), requires_grad)


def eye(N, M=None, k=0, dtype=None, requires_grad=False):
    """The identity matrix, as ``np.eye``."""
    return _make(np.eye(N, M, k, dtype=_default(dtype)), requires_grad)
