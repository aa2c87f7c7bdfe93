"""The recorder: the flat program a trace appends to, one instruction per NumPy call, load, store or host call."""

from __future__ import annotations

import threading

import numpy as np

from ..core.tensor import Tensor, wrap
from .traced import Traced, concretization_error

__all__ = ["Recorder", "Instr", "Ref"]

_ndarray = np.ndarray
_generic = np.generic
_view = np.ndarray.view
_base_asarray = np.asarray

# Results that depend only on their input's shape and dtype: constants, whatever the input's values.
_SHAPE_ONLY = {np.zeros_like, np.ones_like, np.full_like}
# NumPy's constructors: inside a trace they make constants of the program (chainrule/jit/patches.py), so that
# writes into them with traced values are recorded, and the array is made afresh on each replay.
_CREATE = {}
# Functions whose result has a shape that depends on the values.
_DYNAMIC = {np.nonzero, np.flatnonzero, np.argwhere, np.unique, np.extract, np.compress, np.trim_zeros}
# Functions of a traced value that return a Python value that does not depend on its values.
_STATIC_RESULT = {np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj, np.may_share_memory,
                  np.shares_memory, np.min_scalar_type, np.can_cast, np.isscalar, np.iscomplex, np.isreal}


class Ref:
    """A slot of the program, inside an instruction's argument template."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot

    def __repr__(self):
        return f"v{self.slot}"


class Instr:
    """One step of the program.

    ``kind``: ``call`` ``fn(*args, **kw)``; ``method`` ``args[0].fn(*args[1:], **kw)``; ``attr`` ``args[0].fn``;
    ``getitem``/``setitem``; ``input`` (argument ``fn``); ``load`` (``obj.data``), ``loadgrad``
    (``obj._grad.data``); ``store`` (``obj.<fn> = args[0]``); ``host`` (``fn(*args)`` run eagerly);
    ``draw`` (a random draw from the current generator). ``outs``: the slots it defines (``multi`` says the
    result is a sequence of that many); ``effect``: it changes something outside its outputs (never dropped).
    """

    __slots__ = ("kind", "fn", "args", "kw", "outs", "multi", "effect", "ufunc", "obj", "refs")

    def __init__(self, kind, fn, args=(), kw=None, outs=(), *, multi=False, effect=False, ufunc=None, obj=None,
                 refs=()):
        self.kind, self.fn, self.args, self.kw, self.outs = kind, fn, args, kw or {}, list(outs)
        self.multi, self.effect, self.ufunc, self.obj, self.refs = multi, effect, ufunc, obj, refs


class Recorder:
    """Everything one trace learns: the instructions, and per slot its root (views), metadata and constness."""

    def __init__(self):
        self._paused = 0
        self.thread = threading.get_ident()  # other threads run as usual while this one traces
        self.code = []
        self.n = 0
        self.root = []  # slot -> slot that owns its memory (itself unless a view)
        self.meta = []  # slot -> (shape, dtype, poolable layout)
        self.const = {}  # slot -> trace-time value, for values computed from constants only
        self.dynamic = set()  # slots whose shape depends on values
        self.mutated = set()  # roots written in place by some instruction
        self.escapes = set()  # slots returned or stored (never given a reused buffer)
        self.loads = {}  # (id(obj), attr) -> what the read returned
        self.written = set()  # (id(obj), attr) written during the trace
        self.stored_keys = set()  # the same, never cleared (a host call clears ``written``)
        self.state_slots = set()  # loads of state as it was when the call began (nothing before wrote it)
        self.new = set()  # ids of Tensors made during the trace (their attributes are no state)
        self.keep = []  # keeps those Tensors alive, so their ids stay unique
        self.args = {}  # id(Tensor argument) -> its leaf index
        self.stored = {}  # id -> Tensor whose attributes the trace wrote
        self.guards = []  # (obj, attr, grad is None) read from state: replay needs the same
        self.random = False

    @property
    def paused(self):
        """True inside a host call, and for every thread but the tracing one: Traced values are plain arrays."""
        return self._paused > 0 or threading.get_ident() != self.thread

    # ---- slots -----------------------------------------------------------------------------
    def _slot(self, raw, root=None, dynamic=False):
        k = self.n
        self.n += 1
        if not isinstance(raw, _ndarray):
            raw = _base_asarray(raw)
        self.root.append(k if root is None else root)
        self.meta.append((raw.shape, raw.dtype, raw.flags.c_contiguous and type(raw) is _ndarray))
        if dynamic:
            self.dynamic.add(k)
        t = _view(raw, Traced)
        t._r = k
        t._rec = self
        return t

    def _walk(self, x, refs):
        """(template, plain value) of an argument: Traced become Refs and plain views."""
        if isinstance(x, Traced):
            raw = _view(x, _ndarray)
            if getattr(x, "_rec", None) is self:
                refs.append((x._r, raw))
                return Ref(x._r), raw
            return raw, raw
        t = type(x)
        if t is tuple or t is list:
            pairs = [self._walk(v, refs) for v in x]
            return t([p[0] for p in pairs]), t([p[1] for p in pairs])
        if t is dict:
            pairs = {k: self._walk(v, refs) for k, v in x.items()}
            return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
        return x, x

    def input(self, index, raw, tensor):
        t = self._slot(raw)
        self.code.append(Instr("input", index, outs=(t._r,), obj=tensor))
        return t

    # ---- NumPy calls -----------------------------------------------------------------------
    def call(self, fn, kind, args, kw, ufunc, mutates, effect=False):
        pairs = []
        targs, rargs = self._walk(tuple(args), pairs)
        tkw, rkw = self._walk(dict(kw), pairs) if kw else ({}, {})
        refs = [r for r, _ in pairs]
        if kind == "call":
            res = fn(*rargs, **rkw)
        elif kind == "method":
            res = getattr(rargs[0], fn)(*rargs[1:], **rkw)
        elif kind == "attr":
            res = getattr(rargs[0], fn)
        else:
            res = fn(*rargs)
        # what the call wrote into: out= arrays and the arguments a mutating function writes
        written = [targs[i] for i in mutates if i < len(targs)]
        out = tkw.get("out")
        if out is not None:
            written.extend(out if isinstance(out, tuple) else (out,))
        effect = effect or bool(written)
        constant_write = all(r in self.const for r in refs) and not _plain_arrays(targs, tkw)
        for w in written:
            if isinstance(w, Ref):
                self._mutate(self.root[w.slot], constant_write)
        dynamic = any(r in self.dynamic for r in refs) or fn in _DYNAMIC or fn == "nonzero"
        if kind == "getitem" and not dynamic:
            dynamic = _bool_index(targs[1], self)
        if not effect and kind != "attr" and isinstance(res, _ndarray):
            for (_, raw), t in zip(pairs, _traced_args(args, kw, self)):
                if res is raw:  # the call gave its input back (asarray, astype(copy=False)): nothing to replay
                    return t
        instr = Instr(kind, fn, targs, tkw, effect=effect, ufunc=ufunc, refs=tuple(refs))
        self.code.append(instr)
        if out is not None:  # NumPy returns the out= array(s): hand back the caller's objects
            if isinstance(res, tuple):
                return kw["out"] if isinstance(kw["out"], tuple) else (kw["out"],)
            o = kw["out"]
            return o[0] if isinstance(o, tuple) else o
        if res is None:
            instr.effect = True
            return None
        const = not effect and refs and all(r in self.const for r in refs) and not _plain_arrays(targs, tkw)
        if (fn in _SHAPE_ONLY and not dynamic and not _plain_arrays(targs[1:], tkw)) or fn in _CREATE:
            const = True
        if isinstance(res, (_ndarray, _generic)):
            t = self._new(res, pairs, dynamic)
            instr.outs = [t._r]
            if const:
                self.const[t._r] = _view(t, _ndarray)
            return t
        if isinstance(res, (tuple, list)) and res and all(isinstance(r, (_ndarray, _generic)) for r in res):
            outs = [self._new(r, pairs, dynamic) for r in res]
            instr.outs = [t._r for t in outs]
            instr.multi = True
            if const:
                for t in outs:
                    self.const[t._r] = _view(t, _ndarray)
            return type(res)(*outs) if hasattr(res, "_fields") else type(res)(outs)
        self.code.pop()
        if fn in _STATIC_RESULT or isinstance(res, (tuple, np.dtype, type)) or kind == "attr":
            return res
        name = fn if isinstance(fn, str) else getattr(fn, "__name__", repr(fn))
        raise concretization_error(f"np.{name}(x), whose result is a Python value,")

    def _mutate(self, root, constant_write):
        """``root``'s memory is written: it is no constant to fold (the program makes it afresh on every replay),
        and, unless what was written is constant too, no value to concretize from now on."""
        self.mutated.add(root)
        if not constant_write:
            for s in [s for s in self.const if self.root[s] == root]:
                del self.const[s]

    def concrete(self, t):
        """The plain value of ``t`` if it is a constant of the program (so a Python value of it is too), else None."""
        if getattr(t, "_rec", None) is self and t._r in self.const:
            return _view(t, _ndarray)
        return None

    def _new(self, res, pairs, dynamic):
        root = None
        if isinstance(res, _ndarray):
            for r, raw in pairs:
                if np.may_share_memory(res, raw):
                    root = self.root[r]
                    break
        return self._slot(res, root, dynamic)

    # ---- state: Tensor attributes, host calls, random draws -------------------------------
    def load(self, obj, raw):
        key = (id(obj), "data")
        hit = self.loads.get(key)
        if hit is not None:
            return hit
        t = self._slot(raw)
        if key not in self.stored_keys:
            self.state_slots.add(t._r)
        self.code.append(Instr("load", "data", outs=(t._r,), obj=obj))
        self.loads[key] = t
        self._hold(obj)
        return t

    def load_grad(self, obj, g):
        key = (id(obj), "_grad")
        if key in self.loads:
            return self.loads[key]
        if key not in self.stored_keys:  # written earlier in the trace, its presence is the program's own doing
            self.guards.append((obj, g is None))
        self._hold(obj)
        if g is None:
            self.loads[key] = None
            return None
        raw = _SWAPPED["data"].__get__(g, Tensor)
        if isinstance(raw, Traced):
            self.loads[key] = g
            return g
        t = self._slot(raw)
        if key not in self.stored_keys:
            self.state_slots.add(t._r)
        self.code.append(Instr("loadgrad", "_grad", outs=(t._r,), obj=obj))
        out = wrap(t)
        self.loads[key] = out
        return out

    def store(self, obj, attr, value):
        """``obj.attr = value`` on state (a Tensor that existed before the trace, or an argument)."""
        key = (id(obj), attr)
        self.loads.pop(key, None)
        self.written.add(key)
        self.stored_keys.add(key)
        self.stored[id(obj)] = obj
        self._hold(obj)
        pairs = []
        if attr == "_grad" and value is not None:
            data = _SWAPPED["data"].__get__(value, Tensor)
            tv, _ = self._walk(data, pairs)
            template = ("tensor", tv)
        else:
            tv, _ = self._walk(value, pairs)
            template = ("value", tv)
        refs = [r for r, _ in pairs]
        for r in refs:
            self._escape(r)
        self.code.append(Instr("store", attr, (template,), effect=True, obj=obj, refs=tuple(refs)))

    def host(self, fn, args, kw=None):
        """Run ``fn(*args, **kw)`` eagerly now and on every replay (an optimiser's step), on concrete values.

        The arguments are constants of the program (an iterator among them is made a list first, so that
        each replay sees all of it); a Tensor or array result becomes a value of the program, read from
        each replay's call.
        """
        kw = kw or {}
        args = tuple(list(a) if _iterator(a) else a for a in args)
        for a in list(args) + list(kw.values()):
            if _traced_inside(a):
                raise concretization_error(f"passing a traced value to {getattr(fn, '__qualname__', fn)},")
        self.materialize()
        self.loads.clear()
        self.written.clear()
        self._paused += 1
        try:
            res = fn(*args, **kw)
        finally:
            self._paused -= 1
        instr = Instr("host", fn, args, kw, effect=True)
        self.code.append(instr)
        if isinstance(res, Tensor) and isinstance(_SWAPPED["data"].__get__(res, Tensor), _ndarray):
            t = self._slot(_SWAPPED["data"].__get__(res, Tensor))
            self._escape(t._r)
            instr.outs, instr.obj = [t._r], "tensor"
            return wrap(t)
        if isinstance(res, _ndarray):
            t = self._slot(res)
            self._escape(t._r)
            instr.outs = [t._r]
            return t
        return res

    def draw(self, name, args, kw):
        """A random draw: recorded as a call that draws from ``cr.random``'s generator at each replay."""
        from .. import random as _random

        pairs = []
        targs, rargs = self._walk(tuple(args), pairs)
        tkw, rkw = self._walk(dict(kw), pairs)
        refs = [r for r, _ in pairs]
        res = getattr(_random._rng if not isinstance(_random._rng, RandomProxy) else _random._rng.real, name)(
            *rargs, **rkw)
        instr = Instr("draw", name, targs, tkw, effect=True, refs=tuple(refs))
        self.code.append(instr)
        if not isinstance(res, (_ndarray, _generic)):
            raise concretization_error(f"a random draw ({name}) returning a Python value,")
        t = self._slot(res)
        instr.outs = [t._r]
        self.random = True
        return t

    def check(self, t):
        """``bool(t)`` in chainrule's own code: the value now, and a check that each replay agrees."""
        pairs = []
        tv, raw = self._walk(t, pairs)
        value = bool(raw)
        self.code.append(Instr("check", value, (tv,), effect=True, refs=tuple(r for r, _ in pairs)))
        return value

    def close(self):
        """Let go of what the trace held, once its program is made (or it failed): the Tensors it made hold
        traced values, which point back here, so the trace's every array would wait for the cycle collector."""
        for held in (self.keep, self.loads, self.stored, self.code, self.const, self.guards):
            held.clear()

    def _hold(self, obj):
        if id(obj) not in self.args:
            self.keep.append(obj)

    def _escape(self, slot):
        self.escapes.add(self.root[slot])

    def materialize(self):
        """Make every Tensor the trace wrote hold plain arrays again (before a host call, and at the end)."""
        data, grad = _SWAPPED["data"], _SWAPPED["_grad"]
        for obj in self.stored.values():
            v = data.__get__(obj, Tensor)
            if isinstance(v, Traced):
                data.__set__(obj, _view(v, _ndarray))
            g = grad.__get__(obj, Tensor)
            if g is not None:
                gd = data.__get__(g, Tensor)
                if isinstance(gd, Traced):
                    grad.__set__(obj, wrap(_view(gd, _ndarray)))


class RandomProxy:
    """Stands in for ``cr.random``'s generator during a trace: each draw is recorded, to be drawn again."""

    def __init__(self, real, rec):
        self.real = real
        self.rec = rec

    def __getattr__(self, name):
        method = getattr(self.real, name)
        if not callable(method) or name in ("bit_generator", "spawn"):
            return method

        def draw(*args, **kw):
            if self.rec.paused:
                return method(*args, **kw)
            return self.rec.draw(name, args, kw)

        return draw


# The member descriptors of Tensor's slots while jit has put recording properties in their place.
_SWAPPED: dict = {}


def _traced_args(args, kw, rec):
    """The Traced arguments of ``rec`` in the order ``Recorder._walk`` meets them."""
    out = []
    _collect(tuple(args), out, rec)
    if kw:
        _collect(dict(kw), out, rec)
    return out


def _collect(x, out, rec):
    if isinstance(x, Traced):
        if getattr(x, "_rec", None) is rec:
            out.append(x)
    elif type(x) in (tuple, list):
        for v in x:
            _collect(v, out, rec)
    elif type(x) is dict:
        for v in x.values():
            _collect(v, out, rec)


def _iterator(a):
    return hasattr(a, "__next__") and hasattr(a, "__iter__")


def _traced_inside(a):
    if isinstance(a, Traced):
        return True
    if isinstance(a, Tensor):
        return isinstance(_SWAPPED["data"].__get__(a, Tensor), Traced)
    if type(a) in (list, tuple):
        return any(_traced_inside(v) for v in a)
    return False


def _bool_index(index, rec):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, Ref) and rec.meta[i.slot][1] == np.bool_ for i in items)


def _plain_arrays(args, kw):
    """Whether a plain ndarray (state that may change between calls) is among the arguments."""
    for a in list(args) + list(kw.values()):
        if isinstance(a, _ndarray) and not isinstance(a, Traced):
            return True
        if isinstance(a, (tuple, list)) and _plain_arrays(a, {}):
            return True
    return False
