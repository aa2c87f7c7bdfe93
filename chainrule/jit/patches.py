"""What a trace changes while it runs: Tensor's state attributes, NumPy's converters, the generator, host calls."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import numpy as np

from .. import random as _random
from ..core.tensor import Tensor
from ..nn import utils as _nn_utils
from ..optim.lr_scheduler import LRScheduler
from ..optim.optimizer import Optimizer
from .recorder import _CREATE, _SWAPPED, RandomProxy
from .traced import Traced, _ACTIVE, record

__all__ = ["tracing"]

_ndarray = np.ndarray
_asarray, _array, _ascontiguous = np.asarray, np.array, np.ascontiguousarray


def _rec():
    rec = _ACTIVE[0]
    return None if rec is None or rec.paused else rec


# ---- Tensor.data and Tensor._grad: reads of state become loads, writes become stores -------------
def _get_data(t):
    v = _SWAPPED["data"].__get__(t, Tensor)
    rec = _ACTIVE[0]
    if rec is None or rec.paused or type(v) is not _ndarray or id(t) in rec.new:
        return v
    return rec.load(t, v)


def _set_data(t, v):
    rec = _ACTIVE[0]
    desc = _SWAPPED["data"]
    if rec is not None and not rec.paused:
        try:
            desc.__get__(t, Tensor)
        except AttributeError:  # a Tensor being made: no state
            rec.new.add(id(t))
            rec.keep.append(t)
        else:
            if id(t) not in rec.new:
                rec.store(t, "data", v)
    desc.__set__(t, v)


def _get_grad(t):
    g = _SWAPPED["_grad"].__get__(t, Tensor)
    rec = _ACTIVE[0]
    if rec is None or rec.paused or id(t) in rec.new or (id(t), "_grad") in rec.written:
        return g
    return rec.load_grad(t, g)


def _set_grad(t, v):
    rec = _ACTIVE[0]
    if rec is not None and not rec.paused and id(t) not in rec.new:
        rec.store(t, "_grad", v)
    _SWAPPED["_grad"].__set__(t, v)


# ---- NumPy's converters keep a Traced traced (np.asarray of a Traced would be a constant) --------
def _has_traced(a):
    if isinstance(a, Traced):
        return True
    if type(a) in (list, tuple):
        return any(_has_traced(v) for v in a)
    return False


def _traced_asarray(a, *args, **kw):
    if _rec() is not None and _has_traced(a):
        if isinstance(a, Traced) and not args and all(v is None or (k == "dtype" and np.dtype(v) == a.dtype)
                                                      for k, v in kw.items()):
            return a
        return record(_asarray, (a, *args), kw)
    return _asarray(a, *args, **kw)


def _traced_array(a, *args, **kw):
    if _rec() is not None and _has_traced(a):
        return record(_array, (a, *args), kw)
    return _array(a, *args, **kw)


def _traced_ascontiguous(a, *args, **kw):
    if _rec() is not None and _has_traced(a):
        return record(_ascontiguous, (a, *args), kw)
    return _ascontiguous(a, *args, **kw)


# ---- NumPy's constructors make constants of the program (writes into them are then recorded) ------
_CONSTRUCTORS = ("zeros", "ones", "empty", "full", "eye", "identity", "arange", "zeros_like", "ones_like",
                 "empty_like", "full_like", "linspace")
_ORIGINAL = {name: getattr(np, name) for name in _CONSTRUCTORS}


def _constructor(name):
    make = _ORIGINAL[name]

    def construct(*args, **kw):
        if _rec() is None or kw.get("like") is not None:
            return make(*args, **kw)
        return record(make, args, kw)

    return construct


_PATCHED = {name: _constructor(name) for name in _CONSTRUCTORS}
_CREATE.update({fn: True for fn in _ORIGINAL.values()})


# Library functions written in Python that turn their arguments into plain arrays (scipy.special.polygamma
# calls its own asarray): inside a trace each is one recorded call.
_OPAQUE = (("scipy.special", "polygamma"),)


def _opaque(fn):
    def call(*args, **kw):
        if _rec() is not None:
            return record(fn, args, kw)
        return fn(*args, **kw)

    return call


# NumPy's legacy global generator: a draw inside a trace is drawn again on each replay.
# Every draw of its RandomState and the module's aliases (one left out was a constant of the program).
_NP_RANDOM = ("rand", "randn", "random", "random_sample", "ranf", "sample", "normal", "uniform", "randint",
              "random_integers", "choice", "permutation", "standard_normal", "binomial", "poisson", "exponential",
              "beta", "gamma", "chisquare", "dirichlet", "f", "geometric", "gumbel", "hypergeometric", "laplace",
              "logistic", "lognormal", "logseries", "multinomial", "multivariate_normal", "negative_binomial",
              "noncentral_chisquare", "noncentral_f", "pareto", "power", "rayleigh", "standard_cauchy",
              "standard_exponential", "standard_gamma", "standard_t", "triangular", "vonmises", "wald", "weibull",
              "zipf", "bytes", "tomaxint")


# Draws that permute their argument in place: the call, not its swaps, is what each replay must make again.
_NP_IN_PLACE = ("shuffle",)


def _np_draw(fn, mutates=()):
    def draw(*args, **kw):
        if _rec() is not None:
            return record(fn, args, kw, effect=True, mutates=mutates)
        return fn(*args, **kw)

    return draw


def _swap_opaque():
    undo = []
    for attr in _NP_RANDOM + _NP_IN_PLACE:
        fn = getattr(np.random, attr, None)
        if fn is not None:
            setattr(np.random, attr, _np_draw(fn, (0,) if attr in _NP_IN_PLACE else ()))
            undo.append((np.random, attr, fn))
    for module_name, attr in _OPAQUE:
        module = sys.modules.get(module_name)
        if module is not None:
            fn = getattr(module, attr)
            setattr(module, attr, _opaque(fn))
            undo.append((module, attr, fn))
    return undo


# ---- host calls: an optimiser's or scheduler's step runs eagerly on concrete values, every replay --
def _host(orig):
    def step(self, *args, **kw):
        rec = _rec()
        if rec is None:
            return orig(self, *args, **kw)
        if args or kw:
            raise NotImplementedError(
                f"cr.jit: {type(self).__name__}.step with arguments (a closure, a metric) inside a jitted function; "
                f"call it outside, or without arguments")
        return rec.host(orig, (self,))

    step.__wrapped__ = orig
    return step


def _hosted(orig):
    """A function that runs eagerly at its place in every replay (clip_grad_norm_ decides on the norm's value)."""
    def call(*args, **kw):
        rec = _rec()
        if rec is None:
            return orig(*args, **kw)
        return rec.host(orig, args, kw)

    call.__wrapped__ = orig
    return call


_HOSTED = ((_nn_utils, "clip_grad_norm_"),)


@contextmanager
def tracing(rec):
    """While the block runs, ``rec`` records: state reads and writes, conversions, draws and host calls."""
    data, grad = Tensor.__dict__["data"], Tensor.__dict__["_grad"]
    _SWAPPED.update(data=data, _grad=grad)
    steps = (Optimizer.__dict__["step"], LRScheduler.__dict__["step"])
    rng = _random._rng
    proxy = RandomProxy(rng, rec)
    Tensor.data = property(_get_data, _set_data)
    Tensor._grad = property(_get_grad, _set_grad)
    np.asarray, np.array, np.ascontiguousarray = _traced_asarray, _traced_array, _traced_ascontiguous
    for name, fn in _PATCHED.items():
        setattr(np, name, fn)
    _random._rng = proxy
    Optimizer.step, LRScheduler.step = _host(steps[0]), _host(steps[1])
    opaque = _swap_opaque()
    for module, attr in _HOSTED:
        fn = getattr(module, attr)
        setattr(module, attr, _hosted(fn))
        opaque.append((module, attr, fn))
    _ACTIVE[0] = rec
    try:
        yield rec
    finally:
        _ACTIVE[0] = None
        for module, attr, fn in opaque:
            setattr(module, attr, fn)
        Optimizer.step, LRScheduler.step = steps
        if _random._rng is proxy:  # cr.random.seed inside the trace put a generator of its own there
            _random._rng = rng
        np.asarray, np.array, np.ascontiguousarray = _asarray, _array, _ascontiguous
        for name, fn in _ORIGINAL.items():
            setattr(np, name, fn)
        Tensor.data, Tensor._grad = data, grad
