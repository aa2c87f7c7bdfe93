"""Checking derivatives: gradcheck (whole function) and check_nodes (every node of the graph, on its own)."""

from __future__ import annotations

import numpy as np

from .core.backward import toposort
from .core.forward import level, make_dual, tangent_of
from .core.primitive import apply
from .core.state import enable_grad
from .core.tensor import Tensor, wrap
from .transforms._util import backprop
from .transforms.pytree import tree_flatten

__all__ = ["GradcheckError", "check_nodes", "gradcheck"]

_SMALL = 32  # inputs with at most this many entries are also checked entry by entry


class GradcheckError(AssertionError):
    """A derivative disagrees with finite differences; ``input``, ``index``, ``analytic``, ``numeric``,
    ``mode`` (and, from the per-node check, ``node``) say where."""

    def __init__(self, message, *, input=None, index=None, analytic=None, numeric=None, mode=None, node=None):
        super().__init__(message)
        self.input = input
        self.index = index
        self.analytic = analytic
        self.numeric = numeric
        self.mode = mode
        self.node = node


def _f64(x):
    a = np.array(x.data if isinstance(x, Tensor) else x)
    return a.astype(np.float64) if a.dtype.kind in "fc" else a


def _flat_out(out):
    leaves, _ = tree_flatten(out)
    return [lf for lf in leaves if lf is not None]


class _Fn:
    """``f`` on float64 arrays: values for finite differences, Tensors for the analytic derivatives."""

    def __init__(self, f, arrays):
        self.f = f
        self.arrays = arrays
        self.diff = [i for i, a in enumerate(arrays) if a.dtype.kind in "fc"]

    def values(self, arrays):
        with enable_grad():
            outs = _flat_out(self.f(*[wrap(a) for a in arrays]))
        return [np.asarray(o.data if isinstance(o, Tensor) else o, dtype=np.float64) for o in outs]

    def dot(self, us, arrays):
        return sum(float(np.sum(u * y)) for u, y in zip(us, self.values(arrays)))

    def shifted(self, i, d, eps):
        hi = list(self.arrays)
        lo = list(self.arrays)
        hi[i] = self.arrays[i] + eps * d
        lo[i] = self.arrays[i] - eps * d
        return hi, lo

    def reverse(self, us):
        leaves = [wrap(a.copy()).requires_grad_(True) if i in self.diff else wrap(a) for i, a in enumerate(self.arrays)]
        with enable_grad():
            outs = _flat_out(self.f(*leaves))
        gs = backprop([o for o in outs], us, [leaves[i] for i in self.diff], False, False)
        return {i: np.zeros_like(self.arrays[i]) if g is None else np.asarray(g.data, dtype=np.float64)
                for i, g in zip(self.diff, gs)}

    def forward(self, i, d):
        with level() as tag:
            args = [make_dual(wrap(a), wrap(d), tag) if j == i else wrap(a) for j, a in enumerate(self.arrays)]
            outs = _flat_out(self.f(*args))
            return [np.asarray(tangent_of(o, tag).data if isinstance(o, Tensor) else np.zeros(np.shape(o)),
                               dtype=np.float64) for o in outs]


def _fail(what, label, idx, a, n, atol, rtol, mode, node, prefix):
    where = "along a random direction" if idx is None else f"at index {idx}"
    raise GradcheckError(
        f"{prefix}: {what} of input {label} is wrong {where}: analytic {a!r}, numeric {n!r} "
        f"(worst error |analytic - numeric| = {abs(a - n):.3g} > atol {atol:g} + rtol {rtol:g} · |numeric|)",
        input=label, index=idx, analytic=a, numeric=n, mode=mode, node=node,
    )


def _worst(ana, num, atol, rtol):
    """Index of the worst violation of |a - n| <= atol + rtol |n| (NaN counts as a violation), or None."""
    ana = np.asarray(ana, dtype=np.float64)
    num = np.asarray(num, dtype=np.float64)
    err = np.abs(ana - num) - (atol + rtol * np.abs(num))
    err = np.where(np.isnan(err) & ~(np.isnan(ana) & np.isnan(num)), np.inf, np.nan_to_num(err, nan=-1.0))
    if err.size == 0 or err.max() <= 0:
        return None
    return tuple(int(v) for v in np.unravel_index(int(np.argmax(err)), err.shape))


def _check(fn, eps, atol, rtol, forward, rng, prefix="gradcheck", node=None, labels=None):
    ys = fn.values(fn.arrays)
    # a scalar function is weighted by 1, so the values reported are its partial derivatives themselves
    us = [np.ones(()) if len(ys) == 1 and ys[0].shape == () else rng.standard_normal(y.shape) for y in ys]
    grads = fn.reverse([wrap(u) for u in us])
    for i in fn.diff:
        label = i if labels is None else labels[i]
        x = fn.arrays[i]
        if x.size <= _SMALL:  # entry by entry: every partial derivative, the worst one named
            num = np.zeros(x.shape)
            fwd = np.zeros(x.shape)
            for idx in np.ndindex(x.shape):
                e = np.zeros_like(x)
                e[idx] = 1.0
                hi, lo = fn.shifted(i, e, eps)
                num[idx] = (fn.dot(us, hi) - fn.dot(us, lo)) / (2 * eps)
                if forward:
                    fwd[idx] = sum(float(np.sum(u * t)) for u, t in zip(us, fn.forward(i, e)))
            j = _worst(grads[i], num, atol, rtol)
            if j is not None:
                _fail("reverse-mode gradient", label, j, float(grads[i][j]), float(num[j]), atol, rtol, "reverse",
                      node, prefix)
            j = _worst(fwd, num, atol, rtol) if forward else None
            if j is not None:
                _fail("forward-mode derivative <u, J e>", label, j, float(fwd[j]), float(num[j]), atol, rtol,
                      "forward", node, prefix)
        d = rng.standard_normal(x.shape)  # a random direction: catches what single entries average out
        hi, lo = fn.shifted(i, d, eps)
        num = (fn.dot(us, hi) - fn.dot(us, lo)) / (2 * eps)
        ana = float(np.sum(grads[i] * d))
        if _worst(ana, num, atol, rtol) is not None:
            _fail("reverse-mode gradient", label, None, ana, num, atol, rtol, "reverse", node, prefix)
        if forward:
            for k, (t, y_hi, y_lo) in enumerate(zip(fn.forward(i, d), fn.values(hi), fn.values(lo))):
                numv = (y_hi - y_lo) / (2 * eps)
                j = _worst(t, numv, atol, rtol)
                if j is not None:
                    _fail(f"forward-mode tangent (output {k}, entry {j})", label, None, float(t[j]), float(numv[j]),
                          atol, rtol, "forward", node, prefix)


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, forward=True, per_node=False, seed=0):
    """Check ``f``'s reverse and forward derivatives against central finite differences, in float64.

    Along a random direction per input, and entry by entry for inputs of at
    most 32 entries. Returns True or raises :class:`GradcheckError` naming the
    input, the index and both values. ``per_node=True`` first checks every
    node of the graph on its own (:func:`check_nodes`), so a wrong rule is
    named by its primitive. ``forward=False`` skips forward mode (for
    Functions without ``jvp``).

    >>> import chainrule as cr
    >>> from chainrule.testing import gradcheck
    >>> gradcheck(lambda x, y: cr.sin(x) * y, (1.0, 2.0))
    True
    """
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    arrays = [_f64(x) for x in inputs]
    if per_node:
        check_nodes(f, tuple(arrays), eps=eps, atol=atol, rtol=rtol, forward=forward, seed=seed)
    _check(_Fn(f, arrays), eps, atol, rtol, forward, np.random.default_rng(seed))
    return True


# ---- the per-node check ----------------------------------------------------------------
def _graph(f, arrays):
    leaves = [wrap(a.copy()).requires_grad_(True) if a.dtype.kind in "fc" else wrap(a) for a in arrays]
    with enable_grad():
        outs = [o for o in _flat_out(f(*leaves)) if isinstance(o, Tensor) and o._node is not None]
    return toposort([o._node for o in outs]), outs


def _recorded(f, arrays):
    """The graph of ``f`` with every node keeping its inputs and output (so each can be re-run alone)."""
    order, _ = _graph(f, arrays)
    prims = {n.prim for n in order if n.prim is not None}
    saved = {p: (p.save_args, p.save_ans) for p in prims}
    try:
        for p in prims:
            p.save_args = p.save_ans = True
        order, outs = _graph(f, arrays)  # f again, deterministic: now every node keeps its arguments
    finally:
        for p, (a, b) in saved.items():
            p.save_args, p.save_ans = a, b
    return [n for n in order if n.prim is not None], outs


def _node_fn(node):
    """The node's primitive as a function of its differentiable inputs (the others held fixed)."""
    prim, args, kw = node.prim, node.args, node.kw
    pos = [i for i, p in enumerate(node.parents) if p is not None]
    fn_cls = getattr(prim, "fn", None)

    def run(*xs):
        full = list(args)
        for i, x in zip(pos, xs):
            full[i] = x
        if fn_cls is not None:  # a custom Function: a fresh ctx, as a new call would have
            return fn_cls.apply(*full)
        return apply(prim, tuple(full), kw)

    arrays = [_f64(args[i]) for i in pos]
    return run, arrays, pos


def check_nodes(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, forward=True, seed=0):
    """Run ``f`` once and check every node's reverse and forward rule, on that node alone, against finite
    differences at the node's own inputs; raise :class:`GradcheckError` naming the first faulty node.

    The error names the primitive, the node's position in topological order,
    its input shapes, and the worst disagreement (input, index, both values).

    >>> import chainrule as cr
    >>> from chainrule.testing import check_nodes
    >>> check_nodes(lambda x: cr.tanh(x) * cr.exp(x), (0.5,))
    True
    """
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    arrays = [_f64(x) for x in inputs]
    order, _ = _recorded(f, arrays)
    rng = np.random.default_rng(seed)
    for k, node in enumerate(order):
        run, node_arrays, pos = _node_fn(node)
        shapes = [tuple(np.shape(a.data if isinstance(a, Tensor) else a)) for a in node.args]
        prefix = (f"per-node check: node {k} of {len(order)} (topological order), primitive {node.prim.name!r}, "
                  f"input shapes {shapes}")
        fwd = forward and node.prim.jvp is not None
        try:
            _check(_Fn(run, node_arrays), eps, atol, rtol, fwd, rng, prefix=prefix, node=node, labels=pos)
        except NotImplementedError:
            # forward mode unavailable for this node (a Function without jvp): check reverse mode alone
            _check(_Fn(run, node_arrays), eps, atol, rtol, False, rng, prefix=prefix, node=node, labels=pos)
    return True
