"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients (torch.optim.Adagrad)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``s ← s + g²``; ``θ ← θ - lr_t · g / (√s + eps)`` with ``lr_t = lr / (1 + (t-1)·lr_decay)``.

    As in PyTorch, each parameter's state (``step``, ``sum`` starting at
    ``initial_accumulator_value``) exists from construction on, so a state
    dict saved before the first step already lists it.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import optim
    >>> w = cr.tensor(np.array([1.0], dtype=np.float32), requires_grad=True)
    >>> opt = optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(float(w.data[0]), 4), w.dtype
    (0.9, dtype('float32'))
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 *, maximize=False):
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            init = self._hyper(group, "initial_accumulator_value")
            for p in group["params"]:
                self.state[p] = {"step": np.array(0.0, dtype=np.float32),
                                 "sum": np.full_like(p.data, init)}

    def _check(self, group):
        super()._check(group)
        if not self._hyper(group, "lr_decay") >= 0.0:
            raise ValueError(f"Invalid lr_decay value: {group['lr_decay']}")
        if not self._hyper(group, "initial_accumulator_value") >= 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: {group['initial_accumulator_value']}")

    def _update(self, group):
        lr, lr_decay, eps = self._hyper(group, "lr"), self._hyper(group, "lr_decay"), self._hyper(group, "eps")
        init_value = self._hyper(group, "initial_accumulator_value")

        def init(theta):  # a group added after construction
            return {"sum": np.full_like(theta, init_value)}

        for theta, g, state, step in self._params(group, init):
            clr = lr / (1 + (step - 1) * lr_decay)
            s = state["sum"]
            s += g * g
            theta -= clr * (g / (np.sqrt(s) + eps))
