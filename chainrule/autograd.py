"""``cr.autograd.grad``: gradients of chosen outputs with respect to chosen inputs, returned (PyTorch's core call)."""

from .core.backward import backward, grad_of as grad

__all__ = ["grad", "backward"]
