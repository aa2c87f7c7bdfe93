"""Benchmark: cr.jit against chainrule eager and the same step written by hand in NumPy.

Workloads (float32 unless said): an MLP 784-512-512-10 SGD step (forward, cross-entropy, backward,
update) at batch 128 and batch 1; the 1,000-op tiny chain of bench_tape.py, forward + backward
(µs per op); an RNN of 100 unrolled tanh steps, forward + backward. Each workload is timed in
interleaved rounds (hand, eager, jit); numbers are medians, ratios are to the hand-written NumPy of the
same round. Every result is checked against the hand-written one.

    python benchmarks/bench_jit.py [--rounds 7] [--steps 20] [--quick]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
import chainrule.nn.functional as F  # noqa: E402

F32 = np.float32


# ---- MLP step ----------------------------------------------------------------------------------
def _mlp_params(seed=0):
    rng = np.random.default_rng(seed)
    sizes = (784, 512, 512, 10)
    return [a.astype(F32) for i in range(3) for a in
            (rng.standard_normal((sizes[i], sizes[i + 1])) / np.sqrt(sizes[i]), np.zeros(sizes[i + 1]))]


def mlp_hand(params, x, y, lr=0.01):
    """The step by hand: forward, softmax cross-entropy, the adjoints, SGD in place."""
    w1, b1, w2, b2, w3, b3 = params
    z1 = x @ w1 + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ w2 + b2
    h2 = np.maximum(z2, 0)
    z3 = h2 @ w3 + b3
    m = z3.max(axis=1, keepdims=True)
    e = np.exp(z3 - m)
    s = e.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = (np.log(s)[:, 0] + m[:, 0] - z3[np.arange(n), y]).mean()
    g3 = e / s
    g3[np.arange(n), y] -= 1
    g3 /= n
    gw3, gb3 = h2.T @ g3, g3.sum(0)
    g2 = (g3 @ w3.T) * (z2 > 0)
    gw2, gb2 = h1.T @ g2, g2.sum(0)
    g1 = (g2 @ w2.T) * (z1 > 0)
    gw1, gb1 = x.T @ g1, g1.sum(0)
    for p, g in zip(params, (gw1, gb1, gw2, gb2, gw3, gb3)):
        p -= lr * g
    return loss


def mlp_chainrule(params, lr=0.01):
    ps = [cr.tensor(p.copy(), requires_grad=True) for p in params]
    opt = cr.optim.SGD(ps, lr=lr)

    def step(x, y):
        opt.zero_grad()
        h = cr.relu(x @ ps[0] + ps[1])
        h = cr.relu(h @ ps[2] + ps[3])
        loss = F.cross_entropy(h @ ps[4] + ps[5], y)
        loss.backward()
        opt.step()
        return loss

    return ps, step


# ---- the tiny chain ----------------------------------------------------------------------------
N_OPS = 1000
X0 = np.linspace(0.1, 0.9, 8)


def _chain(y, sin, tanh):
    for _ in range(N_OPS // 4):
        y = sin(y * 1.0001) + 0.1
        y = tanh(y)
    return y


def chain_hand(x0):
    x, saved = x0, []
    for _ in range(N_OPS // 4):
        x = x * 1.0001
        saved.append(x)
        x = np.tanh(np.sin(x) + 0.1)
        saved.append(x)
    g = np.ones_like(x)
    for k in range(N_OPS // 4 - 1, -1, -1):
        t = saved[2 * k + 1]
        g = g * (1 - t * t)
        g = g * np.cos(saved[2 * k])
        g = g * 1.0001
    return g


def chain_chainrule(x0):
    x = cr.tensor(x0, requires_grad=True)
    _chain(x, cr.sin, cr.tanh).sum().backward()
    return x.grad


# ---- RNN, 100 unrolled tanh steps --------------------------------------------------------------
T, B, D, H = 100, 16, 32, 64


def _rnn_data(seed=0):
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal((T, B, D)) * 0.5).astype(F32), (rng.standard_normal((D, H)) * 0.2).astype(F32),
            (rng.standard_normal((H, H)) * 0.1).astype(F32), np.zeros(H, F32))


def rnn_hand(xs, w, u, b):
    h = np.zeros((B, H), F32)
    hs = [h]
    for t in range(T):
        h = np.tanh(xs[t] @ w + h @ u + b)
        hs.append(h)
    gh = np.ones_like(h)
    gw, gu, gb = np.zeros_like(w), np.zeros_like(u), np.zeros_like(b)
    for t in range(T - 1, -1, -1):
        gz = gh * (1 - hs[t + 1] * hs[t + 1])
        gw += xs[t].T @ gz
        gu += hs[t].T @ gz
        gb += gz.sum(0)
        gh = gz @ u.T
    return gw, gu, gb


def rnn_chainrule(xs, w, u, b):
    w, u, b = (cr.tensor(a, requires_grad=True) for a in (w, u, b))
    h = cr.zeros((B, H), dtype=F32)
    for t in range(T):
        h = cr.tanh(xs[t] @ w + h @ u + b)
    h.sum().backward()
    return w.grad, u.grad, b.grad


# ---- timing --------------------------------------------------------------------------------------
def _time(fn, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps


def _rounds(fns, rounds, steps):
    """Interleaved rounds: {name: [seconds per call]}."""
    for fn in fns.values():
        fn()  # warm up (and trace)
    out = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            out[k].append(_time(fn, steps))
    return out


def _report(title, times, unit=1e6, per=1, suffix="µs"):
    hand = times["hand"]
    print(f"{title}")
    for k, ts in times.items():
        ratio = statistics.median(t / h for t, h in zip(ts, hand))
        print(f"  {k:8s}: {statistics.median(ts) * unit / per:10.2f} {suffix}   ratio {ratio:.2f}x hand")


def bench_mlp(batch, rounds, steps):
    params = _mlp_params()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, 784)).astype(F32)
    y = rng.integers(0, 10, batch)
    hand_p = [p.copy() for p in params]
    eager_ps, eager_step = mlp_chainrule(params)
    jit_ps, jit_step = mlp_chainrule(params)
    jit_step = cr.jit(jit_step)
    xt, yt = cr.tensor(x), cr.tensor(y)
    # the answer first: three steps each, the same losses and parameters
    for _ in range(3):
        lh = mlp_hand(hand_p, x, y)
        le, lj = eager_step(xt, yt), jit_step(xt, yt)
        assert np.allclose(lh, le.data, rtol=1e-4) and np.array_equal(le.data, lj.data), (lh, le, lj)
    for p, q in zip(eager_ps, jit_ps):
        assert np.array_equal(p.data, q.data)
    times = _rounds({"hand": lambda: mlp_hand(hand_p, x, y), "eager": lambda: eager_step(xt, yt),
                     "jit": lambda: jit_step(xt, yt)}, rounds, steps)
    _report(f"MLP 784-512-512-10 SGD step, batch {batch}, float32 (per step)", times)


def bench_chain(rounds, steps):
    jitted = cr.jit(chain_chainrule)
    ref = chain_hand(X0)
    assert np.allclose(chain_chainrule(X0).data, ref) and np.allclose(jitted(X0).data, ref)
    assert np.allclose(jitted(X0 * 0.5).data, chain_hand(X0 * 0.5))
    times = _rounds({"hand": lambda: chain_hand(X0), "eager": lambda: chain_chainrule(X0),
                     "jit": lambda: jitted(X0)}, rounds, steps)
    _report(f"tiny chain, {N_OPS} ops on shape (8,), forward + backward (per op)", times, per=N_OPS)


def bench_rnn(rounds, steps):
    xs, w, u, b = _rnn_data()
    jitted = cr.jit(rnn_chainrule)
    ref = rnn_hand(xs, w, u, b)
    for got in (rnn_chainrule(xs, w, u, b), jitted(xs, w, u, b), jitted(xs, w, u, b)):
        for g, r in zip(got, ref):
            assert np.allclose(g.data, r, rtol=1e-3, atol=1e-4)
    times = _rounds({"hand": lambda: rnn_hand(xs, w, u, b), "eager": lambda: rnn_chainrule(xs, w, u, b),
                     "jit": lambda: jitted(xs, w, u, b)}, rounds, steps)
    _report(f"RNN, {T} unrolled tanh steps, batch {B}, {D}->{H}, forward + backward (per call)", times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="2 rounds of 2 steps: checks that it runs")
    args = ap.parse_args(argv)
    rounds, steps = (2, 2) if args.quick else (args.rounds, args.steps)
    bench_mlp(128, rounds, max(1, steps // 2))
    bench_mlp(1, rounds, steps * 5)
    bench_chain(rounds, max(1, steps // 4))
    bench_rnn(rounds, max(1, steps // 4))


if __name__ == "__main__":
    main()
