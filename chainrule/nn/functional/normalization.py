"""batch_norm, group_norm and layer_norm: normalisation composed of differentiable reductions."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ...core.batching_rules import shape_of
from ...core.tensor import Tensor
from ...core.writes import note_write
from ...ops.elementwise import sqrt

__all__ = ["batch_norm", "group_norm", "layer_norm"]


def normalise(x, axes, n, eps):
    """(x - mean) / √(var + eps) over ``axes`` (biased variance), and the batch mean and variance."""
    mean = x.sum(axis=axes, keepdims=True) * (1.0 / n)
    xc = x - mean
    var = (xc * xc).sum(axis=axes, keepdims=True) * (1.0 / n)
    return xc / sqrt(var + eps), mean, var


def _raw(t):
    return t.data if isinstance(t, Tensor) else t


def update_running(running_mean, running_var, mean, var, n, momentum):
    """running ← (1 - momentum)·running + momentum·batch, in place; the variance unbiased (n / (n - 1))."""
    for run, stat, scale in ((running_mean, mean, 1.0), (running_var, var, n / max(n - 1, 1))):
        if run is None:
            continue
        buf = _raw(run)
        buf *= 1.0 - momentum
        buf += (momentum * scale) * np.asarray(_raw(stat)).reshape(-1).astype(buf.dtype, copy=False)
        note_write(buf)  # a graph recorded in eval mode saved these statistics


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise (N, C, *) per channel C: with the batch's statistics when ``training`` (then updating the
    running ones in place, as PyTorch does), else with ``running_mean`` and ``running_var``.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> rm, rv = np.zeros(2), np.ones(2)
    >>> y = F.batch_norm(cr.tensor(np.array([[1.0, 2.0], [3.0, 6.0]])), rm, rv, training=True)
    >>> y.data.round(3).tolist(), rm.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [0.2, 0.4])
    """
    shape = shape_of(x)
    if len(shape) < 2:
        raise ValueError(f"batch_norm: input must be (N, C, *), got shape {shape}")
    c = shape[1]
    bshape = (1, c) + (1,) * (len(shape) - 2)
    axes = (0,) + tuple(range(2, len(shape)))
    if training:
        n = math.prod(shape[a] for a in axes)
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got shape {shape}")
        y, mean, var = normalise(x, axes, n, eps)
        update_running(running_mean, running_var, mean, var, n, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
        rm, rv = (np.asarray(_raw(t)) for t in (running_mean, running_var))
        if rm.shape != (c,) or rv.shape != (c,):
            raise ValueError(
                f"batch_norm: running_mean {rm.shape} and running_var {rv.shape} must be ({c},) for input {shape}"
            )
        y = (x - rm.reshape(bshape)) * (1.0 / np.sqrt(rv.reshape(bshape) + eps))
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) over each group of C/num_groups channels (and all of *), then scale per channel.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.group_norm(cr.tensor(np.array([[1.0, 3.0, 0.0, 4.0]])), 2).data.round(3).tolist()
    [[-1.0, 1.0, -1.0, 1.0]]
    """
    shape = shape_of(x)
    if len(shape) < 2:
        raise ValueError(f"group_norm: input must be (N, C, *), got shape {shape}")
    n, c = shape[:2]
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral) or num_groups < 1:
        raise ValueError(f"group_norm: num_groups must be a positive int, got {num_groups!r}")
    if c % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the {c} channels of input {shape}")
    per = (c // num_groups) * math.prod(shape[2:])
    y, _, _ = normalise(x.reshape(n, num_groups, per), (2,), per, eps)
    y = y.reshape(shape)
    bshape = (c,) + (1,) * (len(shape) - 2)
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing axes ``normalized_shape`` (an int or a tuple), then scale and shift per element.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.layer_norm(cr.tensor(np.array([[[1.0, 3.0], [1.0, 3.0]]])), (2, 2)).data.round(3).tolist()
    [[[-1.0, 1.0], [-1.0, 1.0]]]
    """
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    shape = shape_of(x)
    k = len(normalized_shape)
    if k == 0 or len(shape) < k or shape[len(shape) - k :] != normalized_shape:
        raise ValueError(f"layer_norm: input shape {shape} does not end with normalized_shape {normalized_shape}")
    axes = tuple(range(len(shape) - k, len(shape)))
    y, _, _ = normalise(x, axes, math.prod(normalized_shape), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
