"""Benchmark (c): peak memory of forward + backward of a 32-layer, 1024-wide tanh MLP at batch 256 (float32).

chainrule against the same network hand-written in NumPy (forward keeps each
layer's output, backward by hand as in the EDF notes), measured in the same run
with tracemalloc (NumPy reports its allocations to it). Parameters exist before
measuring in both, so the peak is what the pass itself keeps. Target ≤ 1.10×.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402

LAYERS, WIDTH, BATCH = 32, 1024, 256


def params(seed=0):
    rng = np.random.default_rng(seed)
    Ws = [(rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32) for _ in range(LAYERS)]
    bs = [np.zeros(WIDTH, np.float32) for _ in range(LAYERS)]
    x = rng.standard_normal((BATCH, WIDTH)).astype(np.float32)
    return Ws, bs, x


def by_hand(Ws, bs, x):
    hs = [x]
    for W, b in zip(Ws, bs):
        hs.append(np.tanh(hs[-1] @ W + b))
    loss = hs[-1].sum()
    g = np.ones_like(hs[-1])
    grads = []
    for i in range(LAYERS - 1, -1, -1):
        gz = g * (1 - hs[i + 1] * hs[i + 1])  # tanh' = 1 - tanh²
        hs[i + 1] = None  # free what the backward pass no longer needs
        grads.append((hs[i].T @ gz, gz.sum(axis=0)))
        g = gz @ Ws[i].T
    return loss, grads


def with_chainrule(Ws, bs, x):
    h = cr.tensor(x)
    for W, b in zip(Ws, bs):
        h = cr.tanh(h @ W + b)
    loss = h.sum()
    del h
    loss.backward()
    return loss


def peak(fn, *args):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = fn(*args)
    peak_bytes = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del result
    return peak_bytes


def main():
    Ws, bs, x = params()
    hand = peak(by_hand, Ws, bs, x)
    tW = [cr.tensor(W, requires_grad=True) for W in Ws]
    tb = [cr.tensor(b, requires_grad=True) for b in bs]
    ours = peak(with_chainrule, tW, tb, x)
    mb = 1 / 2**20
    print(f"hand-written NumPy peak   {hand * mb:8.1f} MiB")
    print(f"chainrule peak            {ours * mb:8.1f} MiB")
    print(f"ratio                     {ours / hand:8.3f}×   (target ≤ 1.10×)")
    return {"hand_mib": hand * mb, "chainrule_mib": ours * mb, "ratio": ours / hand}


if __name__ == "__main__":
    main()
