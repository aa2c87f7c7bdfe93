"""BatchNorm1d, BatchNorm2d, GroupNorm and LayerNorm, with PyTorch's buffers, defaults and running statistics."""

from __future__ import annotations

import numpy as np

from ..core.writes import note_write
from .functional.normalization import batch_norm, group_norm, layer_norm
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm"]


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d: they differ only in the input ranks they accept."""

    _ranks = ()
    _layout = ""

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
            for buf in (self.running_mean, self.running_var, self.num_batches_tracked):
                note_write(buf.data)

    def forward(self, x):
        name = type(self).__name__
        shape = tuple(x.shape)
        if len(shape) not in self._ranks or shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected input of shape {self._layout.format(c=self.num_features)}, got {shape}"
            )
        use_batch = self.training or not self.track_running_stats
        if use_batch and np.prod(shape) // shape[1] <= 1:
            raise ValueError(f"{name}: expected more than 1 value per channel when training, got input shape {shape}")
        momentum = 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data[...] += 1
            note_write(self.num_batches_tracked.data)
            # momentum=None: a cumulative moving average
            momentum = 1.0 / float(self.num_batches_tracked.data) if self.momentum is None else self.momentum
        running = (self.running_mean, self.running_var) if self.track_running_stats else (None, None)
        if use_batch and not (self.training and self.track_running_stats):
            running = (None, None)
        return batch_norm(x, *running, self.weight, self.bias, use_batch, momentum, self.eps)

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
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

    _ranks = (2, 3)
    _layout = "(N, {c}) or (N, {c}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images per channel C (statistics over N, H and W); as BatchNorm1d.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> bn = nn.BatchNorm2d(3)
    >>> bn(cr.ones((2, 3, 4, 4))).shape, sorted(bn.state_dict())
    ((2, 3, 4, 4), ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight'])
    """

    _ranks = (4,)
    _layout = "(N, {c}, H, W)"


class GroupNorm(Module):
    """Normalise (N, C, *) over groups of C/num_groups channels; ``weight``/``bias`` per channel (affine).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> gn = nn.GroupNorm(2, 4)
    >>> gn(cr.ones((3, 4, 5, 5))).shape, gn.weight.shape
    ((3, 4, 5, 5), (4,))
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide num_channels={num_channels}")
        self.num_groups = int(num_groups)
        self.num_channels = int(num_channels)
        self.eps = eps
        self.affine = affine
        dt = np.dtype(np.float32 if dtype is None else dtype)
        if affine:
            self.weight = Parameter(np.ones(self.num_channels, dtype=dt))
            self.bias = Parameter(np.zeros(self.num_channels, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        shape = tuple(x.shape)
        if len(shape) < 2 or shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input of shape (N, {self.num_channels}, *), got {shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` axes, then scale and shift per element.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> ln = nn.LayerNorm(2)
    >>> ln(cr.tensor(np.array([[1.0, 3.0]], dtype=np.float32))).data.round(3).tolist()
    [[-1.0, 1.0]]
    >>> nn.LayerNorm((3, 4))(cr.ones((2, 3, 4))).shape  # several trailing axes
    (2, 3, 4)
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
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
