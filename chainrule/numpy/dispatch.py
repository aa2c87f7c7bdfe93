"""NumPy's protocols on Tensor: ``np.exp(t)``, ``a + t``, ``np.sum(t)`` run chainrule primitives and record."""

from __future__ import annotations

import numpy as np

from .. import creation
from ..core.shapes import cast
from ..core.state import live_tangents
from ..core.tensor import Tensor
from .conversions import copy

__all__ = ["array_ufunc", "array_function", "NUMPY_FUNCTIONS", "UFUNCS"]

# NumPy name -> chainrule name where they differ.
_RENAMED = {"absolute": "abs", "true_divide": "divide", "amax": "max", "amin": "min", "around": "round",
            "round_": "round", "concat": "concatenate", "permute_dims": "transpose", "pow": "power",
            "fabs": "abs"}

# Functions that only read facts or compare values (shapes, booleans, indices, text): run on the arrays,
# return NumPy results, whatever graph their arguments are on (nothing differentiable is lost).
_PLAIN = {np.shape, np.ndim, np.size, np.result_type, np.allclose, np.isclose, np.array_equal,
          np.array_equiv, np.argsort, np.nonzero, np.argwhere, np.flatnonzero, np.searchsorted,
          np.iscomplexobj, np.isrealobj, np.may_share_memory, np.shares_memory, np.array2string, np.array_repr,
          np.array_str, np.digitize, np.lexsort}
# Functions whose results are values computed from the data (np.unique's values, np.histogram's bin edges
# and weighted counts, np.bincount's weighted sums) but that have no derivative rule: plain Tensors pass
# through to NumPy as above; a Tensor on the graph or carrying tangents raises TypeError naming the
# function, since the result would silently drop its derivatives.
_VALUES = {np.unique, np.histogram, np.bincount} | {
    getattr(np, name) for name in ("unique_values", "unique_counts", "unique_inverse", "unique_all")
    if hasattr(np, name)  # NumPy >= 2.0
}

UFUNCS: dict = {}
NUMPY_FUNCTIONS: dict = {}
_REDUCERS = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min", "logaddexp": "logsumexp"}
_ACCUMULATORS = {"add": "cumsum"}
_NAMESPACE: dict = {}


def bind(namespace):
    """Fill the dispatch tables from chainrule's public namespace (called once when chainrule loads)."""
    _NAMESPACE.update(namespace)
    for name in dir(np):
        obj = getattr(np, name)
        ours = namespace.get(_RENAMED.get(name, name))
        if ours is None:
            continue
        if isinstance(obj, np.ufunc):
            UFUNCS[obj] = ours
        elif callable(obj):
            NUMPY_FUNCTIONS[obj] = ours
    for name in ("norm", "det", "inv", "solve"):
        if name in namespace and hasattr(np.linalg, name):
            NUMPY_FUNCTIONS[getattr(np.linalg, name)] = namespace[name]
    for like in ("zeros_like", "ones_like", "full_like", "empty_like"):
        NUMPY_FUNCTIONS.pop(getattr(np, like), None)


def _no_rule(what):
    return TypeError(
        f"{what} has no chainrule derivative rule, so it cannot be applied to a Tensor without dropping "
        f"the graph; use a chainrule operation instead, or call it on t.detach().numpy() if you do not "
        f"need gradients"
    )


def _check_out(name, kwargs):
    out = kwargs.pop("out", None)
    if out is not None and not (isinstance(out, tuple) and all(o is None for o in out)):
        raise TypeError(
            f"np.{name}(..., out=...): chainrule cannot write into an existing array or Tensor; "
            f"assign the result instead (y = np.{name}(...))"
        )


def _check_call(name, kwargs):
    """A ufunc call's keywords: ``out`` refused, ``dtype`` returned (the inputs are cast to it), the others
    accepted only at their defaults."""
    _check_out(name, kwargs)
    dtype = kwargs.pop("dtype", None)
    for key in ("where", "casting", "order", "subok", "signature"):
        val = kwargs.pop(key, None)
        default = {"where": True, "casting": "same_kind", "order": "K", "subok": True}.get(key)
        if val is not None and val is not default and not (isinstance(val, (bool, str)) and val == default):
            raise TypeError(f"np.{name}(..., {key}={val!r}) is not supported on Tensors")
    return dtype


def _cast_inputs(inputs, dtype):
    return tuple([cast(x, dtype) if isinstance(x, Tensor) else np.asarray(x, dtype=dtype) for x in inputs])


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``Tensor.__array_ufunc__``: route a ufunc call or reduction to its primitive."""
    name = ufunc.__name__
    if method == "__call__":
        dtype = _check_call(name, kwargs)
        fn = UFUNCS.get(ufunc)
        if fn is None:
            raise _no_rule(f"np.{name}")
        if dtype is not None:
            inputs = _cast_inputs(inputs, dtype)
        return fn(*inputs, **kwargs)
    if method in ("reduce", "accumulate"):
        _check_out(f"{name}.{method}", kwargs)
        table = _REDUCERS if method == "reduce" else _ACCUMULATORS
        fn = _NAMESPACE.get(table.get(name, ""))
        if fn is None or len(inputs) != 1:
            raise _no_rule(f"np.{name}.{method}")
        (x,) = inputs
        axis = kwargs.pop("axis", 0)
        dtype = kwargs.pop("dtype", None)
        if dtype is not None:
            (x,) = _cast_inputs((x,), dtype)
        if method == "accumulate":
            return fn(x, axis=axis)
        keepdims = kwargs.pop("keepdims", False)
        initial = kwargs.pop("initial", np._NoValue)
        where = kwargs.pop("where", True)
        if name == "logaddexp":  # logsumexp takes neither
            if initial is not np._NoValue or where is not True:
                raise TypeError("np.logaddexp.reduce(..., initial=/where=) is not supported on Tensors")
            return fn(x, axis=axis, keepdims=keepdims)
        return fn(x, axis=axis, keepdims=keepdims, initial=initial, where=where)
    raise _no_rule(f"np.{name}.{method}")


def _traced(obj):
    """Whether ``obj`` holds a Tensor on the graph or carrying tangents (in lists, tuples and dicts too)."""
    if isinstance(obj, Tensor):
        return obj._node is not None or live_tangents(obj._fw) is not None
    if isinstance(obj, (list, tuple)):
        return any(_traced(o) for o in obj)
    if isinstance(obj, dict):
        return any(_traced(o) for o in obj.values())
    return False


def _to_arrays(obj):
    if isinstance(obj, Tensor):
        return obj.data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_arrays(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_arrays(v) for k, v in obj.items()}
    return obj


_CREATION_ROUTED = ("zeros_like", "ones_like", "full_like", "empty_like", "copy", "linspace", "logspace")


def _creation(name):
    if name == "copy":
        return copy

    return getattr(creation, name)


def array_function(self, func, types, args, kwargs):
    """``Tensor.__array_function__``: route ``np.sum(t)``, ``np.where(c, t, 0)``, ... to chainrule."""
    fn = NUMPY_FUNCTIONS.get(func)
    if fn is not None:
        return fn(*args, **kwargs)
    if func in _PLAIN:
        return func(*_to_arrays(args), **_to_arrays(kwargs))
    if func in _VALUES:
        if _traced(args) or _traced(kwargs):
            raise _no_rule(_qualified(func))
        return func(*_to_arrays(args), **_to_arrays(kwargs))
    like = func.__name__
    if like in _CREATION_ROUTED:
        # constants of a Tensor's shape; np.copy(t), a copy on the graph as t.copy(); np.linspace(t0, t1)
        return _creation(like)(*args, **kwargs)
    raise _no_rule(_qualified(func))


def _qualified(func):
    """``np.sort``, ``np.linalg.eig``, ``np.fft.fft``: the name a user typed."""
    module = getattr(func, "__module__", "numpy") or "numpy"
    parts = [p for p in module.split(".") if p and not p.startswith("_")]
    parts[0] = "np" if parts and parts[0] == "numpy" else (parts[0] if parts else "np")
    if len(parts) > 1 and parts[1] == "core":
        parts = parts[:1]
    return ".".join(parts + [func.__name__])
