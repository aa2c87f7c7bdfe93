"""RMSprop with momentum and the centred variant (torch.optim.RMSprop's update and state)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``v ← α·v + (1-α)·g²``; ``θ ← θ - lr · g / (√v + eps)``, PyTorch's exact update.

    ``centered`` subtracts the squared running mean of ``g`` from ``v`` (an
    estimate of the variance); ``momentum`` accumulates ``g / (√v + eps)`` in a
    buffer that is then applied. State per parameter: ``step``,
    ``square_avg``, and ``momentum_buffer`` / ``grad_avg`` when used.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import optim
    >>> w = cr.tensor(np.array([1.0], dtype=np.float32), requires_grad=True)
    >>> opt = optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(float(w.data[0]), 4), w.dtype
    (0.9, dtype('float32'))
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *,
                 maximize=False):
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _check(self, group):
        super()._check(group)
        if not self._hyper(group, "momentum") >= 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not self._hyper(group, "alpha") >= 0.0:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def _update(self, group):
        lr, alpha, eps = self._hyper(group, "lr"), self._hyper(group, "alpha"), self._hyper(group, "eps")
        momentum, centered = self._hyper(group, "momentum"), group["centered"]

        def init(theta):
            state = {"square_avg": np.zeros_like(theta)}
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(theta)
            if centered:
                state["grad_avg"] = np.zeros_like(theta)
            return state

        for theta, g, state, _ in self._params(group, init):
            v = state["square_avg"]
            v *= alpha
            v += (1 - alpha) * g * g
            if centered:
                m = state["grad_avg"]
                lerp_(m, g, 1 - alpha)
                avg = np.sqrt(v - m * m)
            else:
                avg = np.sqrt(v)
            avg += eps
            if momentum > 0:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += g / avg
                theta -= lr * buf
            else:
                theta -= lr * (g / avg)
