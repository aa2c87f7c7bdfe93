"""Adam and AdamW with torch.optim's update order, bias correction and amsgrad."""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, hyper, lerp_

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba) as ``torch.optim.Adam`` computes it, step for step.

    ``m ← m + (1-β₁)(g - m)``, ``v ← β₂ v + (1-β₂) g²``,
    ``θ ← θ - (lr / (1-β₁ᵗ)) · m / (√v / √(1-β₂ᵗ) + eps)``; ``weight_decay``
    adds ``weight_decay·θ`` to the gradient (L2, not decoupled: see AdamW).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import optim
    >>> w = cr.tensor(np.array([1.0], dtype=np.float32), requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> round(float(w.data[0]), 6), w.dtype
    (0.9, dtype('float32'))
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize}
        super().__init__(params, defaults)

    def _check(self, group):
        super()._check(group)
        b1, b2 = self._betas(group)
        if not 0.0 <= b1 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {b1}")
        if not 0.0 <= b2 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {b2}")

    def _betas(self, group):
        try:
            b1, b2 = group["betas"]
        except (TypeError, ValueError):
            raise TypeError(f"{type(self).__name__}: betas must be a pair of numbers, got {group['betas']!r}") from None
        return hyper(b1, "betas[0]", type(self).__name__), hyper(b2, "betas[1]", type(self).__name__)

    def _update(self, group):
        # Python floats throughout, so that no hyperparameter's dtype reaches the state (see Optimizer.hyper)
        lr, eps, weight_decay = self._hyper(group, "lr"), self._hyper(group, "eps"), self._hyper(group, "weight_decay")
        beta1, beta2 = self._betas(group)
        amsgrad = group["amsgrad"]

        def init(theta):
            state = {"exp_avg": np.zeros_like(theta), "exp_avg_sq": np.zeros_like(theta)}
            if amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(theta)
            return state

        for theta, g, state, step in self._params(group, init, decay=not self._decoupled):
            if weight_decay and self._decoupled:
                theta *= 1 - lr * weight_decay  # AdamW: decay the weights themselves
            m, v = state["exp_avg"], state["exp_avg_sq"]
            lerp_(m, g, 1 - beta1)
            v *= beta2
            v += (1 - beta2) * g * g
            bias_correction1 = 1 - beta1**step
            bias_correction2_sqrt = math.sqrt(1 - beta2**step)
            if amsgrad:
                vmax = state["max_exp_avg_sq"]
                np.maximum(vmax, v, out=vmax)
                denom = np.sqrt(vmax) / bias_correction2_sqrt + eps
            else:
                denom = np.sqrt(v) / bias_correction2_sqrt + eps
            theta += (-lr / bias_correction1) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``θ ← θ(1 - lr·weight_decay)`` before the step.

    PyTorch's default ``weight_decay=1e-2``.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
