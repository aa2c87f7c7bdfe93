"""The generic batching rules: the ones whole families of primitives share, named on their declarations.

A rule is ``rule(prim, vals, batched, kw, size)``: ``vals`` are the operands,
the batched ones (``batched[i]``) with the batch axis first; it returns the
physical result, batch axis first. Each primitive names its rule on its
declaration (``Primitive(..., batch=rule)``); the rules here need no knowledge
of any family: broadcasting operations align ranks and call the primitive
(:func:`elementwise`), operations with static axes shift them by one
(:func:`axis_rule`), operations that map over leading axes take the batch as one
more (:func:`leading`). A rule that knows its family (einsum's subscripts,
indexing's keys) is written next to its primitive; a primitive with no rule
uses the looping fallback.
"""

from __future__ import annotations

import numpy as np

from .batching import fallback, with_batch
from .primitive import REGISTRY, apply
from .shapes import lift, reshape_to, shape_of
from .state import STATE

_ndarray = np.ndarray

__all__ = ["all_batched", "axis_rule", "elementwise", "fallback", "fallback_primitives", "leading", "lift",
           "ndim_of", "reshape_to", "shape_of", "shift", "with_batch"]


def ndim_of(v):
    """The number of axes of an operand (0 for scalars and static values).

    >>> ndim_of([[1.0, 2.0]]), ndim_of(3.0)
    (2, 0)
    """
    return len(shape_of(v))


def all_batched(vals, bat, size):
    """Every operand batched: the unbatched ones broadcast along a new batch axis."""
    return [v if b else with_batch(v, size) for v, b in zip(vals, bat)]


def shift(axes):
    """Static axes of the logical value, as axes of the physical one (the batch axis is 0).

    >>> shift((0, 2)), shift(-1), shift(None)
    ((1, 3), -1, None)
    """
    if axes is None:
        return None
    if isinstance(axes, (tuple, list)):
        return tuple(a + 1 if a >= 0 else a for a in axes)
    return axes + 1 if axes >= 0 else axes


def elementwise(prim, vals, bat, kw, size):
    """Broadcasting operations: give batched operands the full logical rank, then call the primitive."""
    if STATE.raw:  # on bare arrays (batching._on_arrays): NumPy's reshape and the impl, as apply would run them
        rank = 0
        for v, b in zip(vals, bat):
            n = (v.ndim if type(v) is _ndarray else ndim_of(v)) - b
            if n > rank:
                rank = n
        vals = [_lift_array(v, rank) if b else v for v, b in zip(vals, bat)]
        return prim(*vals, **kw)
    rank = max(ndim_of(v) - b for v, b in zip(vals, bat))
    vals = [lift(v, rank) if b else v for v, b in zip(vals, bat)]
    return apply(prim, vals, kw)


def _lift_array(v, rank):
    if type(v) is not _ndarray:
        return lift(v, rank)
    extra = rank - (v.ndim - 1)
    if extra <= 0:
        return v
    shape = v.shape
    return v.reshape(shape[:1] + (1,) * extra + shape[1:])


# These rules use primitives alone, so they run on bare arrays when nothing is recorded (batching._on_arrays)
elementwise.raw_ok = True


def leading(prim, vals, bat, kw, size):
    """Operations that act on trailing axes and map over leading ones (a batch axis is one more)."""
    return apply(prim, all_batched(vals, bat, size), kw)


leading.raw_ok = True


def axis_rule(*keys, shape_keys=(), none_ok=False):
    """Operations with static axes in ``keys`` (and input shapes in ``shape_keys``): shift them by one.

    A key that is None (all axes) takes the loop unless ``none_ok``.

    >>> rule = axis_rule("axis", shape_keys=("shape",))
    >>> rule.__name__
    'axis_rule'
    """

    def rule(prim, vals, bat, kw, size):
        kw = dict(kw)
        for k in keys:
            if k in kw:
                if kw[k] is None and not none_ok:
                    return fallback(prim, vals, bat, kw, size)
                kw[k] = shift(kw[k])
        for k in shape_keys:
            if kw.get(k) is not None:
                kw[k] = (size,) + tuple(kw[k])
        return apply(prim, all_batched(vals, bat, size), kw)

    rule.__name__ = "axis_rule"
    rule.raw_ok = True
    return rule


def fallback_primitives():
    """Names of the registered primitives that have no batching rule (they loop over the batch).

    >>> "sin" in fallback_primitives()
    False
    """
    return sorted(name for name, prim in REGISTRY.items() if prim.batch is None)
