"""Jacobians and Hessians in vectorised passes: basis tangents (or cotangents) batched, in chunks that fit.

``jacfwd`` pushes the identity through the jvp rules as one batched tangent
(a batching level, see ``core/batching.py``); ``jacrev`` pulls the identity
back through the vjp rules as one batched cotangent. Either way there is one
Python pass per chunk, not one per input or output entry. A chunk seeds at
most :data:`BASIS_BUDGET` basis entries (``chunk_size=`` overrides it), so a
large Jacobian is built a block of rows or columns at a time instead of from
a dense N × N identity.
"""

from __future__ import annotations

import functools
import math
import operator

import numpy as np

from ..core.batching import Batched, make, moveaxis, to_level, vmap_level
from ..core.forward import level, make_dual
from ..core.primitive import is_tracing
from ..core.tangents import push_tangents
from ..core.state import STATE, set_grad_enabled
from ..core.tensor import Tensor, wrap
from ..ops.indexing import getitem
from ..ops.join import concatenate
from ..ops.shape import reshape
from ._util import argnums_tuple, as_float_tensor, aux_output, has_tensor, leaf_tensor, lift, output, split_aux
from .forward import _jvp, primal_out, push, tangent_out
from .pytree import tree_flatten, tree_unflatten
from .reverse import _aux, _grad, trace

__all__ = ["BASIS_BUDGET", "hessian", "hvp", "jacfwd", "jacobian", "jacrev"]

_MODES = ("auto", "forward", "reverse")

# The most basis entries one pass seeds: chunk × (entries of the inputs, forward; of the outputs, reverse).
# 2**22 float64 entries are 32 MiB, and every intermediate of f gets the same batch axis, so this bounds the
# pass's extra memory to about `chunk` times one evaluation. Up to 2048 seeded entries go in a single pass.
BASIS_BUDGET = 2 ** 22


def _chunks(n, chunk_size, who):
    """``(lo, hi)`` row ranges of the n × n identity, each one batched pass."""
    if chunk_size is None:
        size = max(1, BASIS_BUDGET // max(n, 1))
    else:
        try:
            size = operator.index(chunk_size)
        except TypeError:
            raise TypeError(f"{who}: chunk_size must be a positive int or None, got {chunk_size!r}") from None
        if size < 1:
            raise ValueError(f"{who}: chunk_size must be a positive int or None, got {chunk_size!r}")
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)] or [(0, 0)]


def _eye(shape, dtype, level):
    """The whole identity over one leaf of ``shape``, batched at ``level`` (batch axis = row): one ``np.eye``."""
    n = math.prod(shape)
    e = np.eye(n, dtype=dtype)
    return make(wrap(e if len(shape) == 1 else e.reshape((n,) + tuple(shape))), level)


def _basis(shapes, dtypes, level, lo, hi):
    """Rows ``lo:hi`` of the identity over all leaves together, one batched value per leaf (batch axis = row)."""
    if len(shapes) == 1 and lo == 0 and 0 < hi == math.prod(shapes[0]):  # one leaf, one pass
        return [_eye(shapes[0], dtypes[0], level)]
    out = []
    off = 0
    for shape, dt in zip(shapes, dtypes):
        n = math.prod(shape)
        e = np.zeros((hi - lo, n), dtype=dt)
        a, b = max(lo, off), min(hi, off + n)  # the rows whose one falls in this leaf
        if a < b:
            e[np.arange(a - lo, b - lo), np.arange(a - off, b - off)] = 1
        out.append(make(wrap(e.reshape((hi - lo,) + tuple(shape))), level))
        off += n
    return out


def _join(chunks):
    """One physical value per leaf, its chunks joined along the batch axis."""
    if len(chunks) == 1:
        return chunks[0]

    return [concatenate(list(parts), axis=0) for parts in zip(*chunks)]


def _rows(phys, k, sizes):
    """Rows of block ``k`` (of the given sizes) of a physical value whose axis 0 runs over all blocks."""
    if len(sizes) == 1:
        return phys

    off = sum(sizes[:k])
    return getitem(phys, slice(off, off + sizes[k]))


def _reshape(x, shape):
    return x if tuple(x.shape) == tuple(shape) else reshape(x, tuple(shape))


def _per_input(phys, shapes, oshape):
    """From ``phys`` (N, *out.shape), one block (*out.shape, *in.shape) per input leaf."""
    sizes = [math.prod(s) for s in shapes]
    return [_reshape(moveaxis(_rows(phys, k, sizes), 0, len(oshape)), tuple(oshape) + tuple(shape))
            for k, shape in enumerate(shapes)]


def _leaves(args, kwargs, nums, who):
    specs, xs = [], []
    for a in nums:
        leaves, td = tree_flatten(args[a])
        specs.append((td, len(leaves)))
        for k, x in enumerate(leaves):
            xs.append(as_float_tensor(x, who, f"argument {a}" + (f" (leaf {k})" if td.kind != "leaf" else "")))
    return specs, xs, has_tensor(args, kwargs)


def _in_tree(specs, flat, single):
    """Per-argnum pytrees from one value per input leaf (one tree for an int argnums)."""
    trees, k = [], 0
    for td, n in specs:
        trees.append(tree_unflatten(td, flat[k : k + n]))
        k += n
    return trees[0] if single else tuple(trees)


def _fwd(f, args, kwargs, nums, single, has_aux, who, chunk_size):
    """Forward mode: f runs once per chunk of basis tangents (once, up to 2048 input entries)."""
    if single and chunk_size is None:
        jac = _fwd_leaf(f, args, kwargs, nums[0], has_aux, who)
        if jac is not _GENERAL:
            return jac
    args = list(args)
    specs, xs, tensors = _leaves(args, kwargs, nums, who)
    shapes = [tuple(x.shape) for x in xs]

    def rebuild(duals):
        k = 0
        for a, (td, n) in zip(nums, specs):
            args[a] = tree_unflatten(td, duals[k : k + n])
            k += n
        return args

    chunks = []
    for lo, hi in _chunks(sum(math.prod(s) for s in shapes), chunk_size, who):
        with vmap_level(hi - lo) as lv:
            basis = _basis(shapes, [x.dtype for x in xs], lv, lo, hi)
            out_td, _, touts, aux = push(f, xs, basis, rebuild, kwargs, has_aux, who)
            chunks.append([to_level(t, lv) for t in touts])  # (chunk, *out.shape); a constant gives zeros
    jac = []
    for phys in _join(chunks):
        blocks = _per_input(phys, shapes, phys.shape[1:])
        jac.append(_in_tree(specs, [output(b, tensors, True) for b in blocks], single))
    jac = tree_unflatten(out_td, jac)
    if has_aux:
        aux_leaves, aux_td = tree_flatten(aux)
        return jac, tree_unflatten(aux_td, [aux_output(a, tensors, True) for a in aux_leaves])
    return jac


_GENERAL = object()  # _fwd_leaf's answer where the general path must run (before f has run)


def _fwd_leaf(f, args, kwargs, a, has_aux, who):
    """``_fwd`` for the common call: one argument that is one array (or float, or plain Tensor), one pass.

    The same basis, levels and rules as the general path, without its pytree and chunk bookkeeping, whose
    Python overhead is most of the time of a small Jacobian (R¹⁰→R²⁰⁰⁰: ~40 of ~100 µs). _GENERAL where
    the call is not of that kind (decided before f runs).
    """
    x = args[a]
    tx = type(x)
    xt = leaf_tensor(x)
    if xt is None:
        return _GENERAL
    dt = xt.data.dtype
    n = xt.data.size
    if dt.kind not in "fc" or n == 0 or n * n > BASIS_BUDGET:  # errors, empty inputs and chunks: the general path
        return _GENERAL
    shape = xt.data.shape
    tensors = tx is Tensor or ((len(args) > 1 or bool(kwargs)) and has_tensor(args, kwargs))
    args = list(args)
    with vmap_level(n) as lv:
        with level() as tag:
            fw = dict(xt._fw) if xt._fw else {}
            fw[tag] = _eye(shape, dt, lv)
            args[a] = wrap(xt.data, xt._node, fw)
            out = f(*args, **kwargs)
            aux = None
            if has_aux:
                out, aux = split_aux(out, who)
            if type(out) is Tensor:  # the usual single output: its tangent is batched at lv
                out_td = None
                t = out._fw.get(tag) if out._fw is not None else None
                touts = [t if t is not None else tangent_out(out, tag)]
            else:
                leaves, out_td = tree_flatten(out)
                touts = [tangent_out(o, tag) for o in leaves]
            if aux is not None:
                aux_leaves, aux_td = tree_flatten(aux)
                aux = tree_unflatten(aux_td, [primal_out(v, tag) if isinstance(v, Tensor) else v
                                              for v in aux_leaves])
        phys = [t.val if type(t) is Batched and t.level == lv else to_level(t, lv) for t in touts]
    jac = [_column_block(p, shape, tensors) for p in phys]
    jac = jac[0] if out_td is None else tree_unflatten(out_td, jac)
    if has_aux:
        aux_leaves, aux_td = tree_flatten(aux)
        return jac, tree_unflatten(aux_td, [aux_output(v, tensors, True) for v in aux_leaves])
    return jac


def _plain(phys):
    """Whether nothing rides on ``phys`` (no graph, no tangent, not batched) and nothing records its use:
    then the Jacobian is shaped by NumPy directly."""
    return type(phys) is Tensor and phys._node is None and phys._fw is None and type(phys.data) is np.ndarray \
        and not is_tracing()


def _column_block(phys, shape, tensors):
    """From ``phys`` (n, *out.shape), the Jacobian block (*out.shape, *shape) for the caller."""
    if _plain(phys):
        d = phys.data
        d = _moveaxis_last(d)
        target = d.shape[:-1] + shape
        if d.shape != target:
            d = d.reshape(target)
        return wrap(d) if tensors else d
    oshape = tuple(phys.shape[1:])
    return output(_reshape(moveaxis(phys, 0, len(oshape)), oshape + shape), tensors, True)


def _moveaxis_last(d):
    """``np.moveaxis(d, 0, -1)``, the transpose it is (as ``core.shapes._moveaxis`` gives it)."""
    if d.ndim < 3:
        return d.T  # (the same view as transpose((1, 0)); a vector is itself)
    order = list(range(1, d.ndim))
    order.append(0)
    return d.transpose(order)


def _replay(tr, single, has_aux, who, chunk_size):
    """Forward mode over an evaluation already recorded (``trace(..., record=True)``): f does not run again.

    The basis tangents are pushed through the recorded operations by their
    jvp rules (``push_tangents``, as ``apply`` does), on the arrays each
    operation saw; an operation none of whose operands depends on the inputs
    is skipped. Recorded on the graph when an enclosing transform needs the
    result (``tr.need``), so it stays differentiable.
    """
    entries, tr.entries = tr.entries, None
    tr.kept = tr.need  # the results carry the graph of this pass exactly when it is recorded
    shapes = [tuple(i.shape) for i in tr.ins]
    chunks = []
    for lo, hi in _chunks(sum(math.prod(s) for s in shapes), chunk_size, who):
        with set_grad_enabled(bool(tr.need)), vmap_level(hi - lo) as lv, level() as tag:
            basis = _basis(shapes, [i.dtype for i in tr.ins], lv, lo, hi)
            tan = {i._node: b for i, b in zip(tr.ins, basis)}
            for prim, datas, parents, kw, node, ans in entries:
                if node is None:
                    continue
                ts = [None if p is None else tan.get(p) for p in parents]
                if all(t is None for t in ts):
                    continue
                args = tuple(d if p is None else make_dual(wrap(d, p), t, tag) if t is not None else wrap(d, p)
                             for d, p, t in zip(datas, parents, ts))
                out = wrap(ans, node)
                saved = node.out_fw  # push_tangents files the tangents on the node too: not this pass's
                push_tangents(prim, args, kw, out, node, not is_tracing())  # node: rules that read ``ans``
                # see it on the graph
                node.out_fw = saved
                if out._fw is not None and tag in out._fw:
                    tan[node] = out._fw[tag]
            phys = []
            for o in tr.outs:
                t = tan.get(o._node) if isinstance(o, Tensor) and o._node is not None else None
                if t is None:  # does not depend on the inputs
                    a = np.asarray(o.data if isinstance(o, Tensor) else o)
                    t = wrap(np.zeros(a.shape, a.dtype if a.dtype.kind in "fc" else np.float64))
                phys.append(to_level(t, lv))
            chunks.append(phys)
    jac = []
    for phys in _join(chunks):
        blocks = _per_input(phys, shapes, phys.shape[1:])
        jac.append(_in_tree_rev(tr, blocks, single))
    jac = tree_unflatten(tr.out_td, jac)
    return (jac, _aux(tr)) if has_aux else jac


def _rev_from_trace(tr, single, has_aux, who, chunk_size):
    """Reverse mode: the recorded graph is pulled back once per chunk of basis cotangents."""
    if len(tr.outs) == 1 and len(tr.ins) == 1 and type(tr.outs[0]) is Tensor and chunk_size is None:
        jac = _rev_leaf(tr, single)
        if jac is not None:
            return (jac, _aux(tr)) if has_aux else jac
    outs = [o if isinstance(o, Tensor) else wrap(np.asarray(o)) for o in tr.outs]
    oshapes = [tuple(o.shape) for o in outs]
    osizes = [math.prod(s) for s in oshapes]
    chunks = _chunks(sum(osizes), chunk_size, who)
    pieces = []
    for j, (lo, hi) in enumerate(chunks):
        with vmap_level(hi - lo) as lv:
            cts = _basis(oshapes, [o.dtype for o in outs], lv, lo, hi)
            # the graph is kept for the next chunk, and after the last one when an enclosing transform needs it
            grads = tr.pullback([lift(c, tr.levels) if tr.levels else c for c in cts],
                                retain_graph=tr.need or j < len(chunks) - 1)
            pieces.append([to_level(g, lv) for g in grads])  # (chunk, *in.shape)
    per_out = [[] for _ in outs]
    for phys in _join(pieces):
        ishape = tuple(phys.shape[1:])
        for j, oshape in enumerate(oshapes):
            per_out[j].append(_reshape(_rows(phys, j, osizes), oshape + ishape))
    jac = tree_unflatten(tr.out_td, [_in_tree_rev(tr, flat, single) for flat in per_out])
    return (jac, _aux(tr)) if has_aux else jac


def _rev_leaf(tr, single):
    """``_rev_from_trace`` for one output Tensor and one input leaf in one pass, without the bookkeeping of
    blocks and chunks; None (before anything ran) where that is not the case."""
    out = tr.outs[0]
    d = out.data
    m = d.size
    if m == 0 or m * m > BASIS_BUDGET:
        return None
    oshape = d.shape
    with vmap_level(m) as lv:
        ct = _eye(oshape, d.dtype, lv)
        (g,) = tr.pullback([lift(ct, tr.levels) if tr.levels else ct], retain_graph=tr.need)
        phys = g.val if type(g) is Batched and g.level == lv else to_level(g, lv)  # (m, *in.shape)
    shape = oshape + tuple(phys.shape[1:])
    if _plain(phys):
        j = phys.data
        jac = wrap(j if j.shape == shape else j.reshape(shape))
    else:
        jac = _reshape(phys, shape)
    return tree_unflatten(tr.out_td, [_in_tree_rev(tr, [jac], single)])


def _in_tree_rev(tr, flat, single):
    trees = tr.rebuild(flat)
    return trees[0] if single else tuple(trees)


def jacfwd(f, argnums=0, has_aux=False, *, chunk_size=None):
    """The Jacobian by forward mode, shape ``out.shape + in.shape``: efficient when inputs are few.

    The basis tangents travel through ``f`` together, as one batched tangent;
    beyond 2048 input entries (see :data:`BASIS_BUDGET`, or pass
    ``chunk_size``) they go in chunks, and ``f`` runs once per chunk.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import jacfwd
    >>> jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    return _jacfwd(f, argnums, has_aux, "jacfwd", chunk_size)


def _jacfwd(f, argnums, has_aux, who, chunk_size):
    @functools.wraps(f)
    def jacfwd_f(*args, **kwargs):
        nums, single = argnums_tuple(argnums, len(args), who)
        return _fwd(f, args, kwargs, nums, single, has_aux, who, chunk_size)

    return jacfwd_f


def jacrev(f, argnums=0, has_aux=False, *, chunk_size=None):
    """The Jacobian by reverse mode, shape ``out.shape + in.shape``: efficient when outputs are few.

    ``f`` runs once; the basis cotangents travel back through its graph
    together, as one batched cotangent (in chunks beyond 2048 output
    entries, see :data:`BASIS_BUDGET`, or pass ``chunk_size``).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import jacrev
    >>> jacrev(lambda x: x.sum() * x)(np.array([1.0, 2.0]))
    array([[4., 1.],
           [2., 5.]])
    """
    return _jacrev(f, argnums, has_aux, "jacrev", chunk_size)


def _jacrev(f, argnums, has_aux, who, chunk_size):
    @functools.wraps(f)
    def jacrev_f(*args, **kwargs):
        nums, single = argnums_tuple(argnums, len(args), who)
        tr = trace(f, args, kwargs, nums, who, has_aux)
        return _rev_from_trace(tr, single, has_aux, who, chunk_size)

    return jacrev_f


def jacobian(f, argnums=0, mode="auto", has_aux=False, *, chunk_size=None):
    """The Jacobian of ``f``, shape ``out.shape + in.shape``, by ``mode`` "forward", "reverse" or "auto".

    "auto" runs ``f`` once, recording its graph for reverse mode together
    with the values every operation saw. When the inputs have fewer entries
    than the outputs it then pushes the basis tangents through those recorded
    operations by their jvp rules (forward mode, without running ``f``
    again); otherwise it pulls the basis cotangents back (reverse mode).
    Inside forward mode or vmap (``jvp``, ``jacfwd``, ``hessian``) the
    recorded arrays lack the outer tangents and batch axes, so "auto" uses
    reverse mode there. Like reverse mode, it treats values computed under
    ``no_grad`` or detached as constants.

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
            return _fwd(f, args, kwargs, nums, single, has_aux, "jacobian", chunk_size)
        replay = mode == "auto" and STATE.depth == 0
        tr = trace(f, args, kwargs, nums, "jacobian", has_aux, record=replay)
        if replay:
            n_in = sum(i.size for i in tr.ins)
            n_out = sum(o.size if isinstance(o, Tensor) else np.size(o) for o in tr.outs)
            if n_in < n_out:
                return _replay(tr, single, has_aux, "jacobian", chunk_size)
            tr.entries = None  # reverse mode: free the recorded values before the backward pass
        return _rev_from_trace(tr, single, has_aux, "jacobian", chunk_size)

    return jacobian_f


def hessian(f, argnums=0, has_aux=False, *, chunk_size=None):
    """The Hessian of a scalar ``f``, shape ``in.shape + in.shape``: ``jacfwd(jacrev(f))``.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import hessian
    >>> hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    inner = _jacrev(f, argnums, has_aux, "hessian", chunk_size)
    return _jacfwd(inner, argnums, has_aux, "hessian", chunk_size)


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
        raise TypeError("hvp: primals and vectors must be tuples (one entry per argument of f), got "
                        f"{type(primals).__name__} and {type(vectors).__name__}")
    g = _grad(f, tuple(range(len(primals))), False, "hvp")
    return _jvp(g, tuple(primals), tuple(vectors), False, "hvp", "vector")
