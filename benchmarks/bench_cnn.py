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

import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from chainrule import nn  # noqa: E402
import training_step  # noqa: E402 - benchmarks/training_step.py, beside this script

BATCH, CH, SIDE, CLASSES = 64, 16, 28, 10
LR = 0.01
TITLE = f"CNN step conv3x3 1->16, ReLU, maxpool 2, linear->10; batch {BATCH} of 1x{SIDE}x{SIDE}, float32"


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
        loss, dz = training_step.softmax_cross_entropy(z, y)
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


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, CH, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(CH * (SIDE // 2) ** 2, CLASSES),
    )


def main(argv=None):
    return training_step.main(argv, description=__doc__.splitlines()[0], title=TITLE, name="cnn_step", target=1.3,
                              make_model=make_model, reference=NumpyCNN, lr=LR, make_data=make_data, steps=20)


if __name__ == "__main__":
    sys.exit(main())
