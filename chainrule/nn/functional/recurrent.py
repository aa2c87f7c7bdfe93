"""Fused recurrent layers as primitives: one tape node per layer and direction, BPTT in one reverse rule.

``lstm_scan``, ``gru_scan`` and ``rnn_scan`` run a whole sequence through one recurrent layer, its
input projection included (one GEMM over all steps). The recurrence is a NumPy loop
(``recurrent_kernels``), the reverse rule is the loop of backpropagation through time with
closed-form gate derivatives, and the weight gradients are one GEMM each over all steps.
``lstm_scan`` gives the cell states and the outputs of every step, (2, L, N, H); the others the
outputs, (L, N, H). What the reverse rule reads besides (the gate activations) lives beside the
result in the buffer it is a view of (``recurrent_kernels``). ``lstm_layer``, ``gru_layer`` and
``rnn_layer`` return the outputs and the final states.

The NumPy rules serve the first-order backward pass. Where the rules must run on Tensors (a
``create_graph`` backward, a live forward-mode level), the reverse and forward rules differentiate
the same recurrence written step by step in chainrule operations, so higher derivatives are exact,
only slower. Under ``vmap`` the batch axis joins the batch of sequences (one run) when the weights
are not batched; per-example weights take the generic loop.

>>> import numpy as np, chainrule as cr
>>> from chainrule.nn.functional.recurrent import lstm_layer
>>> x = cr.zeros((5, 2, 4)); w_ih, w_hh = cr.zeros((12, 4)), cr.zeros((12, 3), requires_grad=True)
>>> hs, h_n, c_n = lstm_layer(x, cr.zeros((2, 3)), cr.zeros((2, 3)), w_ih, w_hh)
>>> hs.shape, h_n.shape, c_n.shape
((5, 2, 3), (2, 3), (2, 3))
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from ...core.batching_rules import fallback, with_batch
from ...core.primitive import Primitive, apply
from ...ops.elementwise import positive, relu, sigmoid, tanh
from ...ops.join import split, stack
from ...ops.shape import moveaxis, reshape
from ...transforms.forward import jvp as _jvp
from ...transforms.reverse import vjp as _vjp
from . import recurrent_kernels as K

__all__ = ["lstm_layer", "gru_layer", "rnn_layer", "lstm_scan_p", "gru_scan_p", "rnn_scan_p"]


# ---- the same recurrences step by step in chainrule operations (the rules on Tensors) ----------------
def _order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _project(x, w_ih, b_ih):
    steps = x.shape[0]
    xw = x @ w_ih.T
    if b_ih is not None:
        xw = xw + b_ih
    return [reshape(p, xw.shape[1:]) for p in split(xw, steps, axis=0)]


def _lstm_ref(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
    steps = x.shape[0]
    h, c = h0, c0
    cs, hs = [None] * steps, [None] * steps
    xs = _project(x, w_ih, b_ih)
    for t in _order(steps, reverse):
        pre = xs[t] + h @ w_hh.T
        if b_hh is not None:
            pre = pre + b_hh
        i, f, g, o = split(pre, 4, axis=-1)
        i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
        c = f * c + i * g
        h = o * tanh(c)
        cs[t], hs[t] = c, h
    return stack([stack(cs, axis=0), stack(hs, axis=0)], axis=0)


def _gru_ref(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False):
    steps = x.shape[0]
    h = h0
    hs = [None] * steps
    xs = _project(x, w_ih, b_ih)
    for t in _order(steps, reverse):
        q = h @ w_hh.T
        if b_hh is not None:
            q = q + b_hh
        xr, xz, xn = split(xs[t], 3, axis=-1)
        qr, qz, qn = split(q, 3, axis=-1)
        r, z = sigmoid(xr + qr), sigmoid(xz + qz)
        nn = tanh(xn + r * qn)
        h = nn + z * (h - nn)
        hs[t] = h
    return stack(hs, axis=0)


def _rnn_ref(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", reverse=False):
    steps = x.shape[0]
    h = h0
    hs = [None] * steps
    xs = _project(x, w_ih, b_ih)
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
# per thread; a share is handed out once (asked again, it is computed afresh), so a second backward pass
# never reads a first one's results.
_MEMO = threading.local()


def _shares(kernel, ref, g, ans, args, kw, i):
    memo = getattr(_MEMO, "entry", None)
    if memo is not None and memo[0] is g and memo[1]() is ans and i in memo[2]:
        return memo[2]
    if all(a is None or isinstance(a, np.ndarray) for a in (g, ans) + tuple(args)):
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
        out = _shares(kernel, ref, g, ans, args, kw, i)
        share = out.pop(i, None)
        if not out:
            _MEMO.entry = None
        return share() if callable(share) else share

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


def _batch(states, lead):
    """vmap: the batch axis joins the sequences' batch (axis 1 of the input, 0 of the states) when no weight
    is batched; a batched weight takes the generic per-example loop. ``lead``: the result's block axes."""

    def rule(prim, vals, bat, kw, size):
        weights = range(1 + states, len(vals))
        if any(bat[k] for k in weights):
            return fallback(prim, vals, bat, kw, size)
        ins = [v if b else with_batch(v, size) for v, b in zip(vals[:1 + states], bat)]
        b, steps, n, feat = ins[0].shape
        ins[0] = reshape(moveaxis(ins[0], 0, 1), (steps, b * n, feat))
        ins[1:] = [reshape(h, (b * n,) + tuple(h.shape[2:])) for h in ins[1:]]
        out = apply(prim, [*ins, *vals[1 + states:]], kw)
        shape = tuple(out.shape)
        out = reshape(out, shape[:lead + 1] + (b, n, shape[-1]))
        return moveaxis(out, lead + 1, 0)

    return rule


def _declare(name, impl, kernel, ref, inputs, states, lead):
    return Primitive(
        name,
        impl,
        vjp=tuple(_rule(kernel, ref, i) for i in range(inputs)),
        jvp=_joint_jvp(ref),
        joint_jvp=True,
        save=("args", "ans"),
        batch=_batch(states, lead),
        vjp_formulas=("BPTT through {out}",),
    )


lstm_scan_p = _declare("lstm_scan", K.lstm_forward, K.lstm_backward, _lstm_ref, 7, 2, 1)
gru_scan_p = _declare("gru_scan", K.gru_forward, K.gru_backward, _gru_ref, 6, 1, 0)
rnn_scan_p = _declare("rnn_scan", K.elman_forward, K.elman_backward, _rnn_ref, 6, 1, 0)


# ---- the layers ----------------------------------------------------------------------------------
def _check_steps(x, who):
    # the kernels' reshapes and the final state's index need a step: refuse here, by name, not deep in NumPy
    if x.shape[0] == 0:
        raise ValueError(f"{who}: the input sequence has no steps (x of shape {tuple(x.shape)}); a recurrent layer "
                         f"needs at least one")


def _last(seq, reverse):
    # a copy, not a view: a view would keep the layer's whole work buffer (gates of every step, 5-7 times the
    # outputs) alive for as long as the caller keeps the final state, often across batches
    return positive(seq[0] if reverse else seq[-1])


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One LSTM layer over a sequence ``x`` (L, N, I): ``(outputs (L, N, H), h_n, c_n)``; weights as PyTorch's.

    >>> import numpy as np, chainrule as cr
    >>> w_ih, w_hh = cr.ones((4, 1)), cr.zeros((4, 1))
    >>> hs, h, c = lstm_layer(cr.ones((2, 1, 1)), cr.zeros((1, 1)), cr.zeros((1, 1)), w_ih, w_hh)
    >>> hs.data.ravel().round(4), c.data.ravel().round(4)
    (array([0.3696, 0.5453]), array([0.9638]))
    """
    _check_steps(x, "lstm_layer")
    ch = lstm_scan_p(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=bool(reverse))
    last = 0 if reverse else -1  # h_n, c_n read from the result directly: one index each way, copied (_last)
    return ch[1], positive(ch[1, last]), positive(ch[0, last])


def gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One GRU layer over a sequence ``x`` (L, N, I): ``(outputs (L, N, H), h_n)``; weights as PyTorch's.

    >>> import numpy as np, chainrule as cr
    >>> hs, h = gru_layer(cr.ones((2, 1, 1)), cr.zeros((1, 1)), cr.ones((3, 1)), cr.zeros((3, 1)))
    >>> hs.data.ravel().round(4)
    array([0.2048, 0.3546])
    """
    _check_steps(x, "gru_layer")
    hs = gru_scan_p(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=bool(reverse))
    return hs, _last(hs, reverse)


def rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", reverse=False):
    """One Elman layer over a sequence ``x`` (L, N, I): ``(outputs (L, N, H), h_n)``; weights as PyTorch's.

    >>> import numpy as np, chainrule as cr
    >>> hs, h = rnn_layer(cr.ones((2, 1, 1)), cr.zeros((1, 1)), cr.ones((1, 1)), cr.ones((1, 1)))
    >>> hs.data.ravel().round(4)
    array([0.7616, 0.9427])
    """
    _check_steps(x, "rnn_layer")
    hs = rnn_scan_p(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity, reverse=bool(reverse))
    return hs, _last(hs, reverse)
