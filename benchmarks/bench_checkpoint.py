"""checkpoint: peak memory of forward + backward through a 32-layer, 1024-wide tanh MLP (batch 256, float32).

Run: python benchmarks/bench_checkpoint.py [--depth 32] [--width 1024] [--batch 256]

Compares no checkpointing with a checkpoint every ~sqrt(depth) layers. Memory is NumPy's allocations as
traced by tracemalloc (NumPy reports them to it), from just before the forward pass (the weights exist
already) to the end of the backward pass. Three figures:

* saved for backward: what the graph holds when the forward pass ends (the activations);
* peak, gradient w.r.t. the input: forward + backward when only the input needs a gradient, so the peak is
  the activations plus the backward pass's temporaries -- what checkpointing is about;
* peak, training step: every weight needs a gradient too. At this size the 32 weight gradients (128 MiB)
  outweigh the activations (batch 256 < width 1024), so this peak falls less.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import tracemalloc

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

import chainrule as cr
from chainrule.transforms import checkpoint


def _params(depth, width, train, seed=0):
    rng = np.random.default_rng(seed)
    scale = np.float32(1 / math.sqrt(width))
    return [(cr.tensor(rng.standard_normal((width, width), dtype=np.float32) * scale, requires_grad=train),
             cr.tensor(np.zeros(width, np.float32), requires_grad=train)) for _ in range(depth)]


def _segment(params):
    def run(h):
        for W, b in params:
            h = cr.tanh(h @ W + b)
        return h

    return run


def _step(params, x, every):
    h = x
    step = every or len(params)
    for lo in range(0, len(params), step):
        seg = _segment(params[lo:lo + step])
        h = checkpoint(seg)(h) if every else seg(h)
    return (h * h).mean()


def measure(every, depth, width, batch, train):
    """One forward + backward (every=0: no checkpoints): saved and peak bytes, seconds, loss, a gradient."""
    params = _params(depth, width, train)
    x = cr.tensor(np.random.default_rng(1).standard_normal((batch, width), dtype=np.float32), requires_grad=True)
    seconds = []
    for _ in range(2):  # timed without tracemalloc, best of two
        t0 = time.perf_counter()
        _step(params, x, every).backward()
        seconds.append(time.perf_counter() - t0)
    x.grad = None
    tracemalloc.start()
    loss = _step(params, x, every)
    saved = tracemalloc.get_traced_memory()[0]
    loss.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return saved, peak, min(seconds), float(loss.item()), x.grad.data


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depth", type=int, default=32)
    p.add_argument("--width", type=int, default=1024)
    p.add_argument("--batch", type=int, default=256)
    a = p.parse_args(argv)
    every = max(1, round(math.sqrt(a.depth)))
    mib = 1 / 2 ** 20
    print(f"{a.depth}-layer {a.width}-wide tanh MLP, batch {a.batch}, float32; checkpoint every {every} layers")
    rows = {}
    for train in (False, True):
        plain = measure(0, a.depth, a.width, a.batch, train)
        ckpt = measure(every, a.depth, a.width, a.batch, train)
        assert np.isclose(plain[3], ckpt[3]) and np.allclose(plain[4], ckpt[4], rtol=1e-4, atol=1e-8), "differ"
        rows[train] = (plain, ckpt)
    (p0, c0), (p1, c1) = rows[False], rows[True]
    print(f"  {'':28s}{'no checkpoints':>16s}{'checkpointed':>16s}{'reduction':>11s}")
    for name, a_, b_ in (("saved for backward", p0[0], c0[0]),
                         ("peak, gradient w.r.t. input", p0[1], c0[1]),
                         ("peak, training step", p1[1], c1[1])):
        print(f"  {name:28s}{a_ * mib:12.1f} MiB{b_ * mib:12.1f} MiB{1 - b_ / a_:10.0%}")
    print(f"  time of a training step: {p1[2]:.2f} s, {c1[2]:.2f} s with checkpoints (each segment's forward runs "
          f"twice; fewer live megabytes can offset that: malloc maps and unmaps less)")
    return 1 - c0[1] / p0[1]


if __name__ == "__main__":
    main()
