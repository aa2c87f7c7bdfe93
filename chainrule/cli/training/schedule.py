"""The learning-rate schedules (cosine, constant, onecycle, step) and the one a resumed run continues with."""

from __future__ import annotations

import math

__all__ = ["SCHEDULES", "ONECYCLE_PCT_START", "ONECYCLE_DIV", "ONECYCLE_FINAL_DIV", "STEP_GAMMA", "lr_at",
           "plan_schedule"]

SCHEDULES = ("cosine", "constant", "onecycle", "step")
# PyTorch's OneCycleLR and StepLR defaults (StepLR's step_size is a third of the segment's epochs here)
ONECYCLE_PCT_START, ONECYCLE_DIV, ONECYCLE_FINAL_DIV = 0.3, 25.0, 1e4
STEP_GAMMA = 0.1


def _cos(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)


def _onecycle(max_lr, n, total):
    """PyTorch OneCycleLR's learning rate at step ``n`` of ``total`` (two phases, cosine annealing)."""
    initial = max_lr / ONECYCLE_DIV
    phases = ((ONECYCLE_PCT_START * total - 1, initial, max_lr), (total - 1, max_lr, initial / ONECYCLE_FINAL_DIV))
    begin = 0.0
    for i, (end_step, lo, hi) in enumerate(phases):
        if n <= end_step or i == len(phases) - 1:
            return _cos(lo, hi, (n - begin) / (end_step - begin))
        begin = end_step
    raise AssertionError("unreachable")


def lr_at(schedule, epoch, kind="cosine", step=0, steps=1):
    """The learning rate of (0-based) ``epoch``, at batch ``step`` of its ``steps``, under schedule ``kind``.

    ``schedule`` is a list of ``[start, end, lr]`` segments; a segment runs
    until the next one starts. A fresh run has one, ``[[0, epochs, lr]]``;
    resuming with a new --epochs or --lr appends one (see ``plan_schedule``).
    Within a segment, ``kind`` says how the rate moves, counting from its start:

    - cosine: per epoch, anneals from ``lr`` at ``start`` towards 0 at ``end``;
    - constant: ``lr``;
    - step: per epoch, PyTorch's StepLR: multiplied by 0.1 every
      ceil((end - start) / 3) epochs;
    - onecycle: per batch, PyTorch's OneCycleLR with max_lr ``lr`` over
      (end - start) * steps steps: cosine warm-up from lr/25 to lr over the
      first 30%, then cosine annealing to lr/25/1e4.

    >>> lr_at([[0, 10, 1.0]], 0), lr_at([[0, 10, 1.0]], 5)
    (1.0, 0.5)
    >>> lr_at([[0, 10, 1.0], [10, 20, 0.5]], 15)
    0.25
    >>> [lr_at([[0, 6, 1.0]], e, "step") for e in range(0, 6, 2)]
    [1.0, 0.1, 0.010000000000000002]
    >>> round(lr_at([[0, 10, 1.0]], 0, "onecycle", 0, 10), 12), lr_at([[0, 10, 1.0]], 2, "onecycle", 9, 10)
    (0.04, 1.0)
    """
    for start, end, lr in reversed(schedule):
        if epoch >= start:
            if kind == "constant":
                return float(lr)
            if kind == "step":
                return lr * STEP_GAMMA ** ((epoch - start) // math.ceil((end - start) / 3))
            if kind == "onecycle":
                return _onecycle(lr, (epoch - start) * steps + step, (end - start) * steps)
            return lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - start) / (end - start)))
    raise ValueError(f"epoch {epoch} precedes the schedule {schedule}")


def plan_schedule(saved, start, epochs, lr, restart_lr, kind="cosine", steps=1):
    """The schedule for training epochs ``start..epochs-1`` after a checkpoint of ``start`` epochs.

    With the checkpoint's --epochs and --lr the saved ``schedule`` is kept, so
    resuming is exact. A new --epochs continues from the LR the last trained
    epoch used (no warm restart), except under onecycle, which runs a new
    cycle peaking at ``lr``; ``restart_lr`` (a new --lr) starts from ``lr``
    instead. Either way the new segment ends at ``epochs``.

    >>> plan_schedule([[0, 2, 1.0]], 2, 4, 1.0, False)
    [[0, 2, 1.0], [2, 4, 0.5]]
    """
    if saved is None or not saved:
        return [[0, epochs, lr]]
    if start >= epochs or (saved[-1][1] == epochs and not restart_lr):
        return saved
    if restart_lr or kind == "onecycle":
        begin = lr
    else:
        begin = lr_at(saved, start - 1, kind, steps - 1, steps)
    return [seg for seg in saved if seg[0] < start] + [[start, epochs, begin]]
