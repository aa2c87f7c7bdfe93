"""NumPy loops of the fused recurrent layers: the forward recurrence and backpropagation through time.

Each layer's input projection ``xw`` (x W_ihᵀ + b_ih, all steps at once) is made outside; these
loops run the recurrence over the steps, one GEMM with W_hh per step each way, and gather the
weight gradient in one GEMM at the end. Their results pack what the backward pass reads:

- ``lstm_forward`` → (6, L, N, H): blocks 0-3 hold the gate activations i, f, g, o as one (L, N, 4H)
  array (the first L·N·4H entries of the buffer), block 4 the cell states c_t, block 5 the outputs h_t;
- ``gru_forward`` → (5, L, N, H): blocks 0-2 the gates r, z, n as one (L, N, 3H) array, block 3
  W_hn h_{t-1} + b_hn, block 4 the outputs h_t;
- ``elman_forward`` → (L, N, H): the outputs h_t.

With ``reverse`` the recurrence runs from the last step to the first (the backward direction of a
bidirectional layer); the result stays aligned with the input's steps. The backward functions take a
cotangent of the packed result (every block, the gates included) and return the cotangents of
``xw, h0, [c0,] w_hh, b_hh`` (None for an absent bias).

>>> import numpy as np
>>> xw = np.zeros((3, 2, 4)); h0 = np.zeros((2, 1)); w = np.ones((1, 1))
>>> elman_forward(xw[..., :1] + 1, h0, w, None, "tanh", False)[:, 0, 0].round(3)
array([0.762, 0.941, 0.959])
"""

from __future__ import annotations

import numpy as np

__all__ = ["lstm_forward", "lstm_backward", "gru_forward", "gru_backward", "elman_forward", "elman_backward"]


def _steps(length, reverse, backward=False):
    """Time steps in the order a pass visits them: forward order for the forward recurrence, reversed for BPTT."""
    forward = range(length - 1, -1, -1) if reverse else range(length)
    return reversed(forward) if backward else forward


def _prev(states, h0, t, reverse):
    """The state entering step ``t``: the previous step's in the direction of the recurrence, h0 at the start."""
    if reverse:
        return states[t + 1] if t + 1 < len(states) else h0
    return states[t - 1] if t > 0 else h0


def _weight_grad(dp, hs, h0, reverse):
    """Σ_t dp[t]ᵀ h_{t-1} as one GEMM over the steps (plus the first step's h0 term where h0 is not zero)."""
    g = dp.shape[-1]
    h = hs.shape[-1]
    if reverse:
        inner, outer, first = dp[:-1], hs[1:], dp[-1]
    else:
        inner, outer, first = dp[1:], hs[:-1], dp[0]
    dw = inner.reshape(-1, g).T @ outer.reshape(-1, h)
    if h0.any():
        dw += first.T @ h0
    return dw


def _scaled(xw, b_hh, scale):
    """``(xw + b_hh) * scale`` as one fresh array (the sigmoid gates' 1/2 of σ(x) = (1 + tanh(x/2))/2)."""
    xs = xw + b_hh if b_hh is not None else xw.copy()
    xs *= scale
    return xs


def _gate_consts(gates, h, sigmoid_gates, dtype):
    """Per-column scale and shift: σ(x) = tanh(x/2)/2 + 1/2 on the sigmoid gates, tanh as is on the others."""
    scale = np.ones(gates * h, dtype=dtype)
    shift = np.zeros(gates * h, dtype=dtype)
    for k in sigmoid_gates:
        scale[k * h:(k + 1) * h] = 0.5
        shift[k * h:(k + 1) * h] = 0.5
    return scale, shift


def lstm_forward(xw, h0, c0, w_hh, b_hh, reverse=False):
    """The LSTM recurrence (gates i, f, g, o as PyTorch) from ``xw`` (L, N, 4H); see the module for the packing."""
    steps, n, g4 = xw.shape
    h = g4 // 4
    dtype = np.result_type(xw, h0, c0, w_hh, *(() if b_hh is None else (b_hh,)))
    scale, shift = _gate_consts(4, h, (0, 1, 3), dtype)
    xs = _scaled(xw, b_hh, scale)
    wt = np.ascontiguousarray((w_hh * scale[:, None]).T)  # (H, 4H): h @ wt is a plain GEMM, the fastest layout
    out = np.empty((6, steps, n, h), dtype=dtype)
    acts = out.reshape(-1)[: steps * n * g4].reshape(steps, n, g4)
    cs, hs = out[4], out[5]
    tmp = np.empty((n, h), dtype=dtype)
    hp, cp = h0, c0
    for t in _steps(steps, reverse):
        a = acts[t]
        np.matmul(hp, wt, out=a)
        a += xs[t]
        np.tanh(a, out=a)
        a *= scale
        a += shift
        c = cs[t]
        np.multiply(a[:, h:2 * h], cp, out=c)
        np.multiply(a[:, :h], a[:, 2 * h:3 * h], out=tmp)
        c += tmp
        np.tanh(c, out=tmp)
        np.multiply(a[:, 3 * h:], tmp, out=hs[t])
        hp, cp = hs[t], c
    return out


def lstm_backward(g, ans, xw, h0, c0, w_hh, b_hh, reverse=False):
    """Cotangents of (xw, h0, c0, w_hh, b_hh) for the cotangent ``g`` of ``lstm_forward``'s packed result."""
    steps, n, g4 = xw.shape
    h = g4 // 4
    dtype = ans.dtype
    size = steps * n * g4
    acts = ans.reshape(-1)[:size].reshape(steps, n, g4)
    cs, hs = ans[4], ans[5]
    g = np.asarray(g, dtype=dtype)
    g_acts = g.reshape(-1)[:size].reshape(steps, n, g4)
    g_cs, g_hs = g[4], g[5]
    dp = np.empty((steps, n, g4), dtype=dtype)
    dh = np.zeros((n, h), dtype=dtype)
    dc = np.zeros((n, h), dtype=dtype)
    tc = np.empty((n, h), dtype=dtype)
    tmp = np.empty((n, h), dtype=dtype)
    deriv = np.empty((n, g4), dtype=dtype)
    for t in _steps(steps, reverse, backward=True):
        a = acts[t]
        i, f, gg, o = a[:, :h], a[:, h:2 * h], a[:, 2 * h:3 * h], a[:, 3 * h:]
        dh += g_hs[t]
        np.tanh(cs[t], out=tc)
        np.multiply(tc, tc, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp
        dc += g_cs[t]
        d = dp[t]
        np.multiply(dc, gg, out=d[:, :h])
        np.multiply(dc, _prev(cs, c0, t, reverse), out=d[:, h:2 * h])
        np.multiply(dc, i, out=d[:, 2 * h:3 * h])
        np.multiply(dh, tc, out=d[:, 3 * h:])
        d += g_acts[t]
        np.subtract(1, a, out=deriv)  # σ' = σ(1 - σ) on i, f, o; tanh' = 1 - g² on g
        deriv *= a
        dg = deriv[:, 2 * h:3 * h]
        np.multiply(gg, gg, out=dg)
        np.subtract(1, dg, out=dg)
        d *= deriv
        dc *= f
        np.matmul(d, w_hh, out=dh)
    dw = _weight_grad(dp, hs, h0, reverse)
    db = None if b_hh is None else dp.sum(axis=(0, 1))
    return dp, dh, dc, dw, db


def gru_forward(xw, h0, w_hh, b_hh, reverse=False):
    """The GRU recurrence (gates r, z, n as PyTorch, r applied to W_hn h + b_hn) from ``xw`` (L, N, 3H)."""
    steps, n, g3 = xw.shape
    h = g3 // 3
    dtype = np.result_type(xw, h0, w_hh, *(() if b_hh is None else (b_hh,)))
    scale, shift = _gate_consts(3, h, (0, 1), dtype)
    rz = slice(0, 2 * h)
    if b_hh is not None:
        xs = xw.astype(dtype, copy=True)
        xs[..., rz] += b_hh[rz]  # b_hr, b_hz add to the input's part; b_hn stays inside r·(W_hn h + b_hn)
        xs *= scale
    else:
        xs = _scaled(xw, None, scale)
    wt = np.ascontiguousarray((w_hh * scale[:, None]).T)
    out = np.empty((5, steps, n, h), dtype=dtype)
    acts = out.reshape(-1)[: steps * n * g3].reshape(steps, n, g3)
    hns, hs = out[3], out[4]
    q = np.empty((n, g3), dtype=dtype)
    hp = h0
    for t in _steps(steps, reverse):
        a = acts[t]
        x = xs[t]
        np.matmul(hp, wt, out=q)
        r_z = a[:, rz]
        np.add(q[:, rz], x[:, rz], out=r_z)
        np.tanh(r_z, out=r_z)
        r_z *= 0.5
        r_z += 0.5
        hn = hns[t]
        if b_hh is not None:
            np.add(q[:, 2 * h:], b_hh[2 * h:], out=hn)
        else:
            hn[...] = q[:, 2 * h:]
        nn = a[:, 2 * h:]
        np.multiply(a[:, :h], hn, out=nn)
        nn += x[:, 2 * h:]
        np.tanh(nn, out=nn)
        ht = hs[t]
        np.subtract(hp, nn, out=ht)  # h' = n + z (h - n)
        ht *= a[:, h:2 * h]
        ht += nn
        hp = ht
    return out


def gru_backward(g, ans, xw, h0, w_hh, b_hh, reverse=False):
    """Cotangents of (xw, h0, w_hh, b_hh) for the cotangent ``g`` of ``gru_forward``'s packed result."""
    steps, n, g3 = xw.shape
    h = g3 // 3
    dtype = ans.dtype
    size = steps * n * g3
    acts = ans.reshape(-1)[:size].reshape(steps, n, g3)
    hns, hs = ans[3], ans[4]
    g = np.asarray(g, dtype=dtype)
    g_acts = g.reshape(-1)[:size].reshape(steps, n, g3)
    g_hns, g_hs = g[3], g[4]
    dx = np.empty((steps, n, g3), dtype=dtype)  # the cotangent of xw: W_hh's, but dn_pre for the n gate
    dq = np.empty((steps, n, g3), dtype=dtype)  # the cotangent of h W_hhᵀ + b_hh
    dh = np.zeros((n, h), dtype=dtype)
    tmp = np.empty((n, h), dtype=dtype)
    for t in _steps(steps, reverse, backward=True):
        a = acts[t]
        r, z, nn = a[:, :h], a[:, h:2 * h], a[:, 2 * h:]
        ga = g_acts[t]
        d = dq[t]
        dr, dz, dhn = d[:, :h], d[:, h:2 * h], d[:, 2 * h:]
        dn = dx[t, :, 2 * h:]
        dh += g_hs[t]
        hp = _prev(hs, h0, t, reverse)
        np.subtract(hp, nn, out=dz)  # dz = dh (h_{t-1} - n)
        dz *= dh
        dz += ga[:, h:2 * h]
        np.subtract(1, z, out=dn)  # dn = dh (1 - z), then through tanh: · (1 - n²)
        dn *= dh
        dn += ga[:, 2 * h:]
        np.multiply(nn, nn, out=tmp)
        np.subtract(1, tmp, out=tmp)
        dn *= tmp
        np.multiply(dn, hns[t], out=dr)
        dr += ga[:, :h]
        np.multiply(dn, r, out=dhn)
        dhn += g_hns[t]
        np.subtract(1, r, out=tmp)  # through σ: · σ (1 - σ)
        tmp *= r
        dr *= tmp
        np.subtract(1, z, out=tmp)
        tmp *= z
        dz *= tmp
        dx[t, :, :2 * h] = d[:, :2 * h]
        dh *= z
        dh += d @ w_hh
    dw = _weight_grad(dq, hs, h0, reverse)
    db = None if b_hh is None else dq.sum(axis=(0, 1))
    return dx, dh, dw, db


def elman_forward(xw, h0, w_hh, b_hh, nonlinearity="tanh", reverse=False):
    """The Elman recurrence h_t = act(xw_t + h_{t-1} W_hhᵀ + b_hh), act tanh or relu; (L, N, H)."""
    steps, n, h = xw.shape
    dtype = np.result_type(xw, h0, w_hh, *(() if b_hh is None else (b_hh,)))
    xs = xw + b_hh if b_hh is not None else xw
    wt = np.ascontiguousarray(w_hh.T)
    hs = np.empty((steps, n, h), dtype=dtype)
    hp = h0
    relu = nonlinearity == "relu"
    for t in _steps(steps, reverse):
        ht = hs[t]
        np.matmul(hp, wt, out=ht)
        ht += xs[t]
        if relu:
            np.maximum(ht, 0, out=ht)
        else:
            np.tanh(ht, out=ht)
        hp = ht
    return hs


def elman_backward(g, ans, xw, h0, w_hh, b_hh, nonlinearity="tanh", reverse=False):
    """Cotangents of (xw, h0, w_hh, b_hh) for the cotangent ``g`` of ``elman_forward``'s result."""
    steps, n, h = xw.shape
    dtype = ans.dtype
    g = np.asarray(g, dtype=dtype)
    dp = np.empty((steps, n, h), dtype=dtype)
    dh = np.zeros((n, h), dtype=dtype)
    tmp = np.empty((n, h), dtype=dtype)
    relu = nonlinearity == "relu"
    for t in _steps(steps, reverse, backward=True):
        ht = ans[t]
        dh += g[t]
        d = dp[t]
        if relu:
            np.greater(ht, 0, out=tmp)  # relu'(0) = 0, as relu's own rule
        else:
            np.multiply(ht, ht, out=tmp)
            np.subtract(1, tmp, out=tmp)
        np.multiply(dh, tmp, out=d)
        np.matmul(d, w_hh, out=dh)
    dw = _weight_grad(dp, ans, h0, reverse)
    db = None if b_hh is None else dp.sum(axis=(0, 1))
    return dp, dh, dw, db
