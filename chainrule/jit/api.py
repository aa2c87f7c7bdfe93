"""cr.jit: trace a function once per input signature, then replay its recorded NumPy program."""

from __future__ import annotations

import functools
import threading
import warnings
from collections import OrderedDict

import numpy as np

from ..core.concrete import _INPUTS
from ..core.state import STATE
from ..core.tensor import Tensor, wrap
from .patches import tracing
from .program import Program
from .recorder import _SWAPPED, Recorder
from .traced import Traced, _ACTIVE

__all__ = ["jit", "Jitted", "RetraceWarning"]

_ndarray = np.ndarray
_LOCK = threading.RLock()  # one trace at a time: a trace swaps process-wide attributes while it runs
_DATA = Tensor.__dict__["data"]


class RetraceWarning(UserWarning):
    """A jitted function was traced again and again (new shapes, dtypes or static values on many calls).

    >>> import warnings, numpy as np, chainrule as cr
    >>> f = cr.jit(lambda x: x * 2, warn_after=2)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     for n in range(1, 4):
    ...         _ = f(np.ones(n))
    >>> caught[0].category is cr.RetraceWarning
    True
    """


def jit(f=None, *, static_argnums=(), max_cache=64, warn_after=8):
    """Trace ``f`` on its first call per input signature and replay the recorded NumPy calls afterwards.

    The signature is the pytree structure of the arguments, the shape, dtype and layout of each
    array and Tensor (and whether it requires grad), and the values of the other arguments and of
    those listed in ``static_argnums``. Forward pass, ``backward()``, in-place updates and
    ``.grad``/``.data`` writes are recorded; an optimiser's ``step()`` runs eagerly at its place on
    every replay. Usable as a decorator, with or without arguments. See docs/jit.md.

    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> @cr.jit
    ... def step(x):
    ...     w.grad = None
    ...     loss = (cr.tanh(x * w) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> first = step(np.array([0.5, 0.25]))   # traced
    >>> again = step(np.array([0.5, 0.25]))   # replayed: same numbers, no tape
    >>> bool(first.data == again.data), w.grad.data.round(4).tolist()
    (True, [0.3634, -0.1817])
    """
    if f is None:
        return functools.partial(jit, static_argnums=static_argnums, max_cache=max_cache, warn_after=warn_after)
    return Jitted(f, static_argnums, max_cache, warn_after)


class Jitted:
    """A jitted function: call it like the original; ``traces`` counts the traces made so far."""

    def __init__(self, f, static_argnums=(), max_cache=64, warn_after=8):
        functools.update_wrapper(self, f)
        self.f = f
        self.static = frozenset((static_argnums,) if isinstance(static_argnums, int) else static_argnums)
        self.max_cache = max_cache
        self.warn_after = warn_after
        self.cache = OrderedDict()
        self.traces = 0

    def __get__(self, obj, objtype=None):  # a jitted method binds like a function
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kw):
        tracing_now = _ACTIVE[0]
        if tracing_now is not None and tracing_now.thread == threading.get_ident():  # inside a trace: inline
            return self.f(*args, **kw)
        state = STATE
        if state.depth or state.vmap or state.raw or _INPUTS.nodes:  # under a transformation: eager
            return self.f(*args, **kw)
        key = None if kw or self.static else _fast_key(args)
        if key is False:
            return self.f(*args, **kw)
        if key is None:
            leaves = []
            key = (_flatten(args, leaves, self.static), _flatten(kw, leaves, ()) if kw else None, state.grad)
            if _must_run_eagerly(leaves):
                return self.f(*args, **kw)
        else:
            leaves = args
            key = (key, state.grad)
        if len({id(leaf) for leaf in leaves}) < len(leaves):  # an argument passed twice: another program
            key = (key, _aliases(leaves))
        progs = self.cache.get(key)
        if progs is not None:
            try:
                self.cache.move_to_end(key)  # least recently used first out
            except KeyError:  # another thread's trace evicted it just now: the programs found still replay
                pass
            for prog, out_tree in progs:
                if prog.guards and not prog.check(*leaves):
                    continue
                if not prog.lock.acquire(blocking=False):  # its buffers are in use (another thread): eager
                    return self.f(*args, **kw)
                try:
                    outs = prog.run(*leaves)
                finally:
                    prog.lock.release()
                return outs[0] if out_tree is None else _unflatten(out_tree, iter(outs))
        return self._trace(key, args, kw, leaves)

    def programs(self):
        """The compiled programs in the cache (``.source`` is the replay's Python text, ``.stats`` its counts)."""
        return [prog for progs in self.cache.values() for prog, _ in progs]

    def _trace(self, key, args, kw, leaves):
        rec = Recorder()
        try:
            return self._record(rec, key, args, kw, leaves)
        finally:
            rec.close()

    def _record(self, rec, key, args, kw, leaves):
        with _LOCK:
            kinds = []
            restore = []
            with tracing(rec):
                traced = []
                try:
                    for i, leaf in enumerate(leaves):
                        if isinstance(leaf, Tensor):
                            raw = _DATA.__get__(leaf, Tensor)
                            rec.args[id(leaf)] = i
                            t = rec.input(i, raw, True)
                            restore.append((leaf, raw, t._r))
                            _DATA.__set__(leaf, t)
                            traced.append(leaf)
                            kinds.append(True)
                        else:
                            traced.append(rec.input(i, leaf, False))
                            kinds.append(False)
                    it = iter(traced)
                    targs = _rebuild(args, it, self.static)
                    tkw = _rebuild(kw, it, ())
                    out = self.f(*targs, **tkw)
                    out_leaves = []
                    out_tree = _out_tree(out, out_leaves)
                    outputs = [_output(leaf, rec) for leaf in out_leaves]
                finally:
                    rec.materialize()
                    for leaf, raw, slot in reversed(restore):  # argument Tensors hold plain arrays again
                        v = _DATA.__get__(leaf, Tensor)
                        if isinstance(v, Traced):
                            _DATA.__set__(leaf, raw if getattr(v, "_r", None) == slot else v.view(_ndarray))
            prog = Program(rec, kinds, outputs)
        self.traces += 1
        progs = self.cache.setdefault(key, [])
        progs.append((prog, out_tree))
        if len(progs) > self.max_cache:  # guards that keep failing (state changing shape): bounded as well
            del progs[0]
        try:
            self.cache.move_to_end(key)
        except KeyError:  # another thread's trace evicted it just now (max_cache 1): it is traced again when asked
            pass
        while len(self.cache) > self.max_cache:
            self.cache.popitem(last=False)
        n = self.traces
        if n == self.warn_after or (n > self.warn_after and n & (n - 1) == 0):
            warnings.warn(
                f"cr.jit: {getattr(self.f, '__qualname__', self.f)} has been traced {n} times (each new "
                f"combination of shapes, dtypes, static arguments or Python values in its arguments traces again); "
                f"pass arrays rather than Python numbers, or fix the shapes (pad the last batch)",
                RetraceWarning, stacklevel=4)
        first = [_first_value(leaf) for leaf in out_leaves]
        return _unflatten(out_tree, iter(first))


def _must_run_eagerly(leaves):
    """Inside a transformation, or given values on a caller's tape: run ``f`` as it is (still differentiable)."""
    state = STATE
    if state.depth or state.vmap or state.raw or _INPUTS.nodes:
        return True
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            node = leaf._node
            if leaf._fw is not None or (node is not None and node.prim is not None) or hasattr(leaf, "val"):
                return True
    return False


def _aliases(leaves):
    """Which leaves are the same object (the index of each one's first occurrence): a trace of ``f(x, x)`` stores
    one gradient into one Tensor, and writes in place into one array, so it is no program for ``f(x, y)``."""
    first = {}
    return tuple(first.setdefault(id(leaf), i) for i, leaf in enumerate(leaves))


def _fast_key(args):
    """The signature of positional arguments that are all arrays and Tensors (the usual call), without
    building a pytree; None for other arguments, False where ``f`` must run eagerly."""
    key = []
    for a in args:
        tp = type(a)
        if tp is _ndarray:
            key.append((a.shape, a.dtype, a.strides))
        elif isinstance(a, Tensor):
            node, d = a._node, a.data
            if a._fw is not None or (node is not None and node.prim is not None) or type(d) is not _ndarray:
                return False
            key.append((d.shape, d.dtype, d.strides, node is not None))
        else:
            return None
    return tuple(key)


# ---- pytrees: tuples, lists, dicts, Tensors and arrays as leaves, everything else static --------
def _flatten(x, leaves, static):
    if isinstance(x, Tensor):
        leaves.append(x)
        d = _DATA.__get__(x, Tensor)
        if not isinstance(d, _ndarray):  # batched (inside vmap): runs eagerly
            return ("batched", id(x))
        return ("T", d.shape, d.dtype, d.strides, x._node is not None)
    if isinstance(x, _ndarray):
        leaves.append(x)
        return ("A", x.shape, x.dtype, x.strides)
    t = type(x)
    if t is tuple or t is list:
        return (t.__name__, tuple([_static(v) if i in static else _flatten(v, leaves, ()) for i, v in enumerate(x)]))
    if t is dict:
        return ("dict", tuple((k, _flatten(v, leaves, ())) for k, v in x.items()))
    return _static(x)


def _static(x):
    try:
        hash(x)
    except TypeError:
        t = type(x)
        if t is list or t is tuple:  # a static list (or a tuple holding one) is keyed by its value, as documented
            return (t, tuple([_static(v) for v in x]))
        if t is dict:
            return (dict, tuple([(k, _static(v)) for k, v in x.items()]))
        return ("id", _Identity(x))
    return ("S", type(x), x)


class _Identity:
    """An unhashable static argument in a key: compared by identity, and held, so that its id is not given to
    another object (a new one at a freed one's address would find the old one's program)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return type(other) is _Identity and other.obj is self.obj


def _rebuild(x, it, static):
    if isinstance(x, (Tensor, _ndarray)):
        return next(it)
    t = type(x)
    if t is tuple or t is list:
        return t([v if i in static else _rebuild(v, it, ()) for i, v in enumerate(x)])
    if t is dict:
        return {k: _rebuild(v, it, ()) for k, v in x.items()}
    return x


def _out_tree(x, leaves):
    if isinstance(x, (Tensor, _ndarray)):
        leaves.append(x)
        return None
    t = type(x)
    if t is tuple or t is list:
        return (t, [_out_tree(v, leaves) for v in x])
    if t is dict:
        return (dict, {k: _out_tree(v, leaves) for k, v in x.items()})
    if hasattr(x, "_fields") and isinstance(x, tuple):
        return (type(x), [_out_tree(v, leaves) for v in x])
    if x is None or t in _STATIC_OUTPUTS or isinstance(x, np.generic):
        return ("static", x)
    # any other object would come back from every replay as the one made at trace time, with its trace-time values
    raise TypeError(
        f"cr.jit: the jitted function returned a {t.__module__}.{t.__qualname__}, which a replay cannot rebuild "
        f"(every call would return the object made when it was traced); return Tensors, arrays, Python "
        f"numbers and strings, and tuples, lists, dicts and namedtuples of them (dict(...) of a mapping)")


_STATIC_OUTPUTS = {bool, int, float, complex, str, bytes}


def _unflatten(tree, it):
    if tree is None:
        return next(it)
    kind, body = tree
    if kind == "static":
        return body
    if kind is dict:
        return {k: _unflatten(v, it) for k, v in body.items()}
    items = [_unflatten(v, it) for v in body]
    return kind(*items) if hasattr(kind, "_fields") else kind(items)


def _output(leaf, rec):
    """How the program produces one output: ('slot', k, is_tensor) or ('const', value, is_tensor)."""
    tensor = isinstance(leaf, Tensor)
    data = _SWAPPED["data"].__get__(leaf, Tensor) if tensor else leaf
    if isinstance(data, Traced) and getattr(data, "_rec", None) is rec:
        return ("slot", data._r, tensor)
    return ("const", data, tensor)


def _first_value(leaf):
    if isinstance(leaf, Tensor):
        d = _DATA.__get__(leaf, Tensor)
        return wrap(d.view(_ndarray) if isinstance(d, Traced) else d)
    return leaf.view(_ndarray) if isinstance(leaf, Traced) else leaf
