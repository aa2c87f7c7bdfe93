"""Losses, numerically stable: cross_entropy fused from log_softmax, nll_loss, mse_loss, binary cross-entropies."""

from __future__ import annotations

import numpy as np

from ...core.batching import Batched, innermost
from ...core.batching_rules import elementwise as _broadcasting, fallback, leading, reshape_to, shape_of, with_batch
from ...core.primitive import Primitive, apply
from ...core.tensor import Tensor
from ...extend import nondifferentiable
from ...creation import tensor
from ...ops.elementwise import log, logaddexp, maximum, where
from ...ops.reduce import sum_p
from ...ops.shape import transpose
from ...ops.special import log_softmax, softmax

__all__ = ["mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "LabelError"]

_REDUCTIONS = ("mean", "sum", "none")


class LabelError(ValueError, IndexError):
    """A class label outside [0, num_classes): a ValueError, and an IndexError as PyTorch raises."""


def _one_hot_impl(target, num_classes, dtype):
    out = np.zeros((target.size, num_classes), dtype=dtype)
    out[np.arange(target.size), target.reshape(-1)] = 1
    return out.reshape(target.shape + (num_classes,))


_one_hot = nondifferentiable("one_hot", _one_hot_impl, batch=leading)


def _like(weight, x):
    """Constant per-row weights in the input's dtype (float32 losses stay float32)."""
    return None if weight is None else weight.astype(x.dtype, copy=False)


def _scale(g, weight, factor, reduce):
    """The per-row coefficient that multiplies a row's derivative: ḡ · factor (· weight), as a column."""
    s = g * factor if reduce else g.reshape(-1, 1) * factor
    if weight is not None:
        s = s * weight.reshape(-1, 1)
    return s


def _per_row(v, weight, factor, reduce):
    """Weighted, scaled and (optionally) summed per-row values: the loss's reduction."""
    if weight is not None:
        v = v * weight
    v = v * factor
    return v.sum() if reduce else v


# ---- cross_entropy: one node for log_softmax + pick + reduce -----------------------------
def _cross_entropy(x, target, weight, factor, reduce):
    z = x - x.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        lse = np.log(np.exp(z).sum(axis=1))
    loss = lse - z[np.arange(len(target)), target]  # -log softmax(x)[target]
    return _per_row(loss, _like(weight, x), factor, reduce)


def _xent_delta(x, target):
    return softmax(x, axis=-1) - _one_hot(target, num_classes=x.shape[-1], dtype=x.dtype)


# ℓᵢ = logsumexp(xᵢ) - xᵢ,ₜᵢ:  ∂ℓᵢ/∂xᵢ = softmax(xᵢ) - onehot(tᵢ)
def _loss_args(kw, shapes):
    # the reduction is folded into a factor; 1/N is the default "mean"
    if not kw["reduce"]:
        return [("reduction", "none")]
    rows = shapes[1][0] if shapes[1] else 1
    if kw["factor"] == 1 and rows > 1:
        return [("reduction", "sum")]
    return []


def _row_loss_batch(prim, vals, bat, kw, size):
    # cross_entropy / nll_loss (x, target, weight, factor, reduce): rows of every batch element in one call,
    # unreduced, then each element's sum (the mean's 1/N is already in factor)
    if any(bat[2:]):
        return fallback(prim, vals, bat, kw, size)
    x = vals[0] if bat[0] else with_batch(vals[0], size)
    target = vals[1] if bat[1] else with_batch(vals[1], size)
    n, c = shape_of(x)[1], shape_of(x)[2]
    rest = list(vals[2:])
    if "reduce" in kw:
        reduce, kw = kw["reduce"], dict(kw, reduce=False)
    else:
        reduce, rest[-1] = rest[-1], False
    rows = apply(prim, (reshape_to(x, (size * n, c)), reshape_to(target, (size * n,)), *rest), kw)
    rows = reshape_to(rows, (size, n))
    return sum_p(rows, axis=(1,), keepdims=False, shape=(size, n)) if reduce else rows


cross_entropy_p = Primitive(
    "cross_entropy",
    _cross_entropy,
    vjp=(
        lambda g, ans, x, target, weight, factor, reduce: _xent_delta(x, target) * _scale(g, weight, factor, reduce),
        None,  # labels are integers
        None,  # class weights are constants
    ),
    jvp=(
        lambda t, ans, x, target, weight, factor, reduce: _per_row(
            (_xent_delta(x, target) * t).sum(axis=-1), weight, factor, reduce
        ),
    ),
    save=("args",),
    batch=_row_loss_batch,
    call_args=_loss_args,
)


# ---- nll_loss: pick -x[i, tᵢ]: linear in x -------------------------------------------------
def _nll(x, target, weight, factor, reduce):
    picked = x[np.arange(len(target)), target]
    return _per_row(-picked, _like(weight, x), factor, reduce)


def _nll_delta(x, target):
    return -_one_hot(target, num_classes=x.shape[-1], dtype=x.dtype)


# ℓᵢ = -xᵢ,ₜᵢ:  x̄ᵢ = -ḡ onehot(tᵢ)
nll_loss_p = Primitive(
    "nll_loss",
    _nll,
    vjp=(lambda g, ans, x, target, weight, factor, reduce: _nll_delta(x, target) * _scale(g, weight, factor, reduce),),
    jvp=(
        lambda t, ans, x, target, weight, factor, reduce: _per_row(
            (_nll_delta(x, target) * t).sum(axis=-1), weight, factor, reduce
        ),
    ),
    save=("args",),
    batch=_row_loss_batch,
    call_args=_loss_args,
)


def _data(a):
    return a.data if isinstance(a, Tensor) else np.asarray(a)


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of 'mean', 'sum', 'none', got {reduction!r}")


def _labels(input, target, weight, ignore_index, reduction, op):
    """Validate class labels; return (rows of input, labels, per-row weights or None, factor, reduce, out shape)."""
    shape = tuple(input.shape)
    t = _data(target)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold integer class labels, got dtype {t.dtype} (for class probabilities pass a "
            f"float target with the input's shape {shape} to cross_entropy)"
        )
    if len(shape) == 0:
        raise ValueError(f"{op}: input must have a class axis, got a 0-d input")
    batched = len(shape) >= 2
    c = shape[1] if batched else shape[0]
    want = (shape[0],) + shape[2:] if batched else ()
    if t.shape != want:
        raise ValueError(f"{op}: target shape {t.shape} does not match input shape {shape}; expected {want}")
    x = input
    if not batched:
        x = x.reshape(1, c)
    elif len(shape) > 2:  # (N, C, d1, ...) -> (N·d1·..., C)

        x = transpose(x, (0,) + tuple(range(2, len(shape))) + (1,)).reshape(-1, c)
    t = t.reshape(-1)
    in_range = t.size == 0 or (t.min() >= 0 and t.max() < c)
    if weight is None and in_range and not (0 <= ignore_index < c and (t == ignore_index).any()):
        # the common case, checked with two reductions: every label valid, none ignored (an ignore_index
        # that is itself a class, say 0 for padding, needs the look for it)
        if reduction == "mean":
            return x, t, None, (1.0 / t.size if t.size else float("nan")), True, want
        return x, t, None, 1.0, reduction != "none", want
    ignored = t == ignore_index
    bad = ~ignored & ((t < 0) | (t >= c))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise LabelError(
            f"{op}: target label {int(t[pos])} (at flat position {pos}) is out of range for {c} classes; labels "
            f"must be in [0, {c - 1}]" + (f" or equal ignore_index={ignore_index}" if ignore_index != -100 else "")
        )
    has_ignored = bool(ignored.any())
    if has_ignored:
        t = np.where(ignored, 0, t)
    w = None
    if weight is not None:
        cw = _data(weight)
        if cw.shape != (c,):
            raise ValueError(f"{op}: weight must have one entry per class, shape ({c},), got {cw.shape}")
        w = cw[t].astype(input.dtype, copy=False)
    if has_ignored:
        w = (np.ones(t.shape, dtype=input.dtype) if w is None else w.copy())
        w[ignored] = 0
    reduce = reduction != "none"
    if reduction == "mean":
        denom = float(t.size) if w is None else float(w.sum())
        factor = 1.0 / denom if denom else float("nan")  # PyTorch: the mean of nothing is nan
    else:
        factor = 1.0
    return x, t, w, factor, reduce, want


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` (N, C) against integer labels ``target`` (N,).

    Fused: one stable log-sum-exp forward, ``softmax - onehot`` backward.
    Also accepts (C,) with a 0-d label, (N, C, d1, ...) with (N, d1, ...), class
    probabilities as a float ``target`` of the input's shape, ``weight`` per
    class, ``ignore_index`` and ``label_smoothing`` (PyTorch's meanings).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> logits = cr.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
    >>> loss = F.cross_entropy(logits, np.array([0, 1]))
    >>> round(loss.item(), 4)
    0.1269
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    tdata = _data(target)
    if tdata.dtype.kind == "f" and tdata.shape == tuple(input.shape):
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    if type(target) is Batched:
        return _batched_labels(cross_entropy_p, input, target, weight, ignore_index, reduction, label_smoothing)
    x, t, w, factor, reduce, shape = _labels(input, target, weight, ignore_index, reduction, "cross_entropy")
    loss = cross_entropy_p(x, t, w, factor=factor, reduce=reduce)
    if label_smoothing:
        # (1-ε)·CE + ε·mean over classes of -log p, each row weighted as PyTorch does
        c = x.shape[-1]
        cw = None if weight is None else _data(weight).astype(x.dtype, copy=False)
        lsm = log_softmax(x, axis=-1)
        smooth = -(lsm if cw is None else lsm * cw).sum(axis=-1) * (1.0 / c)
        flat = _data(target).reshape(-1)
        keep = (flat != ignore_index).astype(x.dtype) if (flat == ignore_index).any() else None
        smooth = _per_row(smooth, keep, factor, reduce)
        loss = loss * (1.0 - label_smoothing) + smooth * label_smoothing
    return loss if reduce else loss.reshape(shape)


def _soft_cross_entropy(input, target, weight, reduction, label_smoothing):
    shape = tuple(input.shape)
    if tuple(_data(target).shape) != shape:
        raise ValueError(
            f"cross_entropy: a float target holds class probabilities and must have the input's shape {shape}, "
            f"got {tuple(_data(target).shape)}"
        )
    axis = 1 if len(shape) >= 2 else 0
    c = shape[axis]
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / c
    terms = log_softmax(input, axis=axis) * target
    if weight is not None:
        cw = _data(weight).astype(input.dtype, copy=False)
        terms = terms * cw.reshape((c,) + (1,) * (len(shape) - axis - 1))
    loss = -terms.sum(axis=axis)
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C) at integer labels ``target`` (N,).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.nll_loss(cr.tensor([[-0.5, -1.0]]), np.array([1])).item()
    1.0
    """
    _check_reduction(reduction, "nll_loss")
    if type(target) is Batched:
        return _batched_labels(nll_loss_p, input, target, weight, ignore_index, reduction, 0.0)
    x, t, w, factor, reduce, shape = _labels(input, target, weight, ignore_index, reduction, "nll_loss")
    loss = nll_loss_p(x, t, w, factor=factor, reduce=reduce)
    return loss if reduce else loss.reshape(shape)


def _batched_labels(prim, input, target, weight, ignore_index, reduction, label_smoothing):
    """Loss at labels batched inside vmap (per-example gradients): the labels have no one concrete value, so
    they are checked on their physical array and ignore_index and weights become per-row factors."""
    op = prim.name
    shape = tuple(input.shape)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class labels, got dtype {target.dtype}")
    if len(shape) == 0:
        raise ValueError(f"{op}: input must have a class axis, got a 0-d input")
    batched = len(shape) >= 2
    c = shape[1] if batched else shape[0]
    want = (shape[0],) + shape[2:] if batched else ()
    if tuple(target.shape) != want:
        raise ValueError(
            f"{op}: target shape {tuple(target.shape)} does not match input shape {shape}; expected {want}"
        )
    every = innermost(target).data  # every example's labels at once
    ignored_all = every == ignore_index
    bad = ~ignored_all & ((every < 0) | (every >= c))
    if bad.any():
        raise LabelError(f"{op}: target label {int(every[bad][0])} is out of range for {c} classes; labels must be "
                         f"in [0, {c - 1}]")
    x = input.reshape(1, c) if not batched else input
    if len(shape) > 2:
        x = transpose(x, (0,) + tuple(range(2, len(shape))) + (1,)).reshape(-1, c)
    t = target.reshape(-1)
    keep = None
    if ignored_all.any():
        keep = (t != ignore_index).astype(x.dtype)
        t = where(t == ignore_index, 0, t)
    w = keep
    if weight is not None:
        cw = _data(weight)
        if cw.shape != (c,):
            raise ValueError(f"{op}: weight must have one entry per class, shape ({c},), got {cw.shape}")
        w = tensor(cw.astype(x.dtype, copy=False))[t] * (1.0 if keep is None else keep)
    rows = prim(x, t, None, factor=1.0, reduce=False)
    if w is not None:
        rows = rows * w
    if label_smoothing:  # as cross_entropy: the smoothing term has its class weights, ignored rows drop out
        lsm = log_softmax(x, axis=-1)
        cwt = None if weight is None else _data(weight).astype(x.dtype, copy=False)
        smooth = -(lsm if cwt is None else lsm * cwt).sum(axis=-1) * (1.0 / c)
        rows = rows * (1.0 - label_smoothing) + (smooth if keep is None else smooth * keep) * label_smoothing
    if reduction == "none":
        return rows.reshape(want)
    if reduction == "sum":
        return rows.sum()
    return rows.sum() / (w.sum() if w is not None else float(t.size))


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.sum() / loss.size if loss.size else loss.sum() * float("nan")  # mean of nothing: nan
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(input, target, op):
    a, b = shape_of(input), shape_of(target)
    if a != b:
        raise ValueError(
            f"{op}: input shape {a} and target shape {b} differ; they must match (a silent broadcast of, say, "
            f"(N, 1) against (N,) would compare every pair)"
        )


def mse_loss(input, target, reduction="mean"):
    """Mean squared error ``mean((input - target)²)``.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.mse_loss(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 1.0])).item()
    2.5
    """
    _check_reduction(reduction, "mse_loss")
    _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


# ---- binary cross-entropy on probabilities ------------------------------------------------
def _clamped_logs(p):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)


def _bce(p, t):
    # NOTE: log terms clamped at -100 as PyTorch does, so p = 0 or 1 gives a finite loss
    lp, l1p = _clamped_logs(p)
    return -(t * lp + (1 - t) * l1p)


def _bce_dp(g, ans, p, t):
    # ∂ℓ/∂p = (p - t) / (p (1 - p)), the denominator clamped at 1e-12 (PyTorch's formula)
    return g * (p - t) / maximum(p * (1 - p), 1e-12)


def _bce_dt(g, ans, p, t):
    # ∂ℓ/∂t = log(1 - p) - log p, with the same clamps as the forward
    return g * (maximum(log(1 - p), -100) - maximum(log(p), -100))


bce_p = Primitive(
    "binary_cross_entropy",
    _bce,
    vjp=(_bce_dp, _bce_dt),
    jvp=(lambda t_, ans, p, t: _bce_dp(t_, ans, p, t), lambda t_, ans, p, t: _bce_dt(t_, ans, p, t)),
    save=("args",),
    batch=_broadcasting,
)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``input`` in [0, 1].

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> round(F.binary_cross_entropy(cr.tensor([0.5]), cr.tensor([1.0])).item(), 4)
    0.6931
    """
    _check_reduction(reduction, "binary_cross_entropy")
    _same_shape(input, target, "binary_cross_entropy")
    p = _data(input)
    if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities); "
                         "for logits use binary_cross_entropy_with_logits")
    loss = bce_p(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable expression: ``(1 - t) z + l·log(1 + e^(-z))``.

    ``l = 1 + (pos_weight - 1) t``; the gradient is ``sigmoid(z) - t`` when
    ``pos_weight`` is None, exact at z = 0 and finite at |z| = 1000.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> round(F.binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)
    0.6931
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    softplus_neg = logaddexp(0, -input)  # log(1 + e^(-z)), stable on both sides
    if pos_weight is not None:
        softplus_neg = (1 + (pos_weight - 1) * target) * softplus_neg
    loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
