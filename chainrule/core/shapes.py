"""sum_to, broadcast_to and astype: the primitives the engine itself needs to undo broadcasting and keep dtypes.

``cast`` is the public face of a dtype change: to a floating (or complex) dtype it
is ``astype``, differentiable; to an integer or boolean dtype the result leaves
the graph (``astype_discrete``, non-differentiable), as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from .primitive import Primitive

__all__ = ["sum_to", "broadcast_to", "astype", "astype_discrete", "cast", "broadcast_shapes"]


def broadcast_shapes(op, *shapes):
    """NumPy's broadcast shape, or a ValueError naming the operation and every shape."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        shown = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(
            f"{op}: shapes {shown} cannot be broadcast together (NumPy broadcasting aligns trailing "
            f"axes; each pair must be equal or 1)"
        ) from None


def _sum_to(x, shape):
    """Sum ``x`` over the axes that broadcasting added or stretched, giving ``shape``."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to: cannot sum an array of shape {x.shape} to the larger shape {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    for i, s in enumerate(shape):
        if s != 1 and x.shape[lead + i] != s:
            raise ValueError(f"sum_to: shape {x.shape} was not broadcast from {shape}")
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape)


# sum_to and broadcast_to are each other's transpose.
sum_to = Primitive(
    "sum_to",
    _sum_to,
    vjp=(lambda g, ans, x, shape: broadcast_to(g, x.shape),),  # adjoint of a sum is a broadcast
    jvp=(lambda t, ans, x, shape: sum_to(t, shape),),  # linear
    save=("args",),
)


def _broadcast_to(x, shape):
    try:
        return np.broadcast_to(x, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {np.shape(x)} to {tuple(shape)}") from None


broadcast_to = Primitive(
    "broadcast_to",
    _broadcast_to,
    vjp=(lambda g, ans, x, shape: sum_to(g, x.shape),),  # gradients add over the copies
    jvp=(lambda t, ans, x, shape: broadcast_to(t, shape),),
    save=("args",),
)


def _astype(x, dtype):
    return x.astype(dtype, copy=False)


astype = Primitive(
    "astype",
    _astype,
    vjp=(lambda g, ans, x, dtype: astype(g, x.dtype),),  # a cast back to the input's dtype
    jvp=(lambda t, ans, x, dtype: astype(t, dtype),),
    save=("args",),
)

# NOTE: an integer or boolean result has no derivative: it never joins the graph and
# carries no tangent (PyTorch: casting to an integer type gives no grad).
astype_discrete = Primitive("astype_discrete", _astype, nondiff=True)


def cast(x, dtype):
    """``x`` as ``dtype``, like ``ndarray.astype``: differentiable to float dtypes, off the graph otherwise.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.core.shapes import cast
    >>> x = cr.tensor([1.5, 2.5], requires_grad=True)
    >>> cast(x, np.float32).requires_grad, cast(x, np.int64).requires_grad
    (True, False)
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return astype(x, dtype)
    return astype_discrete(x, dtype)
