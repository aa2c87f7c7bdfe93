"""sum_to, broadcast_to, reshape and astype: the primitives the engine itself needs for broadcasting, batching, dtypes.

``cast`` is the public face of a dtype change: to a floating (or complex) dtype it
is ``astype``, differentiable; to an integer or boolean dtype the result leaves
the graph (``astype_discrete``, non-differentiable), as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from .primitive import Primitive, apply
from .tensor import Tensor

__all__ = ["sum_to", "broadcast_to", "reshape_p", "astype", "astype_discrete", "cast", "broadcast_shapes",
           "shape_of", "lift", "reshape_to", "moveaxis", "moveaxis_p", "sequences_as_arrays"]

_ndarray = np.ndarray
_add_reduce = np.add.reduce
_SCALARS = (int, float, complex, np.generic, np.dtype, type)  # bool is an int


def shape_of(v):
    """The shape of any operand, read without converting it and without NumPy's dispatch to Tensors.

    - a Tensor or an ndarray: its ``shape`` (a batched Tensor's, inside vmap: its logical shape);
    - a nested list or tuple: the shape NumPy gives it (a ragged one raises NumPy's ValueError);
    - a Python or NumPy scalar, None, a dtype or a type (``astype(x, np.float64)`` passes one): ``()``;
    - any other array-like: its ``shape`` attribute, else the shape of ``np.asarray`` of it (``np.shape``).

    Always a tuple. This is the one shape-of-anything helper: every layer above core reads shapes with it.

    >>> import chainrule as cr
    >>> shape_of(cr.ones((2, 3))), shape_of([[1, 2]]), shape_of(2.5), shape_of(None), shape_of(np.float64)
    ((2, 3), (1, 2), (), (), ())
    """
    if isinstance(v, (Tensor, _ndarray)):
        return v.shape  # a tuple already (a batched Tensor's too)
    if v is None or isinstance(v, _SCALARS):
        return ()
    return tuple(np.shape(v))  # np.shape(np.float64) would be the class's shape descriptor: types are caught above


def reshape_to(v, shape):
    """``v`` reshaped to ``shape`` (itself when it has that shape already)."""
    shape = tuple(shape)
    if shape_of(v) == shape:
        return v
    return reshape_p(v, shape=shape, in_shape=shape_of(v))


def lift(v, rank):
    """A batched ``v`` (axis 0 the batch) with unit axes inserted after the batch axis up to logical rank ``rank``.

    >>> lift(np.ones((5, 3)), 3).shape
    (5, 1, 1, 3)
    """
    shape = shape_of(v)
    extra = rank - (len(shape) - 1)
    if extra <= 0:
        return v
    return reshape_to(v, shape[:1] + (1,) * extra + shape[1:])


def _one(shape):
    return shape[0] if isinstance(shape, tuple) and len(shape) == 1 else shape


# ---- batching rules of the primitives below (see Primitive's ``batch``) ----------------
def _static_shape(vals, kw):
    # the engine passes the target shape positionally (sum_to(g, shape)), wrappers by keyword
    return tuple(kw["shape"] if "shape" in kw else vals[1])


def _broadcast_to_rule(prim, vals, bat, kw, size):
    shape = _static_shape(vals, kw)
    return broadcast_to(lift(vals[0], len(shape)), (size,) + shape)


def _sum_to_rule(prim, vals, bat, kw, size):
    x = vals[0]
    shape = _static_shape(vals, kw)
    extra = len(shape_of(x)) - 1 - len(shape)
    if extra > 0:  # the batch axis goes after the leading logical axes, which sum_to then sums away
        return sum_to(moveaxis(x, 0, extra), (size,) + shape)
    return sum_to(lift(x, len(shape)), (size,) + shape)


def _reshape_rule(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, shape=(size,) + tuple(kw["shape"]), in_shape=(size,) + tuple(kw["in_shape"])))


def _per_element_rule(prim, vals, bat, kw, size):
    # one array operand (the others static: a dtype), acted on entry by entry: the batch axis passes through
    return apply(prim, vals, kw)


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
    xs = x.shape
    if xs == shape:
        return x
    lead = x.ndim - len(shape)
    if lead > 0 and shape and xs[lead:] == shape:  # only leading axes added (a bias over a batch): one plain sum
        return _add_reduce(x, 0 if lead == 1 else tuple(range(lead)))  # x.sum(axis) without its Python wrapper
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
    batch=_sum_to_rule,
    vjp_formulas=("broadcast({g})",),
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
    batch=_broadcast_to_rule,
    vjp_formulas=("sum_to({g}, {0}.shape)",),
)


def _reshape(x, shape, in_shape):
    return np.reshape(x, shape)


# the adjoint of a reshape is the reshape back (to the static in_shape: x is not kept); it is linear
reshape_p = Primitive(
    "reshape",
    _reshape,
    vjp=(lambda g, ans, x, shape, in_shape: reshape_p(g, shape=in_shape, in_shape=g.shape),),
    jvp=(lambda t, ans, x, shape, in_shape: reshape_p(t, shape=shape, in_shape=in_shape),),
    save=(),
    batch=_reshape_rule,
    vjp_formulas=("reshape({g}, {0}.shape)",),
    no_op=lambda ans, x, shape, in_shape: ans.shape == np.shape(x),  # cumsum's ravel of a vector
    call_args=lambda kw, shapes: [(None, _one(kw["shape"]))],
)


def _astype(x, dtype):
    return x.astype(dtype, copy=False)


def _cast_to(v, dtype):
    # complex to real keeps the real part (its derivative, as PyTorch's), without NumPy's ComplexWarning
    if v.dtype.kind == "c" and np.dtype(dtype).kind != "c":
        from .complex_parts import real  # here: complex_parts imports the batching rules, which import this module

        v = real(v)
    return astype(v, dtype) if v.dtype != dtype else v


astype = Primitive(
    "astype",
    _astype,
    vjp=(lambda g, ans, x, dtype: _cast_to(g, x.dtype),),  # a cast back to the input's dtype
    jvp=(lambda t, ans, x, dtype: _cast_to(t, dtype),),
    save=("args",),
    batch=_per_element_rule,
    partials=("1",),
    call_args=lambda kw, shapes: [(None, kw["dtype"])] + [(k, v) for k, v in kw.items() if k != "dtype"],
)

# NOTE: an integer or boolean result has no derivative: it never joins the graph and
# carries no tangent (PyTorch: casting to an integer type gives no grad).
astype_discrete = Primitive("astype_discrete", _astype, nondiff=True, batch=_per_element_rule)


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


# An internal primitive the machinery needs (never registered): batching moves the batch axis with it. Its
# batching rule: a batched operand's static axes move one place right.
def _moveaxis(x, src, dst):
    if src < 0 or dst < 0 or type(x) is not np.ndarray:
        return np.moveaxis(x, src, dst)
    order = list(range(x.ndim))  # np.moveaxis's transpose without its general axis checks (10x the cost)
    order.insert(dst, order.pop(src))
    return x.transpose(order)


def _moveaxis_rule(prim, vals, bat, kw, size):
    return apply(prim, vals, dict(kw, src=kw["src"] + 1, dst=kw["dst"] + 1))


_moveaxis_rule.raw_ok = True  # primitives alone: it runs on bare arrays when nothing records (core/batching.py)


moveaxis_p = Primitive(
    "_vmap_moveaxis",
    _moveaxis,
    vjp=(lambda g, ans, x, src, dst: moveaxis_p(g, src=dst, dst=src),),  # a permutation's adjoint is its inverse
    jvp=(lambda t, ans, x, src, dst: moveaxis_p(t, src=src, dst=dst),),
    save=(),
    register=False,
    batch=_moveaxis_rule,
)


def moveaxis(x, src, dst):
    """``np.moveaxis`` with non-negative ``src``/``dst``, as a differentiable, batchable primitive."""
    if src == dst:
        return x
    return moveaxis_p(x, src=src, dst=dst)


def _on_graph(seq):
    """Whether a (nested) list or tuple holds a Tensor that is on the graph or carries tangents."""
    return any(_on_graph(e) if type(e) in (list, tuple) else isinstance(e, Tensor) and (
        e._node is not None or e._fw is not None) for e in seq)


def sequences_as_arrays(prim, args):
    """``args`` with each list or tuple made an ndarray: the operands of an ``array_args`` primitive, in ``apply``.

    >>> from chainrule.core.primitive import REGISTRY
    >>> sequences_as_arrays(REGISTRY["maximum"], ([1.0, 2.0], (3.0,)))
    (array([1., 2.]), array([3.]))
    """
    for i, a in enumerate(args):
        if type(a) in (list, tuple) and _on_graph(a):  # as an array, its Tensors' gradients would be lost
            raise TypeError(f"{prim.name}: operand {i} is a {type(a).__name__} holding a Tensor that is on the "
                            f"graph; pass cr.stack([...]) instead (or detach it), or its gradient is lost")
    return tuple([np.asarray(a) if type(a) in (list, tuple) else a for a in args])
