"""``chainrule.numpy``: the NumPy namespace, with every function that has a derivative rule running on the tape.

``import chainrule.numpy as np`` makes ordinary NumPy code differentiable:

- every function with a chainrule rule (``np.exp``, ``np.sum``, ``np.einsum``, ``np.linalg.norm``, ...)
  is chainrule's, with NumPy's signature, and records when it meets a Tensor;
- creation and conversion functions (``zeros``, ``ones``, ``eye``, ``arange``, ``linspace``, ``full``,
  ``zeros_like``, ``empty``, ``array``, ``asarray``, ``copy``, ...) return Tensors; ``array``,
  ``asarray`` and ``copy`` of Tensors, or of lists holding Tensors, keep the graph (they stack);
- constants (``pi``, ``e``, ``inf``, ``nan``, ``newaxis``), dtypes (``float32``, ...), ``finfo``,
  ``errstate``, ``random``, ... are NumPy's own;
- a NumPy function with no derivative rule is NumPy's own: on arrays it works as usual, on a
  Tensor it raises ``TypeError`` naming it (use a chainrule operation, or call it on
  ``t.detach().numpy()`` if no gradient is needed). Functions that only give facts, booleans,
  indices or text (``shape``, ``allclose``, ``argsort``, ``nonzero``, ``array_str``, ...) run on a
  Tensor's values; ``unique``, ``histogram`` and ``bincount`` do so for a plain Tensor, and raise
  ``TypeError`` for one on the graph or carrying tangents, whose derivatives they would drop.

What NumPy's protocols cannot route: plain ``numpy`` functions that convert their argument with
``__array__`` before anything else see only the values, so ``numpy.array(t)``,
``numpy.asarray(t)``, ``numpy.ascontiguousarray(t)``, ``numpy.r_[t, u]`` and functions given a
*list* of Tensors (``numpy.sum([t, t])``, ``numpy.mean([t1, t2])``) compute on ndarrays, off the
graph. That is never silent: for a Tensor that requires grad it warns ``cr.GraphDropWarning``, and
inside a transformation it raises ``cr.ConcretizationError``. chainrule's own functions record
instead: ``chainrule.numpy.array([t1, t2])``, ``cr.stack``, ``chainrule.numpy.r_`` and ``c_``, and
the reductions given a list (``cr.mean([t1, t2])`` stacks it first).

>>> import chainrule as cr
>>> import chainrule.numpy as cnp
>>> x = cr.tensor([0.0, 1.0], requires_grad=True)
>>> y = cnp.sum(cnp.sin(x) * cnp.pi) + cnp.linalg.norm(x)
>>> y.backward()
>>> x.grad.shape
(2,)
>>> cnp.zeros(3)
tensor([0., 0., 0.])
"""

from __future__ import annotations

import functools as _functools
import importlib as _importlib
import types as _types

import numpy as _np

from ..core.tensor import Tensor as _Tensor
from ..ops import PUBLIC as _PUBLIC
from .. import creation as _creation
from . import conversions as _conversions, dispatch as _dispatch, index_tricks as _index_tricks

# NumPy's protocols on Tensor: np.exp(t), a + t, np.sum(t) reach the primitives through dispatch's tables,
# filled from every family's public functions.
_dispatch.bind(_PUBLIC)
_Tensor.__array_ufunc__ = _dispatch.array_ufunc
_Tensor.__array_function__ = _dispatch.array_function

# NumPy's creation functions, answered by chainrule.creation, and its conversions, answered by
# .conversions (they return Tensors).
_CONVERSIONS = {"array", "asarray", "asanyarray", "ascontiguousarray", "copy"}
_CREATION = {
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like", "arange", "linspace",
    "logspace", "eye", "identity",
} | _CONVERSIONS
# Functions that read only facts of their arguments (not values): NumPy's own, whatever they are given.
_FACTS = {"isscalar", "can_cast", "min_scalar_type", "promote_types", "issubdtype", "broadcast_shapes",
          "get_printoptions", "set_printoptions", "printoptions", "geterr", "seterr", "typename"}


def _has_tensor(obj, depth=0):
    if isinstance(obj, _Tensor):
        return True
    if depth < 3 and isinstance(obj, (list, tuple)):
        return any(_has_tensor(o, depth + 1) for o in obj)
    return False


def _guarded(name, fn):
    """NumPy's ``fn`` (not dispatched to Tensors by NumPy), refusing Tensors rather than dropping their graph."""

    @_functools.wraps(fn)
    def call(*args, **kwargs):
        if _has_tensor(args) or _has_tensor(tuple(kwargs.values())):
            raise _dispatch._no_rule(f"np.{name}")
        return fn(*args, **kwargs)

    return call


def _lookup(name):
    ours = _dispatch._NAMESPACE.get(_dispatch._RENAMED.get(name, name))
    if ours is not None:
        return ours
    if name in _CONVERSIONS:
        return getattr(_conversions, name)
    if name in _CREATION:
        return getattr(_creation, name)
    if name in _index_tricks.__all__:
        return getattr(_index_tricks, name)
    if name in ("linalg", "fft"):
        return _importlib.import_module(f".{name}", __name__)
    try:
        obj = getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'chainrule.numpy' has no attribute {name!r}") from None
    if name in _FACTS or not callable(obj) or isinstance(obj, (type, _np.ufunc, _types.ModuleType)):
        return obj  # data, dtypes, classes, submodules; a ufunc on a Tensor reaches __array_ufunc__
    if type(obj).__name__ == "_ArrayFunctionDispatcher":
        return obj  # on a Tensor it reaches __array_function__, which raises TypeError naming it
    return _guarded(name, obj)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    value = _lookup(name)
    globals()[name] = value  # looked up once
    return value


def __dir__():
    return sorted(set(dir(_np)) | set(__all__))


# The names chainrule answers itself (the rest of NumPy's namespace is NumPy's own, reached through __getattr__).
__all__ = sorted(set(_dispatch._NAMESPACE) | _CREATION | {"linalg", "fft"} | set(_index_tricks.__all__))
