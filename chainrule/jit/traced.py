"""Traced: an ndarray that computes as usual and records each NumPy call made on it into the running trace."""

from __future__ import annotations

import inspect
import operator
import os
import sys

import numpy as np

from ..core.concrete import ConcretizationError

__all__ = ["Traced", "record", "active", "set_active", "strip", "concretization_error"]

_ndarray = np.ndarray
_view = np.ndarray.view

# The recorder of the trace running now (None almost always); one trace at a time, under jit's lock.
_ACTIVE = [None]


def active():
    """The running :class:`~chainrule.jit.recorder.Recorder`, or None (also while it is paused)."""
    rec = _ACTIVE[0]
    return None if rec is None or rec.paused else rec


def set_active(rec):
    _ACTIVE[0] = rec


def concretization_error(call):
    return ConcretizationError(
        f"{call} of a value traced by cr.jit: jit runs the function once to record its NumPy calls and "
        f"replays them, so Python control flow and Python numbers are fixed at trace time and cannot depend on "
        f"the inputs' values. Return the value from the jitted function instead, use cr.numpy.where "
        f"(cr.where) for a branch, or mark the argument static (cr.jit(f, static_argnums=...))")


class Traced(np.ndarray):
    """A value inside a ``cr.jit`` trace: the real array, plus its slot in the recorded program.

    NumPy's protocols (``__array_ufunc__``, ``__array_function__``) and the ndarray methods
    that do not dispatch through them compute on the plain arrays and append one instruction.
    Turning it into a Python value (``float``, ``bool``, ``.item()``, printing) raises
    :class:`~chainrule.ConcretizationError`.

    >>> import numpy as np, chainrule as cr
    >>> f = cr.jit(lambda x: np.tanh(x) * 2)
    >>> float(f(np.array(0.5)))  # the first call traces; Traced never reaches the caller
    0.9242343145200195
    """

    # _r: the slot of the value in the program; _rec: the recorder it belongs to
    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        for a in inputs:
            if not isinstance(a, _ndarray) and hasattr(a, "__array_ufunc__") and not isinstance(a, np.generic):
                return NotImplemented  # a Tensor operand: its own protocol records the operation
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        return record(fn, inputs, kw, ufunc=ufunc if method == "__call__" else None,
                      mutates=(0,) if method == "at" else ())

    def __array_function__(self, func, types, args, kwargs):
        for t in types:
            if not issubclass(t, _ndarray):
                return NotImplemented
        args, kwargs = _out_by_name(func, args, kwargs)
        mutates = _MUTATING.get(func, ())
        if func is np.nan_to_num and not kwargs.get("copy", args[1] if len(args) > 1 else True):
            mutates = (0,)  # copy=False: it writes into its argument (and returns it)
        return record(func, args, kwargs, mutates=mutates)

    # ---- values that would leave the trace -------------------------------------------------
    def item(self, *args):
        return _concrete(self, "x.item()").item(*args)

    def tolist(self):
        return _concrete(self, "x.tolist()").tolist()

    def __float__(self):
        return float(_concrete(self, "float(x)"))

    def __int__(self):
        return int(_concrete(self, "int(x)"))

    def __complex__(self):
        return complex(_concrete(self, "complex(x)"))

    def __bool__(self):
        # chainrule's own checks (a label in range, an ignore_index present) branch on values: the branch is
        # taken as traced, and each replay checks that the condition still comes out the same, or raises
        rec = _ACTIVE[0]
        if rec is not None and not rec.paused:
            value = rec.concrete(self)
            if value is not None:
                return bool(value)
            if _from_library(sys._getframe(1)):
                return rec.check(self)
        return bool(_concrete(self, "bool(x) (an `if` or `while` on x)"))

    def __index__(self):
        return operator.index(_concrete(self, "using x as an index or a size"))

    def __repr__(self):
        return repr(_concrete(self, "printing x"))

    def __str__(self):
        return str(_concrete(self, "printing x"))

    def __format__(self, spec):
        return format(_concrete(self, "formatting x"), spec)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __reduce__(self):
        raise concretization_error("pickling x")

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()


_LIBRARY = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_JIT = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _from_library(frame):
    name = frame.f_code.co_filename
    return name.startswith(_LIBRARY) and not name.startswith(_JIT)


def _concrete(t, call):
    """The plain value of ``t`` where it is no traced value (outside a trace, or a constant of it), else raise."""
    rec = _ACTIVE[0]
    if rec is None or rec.paused:
        return _view(t, _ndarray)
    value = rec.concrete(t)
    if value is None:
        raise concretization_error(call)
    return value


# ``out`` given positionally (np.dot(a, b, out), x.cumsum(0, None, out)): the recorder sees writes through
# ``out=`` only, so it and the parameters after it are passed by name. function -> (index of out, names) or None
_OUT_AT = {}


def _out_at(fn):
    found = _OUT_AT.get(fn, False)
    if found is False:
        found = None
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            params = []
        names = [p.name for p in params]
        if "out" in names:
            i = names.index("out")
            if all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params[i:i + 1]) and not any(
                    p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY) for p in params[i:]):
                found = (i, [p.name for p in params[i:] if p.kind is p.POSITIONAL_OR_KEYWORD])
        _OUT_AT[fn] = found
    return found


def _out_by_name(fn, args, kw, skip=0):
    """``args`` and ``kw`` with ``out`` (and what follows it) moved into ``kw`` where it came positionally;
    ``skip``: positions of ``fn``'s parameters not in ``args`` (a method's ``self``)."""
    found = _out_at(fn)
    if found is None or len(args) + skip <= found[0]:
        return args, kw
    i, names = found
    i -= skip
    rest = dict(zip(names, args[i:]))
    return args[:i], {**rest, **kw}


def _method(name):
    fn = getattr(np, name, None)

    def call(self, *args, **kw):
        if fn is not None and args:
            args, kw = _out_by_name(fn, args, kw, skip=1)
        return record(name, (self, *args), kw, kind="method", mutates=(0,) if name in _IN_PLACE else ())

    call.__name__ = name
    call.__doc__ = f"``ndarray.{name}``, recorded into the running trace."
    return call


def _attribute(name):
    return property(lambda self: record(name, (self,), {}, kind="attr"))


# The ndarray methods that do not go through __array_ufunc__ or __array_function__ (checked by the tests:
# every public ndarray method either records or is listed in tests/jit as static).
_IN_PLACE = {"fill", "sort", "partition", "put", "itemset", "setfield", "resize", "byteswap"}
for _name in ("reshape", "transpose", "astype", "copy", "view", "ravel", "flatten", "squeeze", "swapaxes", "dot",
              "take", "repeat", "argmax", "argmin", "nonzero", "conj", "conjugate", "fill", "diagonal", "trace",
              "argsort", "sort", "searchsorted", "choose", "compress", "cumsum", "cumprod", "partition",
              "argpartition", "put", "clip", "round", "std", "var", "mean", "sum", "prod", "max", "min", "all",
              "any", "byteswap", "getfield", "setfield"):
    setattr(Traced, _name, _method(_name))
for _name in ("T", "mT", "real", "imag"):
    setattr(Traced, _name, _attribute(_name))


def _refuse(call):
    def refuse(self, *args, **kw):
        return getattr(_concrete(self, call), call.split("(")[0].split(".")[1])(*args, **kw)

    return refuse


for _name in ("tobytes", "tofile", "dump", "dumps"):
    setattr(Traced, _name, _refuse(f"x.{_name}()"))
Traced.resize = lambda self, *a, **k: _concrete(self, "x.resize() (in place, to a new shape)").resize(*a, **k)
Traced.flat = property(lambda self: _concrete(self, "x.flat").flat)


def _raw(self, call, frame):
    """``self`` as a plain array for a look at its memory, or raise: a replay computes into other buffers, so
    bytes or an address read from a traced value would be the trace's forever. chainrule's own code may look
    (the fused recurrent layers find their work buffer by address); a constant of the trace may be read."""
    rec = _ACTIVE[0]
    if rec is not None and not rec.paused and not _from_library(frame) and rec.concrete(self) is None:
        raise concretization_error(call)
    return _view(self, _ndarray)


# Raw memory: the buffer (x.data, memoryview(x) where Python has __buffer__, 3.12 on), its address
# (x.ctypes) and its bytes (bytes(x); x.tobytes() above).
Traced.data = property(lambda self: _raw(self, "x.data (its raw memory)", sys._getframe(1)).data)
Traced.ctypes = property(lambda self: _raw(self, "x.ctypes (its raw memory)", sys._getframe(1)).ctypes)
Traced.__bytes__ = lambda self: bytes(_raw(self, "bytes(x)", sys._getframe(1)))
Traced.__buffer__ = lambda self, flags: memoryview(_raw(self, "memoryview(x) (its raw memory)", sys._getframe(1)))

# Public ndarray attributes left as they are: facts of the shape and layout.
STATIC_ATTRIBUTES = frozenset({"base", "device", "dtype", "flags", "itemsize", "nbytes", "ndim", "setflags", "shape",
                               "size", "strides", "to_device"})


def _getitem(self, index):
    return record(operator.getitem, (self, index), {}, kind="getitem")


def _setitem(self, index, value):
    record(operator.setitem, (self, index, value), {}, kind="setitem", mutates=(0,))


Traced.__getitem__ = _getitem
Traced.__setitem__ = _setitem

# NumPy functions that write into an argument: its slot is changed in place, so the call is an effect.
_MUTATING = {np.copyto: (0,), np.put: (0,), np.place: (0,), np.putmask: (0,), np.fill_diagonal: (0,),
             np.put_along_axis: (0,)}


def strip(x):
    """``x`` with every Traced (in lists, tuples and dicts too) made a plain ndarray view."""
    if isinstance(x, Traced):
        return _view(x, _ndarray)
    t = type(x)
    if t is tuple or t is list:
        return t([strip(v) for v in x])
    if t is dict:
        return {k: strip(v) for k, v in x.items()}
    return x


def _plain_call(fn, kind, args, kw):
    if kind == "call":
        return fn(*args, **kw)
    if kind == "method":
        return getattr(args[0], fn)(*args[1:], **kw)
    if kind == "attr":
        return getattr(args[0], fn)
    return fn(*args)


def record(fn, args, kw, *, kind="call", ufunc=None, mutates=(), effect=False):
    """Run ``fn`` on the plain values and, inside a trace, append it to the program; returns Traced results.

    ``kind``: ``"call"`` is ``fn(*args, **kw)``, ``"method"`` ``args[0].fn(*args[1:], **kw)``,
    ``"attr"`` ``args[0].fn``, ``"getitem"``/``"setitem"`` the operators. ``effect``: the call must run on
    every replay even though nothing reads its result (a random draw).
    """
    rec = _ACTIVE[0]
    if rec is None or rec.paused:  # outside the trace (or inside a host call) a Traced is a plain array
        res = _plain_call(fn, kind, strip(args), strip(kw))
        return res
    return rec.call(fn, kind, args, kw, ufunc, mutates, effect)
