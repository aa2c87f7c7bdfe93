"""Benchmark (a): tape overhead — a chain of 1,000 elementwise ops on a shape-(8,) array, forward + backward.

Reports µs per op for chainrule (record + backpropagate) and, measured in the
same run, for the same ops in plain NumPy (forward only, the floor), and their
ratio. Target: chainrule ≤ 4 µs per op.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402

N_OPS = 1000
X0 = np.linspace(0.1, 0.9, 8)


def numpy_chain():
    x = X0
    for _ in range(N_OPS // 4):
        x = x * 1.0001
        x = np.sin(x)
        x = x + 0.1
        x = np.tanh(x)
    return x


def chainrule_chain():
    x = cr.tensor(X0, requires_grad=True)
    y = x
    for _ in range(N_OPS // 4):
        y = y * 1.0001
        y = cr.sin(y)
        y = y + 0.1
        y = cr.tanh(y)
    y.sum().backward()
    return x.grad


def chainrule_forward():
    with cr.no_grad():
        y = cr.tensor(X0)
        for _ in range(N_OPS // 4):
            y = y * 1.0001
            y = cr.sin(y)
            y = y + 0.1
            y = cr.tanh(y)
    return y


def best_of(fn, repeats=40):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    for fn in (numpy_chain, chainrule_chain, chainrule_forward):
        fn()  # warm up
    t_np = best_of(numpy_chain)
    t_cr = best_of(chainrule_chain)
    t_nog = best_of(chainrule_forward)
    us = 1e6 / N_OPS
    print(f"plain NumPy (forward)           {t_np * us:6.2f} µs/op")
    print(f"chainrule, no_grad (forward)    {t_nog * us:6.2f} µs/op")
    print(f"chainrule, forward + backward   {t_cr * us:6.2f} µs/op   (target ≤ 4 µs)")
    print(f"ratio chainrule fwd+bwd / NumPy {t_cr / t_np:6.2f}×")
    return {"numpy_us": t_np * us, "chainrule_us": t_cr * us, "ratio": t_cr / t_np}


if __name__ == "__main__":
    main()
