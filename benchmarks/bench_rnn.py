"""A tanh RNN unrolled 100 steps, forward and backward (batch 32, input 64, hidden 128, float32): nn.RNN vs by hand.

The gradients of sum(h_T) with respect to the weights and bias, by chainrule's ``nn.RNN`` (one fused
primitive per layer: backpropagation through time in its reverse rule), by backpropagation through time
written by hand in NumPy, by the same loop written step by step in chainrule operations, and — when
installed — by PyTorch's ``nn.RNN``. All start from the same weights, are first checked to agree, then
alternate in rounds so that CPU throttling hits them alike; one BLAS thread. The ratio nn.RNN / by hand
is what matters (goal <= 1.3).

    python benchmarks/bench_rnn.py [--steps 100] [--reps 5] [--rounds 5] [--json]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads: single-threaded BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402

BATCH, INPUT, HIDDEN = 32, 64, 128


def data(steps):
    """The inputs (steps, batch, input) and the weights Wx (input, hidden), Wh (hidden, hidden), b (hidden,)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((steps, BATCH, INPUT)).astype(np.float32)
    wx = (rng.standard_normal((INPUT, HIDDEN)) / np.sqrt(INPUT)).astype(np.float32)
    wh = (rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN)).astype(np.float32)
    b = (rng.standard_normal(HIDDEN) * 0.1).astype(np.float32)
    return x, wx, wh, b


def by_hand(x, wx, wh, b):
    """The gradients of sum(h_T) for h_t = tanh(x_t Wx + h_{t-1} Wh + b), h_0 = 0, by hand: (Wx̄, Wh̄, b̄)."""
    steps = len(x)
    hs = np.empty((steps, BATCH, HIDDEN), dtype=x.dtype)
    h = np.zeros((BATCH, HIDDEN), dtype=x.dtype)
    for t in range(steps):
        h = hs[t] = np.tanh(x[t] @ wx + h @ wh + b)
    dwx, dwh, db = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    g = np.ones_like(h)
    for t in range(steps - 1, -1, -1):
        gz = g * (1 - hs[t] * hs[t])  # d/dz tanh z = 1 - tanh² z
        dwx += x[t].T @ gz
        db += gz.sum(axis=0)
        if t:
            dwh += hs[t - 1].T @ gz
            g = gz @ wh.T
    return dwx, dwh, db


def fused(x, wx, wh, b):
    """``nn.RNN`` holding the same weights (PyTorch's layout: weight_ih = Wxᵀ); returns a gradient function."""
    rnn = nn.RNN(INPUT, HIDDEN)
    rnn.load_state_dict({"weight_ih_l0": wx.T.copy(), "weight_hh_l0": wh.T.copy(), "bias_ih_l0": b,
                         "bias_hh_l0": np.zeros_like(b)})
    xt = cr.tensor(x)

    def grads():
        for p in rnn.parameters():
            p.grad = None
        _, h = rnn(xt)
        h.sum().backward()
        return rnn.weight_ih_l0.grad.data.T, rnn.weight_hh_l0.grad.data.T, rnn.bias_ih_l0.grad.data
    return grads


def op_by_op(x, wx, wh, b):
    """The same loop written step by step in chainrule operations, differentiated by ``cr.grad``."""
    xs = [cr.tensor(s) for s in x]

    def loss(wx, wh, b):
        h = cr.tanh(xs[0] @ wx + b)
        for s in xs[1:]:
            h = cr.tanh(s @ wx + h @ wh + b)
        return h.sum()
    g = cr.grad(loss, argnums=(0, 1, 2))
    return lambda: tuple(t.data if isinstance(t, cr.Tensor) else t for t in g(wx, wh, b))


def theirs(torch, x, wx, wh, b):
    torch.set_num_threads(1)
    rnn = torch.nn.RNN(INPUT, HIDDEN)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(wx.T.copy()))
        rnn.weight_hh_l0.copy_(torch.from_numpy(wh.T.copy()))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    xt = torch.from_numpy(x)

    def grads():
        rnn.zero_grad(set_to_none=True)
        _, h = rnn(xt)
        h.sum().backward()
        return (rnn.weight_ih_l0.grad.numpy().T, rnn.weight_hh_l0.grad.numpy().T, rnn.bias_ih_l0.grad.numpy())
    return grads


def timed(fn, n):
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--reps", type=int, default=5, help="calls per timing")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    arrays = data(args.steps)
    runs = {"numpy": lambda: by_hand(*arrays), "nn.RNN": fused(*arrays), "op by op": op_by_op(*arrays)}
    try:
        import torch

        runs["torch"] = theirs(torch, *arrays)
    except ImportError:
        pass
    want = runs["numpy"]()
    for name, fn in runs.items():  # all agree before anything is timed
        for got, ref in zip(fn(), want):
            if not np.allclose(got, ref, rtol=1e-3, atol=1e-3 * float(np.abs(ref).max())):
                raise SystemExit(f"bench_rnn: {name} gradients differ from the NumPy ones")
    times = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            times[name].append(timed(fn, args.reps))
    best = {name: min(ts) for name, ts in times.items()}
    result = {"name": "rnn_unrolled", "steps": args.steps, "numpy_ms": 1e3 * best["numpy"],
              "ratios": {name: best[name] / best["numpy"] for name in runs if name != "numpy"}, "target": 1.3}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"tanh RNN, {args.steps} steps, b{BATCH} in{INPUT} h{HIDDEN}, float32, fwd+bwd, 1 thread; "
          f"by hand in NumPy {result['numpy_ms']:.2f} ms")
    for name, ratio in result["ratios"].items():
        print(f"  {name:10s} {1e3 * best[name]:8.2f} ms  ratio {ratio:.2f}")
    print(f"ratio nn.RNN / by hand {result['ratios']['nn.RNN']:.2f} (goal <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
