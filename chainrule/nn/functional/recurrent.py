"""Fused recurrent layers as primitives: one tape node per layer and direction, BPTT in one reverse rule.

``lstm_scan``, ``gru_scan`` and ``rnn_scan`` run a whole sequence through one recurrent layer
from its input projection ``xw`` = x W_ihᵀ + b_ih (one GEMM over all steps, made by the caller):
the recurrence is a NumPy loop (``recurrent_kernels``), the reverse rule is the loop of
backpropagation through time with closed-form gate derivatives, and W_hh's gradient is one GEMM
over all steps. Their results pack the outputs with what the reverse rule reads (gate activations,
cell states; see ``recurrent_kernels``); ``lstm_layer``, ``gru_layer`` and ``rnn_layer`` unpack them.

The NumPy rules serve the first-order backward pass. Where the rules must run on Tensors (a
``create_graph`` backward, a live forward-mode level), the reverse and forward rules differentiate
the same recurrence written step by step in chainrule operations, so higher derivatives are exact,
only slower. Under ``vmap`` the batch axis joins the batch of sequences (one run) when the weights
are not batched; per-example weights take the generic loop.

>>> import numpy as np, chainrule as cr
>>> from chainrule.nn.functional.recurrent import lstm_layer
>>> xw = cr.zeros((5, 2, 12)); w = cr.zeros((12, 3), requires_grad=True)
>>> hs, h_n, c_n = lstm_layer(xw, cr.zeros((2, 3)), cr.zeros((2, 3)), w, None)
>>> hs.shape, h_n.shape, c_n.shape
((5, 2, 3), (2, 3), (2, 3))
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from ...core.batching_rules import fallback, with_batch
from ...core.primitive import Primitive, apply
from ...ops.elementwise import relu, sigmoid, tanh
from ...ops.join import concatenate, split, stack
from ...ops.shape import moveaxis, reshape
from ...transforms.forward import jvp as _jvp
from ...transforms.reverse import vjp as _vjp
from . import recurrent_kernels as K

__all__ = ["lstm_layer", "gru_layer", "rnn_layer", "lstm_scan_p", "gru_scan_p", "rnn_scan_p"]


# ---- the same recurrences step by step in chainrule operations (the rules on Tensors) ----------------
def _order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _lstm_ref(xw, h0, c0, w_hh, b_hh, reverse=False):
    steps, n, g4 = xw.shape
    h, c = h0, c0
    acts, cs, hs = [None] * steps, [None] * steps, [None] * steps
    xs = [reshape(p, xw.shape[1:]) for p in split(xw, steps, axis=0)]
    for t in _order(steps, reverse):
        pre = xs[t] + h @ w_hh.T
        if b_hh is not None:
            pre = pre + b_hh
        i, f, g, o = split(pre, 4, axis=-1)
        i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
        c = f * c + i * g
        h = o * tanh(c)
        acts[t], cs[t], hs[t] = concatenate([i, f, g, o], axis=-1), c, h
    gates = reshape(stack(acts, axis=0), (4, steps, n, g4 // 4))
    return concatenate([gates, stack([stack(cs, axis=0), stack(hs, axis=0)], axis=0)], axis=0)


def _gru_ref(xw, h0, w_hh, b_hh, reverse=False):
    steps, n, g3 = xw.shape
    h = h0
    acts, hns, hs = [None] * steps, [None] * steps, [None] * steps
    xs = [reshape(p, xw.shape[1:]) for p in split(xw, steps, axis=0)]
    for t in _order(steps, reverse):
        q = h @ w_hh.T
        if b_hh is not None:
            q = q + b_hh
        xr, xz, xn = split(xs[t], 3, axis=-1)
        qr, qz, qn = split(q, 3, axis=-1)
        r, z = sigmoid(xr + qr), sigmoid(xz + qz)
        nn = tanh(xn + r * qn)
        h = nn + z * (h - nn)
        acts[t], hns[t], hs[t] = concatenate([r, z, nn], axis=-1), qn, h
    gates = reshape(stack(acts, axis=0), (3, steps, n, g3 // 3))
    return concatenate([gates, stack([stack(hns, axis=0), stack(hs, axis=0)], axis=0)], axis=0)


def _rnn_ref(xw, h0, w_hh, b_hh, nonlinearity="tanh", reverse=False):
    steps = xw.shape[0]
    h = h0
    hs = [None] * steps
    xs = [reshape(p, xw.shape[1:]) for p in split(xw, steps, axis=0)]
    for t in _order(steps, reverse):
        pre = xs[t] + h @ w_hh.T
        if b_hh is not None:
            pre = pre + b_hh
        h = tanh(pre) if nonlinearity == "tanh" else relu(pre)
        hs[t] = h
    return stack(hs, axis=0)


# ---- rules ---------------------------------------------------------------------------------------
# The sweep asks a node's rules for its inputs one after another with the same cotangent: the first
# ask runs BPTT once for every input, the others take their share. Keyed on the identity of the
# cotangent (held) and of the result (weakly: the entry dies with the node's saved result), one entry
# per thread; a share is handed out once, so a second backward pass computes afresh.
_MEMO = threading.local()


def _shares(kernel, ref, g, ans, args, kw):
    memo = getattr(_MEMO, "entry", None)
    if memo is not None and memo[0] is g and memo[1]() is ans:
        return memo[2]
    if all(a is None or type(a) is np.ndarray for a in (g, ans) + tuple(args)):
        out = dict(enumerate(kernel(g, ans, *args, **kw)))
    else:  # on Tensors: differentiate the step-by-step recurrence, recorded, so this rule is differentiable
        live = [k for k, a in enumerate(args) if a is not None]

        def f(*xs):
            full = list(args)
            for k, x in zip(live, xs):
                full[k] = x
            return ref(*full, **kw)

        _, pull = _vjp(f, *[args[k] for k in live])
        out = dict(zip(live, pull(g)))
    _MEMO.entry = (g, weakref.ref(ans, _forget), out)
    return out


def _forget(ref):
    memo = getattr(_MEMO, "entry", None)
    if memo is not None and memo[1] is ref:
        _MEMO.entry = None


def _rule(kernel, ref, i):
    def rule(g, ans, *args, **kw):
        out = _shares(kernel, ref, g, ans, args, kw)
        share = out.pop(i, None)
        if not out:
            _MEMO.entry = None
        return share

    return rule


def _joint_jvp(ref):
    def rule(ts, ans, *args, **kw):
        live = [k for k, a in enumerate(args) if a is not None]

        def f(*xs):
            full = list(args)
            for k, x in zip(live, xs):
                full[k] = x
            return ref(*full, **kw)

        return _jvp(f, tuple(args[k] for k in live), tuple(ts[k] for k in live))[1]

    return rule


def _batch(states, gates):
    """vmap: the batch axis joins the sequences' batch (axis 1 of xw, 0 of the states) when W_hh and b_hh
    are shared; a batched weight takes the generic per-example loop. ``gates``: the packed gate blocks."""

    def rule(prim, vals, bat, kw, size):
        weights = range(1 + states, len(vals))
        if any(bat[k] for k in weights):
            return fallback(prim, vals, bat, kw, size)
        xw, hs = vals[0], list(vals[1:1 + states])
        xw = xw if bat[0] else with_batch(xw, size)
        hs = [h if bat[1 + k] else with_batch(h, size) for k, h in enumerate(hs)]
        b, steps, n, g = xw.shape
        xw = reshape(moveaxis(xw, 0, 1), (steps, b * n, g))
        hs = [reshape(h, (b * n,) + tuple(h.shape[2:])) for h in hs]
        out = apply(prim, [xw, *hs, *vals[1 + states:]], kw)
        h = g // max(gates, 1)
        if not gates:  # (L, B·N, H): the outputs alone
            return moveaxis(reshape(out, (steps, b, n, h)), 1, 0)
        # the gate blocks are one (L, B·N, gates·H) array read flat: unfold it per example, then repack
        acts = reshape(out[:gates], (steps, b, n, g))
        acts = reshape(moveaxis(acts, 1, 0), (b, gates, steps, n, h))
        rest = out[gates:]
        rest = moveaxis(reshape(rest, (rest.shape[0], steps, b, n, h)), 2, 0)
        return concatenate([acts, rest], axis=1)

    return rule


def _declare(name, impl, kernel, ref, inputs, states, gates, formulas):
    return Primitive(
        name,
        impl,
        vjp=tuple(_rule(kernel, ref, i) for i in range(inputs)),
        jvp=_joint_jvp(ref),
        joint_jvp=True,
        save=("args", "ans"),
        batch=_batch(states, gates),
        vjp_formulas=formulas,
    )


_BPTT = "BPTT through {out}"
lstm_scan_p = _declare("lstm_scan", K.lstm_forward, K.lstm_backward, _lstm_ref, 5, 2, 4, (_BPTT,))
gru_scan_p = _declare("gru_scan", K.gru_forward, K.gru_backward, _gru_ref, 4, 1, 3, (_BPTT,))
rnn_scan_p = _declare("rnn_scan", K.elman_forward, K.elman_backward, _rnn_ref, 4, 1, 0, (_BPTT,))


# ---- the layers ----------------------------------------------------------------------------------
def _last(seq, reverse):
    return seq[0] if reverse else seq[-1]


def lstm_layer(xw, h0, c0, w_hh, b_hh=None, reverse=False):
    """One LSTM layer over a sequence: ``(outputs (L, N, H), h_n, c_n)`` from ``xw`` = x W_ihᵀ + b_ih (L, N, 4H).

    >>> import numpy as np, chainrule as cr
    >>> hs, h, c = lstm_layer(cr.ones((2, 1, 4)), cr.zeros((1, 1)), cr.zeros((1, 1)), cr.zeros((4, 1)))
    >>> hs.data.ravel().round(4), c.data.ravel().round(4)
    (array([0.5279, 0.6815]), array([0.7616, 1.1993]))
    """
    packed = lstm_scan_p(xw, h0, c0, w_hh, b_hh, reverse=bool(reverse))
    hs, cs = packed[5], packed[4]
    return hs, _last(hs, reverse), _last(cs, reverse)


def gru_layer(xw, h0, w_hh, b_hh=None, reverse=False):
    """One GRU layer over a sequence: ``(outputs (L, N, H), h_n)`` from ``xw`` = x W_ihᵀ + b_ih (L, N, 3H).

    >>> import numpy as np, chainrule as cr
    >>> hs, h = gru_layer(cr.ones((2, 1, 3)), cr.zeros((1, 1)), cr.zeros((3, 1)))
    >>> hs.data.ravel().round(4)
    array([0.2048, 0.3145])
    """
    hs = gru_scan_p(xw, h0, w_hh, b_hh, reverse=bool(reverse))[4]
    return hs, _last(hs, reverse)


def rnn_layer(xw, h0, w_hh, b_hh=None, nonlinearity="tanh", reverse=False):
    """One Elman layer over a sequence: ``(outputs (L, N, H), h_n)`` from ``xw`` = x W_ihᵀ + b_ih (L, N, H).

    >>> import numpy as np, chainrule as cr
    >>> hs, h = rnn_layer(cr.ones((2, 1, 1)), cr.zeros((1, 1)), cr.ones((1, 1)))
    >>> hs.data.ravel().round(4)
    array([0.7616, 0.9417])
    """
    hs = rnn_scan_p(xw, h0, w_hh, b_hh, nonlinearity=nonlinearity, reverse=bool(reverse))
    return hs, _last(hs, reverse)
