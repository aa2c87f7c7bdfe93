"""chainrule: automatic differentiation and deep learning on NumPy — backpropagation is the chain rule with caching.

>>> import chainrule as cr
>>> x = cr.tensor(2.0, requires_grad=True)
>>> y = x * x + cr.sin(x)
>>> y.backward()
>>> print(f"{x.grad.item():.6f}")   # 2x + cos x
3.583853
"""

import sys as _sys

if _sys.argv[:1] == ["-m"]:  # `python -m chainrule` is still starting: Ctrl-C during the imports below ends quietly
    from .cli import install_interrupt_handler

    install_interrupt_handler()
    del install_interrupt_handler

from . import autograd, data, io, linalg, nn, numpy, ops, optim, random, testing, viz
from .core.state import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .core.tensor import Tensor
from .explain import explain
from .creation import (arange, as_tensor, empty, eye, full, full_like, linspace, ones, ones_like, tensor, zeros,
                       zeros_like)
from .core.function import Function
from .io import load, save
from .testing import GradcheckError, gradcheck
from .transforms import checkpoint, grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp, vmap
from .ops import PUBLIC as _OPS

# Every primitive's public function: cr.exp, cr.sum, cr.einsum, ... (inv, det and
# solve live in cr.linalg, as in NumPy).
_OPS = {k: v for k, v in _OPS.items() if k not in ("inv", "det", "solve")}
globals().update(_OPS)

__version__ = "0.1.0"

__all__ = sorted(
    set(_OPS)
    | {
        "Tensor", "tensor", "as_tensor", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
        "arange", "linspace", "eye", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
        "autograd", "data", "io", "linalg", "nn", "optim", "numpy", "viz", "explain", "testing",
        "grad", "value_and_grad", "vjp", "jvp", "jacobian", "jacfwd", "jacrev", "hessian", "hvp", "checkpoint",
        "vmap", "gradcheck", "GradcheckError", "Function", "ops", "random", "save", "load",
    }
)
