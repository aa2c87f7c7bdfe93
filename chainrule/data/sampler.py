"""``DistributedSampler``: each process's equal share of a dataset's indices, reshuffled every epoch."""

from __future__ import annotations

import math
import numbers

import numpy as np

from chainrule import distributed

__all__ = ["DistributedSampler"]


def _int(name, value, low):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"DistributedSampler {name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"DistributedSampler {name} must be {low} or more, got {value}")
    return int(value)


class DistributedSampler:
    """The indices of ``dataset`` that process ``rank`` of ``num_replicas`` visits this epoch.

    PyTorch's semantics: every process gets ``ceil(len / num_replicas)`` indices; the padding that
    makes the shares equal repeats indices from the start of the epoch's order (wrap-around), or with
    ``drop_last=True`` the tail is dropped instead (``floor``). With ``shuffle=True`` the order is a
    permutation drawn from ``(seed, epoch)``, the same in every process, so the shares partition it;
    call ``set_epoch(n)`` before each epoch for a new one. ``num_replicas`` and ``rank`` default to
    :func:`cr.distributed.get_world_size` and :func:`~chainrule.distributed.get_rank`. Pass it to
    ``DataLoader(..., sampler=...)``.

    >>> import chainrule as cr
    >>> [list(cr.data.DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in (0, 1)]
    [[0, 2, 4], [1, 3, 0]]
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = distributed.get_world_size()
        if rank is None:
            rank = distributed.get_rank()
        self.num_replicas = _int("num_replicas", num_replicas, 1)
        self.rank = _int("rank", rank, 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"DistributedSampler rank must lie in 0..{self.num_replicas - 1}, got {rank}")
        self.seed = _int("seed", seed, 0)
        self.dataset, self.shuffle, self.drop_last = dataset, bool(shuffle), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Use epoch ``epoch``'s order next (the same in every process)."""
        self.epoch = _int("epoch", epoch, 0)

    def __len__(self):
        return self.num_samples

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[: self.total_size]
        elif self.total_size > n:  # wrap around, as often as a dataset smaller than the world needs
            order = np.resize(order, self.total_size)
        return iter(order[self.rank : self.total_size : self.num_replicas].tolist())
