"""BatchNorm1d and LayerNorm, with PyTorch's buffers, defaults and running-statistics update."""

from __future__ import annotations

import math

import numpy as np

from ..core.tensor import Tensor
from ..core.writes import note_write
from ..ops.elementwise import sqrt
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "LayerNorm"]


def _normalise(x, axes, n, eps):
    """(x - mean) / √(var + eps) over ``axes`` (biased variance), and the batch mean and variance."""
    mean = x.sum(axis=axes, keepdims=True) * (1.0 / n)
    xc = x - mean
    var = (xc * xc).sum(axis=axes, keepdims=True) * (1.0 / n)
    return xc / sqrt(var + eps), mean, var


class BatchNorm1d(Module):
    """Batch normalisation over (N, C) or (N, C, L) inputs, per channel C.

    Training mode normalises with the batch's mean and (biased) variance and
    updates ``running_mean``/``running_var`` (the latter with the unbiased
    variance) by ``momentum``; eval mode uses the running statistics. Buffers and
    defaults are PyTorch's (``eps=1e-5``, ``momentum=0.1``; ``momentum=None`` gives
    a cumulative average), so state dicts line up.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> bn = nn.BatchNorm1d(2)
    >>> y = bn(cr.tensor(np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)))
    >>> y.data.round(3).tolist(), bn.running_mean.data.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [0.20000000298023224, 0.4000000059604645])
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=None):
        super().__init__()
        dt = np.dtype(np.float32 if dtype is None else dtype)
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dt))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dt))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0
            self._written()

    def forward(self, x):
        shape = tuple(x.shape)
        if len(shape) not in (2, 3) or shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d: expected input of shape (N, {self.num_features}) or (N, {self.num_features}, L), "
                f"got {shape}"
            )
        axes = (0,) if len(shape) == 2 else (0, 2)
        bshape = (1, self.num_features) + (1,) * (len(shape) - 2)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            n = math.prod(shape[a] for a in axes)
            if n <= 1 and self.training:
                raise ValueError(
                    f"BatchNorm1d: expected more than 1 value per channel when training, got input shape {shape}"
                )
            y, mean, var = _normalise(x, axes, n, self.eps)
            if self.training and self.track_running_stats:
                self._update(mean, var, n)
        else:
            rm = self.running_mean.data.reshape(bshape)
            inv = 1.0 / np.sqrt(self.running_var.data.reshape(bshape) + self.eps)
            y = (x - rm) * inv
        if self.affine:
            y = y * self.weight.reshape(bshape) + self.bias.reshape(bshape)
        return y

    def _update(self, mean, var, n):
        self.num_batches_tracked.data[...] += 1
        m = self.momentum
        if m is None:
            m = 1.0 / float(self.num_batches_tracked.data)  # cumulative moving average
        mean = (mean.data if isinstance(mean, Tensor) else mean).reshape(-1)
        var = (var.data if isinstance(var, Tensor) else var).reshape(-1) * (n / (n - 1))  # unbiased
        rm, rv = self.running_mean.data, self.running_var.data
        rm *= 1.0 - m
        rm += m * mean.astype(rm.dtype, copy=False)
        rv *= 1.0 - m
        rv += m * var.astype(rv.dtype, copy=False)
        self._written()

    def _written(self):
        # the statistics change in place: a graph recorded in eval mode saved them
        for buf in (self.running_mean, self.running_var, self.num_batches_tracked):
            note_write(buf.data)

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` axes, then scale and shift per element.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> ln = nn.LayerNorm(2)
    >>> ln(cr.tensor(np.array([[1.0, 3.0]], dtype=np.float32))).data.round(3).tolist()
    [[-1.0, 1.0]]
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dt = np.dtype(np.float32 if dtype is None else dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        shape = tuple(x.shape)
        k = len(self.normalized_shape)
        if shape[len(shape) - k :] != self.normalized_shape:
            raise ValueError(
                f"LayerNorm: input shape {shape} does not end with normalized_shape {self.normalized_shape}"
            )
        axes = tuple(range(len(shape) - k, len(shape)))
        y, _, _ = _normalise(x, axes, math.prod(self.normalized_shape), self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
