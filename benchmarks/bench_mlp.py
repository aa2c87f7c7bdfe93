"""MLP training step (784→512→512→10, ReLU, softmax cross-entropy, batch 128, float32, SGD): chainrule vs NumPy.

Both sides run the same step — forward, backward, SGD update — on the same
data, in the same process, interleaved in rounds so that CPU throttling hits
both alike; BLAS is pinned to one thread for stable numbers. The ratio
chainrule / NumPy is what matters (target ≤ 1.10).

    python benchmarks/bench_mlp.py [--steps 50] [--rounds 7] [--batch 128] [--json]

``--batch 1`` times the batch-1 step, where per-operation cost and the outer products of the weight
gradients (inner dimension 1, ``dh.T @ x`` by hand) dominate.
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

SIZES = (784, 512, 512, 10)
BATCH = 128
LR = 0.01
TITLE = f"MLP step 784-512-512-10, batch {BATCH}, float32, 1 BLAS thread"


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
        loss, dz = training_step.softmax_cross_entropy(z, y)  # mean over the batch
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


def make_model():
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(nn.Linear(SIZES[i], SIZES[i + 1]))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def main(argv=None):
    global BATCH, TITLE
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--batch" in argv:  # read here: make_data and the title use it
        at = argv.index("--batch")
        BATCH = int(argv[at + 1])
        del argv[at : at + 2]
        TITLE = TITLE.replace("batch 128", f"batch {BATCH}")
    return training_step.main(argv, description=__doc__.splitlines()[0], title=TITLE, name="mlp_step", target=1.10,
                              make_model=make_model, reference=NumpyMLP, lr=LR, make_data=make_data, steps=30)


if __name__ == "__main__":
    sys.exit(main())
