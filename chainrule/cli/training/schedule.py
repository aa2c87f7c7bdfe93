"""The learning-rate schedule: cosine segments, and the one a resumed run continues with."""

from __future__ import annotations

import math

__all__ = ["lr_at", "plan_schedule"]


def lr_at(schedule, epoch):
    """The learning rate of (0-based) ``epoch``: cosine annealing within the schedule's segment holding it.

    ``schedule`` is a list of ``[start, end, lr]`` segments, each annealing from
    ``lr`` at epoch ``start`` towards 0 at epoch ``end``; a segment runs until
    the next one starts. A fresh run has one, ``[[0, epochs, lr]]``; resuming
    with a new --epochs or --lr appends one (see ``plan_schedule``).

    >>> lr_at([[0, 10, 1.0]], 0), lr_at([[0, 10, 1.0]], 5)
    (1.0, 0.5)
    >>> lr_at([[0, 10, 1.0], [10, 20, 0.5]], 15)
    0.25
    """
    for start, end, lr in reversed(schedule):
        if epoch >= start:
            return lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - start) / (end - start)))
    raise ValueError(f"epoch {epoch} precedes the schedule {schedule}")


def plan_schedule(saved, start, epochs, lr, restart_lr):
    """The schedule for training epochs ``start..epochs-1`` after a checkpoint of ``start`` epochs.

    With the checkpoint's --epochs and --lr the saved ``schedule`` is kept, so
    resuming is exact. A new --epochs anneals from the LR the last trained
    epoch used (no warm restart); ``restart_lr`` (a new --lr) anneals from
    ``lr`` instead. Either way the new segment ends at ``epochs``.

    >>> plan_schedule([[0, 2, 1.0]], 2, 4, 1.0, False)
    [[0, 2, 1.0], [2, 4, 0.5]]
    """
    if saved is None or not saved:
        return [[0, epochs, lr]]
    if start >= epochs or (saved[-1][1] == epochs and not restart_lr):
        return saved
    begin = lr if restart_lr else lr_at(saved, start - 1)
    return [seg for seg in saved if seg[0] < start] + [[start, epochs, begin]]
