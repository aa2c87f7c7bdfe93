"""``cr.nn.summary``: a model's layers with each one's output shape and parameter count, as torchinfo prints."""

from __future__ import annotations

import numpy as np

from ..core.state import no_grad
from ..core.tensor import Tensor
from .module import Module

__all__ = ["summary"]


def _shape_of(out):
    if isinstance(out, Tensor):
        return list(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out if isinstance(o, (Tensor, tuple, list))]
    return "-"


def summary(model, input_shape, dtype=None, print_fn=print):
    """Run ``model`` once on zeros of ``input_shape`` (batch axis included) and print each layer's output shape
    and parameter count, nested layers indented, then the totals; the table is returned as a string too.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> text = cr.nn.summary(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), (1, 4))
    ==========================================================================
    Layer (type)                    Output Shape                       Param #
    ==========================================================================
    Sequential                      [1, 2]                                  --
    ├─ 0 (Linear)                   [1, 8]                                  40
    ├─ 1 (ReLU)                     [1, 8]                                  --
    ├─ 2 (Linear)                   [1, 2]                                  18
    ==========================================================================
    Total params: 58
    Trainable params: 58
    Non-trainable params: 0
    ==========================================================================
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be an nn.Module, got {type(model).__name__}")
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    if dtype is None:
        first = next(iter(model.parameters()), None)
        dtype = first.dtype if first is not None else np.float32
    rows = []
    handles = []
    for name, mod in model.named_modules():
        depth = name.count(".") + 1 if name else 0
        own = sum(p.size for p in mod.parameters(recurse=False))
        row = [depth, name.rsplit(".", 1)[-1], type(mod).__name__, "-", own]
        rows.append(row)

        def hook(m, args, out, row=row):
            row[3] = _shape_of(out)

        handles.append(mod.register_forward_hook(hook))
    try:
        with no_grad():
            model(Tensor(np.zeros(tuple(input_shape), dtype=dtype)))
    finally:
        for h in handles:
            h.remove()
    width = 74
    lines = ["=" * width, f"{'Layer (type)':<32}{'Output Shape':<27}{'Param #':>15}", "=" * width]
    for depth, name, kind, shape, own in rows:
        label = kind if depth == 0 else "│  " * (depth - 1) + f"├─ {name} ({kind})"
        count = "--" if own == 0 else f"{own:,}"
        lines.append(f"{label:<32}{str(shape):<27}{count:>15}")
    total = sum(p.size for p in model.parameters())
    trainable = sum(p.size for p in model.parameters() if p.requires_grad)
    lines += ["=" * width, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", "=" * width]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
