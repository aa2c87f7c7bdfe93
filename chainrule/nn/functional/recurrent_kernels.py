"""NumPy loops of the fused recurrent layers: the forward recurrence and backpropagation through time.

Each layer takes the sequence ``x`` (L, N, I) and both weight matrices: the input projection of
every step is made up front (one stacked GEMM), the recurrence runs one stacked GEMM with W_hh per
step each way, and the weight gradients are one GEMM each over all steps at the end. Everything per
step is laid out gate-major, (gates, N, H), so each gate is a contiguous block (column slices of an
(N, 4H) array make NumPy loop row by row, several times slower at these sizes). The results:

- ``lstm_forward`` → (2, L, N, H): the cell states c_t and the outputs h_t;
- ``gru_forward`` and ``elman_forward`` → (L, N, H): the outputs h_t.

The LSTM's and GRU's results are views of the buffer the loop wrote, which also holds what their
backward pass reads (the gate activations, tanh c_t, W_hn h_{t-1} + b_hn); a result that is not such
a view (a copy) has its buffer made again by running the forward once more.

With ``reverse`` the recurrence runs from the last step to the first (the backward direction of a
bidirectional layer); the result stays aligned with the input's steps. The backward functions take a
cotangent of the result and return the cotangents of the inputs in order (None for an absent bias),
the ones that cost a GEMM after the loop as functions, so that a constant input (the data, a frozen
weight) costs nothing.

>>> import numpy as np
>>> x = np.ones((3, 2, 1)); h0 = np.zeros((2, 1)); w = np.ones((1, 1))
>>> elman_forward(x, h0, w, w, None, None, "tanh", False)[:, 0, 0].round(3)
array([0.762, 0.943, 0.96 ])
"""

from __future__ import annotations

import weakref

import numpy as np

__all__ = ["lstm_forward", "lstm_backward", "gru_forward", "gru_backward", "elman_forward", "elman_backward"]


# The buffers the forward loops wrote, by the address of their memory, held weakly: the result handed out
# is a view of one, and the reverse rule reads the gates beside it (they are no output, so no cotangent flows
# into them). A result not found here (a copy) has its buffer made again by running the forward once more.
# Under cr.jit the buffer and the result are traced values (an ndarray subclass) that must stay the ones the
# trace recorded: the result carries its buffer as an attribute instead (``_handout``).
_BUFFERS = {}


def _keep(buf):
    key = buf.ctypes.data

    def gone(ref, key=key):
        if _BUFFERS.get(key) is ref:
            del _BUFFERS[key]

    _BUFFERS[key] = weakref.ref(buf, gone)
    return buf


def _handout(buf, index):
    """``buf[index]``, the result; a traced one keeps ``buf`` beside it (plain arrays take no attributes)."""
    out = buf[index]
    if type(out) is not np.ndarray:
        out._recurrent_buffer = buf
    return out


def _buffer(ans, blocks, first):
    """The buffer (blocks, L, N, H) whose blocks ``first``, ... are ``ans``, if a forward loop here wrote it.

    Memory of a live buffer belongs to nothing else, so an array at its block ``first`` with its strides is
    a view of exactly those blocks."""
    traced = getattr(ans, "_recurrent_buffer", None)
    if traced is not None:
        return traced
    lead = ans.strides[0] if ans.ndim == 4 else ans.nbytes
    ref = _BUFFERS.get(ans.ctypes.data - first * lead)
    buf = None if ref is None else ref()
    if (buf is None or buf.dtype != ans.dtype or buf.shape != (blocks,) + ans.shape[-3:]
            or buf.strides[-ans.ndim:] != ans.strides or buf.strides[0] != lead):
        return None
    return buf


def _steps(length, reverse, backward=False):
    """Time steps in the order a pass visits them: forward order for the forward recurrence, reversed for BPTT."""
    forward = range(length - 1, -1, -1) if reverse else range(length)
    return reversed(forward) if backward else forward


def _prev(states, h0, t, reverse):
    """The state entering step ``t``: the previous step's in the direction of the recurrence, h0 at the start."""
    if reverse:
        return states[t + 1] if t + 1 < len(states) else h0
    return states[t - 1] if t > 0 else h0


def _pairs(hs, reverse):
    """(later steps, the states entering them) as row blocks: the steps whose previous state is an output."""
    return (slice(0, -1), slice(1, None)) if reverse else (slice(1, None), slice(0, -1))


def _gate_weight_grad(dp, hs, h0, reverse):
    """Σ_t dp[:, t]ᵀ h_{t-1} per gate block, dp (gates, L, N, H): the (gates·H, H) gradient of W_hh."""
    gates, steps, n, h = dp.shape
    inner, outer = _pairs(hs, reverse)
    dw = np.matmul(dp[:, inner].reshape(gates, -1, h).transpose(0, 2, 1), hs[outer].reshape(-1, h))
    if type(h0) is not np.ndarray or h0.any():  # a traced h0 (cr.jit) may be nonzero in a later replay
        dw += np.matmul(dp[:, -1 if reverse else 0].transpose(0, 2, 1), h0)
    return dw.reshape(gates * h, h)


def _input_x(dp, x, w_ih):
    """x̄ = Σ_k dp_k W_ih,k, for dp (gates, L, N, H) the cotangent of the projection's output."""
    gates, steps, n, h = dp.shape
    return np.matmul(dp.reshape(gates, steps * n, h), w_ih.reshape(gates, h, -1)).sum(axis=0).reshape(x.shape)


def _with_ones(x, dtype):
    """x as (L·N, I + 1) with a column of ones: one GEMM gives x W_ihᵀ + b (forward) and W̄_ih with b̄ (backward)."""
    x2 = x.reshape(-1, x.shape[-1])
    out = np.empty((x2.shape[0], x2.shape[1] + 1), dtype=dtype)
    out[:, :-1] = x2
    out[:, -1] = 1
    return out


def _project(x, w_ih, b_ih, b_hh, scale, out, hh_gates):
    """``out`` (gates, L, N, H) ← scale·(x W_ih,kᵀ + b_ih,k [+ b_hh,k for k < hh_gates]) per gate k."""
    gates, steps, n, h = out.shape
    wt = (w_ih.reshape(gates, h, -1) * scale).transpose(0, 2, 1)
    if b_ih is None and b_hh is None:
        np.matmul(x.reshape(steps * n, -1), wt, out=out.reshape(gates, steps * n, h))
        return
    bias = np.zeros((gates, h), dtype=out.dtype)
    if b_ih is not None:
        bias += b_ih.reshape(gates, h)
    if b_hh is not None:
        bias[:hh_gates] += b_hh.reshape(gates, h)[:hh_gates]
    w = np.concatenate([wt, (bias * scale[:, 0])[:, None]], axis=1)  # (gates, I + 1, H): the bias as a last row
    np.matmul(_with_ones(x, out.dtype), w, out=out.reshape(gates, steps * n, h))


def _input_grads(dp, x, b_ih, b_hh):
    """Functions for W̄_ih (gates·H, I), b̄_ih and b̄_hh (Σ dp over steps and batch, the same for both): one GEMM
    of dpᵀ with [x, 1] computes W̄_ih and the sum together, once, whichever is asked first."""
    gates, steps, n, h = dp.shape
    done = []

    def both():
        if not done:
            d2 = dp.reshape(gates, steps * n, h).transpose(0, 2, 1)
            if b_ih is None and b_hh is None:
                done.append(np.matmul(d2, x.reshape(steps * n, -1)).reshape(gates * h, -1))
            else:
                dw = np.matmul(d2, _with_ones(x, dp.dtype))
                done.extend([np.ascontiguousarray(dw[..., :-1]).reshape(gates * h, -1), dw[..., -1].reshape(-1)])
        return done

    def weight():
        return both()[0]

    taken = []

    def bias_share():
        # b̄_ih and b̄_hh are the same sum: the second share gets its own copy, never an alias of the first
        total = both()[1]
        if taken:
            return total.copy()
        taken.append(True)
        return total

    return weight, None if b_ih is None else bias_share, None if b_hh is None else bias_share


def _consts(gates, sigmoid, dtype):
    """(gates, 1, 1) scale and shift: σ(x) = tanh(x/2)/2 + 1/2 on the sigmoid gates, tanh as is on the others."""
    scale = np.ones((gates, 1, 1), dtype=dtype)
    shift = np.zeros((gates, 1, 1), dtype=dtype)
    scale[list(sigmoid)] = 0.5
    shift[list(sigmoid)] = 0.5
    return scale, shift


def _dtype(*arrays):
    return np.result_type(*[a for a in arrays if a is not None])


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """The LSTM layer (gates i, f, g, o as PyTorch) over ``x`` (L, N, I): (2, L, N, H), the c_t and the h_t."""
    steps, n, _ = x.shape
    h = w_hh.shape[1]
    dtype = _dtype(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    scale, shift = _consts(4, (0, 1, 3), dtype)
    buf = _keep(np.empty((7, steps, n, h), dtype=dtype))  # i, f, g, o, tanh c, c, h
    acts, tcs, cs, hs = buf[:4], buf[4], buf[5], buf[6]
    _project(x, w_ih, b_ih, b_hh, scale, acts, 4)
    wt = np.ascontiguousarray((w_hh.reshape(4, h, h) * scale).transpose(0, 2, 1))
    q = np.empty((4, n, h), dtype=dtype)
    tmp = np.empty((n, h), dtype=dtype)
    hp, cp = h0, c0
    for t in _steps(steps, reverse):
        a = acts[:, t]
        np.matmul(hp, wt, out=q)
        a += q
        np.tanh(a, out=a)
        a *= scale
        a += shift
        c = cs[t]
        np.multiply(a[1], cp, out=c)
        np.multiply(a[0], a[2], out=tmp)
        c += tmp
        np.tanh(c, out=tcs[t])
        np.multiply(a[3], tcs[t], out=hs[t])
        hp, cp = hs[t], c
    return _handout(buf, slice(5, None))


def lstm_backward(g, ans, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """Cotangents of (x, h0, c0, w_ih, w_hh, b_ih, b_hh) for the cotangent ``g`` of ``lstm_forward``'s result."""
    _, steps, n, h = ans.shape
    dtype = ans.dtype
    buf = _buffer(ans, 7, 5)
    if buf is None:
        buf = _buffer(lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse), 7, 5)
    acts, tcs, cs, hs = buf[:4], buf[4], buf[5], buf[6]
    g = np.asarray(g, dtype=dtype)
    g_cs, g_hs = g[0], g[1]
    dp = np.empty((4, steps, n, h), dtype=dtype)
    dh = np.zeros((n, h), dtype=dtype)
    dc = np.zeros((n, h), dtype=dtype)
    tmp = np.empty((n, h), dtype=dtype)
    deriv = np.empty((4, n, h), dtype=dtype)
    q = np.empty((4, n, h), dtype=dtype)
    w = w_hh.reshape(4, h, h)
    order = list(_steps(steps, reverse, backward=True))
    for t in order:
        a = acts[:, t]
        dh += g_hs[t]
        tc = tcs[t]
        np.multiply(tc, tc, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= a[3]
        tmp *= dh
        dc += tmp
        dc += g_cs[t]
        d = dp[:, t]
        np.multiply(dc, a[2], out=d[0])
        np.multiply(dc, _prev(cs, c0, t, reverse), out=d[1])
        np.multiply(dc, a[0], out=d[2])
        np.multiply(dh, tc, out=d[3])
        np.subtract(1, a, out=deriv)  # σ' = σ(1 - σ) on i, f, o; tanh' = 1 - g² on g
        deriv *= a
        np.multiply(a[2], a[2], out=deriv[2])
        np.subtract(1, deriv[2], out=deriv[2])
        d *= deriv
        if t == order[-1]:
            break  # what flows into h0 and c0 is computed only if they ask (below)
        dc *= a[1]
        np.matmul(d, w, out=q)
        np.add.reduce(q, axis=0, out=dh)
    first = dp[:, order[-1]] if order else None

    def d_h0():
        return np.add.reduce(np.matmul(first, w), axis=0) if order else dh

    def d_c0():
        return dc * acts[1, order[-1]] if order else dc

    dw_ih, db_ih, db_hh = _input_grads(dp, x, b_ih, b_hh)
    return (lambda: _input_x(dp, x, w_ih), d_h0, d_c0, dw_ih, lambda: _gate_weight_grad(dp, hs, h0, reverse),
            db_ih, db_hh)


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """The GRU layer (gates r, z, n as PyTorch, r applied to W_hn h + b_hn) over ``x`` (L, N, I): the h_t."""
    steps, n, _ = x.shape
    h = w_hh.shape[1]
    dtype = _dtype(x, h0, w_ih, w_hh, b_ih, b_hh)
    scale, shift = _consts(3, (0, 1), dtype)
    buf = _keep(np.empty((5, steps, n, h), dtype=dtype))  # r, z, n, W_hn h + b_hn, h
    acts, hns, hs = buf[:3], buf[3], buf[4]
    _project(x, w_ih, b_ih, b_hh, scale, acts, 2)  # b_hn stays inside r·(W_hn h + b_hn)
    wt = np.ascontiguousarray((w_hh.reshape(3, h, h) * scale).transpose(0, 2, 1))
    b_hn = None if b_hh is None else b_hh[2 * h:]
    q = np.empty((3, n, h), dtype=dtype)
    tmp = np.empty((n, h), dtype=dtype)
    hp = h0
    for t in _steps(steps, reverse):
        a = acts[:, t]
        np.matmul(hp, wt, out=q)
        rz = a[:2]
        rz += q[:2]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        hn = hns[t]
        if b_hn is not None:
            np.add(q[2], b_hn, out=hn)
        else:
            hn[...] = q[2]
        nn = a[2]
        np.multiply(a[0], hn, out=tmp)
        nn += tmp
        np.tanh(nn, out=nn)
        ht = hs[t]
        np.subtract(hp, nn, out=ht)  # h' = n + z (h - n)
        ht *= a[1]
        ht += nn
        hp = ht
    return _handout(buf, 4)


def gru_backward(g, ans, x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """Cotangents of (x, h0, w_ih, w_hh, b_ih, b_hh) for the cotangent ``g`` of ``gru_forward``'s result."""
    steps, n, h = ans.shape
    dtype = ans.dtype
    buf = _buffer(ans, 5, 4)
    if buf is None:
        buf = _buffer(gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse), 5, 4)
    acts, hns, hs = buf[:3], buf[3], buf[4]
    g_hs = np.asarray(g, dtype=dtype)
    dq = np.empty((3, steps, n, h), dtype=dtype)  # the cotangent of h W_hhᵀ + b_hh: dr_pre, dz_pre, d(hn)
    dn = np.empty((steps, n, h), dtype=dtype)  # the n gate's pre-activation: x's part of it
    dh = np.zeros((n, h), dtype=dtype)
    tmp = np.empty((n, h), dtype=dtype)
    q = np.empty((3, n, h), dtype=dtype)
    w = w_hh.reshape(3, h, h)
    order = list(_steps(steps, reverse, backward=True))
    for t in order:
        a = acts[:, t]
        r, z, nn = a[0], a[1], a[2]
        d = dq[:, t]
        dr, dz, dhn, dnt = d[0], d[1], d[2], dn[t]
        dh += g_hs[t]
        np.subtract(_prev(hs, h0, t, reverse), nn, out=dz)  # dz = dh (h_{t-1} - n)
        dz *= dh
        np.subtract(1, z, out=dnt)  # dn = dh (1 - z), then through tanh: · (1 - n²)
        dnt *= dh
        np.multiply(nn, nn, out=tmp)
        np.subtract(1, tmp, out=tmp)
        dnt *= tmp
        np.multiply(dnt, hns[t], out=dr)
        np.multiply(dnt, r, out=dhn)
        np.subtract(1, r, out=tmp)  # through σ: · σ (1 - σ)
        tmp *= r
        dr *= tmp
        np.subtract(1, z, out=tmp)
        tmp *= z
        dz *= tmp
        if t == order[-1]:
            break  # what flows into h0 is computed only if it asks (below)
        dh *= z
        np.matmul(d, w, out=q)
        dh += np.add.reduce(q, axis=0)
    dpx = np.concatenate([dq[:2], dn[None]])  # the projection's cotangent: r, z as W_hh's, n its own

    def d_h0():
        if not order:
            return dh
        return dh * acts[1, order[-1]] + np.add.reduce(np.matmul(dq[:, order[-1]], w), axis=0)

    dw_ih, db_ih, _ = _input_grads(dpx, x, b_ih, None)
    return (lambda: _input_x(dpx, x, w_ih), d_h0, dw_ih,
            lambda: _gate_weight_grad(dq, hs, h0, reverse),
            db_ih, None if b_hh is None else (lambda: dq.sum(axis=(1, 2)).reshape(-1)))


def elman_forward(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", reverse=False):
    """The Elman layer h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), act tanh or relu, over ``x``: (L, N, H)."""
    steps, n, _ = x.shape
    h = w_hh.shape[1]
    dtype = _dtype(x, h0, w_ih, w_hh, b_ih, b_hh)
    hs = np.empty((steps, n, h), dtype=dtype)
    _project(x, w_ih, b_ih, b_hh, np.ones((1, 1, 1), dtype=dtype), hs[None], 1)
    wt = np.ascontiguousarray(w_hh.T)
    q = np.empty((n, h), dtype=dtype)
    hp = h0
    relu = nonlinearity == "relu"
    for t in _steps(steps, reverse):
        ht = hs[t]
        np.matmul(hp, wt, out=q)
        ht += q
        if relu:
            np.maximum(ht, 0, out=ht)
        else:
            np.tanh(ht, out=ht)
        hp = ht
    return hs


def elman_backward(g, ans, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", reverse=False):
    """Cotangents of (x, h0, w_ih, w_hh, b_ih, b_hh) for the cotangent ``g`` of ``elman_forward``'s result."""
    steps, n, h = ans.shape
    dtype = ans.dtype
    g = np.asarray(g, dtype=dtype)
    dp = np.empty((1, steps, n, h), dtype=dtype)
    dh = np.zeros((n, h), dtype=dtype)
    tmp = np.empty((n, h), dtype=dtype)
    relu = nonlinearity == "relu"
    order = list(_steps(steps, reverse, backward=True))
    for t in order:
        ht = ans[t]
        dh += g[t]
        d = dp[0, t]
        if relu:
            np.greater(ht, 0, out=tmp)  # relu'(0) = 0, as relu's own rule
        else:
            np.multiply(ht, ht, out=tmp)
            np.subtract(1, tmp, out=tmp)
        np.multiply(dh, tmp, out=d)
        if t == order[-1]:
            break  # what flows into h0 is computed only if it asks (below)
        np.matmul(d, w_hh, out=dh)

    def d_h0():
        return d @ w_hh if order else dh

    dw_ih, db_ih, db_hh = _input_grads(dp, x, b_ih, b_hh)
    return (lambda: _input_x(dp, x, w_ih), d_h0, dw_ih, lambda: _gate_weight_grad(dp, ans, h0, reverse), db_ih, db_hh)
