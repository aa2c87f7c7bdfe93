"""The batching rule of each primitive: how to run it on physical values whose axis 0 is the batch.

A rule is ``rule(prim, vals, batched, kw, size)``: ``vals`` are the operands,
the batched ones (``batched[i]``) with the batch axis first; it returns the
physical result, batch axis first. Families share a rule: elementwise
operations align ranks and call the primitive; anything with static axes
shifts them by one; shape operations adjust their static shapes; contractions
add the batch index. Rules are bound to the primitive objects, found by name
in the registry when the first batching level opens (the op families are
imported by then); a primitive with no rule uses the looping fallback.
"""

from __future__ import annotations

import numpy as np

from .batching import BATCH_RULES, fallback, moveaxis, moveaxis_p, put_p, stack_p, take_p
from .primitive import REGISTRY, apply
from .shapes import astype, broadcast_to, sum_to
from .tensor import Tensor

__all__ = ["fallback_primitives", "install"]

_installed = [-1]  # the registry size when the rules were last bound
_ndarray = np.ndarray


# ---- helpers ---------------------------------------------------------------------------
def _shape(v):
    if isinstance(v, (Tensor, _ndarray)):
        return tuple(v.shape)
    if isinstance(v, (list, tuple)):
        return np.shape(v)
    return ()  # scalars, None, dtypes passed as operands (astype(x, np.float64))


def _ndim(v):
    return len(_shape(v))


def _reshape(v, shape):
    from ..ops.shape import reshape_p

    shape = tuple(shape)
    if _shape(v) == shape:
        return v
    return reshape_p(v, shape=shape, in_shape=_shape(v))


def _lift(v, rank):
    """A batched ``v`` with unit axes inserted after the batch axis up to logical rank ``rank``."""
    shape = _shape(v)
    extra = rank - (len(shape) - 1)
    if extra <= 0:
        return v
    return _reshape(v, shape[:1] + (1,) * extra + shape[1:])


def _batch(v, size):
    """An unbatched operand broadcast along a new batch axis."""
    return broadcast_to(v, (size,) + _shape(v))


def _all_batched(vals, bat, size):
    return [v if b else _batch(v, size) for v, b in zip(vals, bat)]


def _shift(axes):
    """Static axes of the logical value, as axes of the physical one (the batch axis is 0)."""
    if axes is None:
        return None
    if isinstance(axes, (tuple, list)):
        return tuple(a + 1 if a >= 0 else a for a in axes)
    return axes + 1 if axes >= 0 else axes


# ---- families --------------------------------------------------------------------------
def elementwise(prim, vals, bat, kw, size):
    """Broadcasting operations: give batched operands the full logical rank, then call the primitive."""
    rank = max(_ndim(v) - b for v, b in zip(vals, bat))
    vals = [_lift(v, rank) if b else v for v, b in zip(vals, bat)]
    return apply(prim, vals, kw)


def leading(prim, vals, bat, kw, size):
    """Operations that act on trailing axes and map over leading ones (a batch axis is one more)."""
    return apply(prim, _all_batched(vals, bat, size), kw)


def axis_rule(*keys, shape_keys=(), none_ok=False):
    """Operations with static axes in ``keys`` (and input shapes in ``shape_keys``): shift them by one."""

    def rule(prim, vals, bat, kw, size):
        kw = dict(kw)
        for k in keys:
            if k in kw:
                if kw[k] is None and not none_ok:
                    return fallback(prim, vals, bat, kw, size)
                kw[k] = _shift(kw[k])
        for k in shape_keys:
            if kw.get(k) is not None:
                kw[k] = (size,) + tuple(kw[k])
        return apply(prim, _all_batched(vals, bat, size), kw)

    return rule


def _flat_arg(prim, vals, bat, kw, size):
    # argmax/argmin with axis=None index the flattened array: flatten each batch element
    if kw.get("axis") is None:
        if kw.get("keepdims"):
            return fallback(prim, vals, bat, kw, size)
        x = _reshape(vals[0], (size, -1) if _shape(vals[0])[1:] else (size, 1))
        return apply(prim, (x,), dict(kw, axis=1))
    return apply(prim, (vals[0],), dict(kw, axis=_shift(kw["axis"])))


def _reshape_rule(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, shape=(size,) + tuple(kw["shape"]), in_shape=(size,) + tuple(kw["in_shape"])))


def _transpose_rule(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, axes=(0,) + _shift(tuple(kw["axes"]))))


def _pad_rule(prim, vals, bat, kw, size):
    if "constant_values" in kw and np.ndim(kw["constant_values"]) != 0:
        return fallback(prim, vals, bat, kw, size)
    return apply(prim, vals, dict(kw, pad_width=((0, 0),) + tuple(kw["pad_width"])))


def _static_shape(vals, kw):
    # the engine passes the target shape positionally (sum_to(g, shape)), wrappers by keyword
    return tuple(kw["shape"] if "shape" in kw else vals[1])


def _broadcast_to_rule(prim, vals, bat, kw, size):
    shape = _static_shape(vals, kw)
    return broadcast_to(_lift(vals[0], len(shape)), (size,) + shape)


def _sum_to_rule(prim, vals, bat, kw, size):
    from ..ops.reduce import sum_p

    x = vals[0]
    shape = _static_shape(vals, kw)
    xs = _shape(x)
    extra = len(xs) - 1 - len(shape)
    if extra > 0:  # sum the leading logical axes first: sum_to would also sum the batch axis
        x = sum_p(x, axis=tuple(range(1, 1 + extra)), keepdims=False, shape=xs)
    return sum_to(_lift(x, len(shape)), (size,) + shape)


def _matmul_rule(prim, vals, bat, kw, size, fold=True):
    a, b = vals
    ba, bb = bat
    sa = _shape(a)[1:] if ba else _shape(a)
    sb = _shape(b)[1:] if bb else _shape(b)
    if fold and ba and not bb and len(sb) <= 2 and len(sa) >= 1:
        # the batch folds into the rows of a: one BLAS call instead of a stack of small ones (4x faster)
        k = sa[-1]
        out = apply(prim, (_reshape(a, (-1, k)), b), kw)
        return _reshape(out, (size,) + sa[:-1] + sb[1:])
    if fold and bb and not ba and len(sa) == 2 and len(sb) >= 1:
        # the batch folds into the columns of b: a @ [b_1 ... b_B]
        k = sa[-1]
        if len(sb) == 1:
            return moveaxis(apply(prim, (a, moveaxis(b, 0, 1)), kw), 1, 0)  # (n, B) -> (B, n)
        cols = _reshape(moveaxis(b, len(sb) - 1, 0), (k, -1))  # (k, B * lead * m)
        out = _reshape(apply(prim, (a, cols), kw), (sa[0], size) + sb[:-2] + sb[-1:])
        return moveaxis(out, 0, len(sb) - 1)  # (B, *lead, n, m)
    promoted = False
    if len(sa) == 1 and ba:  # a batch of row vectors: (B, k) -> (B, 1, k)
        a = _reshape(a, (size, 1) + sa)
        promoted = True
    if len(sb) == 1 and bb:  # a batch of column vectors: (B, k) -> (B, k, 1)
        b = _reshape(b, (size,) + sb + (1,))
        promoted = True
    # give the batched operands the same number of leading (stack) axes after the batch axis
    la = _ndim(a) - ba - 2 if _ndim(a) - ba >= 2 else 0
    lb = _ndim(b) - bb - 2 if _ndim(b) - bb >= 2 else 0
    lead = max(la, lb)
    if ba and la < lead:
        a = _reshape(a, (size,) + (1,) * (lead - la) + _shape(a)[1:])
    if bb and lb < lead:
        b = _reshape(b, (size,) + (1,) * (lead - lb) + _shape(b)[1:])
    out = apply(prim, (a, b), kw)
    if promoted:  # drop the unit axes the promotion added: the logical result of NumPy's matmul
        stacks = np.broadcast_shapes(sa[:-2], sb[:-2])
        final = stacks + sa[-2:-1] * (len(sa) >= 2) + sb[-1:] * (len(sb) >= 2)
        out = _reshape(out, (size,) + tuple(final))
    return out


def _solve_rule(prim, vals, bat, kw, size):
    a, b = vals
    bb = bat[1]
    if _ndim(b) - bb == 1:
        if not bb:  # NumPy solves a stack of systems against one vector
            return apply(prim, (a, b), kw)
        # a batch of vectors: solve against them as columns (B, n, 1), stacks aligned as in matmul
        col = _matmul_rule(prim, (a, _reshape(b, _shape(b) + (1,))), bat, kw, size, fold=False)
        return _reshape(col, _shape(col)[:-1])
    return _matmul_rule(prim, vals, bat, kw, size, fold=False)


def _fresh_letter(subscripts):
    from ..ops.contractions import _LETTERS

    for c in _LETTERS:
        if c not in subscripts:
            return c
    return None


def _einsum_rule(prim, vals, bat, kw, size):
    from ..ops.contractions import _einsum_plan

    subs, targets = _einsum_plan(kw["subscripts"], tuple(tuple(_shape(v)[1:] if b else _shape(v))
                                                         for v, b in zip(vals, bat)))
    z = _fresh_letter(subs)
    if z is None or any(t is not None for t in targets):
        return fallback(prim, vals, bat, kw, size)
    lhs, out = subs.split("->")
    terms = [z + t if b else t for t, b in zip(lhs.split(","), bat)]
    return apply(prim, vals, dict(kw, subscripts=",".join(terms) + "->" + z + out))


def _tensordot_rule(prim, vals, bat, kw, size):
    from ..ops.contractions import _tensordot_subscripts, einsum_p

    a, b = vals
    xa, xb = kw["axes"]
    if bat[0] and not bat[1]:  # a's free axes come first in the result: the batch axis stays in front
        return apply(prim, vals, dict(kw, axes=(_shift(tuple(xa)), tuple(xb))))
    nda, ndb = _ndim(a) - bat[0], _ndim(b) - bat[1]
    la, lb, out = _tensordot_subscripts(nda, ndb, (tuple(xa), tuple(xb)))
    z = _fresh_letter(la + lb)
    la = z + la if bat[0] else la
    return einsum_p(a, b, subscripts=f"{la},{z}{lb}->{z}{out}")


def _diagonal_rule(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, axis1=kw["axis1"] + 1, axis2=kw["axis2"] + 1, shape=(size,) + tuple(kw["shape"])))


# ---- indexing: the batch axis is a leading full slice ----------------------------------
def _batch_position(key):
    """Where NumPy puts the batch axis of ``x[(:,) + key]``: 0, unless the advanced indices are split up."""
    if not any(type(e) is _ndarray or type(e) is bool for e in key):
        return 0
    adv = [i for i, e in enumerate(key) if type(e) is _ndarray or type(e) is bool or type(e) is int]
    if adv == list(range(adv[0], adv[-1] + 1)):
        return 0
    shapes = [key[i].shape if type(key[i]) is _ndarray else (((1,) if key[i] else (0,)) if type(key[i]) is bool else ())
              for i in adv]
    return len(np.broadcast_shapes(*shapes))


def _batched_index(index, size):
    from ..ops.indexing import Index

    return Index((slice(None),) + tuple(index.key), (size,) + tuple(index.shape), index.advanced), _batch_position(
        index.key
    )


def _getitem_rule(prim, vals, bat, kw, size):
    index, p = _batched_index(kw["index"], size)
    return moveaxis(apply(prim, vals, dict(kw, index=index)), p, 0)


def _scatter_add_rule(prim, vals, bat, kw, size):
    index, p = _batched_index(kw["index"], size)
    return apply(prim, (moveaxis(vals[0], 0, p),), dict(kw, index=index))


def _index_update_rule(prim, vals, bat, kw, size):
    index, p = _batched_index(kw["index"], size)
    if p != 0:
        return fallback(prim, vals, bat, kw, size)
    x, v = vals
    if not bat[0]:
        x = _batch(x, size)
    if bat[1]:
        v = _lift(v, len(kw["index"].out_shape))
    return apply(prim, (x, v), dict(kw, index=index))


# ---- neural-network primitives (chainrule.nn.functional) -------------------------------
def _linear_rule(prim, vals, bat, kw, size):
    # x @ Wᵀ + b maps over x's leading axes: a batch axis is one more (a batched weight takes the loop)
    if bat[1] or bat[2]:
        return fallback(prim, vals, bat, kw, size)
    return apply(prim, vals, kw)


def _fold_rule(prim, vals, bat, kw, size):
    """NCHW operations: fold the batch into N, (B, N, ...) -> (B·N, ...), and unfold the result."""
    vals = [v if b or v is None or not isinstance(v, (Tensor, _ndarray)) else _batch(v, size)
            for v, b in zip(vals, bat)]
    n = _shape(vals[0])[1]
    vals = [_reshape(v, (size * n,) + _shape(v)[2:]) if isinstance(v, (Tensor, _ndarray)) else v for v in vals]
    if kw.get("in_shape") is not None:
        kw = dict(kw, in_shape=(size * n,) + tuple(kw["in_shape"])[1:])
    out = apply(prim, vals, kw)
    return _reshape(out, (size, n) + _shape(out)[1:])


def _row_loss_rule(prim, vals, bat, kw, size):
    # cross_entropy / nll_loss (x, target, weight, factor, reduce): rows of every batch element in one call,
    # unreduced, then each element's sum (the mean's 1/N is already in factor)
    from ..ops.reduce import sum_p

    if any(bat[2:]):
        return fallback(prim, vals, bat, kw, size)
    x = vals[0] if bat[0] else _batch(vals[0], size)
    target = vals[1] if bat[1] else _batch(vals[1], size)
    n, c = _shape(x)[1], _shape(x)[2]
    rest = list(vals[2:])
    if "reduce" in kw:
        reduce, kw = kw["reduce"], dict(kw, reduce=False)
    else:
        reduce, rest[-1] = rest[-1], False
    rows = apply(prim, (_reshape(x, (size * n, c)), _reshape(target, (size * n,)), *rest), kw)
    rows = _reshape(rows, (size, n))
    return sum_p(rows, axis=(1,), keepdims=False, shape=(size, n)) if reduce else rows


# ---- the machinery's own primitives ----------------------------------------------------
def _moveaxis_rule(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, src=kw["src"] + 1, dst=kw["dst"] + 1))


def _take_rule(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, axis=kw["axis"] + 1))


def _stack_rule(prim, vals, bat, kw, size):
    return apply(prim, _all_batched(vals, bat, size), dict(kw, axis=kw["axis"] + 1))


# ---- the table -------------------------------------------------------------------------
_ELEMENTWISE_NAMES = ("sigmoid", "relu", "logaddexp", "clip", "_clip_mask", "_positive_mask", "_maximum_weight",
                      "_minimum_weight", "round", "where", "astype")
_AXIS = axis_rule("axis")
_AXIS_SHAPE = axis_rule("axis", shape_keys=("shape",))
_AXES = axis_rule("axes")
_BY_NAME = {
    # reductions and scans: static axis tuple (plus the input shape for the linear ones)
    "sum": _AXIS_SHAPE, "mean": _AXIS_SHAPE, "prod": _AXIS, "max": _AXIS, "min": _AXIS, "var": _AXIS,
    "std": _AXIS, "logsumexp": _AXIS, "cumsum": _AXIS, "any": _AXIS, "all": _AXIS, "count_nonzero": _AXIS,
    "_reduce_tie_weights": _AXIS, "argmax": _flat_arg, "argmin": _flat_arg,
    "softmax": _AXES, "log_softmax": _AXES, "norm": _AXES, "_prod_others": leading,
    # shapes
    "reshape": _reshape_rule, "transpose": _transpose_rule, "expand_dims": _AXIS, "squeeze": _AXIS,
    "concatenate": _AXIS, "stack": _AXIS, "flip": _AXIS, "repeat": _AXIS, "_sum_repeats": _AXIS,
    "crop": _pad_rule, "pad": _pad_rule, "broadcast_to": _broadcast_to_rule, "sum_to": _sum_to_rule,
    # indexing
    "getitem": _getitem_rule, "scatter_add": _scatter_add_rule, "index_update": _index_update_rule,
    # linear algebra
    "matmul": _matmul_rule, "einsum": _einsum_rule, "tensordot": _tensordot_rule, "diagonal": _diagonal_rule,
    "inv": leading, "det": leading, "solve": _solve_rule,
    # neural networks
    "linear": _linear_rule, "binary_cross_entropy": elementwise, "one_hot": leading,
    "cross_entropy": _row_loss_rule, "nll_loss": _row_loss_rule, "im2col": _fold_rule, "col2im": _fold_rule,
    "max_pool2d": _fold_rule, "max_pool2d_gather": _fold_rule, "max_pool2d_scatter": _fold_rule,
}


def install():
    """Bind the rules to the primitives that exist now (cheap after the first call)."""
    if _installed[0] == len(REGISTRY):
        return
    _installed[0] = len(REGISTRY)
    BATCH_RULES[moveaxis_p] = _moveaxis_rule
    BATCH_RULES[take_p] = _take_rule
    BATCH_RULES[put_p] = _take_rule
    BATCH_RULES[stack_p] = _stack_rule
    BATCH_RULES[astype] = elementwise
    for name, prim in REGISTRY.items():
        rule = _BY_NAME.get(name)
        if rule is None and (isinstance(prim.impl, np.ufunc) or name in _ELEMENTWISE_NAMES):
            rule = elementwise
        if rule is not None:
            BATCH_RULES.setdefault(prim, rule)


def fallback_primitives():
    """Names of the registered primitives that have no batching rule (they loop over the batch)."""
    install()
    return sorted(name for name, prim in REGISTRY.items() if prim not in BATCH_RULES)
