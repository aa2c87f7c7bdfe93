"""``chainrule.numpy``: the NumPy namespace, with every function that has a derivative rule running on the tape.

>>> import chainrule as cr
>>> import chainrule.numpy as cnp
>>> x = cr.tensor([0.0, 1.0], requires_grad=True)
>>> y = cnp.sum(cnp.sin(x) * cnp.pi)
>>> y.backward()
>>> x.grad.shape
(2,)
"""

from __future__ import annotations

import numpy as _np

from . import dispatch as _dispatch

# Constants and dtypes pass through unchanged: they are data, not operations.
_PASSTHROUGH = {
    "pi", "e", "inf", "nan", "newaxis", "euler_gamma",
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "bool_", "complex64", "complex128", "dtype", "ndarray", "finfo", "iinfo", "errstate",
    "random", "shape", "ndim", "size", "result_type", "allclose", "isclose", "array_equal", "argsort",
    "nonzero", "argwhere", "unique", "bincount",
}


def __getattr__(name):
    ours = _dispatch._NAMESPACE.get(_dispatch._RENAMED.get(name, name))
    if ours is not None:
        return ours
    if name in _PASSTHROUGH:
        return getattr(_np, name)
    if name in ("array", "asarray"):
        from ..creation import as_tensor, tensor

        return tensor if name == "array" else as_tensor
    if hasattr(_np, name):
        raise AttributeError(
            f"chainrule.numpy.{name}: numpy.{name} has no chainrule derivative rule; use numpy.{name} on "
            f"arrays (t.detach().numpy()) if no gradient is needed"
        )
    raise AttributeError(f"module 'chainrule.numpy' has no attribute {name!r}")


def __dir__():
    return sorted(set(_dispatch._NAMESPACE) | _PASSTHROUGH | {"array", "asarray"})
