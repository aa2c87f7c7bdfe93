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

    def reverse(self, us, arrays=None):
        arrays = self.arrays if arrays is None else arrays
        leaves = self._args(arrays, lambda i, a: wrap(a.copy()).requires_grad_(True))
        with enable_grad():
            outs = _flat_out(self.call(leaves))
        gs = backprop(outs, us, [leaves[i] for i in self.diff], False, False)
        return {i: np.zeros_like(arrays[i]) if g is None else np.asarray(g.data, dtype=np.float64)
                for i, g in zip(self.diff, gs)}

    def second(self, us, ws, vs):
        """<H v, w> by reverse over reverse: the gradient of <J^T u, w> (recorded, create_graph) along ``vs``."""
        leaves = self._args(self.arrays, lambda i, a: wrap(a.copy()).requires_grad_(True))
        xs = [leaves[i] for i in self.diff]
        with enable_grad():
            outs = _flat_out(self.call(leaves))
            gs = backprop(outs, us, xs, True, True)
            terms = [(g * wrap(ws[i])).sum() for i, g in zip(self.diff, gs) if g is not None and g.requires_grad]
            if not terms:  # the gradient is a constant: every second derivative is 0
                return 0.0
            s = terms[0]
            for term in terms[1:]:
                s = s + term
            hs = backprop([s], [None], xs, False, False)
        return sum(float(np.sum(np.asarray(h.data, dtype=np.float64) * vs[i]))
                   for i, h in zip(self.diff, hs) if h is not None)

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


def _entries(x, sample, rng):
    """The indices checked entry by entry: all of a small input, ``sample`` drawn at random from a larger one."""
    if x.size <= _SMALL:
        return list(np.ndindex(x.shape))
    if not sample:
        return []
    idxs = list(np.ndindex(x.shape))
    return [idxs[j] for j in rng.choice(len(idxs), min(sample, len(idxs)), replace=False)]


def _worst_at(ana, num, idxs, atol, rtol):
    """The worst of the entries ``idxs`` (as in :func:`_worst`), or None."""
    if not idxs:
        return None
    k = _worst([ana[idx] for idx in idxs], [num[idx] for idx in idxs], atol, rtol)
    return None if k is None else idxs[k[0]]


def _onehot(x, idx):
    e = np.zeros_like(x)
    e[idx] = 1.0
    return e


def _check(fn, eps, atol, rtol, forward, rng, prefix="gradcheck", node=None, labels=None, sample=0, expected=None,
           second_order=False, piecewise_linear=False):
    """Reverse mode first, for every input; then forward mode (and its agreement with reverse mode); then second
    order. Returns None, or why forward mode was not checked: a rule it needs is missing (a Function without
    jvp), which must not hide a wrong reverse rule."""
    ys = fn.values(fn.arrays)
    # a scalar function is weighted by 1, so the values reported are its partial derivatives themselves
    us = [np.ones(()) if len(ys) == 1 and ys[0].shape == () else rng.standard_normal(y.shape) for y in ys]
    grads = fn.reverse([wrap(u) for u in us])
    ref = None
    if expected is not None:  # the documented gradient, where central differences would straddle a kink
        given = expected(us[0] if len(us) == 1 else us, *fn.arrays)
        ref = {i: np.broadcast_to(np.asarray(given[i], dtype=np.float64), fn.arrays[i].shape) for i in fn.diff}
    against = "finite differences" if ref is None else "the expected gradient"
    numeric = {}  # per input: the entries checked one by one, their reference values, the random direction
    for i in fn.diff:
        label = i if labels is None else labels[i]
        x = fn.arrays[i]
        idxs = _entries(x, sample, rng)
        if ref is not None:
            num = ref[i]
        else:
            num = np.zeros(x.shape)
            for idx in idxs:  # every partial derivative (of a small input), the worst one named
                hi, lo = fn.shifted(i, _onehot(x, idx), eps)
                num[idx] = (fn.dot(us, hi) - fn.dot(us, lo)) / (2 * eps)
        j = _worst(grads[i], num, atol, rtol) if ref is not None else _worst_at(grads[i], num, idxs, atol, rtol)
        if j is not None:
            _fail(f"reverse-mode gradient (against {against})", label, j, float(grads[i][j]), float(num[j]), atol,
                  rtol, "reverse", node, prefix)
        d = rng.standard_normal(x.shape)  # a random direction: catches what single entries average out
        hi, lo = fn.shifted(i, d, eps)
        if ref is None:
            num_d = (fn.dot(us, hi) - fn.dot(us, lo)) / (2 * eps)
            ana = float(np.sum(grads[i] * d))
            if _worst(ana, num_d, atol, rtol) is not None:
                _fail("reverse-mode gradient", label, None, ana, num_d, atol, rtol, "reverse", node, prefix)
        numeric[i] = (idxs, num, d, hi, lo)
    reason = None
    if forward:
        try:
            _check_forward(fn, us, grads, numeric, ref is None, eps, atol, rtol, node, prefix, labels)
        except NotImplementedError as e:
            reason = str(e)
    if second_order:
        _check_second(fn, us, eps, atol, rtol, rng, piecewise_linear, node, prefix)
    return reason


def _check_forward(fn, us, grads, numeric, differences, eps, atol, rtol, node, prefix, labels):
    """Forward mode: entry by entry and along each input's direction against the reverse-mode references, and
    <u, J d> against <J^T u, d> over all inputs at once (forward and reverse mode agree)."""
    fwd_total = rev_total = 0.0
    for i in fn.diff:
        label = i if labels is None else labels[i]
        x = fn.arrays[i]
        idxs, num, d, hi, lo = numeric[i]
        fwd = np.zeros(x.shape)
        for idx in idxs:
            fwd[idx] = sum(float(np.sum(u * t)) for u, t in zip(us, fn.forward(i, _onehot(x, idx))))
        j = _worst_at(fwd, num, idxs, atol, rtol)
        if j is not None:
            _fail("forward-mode derivative <u, J e>", label, j, float(fwd[j]), float(num[j]), atol, rtol,
                  "forward", node, prefix)
        ts = fn.forward(i, d)
        fwd_total += sum(float(np.sum(u * t)) for u, t in zip(us, ts))
        rev_total += float(np.sum(grads[i] * d))
        if not differences:  # central differences would straddle the kink
            continue
        for k, (t, y_hi, y_lo) in enumerate(zip(ts, fn.values(hi), fn.values(lo))):
            numv = (y_hi - y_lo) / (2 * eps)
            j = _worst(t, numv, atol, rtol)
            if j is not None:
                _fail(f"forward-mode tangent (output {k}, entry {j})", label, None, float(t[j]), float(numv[j]),
                      atol, rtol, "forward", node, prefix)
    if _worst(fwd_total, rev_total, atol, rtol) is not None:
        raise GradcheckError(
            f"{prefix}: forward and reverse mode disagree along a random direction of every input: <u, J d> = "
            f"{fwd_total!r}, <J^T u, d> = {rev_total!r} (> atol {atol:g} + rtol {rtol:g} · |<J^T u, d>|)",
            analytic=fwd_total, numeric=rev_total, mode="forward", node=node,
        )


def _check_second(fn, us, eps, atol, rtol, rng, piecewise_linear, node, prefix):
    """Reverse over reverse (create_graph): the derivative of <J^T u, w> along a random direction v of every
    input, against central differences of the gradient, or against 0 for a piecewise-linear function."""
    ws = {i: rng.standard_normal(fn.arrays[i].shape) for i in fn.diff}
    vs = {i: rng.standard_normal(fn.arrays[i].shape) for i in fn.diff}
    ana = fn.second([wrap(u) for u in us], ws, vs)
    if piecewise_linear:  # at a kink, differences of the gradient jump between the pieces; the true value is 0
        num = 0.0
    else:
        hi = list(fn.arrays)
        lo = list(fn.arrays)
        for i in fn.diff:
            hi[i] = fn.arrays[i] + eps * vs[i]
            lo[i] = fn.arrays[i] - eps * vs[i]
        s_hi, s_lo = (sum(float(np.sum(g * ws[i])) for i, g in fn.reverse([wrap(u) for u in us], a).items())
                      for a in (hi, lo))
        num = (s_hi - s_lo) / (2 * eps)
    if _worst(ana, num, atol, rtol) is not None:
        raise GradcheckError(
            f"{prefix}: second-order derivative (reverse over reverse, create_graph) is wrong along a random "
            f"direction: analytic {ana!r}, numeric {num!r} (worst error |analytic - numeric| = {abs(ana - num):.3g} "
            f"> atol {atol:g} + rtol {rtol:g} · |numeric|)",
            analytic=ana, numeric=num, mode="second order", node=node,
        )


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, forward=True, per_node=False, seed=0, sample=0,
              second_order=False, piecewise_linear=False, expected=None):
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
    Forward and reverse mode must also agree with each other: <u, J d> and
    <Jᵀu, d> along a random direction of every input at once.

    ``sample=k`` also checks ``k`` entries drawn at random of each leaf too
    large to check entry by entry. ``second_order=True`` checks reverse over
    reverse (``create_graph``): the derivative of <Jᵀu, w> along a random
    direction, against central differences of gradients.
    ``piecewise_linear=True`` says the function is piecewise linear where it
    is checked (a kink, a tie), so that second derivative must be 0.
    ``expected(u, *leaves)`` gives the documented gradient (one array per
    float leaf) where central differences would straddle a kink: reverse
    mode, and forward mode entry by entry, are compared with it instead of
    finite differences (``u`` is the output's cotangent).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.testing import gradcheck
    >>> gradcheck(lambda x, y: cr.sin(x) * y, (1.0, 2.0))
    True
    >>> gradcheck(lambda p, n: (p["w"] ** n).sum() * p["b"], ({"w": np.array([0.5, 2.0]), "b": 3.0}, 3))
    True
    >>> gradcheck(cr.tanh, (np.linspace(-1, 1, 50),), sample=8, second_order=True)
    True
    >>> relu_at_0 = lambda u, x: [u * (x > 0)]  # NOTE: relu'(0) = 0
    >>> gradcheck(cr.relu, (np.array([0.0, 1.5]),), expected=relu_at_0, second_order=True, piecewise_linear=True)
    True
    """
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    leaves, td, labels = _flatten_inputs(inputs)
    skipped = []
    if per_node:
        skipped += _check_nodes(f, leaves, td, eps, atol, rtol, forward, seed)
    reason = _check(_Fn(lambda ls: f(*tree_unflatten(td, ls)), leaves), eps, atol, rtol, forward,
                    np.random.default_rng(seed), labels=labels, sample=sample, expected=expected,
                    second_order=second_order, piecewise_linear=piecewise_linear)
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
