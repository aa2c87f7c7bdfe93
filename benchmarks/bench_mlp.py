"""MLP training step (784→512→512→10, ReLU, softmax cross-entropy, batch 128, float32, SGD): chainrule vs NumPy.

Both sides run the same step — forward, backward, SGD update — on the same
data, in the same process, interleaved in rounds so that CPU throttling hits
both alike; BLAS is pinned to one thread for stable numbers. The ratio
chainrule / NumPy is what matters (target ≤ 1.10).

    python benchmarks/bench_mlp.py [--steps 50] [--rounds 7] [--json]
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

SIZES = (784, 512, 512, 10)
BATCH = 128
LR = 0.01


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((BATCH, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    return x, y


class NumpyMLP:
    """The same model and SGD step written directly in NumPy (weights in PyTorch's (out, in) layout)."""

    def __init__(self, params):
        self.p = [np.array(a) for a in params]  # W1, b1, W2, b2, W3, b3

    def step(self, x, y):
        W1, b1, W2, b2, W3, b3 = self.p
        h1 = x @ W1.T
        h1 += b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ W2.T
        h2 += b2
        a2 = np.maximum(h2, 0)
        z = a2 @ W3.T
        z += b3
        # softmax cross-entropy, mean over the batch
        n = z.shape[0]
        zs = z - z.max(axis=1, keepdims=True)
        e = np.exp(zs)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = (np.log(s[:, 0]) - zs[rows, y]).mean()
        dz = e / s
        dz[rows, y] -= 1
        dz *= 1.0 / n
        # backward
        dW3 = dz.T @ a2
        db3 = dz.sum(axis=0)
        da2 = dz @ W3
        dh2 = da2 * (h2 > 0)
        dW2 = dh2.T @ a1
        db2 = dh2.sum(axis=0)
        da1 = dh2 @ W2
        dh1 = da1 * (h1 > 0)
        dW1 = dh1.T @ x
        db1 = dh1.sum(axis=0)
        for p, g in zip(self.p, (dW1, db1, dW2, db2, dW3, db3)):
            p -= LR * g
        return loss


def make_models(seed=0):
    cr.random.seed(seed)
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(nn.Linear(SIZES[i], SIZES[i + 1]))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = optim.SGD(model.parameters(), lr=LR)
    ref = NumpyMLP([p.data for p in model.parameters()])
    return model, opt, ref


def chainrule_step(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def check_same(seed=0):
    """Both implementations agree on the loss and the updated weights over a few steps."""
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


def run(steps=30, rounds=15, seed=0):
    """Median-of-rounds seconds per step for both, and their ratio."""
    pin_malloc()
    check_same(seed)
    model, opt, ref = make_models(seed)
    x, y = make_data(seed)
    xt = cr.tensor(x)
    ours = lambda: chainrule_step(model, opt, xt, y)  # noqa: E731
    base = lambda: ref.step(x, y)  # noqa: E731
    for _ in range(10):  # warm up: caches, malloc's thresholds
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
    return {"benchmark": "mlp_step", "numpy_ms": mb * 1e3, "chainrule_ms": mo * 1e3, "ratio": float(np.median(ratios)),
            "ratio_min": ratios[0], "ratio_max": ratios[-1], "target": 1.10, "steps": steps, "rounds": rounds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    r = run(args.steps, args.rounds)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"MLP step 784-512-512-10, batch {BATCH}, float32, 1 BLAS thread")
        print(f"  NumPy by hand : {r['numpy_ms']:.3f} ms")
        print(f"  chainrule     : {r['chainrule_ms']:.3f} ms")
        print(f"  ratio         : {r['ratio']:.3f}  (median of paired rounds; range "
              f"{r['ratio_min']:.3f}-{r['ratio_max']:.3f}; target <= {r['target']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
