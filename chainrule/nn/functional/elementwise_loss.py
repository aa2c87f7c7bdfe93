"""Elementwise losses composed from differentiable ops: L1, smooth L1, Huber and Kullback-Leibler divergence."""

from __future__ import annotations

from ...ops.elementwise import abs as _abs, exp, less, where
from .loss import _check_reduction, _reduce, _same_shape

__all__ = ["l1_loss", "smooth_l1_loss", "huber_loss", "kl_div"]


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error ``mean(|input - target|)`` (derivative 0 where they are equal, as PyTorch).

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.l1_loss(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 1.0])).item()
    1.5
    """
    _check_reduction(reduction, "l1_loss")
    _same_shape(input, target, "l1_loss")
    return _reduce(_abs(input - target), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """``0.5·d²/β`` where ``|d| < β``, else ``|d| - 0.5·β`` (``d = input - target``); ``β = 0`` is L1.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.smooth_l1_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="sum").item()
    2.625
    """
    _check_reduction(reduction, "smooth_l1_loss")
    _same_shape(input, target, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = input - target
    ad = _abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    small = less(ad, beta)  # a primitive comparison, so that vmap can batch it
    return _reduce(where(small, (0.5 / beta) * (d * d), ad - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """``0.5·d²`` where ``|d| < δ``, else ``δ·(|d| - 0.5·δ)``: smooth L1 scaled by δ.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.huber_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="none", delta=2.0)
    tensor([0.125, 4.   ])
    """
    _check_reduction(reduction, "huber_loss")
    _same_shape(input, target, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = input - target
    ad = _abs(d)
    small = less(ad, delta)
    return _reduce(where(small, 0.5 * (d * d), delta * (ad - 0.5 * delta)), reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    """``target·(log target - input)`` summed as ``reduction`` says; ``input`` holds log-probabilities.

    ``reduction="batchmean"`` divides the sum by the batch size (the true KL
    divergence per example); ``"mean"`` divides by the number of elements, as
    PyTorch does. ``log_target=True`` takes ``target`` as log-probabilities too.
    Terms with ``target = 0`` count as 0.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> p = cr.tensor([[0.5, 0.5]])
    >>> round(F.kl_div(cr.log(cr.tensor([[0.25, 0.75]])), p, reduction="batchmean").item(), 6)
    0.143841
    """
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}")
    _same_shape(input, target, "kl_div")
    if log_target:
        loss = exp(target) * (target - input)
    else:
        # xlogy: t·log t is 0 at t = 0; its derivative in t there is undefined (nan), as in PyTorch.
        # Imported here, not at the top: `import chainrule` must not import SciPy
        from ...scipy.special import xlogy

        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        shape = tuple(input.shape)
        return loss.sum() / shape[0] if len(shape) else loss.sum()
    return _reduce(loss, reduction)
