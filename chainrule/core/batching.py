"""Batching (vmap): a value batched at a level carries every batch element, batch axis first.

Batched tangents are vmap in disguise: ``jacfwd`` pushes all n basis tangents
through the jvp rules in one pass, ``jacrev`` all m basis cotangents through
the vjp rules, and every rule that takes an ``axis=``, reshapes, indexes or
contracts sees one extra leading axis. That is solved here, once, by a
batching rule per primitive (JAX's ``batching.py``): ``apply`` sends any
operation with an operand batched at a live level to :func:`apply_batched`,
which moves the work to the "physical" arrays (batch axis in front) and calls
the rule the primitive declares (``prim.batch``; the generic ones are in
``batching_rules.py``); a primitive without a rule falls back to a loop over
the batch, which is always correct, only slower.

Levels share their tags with forward mode (``state.open_level``): a batched value
may carry tangents, a tangent may be batched, and levels nest (``hessian`` is
``jacfwd`` of ``jacrev``: two batching levels and a forward level at once).
The highest level is always the outermost wrapper.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .concrete import error as concretization_error
from .primitive import _HOOKS, Primitive, apply
from .shapes import broadcast_to, moveaxis, moveaxis_p, shape_of
from .state import STATE, close_level, open_level
from .tensor import Tensor, wrap

__all__ = [
    "Batched",
    "apply_batched",
    "batch_levels",
    "from_level",
    "innermost",
    "level_size",
    "moveaxis",
    "moveaxis_p",
    "random_levels",
    "stack",
    "take",
    "to_level",
    "vmap_level",
    "with_batch",
]

class _Aval:
    """The shape and dtype of a batched value's logical array (what ``.data`` gives inside vmap)."""

    __slots__ = ("dtype", "ndim", "shape", "size")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype
        self.ndim = len(shape)
        self.size = math.prod(shape)

    def __array__(self, dtype=None, copy=None):
        raise concretization_error("np.asarray(x)", batched=True)


def _fail(call):
    """A conversion of a batched value: it has no single concrete value (ConcretizationError names ``call``)."""

    def fail(*args, **kw):
        raise concretization_error(call, batched=True)

    return fail


class Batched(Tensor):
    """A Tensor standing for a batch of values at vmap level ``level``.

    ``val`` is the physical value (a Tensor, possibly batched at a lower level,
    possibly carrying a graph node and tangents) whose axis 0 is the batch;
    the logical shape (``.shape``) leaves it out. Operations on a Batched go
    through batching rules, so user code inside ``vmap`` sees one example.
    """

    __slots__ = ("level", "val")

    def __repr__(self):
        return f"Batched(level={self.level}, shape={self.shape}, dtype={self.dtype}, val={self.val!r})"

    def detach(self):
        return make(self.val.detach(), self.level)

    item, tolist, numpy, __array__ = _fail("x.item()"), _fail("x.tolist()"), _fail("x.numpy()"), _fail("np.asarray(x)")
    __float__, __int__, __bool__ = _fail("float(x)"), _fail("int(x)"), _fail("bool(x)")
    __index__ = _fail("x as an index")
    __reduce__ = __deepcopy__ = _fail("copying or pickling x")

    def requires_grad_(self, requires_grad=True):
        raise RuntimeError("requires_grad_: a batched value inside vmap cannot become a leaf; use cr.grad inside vmap")


_new = object.__new__
_prod = math.prod


def make(val, level):
    """The Batched value at ``level`` whose physical value is ``val`` (batch axis 0)."""
    if not isinstance(val, Tensor):
        val = wrap(np.asarray(val))
    b = _new(Batched)
    b.val = val
    b.level = level
    shape = val.shape
    b.data = aval = _new(_Aval)  # _Aval(shape[1:], val.dtype), without a class call: one per batched operation
    aval.shape = shape = shape[1:]
    aval.dtype = val.dtype
    aval.ndim = len(shape)
    aval.size = _prod(shape)
    b._node = None
    b._fw = None
    b._grad = None
    return b


# ---- levels ------------------------------------------------------------------------
class _Sizes(threading.local):
    def __init__(self):
        self.sizes = {}
        self.randomness = {}  # {tag: "different" | "same" | "error"}: what cr.random does inside that level


_LIVE = _Sizes()


class vmap_level:
    """Open a batching level of batch size ``size``; ``with vmap_level(n) as lv:`` gives its tag."""

    __slots__ = ("size", "tag", "randomness")

    def __init__(self, size, randomness="same"):
        # "same" unless cr.vmap asks: the basis levels of jacfwd/jacrev/hessian differentiate one function,
        # with one draw of whatever it samples
        self.size = int(size)
        self.randomness = randomness

    def __enter__(self):
        self.tag = open_level()
        STATE.set(vmap=STATE.vmap + 1)
        _LIVE.sizes[self.tag] = self.size
        _LIVE.randomness[self.tag] = self.randomness
        return self.tag

    def __exit__(self, *exc):
        del _LIVE.sizes[self.tag]
        del _LIVE.randomness[self.tag]
        STATE.set(vmap=STATE.vmap - 1)
        close_level(self.tag)
        return False


def level_size(level):
    """The batch size of live level ``level``."""
    return _LIVE.sizes[level]


def random_levels():
    """``[(tag, size, randomness), ...]`` for the live vmap levels, innermost (lowest) first."""
    return [(t, _LIVE.sizes[t], _LIVE.randomness[t]) for t in sorted(_LIVE.sizes)]


def batch_levels(x):
    """The levels at which ``x`` is batched, outermost (highest) first."""
    out = []
    while type(x) is Batched:
        out.append(x.level)
        x = x.val
    return out


def innermost(x):
    """The value under all of ``x``'s batch levels (``x`` itself when it is not batched): the Tensor that
    carries the graph node, physical shape, batch axes first."""
    while type(x) is Batched:
        x = x.val
    return x


# ---- apply ---------------------------------------------------------------------------
def apply_batched(prim, args, kw):
    """``prim`` on ``args`` where some operand is Batched: run its batching rule at the highest level.

    Returns NotImplemented when no operand is batched (``apply`` then runs as usual).
    """
    top = 0
    for a in args:
        if type(a) is Batched and a.level > top:
            top = a.level
    if not top:
        return NotImplemented
    vals = []
    bat = []
    size = None
    arrays = []  # the operands as bare arrays, while every one can be (see _on_arrays)
    for a in args:
        if type(a) is Batched and a.level == top:
            v = a.val
            vals.append(v)
            bat.append(True)
            if size is None:
                size = v.shape[0]
            elif v.shape[0] != size:
                raise ValueError(f"{prim.name}: batched operands of sizes {size} and {v.shape[0]} at one level")
        else:
            v = a
            vals.append(a)
            bat.append(False)
        if arrays is not None:
            if isinstance(v, Tensor):
                if type(v) is not Tensor or v._node is not None or v._fw is not None:
                    arrays = None
                    continue
                v = v.data
            arrays.append(v)
    rule = prim.batch
    out = None
    if arrays is not None and rule is not None and getattr(rule, "raw_ok", False) and not _HOOKS:
        out = _on_arrays(prim, rule, arrays, bat, kw, size)
    if out is None:
        out = (fallback if rule is None else rule)(prim, vals, bat, kw, size)
    if prim.nondiff and not isinstance(out, Tensor):
        out = wrap(np.asarray(out))
    return make(out, top)


def _on_arrays(prim, rule, arrays, bat, kw, size):
    """The batching rule run on the bare operand arrays (``STATE.raw``, as a first-order backward pass runs
    the reverse rules), or None to take the usual path.

    When no operand is on a graph, carries a tangent or is batched at another level (the basis tangents of
    ``jacfwd``, the cotangents of ``jacrev``, ``vmap`` of a plain function), the operations a rule applies
    record nothing, so running them on arrays gives the same values without an ``apply`` per step.
    Only rules marked ``raw_ok`` (written with primitives alone, never reading ``.data``) come here;
    ``apply_batched`` hands over ``arrays`` only when every operand is plain (a plain Tensor's data).
    """
    state = STATE
    raw, grad = state.raw, state.grad
    if raw and not grad:  # already so (a forward rule run on arrays, core/tangents.py)
        try:
            out = rule(prim, arrays, bat, kw, size)
        except (ValueError, TypeError, IndexError):
            return None
    else:
        state.set(raw=True, grad=False)
        try:
            out = rule(prim, arrays, bat, kw, size)
        except (ValueError, TypeError, IndexError):
            return None  # the usual path raises the same error, with the operation's name and shapes
        finally:
            state.set(raw=raw, grad=grad)
    if isinstance(out, Tensor):
        return out
    return wrap(out if type(out) is np.ndarray else np.asarray(out))


def fallback(prim, vals, bat, kw, size, call=None):
    """The rule of last resort: apply ``prim`` to each batch element and stack the results.

    Correct for every primitive (the slicing and stacking are primitives with
    rules, so graphs and tangents flow through), but one Python pass per element.
    """
    if call is None:
        def call(*a):
            return apply(prim, a, kw)
    outs = []
    for i in range(size):
        outs.append(call(*[take(v, i, 0, size) if b else v for v, b in zip(vals, bat)]))
    return stack(outs, 0)


# ---- moving between a level and its physical value -------------------------------------
def to_level(x, level):
    """``x`` as seen from inside ``level``: that level's batch axis becomes logical axis 0.

    Higher levels stay wrappers (their axis moves in front again); a value not
    batched at ``level`` is broadcast along a new axis 0.
    """
    if type(x) is Batched:
        if x.level == level:
            return x.val
        if x.level > level:
            inner = to_level(x.val, level)  # logical (n_x, size, ...)
            return make(moveaxis(inner, 1, 0), x.level)
    if not isinstance(x, Tensor):
        x = wrap(np.asarray(x))
    return broadcast_to(x, (level_size(level),) + x.shape)


def from_level(y, level):
    """The inverse of :func:`to_level`: ``y``'s logical axis 0 becomes the batch axis of ``level``."""
    if type(y) is Batched and y.level > level:
        return make(from_level(moveaxis(y.val, 1, 0), level), y.level)
    return make(y, level)


# ---- three internal primitives the machinery itself needs (never registered; the fourth, moveaxis, is in
# shapes.py) -- their batching rules: a batched operand's static axis moves one place right.
def _take_rule(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, axis=kw["axis"] + 1))


_take_rule.raw_ok = True  # see _on_arrays: this rule and the others marked so use primitives alone


def with_batch(v, size):
    """An unbatched operand broadcast along a new batch axis."""
    return broadcast_to(v, (size,) + shape_of(v))


def _stack_rule(prim, vals, bat, kw, size):
    vals = [v if b else with_batch(v, size) for v, b in zip(vals, bat)]
    return apply(prim, vals, dict(kw, axis=kw["axis"] + 1))


_stack_rule.raw_ok = True


def _take(x, index, axis, n):
    return x[(slice(None),) * axis + (index,)]


def _put(g, index, axis, n):
    shape = g.shape[:axis] + (n,) + g.shape[axis:]
    out = np.zeros(shape, dtype=g.dtype)
    out[(slice(None),) * axis + (index,)] = g
    return out


# take and put are a linear pair: each one's vjp is the other, each one's jvp is itself.
take_p = Primitive(
    "_vmap_take",
    _take,
    vjp=(lambda g, ans, x, index, axis, n: put_p(g, index=index, axis=axis, n=n),),
    jvp=(lambda t, ans, x, index, axis, n: take_p(t, index=index, axis=axis, n=n),),
    save=(),
    register=False,
    batch=_take_rule,
)
put_p = Primitive(
    "_vmap_put",
    _put,
    vjp=(lambda g, ans, x, index, axis, n: take_p(g, index=index, axis=axis, n=n),),
    jvp=(lambda t, ans, x, index, axis, n: put_p(t, index=index, axis=axis, n=n),),
    save=(),
    register=False,
    batch=_take_rule,
)


def take(x, index, axis, n):
    """``x[..., index, ...]`` along ``axis`` (of size ``n``), differentiable and batchable."""
    return take_p(x, index=index, axis=axis, n=n)


def _stack(*xs, axis):
    return np.stack(xs, axis=axis)


stack_p = Primitive(
    "_vmap_stack",
    _stack,
    vjp=lambda i, g, ans, *xs, axis: take_p(g, index=i, axis=axis, n=len(xs)),  # x̄ᵢ = ḡ[i]
    jvp=lambda ts, ans, *xs, axis: stack_p(*ts, axis=axis),
    joint_jvp=True,
    variadic=True,
    save=(),
    register=False,
    batch=_stack_rule,
)


def stack(xs, axis):
    """``np.stack(xs, axis)``, differentiable and batchable."""
    return stack_p(*xs, axis=axis)
