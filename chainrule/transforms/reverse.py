"""Reverse mode as functions: grad, value_and_grad and vjp, composable to any order."""

from __future__ import annotations

import functools
import math

import numpy as np

from ..core.batching import innermost
from ..core.concrete import inputs
from ..core.shapes import shape_of
from ..core.state import STATE, enable_grad
from ..core.tensor import Tensor
from ._util import (
    OwnLeaf,
    Recorder,
    argnums_tuple,
    as_float_tensor,
    aux_output,
    backprop,
    check_cotangent,
    fresh,
    has_tensor,
    leaf_tensor,
    levels_of,
    lift,
    output,
    reaches_outer,
    split_aux,
    unlift,
    zeros_like,
)
from .pytree import _LEAF, tree_flatten, tree_unflatten

__all__ = ["grad", "value_and_grad", "vjp"]


class Trace:
    """One evaluation of ``f`` recorded for reverse mode: what its pullback needs.

    ``ins`` are the fresh nodes standing for the differentiated input leaves
    (physical values when the inputs are batched by an enclosing vmap: the
    ``levels`` are then differentiated per batch element), ``outs`` the output
    leaves as given and ``phys`` the same lifted to those levels. ``need``
    says whether an enclosing transform (or a user's Tensor that requires
    grad) depends on this evaluation, so its graph must be kept and its
    backward pass recorded; ``tensors`` whether the call had a Tensor (the
    rule of ``has_tensor``); ``entries`` the operations recorded when a
    :class:`Recorder` was asked for.
    """

    __slots__ = ("aux", "entries", "ins", "kept", "levels", "need", "order", "out_td", "outs", "phys", "specs",
                 "tensors", "who")

    def pullback(self, cts, retain_graph):
        """Per differentiated leaf, the gradient (physical zeros where unreached), lifted back to the levels.

        The backward pass is recorded when an enclosing transform needs it, or
        when a cotangent is itself on a graph (``vjp_fn`` of a function of an
        outer variable): then the results depend on that variable.
        """
        create = self.need or any(isinstance(c, Tensor) and innermost(c)._node is not None for c in cts)
        self.kept = create = create and STATE.grad
        grads = backprop(self.phys, cts, self.ins, create, retain_graph, self.order)
        return [unlift(zeros_like(i) if g is None else g, self.levels) for g, i in zip(grads, self.ins)]

    def rebuild(self, flat, tensors=None):
        """The per-argnum pytrees (converted for the caller) from one value per differentiated leaf."""
        tensors = self.tensors if tensors is None else tensors
        trees = []
        k = 0
        for td, leaves in self.specs:
            part = flat[k : k + len(leaves)]
            k += len(leaves)
            trees.append(tree_unflatten(td, [output(g, tensors, self.kept) for g in part]))
        return trees


def trace(f, args, kwargs, nums, who, has_aux, record=False):
    """Run ``f`` once with the leaves of ``args[nums]`` replaced by fresh nodes, recording for reverse mode.

    With ``record``, every operation is also kept in ``entries`` (see
    :class:`Recorder`), so forward mode can run over the same evaluation.
    """
    if len(nums) == 1 and not STATE.vmap:
        tr = _trace_leaf(f, args, kwargs, nums[0], who, has_aux, record)
        if tr is not None:
            return tr
    tr = Trace()
    tr.who = who
    tr.kept = False
    args = list(args)
    tr.specs = []
    tensors = []
    for a in nums:
        leaves, td = tree_flatten(args[a])
        tr.specs.append((td, leaves))
        for k, x in enumerate(leaves):
            if isinstance(x, Tensor) and x.dtype.kind in "fc":
                tensors.append(x)
                continue
            where = f"argument {a}" + (f" (leaf {k} of its pytree)" if td.kind != "leaf" else "")
            tensors.append(as_float_tensor(x, who, where))
    tr.tensors = has_tensor(args, kwargs)
    grad_on = STATE.grad
    batching = STATE.vmap > 0  # batched values exist only while a batching level is live
    levels = sorted(levels_of(tensors)) if batching else []
    rec = None
    for _ in range(2):
        with enable_grad():  # a transform records even under no_grad (as torch.func does)
            phys = [lift(t, levels) for t in tensors] if levels else tensors
            tr.ins = [fresh(p) for p in phys]
            own = [i._node for i in tr.ins if type(i._node) is OwnLeaf]
            logical = [unlift(i, levels) for i in tr.ins] if levels else tr.ins
            k = 0
            for a, (td, leaves) in zip(nums, tr.specs):
                n = len(leaves)
                args[a] = logical[k] if td.kind == "leaf" else tree_unflatten(td, logical[k : k + n])
                k += n
            for node in own:  # while f runs, an inner transform must keep what depends on these inputs
                node.active = True
            try:
                with inputs([i._node for i in tr.ins]):  # values that depend on them are traced (no float(x))
                    if record:
                        with Recorder() as rec:
                            out = f(*args, **kwargs)
                    else:
                        out = f(*args, **kwargs)
            finally:
                for node in own:
                    node.active = False
        if has_aux:
            out, tr.aux = split_aux(out, who)
        else:
            tr.aux = None
        tr.outs, tr.out_td = tree_flatten(out)
        if not batching:
            break
        # an output batched where no input is (a closure over a batched value): differentiate per
        # batch element there too, i.e. broadcast the inputs along that level and run again
        extra = levels_of([o for o in tr.outs if isinstance(o, Tensor)]) - set(levels)
        if not extra:
            break
        levels = sorted(set(levels) | extra)
    tr.levels = levels
    tr.entries = rec.entries if rec is not None else None
    _check_float_outputs(tr.outs, who)
    tr.phys = [(lift(o, levels) if levels else o) if isinstance(o, Tensor) else None for o in tr.outs]
    # Keep the graph (and record the backward pass) only when someone outside depends on this evaluation:
    # the inputs lie on an outer graph, or f closes over a value that does. An inner grad evaluated at a
    # fixed point is then a constant to the outer transform, and its result a plain array.
    _decide_need(tr, grad_on, any(p._node is not None for p in phys))
    return tr


def _trace_leaf(f, args, kwargs, a, who, has_aux, record=False):
    """``trace`` for the common call: one differentiated argument that is one float array (or float, or
    Tensor), no batching level live. The same steps without the pytree and batching bookkeeping, which are
    much of the cost of a small ``grad`` or ``jacrev``. None (before f runs) where the call is not of that
    kind."""
    x = args[a]
    tx = type(x)
    xt = leaf_tensor(x)
    if xt is None:
        return None
    if xt.data.dtype.kind not in "fc":
        return None  # the general path raises, naming the argument
    tr = Trace()
    tr.who = who
    tr.kept = False
    tr.specs = [(_LEAF, [x])]
    tr.tensors = tx is Tensor or ((len(args) > 1 or bool(kwargs)) and has_tensor(args, kwargs))
    state = STATE
    grad_on = state.grad
    args = list(args)
    state.set(grad=True)  # a transform records even under no_grad (as torch.func does): enable_grad, inlined
    try:
        i = fresh(xt)
        tr.ins = [i]
        node = i._node
        own = type(node) is OwnLeaf
        args[a] = i
        if own:  # while f runs, an inner transform must keep what depends on this input
            node.active = True
        try:
            with inputs([node]):  # values that depend on it are traced (no float(x))
                if record:
                    with Recorder() as rec:
                        out = f(*args, **kwargs)
                    tr.entries = rec.entries
                else:
                    out = f(*args, **kwargs)
                    tr.entries = None
        finally:
            if own:
                node.active = False
    finally:
        state.set(grad=grad_on)
    if has_aux:
        out, tr.aux = split_aux(out, who)
    else:
        tr.aux = None
    if type(out) is Tensor:
        tr.outs, tr.out_td = [out], _LEAF
    else:
        tr.outs, tr.out_td = tree_flatten(out)
    tr.levels = []
    _check_float_outputs(tr.outs, who)
    tr.phys = [o if isinstance(o, Tensor) else None for o in tr.outs]
    _decide_need(tr, grad_on, xt._node is not None)
    return tr


def _check_float_outputs(outs, who):
    for o in outs:
        if isinstance(o, Tensor) and o.dtype.kind not in "fc":
            raise TypeError(f"{who}: the function's output has dtype {o.dtype}; only floating-point outputs "
                            f"can be differentiated")


def _decide_need(tr, grad_on, on_graph):
    """``tr.need``: keep the graph (and record the backward pass) when the inputs lie on an outer graph
    (``on_graph``) or ``f`` closed over a value that does; the walk that decides it leaves the order for the
    sweep (``tr.order``)."""
    tr.order = None
    if not grad_on:
        tr.need = False
    elif on_graph:
        tr.need = True
    else:
        tr.order, tr.need = reaches_outer(tr.phys)


def _finish_value(tr, x):
    return output(x, tr.tensors, tr.need)


def value_and_grad(f, argnums=0, has_aux=False):
    """A function returning ``(f(*args), ∇f)``; with ``has_aux``, ``((value, aux), ∇f)`` as in JAX.

    >>> import chainrule as cr
    >>> from chainrule.transforms import value_and_grad
    >>> value_and_grad(lambda x: x ** 3)(2.0)
    (array(8.), array(12.))
    """

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        nums, single = argnums_tuple(argnums, len(args), "value_and_grad")
        tr = trace(f, args, kwargs, nums, "value_and_grad", has_aux)
        value = _scalar(tr, "value_and_grad")
        g = tr.rebuild(tr.pullback([None], retain_graph=tr.need))
        g = g[0] if single else tuple(g)
        value = _finish_value(tr, value)
        if has_aux:
            return (value, _aux(tr)), g
        return value, g

    return value_and_grad_f


def grad(f, argnums=0, has_aux=False):
    """The gradient of a scalar-valued ``f`` with respect to argument(s) ``argnums``, as a function.

    Inputs may be floats, arrays, Tensors or pytrees of them; the gradient has
    the same structure (a float gives a 0-d array). Results are Tensors when
    any argument is a Tensor, ndarrays otherwise. Composes with every
    transform, to any order.

    >>> import chainrule as cr
    >>> from chainrule.transforms import grad
    >>> d3 = grad(grad(grad(lambda x: x ** 4)))
    >>> float(d3(2.0))   # 24 x
    48.0
    """
    return _grad(f, argnums, has_aux, "grad")


def _grad(f, argnums, has_aux, who):
    """``grad`` whose errors name ``who``, the transform the user called (``hvp`` is built on it)."""

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        nums, single = argnums_tuple(argnums, len(args), who)
        tr = trace(f, args, kwargs, nums, who, has_aux)
        _scalar(tr, who)
        g = tr.rebuild(tr.pullback([None], retain_graph=tr.need))
        g = g[0] if single else tuple(g)
        return (g, _aux(tr)) if has_aux else g

    return grad_f


def _scalar(tr, who):
    if tr.out_td.kind != "leaf":
        raise TypeError(f"{who}: the function must return a single scalar, got a {tr.out_td!r} pytree "
                        f"(use jacobian or vjp for several outputs)")
    out = tr.outs[0]
    shape = shape_of(out)
    # NOTE: shape () only, as in JAX and torch.func: a (1,) or (1, 1) output is an array that happens to
    # hold one number, and treating it as a scalar would hide a shape bug in the caller.
    if shape != ():
        hint = "index or reshape it (e.g. y[0] or y.reshape(()))" if math.prod(shape) == 1 else \
            "reduce it (e.g. .sum())"
        raise TypeError(f"{who}: the output must be a scalar (shape ()), but it has shape {shape}; "
                        f"{hint}, or use cr.jacobian / cr.vjp for non-scalar outputs")
    dtype = out.dtype if isinstance(out, Tensor) else np.asarray(out).dtype
    if dtype.kind not in "fc":  # as JAX: an integer (or bool) output has no gradient, even a zero one
        raise TypeError(f"{who}: the output must be a floating-point scalar, but its dtype is {dtype}; "
                        f"return a float (e.g. 3.0, or y.astype(float))")
    if dtype.kind == "c":  # as JAX and PyTorch: the gradient is of a real function (PyTorch's convention)
        raise TypeError(f"{who}: the output must be real, but its dtype is {dtype}; return a real function of it "
                        f"(cr.real(y), cr.abs(y)), or use cr.vjp with a complex cotangent")
    return out


def _aux(tr):
    leaves, td = tree_flatten(tr.aux)
    return tree_unflatten(td, [aux_output(x, tr.tensors, tr.need) for x in leaves])


def vjp(f, *primals, has_aux=False):
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangent)`` returns a tuple, one cotangent per primal.

    ``vjp_fn`` may be called any number of times (the graph is kept while it lives).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.transforms import vjp
    >>> out, vjp_fn = vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> vjp_fn(np.array([1.0, 1.0]))
    (array([2., 4.]),)
    """
    nums = tuple(range(len(primals)))
    tr = trace(f, primals, {}, nums, "vjp", has_aux)
    out = tree_unflatten(tr.out_td, [_finish_value(tr, o) for o in tr.outs])

    def vjp_fn(cotangent):
        """One cotangent per primal, for ``cotangent`` of the output's structure (Tensors in, Tensors out)."""
        leaves, td = tree_flatten(cotangent)
        if td != tr.out_td:
            raise ValueError(f"vjp: the cotangent has structure {td!r} but the output has {tr.out_td!r}")
        cts = []
        for k, (ct, o) in enumerate(zip(leaves, tr.outs)):
            if not isinstance(o, Tensor):
                cts.append(None)
                continue
            check_cotangent(ct, o, "vjp", f"output leaf {k}")
            cts.append(lift(ct, tr.levels) if tr.levels else ct)
        return tuple(tr.rebuild(tr.pullback(cts, retain_graph=True), tr.tensors or has_tensor(cotangent)))

    if has_aux:
        return out, vjp_fn, _aux(tr)
    return out, vjp_fn
