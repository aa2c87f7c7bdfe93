"""Rows 3 and 4: many small operations — the tape cost per tiny op, and an unrolled RNN — forward and backward."""

from __future__ import annotations

import numpy as np

import chainrule as cr

from .harness import Row, twice

__all__ = ["ROWS", "chain", "rnn_by_hand", "tape_by_hand"]

TAPE_OPS = {"full": 1000, "quick": 1000, "tiny": 40}
# (steps, batch, inputs, hidden) of the tanh RNN
RNN_SIZES = {"full": (100, 32, 64, 128), "quick": (100, 32, 64, 128), "tiny": (5, 3, 4, 6)}


def chain(y, ops, sin, tanh):
    """The tape row's chain of ``ops`` elementwise operations, in whichever library's ``sin`` and ``tanh``.

    >>> chain(np.zeros(2), 4, np.sin, np.tanh)
    array([0.09966799, 0.09966799])
    """
    for _ in range(ops // 4):
        y = y * 1.0001
        y = sin(y)
        y = y + 0.1
        y = tanh(y)
    return y


def tape_by_hand(x, ops):
    """The gradient of ``chain(x).sum()`` by hand: the forward keeps what the adjoints need, then x̄ = ȳ · ∂y/∂x.

    >>> tape_by_hand(np.zeros(2), 4)
    array([0.9901653, 0.9901653])
    """
    saved = []
    for _ in range(ops // 4):
        x = x * 1.0001
        saved.append(x)  # sin needs its input
        x = np.tanh(np.sin(x) + 0.1)
        saved.append(x)  # tanh needs its output
    g = np.ones_like(x)
    for k in range(ops // 4 - 1, -1, -1):
        t = saved[2 * k + 1]
        g = g * (1 - t * t)  # d/dx tanh x = 1 - tanh² x
        g = g * np.cos(saved[2 * k])  # the add passes ḡ through; d/dx sin x = cos x
        g = g * 1.0001
    return g


def _tape_build(col, size):
    ops = TAPE_OPS[size]
    x0 = np.linspace(0.1, 0.9, 8)
    if col == "numpy":
        fn = lambda: tape_by_hand(x0, ops)  # noqa: E731
        return twice(fn)
    if col == "eager":
        def fn():
            x = cr.tensor(x0, requires_grad=True)
            chain(x, ops, cr.sin, cr.tanh).sum().backward()
            return x.grad

        return twice(fn)
    if col == "jit":
        g = cr.jit(cr.grad(lambda x: chain(x, ops, cr.sin, cr.tanh).sum()))
        fn = lambda: g(x0)  # noqa: E731
        return twice(fn)
    if col == "torch":
        import torch

        def fn():
            x = torch.tensor(x0, requires_grad=True)
            chain(x, ops, torch.sin, torch.tanh).sum().backward()
            return x.grad

        return twice(fn)
    if col == "jax":
        import jax
        import jax.numpy as jnp

        g = jax.jit(jax.grad(lambda x: chain(x, ops, jnp.sin, jnp.tanh).sum()))
        xj = jnp.asarray(x0)
        fn = lambda: g(xj).block_until_ready()  # noqa: E731
        return twice(fn)
    if col == "autograd":
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(lambda x: anp.sum(chain(x, ops, anp.sin, anp.tanh)))
        fn = lambda: g(x0)  # noqa: E731
        return twice(fn)
    return None


def _rnn_data(size):
    steps, batch, n_in, hidden = RNN_SIZES[size]
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((batch, n_in)).astype(np.float32) for _ in range(steps)]
    params = [(rng.standard_normal((n_in, hidden)) / np.sqrt(n_in)).astype(np.float32),
              (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32),
              np.zeros(hidden, np.float32)]
    return xs, params


def rnn_loss(tanh, xs, Wx, Wh, b):
    """``sum(h_T)`` of the tanh cell ``h_{t+1} = tanh(x_t Wx + h_t Wh + b)`` unrolled over ``xs``, from h = 0.

    >>> float(rnn_loss(np.tanh, [np.ones((1, 1))], np.ones((1, 1)), np.ones((1, 1)), np.zeros(1)))
    0.7615941559557649
    """
    h = tanh(xs[0] @ Wx + b)
    for x in xs[1:]:
        h = tanh(x @ Wx + h @ Wh + b)
    return h.sum()


def rnn_by_hand(xs, Wx, Wh, b):
    """The gradients of ``rnn_loss`` with respect to ``Wx``, ``Wh`` and ``b``, backpropagated through time by hand.

    >>> [g.round(4).tolist() for g in rnn_by_hand([np.ones((1, 1))], np.ones((1, 1)), np.ones((1, 1)), np.zeros(1))]
    [[[0.42]], [[0.0]], [0.42]]
    """
    hs = [np.tanh(xs[0] @ Wx + b)]
    for x in xs[1:]:
        hs.append(np.tanh(x @ Wx + hs[-1] @ Wh + b))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    g = np.ones_like(hs[-1])
    for t in range(len(xs) - 1, -1, -1):
        gz = g * (1 - hs[t] * hs[t])  # d/dz tanh z = 1 - tanh² z
        dWx += xs[t].T @ gz
        db += gz.sum(axis=0)
        if t:
            dWh += hs[t - 1].T @ gz
            g = gz @ Wh.T
    return dWx, dWh, db


def _rnn_build(col, size):
    xs, params = _rnn_data(size)
    if col == "numpy":
        fn = lambda: rnn_by_hand(xs, *params)  # noqa: E731
        return twice(fn)
    if col in ("eager", "jit"):
        cxs = [cr.tensor(x) for x in xs]
        g = cr.grad(lambda Wx, Wh, b: rnn_loss(cr.tanh, cxs, Wx, Wh, b), argnums=(0, 1, 2))
        if col == "jit":
            g = cr.jit(g)
        fn = lambda: g(*params)  # noqa: E731
        return twice(fn)
    if col == "torch":
        import torch

        txs = [torch.from_numpy(x) for x in xs]
        leaves = [torch.tensor(p, requires_grad=True) for p in params]
        fn = lambda: torch.autograd.grad(rnn_loss(torch.tanh, txs, *leaves), leaves)  # noqa: E731
        return twice(fn)
    if col == "jax":
        import jax
        import jax.numpy as jnp

        jxs = [jnp.asarray(x) for x in xs]
        g = jax.jit(jax.grad(lambda Wx, Wh, b: rnn_loss(jnp.tanh, jxs, Wx, Wh, b), argnums=(0, 1, 2)))
        jparams = [jnp.asarray(p) for p in params]
        fn = lambda: jax.block_until_ready(g(*jparams))  # noqa: E731
        return twice(fn)
    if col == "autograd":
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(lambda p: rnn_loss(anp.tanh, xs, *p))
        fn = lambda: g(tuple(params))  # noqa: E731
        return twice(fn)
    return None


ROWS = [
    Row("tape", "tape cost per tiny op, fwd+bwd (1,000-op chain on (8,))", "us/op", _tape_build, rtol=1e-9,
        atol=1e-12, ops=TAPE_OPS),
    Row("rnn", "RNN tanh cell, 100 steps unrolled, hidden 128, batch 32, fwd+bwd", "ratio", _rnn_build, rtol=1e-4,
        atol=1e-4),
]
