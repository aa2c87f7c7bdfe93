"""Jacobians and Hessians in one vectorised pass: all basis tangents (or cotangents) at once, batched.

``jacfwd`` pushes the whole identity through the jvp rules as one batched
tangent (a batching level, see ``core/batching.py``); ``jacrev`` pulls the
whole identity back through the vjp rules as one batched cotangent. Either
way there is one Python pass, not one per input or output entry.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..core.batching import make, moveaxis, to_level, vmap_level
from ..core.tensor import Tensor, wrap
from ._util import argnums_tuple, as_float_tensor, output
from .forward import jvp, push
from .pytree import tree_flatten, tree_unflatten
from .reverse import grad, trace

__all__ = ["hessian", "hvp", "jacfwd", "jacobian", "jacrev"]

_MODES = ("auto", "forward", "reverse")


def _basis(shapes, dtypes, level):
    """One batched value per leaf; stacked, they are the rows of the identity (batch axis = row)."""
    sizes = [math.prod(s) for s in shapes]
    total = sum(sizes)
    out = []
    off = 0
    for n, shape, dt in zip(sizes, shapes, dtypes):
        e = np.zeros((total, n), dtype=dt)
        e[np.arange(off, off + n), np.arange(n)] = 1
        out.append(make(wrap(e.reshape((total,) + tuple(shape))), level))
        off += n
    return out


def _rows(phys, k, sizes):
    """Rows of block ``k`` (of the given sizes) of a physical value whose axis 0 runs over all blocks."""
    if len(sizes) == 1:
        return phys
    from ..ops.indexing import getitem

    off = sum(sizes[:k])
    return getitem(phys, slice(off, off + sizes[k]))


def _reshape(x, shape):
    from ..ops.shape import reshape

    return x if tuple(x.shape) == tuple(shape) else reshape(x, tuple(shape))


def _leaves(args, nums, who):
    specs, xs = [], []
    for a in nums:
        leaves, td = tree_flatten(args[a])
        specs.append((td, len(leaves)))
        for k, x in enumerate(leaves):
            xs.append(as_float_tensor(x, who, f"argument {a}" + (f" (leaf {k})" if td.kind != "leaf" else "")))
    tensors = any(isinstance(x, Tensor) for a in range(len(args)) for x in tree_flatten(args[a])[0])
    return specs, xs, tensors


def _in_tree(specs, flat, single):
    """Per-argnum pytrees from one value per input leaf (one tree for an int argnums)."""
    trees, k = [], 0
    for td, n in specs:
        trees.append(tree_unflatten(td, flat[k : k + n]))
        k += n
    return trees[0] if single else tuple(trees)


def _fwd(f, args, kwargs, nums, single, has_aux, who):
    args = list(args)
    specs, xs, tensors = _leaves(args, nums, who)
    shapes = [tuple(x.shape) for x in xs]
    sizes = [math.prod(s) for s in shapes]

    def rebuild(duals):
        k = 0
        for a, (td, n) in zip(nums, specs):
            args[a] = tree_unflatten(td, duals[k : k + n])
            k += n
        return args

    with vmap_level(sum(sizes)) as lv:
        basis = _basis(shapes, [x.dtype for x in xs], lv)
        out_td, _, touts, aux = push(f, xs, basis, rebuild, kwargs, has_aux, who)
        jac = []
        for t in touts:
            phys = to_level(t, lv)  # (N, *out.shape); a constant output gives broadcast zeros
            oshape = tuple(phys.shape[1:])
            per_in = []
            for k, shape in enumerate(shapes):
                block = moveaxis(_rows(phys, k, sizes), 0, len(oshape))  # (*out.shape, n_k)
                per_in.append(output(_reshape(block, oshape + shape), tensors, True))
            jac.append(_in_tree(specs, per_in, single))
    jac = tree_unflatten(out_td, jac)
    if has_aux:
        aux_leaves, aux_td = tree_flatten(aux)
        return jac, tree_unflatten(aux_td, [output(a, tensors, True) for a in aux_leaves])
    return jac


def _rev_from_trace(tr, single, has_aux):
    outs = [o if isinstance(o, Tensor) else wrap(np.asarray(o)) for o in tr.outs]
    oshapes = [tuple(o.shape) for o in outs]
    osizes = [math.prod(s) for s in oshapes]
    with vmap_level(sum(osizes)) as lv:
        cts = _basis(oshapes, [o.dtype for o in outs], lv)
        from ._util import lift

        grads = tr.pullback([lift(c, tr.levels) if tr.levels else c for c in cts], retain_graph=tr.need)
        per_out = [[] for _ in outs]
        for g in grads:
            phys = to_level(g, lv)  # (M, *in.shape)
            ishape = tuple(phys.shape[1:])
            for j, oshape in enumerate(oshapes):
                per_out[j].append(_reshape(_rows(phys, j, osizes), oshape + ishape))
        jac = [_in_tree_rev(tr, flat, single) for flat in per_out]
    jac = tree_unflatten(tr.out_td, jac)
    if has_aux:
        from .reverse import _aux

        return jac, _aux(tr)
    return jac


def _in_tree_rev(tr, flat, single):
    trees = tr.rebuild(flat)
    return trees[0] if single else tuple(trees)


def jacfwd(f, argnums=0, has_aux=False):
    """The Jacobian by forward mode, shape ``out.shape + in.shape``: efficient when inputs are few.

    All basis tangents travel through ``f`` at once, as one batched tangent.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import jacfwd
    >>> jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """

    @functools.wraps(f)
    def jacfwd_f(*args, **kwargs):
        nums, single = argnums_tuple(argnums, len(args), "jacfwd")
        return _fwd(f, args, kwargs, nums, single, has_aux, "jacfwd")

    return jacfwd_f


def jacrev(f, argnums=0, has_aux=False):
    """The Jacobian by reverse mode, shape ``out.shape + in.shape``: efficient when outputs are few.

    All basis cotangents travel back through the graph at once, as one batched cotangent.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import jacrev
    >>> jacrev(lambda x: x.sum() * x)(np.array([1.0, 2.0]))
    array([[4., 1.],
           [2., 5.]])
    """

    @functools.wraps(f)
    def jacrev_f(*args, **kwargs):
        nums, single = argnums_tuple(argnums, len(args), "jacrev")
        tr = trace(f, args, kwargs, nums, "jacrev", has_aux)
        return _rev_from_trace(tr, single, has_aux)

    return jacrev_f


def jacobian(f, argnums=0, mode="auto", has_aux=False):
    """The Jacobian of ``f``, shape ``out.shape + in.shape``, by ``mode`` "forward", "reverse" or "auto".

    "auto" runs ``f`` once for reverse mode and keeps that when the inputs have
    at least as many entries as the outputs; otherwise it switches to forward
    mode (forward is efficient when inputs are few, reverse when outputs are).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import jacobian
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> jacobian(lambda x: cr.tensor(A) @ x)(np.ones(2))
    array([[1., 2.],
           [3., 4.],
           [5., 6.]])
    """
    if mode not in _MODES:
        raise ValueError(f"jacobian: unknown mode {mode!r}; use 'auto', 'forward' or 'reverse'")

    @functools.wraps(f)
    def jacobian_f(*args, **kwargs):
        nums, single = argnums_tuple(argnums, len(args), "jacobian")
        if mode == "forward":
            return _fwd(f, args, kwargs, nums, single, has_aux, "jacobian")
        tr = trace(f, args, kwargs, nums, "jacobian", has_aux)
        if mode == "auto":
            n_in = sum(math.prod(np.shape(x)) for _, leaves in tr.specs for x in leaves)
            n_out = sum(math.prod(np.shape(o) if not isinstance(o, Tensor) else o.shape) for o in tr.outs)
            if n_in < n_out:
                return _fwd(f, args, kwargs, nums, single, has_aux, "jacobian")
        return _rev_from_trace(tr, single, has_aux)

    return jacobian_f


def hessian(f, argnums=0, has_aux=False):
    """The Hessian of a scalar ``f``, shape ``in.shape + in.shape``: ``jacfwd(jacrev(f))``.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import hessian
    >>> hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return jacfwd(jacrev(f, argnums, has_aux), argnums, has_aux)


def hvp(f, primals, vectors):
    """``(∇f, H·v)`` by forward-over-reverse (``jvp`` of ``grad``), never forming the Hessian.

    ``primals`` and ``vectors`` are tuples (one entry per argument of ``f``);
    both results are tuples of the same structure. The cost is a small
    constant times one gradient.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import hvp
    >>> hvp(lambda x: (x ** 3).sum(), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    ((array([ 3., 12.]),), (array([6., 0.]),))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(vectors, (tuple, list)):
        raise TypeError("hvp: primals and vectors must be tuples (one entry per argument of f)")
    g = grad(f, argnums=tuple(range(len(primals))))
    return jvp(g, tuple(primals), tuple(vectors))
