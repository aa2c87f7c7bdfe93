"""NumPy's protocols on Tensor: ``np.exp(t)``, ``a + t``, ``np.sum(t)`` run chainrule primitives and record."""

from __future__ import annotations

import numpy as np

from ..core.tensor import Tensor

__all__ = ["array_ufunc", "array_function", "NUMPY_FUNCTIONS", "UFUNCS"]

# NumPy name -> chainrule name where they differ.
_RENAMED = {"absolute": "abs", "true_divide": "divide", "amax": "max", "amin": "min", "around": "round",
            "round_": "round", "concat": "concatenate", "permute_dims": "transpose", "pow": "power"}

# Functions that only read facts or compare values: run on the arrays, return NumPy results.
_PLAIN = {np.shape, np.ndim, np.size, np.result_type, np.allclose, np.isclose, np.array_equal,
          np.array_equiv, np.argsort, np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.searchsorted,
          np.iscomplexobj, np.isrealobj, np.may_share_memory, np.shares_memory, np.array2string, np.array_repr,
          np.array_str, np.histogram, np.bincount, np.digitize, np.lexsort}

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
    for key in ("dtype", "where", "casting", "order", "subok", "signature"):
        val = kwargs.pop(key, None)
        if val is not None and not (key == "where" and val is True) and not (key == "casting" and val == "same_kind"):
            raise TypeError(f"np.{name}(..., {key}=...) is not supported on Tensors")


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``Tensor.__array_ufunc__``: route a ufunc call or reduction to its primitive."""
    name = ufunc.__name__
    _check_out(name, kwargs)
    if method == "__call__":
        fn = UFUNCS.get(ufunc)
        if fn is None:
            raise _no_rule(f"np.{name}")
        return fn(*inputs, **kwargs)
    if method in ("reduce", "accumulate"):
        table = _REDUCERS if method == "reduce" else _ACCUMULATORS
        fn = _NAMESPACE.get(table.get(name, ""))
        if fn is None or len(inputs) != 1:
            raise _no_rule(f"np.{name}.{method}")
        axis = kwargs.pop("axis", 0)
        if kwargs.pop("initial", np._NoValue) is not np._NoValue:
            raise TypeError(f"np.{name}.{method}(..., initial=...) is not supported on Tensors")
        if method == "accumulate":
            return fn(inputs[0], axis=axis)
        return fn(inputs[0], axis=axis, keepdims=kwargs.pop("keepdims", False))
    raise _no_rule(f"np.{name}.{method}")


def _to_arrays(obj):
    if isinstance(obj, Tensor):
        return obj.data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_arrays(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_arrays(v) for k, v in obj.items()}
    return obj


def array_function(self, func, types, args, kwargs):
    """``Tensor.__array_function__``: route ``np.sum(t)``, ``np.where(c, t, 0)``, ... to chainrule."""
    fn = NUMPY_FUNCTIONS.get(func)
    if fn is not None:
        return fn(*args, **kwargs)
    if func in _PLAIN:
        return func(*_to_arrays(args), **_to_arrays(kwargs))
    like = func.__name__
    if like in ("zeros_like", "ones_like", "full_like", "empty_like"):
        return Tensor(func(*_to_arrays(args), **_to_arrays(kwargs)))
    if like in ("copy", "array", "asarray", "asanyarray", "ascontiguousarray") and args and isinstance(args[0], Tensor):
        if like in ("asarray", "asanyarray", "array") and not kwargs.get("copy", like == "array"):
            return args[0].data
        return func(*_to_arrays(args), **_to_arrays(kwargs))
    module = getattr(func, "__module__", "numpy") or "numpy"
    prefix = "np" if module.startswith("numpy") and "linalg" not in module else module.replace("numpy", "np")
    raise _no_rule(f"{prefix}.{like}")
