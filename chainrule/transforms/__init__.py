"""Function transformations, JAX style: grad, vjp, jvp, jacobians, hessian, hvp, vmap, checkpoint — any order."""

from .checkpointing import checkpoint
from .forward import jvp
from .jacobian import hessian, hvp, jacfwd, jacobian, jacrev
from .reverse import grad, value_and_grad, vjp
from .vectorize import vmap

__all__ = ["checkpoint", "grad", "hessian", "hvp", "jacfwd", "jacobian", "jacrev", "jvp", "value_and_grad", "vjp",
           "vmap"]
