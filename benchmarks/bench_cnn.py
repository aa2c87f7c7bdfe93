"""CNN training step (conv 3×3 1→16 pad 1, ReLU, 2×2 max-pool, linear to 10; batch 64 of 1×28×28): chainrule vs NumPy.

The NumPy side is the same step written by hand with the same algorithms
(im2col by one strided copy per kernel offset, one batched matmul, a
reshape-based 2×2 max, the gradient routed to each window's first maximum),
so the ratio measures what the framework adds (target ≤ 1.3). BLAS is pinned
to one thread; the two sides alternate in rounds.

    python benchmarks/bench_cnn.py [--steps 30] [--rounds 7] [--json]
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


def pin_malloc():
    """Keep glibc from mapping and unmapping every multi-MB temporary (both sides alike), for stable timings.

    Without this the first side to free a large block moves malloc's mmap
    threshold for the other, and a step's time swings by 2x between runs.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to pin
        pass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainrule as cr  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.nn import functional as F  # noqa: E402

BATCH, CH, SIDE, CLASSES = 64, 16, 28, 10
LR = 0.01


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((BATCH, 1, SIDE, SIDE), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    return x, y


class NumpyCNN:
    """conv → ReLU → 2×2 max-pool → linear, forward, backward and SGD by hand."""

    def __init__(self, params):
        self.p = [np.array(a) for a in params]  # Wc (16,1,3,3), bc, Wl (10, 16·14·14), bl

    @staticmethod
    def im2col(x):
        n, c, h, w = x.shape
        xp = np.zeros((n, c, h + 2, w + 2), dtype=x.dtype)
        xp[:, :, 1:-1, 1:-1] = x
        cols = np.empty((n, c, 3, 3, h, w), dtype=x.dtype)
        for i in range(3):
            for j in range(3):
                cols[:, :, i, j] = xp[:, :, i : i + h, j : j + w]
        return cols.reshape(n, c * 9, h * w)

    def step(self, x, y):
        Wc, bc, Wl, bl = self.p
        n = x.shape[0]
        cols = self.im2col(x)  # (N, 9, 784)
        conv = (Wc.reshape(CH, 9) @ cols).reshape(n, CH, SIDE, SIDE)
        conv += bc.reshape(CH, 1, 1)
        act = np.maximum(conv, 0)
        # 2×2 max-pool: rows of the window first, then the pair of rows
        v = act.reshape(n, CH, SIDE // 2, 2, SIDE // 2, 2)
        rows = np.maximum(v[..., 0], v[..., 1])
        pooled = np.ascontiguousarray(np.maximum(rows[:, :, :, 0], rows[:, :, :, 1]))
        flat = pooled.reshape(n, -1)
        z = flat @ Wl.T
        z += bl
        zs = z - z.max(axis=1, keepdims=True)
        e = np.exp(zs)
        s = e.sum(axis=1, keepdims=True)
        r = np.arange(n)
        loss = (np.log(s[:, 0]) - zs[r, y]).mean()
        dz = e / s
        dz[r, y] -= 1
        dz *= 1.0 / n
        dWl = dz.T @ flat
        dbl = dz.sum(axis=0)
        dpool = (dz @ Wl).reshape(pooled.shape)
        # route each window's gradient to its first maximum (PyTorch's choice at ties)
        dact = np.empty_like(act)
        dv = dact.reshape(v.shape)
        free = np.ones(pooled.shape, dtype=bool)
        hit = np.empty(pooled.shape, dtype=bool)
        for i in range(2):
            for j in range(2):
                np.equal(v[:, :, :, i, :, j], pooled, out=hit)
                hit &= free
                free ^= hit
                np.multiply(dpool, hit, out=dv[:, :, :, i, :, j])
        dconv = dact * (conv > 0)
        g = dconv.reshape(n, CH, SIDE * SIDE)
        dWc = (g @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(Wc.shape)
        dbc = dconv.sum(axis=(0, 2, 3))
        for p, gr in zip(self.p, (dWc, dbc, dWl, dbl)):
            p -= LR * gr
        return loss


def make_models(seed=0):
    cr.random.seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, CH, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(CH * (SIDE // 2) ** 2, CLASSES),
    )
    opt = optim.SGD(model.parameters(), lr=LR)
    ref = NumpyCNN([p.data for p in model.parameters()])
    return model, opt, ref


def chainrule_step(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def check_same(seed=0):
    model, opt, ref = make_models(seed)
    x, y = make_data(seed)
    xt = cr.tensor(x)
    for _ in range(3):
        a = chainrule_step(model, opt, xt, y).item()
        b = float(ref.step(x, y))
        assert abs(a - b) <= 1e-5 * max(1.0, abs(b)), (a, b)
    for p, q in zip(model.parameters(), ref.p):
        assert p.dtype == np.float32 and np.allclose(p.data, q, atol=1e-5), "weights diverged"


def timeit(fn, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps


def run(steps=20, rounds=15, seed=0):
    """Median-of-rounds seconds per step for both, and their ratio."""
    pin_malloc()
    check_same(seed)
    model, opt, ref = make_models(seed)
    x, y = make_data(seed)
    xt = cr.tensor(x)
    ours = lambda: chainrule_step(model, opt, xt, y)  # noqa: E731
    base = lambda: ref.step(x, y)  # noqa: E731
    for _ in range(10):
        ours()
        base()
    t_ours, t_base = [], []
    for r in range(rounds):  # alternate who goes first: throttling then favours neither
        if r % 2:
            t_ours.append(timeit(ours, steps))
            t_base.append(timeit(base, steps))
        else:
            t_base.append(timeit(base, steps))
            t_ours.append(timeit(ours, steps))
    mb, mo = float(np.median(t_base)), float(np.median(t_ours))
    # each round's pair ran back to back, so the median of the paired ratios is the most robust number
    ratios = sorted(o / b for o, b in zip(t_ours, t_base))
    return {"benchmark": "cnn_step", "numpy_ms": mb * 1e3, "chainrule_ms": mo * 1e3, "ratio": float(np.median(ratios)),
            "ratio_min": ratios[0], "ratio_max": ratios[-1], "target": 1.3, "steps": steps, "rounds": rounds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    r = run(args.steps, args.rounds)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"CNN step conv3x3 1->16, ReLU, maxpool 2, linear->10; batch {BATCH} of 1x{SIDE}x{SIDE}, float32")
        print(f"  NumPy by hand : {r['numpy_ms']:.3f} ms")
        print(f"  chainrule     : {r['chainrule_ms']:.3f} ms")
        print(f"  ratio         : {r['ratio']:.3f}  (median of paired rounds; range "
              f"{r['ratio_min']:.3f}-{r['ratio_max']:.3f}; target <= {r['target']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
