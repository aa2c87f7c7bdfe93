"""Checking derivatives: gradcheck (whole function) and check_nodes (every node of the graph, on its own)."""

from __future__ import annotations

import warnings

import numpy as np

from .core.backward import toposort
from .core.forward import level, make_dual, tangent_of
from .core.primitive import apply
from .core.state import enable_grad
from .core.tensor import Tensor, wrap
from .transforms._util import Recorder, backprop
from .transforms.pytree import tree_flatten, tree_unflatten

__all__ = ["GradcheckError", "GradcheckWarning", "check_nodes", "gradcheck"]

_SMALL = 32  # inputs with at most this many entries are also checked entry by entry


class GradcheckError(AssertionError):
    """A derivative disagrees with finite differences; ``input``, ``index``, ``analytic``, ``numeric``,
    ``mode`` (and, from the per-node check, ``node``) say where.

    ``input`` is the position of the input in ``inputs`` (an int), or for a
    leaf of a pytree input its path, such as ``"0['w']"`` or ``"1[2]"``.
    """

    def __init__(self, message, *, input=None, index=None, analytic=None, numeric=None, mode=None, node=None):
        super().__init__(message)
        self.input = input
        self.index = index
        self.analytic = analytic
        self.numeric = numeric
        self.mode = mode
        self.node = node


class GradcheckWarning(UserWarning):
    """Part of a check could not run (forward mode through a Function without ``jvp``); the rest passed."""


def _is_float(x):
    if isinstance(x, Tensor):
        return x.dtype.kind in "fc"
    if isinstance(x, (float, complex, np.floating, np.complexfloating)):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind in "fc"


def _f64(x):
    """A float leaf as a float64 (or complex128) array of its own: the check runs in double precision."""
    a = np.array(x.data if isinstance(x, Tensor) else x)
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def _paths(td):
    """The path of each leaf of the structure ``td``, in flattening order (``"['w']"``, ``"[1][0]"``)."""
    if td.kind == "leaf":
        return [""]
    if td.kind == "none":
        return []
    keys = td.meta if td.kind == "dict" else range(len(td.children))
    return [f"[{k!r}]" + p for k, c in zip(keys, td.children) for p in _paths(c)]


def _flatten_inputs(inputs):
    """``(leaves, treedef, labels)`` of the inputs tuple: a plain input is labelled by its position, a pytree
    leaf by its path (``"0['w']"``)."""
    leaves, td = tree_flatten(tuple(inputs))
    labels = []
    for k, child in enumerate(td.children):
        labels.extend(k if p == "" else f"{k}{p}" for p in _paths(child))
    return leaves, td, labels


def _flat_out(out):
    leaves, _ = tree_flatten(out)
    return [lf for lf in leaves if lf is not None]


class _Fn:
    """``call`` (leaves in, ``f``'s output out) on float64 leaves: values for finite differences, Tensors for
    the analytic derivatives. Leaves that are not floats (an int exponent, a flag) are held fixed."""

    def __init__(self, call, leaves):
        self.call = call
        self.arrays = [_f64(x) if _is_float(x) else x for x in leaves]
        self.diff = [i for i, x in enumerate(leaves) if _is_float(x)]

    def _args(self, arrays, make):
        return [make(i, a) if i in self.diff else a for i, a in enumerate(arrays)]

    def values(self, arrays):
        with enable_grad():
            outs = _flat_out(self.call(self._args(arrays, lambda i, a: wrap(a))))
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
        leaves = self._args(self.arrays, lambda i, a: wrap(a.copy()).requires_grad_(True))
        with enable_grad():
            outs = _flat_out(self.call(leaves))
        gs = backprop(outs, us, [leaves[i] for i in self.diff], False, False)
        return {i: np.zeros_like(self.arrays[i]) if g is None else np.asarray(g.data, dtype=np.float64)
                for i, g in zip(self.diff, gs)}

    def forward(self, i, d):
        with level() as tag:
            args = self._args(self.arrays, lambda j, a: make_dual(wrap(a), wrap(d), tag) if j == i else wrap(a))
            outs = _flat_out(self.call(args))
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
    """Reverse mode first, for every input; then forward mode. Returns None, or why forward mode was not
    checked: a rule it needs is missing (a Function without jvp), which must not hide a wrong reverse rule."""
    ys = fn.values(fn.arrays)
    # a scalar function is weighted by 1, so the values reported are its partial derivatives themselves
    us = [np.ones(()) if len(ys) == 1 and ys[0].shape == () else rng.standard_normal(y.shape) for y in ys]
    grads = fn.reverse([wrap(u) for u in us])
    numeric = {}  # per input: the entry-by-entry finite differences (small inputs) and the random direction
    for i in fn.diff:
        label = i if labels is None else labels[i]
        x = fn.arrays[i]
        num = None
        if x.size <= _SMALL:  # entry by entry: every partial derivative, the worst one named
            num = np.zeros(x.shape)
            for idx in np.ndindex(x.shape):
                e = np.zeros_like(x)
                e[idx] = 1.0
                hi, lo = fn.shifted(i, e, eps)
                num[idx] = (fn.dot(us, hi) - fn.dot(us, lo)) / (2 * eps)
            j = _worst(grads[i], num, atol, rtol)
            if j is not None:
                _fail("reverse-mode gradient", label, j, float(grads[i][j]), float(num[j]), atol, rtol, "reverse",
                      node, prefix)
        d = rng.standard_normal(x.shape)  # a random direction: catches what single entries average out
        hi, lo = fn.shifted(i, d, eps)
        num_d = (fn.dot(us, hi) - fn.dot(us, lo)) / (2 * eps)
        ana = float(np.sum(grads[i] * d))
        if _worst(ana, num_d, atol, rtol) is not None:
            _fail("reverse-mode gradient", label, None, ana, num_d, atol, rtol, "reverse", node, prefix)
        numeric[i] = (num, d, hi, lo)
    if not forward:
        return None
    try:
        for i in fn.diff:
            label = i if labels is None else labels[i]
            x = fn.arrays[i]
            num, d, hi, lo = numeric[i]
            if num is not None:
                fwd = np.zeros(x.shape)
                for idx in np.ndindex(x.shape):
                    e = np.zeros_like(x)
                    e[idx] = 1.0
                    fwd[idx] = sum(float(np.sum(u * t)) for u, t in zip(us, fn.forward(i, e)))
                j = _worst(fwd, num, atol, rtol)
                if j is not None:
                    _fail("forward-mode derivative <u, J e>", label, j, float(fwd[j]), float(num[j]), atol, rtol,
                          "forward", node, prefix)
            for k, (t, y_hi, y_lo) in enumerate(zip(fn.forward(i, d), fn.values(hi), fn.values(lo))):
                numv = (y_hi - y_lo) / (2 * eps)
                j = _worst(t, numv, atol, rtol)
                if j is not None:
                    _fail(f"forward-mode tangent (output {k}, entry {j})", label, None, float(t[j]), float(numv[j]),
                          atol, rtol, "forward", node, prefix)
    except NotImplementedError as e:
        return str(e)
    return None


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, forward=True, per_node=False, seed=0):
    """Check ``f``'s reverse and forward derivatives against central finite differences, in float64.

    ``inputs`` is a tuple of the arguments: floats, arrays, Tensors or
    pytrees of them (leaves that are not floats, such as an int exponent,
    are held fixed). Each float leaf is checked along a random direction,
    and entry by entry when it has at most 32 entries. Returns True or raises
    :class:`GradcheckError` naming the input (its position, or its path in a
    pytree such as ``"0['w']"``), the index and both values.

    Reverse mode is checked first, for every input, then forward mode: where
    forward mode cannot run (a Function without ``jvp``) a wrong reverse rule
    is still reported, and if reverse mode is right a :class:`GradcheckWarning`
    says that forward mode was skipped and why; ``forward=False`` skips it
    outright. ``per_node=True`` first checks every node of the graph on its
    own (:func:`check_nodes`), so a wrong rule is named by its primitive.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.testing import gradcheck
    >>> gradcheck(lambda x, y: cr.sin(x) * y, (1.0, 2.0))
    True
    >>> gradcheck(lambda p, n: (p["w"] ** n).sum() * p["b"], ({"w": np.array([0.5, 2.0]), "b": 3.0}, 3))
    True
    """
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    leaves, td, labels = _flatten_inputs(inputs)
    skipped = []
    if per_node:
        skipped += _check_nodes(f, leaves, td, eps, atol, rtol, forward, seed)
    reason = _check(_Fn(lambda ls: f(*tree_unflatten(td, ls)), leaves), eps, atol, rtol, forward,
                    np.random.default_rng(seed), labels=labels)
    if reason is not None:
        skipped.append(f"gradcheck: {reason}")
    _warn_skipped(skipped)
    return True


def _warn_skipped(skipped):
    if skipped:
        warnings.warn(
            "forward mode was not checked where a forward rule is missing (reverse mode was checked, and is "
            "right); pass forward=False to check reverse mode only. " + "; ".join(dict.fromkeys(skipped)),
            GradcheckWarning, stacklevel=3,
        )


# ---- the per-node check ----------------------------------------------------------------
def _recorded(f, leaves, td):
    """Run ``f`` once, recording every operation with the arrays it saw (so each node can be re-run alone,
    whatever its primitive chose to save); the entries of the nodes the outputs depend on, in graph order.

    The primitives are left as they are: no global flag is touched, so other threads are unaffected.
    """
    args = [wrap(_f64(x)).requires_grad_(True) if _is_float(x) else x for x in leaves]
    with Recorder() as rec, enable_grad():
        outs = [o for o in _flat_out(f(*tree_unflatten(td, args))) if isinstance(o, Tensor) and o._node is not None]
    entries = {e[4]: e for e in rec.entries if e[4] is not None}
    order = [n for n in toposort([o._node for o in outs]) if n.prim is not None]
    return [entries[n] for n in order if n in entries]


def _node_fn(entry):
    """The node's primitive as a function of its differentiable inputs (the others held at their values)."""
    prim, datas, parents, kw, node, _ = entry
    pos = [i for i, p in enumerate(parents) if p is not None]
    fn_cls = getattr(prim, "fn", None)

    def run(xs):
        full = list(datas)
        for i, x in zip(pos, xs):
            full[i] = x
        if fn_cls is not None:  # a custom Function: a fresh ctx, as a new call would have
            return fn_cls.apply(*full)
        return apply(prim, tuple(full), kw)

    return run, [datas[i] for i in pos], pos


def _check_nodes(f, leaves, td, eps, atol, rtol, forward, seed):
    entries = _recorded(f, leaves, td)
    rng = np.random.default_rng(seed)
    skipped = []
    for k, entry in enumerate(entries):
        prim, datas, node = entry[0], entry[1], entry[4]
        run, node_leaves, pos = _node_fn(entry)
        shapes = [tuple(np.shape(d)) for d in datas]
        prefix = (f"per-node check: node {k} of {len(entries)} (topological order), primitive {prim.name!r}, "
                  f"input shapes {shapes}")
        fn = _Fn(run, node_leaves)
        reason = _check(fn, eps, atol, rtol, forward and prim.jvp is not None, rng, prefix=prefix, node=node,
                        labels=pos)
        if reason is not None:
            skipped.append(f"node {k} ({prim.name}): {reason}")
    return skipped


def check_nodes(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, forward=True, seed=0):
    """Run ``f`` once and check every node's reverse and forward rule, on that node alone, against finite
    differences at the node's own inputs; raise :class:`GradcheckError` naming the first faulty node.

    The error names the primitive, the node's position in topological order,
    its input shapes, and the worst disagreement (input, index, both values).
    ``f`` runs once, under a tracer that records the arrays each operation
    saw, so no primitive's settings change (it is safe next to other
    threads). A node whose forward rule is missing (a Function without
    ``jvp``) is checked in reverse mode, with a :class:`GradcheckWarning`.
    ``inputs`` may hold pytrees, as in :func:`gradcheck`.

    >>> import chainrule as cr
    >>> from chainrule.testing import check_nodes
    >>> check_nodes(lambda x: cr.tanh(x) * cr.exp(x), (0.5,))
    True
    """
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    leaves, td, _ = _flatten_inputs(inputs)
    _warn_skipped(_check_nodes(f, leaves, td, eps, atol, rtol, forward, seed))
    return True
