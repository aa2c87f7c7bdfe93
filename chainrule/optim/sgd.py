"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD's update)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, sub_scaled_

__all__ = ["SGD"]


class SGD(Optimizer):
    """``θ ← θ - lr · d`` with PyTorch's exact update.

    ``d = ∇ + weight_decay·θ`` (the λ‖θ‖²/2 regulariser's gradient); with
    momentum, ``b ← momentum·b + (1 - dampening)·d`` (``b = d`` on the first
    step) and ``d = b``, or ``d + momentum·b`` when ``nesterov``.

    NOTE: the positional order is API.md's, ``SGD(params, lr, momentum,
    weight_decay, nesterov)``; ``dampening`` and ``maximize`` are keyword-only.
    (``torch.optim.SGD`` has dampening fourth, so positional calls copied from
    PyTorch code past ``momentum`` must name their arguments.)

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import optim
    >>> w = cr.tensor(np.array([1.0], dtype=np.float32), requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.data.tolist(), w.dtype
    ([0.800000011920929], dtype('float32'))
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False, *, dampening=0.0,
                 maximize=False):
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _check(self, group):
        super()._check(group)
        momentum, dampening = self._hyper(group, "momentum"), self._hyper(group, "dampening")
        if not momentum >= 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, group):
        lr, momentum = self._hyper(group, "lr"), self._hyper(group, "momentum")
        dampening, weight_decay = self._hyper(group, "dampening"), self._hyper(group, "weight_decay")
        nesterov, maximize = group["nesterov"], group["maximize"]
        for p in group["params"]:
            d = self._grad(p, maximize)  # already in p's dtype
            if d is None:
                continue
            theta = p.data
            if weight_decay:
                d = d + weight_decay * theta
            if momentum:
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(d, copy=True)
                else:
                    buf *= momentum
                    buf += d if dampening == 0 else (1 - dampening) * d
                d = d + momentum * buf if nesterov else buf
            sub_scaled_(theta, d, lr)  # every factor a Python float or p's dtype: float32 stays float32
